/**
 * The lecture's path-product algorithm shown in full for one input: every path from the input to the output,
 * the local derivative at every step, each path's product and their sum; then the cost of the three ways of
 * differentiating (reverse mode, forward mode, path products) on the same graph, counted in local-derivative
 * multiplications.
 */
import { DEFAULT_PATH_LIMIT, forwardMode, pathMode, reverseMode, type GradResult } from "../autodiff/modes.js";
import type { Value } from "../scalar/value.js";
import { formatTable, formatValue } from "./format.js";
import { snapshotWithValues, type Snapshot } from "./snapshot.js";

/** One step of a path: the edge from `from` into `to`, with its local derivative. */
export interface PathStepReport {
  from: string;
  to: string;
  /** Which input of `to` the edge is (0-based). */
  input: number;
  /** The local derivative printed on the board (`-d/c`). */
  localText: string;
  local: number;
}

/** One path from the input to the output. */
export interface PathReport {
  /** Node names along the path, from the input to the output. */
  nodes: string[];
  steps: PathStepReport[];
  product: number;
}

/** A method's cost and result. */
export interface MethodReport {
  method: "reverse" | "forward" | "paths";
  /** Sweeps over the graph: 1 for reverse mode, one per input for forward mode, one path walk per path. */
  passes: number;
  multiplications: number;
  /** ∂output/∂wrt by this method. */
  derivative: number;
}

/** Everything `gradgraph paths` shows. */
export interface PathsData {
  /** The output's and the input's names. */
  output: string;
  wrt: string;
  paths: PathReport[];
  /** The sum of the paths' products: ∂output/∂wrt. */
  derivative: number;
  /** Names of all the inputs the methods differentiate with respect to. */
  inputs: string[];
  /** Edges that carry a gradient (the m of the lecture's O(m)). */
  edges: number;
  methods: MethodReport[];
}

/**
 * Runs the path-product algorithm for `wrt` and all three methods for all `inputs` on the graph of `root`.
 * (Reverse mode leaves the graph's gradients set, as `backward()` does.) `wrt` is added to `inputs` if absent.
 * Throws a `GradgraphError` when there are more than `limit` paths from an input, or more than `PATH_STEP_LIMIT`
 * steps on the paths from all the inputs together (counted before any path is walked).
 */
export function pathsData(root: Value, inputs: readonly Value[], wrt: Value, limit = DEFAULT_PATH_LIMIT): PathsData {
  const all = inputs.includes(wrt) ? [...inputs] : [...inputs, wrt];
  const { snapshot: snap, values } = snapshotWithValues(root, all, { grads: false });
  const idOf = new Map<Value, number>();
  values.forEach((v, k) => idOf.set(v, k));
  const name = (v: Value) => snap.nodes[idOf.get(v)!]!.name;

  const at = all.indexOf(wrt);
  const byPaths = pathMode(root, all, limit);
  const result = byPaths.results[at]!;
  const paths: PathReport[] = result.paths.map((p) => ({
    nodes: [name(wrt), ...p.steps.map((s) => name(s.to))],
    steps: p.steps.map((s) => {
      const to = snap.nodes[idOf.get(s.to)!]!;
      return { from: name(s.from), to: to.name, input: s.inputIndex, localText: to.localsText[s.inputIndex] ?? "0", local: s.local };
    }),
    product: p.product,
  }));

  const method = (m: MethodReport["method"], passes: number, r: GradResult): MethodReport => ({
    method: m,
    passes,
    multiplications: r.multiplications,
    derivative: r.grads[at]!,
  });
  const methods = [
    method("reverse", 1, reverseMode(root, all)),
    method("forward", all.length, forwardMode(root, all)),
    method("paths", byPaths.paths.reduce((s, ps) => s + ps.length, 0), byPaths),
  ];
  return {
    output: snap.nodes[snap.root]!.name,
    wrt: name(wrt),
    paths,
    derivative: result.derivative,
    inputs: snap.params.map((p) => snap.nodes[p]!.name),
    edges: countEdges(snap),
    methods,
  };
}

/** Edges into nodes that need a gradient from inputs that need one. */
function countEdges(snap: Snapshot): number {
  let m = 0;
  for (const n of snap.nodes) if (n.requiresGrad) for (const x of n.inputs) if (snap.nodes[x]!.requiresGrad) m++;
  return m;
}

const METHOD_NAMES: Record<MethodReport["method"], string> = {
  reverse: "reverse mode (backprop)",
  forward: "forward mode",
  paths: "path products",
};

/** `1 sweep`, `2 sweeps`, `3 paths`. */
function passes(m: MethodReport): string {
  const unit = m.method === "paths" ? "path" : "sweep";
  return `${m.passes} ${unit}${m.passes === 1 ? "" : "s"}`;
}

/** `2 inputs`, `1 edge`. */
function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * The paths report as text, as `gradgraph paths --wrt x` prints it.
 *
 * @example
 * pathsReport(d, [x, y], x);
 * // Paths from x to d: 1
 * //
 * //   1. x → a → b → c → d
 * //        ∂a/∂x = -1
 * //        ...
 */
export function pathsReport(root: Value, inputs: readonly Value[], wrt: Value, limit = DEFAULT_PATH_LIMIT): string {
  return formatPaths(pathsData(root, inputs, wrt, limit));
}

/** Lays out {@link PathsData} as text. */
export function formatPaths(data: PathsData): string {
  const { output: out, wrt } = data;
  const lines: string[] = [];
  if (data.paths.length === 0) {
    lines.push(`No path from ${wrt} to ${out}: ∂${out}/∂${wrt} = 0`);
  } else {
    lines.push(`Paths from ${wrt} to ${out}: ${data.paths.length}`, "");
    const twice = edgesUsedTwice(data);
    data.paths.forEach((p, k) => {
      const head = `  ${k + 1}. `;
      const pad = " ".repeat(head.length + 2);
      lines.push(head + p.nodes.join(" → "));
      for (const s of p.steps) {
        const number = formatValue(s.local);
        const edge = `∂${s.to}/∂${s.from}${twice.has(edgeKey(s)) ? ` (input ${s.input + 1} of ${s.to})` : ""}`;
        lines.push(`${pad}${edge} = ${s.localText === number ? number : `${s.localText} = ${number}`}`);
      }
      const factors = p.steps.map((s, i) => (i > 0 && (s.local < 0 || Object.is(s.local, -0)) ? `(${formatValue(s.local)})` : formatValue(s.local)));
      lines.push(`${pad}product = ${factors.length > 1 ? `${factors.join(" × ")} = ` : ""}${formatValue(p.product)}`);
    });
    const sum = data.paths.length === 1 ? "the path's product" : `the sum of the ${data.paths.length} products`;
    lines.push("", `∂${out}/∂${wrt} = ${sum} = ${formatValue(data.derivative)}`);
  }
  lines.push(
    "",
    `Cost of the gradient with respect to ${data.inputs.length === 1 ? "the" : "all"} ${count(data.inputs.length, "input")} ` +
      `(${data.inputs.join(", ")}), on a graph with ${count(data.edges, "edge")} carrying gradients:`,
    formatTable(
      ["method", "passes", "multiplications", `∂${out}/∂${wrt}`],
      data.methods.map((m) => [
        METHOD_NAMES[m.method],
        passes(m),
        String(m.multiplications),
        formatValue(m.derivative),
      ]),
    ),
  );
  return lines.join("\n") + "\n";
}

/**
 * The edges (`to` and `from`) that enter an op taking the same value on more than one input (`x * x`), so the
 * report says which input each is. One pass over the steps of all paths.
 */
function edgesUsedTwice(data: PathsData): Set<string> {
  const input = new Map<string, number>();
  const twice = new Set<string>();
  for (const p of data.paths) {
    for (const s of p.steps) {
      const key = edgeKey(s);
      const seen = input.get(key);
      if (seen === undefined) input.set(key, s.input);
      else if (seen !== s.input) twice.add(key);
    }
  }
  return twice;
}

function edgeKey(s: PathStepReport): string {
  return `${s.to}\u0000${s.from}`;
}
