/**
 * Custom functions: a user function becomes **one node** of the graph, like a primitive of the op table, whose
 * vjp and jvp are the user's rules. The sweeps treat it as any other node (they call `op.vjp` / `op.jvp`); no
 * engine knows custom functions exist, and nothing switches over names.
 *
 * - The forward function runs without recording a graph (its value is all that is kept), so it may do anything,
 *   even leave the tensor world (`Math.round` over `toArray()`): only the rules say how gradients flow.
 * - Rules are written with tensors. In the plain backward pass (and plain forward mode) they run on tensors that
 *   record nothing; with `createGraph` (gradients of gradients, Hessians, nested transforms) they run on the graph
 *   tensors themselves, so the custom function's higher derivatives are the derivatives of its rules.
 * - Give either rule, or both. A missing one is derived from the other by transposition — both rules are linear in
 *   their gradient/tangent argument, so `J u = ∂<Jᵀ g, u>/∂g` and `Jᵀ g = ∂<g, J u>/∂u` (what JAX does to
 *   reverse-differentiate a custom_jvp) — which needs that rule to be made of tensor ops on that argument.
 *
 * Limits: one tensor out (several outputs need one custom function each); the rules run on the tensor engine's
 * algebras only (the scalar `Value` engine and the symbolic printers never see custom functions); a rule that
 * leaves the tensor world (`toArray()`) works at first order but cannot be differentiated again or transposed —
 * give the other rule too; the forward function itself is never differentiated.
 */
import { GradgraphError, InputError, ShapeError } from "../core/errors.js";
import { describe, expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import type { AnyOp, DType, OpKind, OpName, TensorAlgebra } from "../ops/op.js";
import { formatShape, sameShape, type Shape } from "../ops/shape.js";
import type { Kernel, OpWithKernel } from "../tensor/backend.js";
import { NDArray } from "../tensor/ndarray.js";
import { batching } from "../tensor/grad-mode.js";
import { enableGrad, engine, graphAlgebra, isGradEnabled, noGrad, Tensor, tensorHooks, type TensorLike } from "../tensor/tensor.js";
import { fitTo } from "../ops/sweep.js";
import { mapTree } from "./tree.js";

/**
 * Reverse rule of a custom function: the cotangent of each input (a tensor of exactly its shape — an input that
 * was broadcast needs its cotangent summed back by the rule; a number, filled to its shape; or null for none) from the output's cotangent
 * `g`, the inputs `xs` and the output `y`. Linear in `g`.
 */
export type VjpRule = (g: Tensor, xs: readonly Tensor[], y: Tensor) => readonly (Tensor | number | null | undefined)[];

/** Forward rule of a custom function: the output's tangent from the inputs' tangents `dxs` (zeros where none). Linear in `dxs`. */
export type JvpRule = (dxs: readonly Tensor[], xs: readonly Tensor[], y: Tensor) => Tensor | number;

/** The rules of a custom function ({@link customFunction}): its name, and its vjp and/or jvp. */
export interface CustomRules {
  /** Name shown in traces, graphs and errors (default: the function's name, or `custom`). */
  name?: string;
  vjp?: VjpRule;
  jvp?: JvpRule;
}

/** A custom function: call it with tensors (numbers are constants); it returns one tensor. */
export type CustomFunction = ((...xs: TensorLike[]) => Tensor) & { readonly op: AnyOp };

/** How a rule written on tensors sees the values of an algebra. */
interface View<T> {
  wrap(v: T): Tensor;
  unwrap(t: Tensor): T;
  run<R>(fn: () => R): R;
  /** Whether the rule runs on graph tensors (its result must stay differentiable). */
  graph: boolean;
}

function viewOf<T>(o: TensorAlgebra<T>, name: string): View<T> {
  if (o.caps?.graph === true) {
    return { wrap: (v) => v as unknown as Tensor, unwrap: (t) => t as unknown as T, run: (fn) => fn(), graph: true };
  }
  if (o.caps?.raw === true) {
    return { wrap: (v) => new Tensor(v as unknown as NDArray), unwrap: (t) => t.value as unknown as T, run: (fn) => noGrad(fn), graph: false };
  }
  throw new GradgraphError(
    `${name}: a custom function's rules are written on tensors: they run on the tensor engine's algebras (raw arrays, graph tensors), not on this one`,
  );
}

/** Zeros of a shape and dtype that require grad: the variable of a transposition. */
function dummy(shape: Shape, dtype: DType): Tensor {
  return new Tensor(zerosOf(shape, dtype), { requiresGrad: true });
}

function zerosOf(shape: Shape, dtype: DType): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return new NDArray(dtype === "float64" ? new Float64Array(n) : new Float32Array(n), [...shape]);
}

/**
 * A rule's result as a tensor of `shape` and `dtype`, or null: a number fills the shape; a tensor must have exactly
 * that shape (a rule that broadcast or reduced by mistake would otherwise be silently summed or spread).
 * `what` names the result, `whose` the primal it belongs to (`input 0`, `the output`), for errors.
 */
function fitted(v: Tensor | number | null | undefined, shape: Shape, dtype: DType, what: () => string, whose: () => string): Tensor | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return fitTo(graphAlgebra, Tensor.from(v), shape, dtype);
  if (!(v instanceof Tensor)) throw new GradgraphError(`${what()}: expected a tensor, a number or null, got ${typeof v}`);
  if (!sameShape(v.shape, shape)) {
    throw new ShapeError(
      `${what()} has shape ${formatShape(v.shape)}, but ${whose()} has shape ${formatShape(shape)}: ` +
        "a rule must give a tensor of exactly that shape (or a number, which fills it)",
    );
  }
  return fitTo(graphAlgebra, v, shape, dtype);
}

/** Jᵀ g from a jvp rule: the gradient of <g, jvp(u)> with respect to u (the rule is linear in u). */
function vjpFromJvp(jvp: JvpRule, g: Tensor, xs: readonly Tensor[], y: Tensor, graph: boolean, name: string): (Tensor | null)[] {
  const us = xs.map((x) => dummy(x.shape, x.dtype));
  const t = enableGrad(() => fitted(jvp(us, xs, y), y.shape, y.dtype, () => `${name}: the jvp rule's result`, () => "the output"));
  if (t === null || !t.requiresGrad) return xs.map(() => null);
  return engine.gradients([t], us, [g.cast(y.dtype)], { createGraph: graph && isGradEnabled() });
}

/** J u from a vjp rule: the gradient of Σᵢ <vjp(ḡ)ᵢ, uᵢ> with respect to ḡ (the rule is linear in ḡ). */
function jvpFromVjp(vjp: VjpRule, dxs: readonly Tensor[], needs: readonly boolean[], xs: readonly Tensor[], y: Tensor, graph: boolean, name: string): Tensor | null {
  const gbar = dummy(y.shape, y.dtype);
  const s = enableGrad(() => {
    const shares = vjp(gbar, xs, y);
    let acc: Tensor | null = null;
    xs.forEach((x, i) => {
      if (!needs[i]) return;
      const share = fitted(shares[i], x.shape, x.dtype, () => `${name}: the vjp rule's cotangent of input ${i}`, () => `input ${i}`);
      if (share === null) return;
      const term = share.mul(dxs[i]!).sum();
      acc = acc === null ? term : acc.add(term);
    });
    return acc as Tensor | null;
  });
  if (s === null || !s.requiresGrad) return null;
  return engine.gradients([s], [gbar], undefined, { createGraph: graph && isGradEnabled() })[0]!;
}

/** Builds the node type (op) of a custom function: its kernel runs `f`, its rules are the user's. */
function customOp(name: string, f: (...xs: Tensor[]) => Tensor | number, rules: CustomRules): OpWithKernel {
  const run = (xs: readonly NDArray[]): NDArray => {
    const y = noGrad(() => f(...xs.map((x) => new Tensor(x))));
    const t = typeof y === "number" ? Tensor.from(y) : y;
    if (!(t instanceof Tensor)) throw new GradgraphError(`${name}: the function must return a tensor (or a number), got ${typeof y}`);
    return t.value;
  };
  const shapes = new Map<string, Shape>();
  const kernel: Kernel<unknown> = (xs) => run(xs);
  const op = {
    name: name as OpName,
    kind: "custom" as unknown as OpKind,
    arity: "variadic" as const,
    doc: `custom function ${name}: its derivatives are the user's rules (${[rules.vjp ? "vjp" : "", rules.jvp ? "jvp" : ""].filter(Boolean).join(" and ")})`,
    nondiff: false,
    print: { kind: "call" as const, name: { board: name, py: name, ts: name } },
    kernel,
    // The output shape is whatever `f` returns: found by running it on zeros (only `applyRaw` asks).
    shape(inShapes: readonly Shape[]): Shape {
      const key = JSON.stringify(inShapes);
      let s = shapes.get(key);
      if (s === undefined) shapes.set(key, (s = run(inShapes.map((sh) => zerosOf(sh, "float64"))).shape));
      return s;
    },
    vjp<T>(o: TensorAlgebra<T>, g: T, xs: readonly T[], y: T, needs: readonly boolean[]): (T | null)[] {
      const v = viewOf(o, name);
      return v.run(() => {
        const tx = xs.map((x) => v.wrap(x)), tg = v.wrap(g), ty = v.wrap(y);
        const shares = rules.vjp ? rules.vjp(tg, tx, ty) : vjpFromJvp(rules.jvp!, tg, tx, ty, v.graph, name);
        if (!Array.isArray(shares) || shares.length !== xs.length) {
          throw new GradgraphError(`${name}: the vjp rule must return one cotangent per input (${xs.length}), got ${Array.isArray(shares) ? shares.length : typeof shares}`);
        }
        return tx.map((x, i) => {
          if (!needs[i]) return null;
          const share = fitted(shares[i], x.shape, x.dtype, () => `${name}: the vjp rule's cotangent of input ${i}`, () => `input ${i}`);
          return share === null ? null : v.unwrap(share);
        });
      });
    },
    jvp<T>(o: TensorAlgebra<T>, dxs: readonly (T | null)[], xs: readonly T[], y: T): T | null {
      const v = viewOf(o, name);
      return v.run(() => {
        const tx = xs.map((x) => v.wrap(x)), ty = v.wrap(y);
        const tdx = dxs.map((d, i) => (d === null || d === undefined ? new Tensor(zerosOf(tx[i]!.shape, tx[i]!.dtype)) : v.wrap(d)));
        const t = rules.jvp
          ? fitted(rules.jvp(tdx, tx, ty), ty.shape, ty.dtype, () => `${name}: the jvp rule's result`, () => "the output")
          : jvpFromVjp(rules.vjp!, tdx, dxs.map((d) => d !== null && d !== undefined), tx, ty, v.graph, name);
        return t === null ? null : v.unwrap(t);
      });
    },
  };
  return op as unknown as OpWithKernel;
}

const RULE_KEYS = optionKeys<CustomRules>({ name: true, vjp: true, jvp: true });

/** What customFunction, customVjp and customJvp check when called: a function, and rules that are functions, at least one. */
function checkCustom(who: string, f: unknown, rules: CustomRules): void {
  expectFunction(f, who);
  if (typeof rules !== "object" || rules === null) throw new InputError(`${who}: rules must be an object { name?, vjp?, jvp? }, got ${describe(rules)}`);
  expectOptions(who, rules, RULE_KEYS, "rules");
  if (rules.vjp === undefined && rules.jvp === undefined) throw new InputError(`${who}: give a vjp rule, a jvp rule, or both`);
  if (rules.vjp !== undefined) expectFunction(rules.vjp, who, "vjp");
  if (rules.jvp !== undefined) expectFunction(rules.jvp, who, "jvp");
}

/**
 * A function with derivatives given by rules instead of by differentiating its body: calling it records one node
 * whose vjp/jvp are `rules.vjp`/`rules.jvp` (either may be left out: it is derived from the other by
 * transposition). Works with `backward()`, every functional transform, both modes and higher orders; its
 * higher derivatives are those of the rules.
 *
 * @example
 * // softplus, stable at x = ±1000, with the gradient sigmoid(x) (the naive log(1 + exp(x)) gives NaN there)
 * const softplus = customFunction(
 *   (x) => x.relu().add(x.abs().neg().exp().add(1).log()),
 *   { name: "softplus", vjp: (g, [x]) => [g.mul(x!.sigmoid())] },
 * );
 * grad((x: Tensor) => softplus(x).sum())(tensor([1000], { dtype: "float64" })).toNested(); // [1]
 */
export function customFunction(f: (...xs: Tensor[]) => Tensor | number, rules: CustomRules): CustomFunction {
  checkCustom("customFunction", f, rules);
  const name = rules.name ?? (f.name || "custom");
  const op = customOp(name, f, rules);
  const call = (...args: TensorLike[]): Tensor => {
    const xs = args.map((a) => Tensor.from(a));
    // Inside vmap a batched input goes through the batching rules (a custom function has none: an error naming it).
    const batched = batching.apply?.(op, xs, undefined);
    if (batched !== undefined && batched !== null) return batched;
    const value = op.kernel(
      xs.map((x) => x.value),
      undefined,
      [],
      "float64",
    );
    const out = Tensor.node(value, op, xs);
    if (tensorHooks.afterApply !== null) tensorHooks.afterApply(op, xs, out);
    return out;
  };
  return Object.assign(call, { op: op as AnyOp });
}

/**
 * `f` with the reverse rule `vjp` (JAX's custom_vjp, PyTorch's autograd.Function). Forward mode uses `options.jvp`
 * if given, else the transpose of `vjp`.
 *
 * @example
 * // a straight-through estimator: round on the way forward, the identity on the way back
 * const roundSte = customVjp((x) => fromTypedArray(x.toArray().map(Math.round), x.shape), (g) => [g], { name: "round_ste" });
 */
export function customVjp(f: (...xs: Tensor[]) => Tensor | number, vjp: VjpRule, options: { name?: string; jvp?: JvpRule } = {}): CustomFunction {
  expectOptions("customVjp", options, optionKeys<Omit<CustomRules, "vjp">>({ name: true, jvp: true }));
  checkCustom("customVjp", f, { ...options, vjp });
  return customFunction(f, { ...options, vjp });
}

/**
 * `f` with the forward rule `jvp` (JAX's custom_jvp). Reverse mode uses `options.vjp` if given, else the
 * transpose of `jvp`.
 */
export function customJvp(f: (...xs: Tensor[]) => Tensor | number, jvp: JvpRule, options: { name?: string; vjp?: VjpRule } = {}): CustomFunction {
  expectOptions("customJvp", options, optionKeys<Omit<CustomRules, "jvp">>({ name: true, vjp: true }));
  checkCustom("customJvp", f, { ...options, jvp });
  return customFunction(f, { ...options, jvp });
}

/**
 * The identity op of the functional transforms: the input node made for a tensor that is already being
 * differentiated by an outer transform (or requires grad), so that the inner transform differentiates with
 * respect to its own input while the outer one still sees the connection. vjp: g; jvp: dx.
 */
export const identityOp: OpWithKernel = {
  name: "input" as OpName,
  kind: "movement",
  arity: 1,
  doc: "identity: y = x (the input node of a functional transform)",
  nondiff: false,
  print: { kind: "call", name: { board: "input", py: "input", ts: "input" } },
  kernel: (xs) => xs[0]!,
  shape: (shapes) => shapes[0]!,
  // d(x) = dx
  vjp: (_o, g) => [g],
  jvp: (_o, dxs) => dxs[0] ?? null,
  batch: (_o, [x]) => x!,
};

/** Whether a node is a transform's identity input node. */
export function isIdentityNode(t: Tensor): boolean {
  return t.op === identityOp;
}

/**
 * `x` with no derivative flowing through it, in either mode and at every order (JAX's stop_gradient; a tree of
 * tensors is mapped leaf by leaf). The value is unchanged.
 *
 * @example
 * grad((x: Tensor) => stopGradient(x).mul(x).sum())(tensor([3])).toNested(); // [3], not [6]
 */
export function stopGradient<T>(x: T): T {
  return x instanceof Tensor ? (x.detach() as T) : mapTree(x, (leaf) => leaf.detach());
}
