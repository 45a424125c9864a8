/**
 * The Tensor methods along one axis whose bodies need more than the op's node: sort/topk (the order is computed
 * outside the op table), argmax/argmin (one dim, or the flattened tensor), gather and scatterAdd (an index beside
 * the axis). Each runs on a 0-d tensor along axis 0 or -1 as PyTorch does: on it viewed as [1], the result viewed
 * back (`composite.alongAxis`; any other axis is a ShapeError naming the range [-1, 0]).
 */
import { GradgraphError, InputError, ShapeError } from "../core/errors.js";
import { alongAxis, type ReduceOptions } from "../ops/composite.js";
import type { AnyOp, IndexArray } from "../ops/op.js";
import { tensorOps } from "../ops/registry.js";
import { formatShape, normalizeAlong } from "../ops/shape.js";
import { reduceArgs } from "./args.js";
import { toIndex } from "./index-args.js";
import { sortOrder } from "./kernels/axis.js";
import { NDArray } from "./ndarray.js";
import { host } from "./recording.js";
import { graphAlgebra, Tensor, type IndexLike } from "./tensor.js";

/** The first `k` (all: null) of the sorted order along an axis: values (a gather: differentiable) and positions. */
export function sortAlong(x: Tensor, axis: number, descending: boolean, k: number | null, name: string): { values: Tensor; indices: Tensor } {
  if (x.value.ndim !== x.ndim) throw new GradgraphError(`${name}: not available inside vmap (the order is computed from the values, outside the op table)`);
  const a = normalizeAlong(axis, x.shape, name);
  if (a === null) {
    // A 0-d tensor is its own one value (PyTorch also gives it for k = 0, which holds no value: an error here).
    if (k !== null && k !== 1) throw new ShapeError(`${name}: k = ${k} is out of range for a 0-d tensor (shape []): expected 1`);
    const r = sortAlong(x.reshape(1), 0, descending, k, name);
    return { values: r.values.reshape([]), indices: r.indices.reshape([]) };
  }
  const n = k ?? x.shape[a]!;
  if (!Number.isInteger(n) || n < 0 || n > x.shape[a]!) throw new ShapeError(`${name}: k = ${n} is out of range for axis ${a} of shape ${formatShape(x.shape)}`);
  // The order is JavaScript computed from the values: a compiled step computes it again at each call (`host`),
  // and the gather of the values takes its index from that order (`toIndex` tells the trace where it came from).
  const [order] = host(name, [x.value], ([v]) => {
    const index = sortOrder(v!, a, descending, n);
    return [new NDArray((x.dtype === "float64" ? Float64Array : Float32Array).from(index.data), index.shape)];
  });
  const indices = new Tensor(order!);
  return { values: Tensor.apply(tensorOps.gather, [x], { axis: a, index: toIndex(indices, name) }), indices };
}

/** argmax/argmin along one dim, or of the flattened tensor without one. */
export function argExtremum(op: AnyOp, x: Tensor, dim: number | ReduceOptions | undefined, keepdim: boolean | undefined): Tensor {
  const { axes, keepdims } = reduceArgs(op.name, dim, keepdim);
  if (axes === null || axes === undefined) return Tensor.apply(op, [x.reshape(-1)], { axis: 0, keepdims: false });
  if (typeof axes !== "number") throw new InputError(`${op.name}: dim must be one number (or none, for the flattened tensor), got ${JSON.stringify(axes)}`);
  return alongAxis(graphAlgebra, x, axes, op.name, (v, axis) => Tensor.apply(op, [v], { axis, keepdims }));
}

/** An index of a 0-d tensor's one element, which PyTorch takes 0-d: [1], beside the tensor viewed as [1]. */
const asOne = (ix: IndexArray, scalar: boolean): IndexArray => (scalar && ix.shape.length === 0 ? { ...ix, shape: [1] } : ix);

/** PyTorch's gather: the result has the index's shape. */
export function gatherAlong(x: Tensor, axis: number, index: Tensor | IndexLike): Tensor {
  const ix = toIndex(index, "gather");
  const at = asOne(ix, x.ndim === 0);
  return alongAxis(graphAlgebra, x, axis, "gather", (v, a) => Tensor.apply(tensorOps.gather, [v], { axis: a, index: at }), ix.shape);
}

/** PyTorch's scatter_add into zeros of `shape` (0-d too: along 0 or -1, into [1] and viewed back). */
export function scatterAddAlong(x: Tensor, axis: number, index: Tensor | IndexLike, shape: readonly number[]): Tensor {
  const ix = toIndex(index, "scatterAdd");
  const a = normalizeAlong(axis, shape, "scatterAdd");
  if (a !== null) return Tensor.apply(tensorOps.scatterAdd, [x], { axis: a, index: ix, shape });
  const v = x.ndim === 0 ? x.reshape(1) : x;
  return Tensor.apply(tensorOps.scatterAdd, [v], { axis: 0, index: asOne(ix, true), shape: [1] }).reshape([]);
}
