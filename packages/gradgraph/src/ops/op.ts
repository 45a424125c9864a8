/**
 * The shape of an op-table entry. Every primitive is declared once (see ./elementwise.ts) with its reference
 * forward function, its local derivatives, its vjp and jvp rules and how it prints. Engines, forward mode,
 * the expression language and every renderer read these entries; none of them switches over op names.
 */
import { numberFunction, type Lowering } from "./alu.js";
import { batchBroadcast } from "./batch.js";
import { broadcastShapes, type Shape } from "./shape.js";

/** An argument to an algebra method: a value of the algebra, or a plain number (lifted as a constant). */
export type Arg<T> = T | number;

/**
 * A rule is written once against this interface and runs on many algebras: numbers (the scalar engine),
 * graph nodes (higher-order gradients), tensors, and symbolic strings (the lecture-style code printer).
 * There is one method per elementwise op of the table; `ElementwiseName` makes `tsc` reject a missing one.
 */
export type Algebra<T> = { readonly [K in ElementwiseName]: (...xs: Arg<T>[]) => T } & {
  /** A constant of the algebra. */
  lift(c: number): T;
  /**
   * A local derivative `p` times a tangent `t` in forward mode: `p · t`, but 0 wherever `t` is 0. The derivative
   * is a linear map, and a linear map sends 0 to 0 even where its coefficient is infinite (√x at 0). Without
   * this, forward mode on an array puts NaN in every element whose tangent is 0 (the seed's zeros), where
   * reverse mode seeded with ones gives the derivative: the modes would disagree. See ARCHITECTURE.md on why
   * reverse mode multiplies plainly.
   */
  scale(p: Arg<T>, t: T): T;
  /** What this algebra can do beyond the ops (engines ask for a capability, never compare algebras). */
  readonly caps?: AlgebraCaps<T>;
};

/** An expression written against the op algebra, with its inputs: what a fusing algebra runs as one kernel. */
export type FusedExpr = <E>(o: Algebra<E>, xs: readonly E[]) => E;

/** Capabilities of an algebra. */
export interface AlgebraCaps<T> {
  /** Values are arrays computed at once, recording nothing (the tensor engine's raw arrays). */
  readonly raw?: boolean;
  /** Values are graph nodes: what a rule builds on them is differentiable (the tensor engine's graph tensors). */
  readonly graph?: boolean;
  /** Runs an elementwise expression of values (and numbers) as one fused kernel. */
  readonly fuse?: (expr: FusedExpr, xs: readonly Arg<T>[]) => T;
  /** Whether a value holds a NaN: a fused jvp that made one (∞·0) is redone through `scale`. */
  readonly hasNaN?: (x: T) => boolean;
}

/** Names of the elementwise (scalar) primitives. Adding an op starts here; tsc then demands the rest. */
export type ElementwiseName =
  | "add" | "sub" | "mul" | "div" | "neg" | "pow"
  | "exp" | "log" | "sqrt" | "abs" | "relu" | "sigmoid" | "tanh" | "sin" | "cos"
  | "max" | "min"
  | "gt" | "eq" | "sign"
  | "lt" | "le" | "ge" | "ne" | "log1p" | "expm1" | "square";

/** Operator-binding strength, shared by the expression language and every printer (Python's order). */
export const PREC = {
  compare: 5,
  add: 10,
  mul: 20,
  unary: 30,
  pow: 40,
  atom: 100,
} as const;

/** The code targets a printer writes: the board (expression language), Python, TypeScript. */
export type Target = "board" | "py" | "ts";

/** How an op prints. */
export type PrintSpec =
  /** `a + b`; `symbol` per target (pow is `^` on the board and `**` in code). */
  | { kind: "infix"; symbol: Record<Target, string>; prec: number; assoc: "left" | "right" }
  /** `-a`. */
  | { kind: "prefix"; symbol: string; prec: number }
  /** `exp(a)`; `name` per target, `define` is a helper a generated program must declare first. */
  | {
      kind: "call";
      name: Record<Target, string>;
      define?: Partial<Record<"py" | "ts", string>>;
      /** On NumPy arrays (vectorised Python): the function, and a helper to declare first when NumPy has none. */
      numpy?: { name: string; define?: string };
    }
  /** `(a > b)`, which counts as 1 or 0 in arithmetic; always printed parenthesised. */
  | { kind: "compare"; symbol: Record<Target, string> };

/** The local derivative ∂y/∂x_i, written against an algebra; `y` is the op's output. */
export type PartialRule = <T>(o: Algebra<T>, xs: readonly T[], y: T) => Arg<T>;

/** Reverse rule: cotangents of the inputs from the cotangent `g` of the output (null where not `needs[i]`). */
export type Vjp = <T>(o: Algebra<T>, g: T, xs: readonly T[], y: T, needs: readonly boolean[]) => (T | null)[];

/** Forward rule: the output tangent from the input tangents (null for an input with no tangent). */
export type Jvp = <T>(o: Algebra<T>, dxs: readonly (T | null)[], xs: readonly T[], y: T) => T | null;

/** One entry of the op table for an elementwise primitive. */
export interface ElementwiseOp {
  readonly name: ElementwiseName;
  readonly kind: "elementwise";
  readonly arity: 1 | 2;
  /** One-line description, with the math. */
  readonly doc: string;
  /** The forward function, written once against the ALU: backends print their kernels from it. */
  readonly lower: Lowering;
  /** The forward function on numbers (derived from `lower`). */
  readonly forward: (a: number, b: number) => number;
  /** Shape rule for tensors: NumPy broadcasting of the inputs' shapes. */
  readonly shape: (shapes: readonly Shape[]) => Shape;
  /** Local derivatives, one per input. Zero for ops that are not differentiable (comparisons). */
  readonly partials: readonly PartialRule[];
  /** True for ops whose derivative is zero everywhere it exists (comparisons, sign). */
  readonly nondiff: boolean;
  /** Neutral elements (`x + 0 = x`, `1·x = x`), when the op has them; printers use them to simplify. */
  readonly identity?: { readonly left?: number; readonly right?: number };
  readonly vjp: Vjp;
  readonly jvp: Jvp;
  /** Batching rule (vmap): the same op on inputs lined up by their batch axis (derived: ./batch.ts). */
  readonly batch: BatchRule<undefined>;
  readonly print: PrintSpec;
}

/** What an elementwise entry declares; `defineElementwise` derives its vjp and jvp from the partials. */
export interface ElementwiseSpec {
  name: ElementwiseName;
  arity: 1 | 2;
  doc: string;
  /** The forward function against the ALU (./alu.ts): the one definition every backend prints from. */
  lower: Lowering;
  partials: readonly PartialRule[];
  nondiff?: boolean;
  print: PrintSpec;
  /**
   * Neutral elements, for printers that simplify (`1·x` → `x`): `left` where `left op x = x`, `right` where
   * `x op right = x`.
   */
  identity?: { readonly left?: number; readonly right?: number };
}

/**
 * Completes an elementwise entry. For an elementwise op the vjp is `g · ∂y/∂x_i` and the jvp is
 * `Σ_i ∂y/∂x_i · dx_i`, so both come from the one list of partials: the rules cannot disagree with the
 * local derivatives that the path-product algorithm and the code printer show.
 */
export function defineElementwise(spec: ElementwiseSpec): ElementwiseOp {
  if (spec.partials.length !== spec.arity) {
    throw new Error(`op ${spec.name}: ${spec.arity} inputs but ${spec.partials.length} partials`);
  }
  const partials = spec.partials;
  const nondiff = spec.nondiff ?? false;
  // An algebra that fuses runs `∂y/∂xᵢ · g` as one kernel (one pass, no array for the partial).
  const vjp: Vjp = (o, g, xs, y, needs) => {
    const fuse = o.caps?.fuse;
    return partials.map((p, i) => {
      if (!needs[i]) return null;
      if (nondiff) return o.mul(0, g);
      if (fuse !== undefined) return fuse((e, [ge, ye, ...xe]) => e.mul(p(e, xe, ye!), ge!), [g, y, ...xs]);
      return o.mul(p(o, xs, y), g);
    });
  };
  const jvp: Jvp = (o, dxs, xs, y) => {
    const fuse = o.caps?.fuse;
    if (fuse !== undefined && !nondiff) {
      const given = dxs.flatMap((dx, i) => (dx === null || dx === undefined ? [] : [[i, dx] as const]));
      if (given.length === 0) return null;
      const k = xs.length;
      const fused = fuse((e, [ye, ...rest]) => {
        const xe = rest.slice(0, k);
        let acc: (typeof rest)[number] | null = null;
        given.forEach(([i], j) => {
          const term = e.mul(partials[i]!(e, xe, ye!), rest[k + j]!);
          acc = acc === null ? term : e.add(acc, term);
        });
        return acc!;
      }, [y, ...xs, ...given.map(([, dx]) => dx)]);
      // A NaN may be ∞·0 at a zero tangent: redone below through `scale`, which gives 0 there.
      if (o.caps?.hasNaN?.(fused) !== true) return fused;
    }
    let acc: ReturnType<typeof o.lift> | null = null;
    for (let i = 0; i < partials.length; i++) {
      const dx = dxs[i];
      if (dx === null || dx === undefined) continue;
      const term = nondiff ? o.mul(0, dx) : o.scale(partials[i]!(o, xs, y), dx);
      acc = acc === null ? term : o.add(acc, term);
    }
    return acc;
  };
  const shape = (shapes: readonly Shape[]): Shape =>
    shapes.length === 1 ? shapes[0]! : broadcastShapes(shapes, spec.name);
  const batch = batchBroadcast(spec.name);
  return { ...spec, kind: "elementwise", forward: numberFunction(spec.lower, spec.arity), nondiff, shape, vjp, jvp, batch };
}

// ---------------------------------------------------------------------------------------------------------
// Tensor primitives: reductions, data movement, matmul, selection. Their entries live in ./reduce.ts,
// ./movement.ts, ./matmul.ts and ./where.ts; ./index.ts joins them with the elementwise table.
// ---------------------------------------------------------------------------------------------------------

export type { Shape } from "./shape.js";

/** Element types of tensor storage. */
export type DType = "float32" | "float64";

/**
 * Integer indices (for gather/scatterAdd): row-major int32 data and its shape. Plain data, not differentiated.
 * Inside vmap, indices that differ per example are *batched*: `batch` names the vmap (its level) and its batch
 * size, `shape` is one example's, and `data` holds every example's, one after another (the batch axis first).
 */
export interface IndexArray {
  readonly data: Int32Array;
  readonly shape: Shape;
  readonly batch?: { readonly level: number; readonly size: number };
}

/** Parameters of sum/amax/amin: the (normalised, sorted) axes reduced, and whether they stay as size 1. */
export interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** `x[starts[i] : ends[i] : steps[i]]` along every axis (normalised: 0 ≤ start ≤ end ≤ size, step ≥ 1). */
export interface SliceParams {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly steps: readonly number[];
}

/**
 * Places the input into zeros of `shape`: element `i` along each axis goes to `starts + i·steps`.
 * Zero padding is the case `steps = 1`; this is also the transpose of {@link SliceParams slice}.
 */
export interface PadParams {
  readonly shape: Shape;
  readonly starts: readonly number[];
  readonly steps: readonly number[];
}

/** `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `axis` (PyTorch's gather, NumPy's take_along_axis). */
export interface GatherParams {
  readonly axis: number;
  readonly index: IndexArray;
}

/** The transpose of gather: zeros of `shape`, then `out[..., index[..., i, ...], ...] += x[..., i, ...]`. */
export interface ScatterAddParams {
  readonly axis: number;
  readonly index: IndexArray;
  readonly shape: Shape;
}

/** Window geometry, per spatial axis (height, width). */
export interface ConvGeometry {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
}

/** im2col's parameters: the geometry and the value read outside the input (0; −∞ for max pooling). */
export interface Im2colParams extends ConvGeometry {
  readonly padValue: number;
}

/** col2im's parameters: the geometry and the shape [N, C, H, W] of the image it folds into. */
export interface Col2imParams extends ConvGeometry {
  readonly shape: Shape;
}

/** Every tensor primitive: its input count and its parameters. Adding a primitive starts here. */
export interface TensorOpSpecs {
  sum: { inputs: 1; params: ReduceParams };
  amax: { inputs: 1; params: ReduceParams };
  amin: { inputs: 1; params: ReduceParams };
  reshape: { inputs: 1; params: { readonly shape: Shape } };
  permute: { inputs: 1; params: { readonly perm: readonly number[] } };
  broadcastTo: { inputs: 1; params: { readonly shape: Shape } };
  slice: { inputs: 1; params: SliceParams };
  pad: { inputs: 1; params: PadParams };
  concat: { inputs: "variadic"; params: { readonly axis: number } };
  gather: { inputs: 1; params: GatherParams };
  scatterAdd: { inputs: 1; params: ScatterAddParams };
  matmul: { inputs: 2; params: undefined };
  where: { inputs: 3; params: undefined };
  cast: { inputs: 1; params: { readonly dtype: DType } };
  im2col: { inputs: 1; params: Im2colParams };
  col2im: { inputs: 1; params: Col2imParams };
  cumsum: { inputs: 1; params: ScanParams };
  argmax: { inputs: 1; params: AxisParams };
  argmin: { inputs: 1; params: AxisParams };
}

/** cumsum's axis, and whether it runs from the end (the reversed scan is cumsum's transpose). */
export interface ScanParams {
  readonly axis: number;
  readonly reverse: boolean;
}

/** argmax/argmin: one (normalised) axis, and whether it stays as size 1. */
export interface AxisParams {
  readonly axis: number;
  readonly keepdims: boolean;
}

/** Names of the tensor (non-elementwise) primitives. */
export type TensorOpName = keyof TensorOpSpecs;

/** Names of every primitive of the table. */
export type OpName = ElementwiseName | TensorOpName;

/** The parameters an op takes (`undefined` for elementwise ops, matmul and where). */
export type ParamsOf<K extends OpName> = K extends TensorOpName ? TensorOpSpecs[K]["params"] : undefined;

type OpMethod<T, S> = S extends { inputs: "variadic"; params: infer P }
  ? (xs: readonly Arg<T>[], params: P) => T
  : S extends { inputs: 1; params: infer P }
    ? (x: Arg<T>, params: P) => T
    : S extends { inputs: 2 }
      ? (a: Arg<T>, b: Arg<T>) => T
      : S extends { inputs: 3 }
        ? (a: Arg<T>, b: Arg<T>, c: Arg<T>) => T
        : never;

/** One method per tensor primitive, `(inputs..., params)`; tsc rejects an algebra that lacks one. */
export type TensorOpMethods<T> = { readonly [K in TensorOpName]: OpMethod<T, TensorOpSpecs[K]> };

/**
 * The algebra that tensor rules are written against: every elementwise op (with NumPy broadcasting), every
 * tensor primitive, and what a rule needs to know about a value. It has (at least) two implementations: raw
 * arrays (the plain backward pass: no graph) and graph tensors (so a backward pass can itself be
 * differentiated). Forward mode runs the jvp rules on either.
 */
export type TensorAlgebra<T> = Algebra<T> &
  TensorOpMethods<T> & {
    /** The value's shape. */
    shape(x: T): Shape;
    /** The value's element type. */
    dtype(x: T): DType;
    /** The same value with no gradient flowing through it (stop-gradient; the identity on raw arrays). */
    detach(x: T): T;
  };

/** Reverse rule of a tensor op: input cotangents from the output cotangent `g` (null where not `needs[i]`). */
export type TensorVjp<P> = <T>(
  o: TensorAlgebra<T>,
  g: T,
  xs: readonly T[],
  y: T,
  needs: readonly boolean[],
  params: P,
) => (T | null)[];

/** Forward rule of a tensor op: the output tangent from the input tangents (null: no tangent). */
export type TensorJvp<P> = <T>(
  o: TensorAlgebra<T>,
  dxs: readonly (T | null)[],
  xs: readonly T[],
  y: T,
  params: P,
) => T | null;

/**
 * Batching rule (vmap): how the op runs when some inputs carry a batch axis. It gets the inputs as stored — a
 * batched one with its batch axis first, an unbatched one as it is — with which are batched (at least one), and
 * the op's parameters (for the inputs without their batch axis), and returns the output with its batch axis first.
 * Written against the algebra, so the batched computation is itself differentiable.
 */
export type BatchRule<P> = <T>(o: TensorAlgebra<T>, xs: readonly T[], batched: readonly boolean[], params: P) => T;

/** What kind of primitive an entry is (for documentation and renderers; engines never branch on names). */
export type OpKind = "elementwise" | "reduce" | "movement" | "matmul" | "select" | "cast" | "scan" | "index";

/** One entry of the op table for a tensor primitive. */
export interface TensorOp<K extends TensorOpName = TensorOpName> {
  readonly name: K;
  readonly kind: Exclude<OpKind, "elementwise">;
  readonly arity: TensorOpSpecs[K]["inputs"];
  /** One-line description, with the math. */
  readonly doc: string;
  /** Output shape from the input shapes; throws a ShapeError naming the op and the shapes. */
  readonly shape: (shapes: readonly Shape[], params: ParamsOf<K>) => Shape;
  /** Output dtype; by default float64 if any (non-constant) input is float64, else float32. */
  readonly dtype?: (dtypes: readonly DType[], params: ParamsOf<K>) => DType;
  /** Always false for tensor ops (kept for a uniform view with elementwise entries). */
  readonly nondiff: boolean;
  /** Inputs that never receive a gradient (where's condition). */
  readonly nondiffInputs?: readonly number[];
  readonly vjp: TensorVjp<ParamsOf<K>>;
  readonly jvp: TensorJvp<ParamsOf<K>>;
  /** Batching rule for vmap (src/ops/batch.ts has the shared ones); an op without one cannot run under vmap. */
  readonly batch?: BatchRule<ParamsOf<K>>;
  readonly print: PrintSpec;
  /** Extra arguments the op's parameters print as, e.g. `["axis=1", "keepdims=True"]`. */
  readonly printParams?: (params: ParamsOf<K>, target: Target) => string[];
  /**
   * A short postfix form for some parameters, per target, printed after the operand instead of a call: the matrix
   * transpose `Wᵀ` (`W.T` in code). Targets absent from the result print as a call.
   */
  readonly printPostfix?: (params: ParamsOf<K>, inputShapes: readonly Shape[]) => Partial<Record<Target, string>> | undefined;
  /**
   * How the op is called by name in the expression language (under its board name, or its op name when it
   * prints as an operator: `matmul(a, b)`): the keyword arguments and how they become its parameters. An entry
   * without one is not callable by name.
   */
  readonly call?: TensorCall<ParamsOf<K>>;
}

/** What a keyword argument takes on the board: an integer (`axis=1`) or a flag (`keepdims=True`). */
export type KeywordKind = "int" | "bool";

/** The reduction keywords: `axis=` (one axis; all of them when absent) and `keepdims=`. */
export const REDUCE_KEYWORDS: Readonly<Record<string, KeywordKind>> = { axis: "int", keepdims: "bool" };

/** The keyword arguments of a call, by name: a number for an `int` keyword, a boolean for a `bool` one. */
export type CallKeywords = Readonly<Record<string, number | boolean | undefined>>;

/** How a tensor primitive is called by name: its keyword arguments, and its parameters from them. */
export interface TensorCall<P> {
  readonly keywords?: Readonly<Record<string, KeywordKind>>;
  /** The op's parameters from the call's keyword arguments and its inputs' shapes (absent: no parameters). */
  readonly params?: (kw: CallKeywords, shapes: readonly Shape[]) => P;
}

/**
 * A function of tensors callable by name (`sum(x, axis=0)`, `softmax(x, axis=1)`, `matmul(a, b)`): a primitive
 * with a {@link TensorCall}, or a composite (./composite.ts). The expression language reads these from
 * ./functions.ts; it declares none itself.
 */
export interface TensorFunction {
  /** The name written on the board. */
  readonly name: string;
  /** Positional inputs. */
  readonly arity: number;
  /** Their names, for messages (`softmax(x, axis=...)`). */
  readonly params: readonly string[];
  /** The keyword arguments it takes, with their kinds. */
  readonly keywords: Readonly<Record<string, KeywordKind>>;
  readonly doc: string;
  /** Applies it on any tensor algebra (graph tensors in the language). */
  apply<T>(o: TensorAlgebra<T>, xs: readonly T[], kw: CallKeywords): T;
}

/**
 * The uniform view of any entry, elementwise or tensor, that engines use: apply the shape rule, call the
 * vjp/jvp rule with the op's parameters. (Methods, so that entries with specific parameter types fit.)
 */
export interface AnyOp {
  readonly name: OpName;
  readonly kind: OpKind;
  readonly arity: 1 | 2 | 3 | "variadic";
  readonly doc: string;
  readonly nondiff: boolean;
  readonly nondiffInputs?: readonly number[];
  readonly print: PrintSpec;
  /** The output's shape from the inputs' (and the parameters), or a ShapeError. */
  shape(shapes: readonly Shape[], params: unknown): Shape;
  /** The output's dtype, when it is not the inputs' common one. */
  dtype?(dtypes: readonly DType[], params: unknown): DType;
  /** Reverse mode: the gradients of the inputs (null where not needed) from the output's gradient `g`. */
  vjp<T>(o: TensorAlgebra<T>, g: T, xs: readonly T[], y: T, needs: readonly boolean[], params: unknown): (T | null)[];
  /** Forward mode: the output's tangent from the inputs' tangents (null: zero). */
  jvp<T>(o: TensorAlgebra<T>, dxs: readonly (T | null)[], xs: readonly T[], y: T, params: unknown): T | null;
  /** vmap: the op on inputs with a leading batch axis (where `batched` says), as one op. */
  batch?<T>(o: TensorAlgebra<T>, xs: readonly T[], batched: readonly boolean[], params: unknown): T;
  /** Extra arguments the parameters print as, e.g. `["axis=1", "keepdims=True"]`. */
  printParams?(params: unknown, target: Target): string[];
  /** A postfix form per target, printed after the operand instead of a call (the transpose `Wᵀ`), or undefined. */
  printPostfix?(params: unknown, inputShapes: readonly Shape[]): Partial<Record<Target, string>> | undefined;
  readonly call?: TensorCall<unknown>;
}

/**
 * The jvp of an op that is linear in its one input (JAX's `deflinear`): the tangent goes through the op itself,
 * with the same parameters — dy = op(dx). Movement ops, cast and sum declare their forward rule with it.
 */
export function linearJvp<K extends TensorOpName>(name: K): TensorJvp<ParamsOf<K>> {
  return <T>(o: TensorAlgebra<T>, [dx]: readonly (T | null)[], _xs: readonly T[], _y: T, p: ParamsOf<K>) =>
    dx ? (o[name] as unknown as (x: T, params: ParamsOf<K>) => T)(dx, p) : null;
}

/** Declares a tensor-op entry (an identity that checks the entry against its name's parameter type). */
export function defineTensorOp<K extends TensorOpName>(op: TensorOp<K>): TensorOp<K> {
  return op;
}
