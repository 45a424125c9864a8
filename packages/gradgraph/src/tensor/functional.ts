/**
 * Free functions with the names NumPy/PyTorch users look for, mirroring the methods of {@link Tensor}. Numbers
 * are accepted wherever a tensor is (as constants).
 *
 * `max`/`min` follow PyTorch: with a dim (a number) they reduce; the elementwise ones are `maximum`/`minimum`.
 */
import type { Axes, DimArg } from "../ops/composite.js";
import { einsum as einsumOf } from "../ops/einsum.js";
import type { DType } from "../ops/op.js";
import type { VarOptions } from "../ops/stats.js";
import { concat, graphAlgebra, isTensor, stack, Tensor, where, type ReduceOptions, type TensorLike } from "./tensor.js";

const t = Tensor.from;

/** a + b, elementwise, with broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => t(a).add(b);
/** a − b, elementwise, with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => t(a).sub(b);
/** a · b, elementwise, with broadcasting (matrix product: {@link matmul}). */
export const mul = (a: TensorLike, b: TensorLike): Tensor => t(a).mul(b);
/** a / b, elementwise, with broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => t(a).div(b);
/** a ^ b, elementwise, with broadcasting. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => t(a).pow(b);
/** −x, elementwise. */
export const neg = (x: TensorLike): Tensor => t(x).neg();
/** eˣ, elementwise. */
export const exp = (x: TensorLike): Tensor => t(x).exp();
/** The natural logarithm, elementwise. */
export const log = (x: TensorLike): Tensor => t(x).log();
/** √x, elementwise. */
export const sqrt = (x: TensorLike): Tensor => t(x).sqrt();
/** |x|, elementwise. */
export const abs = (x: TensorLike): Tensor => t(x).abs();
/** max(x, 0), elementwise. */
export const relu = (x: TensorLike): Tensor => t(x).relu();
/** 1 / (1 + e⁻ˣ), elementwise. */
export const sigmoid = (x: TensorLike): Tensor => t(x).sigmoid();
/** tanh(x), elementwise. */
export const tanh = (x: TensorLike): Tensor => t(x).tanh();
/** sin(x), elementwise. */
export const sin = (x: TensorLike): Tensor => t(x).sin();
/** cos(x), elementwise. */
export const cos = (x: TensorLike): Tensor => t(x).cos();
/** −1, 0 or 1, elementwise (zero gradient). */
export const sign = (x: TensorLike): Tensor => t(x).sign();
/** 1 where a > b, else 0 (zero gradient). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => t(a).gt(b);
/** 1 where a == b, else 0 (zero gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => t(a).eq(b);
/** 1 where a < b, else 0 (zero gradient). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => t(a).lt(b);
/** 1 where a ≤ b, else 0 (zero gradient). */
export const le = (a: TensorLike, b: TensorLike): Tensor => t(a).le(b);
/** 1 where a ≥ b, else 0 (zero gradient). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => t(a).ge(b);
/** 1 where a ≠ b, else 0 (zero gradient). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => t(a).ne(b);
/** ln(1 + x), accurate near 0. */
export const log1p = (x: TensorLike): Tensor => t(x).log1p();
/** eˣ − 1, accurate near 0. */
export const expm1 = (x: TensorLike): Tensor => t(x).expm1();
/** x², elementwise. */
export const square = (x: TensorLike): Tensor => t(x).square();
/** Elementwise maximum (`torch.maximum`, NumPy's `maximum`); ties split the gradient evenly. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => t(a).maximum(b);
/** Elementwise minimum (`torch.minimum`). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => t(a).minimum(b);

/**
 * As `torch.max`: `max(x)` over everything, `max(x, dim, keepdim?)` over dims (values only: {@link argmax} gives
 * the positions), `max(a, b)` with a tensor `b` the elementwise maximum. A number is always a dim: the lecture's
 * `max(P, 0)` is `maximum(P, 0)`.
 *
 * @example
 * max(tensor([[1, 5], [3, 2]]), 1).toNested();  // [5, 3]
 * maximum(tensor([-1, 2]), 0).toNested();       // [0, 2]
 */
export function max(x: TensorLike, dim?: DimArg, keepdim?: boolean): Tensor;
export function max(x: TensorLike, other: Tensor): Tensor;
export function max(x: TensorLike, dim?: DimArg | Tensor, keepdim?: boolean): Tensor {
  return isTensor(dim) ? t(x).maximum(dim) : t(x).max(dim, keepdim);
}

/** As `torch.min`: over everything, over dims (values only), or with a tensor the elementwise {@link minimum}. */
export function min(x: TensorLike, dim?: DimArg, keepdim?: boolean): Tensor;
export function min(x: TensorLike, other: Tensor): Tensor;
export function min(x: TensorLike, dim?: DimArg | Tensor, keepdim?: boolean): Tensor {
  return isTensor(dim) ? t(x).minimum(dim) : t(x).min(dim, keepdim);
}

/** The matrix product a @ b (batched over leading axes, as `torch.matmul`). */
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
/** The sum over `dim` (all elements by default); `keepdim` keeps reduced axes as size 1. */
export const sum = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.sum(dim, keepdim);
/** The mean over `dim` (all elements by default). */
export const mean = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.mean(dim, keepdim);
/** The maximum over `dim` (all elements by default); ties split the gradient evenly. */
export const amax = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.amax(dim, keepdim);
/** The minimum over `dim` (all elements by default); ties split the gradient evenly. */
export const amin = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.amin(dim, keepdim);
/** log Σ eˣ over `dim`, computed without overflow. */
export const logsumexp = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.logsumexp(dim, keepdim);
/** Softmax along `axis` (default the last): each slice becomes probabilities that add up to 1. */
export const softmax = (x: Tensor, axis = -1): Tensor => x.softmax(axis);
/** log(softmax(x)) along `axis`, computed stably. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => x.logSoftmax(axis);
/** The same elements in a new shape (one size may be −1: inferred). */
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => x.reshape(shape);
/** The axes reordered: axis i of the result is axis `perm[i]` of x. */
export const permute = (x: Tensor, perm: readonly number[]): Tensor => x.permute(perm);
/** Two axes swapped, or with none all axes reversed (the matrix transpose for 2-D); one axis alone is an error. */
export const transpose = (x: Tensor, axis0?: number, axis1?: number): Tensor => x.transpose(axis0, axis1);
/** x broadcast to `shape` (NumPy's rules). */
export const broadcastTo = (x: Tensor, shape: readonly number[]): Tensor => x.broadcastTo(shape);
/** Size-1 axes removed (those listed, or all). */
export const squeeze = (x: Tensor, axis?: Axes): Tensor => x.squeeze(axis);
/** A size-1 axis inserted at `axis`. */
export const unsqueeze = (x: Tensor, axis: number): Tensor => x.unsqueeze(axis);
/** Axes `startDim` to `endDim` merged into one (PyTorch's `torch.flatten`); by default all elements as a 1-d tensor. */
export const flatten = (x: Tensor, startDim?: number, endDim?: number): Tensor => x.flatten(startDim, endDim);
/** x limited to [lo, hi] (either may be null); the gradient passes where x is inside, bounds included. */
export const clamp = (x: Tensor, lo?: TensorLike | null, hi?: TensorLike | null): Tensor => x.clamp(lo, hi);
/** The running sum along `axis`. */
export const cumsum = (x: Tensor, axis: number): Tensor => x.cumsum(axis);
/** The position of the first maximum over `dim` (of the flattened tensor without one); no gradient. */
export const argmax = (x: Tensor, dim?: number | ReduceOptions, keepdim?: boolean): Tensor => x.argmax(dim, keepdim);
/** The position of the first minimum over `dim` (of the flattened tensor without one); no gradient. */
export const argmin = (x: Tensor, dim?: number | ReduceOptions, keepdim?: boolean): Tensor => x.argmin(dim, keepdim);
/** The variance over `dim` (PyTorch's `var`: Bessel's correction unless `correction` says otherwise). */
export const variance = (x: Tensor, dim?: Axes | VarOptions, options?: VarOptions): Tensor => x.var(dim, options);
/** The standard deviation over `dim` (the square root of {@link variance}). */
export const std = (x: Tensor, dim?: Axes | VarOptions, options?: VarOptions): Tensor => x.std(dim, options);
/** The vector p-norm (default 2) over `dim` (all elements by default), as `torch.linalg.vector_norm`. */
export const norm = (x: Tensor, p?: number, dim?: DimArg, keepdim?: boolean): Tensor => x.norm(p, dim, keepdim);
/** The values sorted along `axis` (ascending unless `descending`), and their original positions. */
export const sort = (x: Tensor, axis = -1, descending = false): { values: Tensor; indices: Tensor } => x.sort(axis, descending);
/** The k largest (or smallest) values along `axis`, and their indices. */
export const topk = (x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } => x.topk(k, axis, largest);
/** Pieces along `axis`: each `sizes` long, or of the listed sizes. */
export const split = (x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] => x.split(sizes, axis);
/** `chunks` pieces of (nearly) equal size along `axis`. */
export const chunk = (x: Tensor, chunks: number, axis = 0): Tensor[] => x.chunk(chunks, axis);
/** PyTorch's `F.pad`: a flat spec, last axis first (`[left, right, top, bottom]`), constant `value`. */
export const pad = (x: Tensor, spec: readonly number[], value = 0): Tensor => x.pad(spec, value);
/**
 * Einstein summation, lowered onto matmul, sum and movement ops (src/ops/einsum.ts): differentiable, fast.
 *
 * @example
 * einsum("ij,jk->ik", a, b); // a @ b
 * einsum("ii->", m);         // the trace
 * einsum("bij,bjk->bik", x, y);
 */
export const einsum = (spec: string, ...xs: Tensor[]): Tensor => einsumOf(graphAlgebra, spec, xs);
/** The values converted to `dtype`. */
export const cast = (x: Tensor, dtype: DType): Tensor => x.cast(dtype);
/** The same values, cut from the graph (no gradient flows back). */
export const detach = (x: Tensor): Tensor => x.detach();
export { concat, stack, where };
