/**
 * Kernel dispatch: one kernel per primitive of the op table (a typed map, so tsc rejects a primitive without a
 * kernel), and `applyRaw`, which runs an op on raw arrays: shape rule, dtype rule, kernel. Elementwise ops (and
 * `where`) run on the current backend (src/backend/) from their ALU definitions; the other kernels are in
 * ./kernels/. `rawAlgebra` is the op table's algebra over raw arrays — the plain backward pass and forward-mode
 * tangents run on it, and it fuses each elementwise rule's `partial · g` into one kernel.
 */
import { backend, elementwiseKernelOf, fusedKernel, kernelOf } from "../backend/index.js";
import { compactInputs, traceAlu } from "../ops/alu.js";
import type { AnyOp, Arg, DType, ElementwiseName, ElementwiseOp, FusedExpr, ParamsOf, TensorAlgebra, TensorOpName } from "../ops/op.js";
import { elementwiseList } from "../ops/elementwise.js";
import { broadcastShapes, checkedSize, type Shape } from "../ops/shape.js";
import { tensorAlgebraOf } from "../ops/tensor-algebra.js";
import { col2imKernel, im2colKernel } from "./kernels/im2col.js";
import { argmaxKernel, argminKernel, cumsumKernel } from "./kernels/axis.js";
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
import { NDArray, scalarArray, type TypedArray } from "./ndarray.js";
import { recording } from "./recording.js";

/**
 * A kernel: inputs already checked by the shape rule, the output shape and dtype decided. `into`, when given
 * (a compiled step's planned buffer, of the result's size and dtype), is where a kernel that can writes its
 * contiguous result; the others allocate one.
 */
export type Kernel<P> = (xs: readonly NDArray[], params: P, outShape: Shape, dtype: DType, into?: TypedArray) => NDArray;

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
  where: (xs, _p, shape, dtype) => backend().run(whereKernel, xs, shape, dtype),
  cast: castKernel,
  im2col: im2colKernel,
  col2im: col2imKernel,
  cumsum: cumsumKernel,
  argmax: argmaxKernel,
  argmin: argminKernel,
};

/** `where(c, a, b)`: a where c ≠ 0, else b (a bit-select, no branch). */
export const whereKernel = (() => {
  const t = traceAlu();
  return kernelOf(t.select(t.ne(t.input(0), t.const(0)), t.input(1), t.input(2)), 3);
})();

/** Every elementwise op runs its ALU lowering on the current backend. */
const elementwiseKernels = Object.fromEntries(
  elementwiseList.map((op: ElementwiseOp) => {
    const k = elementwiseKernelOf(op);
    return [op.name, (xs: readonly NDArray[], _p: unknown, shape: Shape, dtype: DType, into?: TypedArray) => backend().run(k, xs, shape, dtype, into && new NDArray(into, shape))];
  }),
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
  const result = allWeak && !out.weak ? new NDArray(out.data, out.shape, out.strides, out.offset, true) : out;
  recording.current?.op(op, xs, params, result);
  return result;
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
 * Runs an elementwise expression (written against the op algebra) of arrays as one kernel: only the inputs it
 * reads, broadcast together; the result's dtype is the ops' rule (float64 if any strong input is). An expression
 * that is just one of its (strong) inputs returns that input, computing nothing. With `out` (contiguous, of the
 * result's shape and dtype) the result is written there — in place when `out` is also an input.
 */
export function runFused(expr: FusedExpr, all: readonly NDArray[], out?: NDArray): NDArray {
  const traced = compactInputs(fusedKernel(expr, all.length).root);
  const xs = traced.used.map((i) => all[i]!);
  const root = traced.root;
  if (out === undefined && root.op === "input" && !xs[0]!.weak) return xs[0]!;
  const shape = xs.length === 0 ? [] : xs.length === 1 ? xs[0]!.shape : broadcastShapes(xs.map((x) => x.shape), "fused");
  checkedSize(shape, "fused");
  const allWeak = xs.every((x) => x.weak);
  stats.kernelCalls++;
  const result = backend().run(kernelOf(root, xs.length), xs, out?.shape ?? shape, out?.dtype ?? promote(xs), out);
  stats.elements += result.size;
  const made = allWeak && out === undefined ? new NDArray(result.data, result.shape, result.strides, result.offset, true) : result;
  recording.current?.fused(root, xs, made, out !== undefined);
  return made;
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
  const fuse = (expr: FusedExpr, args: readonly Arg<NDArray>[]): NDArray => runFused(expr, args.map(up));
  return { ...o, mul, add: unit(o.add, 0), scale, caps: { raw: true, fuse, hasNaN } };
})();
