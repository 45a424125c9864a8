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

/** Integer index data from a tensor or nested arrays. */
export function toIndex(index: Tensor | IndexLike, op: string): IndexArray {
  if (index instanceof Int32Array) return { data: index, shape: [index.length] };
  const t = index instanceof Tensor ? index : tensor(index as NestedArray, { dtype: "float64" });
  expectUnbatchedIndex(t, op);
  const data = indexData(t.value, op);
  recording.current?.tensor(t); // a tensor made before a trace is state (read at each call), not a constant
  recording.current?.index(t.value, data);
  return { data, shape: t.shape };
}

/**
 * Throws when `t`, indices for `what` (gather's, crossEntropy's labels, Embedding's ids), is batched inside vmap
 * (one example of a batch, whose storage holds the whole batch: more axes than its shape): the ops take indices
 * as data every example shares, and would read a batch of them as one example's, whole.
 */
export function expectUnbatchedIndex(t: Tensor, what: string): void {
  if (t.value.shape.length === t.ndim) return;
  throw new GradgraphError(`vmap: ${what} got indices that differ from example to example (a batched tensor of shape ${formatShape(t.shape)} per example); indices must be the same for every example inside vmap: give them an inAxes of null, or index outside the mapped function`);
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

