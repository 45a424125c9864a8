/**
 * Integer indices for gather and scatterAdd from a tensor or nested arrays. Indices in a tensor are data: a trace
 * is told where they came from, so a compiled step reads them again at each call.
 */
import { InputError } from "../core/errors.js";
import type { IndexArray } from "../ops/op.js";
import { tensor } from "./creation.js";
import { toTypedArray, type NDArray } from "./ndarray.js";
import { recording } from "./recording.js";
import { Tensor, type IndexLike, type NestedArray } from "./tensor.js";

/** Integer index data from a tensor or nested arrays. */
export function toIndex(index: Tensor | IndexLike, op: string): IndexArray {
  if (index instanceof Int32Array) return { data: index, shape: [index.length] };
  const t = index instanceof Tensor ? index : tensor(index as NestedArray, { dtype: "float64" });
  const data = indexData(t.value, op);
  recording.current?.tensor(t); // a tensor made before a trace is state (read at each call), not a constant
  recording.current?.index(t.value, data);
  return { data, shape: t.shape };
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

