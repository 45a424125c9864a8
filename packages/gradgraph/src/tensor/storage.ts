/**
 * Who owns a tensor's storage: arrays are shared freely (views, `fromTypedArray`, `assign`) and never written,
 * except storage a tensor made its own, which `update` (an optimizer's step) writes in place.
 */
import type { DType } from "../ops/op.js";
import { copyArray, NDArray, type TypedArray } from "./ndarray.js";
import { recording } from "./recording.js";
import type { Tensor } from "./tensor.js";

/** Storage that a tensor made its own (so it may write it in place). */
export const ownedStorage = new WeakSet<TypedArray>();

/** The array itself if it is contiguous and owns exactly its elements, else a copy. */
export function ownArray(a: NDArray): NDArray {
  return a.contiguous && a.offset === 0 && a.data.length === a.size && !a.weak ? a : copied(a, a.dtype);
}

/** A contiguous copy made outside a kernel (a trace records it as a step). */
export function copied(a: NDArray, dtype: DType): NDArray {
  const c = copyArray(a, dtype);
  recording.current?.copy(a, c, dtype);
  return c;
}

/**
 * @internal The storage `update` writes in place: the tensor's own (contiguous, not shared with an array the user
 * gave or another tensor), made so by one copy the first time. A compiled step calls it before each in-place write.
 */
export function ownedValue(t: Tensor): NDArray {
  const v = t.value;
  if (ownedStorage.has(v.data) && v.contiguous && v.offset === 0 && v.data.length === v.size) return v;
  const own = copyArray(v);
  recording.current?.own(v, own);
  ownedStorage.add(own.data);
  (t as { value: NDArray }).value = own;
  return own;
}

/**
 * @internal Moves a tensor's own storage into `home` (an array of its size and dtype, e.g. in the shared WebAssembly
 * heap, where kernels read it in place): copies the values there and makes it the tensor's own storage.
 */
export function moveStorage(t: Tensor, home: TypedArray): NDArray {
  const v = ownedValue(t);
  home.set(v.data);
  const moved = new NDArray(home, v.shape);
  ownedStorage.add(home);
  (t as { value: NDArray }).value = moved;
  return moved;
}
