/**
 * Composite operations: built from primitives of the table, written once against {@link TensorAlgebra}, so
 * they need no rule of their own — their gradients (any order, either mode) follow from their parts, and they
 * run on raw arrays and on graph tensors alike. Each says why it is a composite.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { REDUCE_KEYWORDS, type Arg, type CallKeywords, type TensorAlgebra, type TensorFunction } from "./op.js";
import { broadcastsTo, formatShape, normalizeAlong, normalizeAxes, normalizeAxis, reducedShape, sameShape, sizeOf, type Shape } from "./shape.js";

/** Axes argument of reductions: one axis, a list, or all (`undefined`/`null`). Negative axes count from the end. */
export type Axes = number | readonly number[] | null | undefined;

/**
 * A reduction's dims and keepdim as one object (`x.sum({ dim: 1, keepdim: true })`). PyTorch's names `dim`/`keepdim`
 * and NumPy's `axis`/`keepdims` are both accepted (one of each pair).
 */
export interface ReduceOptions {
  /** The dims to reduce (PyTorch's name); all by default. */
  dim?: Axes;
  /** The same as `dim` (NumPy's name). */
  axis?: Axes;
  /** Keep each reduced axis with size 1 (PyTorch's name; default false). */
  keepdim?: boolean;
  /** The same as `keepdim` (NumPy's name). */
  keepdims?: boolean;
}

/** The dims of a reduction: one dim (negative counts from the end), a list, null/undefined (all), or the options object. */
export type DimArg = Axes | ReduceOptions;

/**
 * Sums `x` down to `shape` (the inverse of broadcasting `shape` up to x's shape): the sum over the leading axes
 * that broadcasting added and over the axes where `shape` has size 1. If x is smaller and broadcasts to
 * `shape`, it is broadcast instead. This is the one function that undoes broadcasting for the autodiff engine.
 */
export function sumTo<T>(o: TensorAlgebra<T>, x: T, shape: Shape): T {
  const xs = o.shape(x);
  if (sameShape(xs, shape)) return x;
  if (broadcastsTo(shape, xs)) {
    const lead = xs.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < xs.length; i++) if (i < lead || (shape[i - lead] === 1 && xs[i] !== 1)) axes.push(i);
    const s = axes.length > 0 ? o.sum(x, { axes, keepdims: true }) : x;
    return sameShape(o.shape(s), shape) ? s : o.reshape(s, { shape });
  }
  if (broadcastsTo(xs, shape)) return o.broadcastTo(x, { shape });
  throw new ShapeError(`sumTo: cannot reduce ${formatShape(xs)} to ${formatShape(shape)}`);
}

/** Mean over axes. Composite (sum / count): nothing is gained by a rule of its own. */
export function mean<T>(o: TensorAlgebra<T>, x: T, axes?: Axes, keepdims = false): T {
  const shape = o.shape(x);
  const ax = normalizeAxes(axes, shape, "mean");
  let count = 1;
  for (const a of ax) count *= shape[a]!;
  return o.div(o.sum(x, { axes: ax, keepdims }), count);
}

/**
 * log Σ exp(x) over axes, stable. Composite: m = max(x) is subtracted first (and added back), with m detached —
 * the result does not depend on m, so no gradient needs to flow through it — and m = 0 where the max is ±inf, so
 * a row of all -inf gives -inf (not NaN) and entries of ±1000 neither overflow nor underflow. Over an empty axis
 * it is -inf, as in PyTorch. Of a 0-d tensor along axis 0 or -1 it is x itself (PyTorch).
 */
export function logsumexp<T>(o: TensorAlgebra<T>, x: T, axes?: Axes, keepdims = false): T {
  const shape = o.shape(x);
  const ax = normalizeAxes(axes, shape, "logsumexp");
  const { m, s } = shiftedExp(o, x, ax);
  const lse = o.add(o.log(s), m);
  return keepdims ? lse : o.reshape(lse, { shape: reducedShape(shape, ax, false) });
}

/**
 * The parts logsumexp, logSoftmax and softmax share: m = max(x) over `axes` (kept), detached, and 0 where it is ±inf
 * or the axis is empty; d = x − m; e = exp(d); s = Σ e over the axes (kept). logSoftmax is d − log s and softmax
 * e / s, never x − logsumexp(x): logsumexp = log s + m rounds to m's precision, so x minus it lost log s wherever
 * |x| is large (float32 logits of 10⁴ came out 3·10⁻⁴ off, of 10⁸ a softmax of all ones).
 */
function shiftedExp<T>(o: TensorAlgebra<T>, x: T, ax: readonly number[]): { m: T; d: T; e: T; s: T } {
  const shape = o.shape(x);
  const p = { axes: ax, keepdims: true };
  // An empty axis has no max: m = 0 there, and the empty sum's log gives -inf (PyTorch; softmax then gives []).
  const empty = ax.some((a) => shape[a] === 0);
  const m0 = empty ? o.broadcastTo(0, { shape: reducedShape(shape, ax, true) }) : o.detach(o.amax(x, p));
  const m = o.where(o.eq(o.abs(m0), Infinity), 0, m0);
  const d = o.sub(x, m);
  const e = o.exp(d);
  return { m, d, e, s: o.sum(e, p) };
}

/**
 * The axis softmax and logSoftmax run along, as a list: one axis, or none for a 0-d tensor, which PyTorch allows
 * along axis 0 or -1 (softmax is then 1, logSoftmax 0, and their gradients 0).
 */
function softmaxAxes(shape: Shape, axis: number, op: string): number[] {
  const a = normalizeAlong(axis, shape, op);
  return a === null ? [] : [a];
}

/**
 * `f` (an op along one axis: cumsum, argmax, gather, ...) along `axis` of x. A 0-d x along 0 or -1, which PyTorch
 * allows (its dims wrap a 0-d tensor as if it had one axis), runs on x viewed as [1] along axis 0, and the result
 * is viewed as `scalarShape` (0-d unless the op's result takes another shape, as gather's takes its index's).
 */
export function alongAxis<T>(o: TensorAlgebra<T>, x: T, axis: number, op: string, f: (x: T, axis: number) => T, scalarShape: Shape = []): T {
  const a = normalizeAlong(axis, o.shape(x), op);
  if (a !== null) return f(x, a);
  const y = f(o.reshape(x, { shape: [1] }), 0);
  return sameShape(o.shape(y), scalarShape) ? y : o.reshape(y, { shape: scalarShape });
}

/** log softmax along an axis: (x − m) − log Σ exp(x − m), m the max (detached). Composite; stable as logsumexp. */
export function logSoftmax<T>(o: TensorAlgebra<T>, x: T, axis = -1): T {
  const { d, s } = shiftedExp(o, x, softmaxAxes(o.shape(x), axis, "logSoftmax"));
  return o.sub(d, o.log(s));
}

/**
 * softmax along an axis: exp(x − m) / Σ exp(x − m), m the max (detached). Composite; stable at ±1000. A row of all
 * -inf gives NaN, as in PyTorch (the distribution is undefined there).
 */
export function softmax<T>(o: TensorAlgebra<T>, x: T, axis = -1): T {
  const { e, s } = shiftedExp(o, x, softmaxAxes(o.shape(x), axis, "softmax"));
  return o.div(e, s);
}

/**
 * Clamp into [lo, hi] (either bound optional). Composite: where(x < lo, lo, x), then where(x > hi, hi, ·). As in
 * PyTorch the gradient passes whole where lo ≤ x ≤ hi, bounds included, and is 0 outside (a max/min composite
 * would split it at a bound).
 */
export function clamp<T>(o: TensorAlgebra<T>, x: T, lo?: Arg<T> | null, hi?: Arg<T> | null): T {
  let y = x;
  if (lo !== undefined && lo !== null) y = o.where(o.gt(lo, y), lo, y);
  if (hi !== undefined && hi !== null) y = o.where(o.gt(y, hi), hi, y);
  return y;
}

/** Removes size-1 axes (all of them, or those listed). Composite: a reshape. */
export function squeeze<T>(o: TensorAlgebra<T>, x: T, axes?: Axes): T {
  const shape = o.shape(x);
  const drop = axes === undefined || axes === null ? shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normalizeAxes(axes, shape, "squeeze");
  for (const a of drop) {
    if (shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of shape ${formatShape(shape)} has size ${shape[a]}, not 1`);
  }
  return o.reshape(x, { shape: shape.filter((_, i) => !drop.includes(i)) });
}

/** Inserts a size-1 axis at `axis` (-1 appends). Composite: a reshape. */
export function unsqueeze<T>(o: TensorAlgebra<T>, x: T, axis: number): T {
  const shape = o.shape(x);
  const a = normalizeAxis(axis, shape.length + 1, "unsqueeze", shape);
  return o.reshape(x, { shape: [...shape.slice(0, a), 1, ...shape.slice(a)] });
}

/**
 * Flattens axes `startDim` to `endDim` (both included; negative counts from the end) into one, PyTorch's
 * `flatten(start_dim=0, end_dim=-1)`: by default to 1-D. A 0-d x becomes shape [1] (its one axis is 0 or -1, as
 * PyTorch's). Start after end, or an axis out of range, is a ShapeError. Composite: a reshape (x itself when
 * nothing changes).
 */
export function flatten<T>(o: TensorAlgebra<T>, x: T, startDim = 0, endDim = -1): T {
  const shape = o.shape(x);
  const rank = Math.max(shape.length, 1); // a 0-d tensor's dims are 0 and -1, as PyTorch's
  const s = normalizeAxis(startDim, rank, "flatten", shape), e = normalizeAxis(endDim, rank, "flatten", shape);
  if (s > e) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(shape)}`);
  const out = shape.length === 0 ? [1] : [...shape.slice(0, s), sizeOf(shape.slice(s, e + 1)), ...shape.slice(e + 1)];
  return sameShape(out, shape) ? x : o.reshape(x, { shape: out });
}

/**
 * Transposes: with no axes, reverses all axes (NumPy's `transpose`, the matrix transpose for 2-D); with two,
 * swaps them (PyTorch's `transpose(dim0, dim1)`). One axis alone is an InputError (PyTorch's too: which axis
 * would it swap with?). Composite: a permute.
 */
export function transpose<T>(o: TensorAlgebra<T>, x: T, axis0?: number, axis1?: number): T {
  const shape = o.shape(x);
  const r = shape.length;
  const perm = Array.from({ length: r }, (_, i) => r - 1 - i);
  if (axis0 !== undefined || axis1 !== undefined) {
    if (axis0 === undefined || axis1 === undefined) {
      throw new InputError(`transpose: give two axes to swap (transpose(0, 1)) or none to reverse them all, got only ${axis0 === undefined ? `axis1 ${axis1}` : `${axis0}`}`);
    }
    // (a 0-d x along 0 or -1 has no axes to swap: null, and the identity permutation)
    const a = normalizeAlong(axis0, shape, "transpose"), b = normalizeAlong(axis1, shape, "transpose");
    for (let i = 0; i < r; i++) perm[i] = i;
    if (a !== null && b !== null) [perm[a], perm[b]] = [b, a];
  }
  return o.permute(x, { perm });
}

/** Joins tensors of one shape along a new axis. Composite: unsqueeze each, then concat. */
export function stack<T>(o: TensorAlgebra<T>, xs: readonly T[], axis = 0): T {
  if (xs.length === 0) throw new ShapeError("stack: needs at least one tensor");
  const first = o.shape(xs[0]!);
  for (const x of xs) {
    if (!sameShape(o.shape(x), first)) {
      throw new ShapeError(`stack: shapes ${formatShape(first)} and ${formatShape(o.shape(x))} differ`);
    }
  }
  const a = normalizeAxis(axis, first.length + 1, "stack", first);
  return o.concat(xs.map((x) => unsqueeze(o, x, a)), { axis: a });
}

/** Names of the composites, with the primitive(s) each is built from (for documentation and renderers). */
export const composites = {
  mean: "sum, div",
  logsumexp: "amax (detached), where, sub, exp, sum, log, add",
  logSoftmax: "amax (detached), where, sub, exp, sum, log, sub",
  softmax: "amax (detached), where, sub, exp, sum, div",
  clamp: "gt, where",
  squeeze: "reshape",
  unsqueeze: "reshape",
  flatten: "reshape",
  transpose: "permute",
  stack: "reshape, concat",
  sumTo: "sum, reshape (or broadcastTo)",
} as const;

/** The `axis=` keyword of a call (an integer, or absent). */
const axisOf = (kw: CallKeywords): number | undefined => kw.axis as number | undefined;

/**
 * The composites callable by name in the expression language, under their board names, each applied through
 * the functions above. An entry here is all it takes to make a composite callable on the board: the language
 * reads this list (with the primitives that have a `call` spec, ./functions.ts) and declares no function itself.
 */
export const compositeFunctions: readonly TensorFunction[] = [
  {
    name: "mean", arity: 1, params: ["x"], keywords: REDUCE_KEYWORDS, doc: "the mean of x over an axis (all axes by default)",
    apply: (o, [x], kw) => mean(o, x!, axisOf(kw), kw.keepdims === true),
  },
  {
    name: "logsumexp", arity: 1, params: ["x"], keywords: REDUCE_KEYWORDS, doc: "log Σ exp(x) over an axis, stable",
    apply: (o, [x], kw) => logsumexp(o, x!, axisOf(kw), kw.keepdims === true),
  },
  {
    name: "softmax", arity: 1, params: ["x"], keywords: { axis: "int" }, doc: "softmax along an axis (the last by default)",
    apply: (o, [x], kw) => softmax(o, x!, axisOf(kw) ?? -1),
  },
  {
    name: "log_softmax", arity: 1, params: ["x"], keywords: { axis: "int" }, doc: "log softmax along an axis (the last by default)",
    apply: (o, [x], kw) => logSoftmax(o, x!, axisOf(kw) ?? -1),
  },
  {
    name: "transpose", arity: 1, params: ["x"], keywords: {}, doc: "x with its axes reversed (the matrix transpose)",
    apply: (o, [x]) => transpose(o, x!),
  },
];
