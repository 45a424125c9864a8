/**
 * The CPU backend: one kernel per primitive of the op table (a typed map, so tsc rejects a primitive without a
 * kernel), and `applyRaw`, which runs an op on raw arrays: shape rule, dtype rule, kernel. `rawAlgebra` is the
 * op table's algebra over raw arrays — the plain backward pass and forward-mode tangents run on it.
 */
import type { AnyOp, DType, ElementwiseName, ElementwiseOp, ParamsOf, TensorAlgebra, TensorOpName } from "../ops/op.js";
import { elementwiseList } from "../ops/elementwise.js";
import { checkedSize, type Shape } from "../ops/shape.js";
import { tensorAlgebraOf } from "../ops/tensor-algebra.js";
import { elementwiseKernel, whereKernel } from "./kernels/elementwise.js";
import { matmulKernel } from "./kernels/matmul.js";
import {
  broadcastToKernel,
  castKernel,
  concatKernel,
  gatherKernel,
  padKernel,
  permuteKernel,
  reshapeKernel,
  scatterAddKernel,
  sliceKernel,
} from "./kernels/movement.js";
import { amaxKernel, aminKernel, sumKernel } from "./kernels/reduce.js";
import { NDArray, scalarArray } from "./ndarray.js";

/** A kernel: inputs already checked by the shape rule, the output shape and dtype decided. */
export type Kernel<P> = (xs: readonly NDArray[], params: P, outShape: Shape, dtype: DType) => NDArray;

/** The tensor primitives' kernels. */
const tensorKernels: { readonly [K in TensorOpName]: Kernel<ParamsOf<K>> } = {
  sum: sumKernel,
  amax: amaxKernel,
  amin: aminKernel,
  reshape: reshapeKernel,
  permute: permuteKernel,
  broadcastTo: broadcastToKernel,
  slice: sliceKernel,
  pad: padKernel,
  concat: concatKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
  matmul: matmulKernel,
  where: (xs, _p, shape, dtype) => whereKernel(xs, shape, dtype),
  cast: castKernel,
};

/** Every elementwise op runs through the one compiled-loop kernel. */
const elementwiseKernels = Object.fromEntries(
  elementwiseList.map((op: ElementwiseOp) => [op.name, (xs: readonly NDArray[], _p: unknown, shape: Shape, dtype: DType) => elementwiseKernel(op, xs, shape, dtype)]),
) as { readonly [K in ElementwiseName]: Kernel<undefined> };

/** The kernel of every primitive, by name. */
export const kernels: { readonly [K in ElementwiseName | TensorOpName]: Kernel<never> } = { ...elementwiseKernels, ...tensorKernels };

/**
 * The result dtype by default: float64 if any input that is not a weak constant is float64; if every input
 * is a weak constant, float64.
 */
function promote(xs: readonly NDArray[]): DType {
  let strong = false;
  for (const x of xs) {
    if (x.weak) continue;
    strong = true;
    if (x.dtype === "float64") return "float64";
  }
  return strong ? "float32" : "float64";
}

/**
 * Counts kernel launches and the elements they write (for tests and benchmarks that check the work done, e.g.
 * forward against reverse mode).
 */
export const stats = { kernelCalls: 0, elements: 0 };

/**
 * An op outside the table (a custom function, the identity node of a functional transform) brings its own
 * kernel; the table's primitives find theirs in {@link kernels}.
 */
export interface OpWithKernel extends AnyOp {
  readonly kernel: Kernel<unknown>;
}

/**
 * Runs a primitive on raw arrays: checks shapes with the op's shape rule (throwing its ShapeError), decides
 * the dtype, runs the kernel. Results of weak constants only stay weak.
 */
export function applyRaw(op: AnyOp, xs: readonly NDArray[], params: unknown): NDArray {
  const shapes = xs.map((x) => x.shape);
  const outShape = op.shape(shapes, params);
  checkedSize(outShape, op.name);
  const allWeak = xs.length > 0 && xs.every((x) => x.weak);
  let dtype: DType;
  if (op.dtype) {
    const dtypes = xs.map((x) => (x.weak && !allWeak ? "float32" : x.dtype));
    dtype = op.dtype(dtypes, params);
  } else dtype = promote(xs);
  stats.kernelCalls++;
  const kernel = (op as Partial<OpWithKernel>).kernel ?? (kernels[op.name] as Kernel<unknown> | undefined);
  if (kernel === undefined) throw new Error(`${op.name}: no kernel (not an op of the table, and it brings none)`);
  const out = kernel(xs, params, outShape, dtype);
  stats.elements += out.size;
  return allWeak && !out.weak ? new NDArray(out.data, out.shape, out.strides, out.offset, true) : out;
}

/** True for a weak constant equal to `c` that broadcasting against `other` would not enlarge. */
function isConst(x: NDArray, c: number, other: NDArray): boolean {
  return x.weak && x.size === 1 && x.data[x.offset] === c && x.ndim <= other.ndim;
}

/**
 * True when an array holds a NaN (a view is assumed to: the caller then masks). `Algebra.scale` checks its
 * product with it, so forward mode pays one scan rather than the mask's kernels.
 */
export function hasNaN(x: NDArray): boolean {
  const d = x.data;
  if (x.offset !== 0 || d.length !== x.size) return true;
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return true;
  return false;
}

/**
 * The op table's algebra over raw arrays: no graph is recorded. The ordinary backward pass runs the vjp rules
 * on it, and forward mode the jvp rules.
 */
export const rawAlgebra: TensorAlgebra<NDArray> = (() => {
  const lift = (c: number) => scalarArray(c, "float64", true);
  const o = tensorAlgebraOf<NDArray>({ apply: applyRaw, lift, shape: (x) => x.shape, dtype: (x) => x.dtype, detach: (x) => x, hasNaN });
  const up = (x: NDArray | number) => (typeof x === "number" ? lift(x) : x);
  // Two identities that the derived elementwise rules produce on every backward pass, `1 · g` and `g + 0`,
  // return the operand itself (arrays never change, so sharing is safe): a copy of g saved per edge.
  const unit = (op: (a: NDArray | number, b: NDArray | number) => NDArray, c: number) => (a: NDArray | number, b: NDArray | number) => {
    const x = up(a), y = up(b);
    if (isConst(x, c, y) && !y.weak) return y;
    if (isConst(y, c, x) && !x.weak) return x;
    return op(x, y);
  };
  const mul = unit(o.mul, 1);
  // scale through the same shortcut (`1 · g` is g); the mask only when the product came out NaN.
  const scale = (p: NDArray | number, t: NDArray) => {
    const m = mul(p, t);
    return m === t || !hasNaN(m) ? m : o.scale(p, t);
  };
  return { ...o, mul, add: unit(o.add, 0), scale };
})();
