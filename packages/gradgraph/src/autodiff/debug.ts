/**
 * Debug aids: a NaN/Inf detector that names the first op that made a non-finite value — in the forward pass, in
 * the backward pass, or in forward mode — and, for a graph compiled from an expression, the node's place in the
 * source with a caret; and `traceProgram`, which prints the program a function records (JAX's make_jaxpr), one
 * line per op with shapes and dtypes.
 */
import { SourceError } from "../core/errors.js";
import { expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import { topoOrder, type GraphNode } from "../core/graph.js";
import type { Span } from "../core/span.js";
import type { AnyOp, DType } from "../ops/op.js";
import { formatShape, type Shape } from "../ops/shape.js";
import { localDerivative, type Value } from "../scalar/value.js";
import { NDArray, toTypedArray } from "../tensor/ndarray.js";
import { enableGrad, Tensor, tensorHooks } from "../tensor/tensor.js";
import { isIdentityNode } from "./custom.js";
import { sweepHooks, type DiffNode } from "../ops/sweep.js";
import { flattenTree, unflattenTree } from "./tree.js";

/** Where a non-finite value appeared: the forward pass, the backward pass, or forward-mode tangents. */
export type AnomalyPhase = "forward" | "backward" | "tangent";

/**
 * A non-finite value made by an op from finite values. `op` names the op (or custom function), `node` is the graph
 * node, `input` the input whose gradient went bad (backward). When the node came from an expression and its
 * source is known, `format()` shows the source line with a caret under the node, as a {@link SourceError} does.
 */
export class AnomalyError extends SourceError {
  override name = "AnomalyError";
  constructor(
    message: string,
    /** Where the NaN/Inf appeared: the forward pass, the backward pass, or forward-mode tangents. */
    readonly phase: AnomalyPhase,
    /** The op that made it (its name). */
    readonly op: string,
    /** The node it made, when there is one. */
    readonly node: GraphNode | undefined,
    /** Where in the source the node came from (graphs compiled from an expression). */
    readonly span: Span | undefined,
    source = "",
    /** In the backward pass or the tangents: which of the op's inputs the non-finite derivative concerns. */
    readonly input?: number,
  ) {
    super(message, source, span?.pos ?? 0, span?.length ?? 1);
  }

  /** With a source and a span: `expression:5: message` and the caret; otherwise the message alone. */
  override format(): string {
    return this.source !== "" && this.span !== undefined ? super.format() : this.message;
  }

  /** The same anomaly, located in `source` (at `span`, by default the node's). */
  locate(source: string, span: Span | undefined = this.span): AnomalyError {
    return new AnomalyError(this.message, this.phase, this.op, this.node, span, span === undefined ? "" : source, this.input);
  }
}

/** The first non-finite element of an array (row-major index and value), or null. */
function firstNonFinite(v: unknown): { index: number[]; value: number } | null {
  const a = v instanceof Tensor ? v.value : v;
  if (!(a instanceof NDArray)) return null;
  const data = a.contiguous ? a.data.subarray(a.offset, a.offset + a.size) : toTypedArray(a);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) {
      const index = new Array<number>(a.shape.length);
      let r = i;
      for (let d = a.shape.length - 1; d >= 0; d--) {
        index[d] = r % a.shape[d]!;
        r = Math.floor(r / a.shape[d]!);
      }
      return { index, value: x };
    }
  }
  return null;
}

const DT: Record<DType, string> = { float32: "f32", float64: "f64" };

function typeOf(x: { dtype: DType; shape: Shape }): string {
  return `${DT[x.dtype]}${formatShape(x.shape)}`;
}

function where(bad: { index: number[] }): string {
  return bad.index.length === 0 ? "" : ` at [${bad.index.join(",")}]`;
}

function signature(op: AnyOp, inputs: readonly { dtype: DType; shape: Shape }[]): string {
  return `${op.name}(${inputs.map(typeOf).join(", ")})`;
}

/** `pow(0, 1.5)` for single numbers (as the scalar engine says it), else the shapes: `pow(f64[2], f64[])`. */
function readable(op: AnyOp, inputs: readonly Tensor[]): string {
  if (inputs.every((x) => x instanceof Tensor && x.ndim === 0)) return `${op.name}(${inputs.map((x) => String(x.item())).join(", ")})`;
  return signature(op, inputs);
}

/** Options of {@link detectAnomaly}. */
export interface AnomalyOptions {
  /** The source text the graph was compiled from, to show the node with a caret (nodes carry spans). */
  source?: string;
}

const ANOMALY_KEYS = optionKeys<AnomalyOptions>({ source: true });

/**
 * Runs `fn` with NaN/Inf detection on (PyTorch's detect_anomaly, JAX's debug_nans): every op applied to tensors,
 * every cotangent a vjp rule gives and every tangent a jvp rule gives is checked, and the first one that is not
 * finite although what it was made from is finite throws an {@link AnomalyError} naming the op (for a node
 * compiled from an expression, at its place in `options.source`). An op applied while a rule runs on tensors
 * (a custom function's rule, or any rule with `createGraph`) is reported as a step of that rule, naming the node
 * whose rule it is. Values that come in non-finite are not flagged, only those an op makes. For synchronous code;
 * it costs a scan of every value.
 *
 * @example
 * const x = tensor([1, 0], { requiresGrad: true });
 * detectAnomaly(() => x.sqrt().sum().backward());
 * // AnomalyError: backward pass: the gradient that sqrt(f32[2]) gives its input 0 is Infinity at [1] (from a finite incoming gradient)
 */
export function detectAnomaly<R>(fn: () => R, options: AnomalyOptions = {}): R {
  expectFunction(fn, "detectAnomaly");
  expectOptions("detectAnomaly", options, ANOMALY_KEYS);
  const saved = { apply: tensorHooks.afterApply, vjp: sweepHooks.vjp, jvp: sweepHooks.jvp, at: sweepHooks.at };
  // A node made while a rule runs on graph tensors (createGraph) is a step of the derivative of the node whose
  // rule it is: an anomaly there (forward mode over a backward pass, as in a Hessian) is located at that node.
  const origins = new WeakMap<object, DiffNode>();
  const spanOf = (n: object): Span | undefined => (n as { span?: Span }).span;
  const originOf = (node: object): DiffNode | undefined => {
    let n = origins.get(node);
    for (let k = 0; n !== undefined && spanOf(n) === undefined && origins.has(n) && k < 64; k++) n = origins.get(n);
    return n;
  };
  const fail = (message: string, phase: AnomalyPhase, op: AnyOp, node: Tensor | DiffNode, input?: number): never => {
    let span = node instanceof Tensor ? node.span : undefined;
    const origin = span === undefined ? originOf(node) : undefined;
    if (origin !== undefined && origin.op !== null) {
      const [head, ...rest] = message.split(": ");
      message = `${head}, in the derivative of ${readable(origin.op, origin.inputs as Tensor[])}: ${rest.join(": ")}`;
      span = spanOf(origin);
    }
    const e = new AnomalyError(message, phase, op.name, node, span, "", input);
    throw options.source !== undefined && span !== undefined ? e.locate(options.source) : e;
  };
  // A step of a derivative is named by its values where they are single numbers (its shapes say little).
  const sig = (op: AnyOp, node: DiffNode): string => (origins.has(node) ? readable(op, node.inputs as Tensor[]) : signature(op, node.inputs as Tensor[]));
  tensorHooks.afterApply = (op, inputs, out) => {
    const running = sweepHooks.at;
    if (running !== null && running.node.op !== null) origins.set(out, running.node);
    const bad = firstNonFinite(out.value);
    if (bad === null || inputs.some((x) => firstNonFinite(x.value) !== null)) return;
    const what = `${signature(op, inputs)} gave ${bad.value}${where(bad)} from finite inputs`;
    // An op applied while a sweep runs a rule on graph tensors (createGraph, custom rules) is a step of that rule.
    const at = sweepHooks.at;
    if (at === null || at.node.op === null) fail(`forward pass: ${what}`, "forward", op, out);
    else {
      const rule = at.phase === "backward" ? "backward pass, in the vjp rule" : "forward mode, in the jvp rule";
      fail(`${rule} of ${signature(at.node.op, at.node.inputs as Tensor[])}: ${what}`, at.phase, at.node.op, at.node);
    }
  };
  sweepHooks.vjp = (node, i, share, g) => {
    const bad = firstNonFinite(share);
    if (bad === null || firstNonFinite(g) !== null) return;
    const op = node.op!;
    fail(
      `backward pass: the gradient that ${sig(op, node)} gives its input ${i} is ${bad.value}${where(bad)} (from a finite incoming gradient)`,
      "backward", op, node, i,
    );
  };
  sweepHooks.jvp = (node, t, dxs) => {
    const bad = firstNonFinite(t);
    if (bad === null || dxs.some((d) => d !== null && firstNonFinite(d) !== null)) return;
    const op = node.op!;
    fail(`forward mode: the tangent of ${sig(op, node)} is ${bad.value}${where(bad)} (from finite input tangents)`, "tangent", op, node);
  };
  try {
    return fn();
  } finally {
    tensorHooks.afterApply = saved.apply;
    sweepHooks.vjp = saved.vjp;
    sweepHooks.jvp = saved.jvp;
    sweepHooks.at = saved.at;
  }
}

/**
 * The span of `node`, or, for a node without one (a step inside a composite such as `mean`), of the first node
 * after it that depends on it and has one — the expression it belongs to.
 */
export function spanIn(root: Tensor | readonly Tensor[], node: GraphNode): Span | undefined {
  const own = (node as { span?: Span }).span;
  if (own !== undefined) return own;
  const order = topoOrder<Tensor>(root as Tensor | Tensor[]);
  const reach = new Set<GraphNode>([node]);
  for (const n of order) {
    if (!n.inputs.some((x) => reach.has(x))) continue;
    reach.add(n);
    if (n.span !== undefined) return n.span;
  }
  return undefined;
}

/**
 * The first op of a recorded tensor graph (in evaluation order) whose value is not finite although its inputs
 * are — the forward half of {@link detectAnomaly}, on a graph already built — or null. With `source`, located.
 */
export function findForwardAnomaly(root: Tensor | readonly Tensor[], options: AnomalyOptions = {}): AnomalyError | null {
  expectOptions("findForwardAnomaly", options, ANOMALY_KEYS);
  for (const n of topoOrder<Tensor>(root as Tensor | Tensor[])) {
    if (n.op === null) continue;
    const bad = firstNonFinite(n.value);
    if (bad === null || n.inputs.some((x) => firstNonFinite(x.value) !== null)) continue;
    const e = new AnomalyError(`forward pass: ${signature(n.op, n.inputs)} gave ${bad.value}${where(bad)} from finite inputs`, "forward", n.op.name, n, spanIn(root, n));
    return options.source === undefined ? e : e.locate(options.source);
  }
  return null;
}

/**
 * NaN/Inf detection on a scalar (`Value`) graph: the first op whose value is not finite although its inputs are
 * (forward pass), else the first edge of the backward pass — from the output towards the inputs — where the local
 * derivative times a finite incoming gradient is not finite (`sqrt` at 0). Computes its own gradients (the
 * graph's `.grad` fields are not touched). Null when everything is finite. With `source`, located.
 */
export function findScalarAnomaly(root: Value, options: AnomalyOptions = {}): AnomalyError | null {
  expectOptions("findScalarAnomaly", options, ANOMALY_KEYS);
  const order = topoOrder<Value>(root);
  const make = (message: string, phase: AnomalyPhase, n: Value, input?: number) => {
    const e = new AnomalyError(message, phase, n.op!.name, n, n.span, "", input);
    return options.source === undefined ? e : e.locate(options.source);
  };
  const num = (x: number) => String(x);
  for (const n of order) {
    if (n.op === null || Number.isFinite(n.data) || n.inputs.some((x) => !Number.isFinite(x.data))) continue;
    return make(`forward pass: ${n.op.name}(${n.inputs.map((x) => num(x.data)).join(", ")}) gave ${n.data} from finite inputs`, "forward", n);
  }
  const grads = new Map<Value, number>([[root, 1]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const g = grads.get(n);
    if (n.op === null || !n.requiresGrad || g === undefined || !Number.isFinite(g)) continue;
    for (let i = 0; i < n.inputs.length; i++) {
      const x = n.inputs[i]!;
      if (!x.requiresGrad) continue;
      const local = localDerivative(n, i);
      const share = local * g;
      if (!Number.isFinite(share)) {
        return make(
          `backward pass: the local derivative of ${n.op.name}(${n.inputs.map((v) => num(v.data)).join(", ")}) with respect to its input ${i} is ${local}; ` +
            `times the incoming gradient ${g} that gives ${share}`,
          "backward", n, i,
        );
      }
      grads.set(x, (grads.get(x) ?? 0) + share);
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// traceProgram
// ---------------------------------------------------------------------------------------------------------

/** A variable of a traced program: an input, a constant, or the result of an equation. */
export interface TracedVar {
  /** The variable's name in the program (`x0`, `a`, …). */
  name: string;
  /** Its shape. */
  shape: Shape;
  /** Its dtype. */
  dtype: DType;
}

/** One op of a traced program: `name: dtype[shape] = op(args, params)`. */
export interface TracedEquation extends TracedVar {
  /** The op's name. */
  op: string;
  /** Its arguments: names of variables, or literals. */
  args: string[];
  /** Its parameters, printed (`axis=0`, …). */
  params: string[];
}

/** The program a function records, one equation per op (JAX's jaxpr). */
export interface TracedProgram {
  /** The function's inputs, in order (leaves of its argument trees). */
  inputs: TracedVar[];
  /** Tensors the function closed over (constants of the program); single numbers are written inline instead. */
  constants: TracedVar[];
  /** One equation per op, in evaluation order. */
  equations: TracedEquation[];
  /** The outputs (names of variables, or literals), in the order of the result's tree. */
  outputs: string[];
  /** The program as text, one line per op. */
  toString(): string;
}

function identifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

/**
 * The program that `f` records when called with `args` (trees of tensors): the ops its results depend on, one line
 * per op with its result's dtype and shape, like JAX's make_jaxpr. Ops on constants alone are not recorded, so
 * their results appear as constants; composites appear as the primitives they are made of, custom functions as
 * one op; a transform inside `f` shows the graph it records — `traceProgram(grad(f), x)` prints the backward
 * pass, `traceProgram(grad(grad(f)), x)` the backward pass of the backward pass.
 *
 * @example
 * traceProgram((x: Tensor) => x.sin().sum(), tensor([1, 2], { label: "x" })).toString();
 * // trace(x: f32[2]) {
 * //   a: f32[2] = sin(x)
 * //   b: f32[] = sum(a, axis=0)
 * //   return b
 * // }
 */
export function traceProgram(f: (...args: never[]) => unknown, ...args: unknown[]): TracedProgram {
  expectFunction(f, "traceProgram");
  const names = new Map<Tensor, string>();
  const taken = new Set<string>();
  const inputs: TracedVar[] = [];
  const called = args.map((arg, i) => {
    const flat = flattenTree(arg, `traceProgram: argument ${i}`);
    const leaves = flat.leaves.map((x, j) => {
      const t = new Tensor(x.value, { requiresGrad: true, label: x.label });
      const path = flat.paths[j]!;
      let name = path === "" && x.label !== undefined && identifier(x.label) && !taken.has(x.label) ? x.label : `x${i}${path}`;
      if (taken.has(name)) name = `${name}_${j}`;
      taken.add(name);
      names.set(t, name);
      inputs.push({ name, shape: t.shape, dtype: t.dtype });
      return t;
    });
    return unflattenTree(flat.spec, leaves);
  });
  const out = enableGrad(() => (f as (...a: unknown[]) => unknown)(...called));
  const outFlat = flattenTree(out, "traceProgram: the result");
  let counter = 0;
  const fresh = (prefix = ""): string => {
    for (;;) {
      const k = counter++;
      const name = prefix + String.fromCharCode(97 + (k % 26)) + (k < 26 ? "" : String(Math.floor(k / 26)));
      if (!taken.has(name)) {
        taken.add(name);
        return name;
      }
    }
  };
  const constants: TracedVar[] = [];
  const equations: TracedEquation[] = [];
  const literal = (n: Tensor) => n.size === 1 && n.ndim === 0 && !n.requiresGrad;
  const nameOf = (n: Tensor): string => {
    const known = names.get(n);
    if (known !== undefined) return known;
    if (literal(n)) return formatNumber(n.item());
    let k = constants.length;
    let name = `c${k}`;
    while (taken.has(name)) name = `c${++k}`;
    taken.add(name);
    names.set(n, name);
    constants.push({ name, shape: n.shape, dtype: n.dtype });
    return name;
  };
  for (const n of topoOrder<Tensor>(outFlat.leaves)) {
    if (names.has(n)) continue;
    if (n.op === null) continue; // constants are named when first used
    if (isIdentityNode(n)) {
      names.set(n, nameOf(n.inputs[0]!));
      continue;
    }
    const argNames = n.inputs.map(nameOf);
    const name = fresh();
    names.set(n, name);
    equations.push({ name, op: n.op.name, args: argNames, params: n.op.printParams?.(n.params, "board") ?? [], shape: n.shape, dtype: n.dtype });
  }
  const outputs = outFlat.leaves.map(nameOf);
  const text = (): string => {
    const lines = [`trace(${inputs.map((v) => `${v.name}: ${typeOf(v)}`).join(", ")}) {`];
    for (const c of constants) lines.push(`  ${c.name}: ${typeOf(c)} = constant`);
    for (const e of equations) lines.push(`  ${e.name}: ${typeOf(e)} = ${e.op}(${[...e.args, ...e.params].join(", ")})`);
    lines.push(`  return ${outputs.join(", ")}`, "}");
    return lines.join("\n");
  };
  return { inputs, constants, equations, outputs, toString: text };
}

function formatNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
}
