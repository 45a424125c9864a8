/**
 * The CLI's functional side: `grad --order 2` (the Hessian of a scalar expression, forward-over-reverse),
 * `jvp` (the directional derivative by forward mode), `trace`/`dot --order 2` (the graph that the backward pass
 * records with createGraph, i.e. the graph of a first derivative, itself traced or drawn), and `--detect-anomaly`
 * (the first op that made a NaN or an infinity, with a caret under it in the expression). Everything here runs on
 * the tensor engine in float64 through the functional transforms of src/autodiff/functional.ts.
 */
import { Command, Option } from "commander";
import { AnomalyError, detectAnomaly, engine, findForwardAnomaly, findScalarAnomaly, formatShape, hessian, InputError, jacfwd, jvp, ones, SourceError, SourceErrors, tensor, type Tensor, valueAndGrad, zerosLike } from "gradgraph";
import { type BindingPosition, type BindingValue, callsTensorFunction, compileTensor, describeTensorGraph, didYouMean, formatNested, formatTable, formatTensorTrace, formatValue, type Mode, parseBindings, parseProgram, type Program, type ScalarGraph, shapeOf, spanIn, tensorFunction, tensorFunctions, tensorToDot } from "gradgraph/lecture";
import type { Io } from "./io.js";
import type { Drawable } from "./svg.js";
import { jsonNumber, jsonValue } from "./json.js";

// ---------------------------------------------------------------------------------------------------------
// Options shared with the first-order commands
// ---------------------------------------------------------------------------------------------------------

/** `--order 1|2`. */
export const orderOption = (what: string) => new Option("--order <n>", what).default("1");

/** The order asked for: 1 or 2. */
export function orderOf(value: string): 1 | 2 {
  if (value === "1" || value === "2") return Number(value) as 1 | 2;
  throw new InputError(`--order ${value}: expected 1 or 2`);
}

/** `--detect-anomaly`. */
export const anomalyOption = () =>
  new Option(
    "--detect-anomaly",
    "stop at the first op that makes a NaN or an infinity from finite values (forward or backward pass) and show it in the expression",
  );

/** `--wrt`, for trace/dot --order 2. */
export const wrtOption = () => new Option("--wrt <name>", "with --order 2: the input whose first derivative is traced (needed when there are several)");

// ---------------------------------------------------------------------------------------------------------
// Parsing and binding on the tensor engine
// ---------------------------------------------------------------------------------------------------------

/** Parses with the scalar function table, or the tensor one when the scalar one rejects it (as `tensorSetUp` does). */
function parseExpression(expr: string): Program {
  try {
    return parseProgram(expr);
  } catch (scalarError) {
    try {
      return parseProgram(expr, { functions: tensorFunctions });
    } catch (tensorError) {
      throw callsTensorFunction(expr) ? tensorError : scalarError;
    }
  }
}

export interface Point {
  program: Program;
  /** The inputs' names, in the program's order. */
  names: string[];
  values: BindingValue[];
  /** float64 tensors of the values, labelled with the names. */
  xs: Tensor[];
  f: (...xs: Tensor[]) => Tensor;
  /** The output's name: the header's, or `f`. */
  output: string;
}

/** Parses `expr`, binds every input from `--at` (unbound ones are 0 when `zeroUnbound`), float64 tensors. */
export function pointOf(expr: string, at: readonly string[], options: { zeroUnbound?: boolean } = {}): Point {
  const program = parseExpression(expr);
  const bindings = parseBindings(at, program, { partial: options.zeroUnbound ?? false });
  const names = [...program.inputs];
  const values = names.map((n) => bindings.get(n) ?? 0);
  // Compiling once checks shapes (a shape error is a source error with a caret) before any transform runs.
  compileTensor(program, new Map(names.map((n, i) => [n, values[i]!])), { dtype: "float64" });
  const xs = values.map((v, i) => tensor(v, { dtype: "float64", label: names[i]! }));
  return { program, names, values, xs, f: tensorFunction(program), output: program.header?.names[0]?.name ?? "f" };
}

/** The expression's graph at the point, recorded (inputs requiring grad), so its forward pass can be checked node by node. */
function recorded(p: Point): Tensor {
  return p.f(...p.values.map((v, i) => tensor(v, { dtype: "float64", requiresGrad: true, label: p.names[i]! })));
}

/** `x=1, y=2` (arrays as nested lists). */
function describeValues(names: readonly string[], values: readonly BindingValue[]): string {
  return names.map((n, i) => `${n}=${formatNested(values[i])}`).join(", ");
}

// ---------------------------------------------------------------------------------------------------------
// Anomaly detection
// ---------------------------------------------------------------------------------------------------------

/** Throws the first anomaly of a scalar (`Value`) graph compiled from `program`, if any. */
export function checkScalarAnomaly(graph: ScalarGraph, program: Program): void {
  const e = findScalarAnomaly(graph.root, { source: program.source });
  if (e !== null) throw e;
}

/**
 * Runs `fn` (which differentiates the tensor graph ending at `root`) after checking the recorded forward pass,
 * with anomaly detection on; an anomaly is located in `source` at its node, or at the expression the node is a
 * step of.
 */
export function withTensorAnomalyCheck<R>(root: Tensor | readonly Tensor[], source: string, fn: () => R): R {
  const forward = findForwardAnomaly(root, { source });
  if (forward !== null) throw forward;
  try {
    return detectAnomaly(fn, { source });
  } catch (e) {
    if (e instanceof AnomalyError && e.source === "" && e.node !== undefined) {
      const span = spanIn(root, e.node);
      throw span === undefined ? e : e.locate(source, span);
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// grad --order 2
// ---------------------------------------------------------------------------------------------------------

/**
 * `grad --order 2`: the value, the gradient and the Hessian of a scalar expression of numbers. The Hessian is
 * `hessian(f)` = jacfwd(jacrev(f)) — forward-over-reverse — or, with `--mode forward`, jacfwd(jacfwd(f)).
 */
export function gradOrder2(expr: string, at: readonly string[], options: { mode: Mode; json: boolean; detectAnomaly: boolean }, io: Io): void {
  if (options.mode === "paths") {
    throw new InputError("--order 2 --mode paths: the path-product algorithm gives first derivatives only; use --mode reverse (forward-over-reverse) or forward");
  }
  const p = pointOf(expr, at);
  const arrays = p.names.filter((_, i) => typeof p.values[i] !== "number");
  if (arrays.length > 0) {
    const n = arrays[0]!;
    throw new InputError(
      `grad --order 2 prints the Hessian of an expression of numbers; ${n} is bound to an array of shape ${formatShape(shapeOf(p.values[p.names.indexOf(n)]!))}`,
    );
  }
  const argnums = p.names.map((_, i) => i);
  const compute = () => {
    const value = p.f(...p.xs);
    if (value.size !== 1) throw new InputError(`grad --order 2: ${p.output} has shape ${formatShape(value.shape)}, not a single value`);
    let grads: Tensor[];
    let H: Tensor[][];
    if (options.mode === "reverse") {
      grads = valueAndGrad(p.f, { argnums })(...p.xs)[1] as Tensor[];
      H = hessian(p.f, { argnums })(...p.xs) as unknown as Tensor[][];
    } else {
      const J = jacfwd(p.f, { argnums });
      grads = J(...p.xs) as Tensor[];
      H = jacfwd(J, { argnums })(...p.xs) as unknown as Tensor[][];
    }
    return { value: value.item(), grads: grads.map((g) => g.item()), H: H.map((row) => row.map((h) => h.item())) };
  };
  const r = options.detectAnomaly ? withTensorAnomalyCheck(recorded(p), p.program.source, compute) : compute();
  const out = p.output;
  if (options.json) {
    const gradJson: Record<string, number | null> = {};
    const hessJson: Record<string, Record<string, number | null>> = {};
    p.names.forEach((n, i) => {
      gradJson[n] = jsonNumber(r.grads[i]!, `∂${out}/∂${n}`, io);
      hessJson[n] = {};
      p.names.forEach((m, j) => (hessJson[n]![m] = jsonNumber(r.H[i]![j]!, `∂²${out}/∂${n}∂${m}`, io)));
    });
    io.out(JSON.stringify({ value: jsonNumber(r.value, out, io), grad: gradJson, hessian: hessJson }) + "\n");
    return;
  }
  const width = p.names.reduce((w, n) => Math.max(w, n.length), 0);
  io.out(`${out} = ${formatValue(r.value)}${p.names.length > 0 ? `  at ${describeValues(p.names, p.values)}` : ""}\n`);
  p.names.forEach((n, i) => io.out(`∂${out}/∂${n.padEnd(width)} = ${formatValue(r.grads[i]!)}\n`));
  io.out(`\nHessian (row i, column j: ∂²${out}/∂i∂j)\n`);
  io.out(formatTable([`∂²${out}`, ...p.names], p.names.map((n, i) => [n, ...r.H[i]!.map(formatValue)])) + "\n");
  const n = p.names.length;
  const how =
    options.mode === "reverse"
      ? `forward-over-reverse: 1 backward pass recorded as a graph, then ${n} forward pass${n === 1 ? "" : "es"} through it`
      : `forward-over-forward: ${n} forward pass${n === 1 ? "" : "es"} recorded as graphs, then ${n} forward pass${n === 1 ? "" : "es"} through each`;
  io.out(`(${how})\n`);
}

// ---------------------------------------------------------------------------------------------------------
// trace / dot --order 2
// ---------------------------------------------------------------------------------------------------------

interface DerivativeGraph {
  root: Tensor;
  inputs: Tensor[];
  /** The derivative's name in the graph: `dx`. */
  name: string;
  note: string;
}

/** The graph that the backward pass records (createGraph) for ∂f/∂wrt: a first derivative as a graph. */
function derivativeGraph(expr: string, at: readonly string[], wrt: string | undefined, command: string, zeroUnbound: boolean): DerivativeGraph {
  const p = pointOf(expr, at, { zeroUnbound });
  if (p.names.length === 0) throw new InputError(`${command} --order 2: the expression has no inputs to differentiate`);
  let i = 0;
  if (wrt === undefined) {
    if (p.names.length > 1) {
      throw new InputError(`${command} --order 2: the expression has ${p.names.length} inputs (${p.names.join(", ")}); pick the first derivative to show with --wrt`);
    }
  } else {
    i = p.names.indexOf(wrt);
    if (i < 0) throw new InputError(`--wrt ${wrt}: not an input of the expression${didYouMean(wrt, p.names)} (its inputs: ${p.names.join(", ")})`);
  }
  const inputs = p.xs.map((x) => {
    x.requiresGrad = true;
    return x;
  });
  const y = p.f(...inputs);
  const seed = ones(y.shape, { dtype: y.dtype });
  const [g] = engine.gradients([y], [inputs[i]!], [seed], { createGraph: true });
  const x = p.names[i]!;
  const name = `d${x}`;
  const of = y.size === 1 ? p.output : `sum(${p.output})`;
  const note = `${name} = ∂${of}/∂${x} as the graph that the backward pass records (createGraph); its own backward pass gives ∂²${of}/∂${x}∂n`;
  return { root: g!, inputs, name, note };
}

/** `trace --order 2`: the forward and backward tables of the graph of a first derivative. */
export function traceOrder2(expr: string, at: readonly string[], wrt: string | undefined, io: Io): void {
  const d = derivativeGraph(expr, at, wrt, "trace", false);
  const view = describeTensorGraph(d.root, d.inputs, { rootName: d.name });
  io.out(`${d.note}\n\n${formatTensorTrace(view)}`);
}

/** `dot --order 2`: the graph of a first derivative in DOT (the note on stderr). */
export function dotOrder2(expr: string, at: readonly string[], wrt: string | undefined, io: Io): Drawable {
  const d = derivativeGraph(expr, at, wrt, "dot", at.length === 0);
  io.err(`note: ${d.note}\n`);
  const view = describeTensorGraph(d.root, d.inputs, { rootName: d.name, grads: at.length > 0 });
  return { nodes: view.nodes, dot: (layout) => tensorToDot(view, { layout }) };
}

// ---------------------------------------------------------------------------------------------------------
// jvp
// ---------------------------------------------------------------------------------------------------------

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The tangents of `--tangent` texts: one per input (unbound inputs get zeros), shapes checked with a caret. */
function tangentsOf(texts: readonly string[], p: Point): Tensor[] {
  const positions = new Map<string, BindingPosition>();
  const none = () =>
    new InputError(`--tangent: bind the direction for at least one input, e.g. --tangent ${p.names[0] ?? "x"}=1 (unbound inputs get 0)`);
  // Nothing but empty texts: say what a tangent needs (parseBindings would only call an empty text malformed).
  if (texts.every((t) => t.trim() === "")) throw none();
  const bound = parseBindings(texts, p.program, { where: "--tangent", partial: true, positions });
  if (bound.size === 0) throw none();
  const errors: SourceError[] = [];
  const tangents = p.names.map((n, i) => {
    const x = p.xs[i]!;
    const t = bound.get(n);
    if (t === undefined) return zerosLike(x);
    const shape = shapeOf(t);
    if (shape.length !== x.ndim || shape.some((d, k) => d !== x.shape[k])) {
      const at = positions.get(n)!;
      const what = x.ndim === 0 ? `${n} is a number, so its tangent is a number` : `${n} has shape ${formatShape(x.shape)}, so its tangent must too`;
      errors.push(new SourceError(`${what}; got ${shape.length === 0 ? "a number" : `shape ${formatShape(shape)}`}`, at.source, at.pos, at.length, "--tangent"));
      return x;
    }
    return tensor(t, { dtype: "float64" });
  });
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new SourceErrors(errors);
  return tangents;
}

/** `jvp`: the value and the directional derivative J·t by forward mode. */
function runJvp(expr: string, opts: { at: string[]; tangent: string[]; json?: boolean; detectAnomaly?: boolean }, io: Io): void {
  const p = pointOf(expr, opts.at);
  if (p.names.length === 0) throw new InputError("jvp: the expression has no inputs, so there is no direction to differentiate along");
  const ts = tangentsOf(opts.tangent, p);
  const compute = () => jvp(p.f, p.xs, ts);
  const [y, ty] = opts.detectAnomaly ? withTensorAnomalyCheck(recorded(p), p.program.source, compute) : compute();
  const out = p.output;
  const tangentValues = ts.map((t) => t.toNested());
  if (opts.json) {
    const tangent: Record<string, unknown> = {};
    p.names.forEach((n, i) => (tangent[n] = tangentValues[i]));
    io.out(JSON.stringify({ value: jsonValue(y.toNested(), out, io), tangent, jvp: jsonValue(ty.toNested(), `the jvp of ${out}`, io) }) + "\n");
    return;
  }
  const shape = y.ndim > 0 ? `  (shape ${formatShape(y.shape)})` : "";
  io.out(`${out} = ${formatNested(y.toNested())}${shape}  at ${describeValues(p.names, p.values)}\n`);
  io.out(`t: ${p.names.map((n, i) => `${n}=${formatNested(tangentValues[i])}`).join(", ")}\n`);
  io.out(`∂${out}/∂t = ${formatNested(ty.toNested())}\n`);
  io.out(`(forward mode: one pass through the jvp rules, Σᵢ ∂${out}/∂xᵢ·tᵢ)\n`);
}

/** Registers `jvp`. */
export function registerFunctionalCommands(program: Command, io: Io): void {
  program
    .command("jvp")
    .description("the directional derivative along a tangent, by forward mode (one pass through the jvp rules)")
    .argument("<expr>", "the expression, as for grad")
    .addOption(
      new Option("--at <bindings>", "the point, as for grad: x=0,y=1, or positional with a header; arrays as JSON (repeatable)")
        .argParser(collect)
        .default([] as string[], "none"),
    )
    .addOption(
      new Option("--tangent <bindings>", "the direction t, written like --at: x=1,y=0 (inputs left out get 0; an array input takes an array of its shape)")
        .argParser(collect)
        .makeOptionMandatory(),
    )
    .option("--json", 'print exactly {"value": v, "tangent": {"x": ..., ...}, "jvp": d}')
    .addOption(anomalyOption())
    .addHelpText(
      "after",
      "\nThe result is ∂f/∂t = Σᵢ ∂f/∂xᵢ·tᵢ (for an array output, one such number per element), computed by pushing t\n" +
        "forward through the graph, not by finite differences.\n\nExamples:\n" +
        "  gradgraph jvp 'f(x, y) = 1/(y + exp(-x))' --at 0,1 --tangent x=1\n" +
        "  gradgraph jvp 'X @ W' --at 'X=[[1,2],[3,4]]' --at 'W=[[1,0],[0,1]]' --tangent 'W=[[0,1],[1,0]]' --json",
    )
    .action((expr: string, opts: { at: string[]; tangent: string[]; json?: boolean; detectAnomaly?: boolean }) => runJvp(expr, opts, io));
}

/** For `grad`: whether `--order 2` was asked (and `--wrt` only with it). */
export function wantsOrder2(opts: { order: string; wrt?: string }): boolean {
  const order = orderOf(opts.order);
  if (order === 1 && opts.wrt !== undefined) throw new InputError("--wrt picks the first derivative whose graph is shown: it goes with --order 2");
  return order === 2;
}
