/**
 * Functional transforms (JAX's `grad`/`vjp`/`jvp`/`jacrev`/`jacfwd`/`hessian`, PyTorch's `torch.func`): functions
 * in, functions out, over tensors and trees of tensors (./tree.ts). They are built on the tensor engine's two
 * sweeps: a transform calls `f` on input nodes of its own, which records the graph, then runs the op table's vjp
 * rules backwards over it (`engine.gradients`, reverse mode) or its jvp rules forwards (`engine.tangents`, forward
 * mode — true forward mode through the rules, never finite differences).
 *
 * **Nesting.** When the graph a transform records reaches tensors that something else is differentiating — an
 * outer transform's inputs, tensors that require grad (a model's parameters) — the transform runs its sweep on
 * graph tensors (`createGraph`), so its results are differentiable functions of those tensors. That is all
 * `grad(grad(f))`, `jacfwd(jacrev(f))` (the Hessian, forward-over-reverse), `jvp(grad(f))` or
 * `grad(x => jvp(f, [x], [u])[1])` need. Otherwise results are plain tensors, no graph kept.
 *
 * **Inputs.** A transform differentiates with respect to input nodes it makes itself: a fresh leaf for a plain
 * tensor, or an identity node on top of a tensor that is already being differentiated. So the caller's tensors
 * need no `requiresGrad`, `.grad` is never touched, and nested transforms never confuse their variables (the
 * inner one differentiates with respect to its own node even when both see the same tensor).
 *
 * **Closures.** Tensors a function closes over are constants for this transform: it never differentiates with
 * respect to them. They stay variables for whoever does — an outer transform whose input they are, or
 * `backward()` when they require grad: the result is connected to them as above.
 *
 * Inside `noGrad` the transforms still work (they record their own graph) but their results are disconnected.
 */
import { InputError } from "../core/errors.js";
import { describe, expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import { topoOrder } from "../core/graph.js";
import { formatShape, type Shape } from "../ops/shape.js";
import { BatchedTensor } from "../tensor/batched.js";
import { transforms } from "../tensor/grad-mode.js";
import { NDArray } from "../tensor/ndarray.js";
import { enableGrad, engine, isGradEnabled, noGrad, stack, Tensor, zeros } from "../tensor/tensor.js";
import { identityOp } from "./custom.js";
import { flattenTree, leafTensor, leavesLike, unflattenTree, type FlatTree, type GradTree, type TangentTree } from "./tree.js";

/** Which arguments to differentiate: one position (the result is that argument's gradient) or several (a tuple). */
export type Argnums = number | readonly number[];

/** Gradients of the arguments `N` of a function with parameters `A`. */
export type GradsOf<A extends readonly unknown[], N> = N extends number
  ? GradTree<A[N]>
  : N extends readonly number[]
    ? { -readonly [K in keyof N]: GradTree<A[N[K] & number]> }
    : never;

/** A Jacobian: the output's structure, with each tensor replaced by `G` (the inputs' structure, blocks of shape [...out, ...in]). */
export type JacobianOf<R, G> = R extends Tensor
  ? G
  : R extends readonly unknown[]
    ? { -readonly [K in keyof R]: JacobianOf<R[K], G> }
    : R extends object
      ? { -readonly [K in keyof R]: JacobianOf<R[K], G> }
      : null;

/** Tangents for every argument of a function with parameters `A`. */
export type TangentsOf<A extends readonly unknown[]> = { readonly [K in keyof A]: TangentTree<A[K]> };

/** Options of the functional transforms ({@link grad}, {@link vjp}, {@link jacrev}, …): which arguments to differentiate. */
export interface TransformOptions<N extends Argnums = Argnums> {
  /** Which arguments to differentiate (default 0). A list gives a tuple of results, one per listed argument. */
  argnums?: N;
}

/** The keys {@link TransformOptions} and, for grad and valueAndGrad, `hasAux`. */
const TRANSFORM_KEYS = optionKeys<TransformOptions>({ argnums: true });
const GRAD_KEYS = optionKeys<TransformOptions & { hasAux?: boolean }>({ argnums: true, hasAux: true });

// ---------------------------------------------------------------------------------------------------------
// Tracing: calling f on input nodes
// ---------------------------------------------------------------------------------------------------------

/** The input node a transform makes for a tensor it differentiates (see the module comment). */
function inputNode(x: Tensor): Tensor {
  const connect = isGradEnabled() && x.requiresGrad;
  const options = { requiresGrad: true, label: x.label };
  // Inside vmap: an input node of the example's graph, over the same batch.
  if (x instanceof BatchedTensor) return new BatchedTensor(x.inner, x.level, options, connect ? identityOp : null, connect ? [x] : []);
  if (connect) return new Tensor(x.value, options, identityOp, [x]);
  return new Tensor(x.value, options);
}

interface Traced {
  /** What f returned. */
  out: unknown;
  /** The input nodes, flat: the leaves of every differentiated argument, in argnums order. */
  inputs: Tensor[];
  /** Each differentiated argument, flattened. */
  flats: FlatTree[];
  argnums: number[];
  /** Whether `argnums` was a single position. */
  single: boolean;
}

function normalizeArgnums(argnums: Argnums, count: number, fname: string): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a)) throw new InputError(`${fname}: argnums must be whole numbers (argument positions), got ${String(a)}`);
    if (a < 0 || a >= count) {
      throw new InputError(`${fname}: argnums ${a} is out of range: the function was called with ${count} argument${count === 1 ? "" : "s"}`);
    }
  }
  if (new Set(list).size !== list.length) throw new InputError(`${fname}: argnums lists an argument twice: ${list.join(", ")}`);
  return list;
}

/** Calls `f` with the tensors of the arguments `argnums` replaced by input nodes, recording the graph. */
function traceCall(f: (...args: never[]) => unknown, args: readonly unknown[], argnums: Argnums, fname: string): Traced {
  const nums = normalizeArgnums(argnums, args.length, fname);
  for (const a of nums) {
    if (typeof args[a] === "number") throw new InputError(`${fname}: argument ${a} is a number; pass a tensor (e.g. tensor(${String(args[a])}))`);
  }
  const flats = nums.map((a) => flattenTree(args[a], `${fname}: argument ${a}`));
  const inputs: Tensor[] = [];
  const called = args.slice();
  nums.forEach((a, k) => {
    const nodes = flats[k]!.leaves.map(inputNode);
    inputs.push(...nodes);
    called[a] = unflattenTree(flats[k]!.spec, nodes);
  });
  transforms.depth++;
  let out: unknown;
  try {
    out = enableGrad(() => (f as (...a: unknown[]) => unknown)(...called));
  } finally {
    transforms.depth--;
  }
  return { out, inputs, flats, argnums: nums, single: typeof argnums === "number" };
}

/**
 * Whether results must stay differentiable: grad mode is on and the graph reaches a tensor that requires grad
 * other than the transform's own inputs (an outer transform's variable, a parameter), or an extra tensor
 * (a seed, a tangent) requires grad.
 */
function connected(roots: readonly Tensor[], own: readonly Tensor[], extra: readonly (Tensor | null)[] = []): boolean {
  if (!isGradEnabled()) return false;
  if (extra.some((t) => t !== null && t.requiresGrad)) return true;
  const mine = new Set(own);
  for (const n of topoOrder<Tensor>(roots)) {
    if (n.op === null && n.requiresGrad && !mine.has(n)) return true;
    // A batch that an outer transform differentiates through (grad over vmap).
    if (n.op === null && n instanceof BatchedTensor && n.inner.requiresGrad) return true;
  }
  return false;
}

/** A result handed back: kept as a graph tensor when connected, else a plain tensor. */
function release(x: Tensor, keep: boolean): Tensor {
  return keep || !x.requiresGrad ? x : x.detach();
}

function releaseTree(tree: unknown, keep: boolean): unknown {
  if (keep) return tree;
  const flat = flattenTree(tree, "result");
  return unflattenTree(flat.spec, flat.leaves.map((x) => release(x, false)));
}

/** Splits a flat list aligned with `traced.inputs` into the per-argument gradient trees. */
function perArgument(traced: Traced, flat: readonly Tensor[]): unknown {
  let k = 0;
  const trees = traced.flats.map((fl) => {
    const part = flat.slice(k, k + fl.leaves.length);
    k += fl.leaves.length;
    return unflattenTree(fl.spec, part, () => null);
  });
  return traced.single ? trees[0] : trees;
}

function outputsOf(traced: Traced, fname: string): FlatTree {
  return flattenTree(traced.out, `${fname}: the function's result`);
}

/** A tensor of `shape` that is 1 at flat position `k` and 0 elsewhere. */
function oneHot(shape: Shape, k: number, dtype: Tensor["dtype"]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  data[k] = 1;
  return new Tensor(new NDArray(data, [...shape]));
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode
// ---------------------------------------------------------------------------------------------------------

/** The gradients of `y` (seeded with `seed`) with respect to the traced inputs. */
function gradientsOf(traced: Traced, ys: readonly Tensor[], seeds: readonly Tensor[]): { grads: Tensor[]; keep: boolean } {
  const keep = connected(ys, traced.inputs, seeds);
  const grads = ys.length === 0 ? traced.inputs.map((x) => zeros(x.shape, { dtype: x.dtype })) : engine.gradients(ys, traced.inputs, seeds, { createGraph: keep });
  return { grads, keep };
}

function scalarOutput(out: unknown, fname: string): Tensor {
  if (!(out instanceof Tensor)) {
    throw new InputError(`${fname}: the function must return a tensor of one element, got ${out === null ? "null" : Array.isArray(out) ? "an array" : typeof out}`);
  }
  if (out.size !== 1) {
    throw new InputError(
      `${fname}: the function must return a single value (a tensor of one element) to take its gradient; it returned shape ${formatShape(out.shape)} ` +
        "(sum it, or use vjp or jacrev)",
    );
  }
  return out;
}

/**
 * `f` ↦ a function returning `[f(...args), ∂f/∂args[argnums]]` in one backward pass. `f` returns a tensor of one
 * element (with `hasAux`, a pair `[that tensor, anything]`, and the value is the pair).
 *
 * @example
 * const [loss, g] = valueAndGrad((w: Tensor) => w.mul(w).sum())(tensor([1, 2]));
 * loss.item(); // 5
 * g.toNested(); // [2, 4]
 */
export function valueAndGrad<A extends unknown[], R, const N extends Argnums = 0>(
  f: (...args: A) => R,
  options: TransformOptions<N> & { hasAux?: boolean } = {},
): (...args: A) => [R, GradsOf<A, N>] {
  return valueAndGradNamed(f, options, "valueAndGrad");
}

/** {@link valueAndGrad}, naming itself `name` in errors (`grad` is built on it). */
function valueAndGradNamed<A extends unknown[], R, N extends Argnums>(
  f: (...args: A) => R,
  options: TransformOptions<N> & { hasAux?: boolean },
  name: string,
): (...args: A) => [R, GradsOf<A, N>] {
  expectFunction(f, name);
  expectOptions(name, options, GRAD_KEYS);
  const fname = options.hasAux ? `${name} (hasAux)` : name;
  return (...args: A) => {
    const traced = traceCall(f as (...a: never[]) => unknown, args, options.argnums ?? 0, fname);
    let y: Tensor;
    if (options.hasAux) {
      const out = traced.out;
      if (!Array.isArray(out) || out.length !== 2) throw new InputError(`${fname}: with hasAux the function must return a pair [value, aux]`);
      y = scalarOutput(out[0], fname);
    } else y = scalarOutput(traced.out, fname);
    const { grads, keep } = gradientsOf(traced, [y], [oneHot(y.shape, 0, y.dtype)]);
    const value = options.hasAux ? [release(y, keep), (traced.out as unknown[])[1]] : release(y, keep);
    return [value as R, perArgument(traced, grads) as GradsOf<A, N>];
  };
}

/**
 * `f` ↦ its gradient function, `∂f/∂args[argnums]` (default: the first argument), with the structure of that
 * argument (a tree of tensors gives a tree of gradients). `f` returns a tensor of one element. With
 * `hasAux: true`, `f` returns `[value, aux]` and the result is `[gradient, aux]`.
 *
 * @example
 * const f = (x: Tensor) => x.sin().sum();
 * grad(f)(tensor([0]));             // cos(0) = [1]
 * grad(grad(f))(tensor([0]));       // -sin(0) = [0]   (any order: grad(grad(grad(f))), ...)
 * grad((p: { w: Tensor; b: Tensor }) => p.w.mul(p.b).sum())({ w: tensor([2]), b: tensor([3]) }); // { w: [3], b: [2] }
 */
export function grad<A extends unknown[], const N extends Argnums = 0>(f: (...args: A) => Tensor, options?: TransformOptions<N> & { hasAux?: false }): (...args: A) => GradsOf<A, N>;
export function grad<A extends unknown[], X, const N extends Argnums = 0>(
  f: (...args: A) => readonly [Tensor, X],
  options: TransformOptions<N> & { hasAux: true },
): (...args: A) => [GradsOf<A, N>, X];
export function grad(f: (...args: unknown[]) => unknown, options: TransformOptions & { hasAux?: boolean } = {}): (...args: unknown[]) => unknown {
  const vg = valueAndGradNamed(f, options, "grad"); // checks f and the options, naming grad
  return (...args: unknown[]) => {
    const [value, g] = vg(...args);
    return options.hasAux ? [g, (value as unknown[])[1]] : g;
  };
}

/**
 * Reverse mode at a point: `[f(...primals), pullback]`, where `pullback(ct)` gives the cotangent of every argument
 * (a tuple, each with its argument's structure) from a cotangent `ct` of the output (the output's structure; a
 * tensor of each output's shape, a number to fill it, or null for zero). The graph is recorded once; `pullback`
 * can be called any number of times (Jᵀv for many v).
 *
 * @example
 * const [y, pullback] = vjp((a: Tensor, b: Tensor) => a.mul(b), tensor([1, 2]), tensor([3, 4]));
 * pullback(tensor([1, 0])); // [tensor([3, 0]), tensor([1, 0])]
 */
export function vjp<A extends unknown[], R>(
  f: (...args: A) => R,
  ...primals: A
): [R, (ct: TangentTree<R>) => { -readonly [K in keyof A]: GradTree<A[K]> }] {
  expectFunction(f, "vjp");
  const traced = traceCall(f as (...a: never[]) => unknown, primals, primals.map((_, i) => i), "vjp");
  const outs = outputsOf(traced, "vjp");
  const keepOut = connected(outs.leaves, traced.inputs);
  const pullback = (ct: TangentTree<R>) => {
    const cts = leavesLike(outs.spec, ct, "vjp: the cotangent");
    const ys: Tensor[] = [], seeds: Tensor[] = [];
    outs.leaves.forEach((y, i) => {
      const c = leafTensor(cts[i]!, y, "vjp: the cotangent", outs.paths[i]!);
      if (c !== null) ys.push(y), seeds.push(c);
    });
    const { grads } = gradientsOf(traced, ys, seeds);
    return perArgument(traced, grads) as { -readonly [K in keyof A]: GradTree<A[K]> };
  };
  return [releaseTree(traced.out, keepOut) as R, pullback];
}

// ---------------------------------------------------------------------------------------------------------
// Forward mode
// ---------------------------------------------------------------------------------------------------------

/** `primals`/`tangents` of jvp and hvp: an array, one entry per argument of the function. */
function arrayOfInputs(x: unknown, fname: string, what: string): void {
  if (!Array.isArray(x)) throw new InputError(`${fname}: ${what} must be an array of inputs (got ${describe(x)}); one entry per argument of the function, e.g. [x]`);
}

/** Tangents given for every argument, aligned with the traced inputs (null: none). */
function tangentLeaves(traced: Traced, tangents: readonly unknown[], fname: string): (Tensor | null)[] {
  if (!Array.isArray(tangents) || tangents.length !== traced.argnums.length) {
    throw new InputError(`${fname}: give one tangent per argument (${traced.argnums.length}), got ${Array.isArray(tangents) ? tangents.length : describe(tangents)}`);
  }
  const out: (Tensor | null)[] = [];
  traced.flats.forEach((fl, k) => {
    const where = `${fname}: the tangent of argument ${traced.argnums[k]}`;
    const given = leavesLike(fl.spec, tangents[k], where);
    fl.leaves.forEach((x, j) => out.push(leafTensor(given[j]!, x, where, fl.paths[j]!)));
  });
  return out;
}

/** Pushes `tangents` (aligned with the inputs) through the recorded graph: the outputs' tangents. */
function pushForward(traced: Traced, outs: FlatTree, tangents: readonly (Tensor | null)[]): { tys: Tensor[]; keep: boolean } {
  const seeded = traced.inputs.filter((_, i) => tangents[i] !== null);
  const ts = tangents.filter((t): t is Tensor => t !== null);
  const keep = connected(outs.leaves, traced.inputs, ts);
  const tys = engine.tangents(outs.leaves, seeded, ts, { createGraph: keep });
  return { tys, keep };
}

/**
 * Forward mode at a point: `[f(...primals), J·tangents]` — the output and its directional derivative along
 * `tangents` (one per argument, each with its argument's structure), in one forward pass through the op table's
 * jvp rules.
 *
 * @example
 * const [y, dy] = jvp((x: Tensor) => x.mul(x), [tensor([3])], [tensor([1])]);
 * dy.toNested(); // [6]
 */
export function jvp<A extends unknown[], R>(f: (...args: A) => R, primals: A, tangents: TangentsOf<A>): [R, GradTree<R>] {
  expectFunction(f, "jvp");
  arrayOfInputs(primals, "jvp", "primals");
  arrayOfInputs(tangents, "jvp", "tangents");
  const traced = traceCall(f as (...a: never[]) => unknown, primals, primals.map((_, i) => i), "jvp");
  const outs = outputsOf(traced, "jvp");
  const { tys, keep } = pushForward(traced, outs, tangentLeaves(traced, tangents as readonly unknown[], "jvp"));
  return [releaseTree(traced.out, keep) as R, unflattenTree(outs.spec, tys, () => null) as GradTree<R>];
}

/**
 * `[f(...primals), u ↦ J u]`: the graph is recorded once and the returned linear function pushes any tangents
 * through it by forward mode, without evaluating `f` again (JAX's linearize).
 */
export function linearize<A extends unknown[], R>(f: (...args: A) => R, ...primals: A): [R, (...tangents: TangentsOf<A>) => GradTree<R>] {
  expectFunction(f, "linearize");
  const traced = traceCall(f as (...a: never[]) => unknown, primals, primals.map((_, i) => i), "linearize");
  const outs = outputsOf(traced, "linearize");
  const keepOut = connected(outs.leaves, traced.inputs);
  const linear = (...tangents: TangentsOf<A>) => {
    const { tys } = pushForward(traced, outs, tangentLeaves(traced, tangents as readonly unknown[], "linearize"));
    return unflattenTree(outs.spec, tys, () => null) as GradTree<R>;
  };
  return [releaseTree(traced.out, keepOut) as R, linear];
}

// ---------------------------------------------------------------------------------------------------------
// Jacobians and Hessians
// ---------------------------------------------------------------------------------------------------------

/** Blocks [...out, ...in] from pieces: `axis` 0 stacks rows (reverse mode), `out.length` stacks columns (forward). */
function assemble(pieces: readonly Tensor[], outShape: Shape, inShape: Shape, axis: number, dtype: Tensor["dtype"], keep: boolean): Tensor {
  const shape = [...outShape, ...inShape];
  if (pieces.length === 0 || shape.some((d) => d === 0)) return zeros(shape, { dtype });
  const build = () => stack(pieces, axis).reshape(shape);
  return keep ? build() : noGrad(build);
}

function jacobianTree(traced: Traced, outs: FlatTree, blocks: readonly Tensor[][]): unknown {
  return unflattenTree(outs.spec, blocks.map((row) => perArgument(traced, row)), () => null);
}

/**
 * `f` ↦ its Jacobian by reverse mode: one backward pass per output element. For an output of shape S and an input
 * of shape T the block has shape [...S, ...T]; trees of outputs and inputs give trees of blocks (outputs outside,
 * the arguments' structure inside). Cheap when outputs are few and inputs many.
 *
 * @example
 * jacrev((x: Tensor) => x.mul(x))(tensor([1, 2])).toNested(); // [[2, 0], [0, 4]]
 */
export function jacrev<A extends unknown[], R, const N extends Argnums = 0>(f: (...args: A) => R, options: TransformOptions<N> = {}): (...args: A) => JacobianOf<R, GradsOf<A, N>> {
  expectFunction(f, "jacrev");
  expectOptions("jacrev", options, TRANSFORM_KEYS);
  return (...args: A) => {
    const traced = traceCall(f as (...a: never[]) => unknown, args, options.argnums ?? 0, "jacrev");
    const outs = outputsOf(traced, "jacrev");
    const keep = connected(outs.leaves, traced.inputs);
    const blocks = outs.leaves.map((y) => {
      const rows: Tensor[][] = [];
      if (y.requiresGrad) {
        for (let k = 0; k < y.size; k++) {
          rows.push(engine.gradients([y], traced.inputs, [oneHot(y.shape, k, y.dtype)], { createGraph: keep }));
        }
      }
      return traced.inputs.map((x, j) => assemble(rows.map((r) => r[j]!), y.shape, x.shape, 0, x.dtype, keep));
    });
    return jacobianTree(traced, outs, blocks) as JacobianOf<R, GradsOf<A, N>>;
  };
}

/**
 * `f` ↦ its Jacobian by forward mode: one forward pass (through the jvp rules) per input element. Same layout
 * as {@link jacrev}. Cheap when inputs are few and outputs many.
 *
 * @example
 * jacfwd((t: Tensor) => t.mul(tensor([1, 2, 3])).sin())(tensor(0)).toNested(); // [1, 2, 3]
 */
export function jacfwd<A extends unknown[], R, const N extends Argnums = 0>(f: (...args: A) => R, options: TransformOptions<N> = {}): (...args: A) => JacobianOf<R, GradsOf<A, N>> {
  expectFunction(f, "jacfwd");
  expectOptions("jacfwd", options, TRANSFORM_KEYS);
  return (...args: A) => {
    const traced = traceCall(f as (...a: never[]) => unknown, args, options.argnums ?? 0, "jacfwd");
    const outs = outputsOf(traced, "jacfwd");
    const keep = connected(outs.leaves, traced.inputs);
    // cols[j][e][o]: the tangent of output o when input j is seeded with the one-hot e.
    const cols = traced.inputs.map((x) => {
      const out: Tensor[][] = [];
      for (let e = 0; e < x.size; e++) out.push(engine.tangents(outs.leaves, [x], [oneHot(x.shape, e, x.dtype)], { createGraph: keep }));
      return out;
    });
    const blocks = outs.leaves.map((y, o) =>
      traced.inputs.map((x, j) => assemble(cols[j]!.map((c) => c[o]!), y.shape, x.shape, y.ndim, y.dtype, keep)),
    );
    return jacobianTree(traced, outs, blocks) as JacobianOf<R, GradsOf<A, N>>;
  };
}

/**
 * `f` ↦ its Hessian, forward-over-reverse: `jacfwd(jacrev(f))` — one backward pass recorded as a graph, then one
 * forward pass through that graph per input element. For an input of shape T the block has shape [...T, ...T]
 * (with several argnums, a tuple of tuples H[i][j]).
 *
 * @example
 * hessian((x: Tensor) => x.pow(3).sum())(tensor([1, 2])).toNested(); // [[6, 0], [0, 12]]
 */
export function hessian<A extends unknown[], const N extends Argnums = 0>(
  f: (...args: A) => Tensor,
  options: TransformOptions<N> = {},
): (...args: A) => JacobianOf<GradsOf<A, N>, GradsOf<A, N>> {
  expectFunction(f, "hessian");
  expectOptions("hessian", options, TRANSFORM_KEYS);
  return jacfwd(jacrev(f, options), options) as (...args: A) => JacobianOf<GradsOf<A, N>, GradsOf<A, N>>;
}

/**
 * The Hessian-vector product ∇²f(primals)·tangents, forward-over-reverse, without forming the Hessian: one
 * backward pass recorded as a graph and one forward pass through it. The result is one tree per argument.
 *
 * @example
 * hvp((x: Tensor) => x.pow(3).sum(), [tensor([1, 2])], [tensor([1, 1])]); // [tensor([6, 12])]
 */
export function hvp<A extends unknown[]>(f: (...args: A) => Tensor, primals: A, tangents: TangentsOf<A>): { -readonly [K in keyof A]: GradTree<A[K]> } {
  expectFunction(f, "hvp");
  arrayOfInputs(primals, "hvp", "primals");
  arrayOfInputs(tangents, "hvp", "tangents");
  const all = primals.map((_, i) => i);
  const g = grad(f, { argnums: all }) as unknown as (...args: A) => unknown;
  return jvp(g, primals, tangents)[1] as unknown as { -readonly [K in keyof A]: GradTree<A[K]> };
}
