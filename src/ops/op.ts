/**
 * The shape of an op-table entry. Every primitive is declared once (see ./elementwise.ts) with its reference
 * forward function, its local derivatives, its vjp and jvp rules and how it prints. Engines, forward mode,
 * the expression language and every renderer read these entries; none of them switches over op names.
 */

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
};

/** Names of the elementwise (scalar) primitives. Adding an op starts here; tsc then demands the rest. */
export type ElementwiseName =
  | "add" | "sub" | "mul" | "div" | "neg" | "pow"
  | "exp" | "log" | "sqrt" | "abs" | "relu" | "sigmoid" | "tanh" | "sin" | "cos"
  | "max" | "min"
  | "gt" | "eq" | "sign";

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
  | { kind: "call"; name: Record<Target, string>; define?: Partial<Record<"py" | "ts", string>> }
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
  /** Reference forward function on numbers. */
  readonly forward: (a: number, b: number) => number;
  /** Local derivatives, one per input. Zero for ops that are not differentiable (comparisons). */
  readonly partials: readonly PartialRule[];
  /** True for ops whose derivative is zero everywhere it exists (comparisons, sign). */
  readonly nondiff: boolean;
  readonly vjp: Vjp;
  readonly jvp: Jvp;
  readonly print: PrintSpec;
}

/** What an elementwise entry declares; `defineElementwise` derives its vjp and jvp from the partials. */
export interface ElementwiseSpec {
  name: ElementwiseName;
  arity: 1 | 2;
  doc: string;
  forward: (a: number, b: number) => number;
  partials: readonly PartialRule[];
  nondiff?: boolean;
  print: PrintSpec;
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
  const vjp: Vjp = (o, g, xs, y, needs) =>
    partials.map((p, i) => (needs[i] ? (nondiff ? o.mul(0, g) : o.mul(p(o, xs, y), g)) : null));
  const jvp: Jvp = (o, dxs, xs, y) => {
    let acc: ReturnType<typeof o.lift> | null = null;
    for (let i = 0; i < partials.length; i++) {
      const dx = dxs[i];
      if (dx === null || dx === undefined) continue;
      const term = nondiff ? o.mul(0, dx) : o.mul(partials[i]!(o, xs, y), dx);
      acc = acc === null ? term : o.add(acc, term);
    }
    return acc;
  };
  return { ...spec, kind: "elementwise", nondiff, vjp, jvp };
}
