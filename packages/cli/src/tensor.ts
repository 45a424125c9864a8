/**
 * The CLI on the tensor engine. An expression goes to the tensor engine when it needs it: a value bound with
 * `--at` is an array (`X=[[1,2],[3,4]]`, `X=@file.json`), or it uses `@` or a tensor function (`sum`, `mean`,
 * `max(x, axis=1)`, `softmax`, `logsumexp`, `transpose`); every other expression stays on the scalar engine,
 * unchanged. The CLI computes in float64. When the value is not a single number, the backward pass is seeded
 * with ones (the gradient of its sum), as the lecture does — forward mode adds up the output's tangent, which gives
 * the same derivatives of the sum — and stderr says so.
 */
import { engine, formatShape, fromTypedArray, InputError, ones, type Tensor, zerosLike } from "gradgraph";
import { callsTensorFunction, type CodeTarget, compileTensor, describeTensorGraph, formatNested, formatTensorTrace, generateTensorCode, type Mode, parseBindings, parseProgram, type Program, tensorFunctions, type TensorGraph, tensorToDot, usesTensorFeatures } from "gradgraph/lecture";
import type { Io } from "./io.js";
import type { Drawable } from "./svg.js";
import { jsonValue } from "./json.js";

export interface TensorProblem {
  program: Program;
  graph: TensorGraph;
  /** The output's name: the header's, or `f`. */
  output: string;
}

/**
 * The tensor problem for `expr` at the `--at` texts, or null when the scalar engine applies (numbers only and
 * no tensor feature). A program that the scalar language rejects is tried as a tensor program; when both fail,
 * the tensor language's error is shown if the text calls a tensor function, else the scalar one.
 */
export function tensorSetUp(expr: string, at: readonly string[], options: { partial?: boolean; command?: string } = {}): TensorProblem | null {
  let scalar: Program;
  try {
    scalar = parseProgram(expr);
  } catch (scalarError) {
    let program: Program;
    try {
      program = parseProgram(expr, { functions: tensorFunctions });
    } catch (tensorError) {
      throw callsTensorFunction(expr) ? tensorError : scalarError;
    }
    return build(program, at, options);
  }
  if (!usesTensorFeatures(scalar)) {
    const bindings = parseBindings(at, scalar, { partial: true });
    if (![...bindings.values()].some(Array.isArray)) return null;
  }
  return build(parseProgram(expr, { functions: tensorFunctions }), at, options);
}

function build(program: Program, at: readonly string[], options: { partial?: boolean; command?: string }): TensorProblem {
  const bindings = parseBindings(at, program, { partial: options.partial ?? false });
  const missing = program.inputs.filter((n) => !bindings.has(n));
  if (missing.length > 0) {
    throw new InputError(
      `${options.command ?? "this command"}: a tensor expression takes its shapes from its values: bind ${missing.join(", ")} with --at`,
    );
  }
  const graph = compileTensor(program, bindings, { dtype: "float64" });
  return { program, graph, output: graph.output ?? "f" };
}

/** The note written to stderr when the output is not a single value, saying what the mode differentiates. */
export function seedNote(p: TensorProblem, mode: Mode = "reverse"): string {
  const head = `note: ${p.output} has shape ${formatShape(p.graph.root.shape)}, not a single value: `;
  return mode === "forward"
    ? `${head}forward mode gives the derivatives of sum(${p.output}) (each pass adds up the tangent of ${p.output}), ` +
        "as the lecture's backward pass seeded with ones does\n"
    : `${head}the backward pass is seeded with ones (the gradient of sum(${p.output})), as the lecture does\n`;
}

/** Gradients of sum(output) (of the output, for a single value) with respect to every input. */
export function tensorGradients(p: TensorProblem, mode: Mode): Tensor[] {
  const { root, inputs } = p.graph;
  if (mode === "paths") {
    throw new InputError("--mode paths: the path-product algorithm runs on scalar expressions; with tensors use reverse or forward");
  }
  if (!root.requiresGrad) return inputs.map((x) => zerosLike(x));
  if (mode === "reverse") return engine.gradients([root], inputs, [ones(root.shape, { dtype: root.dtype })]);
  // Forward mode: one pass per input element, each pushing a one-hot tangent to the output. The other inputs get
  // no tangent at all (not a zero one), so ops on them alone carry none: an infinite local derivative there
  // (sqrt at 0, division by 0) meets no tangent, rather than 0·∞ = NaN.
  return inputs.map((x) => {
    const out = new Float64Array(x.size);
    for (let j = 0; j < x.size; j++) {
      const t = new Float64Array(x.size);
      t[j] = 1;
      const [ty] = engine.tangents([root], [x], [tensorOf(t, x.shape)]);
      out[j] = ty!.sum().item();
    }
    return tensorOf(out, x.shape);
  });
}

/** A float64 tensor over `data` (no copy). */
function tensorOf(data: Float64Array, shape: readonly number[]): Tensor {
  return fromTypedArray(data, shape);
}

/** `grad` on a tensor problem: the value and the gradient of every input, as text or as JSON. */
export function tensorGrad(p: TensorProblem, mode: Mode, json: boolean, io: Io): void {
  const { root, inputs, names } = p.graph;
  const grads = tensorGradients(p, mode);
  if (root.size !== 1) io.err(seedNote(p, mode));
  const out = p.output;
  if (json) {
    const grad: Record<string, unknown> = {};
    names.forEach((n, i) => (grad[n] = jsonValue(grads[i]!.toNested(), `∂${out}/∂${n}`, io)));
    io.out(JSON.stringify({ value: jsonValue(root.toNested(), out, io), grad }) + "\n");
    return;
  }
  const of = root.size === 1 ? out : `sum(${out})`;
  const width = names.reduce((w, n) => Math.max(w, n.length), 0);
  io.out(`${out} = ${formatNested(root.toNested())}${root.ndim > 0 ? `  (shape ${formatShape(root.shape)})` : ""}\n`);
  names.forEach((n, i) => io.out(`∂${of}/∂${n.padEnd(width)} = ${formatNested(grads[i]!.toNested())}\n`));
  const passes = mode === "reverse" ? "one backward pass" : `${inputs.reduce((s, x) => s + x.size, 0)} forward passes, one per input element`;
  io.out(`(${mode} mode on the tensor engine: ${passes})\n`);
}

/** `trace` on a tensor problem: forward and backward tables with shapes. */
export function tensorTrace(p: TensorProblem, io: Io): void {
  const view = describeTensorGraph(p.graph.root, p.graph.inputs, nameOf(p));
  if (view.seededWithOnes) io.err(seedNote(p));
  io.out(formatTensorTrace(view));
}

/** `trace --code` on a tensor problem: the lecture's vectorised `df` (NumPy, or gradgraph's functional in TS). */
export function tensorCode(p: TensorProblem, target: CodeTarget, io: Io): void {
  if (p.graph.root.size !== 1) io.err(seedNote(p));
  io.out(generateTensorCode(p.graph.root, p.graph.inputs, target, nameOf(p)));
}

/** `dot` on a tensor problem: the graph with shapes on every edge. */
export function tensorDot(p: TensorProblem): Drawable {
  const view = describeTensorGraph(p.graph.root, p.graph.inputs, nameOf(p));
  return { nodes: view.nodes, dot: (layout) => tensorToDot(view, { layout }) };
}

/** The header's name for the output, if it gives one. */
function nameOf(p: TensorProblem): { rootName?: string } {
  return p.graph.output === undefined ? {} : { rootName: p.graph.output };
}
