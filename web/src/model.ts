/**
 * The explorer's model: from the two text fields to everything the page shows, through the library's public
 * API only. Pure (no DOM), so it is unit-tested in Node.
 */
import { callsTensorFunction, compileScalar, compileTensor, describeTensorGraph, formatNested, formatTensorTrace, formatValue, forwardRows, generateCodeLines, parseBindings, parseProgram, pathsData, snapshot, sourceErrorsOf, toDot, type CodeLine, type CodeTarget, type DotLayout, type ForwardRow, type PathsData, type Program, type ScalarGraph, type Snapshot, type SnapshotNode, tensorFunctions, tensorToDot, type TensorGraphView, usesTensorFeatures, type BindingValue } from "gradgraph/lecture";
import { findForwardAnomaly, findScalarAnomaly, type AnomalyError, formatShape, GradgraphError } from "gradgraph";

/** An error to show under a field, as the CLI shows it (`expression:1:5: message`, the line, a caret). */
export interface FieldError {
  field: "expr" | "point";
  message: string;
  /** The CLI's text: location, message, source line and caret line (just the message when there is no position). */
  text: string;
  /** 0-based position and length in the field's text, when known. */
  pos: number | null;
  length: number;
}

/** Everything computed for one expression at one point. */
export interface Problem {
  expr: string;
  point: string;
  program: Program;
  graph: ScalarGraph;
  /** The snapshot with values and gradients. */
  snap: Snapshot;
  /** The same graph without gradients (for practice mode, whose code must not show them). */
  bare: Snapshot;
  /** The output's name as the lecture writes it: the header's (`L`), or `f`. */
  output: string;
  dot: string;
  forward: Map<number, ForwardRow>;
  /** One edge per operand of every op, in the order `toDot` writes them, then the root's edge to `out`. */
  edges: Edge[];
  /** Where and why the value or a gradient is NaN or ±∞, when one is. */
  anomaly: Anomaly | null;
}

/** A NaN or ±∞ explained: the library's anomaly detection (the CLI's `--detect-anomaly`), and what it means. */
export interface Anomaly {
  /** The detector's report: `expression:N: forward pass: log(-1) gave NaN from finite inputs`, the line, a caret. */
  report: string;
  /** What it means for the function at this point. */
  meaning: string;
}

/** An edge of the drawn graph: the value of `from` entering `to` as its operand `input` (`to` null: the output). */
export interface Edge {
  index: number;
  from: number;
  to: number | null;
  input: number;
}

/**
 * A tensor expression (an array bound in the point, `@`, or a tensor function such as `sum`): drawn with every
 * value's shape on its edge, and stepped node by node with values and gradients as arrays. Local derivatives of
 * tensor ops are vector-Jacobian products, so the scalar views (chain-rule numbers, forward mode, paths,
 * practice, the lecture's scalar code) do not apply.
 */
export interface TensorProblem {
  expr: string;
  point: string;
  output: string;
  names: string[];
  view: TensorGraphView;
  dot: string;
  edges: Edge[];
  /** The forward and backward tables, as `gradgraph trace` prints them. */
  trace: string;
  /** Where and why a value is NaN or ±∞, when one is. */
  anomaly: Anomaly | null;
}

export type Analysis =
  | { ok: true; problem: Problem; tensor?: undefined }
  | { ok: true; tensor: TensorProblem; problem?: undefined }
  | { ok: false; errors: FieldError[] };

/** The lecture's worked examples, offered in the page's example menu. */
export const EXAMPLES: readonly { label: string; expr: string; point: string }[] = [
  { label: "L_MLP: the lecture's goal", expr: "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2", point: "2, 10, -1, 4, 3, 1" },
  { label: "f(x, y) = 1/(y + e^-x)", expr: "f(x, y) = 1/(y + e^(-x))", point: "0, 1" },
  { label: "f(x, y, z) = [max(3x, 0) - y]^2 + z", expr: "f(x, y, z) = (max(3*x, 0) - y)^2 + z", point: "1, 0, -2" },
  { label: "w = 1/e^-x", expr: "w(x) = 1/e^(-x)", point: "0" },
  { label: "w = log([e^x]^2)", expr: "w(x) = log(exp(x)^2)", point: "0" },
  { label: "w = (x + y) z", expr: "w(x, y, z) = (x + y)*z", point: "1, 2, -3" },
  { label: "w = x^2 + 3x (fan-out)", expr: "w(x) = x^2 + 3*x", point: "2" },
  { label: "Minibatch: T = (max(X W, 0) - y)^2 + z (tensors)", expr: "T(X, W, y, z) = (max(X @ W, 0) - y)^2 + z", point: "[[1, 2], [3, -1]], [[1, -1], [0.5, 2]], [1, 0], [0.5, -1]" },
];

/** Parses, binds and compiles; every problem comes back as field errors, never thrown. */
export function analyse(expr: string, point: string): Analysis {
  let program: Program;
  try {
    program = parseProgram(expr);
  } catch (e) {
    // Not a scalar program: perhaps a tensor one (`sum(x, axis=0)`), as the CLI decides.
    try {
      return analyseTensor(expr, point, parseProgram(expr, { functions: tensorFunctions }));
    } catch (tensorError) {
      return { ok: false, errors: fieldErrors(callsTensorFunction(expr) ? tensorError : e, "expr") };
    }
  }
  let graph: ScalarGraph;
  try {
    const bindings = bind(point, program);
    if (usesTensorFeatures(program) || [...bindings.values()].some(Array.isArray)) {
      return analyseTensor(expr, point, parseProgram(expr, { functions: tensorFunctions }));
    }
    graph = compileScalar(program, bindings);
  } catch (e) {
    // A binding problem points into the point's text; an engine problem (`@` needs tensors) into the expression.
    const errors = fieldErrors(e, "point").map((f) => (f.text.startsWith("expression:") ? { ...f, field: "expr" as const } : f));
    return { ok: false, errors };
  }
  const snap = snapshot(graph.root, graph.inputs);
  const bare = snapshot(graph.root, graph.inputs, { grads: false });
  const forward = new Map<number, ForwardRow>();
  const rows = forwardRows(snap);
  let r = 0;
  for (const n of snap.nodes) if (n.kind !== "const") forward.set(n.id, rows[r++]!);
  return {
    ok: true,
    problem: {
      expr,
      point,
      program,
      graph,
      snap,
      bare,
      output: graph.output ?? "f",
      dot: toDot(snap),
      forward,
      edges: edgesOf(snap),
      anomaly: explain(findScalarAnomaly(graph.root, { source: program.source })),
    },
  };
}

/** What an anomaly means: the function (or its derivative) has no finite value at this point, and why. */
export function explain(e: AnomalyError | null): Anomaly | null {
  if (e === null) return null;
  const nan = /\bNaN\b/.test(e.message);
  const meaning =
    e.phase === "forward"
      ? nan
        ? `${e.op} has no real value here (NaN, "not a number"): the point is outside its domain, so the function is undefined at this point and so are its derivatives.`
        : `${e.op} is infinite here: the function has no finite value at this point (it grows without bound as the point is approached), and its derivatives are not finite either.`
      : nan
        ? `The function has a value here, but its derivative does not: the local derivative of ${e.op} is undefined (NaN) at this point.`
        : `The function has a value here, but its slope at ${e.op} is infinite (a vertical tangent, as √x at 0): the function is not differentiable at this point.`;
  return { report: e.format(), meaning };
}

function bind(point: string, program: Program): Map<string, BindingValue> {
  return parseBindings(point.trim() === "" ? [] : [point], program, {
    where: "point",
    readFile: () => {
      throw new GradgraphError("the explorer cannot read files: type the values");
    },
  });
}

/** The tensor engine's graph at the point (float64, as the CLI computes). */
function analyseTensor(expr: string, point: string, program: Program): Analysis {
  let view: TensorGraphView;
  let names: string[];
  let output: string;
  let root: ReturnType<typeof compileTensor>["root"];
  try {
    const graph = compileTensor(program, bind(point, program), { dtype: "float64" });
    root = graph.root;
    output = graph.output ?? "f";
    names = graph.names;
    view = describeTensorGraph(graph.root, graph.inputs, { rootName: graph.output });
  } catch (e) {
    const errors = fieldErrors(e, "point").map((f) => (f.text.startsWith("expression:") ? { ...f, field: "expr" as const } : f));
    return { ok: false, errors };
  }
  const edges: Edge[] = [];
  for (const to of view.nodes) to.inputs.forEach((x, i) => edges.push({ index: edges.length, from: x, to: to.id, input: i }));
  edges.push({ index: edges.length, from: view.root, to: null, input: 0 });
  const anomaly = explain(findForwardAnomaly(root, { source: program.source }));
  return { ok: true, tensor: { expr, point, output, names, view, dot: tensorToDot(view), edges, trace: formatTensorTrace(view), anomaly } };
}

/** A tensor node's value or gradient for people, shortened past `max` characters. */
export function nested(v: unknown, max = 160): string {
  const s = formatNested(v);
  return s.length <= max ? s : `${s.slice(0, max - 5)} ...]`;
}

/** `[2,3]`. */
export const shapeText = (shape: readonly number[]) => formatShape(shape);

/** A thrown value as field errors: one per source error, or the message alone. */
function fieldErrors(e: unknown, field: FieldError["field"]): FieldError[] {
  const sources = sourceErrorsOf(e);
  if (sources.length > 0) {
    return sources.map((s) => ({ field, message: s.message, text: s.format(), pos: s.pos, length: s.length }));
  }
  const message = e instanceof Error ? e.message : String(e);
  return [{ field, message, text: message, pos: null, length: 0 }];
}

/** The edges in the order {@link toDot} writes them (Graphviz numbers its SVG edges `edge1, edge2, ...` so). */
export function edgesOf(snap: Snapshot): Edge[] {
  const edges: Edge[] = [];
  for (const to of snap.nodes) to.inputs.forEach((x, i) => edges.push({ index: edges.length, from: x, to: to.id, input: i }));
  edges.push({ index: edges.length, from: snap.root, to: null, input: 0 });
  return edges;
}

/** The lecture-style code, line by line, with or without gradient values. */
export function codeLines(problem: Problem, target: CodeTarget, withGrads = true): CodeLine[] {
  return generateCodeLines(withGrads ? problem.snap : problem.bare, target);
}

/** The paths report for one input, or why there is none (too many paths to list). */
export function pathsFor(problem: Problem, wrt: string, limit = PATH_LIMIT): PathsData | { error: string } {
  let cache = pathsCache.get(problem);
  if (cache === undefined) pathsCache.set(problem, (cache = new Map()));
  const key = `${limit}:${wrt}`;
  let result = cache.get(key);
  if (result === undefined) cache.set(key, (result = computePaths(problem, wrt, limit)));
  return result;
}

const pathsCache = new WeakMap<Problem, Map<string, PathsData | { error: string }>>();

function computePaths(problem: Problem, wrt: string, limit: number): PathsData | { error: string } {
  const i = problem.graph.names.indexOf(wrt);
  if (i < 0) return { error: `${wrt} is not an input` };
  try {
    const data = pathsData(problem.graph.root, problem.graph.inputs, problem.graph.inputs[i]!, limit);
    data.output = problem.output;
    return data;
  } catch (e) {
    if (e instanceof GradgraphError) return { error: e.message };
    throw e;
  }
}

/** Paths listed at most (their number grows exponentially with the depth of shared sub-expressions). */
export const PATH_LIMIT = 500;

/** A number for people, as the CLI prints it. */
export const fmt = formatValue;

/** A factor in a product: negative numbers after the first get parentheses (`2 × (-6)`). */
export function factor(x: number, first: boolean): string {
  return !first && (x < 0 || Object.is(x, -0)) ? `(${fmt(x)})` : fmt(x);
}

/** `3 + 3`, `6 - 2`: the terms of a sum as written by hand. */
export function sumText(terms: readonly number[]): string {
  return terms
    .map((t, i) => (i === 0 ? fmt(t) : t < 0 || Object.is(t, -0) ? `- ${fmt(-t)}` : `+ ${fmt(t)}`))
    .join(" ");
}

/** `∂j/∂i = 2*i = -6` (just `∂i/∂h = 1` when the formula is the number). */
export function localText(snap: Snapshot, to: SnapshotNode, input: number, local: number): string {
  const from = snap.nodes[to.inputs[input]!]!;
  const text = to.localsText[input] ?? "0";
  const number = fmt(local);
  return `∂${to.name}/∂${from.name} = ${text === number ? number : `${text} = ${number}`}`;
}

/** What the graph panel draws: the DOT, its edges in DOT order, and per node (DOT id `nK`) its name and tooltip. */
export interface Drawing {
  /** The DOT in either layout (`"compact"` for wide graphs, see `layoutFor`). */
  dot: (layout: DotLayout) => string;
  edges: readonly Edge[];
  nodes: readonly { name: string; kind: string; title: string; inputs: readonly number[] }[];
  /** The picture's accessible description. */
  label: string;
  /** Per edge, what hovering it shows (tensor graphs: the value and gradient it carries). */
  edgeTitles?: readonly string[];
}

/** A tensor node's value and gradient, for its tooltip: `a [2,2] = [[1, 2], [3, 4]]; ∇a = [[...]]`. */
export function tensorTitle(n: TensorGraphView["nodes"][number]): string {
  const name = n.shape.length === 0 ? n.name : `${n.name} ${shapeText(n.shape)}`;
  return `${name} = ${nested(n.value, 200)}${n.grad === null ? "" : `; ∇${n.name} = ${nested(n.grad, 200)}`}`;
}

/** What the graph panel draws for a scalar problem. */
export function drawing(p: Problem): Drawing {
  const ops = p.snap.nodes.filter((n) => n.kind === "op").length;
  return {
    dot: (layout) => (layout === "full" ? p.dot : toDot(p.snap, { layout })),
    edges: p.edges,
    nodes: p.snap.nodes.map((n) => ({ name: n.name, kind: n.kind, inputs: n.inputs, title: n.value === null ? n.name : `${n.name} = ${fmt(n.value)}` })),
    label: `Computational graph of ${p.output}: ${ops} operation${ops === 1 ? "" : "s"}, inputs on the left, the output on the right`,
  };
}

/** What the graph panel draws for a tensor problem (every edge labelled with its value's shape). */
export function tensorDrawing(t: TensorProblem): Drawing {
  const ops = t.view.nodes.filter((n) => n.kind === "op").length;
  return {
    dot: (layout) => (layout === "full" ? t.dot : tensorToDot(t.view, { layout })),
    edges: t.edges,
    nodes: t.view.nodes.map((n) => ({ name: n.name, kind: n.kind, inputs: n.inputs, title: tensorTitle(n) })),
    edgeTitles: t.edges.map((e) => tensorTitle(t.view.nodes[e.from]!)),
    label: `Computational graph of ${t.output} on tensors: ${ops} operation${ops === 1 ? "" : "s"}, each edge labelled with its value's shape`,
  };
}
