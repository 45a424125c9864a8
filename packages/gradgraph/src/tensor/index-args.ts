/**
 * Integer indices for gather and scatterAdd from a tensor or nested arrays. Indices in a tensor are data: a trace
 * is told where they came from, so a compiled step reads them again at each call.
 */
import { GradgraphError, InputError } from "../core/errors.js";
import type { IndexArray } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { tensor } from "./creation.js";
import { toTypedArray, type NDArray } from "./ndarray.js";
import { recording } from "./recording.js";
import { Tensor, type IndexLike, type NestedArray } from "./tensor.js";

/** Integer index data from a tensor or nested arrays (batched inside vmap when the tensor is: see `IndexArray`). */
export function toIndex(index: Tensor | IndexLike, op: string): IndexArray {
  if (index instanceof Int32Array) return { data: index, shape: [index.length] };
  const t = index instanceof Tensor ? index : tensor(index as NestedArray, { dtype: "float64" });
  const batch = batchOf(t, op);
  const data = indexData(t.value, op);
  recording.current?.tensor(batch?.inner ?? t); // a tensor made before a trace is state (read at each call), not a constant
  recording.current?.index(t.value, data);
  return batch === null ? { data, shape: t.shape } : { data, shape: t.shape, batch: { level: batch.level, size: batch.inner.shape[0]! } };
}

/**
 * The vmap level and whole batch of `t`, indices for `what`, when `t` is one example of a batch inside vmap (its
 * storage holds the whole batch: more axes than its shape); null for a plain tensor. Indices batched by two nested
 * vmaps at once are refused.
 */
export function batchOf(t: Tensor, what: string): { level: number; inner: Tensor } | null {
  if (t.value.shape.length === t.ndim) return null;
  const { level, inner } = t as unknown as { level: number; inner: Tensor }; // a BatchedTensor (batched.ts imports this module's importers)
  if (inner.value.shape.length !== inner.ndim) {
    throw new GradgraphError(`vmap: ${what} got indices batched by two nested vmaps at once (shape ${formatShape(t.shape)} per example); batch them by one`);
  }
  return { level, inner };
}

/** @internal The elements of an array as integer indices (an error names the op and the first non-integer). */
export function indexData(a: NDArray, op: string): Int32Array {
  const flat = toTypedArray(a);
  const data = new Int32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (!Number.isInteger(v)) throw new InputError(`${op}: index ${v} is not an integer`);
    data[i] = v;
  }
  return data;
}

