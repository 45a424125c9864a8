/**
 * The tensor engine: a `Tensor` is a node of a computational graph holding an n-dimensional array, the op of
 * the table that made it, its parameters and its inputs. Every method applies an op of the table (or a
 * composite written against the same algebra); `backward()` runs the op table's vjp rules in a reverse sweep,
 * on raw arrays, or on tensors (`createGraph`) so that the gradient is itself differentiable.
 */
import { GradgraphError, InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { topoOrder } from "../core/graph.js";
import * as composite from "../ops/composite.js";
import * as pieces from "../ops/pieces.js";
import * as stats from "../ops/stats.js";
import type { NormOrd, VarOptions } from "../ops/stats.js";
import { argExtremum, gatherAlong, scatterAddAlong, sortAlong } from "./along.js";
import { describe, reduceArgs, resolveShape, sliceParams, varArgs, type SliceSpec } from "./args.js";
import { tensorString } from "./print.js";
import type { Axes, DimArg, ReduceOptions } from "../ops/composite.js";
import { elementwiseOps } from "../ops/elementwise.js";
import type { AnyOp, Col2imParams, DType, ElementwiseName, FusedExpr, Im2colParams, TensorAlgebra, TensorOpName } from "../ops/op.js";
import { tensorOps } from "../ops/registry.js";
import { broadcastShapes, broadcastsTo, checkedSize, formatShape, normalizeAxes, normalizeAxis, sameShape, stridesOf, type Shape } from "../ops/shape.js";
import { tensorAlgebraOf } from "../ops/tensor-algebra.js";
import { applyRaw, hasNaN, runFused } from "./backend.js";
import { full } from "./creation.js";
import { reverse } from "./engine.js";
import { batching, enableGrad, gradMode, noGrad, tensorHooks } from "./grad-mode.js";
import { recording } from "./recording.js";
import { copied, ownArray, ownedStorage, ownedValue } from "./storage.js";
import type { Span } from "../core/span.js";
import { NDArray, scalarArray, toNested, toTypedArray, type TypedArray } from "./ndarray.js";

// The engine's other files, re-exported where the rest of the code has always found them.
export { arange, eye, fromTypedArray, full, linspace, ones, onesLike, tensor, zeros, zerosLike, type CreateOptions } from "./creation.js";
export { engine } from "./engine.js";
export { enableGrad, isGradEnabled, noGrad, tensorHooks } from "./grad-mode.js";

export type { DimArg, ReduceOptions, Span };

/** What binary methods accept besides a tensor: a plain number (a constant of the tensor's dtype). */
export type TensorLike = Tensor | number;

export type { SliceSpec };

/** Options of {@link Tensor.backward}: a differentiable graph of the gradients, intermediate gradients kept. */
export interface BackwardOptions {
  /**
   * Build the backward pass as a graph of tensors, so the gradients can be differentiated again (gradients of
   * gradients, Hessians). Default false: gradients are plain arrays, no graph.
   */
  createGraph?: boolean;
  /**
   * Accepted for PyTorch compatibility and has no effect: the graph is immutable and is never freed by a
   * backward pass, so `backward()` can always run again (see {@link Tensor.backward}).
   */
  retainGraph?: boolean;
  /** Also store `.grad` on every intermediate node of the graph (not only leaves), e.g. for trace tables. */
  retainGrads?: boolean;
}

const BACKWARD_KEYS = optionKeys<BackwardOptions>({ createGraph: true, retainGraph: true, retainGrads: true });

// ---------------------------------------------------------------------------------------------------------
// Tensor
// ---------------------------------------------------------------------------------------------------------

/** One method per elementwise op (tsc rejects a `Tensor` that lacks one); `max(number)`/`min` reduce, as PyTorch's. */
type ElementwiseMethods = { readonly [K in ElementwiseName]: (...others: never[]) => Tensor };
/** One method per tensor primitive. */
type TensorOpMethods = { readonly [K in TensorOpName]: (...args: never[]) => Tensor };

/** Options of a tensor made from values: whether gradients flow into it, and a name. */
export interface TensorOptions {
  /** Whether gradients flow into this leaf (default false). */
  requiresGrad?: boolean;
  /** A name, for printing and renderers. */
  label?: string;
}

let nextId = 1;

/** @internal The id the next tensor made will get (every tensor made before has a smaller one). */
export function nextTensorId(): number {
  return nextId;
}

/**
 * Marks gradgraph tensors by a global symbol, so code that finds tensors in objects (module state) recognises
 * one made by another copy of the package, where `instanceof` would fail.
 */
export const TENSOR_BRAND: unique symbol = Symbol.for("gradgraph.Tensor") as never;

/** Whether `x` is a gradgraph tensor (of this copy of the package or another). */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === "object" && x !== null && (x as { [TENSOR_BRAND]?: unknown })[TENSOR_BRAND] === true;
}

/**
 * An n-dimensional array in a computational graph (float32 by default, or float64).
 *
 * @example
 * const X = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const W = tensor([[1, -1], [0, 2]], { requiresGrad: true });
 * const loss = X.matmul(W).relu().sum();
 * loss.backward();
 * W.grad!.toNested(); // [[4, 4], [6, 6]]
 */
export class Tensor implements ElementwiseMethods, TensorOpMethods {
  /** The brand {@link isTensor} looks for. */
  get [TENSOR_BRAND](): true {
    return true;
  }
  /**
   * The array this node holds (read-only: kernels make fresh arrays; a tensor's values change only through
   * {@link assign}, a new array, or {@link update}, in place, the optimizers' step).
   */
  readonly value: NDArray;
  /**
   * ∂(root of a backward pass)/∂(this tensor), accumulated over backward passes; null before any. Writable, as
   * PyTorch's `.grad` (`p.grad = null` clears it; an optimizer reads what is there).
   */
  get grad(): Tensor | null {
    recording.current?.gradRead(this);
    return this.#grad;
  }
  /** Sets or clears (`null`) the gradient. */
  set grad(g: Tensor | null) {
    recording.current?.gradSet(this, g);
    this.#grad = g;
  }
  #grad: Tensor | null = null;
  /** The op of the table that made this tensor (null for a leaf: an input, parameter or constant). */
  readonly op: AnyOp | null;
  /** The op's parameters (axes, shape, …); undefined for ops without. */
  readonly params: unknown;
  readonly inputs: readonly Tensor[];
  #requiresGrad: boolean;
  /** Whether gradients flow into this tensor. Set it on leaves; op results inherit it from their inputs. */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  /** Turns gradients into this tensor on or off (on leaves: a parameter frozen or unfrozen). */
  set requiresGrad(r: boolean) {
    recording.current?.requiresGradSet(this); // a compiled step's trace keeps the flag the call found
    this.#requiresGrad = r;
  }
  /** A name, for printing and renderers (writable). */
  label: string | undefined;
  /** Where in an expression's source this tensor was computed (set by the expression compiler), for errors. */
  span: Span | undefined;
  /** A number unique to this tensor (for renderers). */
  readonly id = nextId++;
  /** @internal Scratch mark for graph walks (see `topoOrder`); not part of the public type. */
  topoMark = 0;
  private keepGrad = false;

  constructor(value: NDArray, options: TensorOptions = {}, op: AnyOp | null = null, inputs: readonly Tensor[] = [], params?: unknown) {
    this.value = value;
    this.op = op;
    this.inputs = inputs;
    this.params = params;
    this.#requiresGrad = options.requiresGrad ?? false;
    this.label = options.label;
    this.span = undefined;
  }

  /**
   * Applies a primitive of the op table to tensors: runs its kernel (after its shape rule) and, when grad mode
   * is on and an input requires grad, records the node.
   */
  static apply(op: AnyOp, inputs: readonly Tensor[], params?: unknown): Tensor {
    if (batching.apply !== null) {
      const batched = batching.apply(op, inputs, params);
      if (batched !== null) return batched;
    }
    const r = recording.current;
    if (r !== null) for (const x of inputs) r.tensor(x);
    const value = applyRaw(op, inputs.map((x) => x.value), params);
    const out = Tensor.node(value, op, inputs, params);
    if (tensorHooks.afterApply !== null) tensorHooks.afterApply(op, inputs, out);
    return out;
  }

  /**
   * The tensor holding `value`, the result of `op` on `inputs`: a graph node when grad mode is on and an input
   * (other than the op's non-differentiable ones) requires grad, else a plain tensor. Custom functions (whose
   * value comes from the user's code, not from a kernel) record their nodes through here.
   */
  static node(value: NDArray, op: AnyOp, inputs: readonly Tensor[], params?: unknown): Tensor {
    if (gradMode.enabled) {
      const skip = op.nondiffInputs;
      for (let i = 0; i < inputs.length; i++) {
        if (inputs[i]!.requiresGrad && !(skip !== undefined && skip.includes(i))) {
          return new Tensor(value, { requiresGrad: true }, op, inputs, params);
        }
      }
    }
    return new Tensor(value);
  }

  /** A tensor for a plain number (a weak constant: it adopts the dtype of the tensors it meets). */
  static from(x: TensorLike): Tensor {
    if (x instanceof Tensor) return x;
    if (typeof x === "number") return new Tensor(scalarArray(x, "float64", true));
    throw new InputError(`expected a tensor or a number, got ${isTensor(x) ? "a tensor from another copy of gradgraph (the package is loaded twice; import it once, or copy the tensor with tensor(t.toNested()))" : describe(x)}`);
  }

  /** The size of each axis. */
  get shape(): Shape {
    return this.value.shape;
  }
  /** The number of axes. */
  get ndim(): number {
    return this.value.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return this.value.size;
  }
  /** The element type: float32 or float64. */
  get dtype(): DType {
    return this.value.dtype;
  }
  /** True for a tensor not made by an op (an input, a parameter, a constant). */
  get isLeaf(): boolean {
    return this.op === null;
  }

  // --- elementwise ops (with broadcasting) ---------------------------------------------------------------

  /** this + other, elementwise, with broadcasting. */
  add(other: TensorLike): Tensor { return bin("add", this, other); }
  /** this − other, elementwise, with broadcasting. */
  sub(other: TensorLike): Tensor { return bin("sub", this, other); }
  /** this · other, elementwise, with broadcasting (the matrix product is {@link matmul}). */
  mul(other: TensorLike): Tensor { return bin("mul", this, other); }
  /** this / other, elementwise, with broadcasting. */
  div(other: TensorLike): Tensor { return bin("div", this, other); }
  /** −x, elementwise. */
  neg(): Tensor { return un("neg", this); }
  /** `this ^ exponent`, elementwise; the exponent may be a number or a tensor. */
  pow(exponent: TensorLike): Tensor { return bin("pow", this, exponent); }
  /** eˣ, elementwise. */
  exp(): Tensor { return un("exp", this); }
  /** The natural logarithm, elementwise. */
  log(): Tensor { return un("log", this); }
  /** √x, elementwise (its derivative at 0 is +∞, as PyTorch's). */
  sqrt(): Tensor { return un("sqrt", this); }
  /** |x|, elementwise (derivative 0 at 0). */
  abs(): Tensor { return un("abs", this); }
  /** max(x, 0), elementwise (derivative 0 at 0). */
  relu(): Tensor { return un("relu", this); }
  /** 1 / (1 + e⁻ˣ), elementwise. */
  sigmoid(): Tensor { return un("sigmoid", this); }
  /** tanh(x), elementwise. */
  tanh(): Tensor { return un("tanh", this); }
  /** sin(x), elementwise. */
  sin(): Tensor { return un("sin", this); }
  /** cos(x), elementwise. */
  cos(): Tensor { return un("cos", this); }
  /** 1 where this > other, else 0 (zero gradient). */
  gt(other: TensorLike): Tensor { return bin("gt", this, other); }
  /** 1 where this == other, else 0 (zero gradient). */
  eq(other: TensorLike): Tensor { return bin("eq", this, other); }
  /** -1, 0 or 1 (zero gradient). */
  sign(): Tensor { return un("sign", this); }
  /** Comparisons: 1 where they hold, else 0, in the operands' dtype (no boolean dtype); zero gradient. */
  lt(other: TensorLike): Tensor { return bin("lt", this, other); }
  /** 1 where this ≤ other, else 0 (zero gradient). */
  le(other: TensorLike): Tensor { return bin("le", this, other); }
  /** 1 where this ≥ other, else 0 (zero gradient). */
  ge(other: TensorLike): Tensor { return bin("ge", this, other); }
  /** 1 where this ≠ other, else 0 (zero gradient). */
  ne(other: TensorLike): Tensor { return bin("ne", this, other); }
  /** ln(1 + x), accurate near 0. */
  log1p(): Tensor { return un("log1p", this); }
  /** eˣ − 1, accurate near 0. */
  expm1(): Tensor { return un("expm1", this); }
  /** x² (one multiplication). */
  square(): Tensor { return un("square", this); }

  /** The elementwise maximum with a tensor or number (`torch.maximum`; the lecture's `max(P, 0)` is `P.maximum(0)`); ties split the gradient evenly. */
  maximum(other: TensorLike): Tensor { return bin("max", this, other); }
  /** The elementwise minimum with a tensor or number (`torch.minimum`); ties split the gradient evenly. */
  minimum(other: TensorLike): Tensor { return bin("min", this, other); }

  /**
   * The max over all elements (a 0-d tensor), or over `dim` (a number, negative from the end, or a list), keeping
   * the reduced dims as size 1 with `keepdim` — as PyTorch's `x.max(dim, keepdim)`, but it returns the **values
   * only** (PyTorch returns `(values, indices)`; take the indices with {@link argmax}). The gradient is split evenly
   * among tied maxima (as `torch.amax`; PyTorch's `max(dim)` gives it all to the one index it returns). With a
   * tensor it is the elementwise {@link maximum}, as `torch.max(input, other)`; a number is always a dim.
   *
   * @example
   * const x = tensor([[1, 5], [3, 2]]);
   * x.max().item();        // 5
   * x.max(1).toNested();   // [5, 3]
   * x.max(0, true).shape;  // [1, 2]
   * x.argmax(1).toNested(); // [1, 0]
   */
  max(dim?: DimArg, keepdim?: boolean): Tensor;
  max(other: Tensor): Tensor;
  max(dim?: DimArg | Tensor, keepdim?: boolean): Tensor {
    if (isTensor(dim)) return bin("max", this, dim);
    return this.amax(dim, keepdim);
  }

  /** The min over all elements or over `dim` (values only; see {@link max}); with a tensor, the elementwise {@link minimum}. */
  min(dim?: DimArg, keepdim?: boolean): Tensor;
  min(other: Tensor): Tensor;
  min(dim?: DimArg | Tensor, keepdim?: boolean): Tensor {
    if (isTensor(dim)) return bin("min", this, dim);
    return this.amin(dim, keepdim);
  }

  // --- reductions ----------------------------------------------------------------------------------------

  /**
   * Sum over all elements, or over `axis` (a number or a list; negative counts from the end).
   *
   * @example
   * tensor([[1, 2], [3, 4]]).sum(0).toNested(); // [4, 6]
   */
  sum(dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("sum", dim, keepdim);
    return Tensor.apply(tensorOps.sum, [this], { axes: normalizeAxes(r.axes, this.shape, "sum"), keepdims: r.keepdims });
  }

  /** Max over axes; the gradient is split evenly among tied maxima (PyTorch's amax rule). */
  amax(dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("amax", dim, keepdim);
    return Tensor.apply(tensorOps.amax, [this], { axes: normalizeAxes(r.axes, this.shape, "amax"), keepdims: r.keepdims });
  }

  /** Min over axes; the gradient is split evenly among tied minima. */
  amin(dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("amin", dim, keepdim);
    return Tensor.apply(tensorOps.amin, [this], { axes: normalizeAxes(r.axes, this.shape, "amin"), keepdims: r.keepdims });
  }

  /** Mean over all elements or over axes. */
  mean(dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("mean", dim, keepdim);
    return composite.mean(graphAlgebra, this, r.axes, r.keepdims);
  }

  /** log Σ exp over axes, numerically stable (correct at ±1000 and for all -inf). */
  logsumexp(dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("logsumexp", dim, keepdim);
    return composite.logsumexp(graphAlgebra, this, r.axes, r.keepdims);
  }

  /** softmax along an axis (default the last), numerically stable. */
  softmax(axis = -1): Tensor {
    return composite.softmax(graphAlgebra, this, axis);
  }

  /** log softmax along an axis (default the last), numerically stable. */
  logSoftmax(axis = -1): Tensor {
    return composite.logSoftmax(graphAlgebra, this, axis);
  }

  /** Running sums along an axis (`torch.cumsum`). */
  cumsum(axis: number): Tensor {
    return composite.alongAxis(graphAlgebra, this, axis, "cumsum", (x, a) => Tensor.apply(tensorOps.cumsum, [x], { axis: a, reverse: false }));
  }

  /** The position of the first maximum along an axis (of the flattened tensor without one); no gradient. See src/ops/argext.ts. */
  argmax(dim?: number | ReduceOptions, keepdim?: boolean): Tensor { return argExtremum(tensorOps.argmax, this, dim, keepdim); }
  /** The position of the first minimum along an axis (of the flattened tensor without one); no gradient. */
  argmin(dim?: number | ReduceOptions, keepdim?: boolean): Tensor { return argExtremum(tensorOps.argmin, this, dim, keepdim); }

  /** Variance over axes (all by default), PyTorch's `correction` (default 1) or `unbiased`, and `keepdims`. */
  var(dim?: Axes | VarOptions, options?: VarOptions): Tensor { return stats.variance(graphAlgebra, this, ...varArgs("var", dim, options)); }
  /** Standard deviation: √var, same options. */
  std(dim?: Axes | VarOptions, options?: VarOptions): Tensor { return stats.std(graphAlgebra, this, ...varArgs("std", dim, options)); }
  /** Vector norm over axes (all by default): p = 2 (default), 1, ±Infinity, 0 or any p > 0 (`torch.linalg.vector_norm`). */
  norm(p: NormOrd = 2, dim?: DimArg, keepdim?: boolean): Tensor {
    const r = reduceArgs("norm", dim, keepdim);
    return stats.norm(graphAlgebra, this, p, r.axes, r.keepdims);
  }

  /**
   * Sorted along an axis (stable; NaN last ascending, first descending), with the positions the values came from.
   * The values are a gather of this tensor, so the gradient scatters back to where each value came from.
   */
  sort(axis = -1, descending = false): { values: Tensor; indices: Tensor } { return sortAlong(this, axis, descending, null, "sort"); }
  /** The k largest (or smallest) values along an axis, sorted, with their positions (`torch.topk`). */
  topk(k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } { return sortAlong(this, axis, largest, k, "topk"); }

  /** Pieces along an axis, of `size` each or of the listed sizes (`torch.split`). */
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return pieces.split(graphAlgebra, this, sizes, axis); }
  /** `chunks` pieces of equal size along an axis (`torch.chunk`). */
  chunk(chunks: number, axis = 0): Tensor[] { return pieces.chunk(graphAlgebra, this, chunks, axis); }

  // --- matmul --------------------------------------------------------------------------------------------

  /**
   * Matrix product with NumPy semantics: 1-D operands are vectors, leading axes broadcast.
   *
   * @example
   * tensor([[1, 2], [3, 4]]).matmul(tensor([1, 1])).toNested(); // [3, 7]
   */
  matmul(other: Tensor): Tensor {
    return Tensor.apply(tensorOps.matmul, [this, other]);
  }

  // --- movement -------------------------------------------------------------------------------------------

  /**
   * The same elements in another shape (one size may be -1: inferred). A view when the data are contiguous.
   *
   * @example
   * arange(6).reshape(2, -1).shape; // [2, 3]
   */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    const s = resolveShape(shape.flat() as number[], this.shape);
    if (sameShape(s, this.shape)) return this;
    return Tensor.apply(tensorOps.reshape, [this], { shape: s });
  }

  /** Reorders axes: `permute(1, 0)` transposes a matrix. A view. */
  permute(...perm: (number | readonly number[])[]): Tensor {
    const p = (perm.flat() as number[]).map((a) => (a < 0 && a >= -this.ndim ? a + this.ndim : a));
    return Tensor.apply(tensorOps.permute, [this], { perm: p });
  }

  /** Reverses all axes (no arguments: the matrix transpose for 2-D) or swaps two axes; one axis alone is an error. A view. */
  transpose(axis0?: number, axis1?: number): Tensor {
    return composite.transpose(graphAlgebra, this, axis0, axis1);
  }

  /** The transpose (all axes reversed), like NumPy's `.T`. */
  get T(): Tensor {
    return this.transpose();
  }

  /** The last two axes swapped (the transpose of every matrix of a batch). */
  get mT(): Tensor {
    if (this.ndim < 2) throw new ShapeError(`mT: needs at least 2 dimensions, got ${formatShape(this.shape)}`);
    return this.transpose(-2, -1);
  }

  /** Broadcasts to a larger shape (a view with zero strides). */
  broadcastTo(...shape: (number | readonly number[])[]): Tensor {
    const s = shape.flat() as number[];
    if (sameShape(s, this.shape)) return this;
    return Tensor.apply(tensorOps.broadcastTo, [this], { shape: s });
  }

  /** Removes size-1 axes (all, or those given). */
  squeeze(axis?: Axes): Tensor {
    return composite.squeeze(graphAlgebra, this, axis);
  }

  /** Inserts a size-1 axis at `axis`. */
  unsqueeze(axis: number): Tensor {
    return composite.unsqueeze(graphAlgebra, this, axis);
  }

  /**
   * Axes `startDim` to `endDim` (both included, negative from the end) merged into one, PyTorch's
   * `flatten(start_dim=0, end_dim=-1)`: with no arguments the elements as a 1-D tensor (a 0-d tensor gives
   * shape [1]). A reshape, so gradients flow back.
   *
   * @example
   * zeros([2, 3, 4]).flatten(1).shape; // [2, 12]
   */
  flatten(startDim = 0, endDim = -1): Tensor {
    return composite.flatten(graphAlgebra, this, startDim, endDim);
  }

  /**
   * Slices each axis, like NumPy indexing: a number picks one position and drops the axis, `[start, end, step]`
   * takes a range (negative positions count from the end; missing or null parts default as Python's None),
   * `null` keeps the whole axis. Axes not mentioned are kept whole. A malformed spec is an InputError.
   *
   * @example
   * const x = arange(12).reshape(3, 4);
   * x.slice(1).toNested();              // [4, 5, 6, 7]
   * x.slice(null, [1, 3]).shape;        // [3, 2]
   * x.slice([0, 3, 2], -1).toNested();  // [3, 11]
   */
  slice(...specs: SliceSpec[]): Tensor {
    const { starts, ends, steps, drop } = sliceParams(this.shape, specs);
    const whole = drop.length === 0 && starts.every((v, i) => v === 0 && ends[i] === this.shape[i] && steps[i] === 1);
    const y = whole ? this : Tensor.apply(tensorOps.slice, [this], { starts, ends, steps });
    return drop.length === 0 ? y : y.reshape(y.shape.filter((_, i) => !drop.includes(i)));
  }

  /**
   * Padding with a constant. `widths[i] = [before, after]` for each leading axis listed (zeros); or PyTorch's
   * `F.pad` spec, flat and last axis first (`[left, right, top, bottom]`; negative widths crop), with `value`.
   */
  pad(widths: readonly (readonly [number, number])[] | readonly number[], value = 0): Tensor {
    if (widths.length > 0 && typeof widths[0] === "number") return pieces.padConstant(graphAlgebra, this, widths as readonly number[], value);
    const spec = (widths as readonly (readonly [number, number])[]).flatMap((w) => [w[0], w[1]]);
    if (widths.length > this.ndim || spec.some((v) => !Number.isInteger(v) || v < 0)) throw new ShapeError(`pad: widths must be non-negative integer pairs, at most one per axis of ${formatShape(this.shape)}`);
    const flat = this.shape.flatMap((_, i) => [spec[2 * i] ?? 0, spec[2 * i + 1] ?? 0]);
    const torchOrder = this.shape.flatMap((_, i) => flat.slice(2 * (this.ndim - 1 - i), 2 * (this.ndim - i)));
    return pieces.padConstant(graphAlgebra, this, torchOrder, value);
  }

  /** This tensor and `others` joined along `axis`. */
  concat(others: readonly Tensor[], axis = 0): Tensor {
    return concat([this, ...others], axis);
  }

  /**
   * `out[…, i, …] = this[…, index[…, i, …], …]` along `axis` (PyTorch's gather): picks, e.g., each row's score
   * of its class label with `logp.gather(1, labels.reshape(-1, 1))`.
   */
  gather(axis: number, index: Tensor | IndexLike): Tensor {
    return gatherAlong(this, axis, index);
  }

  /** Zeros of `shape`, then `out[…, index[…, i, …], …] += this[…, i, …]` along `axis` (the transpose of gather). */
  scatterAdd(axis: number, index: Tensor | IndexLike, shape: readonly number[]): Tensor {
    return scatterAddAlong(this, axis, index, shape);
  }

  /** The windows of a convolution, [C, kh, kw, N, Ho, Wo] from [N, C, H, W] (see src/ops/conv.ts). */
  im2col(params: Im2colParams): Tensor {
    return Tensor.apply(tensorOps.im2col, [this], params);
  }

  /** The transpose of {@link im2col}: columns summed back into an image of `params.shape`. */
  col2im(params: Col2imParams): Tensor {
    return Tensor.apply(tensorOps.col2im, [this], params);
  }

  /** `this` where `cond` ≠ 0, else `other` (like PyTorch's `x.where(cond, y)`). */
  where(cond: TensorLike, other: TensorLike): Tensor {
    return where(cond, this, other);
  }

  /** Clamps into [lo, hi] (either may be null/undefined). */
  clamp(lo?: TensorLike | null, hi?: TensorLike | null): Tensor {
    return composite.clamp(graphAlgebra, this, lo == null ? lo : Tensor.from(lo), hi == null ? hi : Tensor.from(hi));
  }

  /** The same values as another dtype (differentiable). */
  cast(dtype: DType): Tensor {
    if (dtype === this.dtype && !this.value.weak) return this;
    return Tensor.apply(tensorOps.cast, [this], { dtype });
  }

  // --- autodiff -------------------------------------------------------------------------------------------

  /** The same values as a new leaf that does not require grad (no gradient flows back through it). */
  detach(): Tensor {
    const t = new Tensor(this.value);
    t.label = this.label;
    return t;
  }

  /** Keeps `.grad` on this (non-leaf) tensor in the next backward passes, like PyTorch's `retain_grad()`. */
  retainGrad(): this {
    this.keepGrad = true;
    return this;
  }

  /**
   * Backpropagation from this tensor: runs the op table's vjp rules from here back to the leaves and adds
   * ∂this/∂leaf into each leaf's `.grad` (gradients accumulate across calls, as in PyTorch: call `zeroGrad()`
   * between steps).
   *
   * On a scalar (one element) no seed is needed. On any other shape a seed — the gradient of some scalar with
   * respect to this tensor, of this tensor's shape (or broadcastable to it) — must be given; `backward(1)`
   * seeds with ones, i.e. the gradient of the sum, as the lecture does.
   *
   * **Calling backward twice** works, and works identically: the graph holds only immutable arrays and a
   * backward pass frees nothing, so there is no `retainGraph` to remember (the option is accepted and ignored);
   * the second call adds the same gradients again.
   *
   * @example
   * const x = tensor([1, 2, 3], { requiresGrad: true });
   * x.mul(x).sum().backward();
   * x.grad!.toNested(); // [2, 4, 6]
   */
  backward(seed?: TensorLike | BackwardOptions, options: BackwardOptions = {}): void {
    if (seed !== undefined && !(seed instanceof Tensor) && typeof seed !== "number") {
      options = seed;
      seed = undefined;
    }
    expectOptions("backward", options, BACKWARD_KEYS);
    if (!this.requiresGrad) {
      throw new GradgraphError("backward: this tensor does not require grad (no input of it has requiresGrad: true)");
    }
    if (this.value.ndim !== this.ndim) throw new GradgraphError("backward: not available inside vmap (a batched tensor); use grad(f) inside the mapped function");
    const g = this.seedFor(seed as TensorLike | undefined);
    const keep = (n: Tensor) => options.retainGrads === true || n.keepGrad;
    const store = (n: Tensor, ct: Tensor) => {
      recording.current?.tensor(n);
      if (n.isLeaf) n.grad = n.grad === null ? ct : accumulate(n.grad, ct, options.createGraph === true);
      else n.grad = ct;
    };
    const graph = options.createGraph === true;
    for (const [n, ct] of reverse([this], [g], graph, { keep })) {
      if (!n.isLeaf && !keep(n)) continue;
      // Stored gradients own contiguous storage (a raw cotangent may be a broadcast view of a seed).
      if (graph) enableGrad(() => store(n, ct));
      else store(n, new Tensor(ownArray(ct.value)));
    }
  }

  /** The seed of a backward pass from this tensor, checked against its shape. */
  private seedFor(seed: TensorLike | undefined): Tensor {
    if (seed === undefined) {
      if (this.size !== 1) {
        throw new GradgraphError(
          `backward: the output has shape ${formatShape(this.shape)}, not a single value; pass a seed of that shape ` +
            `(the gradient of some scalar with respect to it), e.g. backward(1) for ones, the gradient of its sum`,
        );
      }
      return full(this.shape, 1, { dtype: this.dtype });
    }
    const s = Tensor.from(seed);
    if (!broadcastsTo(s.shape, this.shape)) {
      throw new ShapeError(`backward: seed of shape ${formatShape(s.shape)} does not fit output of shape ${formatShape(this.shape)}`);
    }
    return noGrad(() => (sameShape(s.shape, this.shape) && s.dtype === this.dtype && !s.value.weak ? s : s.cast(this.dtype).broadcastTo(this.shape)));
  }

  /** Clears `.grad` of every tensor of this graph (of this tensor alone for a leaf). */
  zeroGrad(): void {
    for (const n of topoOrder<Tensor>(this)) n.grad = null;
  }

  /**
   * Replaces this tensor's values (an optimizer step): same shape required, converted to this dtype. Graphs
   * built earlier from this tensor see the new values from then on. Storage another tensor updates in place
   * ({@link update}) is copied, so neither sees the other's later steps (PyTorch's `load_state_dict` copies too).
   */
  assign(values: Tensor): this {
    if (!sameShape(values.shape, this.shape)) {
      throw new ShapeError(`assign: shape ${formatShape(values.shape)} differs from ${formatShape(this.shape)}`);
    }
    recording.current?.tensor(this);
    this.setValue(values.dtype === this.dtype && !ownedStorage.has(values.value.data) ? values.value : copied(values.value, this.dtype));
    return this;
  }

  /**
   * Writes an elementwise expression of this tensor and `others` into this tensor's own storage, in place, as
   * one fused kernel (the optimizers' update: `p.update((o, [p, g, lr]) => o.sub(p, o.mul(g, lr)), g, lr)`).
   * The expression is written against the op algebra; its result must have this tensor's shape (inputs
   * broadcast to it) and is stored in this tensor's dtype. The first update gives the tensor storage of its own
   * (one copy), so an array it shares (`fromTypedArray`, a view, another tensor) is never written. Graphs built
   * earlier from this tensor see the new values from then on, as in PyTorch. Records no graph.
   */
  update(expr: FusedExpr, ...others: TensorLike[]): this {
    const xs = [this, ...others.map(Tensor.from)];
    const shape = xs.length === 1 ? this.shape : broadcastShapes(xs.map((x) => x.shape), "update");
    if (!sameShape(shape, this.shape)) {
      throw new ShapeError(`update: the inputs broadcast to ${formatShape(shape)}, not to the tensor's shape ${formatShape(this.shape)}`);
    }
    recording.current?.tensor(this);
    runFused(expr, xs.map((x) => x.value), ownedValue(this));
    return this;
  }

  /** The one place a tensor's array is replaced (`value` is readonly to everyone else). */
  private setValue(value: NDArray): void {
    (this as { value: NDArray }).value = value;
  }

  // --- reading values -------------------------------------------------------------------------------------

  /** The one value of a single-element tensor. */
  item(): number {
    recording.current?.read(this.value, "item()");
    if (this.size !== 1) throw new ShapeError(`item: the tensor has shape ${formatShape(this.shape)}, not a single element`);
    return this.value.data[this.value.offset]!;
  }

  /**
   * The elements in row-major order as a Float32Array or Float64Array. Like PyTorch's `.numpy()` this is the
   * tensor's storage itself when the tensor holds exactly its elements (no copy: writes into it change the tensor;
   * `.slice()` the result for a copy of your own), else a fresh copy.
   */
  toArray(): TypedArray {
    const v = this.value;
    recording.current?.read(v, "toArray()");
    return v.contiguous && v.offset === 0 && v.data.length === v.size && !v.weak ? v.data : toTypedArray(v);
  }

  /**
   * The elements as nested arrays (a number for a 0-d tensor).
   *
   * @example
   * eye(2).toNested(); // [[1, 0], [0, 1]]
   */
  toNested(): NestedArray {
    recording.current?.read(this.value, "toNested()");
    return toNested(this.value) as NestedArray;
  }

  /**
   * `tensor([[1, 2], [3, 4]], dtype=float64, requiresGrad=true)`: float32 elements with float32 digits (the shortest
   * decimal that reads back to the same float32, `0.1` not `0.10000000149011612`), float64 ones with float64's;
   * over 1,000 elements, each axis's first and last 3 entries around `...`, as PyTorch prints. `console.log(t)`
   * in Node prints this too.
   */
  toString(): string { return tensorString(this.toNested(), this.dtype, this.size, this.requiresGrad); }

  /** What Node's `console.log` and `util.inspect` show: {@link toString} (not the engine's fields). */
  [Symbol.for("nodejs.util.inspect.custom")](): string { return this.toString(); }
}

/** A nested array of numbers (or a number, for a 0-d tensor). */
export type NestedArray = number | NestedArray[];

/** Indices for gather/scatterAdd as plain data: nested arrays of integers. */
export type IndexLike = NestedArray | Int32Array;

function un(name: ElementwiseName, a: Tensor): Tensor {
  return Tensor.apply(elementwiseOps[name], [a]);
}

function bin(name: ElementwiseName, a: TensorLike, b: TensorLike): Tensor {
  return Tensor.apply(elementwiseOps[name], [Tensor.from(a), Tensor.from(b)]);
}

/** Adds a new gradient into an accumulated one (as a graph when building a differentiable backward). */
function accumulate(prev: Tensor, next: Tensor, graph: boolean): Tensor {
  return graph ? prev.add(next) : noGrad(() => prev.add(next));
}

// ---------------------------------------------------------------------------------------------------------
// The graph algebra
// ---------------------------------------------------------------------------------------------------------

/**
 * The op table's algebra over graph tensors: every method records a node (when grad mode is on). Rules run on
 * it build differentiable graphs: the backward pass with `createGraph`, composites, forward-over-reverse.
 */
export const graphAlgebra: TensorAlgebra<Tensor> = tensorAlgebraOf<Tensor>({
  apply: (op, xs, params) => Tensor.apply(op, xs, params),
  lift: (c) => Tensor.from(c),
  shape: (x) => x.shape,
  dtype: (x) => x.dtype,
  detach: (x) => x.detach(),
  hasNaN: (x) => hasNaN(x.value),
  caps: { graph: true },
});

// ---------------------------------------------------------------------------------------------------------
// Free functions (the names a user of NumPy/PyTorch looks for)
// ---------------------------------------------------------------------------------------------------------

/**
 * Joins tensors along an existing axis.
 *
 * @example
 * concat([ones([1, 2]), zeros([2, 2])]).shape; // [3, 2]
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError("concat: needs at least one tensor");
  const a = normalizeAxis(axis, xs[0]!.ndim, "concat", xs[0]!.shape);
  return Tensor.apply(tensorOps.concat, xs, { axis: a });
}

/** Joins tensors of one shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  return composite.stack(graphAlgebra, xs, axis);
}

/**
 * `a` where `cond` ≠ 0, else `b`, with broadcasting. No gradient flows into `cond`.
 *
 * @example
 * where(tensor([1, 0]), tensor([1, 2]), -1).toNested(); // [1, -1]
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  return Tensor.apply(tensorOps.where, [Tensor.from(cond), Tensor.from(a), Tensor.from(b)]);
}
