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
import { concat, graphAlgebra, stack, Tensor, where, type ReduceOptions, type TensorLike } from "./tensor.js";

const t = Tensor.from;

export const add = (a: TensorLike, b: TensorLike): Tensor => t(a).add(b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => t(a).sub(b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => t(a).mul(b);
export const div = (a: TensorLike, b: TensorLike): Tensor => t(a).div(b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => t(a).pow(b);
export const neg = (x: TensorLike): Tensor => t(x).neg();
export const exp = (x: TensorLike): Tensor => t(x).exp();
export const log = (x: TensorLike): Tensor => t(x).log();
export const sqrt = (x: TensorLike): Tensor => t(x).sqrt();
export const abs = (x: TensorLike): Tensor => t(x).abs();
export const relu = (x: TensorLike): Tensor => t(x).relu();
export const sigmoid = (x: TensorLike): Tensor => t(x).sigmoid();
export const tanh = (x: TensorLike): Tensor => t(x).tanh();
export const sin = (x: TensorLike): Tensor => t(x).sin();
export const cos = (x: TensorLike): Tensor => t(x).cos();
export const sign = (x: TensorLike): Tensor => t(x).sign();
export const gt = (a: TensorLike, b: TensorLike): Tensor => t(a).gt(b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => t(a).eq(b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => t(a).lt(b);
export const le = (a: TensorLike, b: TensorLike): Tensor => t(a).le(b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => t(a).ge(b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => t(a).ne(b);
export const log1p = (x: TensorLike): Tensor => t(x).log1p();
export const expm1 = (x: TensorLike): Tensor => t(x).expm1();
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
  return dim instanceof Tensor ? t(x).maximum(dim) : t(x).max(dim, keepdim);
}

/** As `torch.min`: over everything, over dims (values only), or with a tensor the elementwise {@link minimum}. */
export function min(x: TensorLike, dim?: DimArg, keepdim?: boolean): Tensor;
export function min(x: TensorLike, other: Tensor): Tensor;
export function min(x: TensorLike, dim?: DimArg | Tensor, keepdim?: boolean): Tensor {
  return dim instanceof Tensor ? t(x).minimum(dim) : t(x).min(dim, keepdim);
}

export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const sum = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.sum(dim, keepdim);
export const mean = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.mean(dim, keepdim);
export const amax = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.amax(dim, keepdim);
export const amin = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.amin(dim, keepdim);
export const logsumexp = (x: Tensor, dim?: DimArg, keepdim?: boolean): Tensor => x.logsumexp(dim, keepdim);
export const softmax = (x: Tensor, axis = -1): Tensor => x.softmax(axis);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => x.logSoftmax(axis);
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => x.reshape(shape);
export const permute = (x: Tensor, perm: readonly number[]): Tensor => x.permute(perm);
export const transpose = (x: Tensor, axis0?: number, axis1?: number): Tensor => x.transpose(axis0, axis1);
export const broadcastTo = (x: Tensor, shape: readonly number[]): Tensor => x.broadcastTo(shape);
export const squeeze = (x: Tensor, axis?: Axes): Tensor => x.squeeze(axis);
export const unsqueeze = (x: Tensor, axis: number): Tensor => x.unsqueeze(axis);
export const flatten = (x: Tensor): Tensor => x.flatten();
export const clamp = (x: Tensor, lo?: TensorLike | null, hi?: TensorLike | null): Tensor => x.clamp(lo, hi);
export const cumsum = (x: Tensor, axis: number): Tensor => x.cumsum(axis);
export const argmax = (x: Tensor, dim?: number | ReduceOptions, keepdim?: boolean): Tensor => x.argmax(dim, keepdim);
export const argmin = (x: Tensor, dim?: number | ReduceOptions, keepdim?: boolean): Tensor => x.argmin(dim, keepdim);
export const variance = (x: Tensor, dim?: Axes | VarOptions, options?: VarOptions): Tensor => x.var(dim, options);
export const std = (x: Tensor, dim?: Axes | VarOptions, options?: VarOptions): Tensor => x.std(dim, options);
export const norm = (x: Tensor, p?: number, dim?: DimArg, keepdim?: boolean): Tensor => x.norm(p, dim, keepdim);
export const sort = (x: Tensor, axis = -1, descending = false): { values: Tensor; indices: Tensor } => x.sort(axis, descending);
export const topk = (x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } => x.topk(k, axis, largest);
export const split = (x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] => x.split(sizes, axis);
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
export const cast = (x: Tensor, dtype: DType): Tensor => x.cast(dtype);
export const detach = (x: Tensor): Tensor => x.detach();
export { concat, stack, where };
