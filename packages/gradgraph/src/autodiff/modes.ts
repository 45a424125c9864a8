/**
 * Three ways to differentiate the same scalar graph, as the lecture teaches them, each counting its
 * local-derivative multiplications (one per edge it multiplies through) so O(nm) against O(m) can be seen:
 *
 * - reverse mode (backpropagation): one sweep from the output, m multiplications for m edges;
 * - forward mode: one pass per input pushing tangents through the jvp rules;
 * - the path-product algorithm: for each input, walk every path to the output, multiply the local
 *   derivatives along it, add over paths.
 */
import { GradgraphError } from "../core/errors.js";
import { topoOrder } from "../core/graph.js";
import { numberAlgebra } from "../ops/algebras.js";
import { localDerivative, type Value } from "../scalar/value.js";

/** A way to differentiate a scalar graph: reverse mode (backpropagation), forward mode, or the lecture's sum over paths. */
export type Mode = "reverse" | "forward" | "paths";
/** The three {@link Mode}s. */
export const MODES: readonly Mode[] = ["reverse", "forward", "paths"];

/** What {@link differentiate} returns: the value, every partial derivative, and the multiplications they took. */
export interface GradResult {
  /** The output's value. */
  value: number;
  /** ∂output/∂input for each input, in the order given. */
  grads: number[];
  /** Local-derivative multiplications done. */
  multiplications: number;
}

/** Backpropagation: one reverse sweep gives every input's gradient. */
export function reverseMode(root: Value, inputs: readonly Value[]): GradResult {
  root.zeroGrad();
  const multiplications = root.backward();
  return { value: root.data, grads: inputs.map((x) => x.grad), multiplications };
}

/**
 * Forward mode: for each input, seed its tangent with 1 and push tangents left to right through each op's
 * jvp rule (`dy = Σ ∂y/∂x_i · dx_i`). Nodes that do not depend on the input carry no tangent and cost nothing.
 */
export function forwardMode(root: Value, inputs: readonly Value[]): GradResult {
  const order = topoOrder<Value>(root);
  const index = new Map<Value, number>();
  order.forEach((n, k) => index.set(n, k));
  const tangents: (number | null)[] = new Array<number | null>(order.length);
  let multiplications = 0;
  const grads = inputs.map((input) => {
    tangents.fill(null);
    const at = index.get(input);
    if (at === undefined) return 0;
    tangents[at] = 1;
    for (let k = at + 1; k < order.length; k++) {
      const n = order[k]!;
      if (n.op === null) continue;
      const dxs = n.inputs.map((x) => tangents[index.get(x)!] ?? null);
      const live = dxs.filter((d) => d !== null).length;
      if (live === 0) continue;
      multiplications += live;
      tangents[k] = n.op.jvp(
        numberAlgebra,
        dxs,
        n.inputs.map((x) => x.data),
        n.data,
      );
    }
    return tangents[order.length - 1] ?? 0;
  });
  return { value: root.data, grads, multiplications };
}

/** One step of a path: the edge from `from` into `to` (as `to`'s input number `inputIndex`). */
export interface PathStep {
  from: Value;
  to: Value;
  inputIndex: number;
  /** ∂to/∂from on this edge. */
  local: number;
}

/** A path from an input to the output, its local derivatives and their product. */
export interface Path {
  steps: PathStep[];
  product: number;
}

/** The lecture's path-product view of one partial derivative: every path, its product, their sum. */
export interface PathsResult {
  /** Every path from the input to the output. */
  paths: Path[];
  /** Their products, added up: ∂output/∂input. */
  derivative: number;
  /** Local-derivative multiplications (one per step of every path). */
  multiplications: number;
}

/**
 * The path-product algorithm walks at most this many steps in all (every step of every path, over all the inputs
 * of one call): the number of paths, and so the work, can grow exponentially with the graph (and quadratically on
 * a chain of sums `x + x + … + x`). Both are counted before any path is walked, in time linear in the graph, so a
 * graph over the limit is refused at once with the counts, instead of exhausting the memory.
 */
export const PATH_STEP_LIMIT = 2_000_000;

/** No limit on the number of paths by default: {@link PATH_STEP_LIMIT} bounds the work. */
export const DEFAULT_PATH_LIMIT = Number.POSITIVE_INFINITY;

/**
 * The lecture's naive algorithm for ∂root/∂input: identify every path from the input to the output, walk it
 * computing the local derivative at each step, take the product, and add over paths. Walks iteratively.
 * Throws a `GradgraphError` when there are more than `limit` paths or more than {@link PATH_STEP_LIMIT} steps.
 */
export function pathProducts(root: Value, input: Value, limit = DEFAULT_PATH_LIMIT): PathsResult {
  return pathMode(root, [input], limit).results[0]!;
}

/** The path-product algorithm run once per input (the step limit applies to all the inputs together). */
export function pathMode(
  root: Value,
  inputs: readonly Value[],
  limit = DEFAULT_PATH_LIMIT,
): GradResult & { paths: Path[][]; results: PathsResult[] } {
  const order = topoOrder<Value>(root);
  const counts = countPaths(order, root);
  let steps = 0n;
  for (const x of inputs) {
    const c = counts.get(x);
    if (c === undefined) continue;
    if (Number.isFinite(limit) && c.paths > BigInt(Math.floor(limit))) {
      throw new GradgraphError(
        `paths: more than ${limit} paths from ${x.label ?? "the input"} to the output (${bigCount(c.paths)} paths, ` +
          `${bigCount(c.steps)} steps in all); the path-product algorithm grows exponentially here (use reverse mode)`,
      );
    }
    steps += c.steps;
  }
  if (steps > BigInt(PATH_STEP_LIMIT)) {
    const paths = inputs.reduce((s, x) => s + (counts.get(x)?.paths ?? 0n), 0n);
    const from = inputs.length === 1 ? (inputs[0]!.label ?? "the input") : `the ${inputs.length} inputs`;
    throw new GradgraphError(
      `paths: ${bigCount(paths)} paths from ${from} to the output, ${bigCount(steps)} steps in all: more than the ` +
        `${bigCount(BigInt(PATH_STEP_LIMIT))} steps the path-product algorithm walks at most (it multiplies along every ` +
        "step of every path); use reverse mode, which multiplies once per edge",
    );
  }
  // Consumers: the edges leaving each node (a node used twice by one op has two edges).
  const out = new Map<Value, { to: Value; inputIndex: number }[]>();
  for (const n of order) {
    n.inputs.forEach((x, i) => {
      let list = out.get(x);
      if (!list) out.set(x, (list = []));
      list.push({ to: n, inputIndex: i });
    });
  }
  const results = inputs.map((x) => walkPaths(root, x, out));
  const multiplications = results.reduce((s, r) => s + r.multiplications, 0);
  return {
    value: root.data,
    grads: results.map((r) => r.derivative),
    multiplications,
    paths: results.map((r) => r.paths),
    results,
  };
}

/**
 * For each node, how many paths lead from it to `root` through nodes that need a gradient, and how many steps
 * those paths have in all: one sweep from the output (`order` is topological, `root` last). Exact, as bigints.
 */
function countPaths(order: readonly Value[], root: Value): Map<Value, { paths: bigint; steps: bigint }> {
  const counts = new Map<Value, { paths: bigint; steps: bigint }>();
  for (const n of order) counts.set(n, { paths: n === root ? 1n : 0n, steps: 0n });
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const c = counts.get(n)!;
    if (!n.requiresGrad || c.paths === 0n) continue;
    // Each path from n gives a path from its input x one step longer.
    for (const x of n.inputs) {
      const cx = counts.get(x)!;
      cx.paths += c.paths;
      cx.steps += c.steps + c.paths;
    }
  }
  return counts;
}

/** `112,507,500`, or `1.07e301` for a count too long to read. */
function bigCount(n: bigint): string {
  const digits = n.toString();
  if (digits.length <= 15) return n.toLocaleString("en-US");
  return `${digits[0]}.${digits.slice(1, 3)}e${digits.length - 1}`;
}

/** Walks every path from `input` to `root` (the counts were checked by the caller). */
function walkPaths(root: Value, input: Value, out: Map<Value, { to: Value; inputIndex: number }[]>): PathsResult {
  const paths: Path[] = [];
  let multiplications = 0;
  if (input === root) return { paths: [{ steps: [], product: 1 }], derivative: 1, multiplications: 0 };
  if (!out.has(input)) return { paths, derivative: 0, multiplications };
  const steps: PathStep[] = [];
  const nodes: Value[] = [input];
  const next: number[] = [0];
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const node = nodes[top]!;
    const edges = out.get(node) ?? [];
    const i = next[top]!;
    if (node === root || i >= edges.length) {
      if (node === root) {
        let product = 1;
        for (const s of steps) {
          product *= s.local;
          multiplications++;
        }
        paths.push({ steps: steps.slice(), product });
      }
      nodes.pop();
      next.pop();
      steps.pop();
      continue;
    }
    next[top] = i + 1;
    const e = edges[i]!;
    if (!e.to.requiresGrad) continue;
    steps.push({ from: node, to: e.to, inputIndex: e.inputIndex, local: localDerivative(e.to, e.inputIndex) });
    nodes.push(e.to);
    next.push(0);
  }
  const derivative = paths.reduce((s, p) => s + p.product, 0);
  return { paths, derivative, multiplications };
}

/** Differentiates `root` with respect to `inputs` by the chosen mode. */
export function differentiate(root: Value, inputs: readonly Value[], mode: Mode = "reverse"): GradResult {
  switch (mode) {
    case "reverse":
      return reverseMode(root, inputs);
    case "forward":
      return forwardMode(root, inputs);
    case "paths":
      return pathMode(root, inputs);
    default: {
      const never: never = mode;
      throw new GradgraphError(`unknown mode ${String(never)}: expected reverse, forward or paths`);
    }
  }
}
