/**
 * Raw n-dimensional arrays: a typed array (Float32Array or Float64Array), a shape, strides and an offset, in
 * elements. Views (reshape of contiguous data, permute, broadcast, slice) share the typed array; kernels write
 * fresh contiguous outputs, so an array's elements do not change after it is made (backward can run twice and
 * see the same values) — except storage that `Tensor.update` made its tensor's own, which optimizers update in
 * place.
 */
import { InputError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { sizeOf, stridesOf, type Shape } from "../ops/shape.js";

/** Storage of a dtype. */
export type TypedArray = Float32Array | Float64Array;

/** The typed-array constructor of a dtype. */
export function arrayType(dtype: DType): Float32ArrayConstructor | Float64ArrayConstructor {
  if (dtype === "float64") return Float64Array;
  if (dtype === "float32") return Float32Array;
  // A dtype from untyped JavaScript ("int8", "float16"): an error, as in PyTorch, not float32 in silence.
  throw new InputError(`unknown dtype ${JSON.stringify(dtype)}: expected "float32" or "float64"`);
}

/** The dtype of a typed array. */
export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

/** Node's `Buffer.allocUnsafeSlow` (memory not zeroed, not from Node's small-buffer pool), where there is one. */
const allocUnsafeSlow = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => Uint8Array<ArrayBuffer> } }).Buffer?.allocUnsafeSlow;

/** Below this many bytes a zeroed typed array is as cheap (V8 allocates it on its own heap). */
const UNINIT_MIN_BYTES = 1 << 14;

/**
 * Storage for `size` elements whose contents are unspecified, for a kernel that writes every element. Large
 * arrays skip the zero fill (in Node through `Buffer.allocUnsafeSlow`: an ArrayBuffer of exactly these bytes, so
 * the array owns its whole buffer), which a fresh 4 MB result otherwise pays on every op; elsewhere zeroed.
 */
export function uninitArray(dtype: DType, size: number): TypedArray {
  const T = arrayType(dtype), bytes = size * T.BYTES_PER_ELEMENT;
  if (allocUnsafeSlow === undefined || bytes < UNINIT_MIN_BYTES) return new T(size);
  if (!allocator.warm && bytes >= WARM_FROM_BYTES) warmAllocator(allocUnsafeSlow);
  const b = allocUnsafeSlow(bytes);
  return new T(b.buffer, b.byteOffset, size);
}

/**
 * glibc's `malloc` (Node on Linux) serves a request of its *mmap threshold* (128 KB at start) or more with a
 * fresh mapping of its own, which `free` unmaps; when it frees such a chunk it raises the threshold to that
 * chunk's size, at most 32 MB, and keeps up to twice the threshold free at the top of its heap before returning
 * memory to the system. An eager loop frees its results in batches, when the garbage collector runs: with the
 * threshold raised only to the results' own size, every later result of that size is a fresh mapping again, and
 * each of its pages costs a page fault when the kernel first writes it (a 1 MB result: 256 faults, about 3 ms in
 * the virtual machines measured in BENCHMARKS.md, "Why W3 missed"). So before the first storage of this size,
 * one 32 MB buffer is allocated (a mapping, never touched) and dropped: the collection that frees it raises the
 * threshold to 32 MB, and from then on storage up to that size comes from the heap and reuses freed results'
 * pages. Elsewhere (another `malloc`, another system) it is one untouched allocation, freed at the next collection.
 */
const WARM_BYTES = (32 << 20) - (16 << 10);
/** Storage at glibc's initial threshold or more: the first such allocation warms the allocator. */
const WARM_FROM_BYTES = 128 << 10;
/** @internal Whether the warm-up ran (for tests). */
export const allocator = { warm: false };

function warmAllocator(alloc: (bytes: number) => Uint8Array): void {
  allocator.warm = true;
  try {
    alloc(WARM_BYTES); // dropped at once: freed by the next garbage collection
  } catch {
    // no 32 MB to be had (a memory limit): the allocator stays as it is, which is only slower
  }
}

/** An n-dimensional view of a typed array. */
export class NDArray {
  readonly size: number;
  /** Row-major and gap-free from `offset` (the elements are `data[offset .. offset + size)`). */
  readonly contiguous: boolean;

  constructor(
    readonly data: TypedArray,
    readonly shape: Shape,
    readonly strides: readonly number[] = stridesOf(shape),
    readonly offset = 0,
    /**
     * A weakly typed constant (a plain number lifted into an op): it adopts the dtype of the arrays it meets,
     * so `x.mul(2)` keeps float32 for a float32 x.
     */
    readonly weak = false,
  ) {
    this.size = sizeOf(shape);
    this.contiguous = isRowMajor(shape, strides);
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The element at a multi-index (no bounds checks beyond the typed array's). */
  at(index: readonly number[]): number {
    let p = this.offset;
    for (let i = 0; i < index.length; i++) p += index[i]! * this.strides[i]!;
    return this.data[p]!;
  }
}

/** True if `strides` are the row-major strides of `shape` (size-1 axes may have any stride). */
export function isRowMajor(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== s) return false;
    s *= d;
  }
  return true;
}

/** A fresh zero-filled array. */
export function zerosArray(dtype: DType, shape: Shape): NDArray {
  return new NDArray(new (arrayType(dtype))(sizeOf(shape)), shape);
}

/** A 0-d array holding `c`; `weak` for constants lifted from plain numbers (stored in float64). */
export function scalarArray(c: number, dtype: DType = "float64", weak = false): NDArray {
  const data = new (arrayType(dtype))(1);
  data[0] = c;
  return new NDArray(data, [], [], 0, weak);
}

/**
 * Merges adjacent axes that every operand walks with compatible strides, and drops size-1 axes, so kernels
 * loop over as few (and as long) axes as possible. Returns at least one axis.
 */
export function collapse(shape: Shape, stridesList: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      stridesList.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      stridesList.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { shape: outShape, strides: outStrides };
}

/** Strides with which `a` is read when broadcast to `shape` (0 along broadcast axes). */
export function broadcastStrides(a: NDArray, shape: Shape): number[] {
  const pad = shape.length - a.shape.length;
  const out = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < a.shape.length; i++) out[pad + i] = a.shape[i] === 1 && shape[pad + i] !== 1 ? 0 : a.strides[i]!;
  return out;
}

/**
 * Copies `src` (broadcast to the destination's shape) into `dst` at `dstOffset` with `dstStrides` (a view of a
 * fresh array being filled). Converts between dtypes as the typed arrays do.
 */
export function copyStrided(src: NDArray, dst: TypedArray, dstOffset: number, dstShape: Shape, dstStrides: readonly number[]): void {
  const { shape, strides } = collapse(dstShape, [dstStrides, broadcastStrides(src, dstShape)]);
  const [ds, ss] = strides as [number[], number[]];
  const d0 = ds[ds.length - 1] ?? 1, s0 = ss[ss.length - 1] ?? 1;
  const s = src.data;
  forEachRow(shape, ds, ss, dstOffset, src.offset, (id, is, n) => {
    for (let j = 0; j < n; j++, id += d0, is += s0) dst[id] = s[is]!;
  });
}

/**
 * The one strided walk: every row of the last axis of `shape`, in row-major order, with the offsets of its first
 * element in two arrays of strides `sa` and `sb` (from `a0` and `b0`); `visit(pa, pb, n)` is called per row
 * (never per element), the caller stepping along the row. A rank-0 shape is one row of one element.
 */
export function forEachRow(
  shape: Shape,
  sa: readonly number[],
  sb: readonly number[],
  a0: number,
  b0: number,
  visit: (pa: number, pb: number, n: number) => void,
): void {
  const r = shape.length;
  if (r === 0) {
    visit(a0, b0, 1);
    return;
  }
  const n0 = shape[r - 1]!;
  let rows = 1;
  for (let d = 0; d < r - 1; d++) rows *= shape[d]!;
  if (rows * n0 === 0) return;
  const idx = new Int32Array(r);
  let pa = a0, pb = b0;
  for (let row = 0; row < rows; row++) {
    visit(pa, pb, n0);
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        pa += sa[d]!;
        pb += sb[d]!;
        break;
      }
      idx[d] = 0;
      pa -= sa[d]! * (shape[d]! - 1);
      pb -= sb[d]! * (shape[d]! - 1);
    }
  }
}

/** The array as a fresh contiguous one of `dtype` (a copy, even if already contiguous). */
export function copyArray(a: NDArray, dtype: DType = a.dtype): NDArray {
  return copyInto(a, uninitArray(dtype, a.size));
}

/** Writes `a`'s elements in row-major order into `out` (of `a`'s size; its dtype decides the result's). */
export function copyInto(a: NDArray, out: TypedArray): NDArray {
  if (a.contiguous && out.constructor === a.data.constructor) out.set(a.data.subarray(a.offset, a.offset + a.size));
  else copyStrided(a, out, 0, a.shape, stridesOf(a.shape));
  return new NDArray(out, a.shape);
}

/** The array itself when contiguous, else a contiguous copy. */
export function contiguous(a: NDArray): NDArray {
  return a.contiguous ? a : copyArray(a);
}

/** The elements in row-major order as a new typed array. */
export function toTypedArray(a: NDArray): TypedArray {
  return copyArray(a).data;
}

/** The elements as nested arrays (a number for a 0-d array). */
export function toNested(a: NDArray): unknown {
  if (a.ndim === 0) return a.data[a.offset]!;
  const flat = toTypedArray(a);
  let i = 0;
  const build = (d: number): unknown[] => {
    const n = a.shape[d]!;
    const out = new Array<unknown>(n);
    for (let k = 0; k < n; k++) out[k] = d === a.ndim - 1 ? flat[i++]! : build(d + 1);
    return out;
  };
  return build(0);
}
