/**
 * The training view's compiled step: the step the view trains (Forward, Backprop, Update on the same MLP and
 * optimizer), traced with `compile` into a program, simplified pass by pass with the library's passes, and drawn
 * with `programDot` (each fused kernel a cluster). Pure: runs in Node for the unit tests; the page shows it
 * (compiled-view.ts).
 */
import {
  compile,
  eliminateCommon,
  eliminateDead,
  fuseElementwise,
  fuseKernels,
  fuseReductions,
  inPlaceUpdates,
  lowerElementwise,
  nn,
  planMemory,
  programDot,
  programString,
  type Program,
  type Tensor,
} from "gradgraph";
import { TrainSession } from "./train-session.js";
import type { TrainSettings } from "./train-settings.js";

/** What each pass did, and what runs in the end. */
export interface CompiledCounts {
  /** Operations the trace recorded (forward, backward and update). */
  traced: number;
  /** Of those, elementwise (add, mul, relu, …, where). */
  elementwise: number;
  /** Constants in the trace: numbers in the code, and tensors computed from constants alone, folded while tracing. */
  constants: number;
  /** Steps dropped because nothing used their result (dead code). */
  dead: number;
  /** Steps merged into an earlier one computing the same thing (common subexpressions). */
  common: number;
  /** Elementwise steps left before fusion, and the kernels they became. */
  fusedFrom: number;
  kernels: number;
  /** Kernels that write over a tensor's own storage (the parameter and moment updates). */
  inPlace: number;
  /** Sums computed inside the kernel that makes their values (fused reductions). */
  sums: number;
  /** Kernels that write several results in one pass (siblings reading the same inputs, merged). */
  multi: number;
  /** The final program: its steps, of which non-elementwise ops (matmul, sum, …; views among them), JavaScript steps. */
  steps: number;
  ops: number;
  views: number;
  host: number;
  /** Arrays the memory plan allocates once and reuses at every step, and their bytes. */
  buffers: number;
  bytes: number;
}

/** A traced and compiled training step. */
export interface CompiledStep {
  /** The program as traced, and after every pass. */
  traced: Program;
  program: Program;
  counts: CompiledCounts;
  /** The program in Graphviz DOT, fused kernels as clusters. */
  dot: string;
  /** The program as text (`programString`). */
  text: string;
  /** One paragraph saying what compiling did, with the counts. */
  explanation: string;
}

const fusedCount = (p: Program) => p.steps.filter((s) => s.kind === "fused" || s.kind === "kernel").length;

/** The passes of `optimize`, one at a time, with what each did (compiled.test.ts checks they give `optimize`'s program). */
export function passCounts(traced: Program): { program: Program; counts: CompiledCounts } {
  const lowered = lowerElementwise(traced);
  const live = eliminateDead(lowered);
  const shared = eliminateCommon(live);
  const fused = fuseElementwise(shared);
  const updated = inPlaceUpdates(fused);
  const reduced = fuseReductions(updated);
  const program = fuseKernels(reduced);
  const plan = planMemory(program);
  const counts: CompiledCounts = {
    traced: traced.steps.length,
    elementwise: fusedCount(lowered),
    constants: [...traced.sources.values()].filter((s) => s.kind === "constant").length,
    dead: lowered.steps.length - live.steps.length,
    common: live.steps.length - shared.steps.length,
    fusedFrom: fusedCount(shared),
    kernels: fusedCount(program),
    inPlace: program.steps.filter((s) => s.kind === "fused" && s.into !== undefined).length,
    sums: program.steps.reduce((n, s) => n + (s.kind === "kernel" ? s.outs.filter((o) => o.sum !== undefined).length : 0), 0),
    multi: program.steps.filter((s) => s.kind === "kernel" && s.outs.length > 1).length,
    steps: program.steps.length,
    ops: program.steps.filter((s) => s.kind === "op").length,
    views: program.steps.filter((s) => s.kind === "op" && s.view).length,
    host: program.steps.filter((s) => s.kind === "host").length,
    buffers: plan.sizes.length,
    bytes: plan.sizes.reduce((a, b) => a + b.size * (b.dtype === "float32" ? 4 : 8), 0),
  };
  return { program, counts };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** What compiling did, in plain words, with the counts. */
export function explain(c: CompiledCounts, optimizer: string): string {
  const kb = c.bytes < 10_000 ? `${plural(c.bytes, "byte")}` : `${(c.bytes / 1024).toFixed(0)} KB`;
  return [
    `Compiling ran the training step once — forward, backward and the ${optimizer} update — while recording every operation: ${plural(c.traced, "operation")}, written down as one static program (the lecture's graph, fixed).`,
    `Then the passes simplified it.`,
    `Dead code: ${c.dead === 0 ? "no step was" : `${plural(c.dead, "step")} whose result nothing used ${c.dead === 1 ? "was" : "were"}`} dropped.`,
    `Shared subexpressions: ${c.common === 0 ? "no step repeated" : `${plural(c.common, "step")} that computed what an earlier one had computed ${c.common === 1 ? "was" : "were"} merged into it`}${c.common === 0 ? " an earlier one" : ""}.`,
    `Constants: ${plural(c.constants, "value")} that depend on nothing that changes between steps (numbers in the code, and what is computed from them alone) were worked out once, while tracing.`,
    `Elementwise fusion: the ${plural(c.fusedFrom, "elementwise step")} (add, multiply, relu, the optimizer's arithmetic…) became ${plural(c.kernels, "kernel")}, the boxes in the graph: each kernel makes one pass over memory and keeps its intermediate values in registers instead of writing an array for each.`,
    c.sums + c.multi === 0
      ? "Reductions and siblings: no sum was computed inside a kernel, and no kernel writes several results."
      : `Reductions and siblings: ${plural(c.sums, "sum")} ${c.sums === 1 ? "is" : "are"} added up inside the kernel that computes ${c.sums === 1 ? "its" : "their"} values, and ${plural(c.multi, "kernel")} ${c.multi === 1 ? "writes" : "write"} several results in one pass (steps that read the same inputs, merged).`,
    c.inPlace === 0
      ? "In place: no update writes over its tensor's storage."
      : `In place: ${plural(c.inPlace, "update")} (parameters and the optimizer's buffers) ${c.inPlace === 1 ? "writes over its tensor's" : "write over their tensors'"} own storage instead of a fresh array.`,
    `What runs at every step is ${plural(c.steps, "step")} in ${plural(c.buffers, "buffer")} (${kb}) planned once and reused, replayed without tracing again${
      c.host === 0 ? "." : `; the ${plural(c.host, "JavaScript step")} (dashed) compute what changes from call to call: the optimizer's learning rate and step count, and the labels checked and made indices.`
    }`,
  ].join(" ");
}

/** Names of the state a step reads: the model's parameters (`0.weight`) and the optimizer's buffers (`0.weight.exp_avg`). */
function stateNames(model: nn.Module, optimizer: nn.Optimizer): (t: Tensor) => string {
  const params = model.namedParameters();
  const names = new Map<Tensor, string>(params.map(([n, p]) => [p, n]));
  for (const [key, t] of optimizer.stateDict().tensors) {
    const [i, kind] = key.split(".", 2);
    names.set(t, `${params[Number(i)]?.[0] ?? i}.${kind}`);
  }
  return (t) => names.get(t) ?? t.label ?? `tensor#${t.id}`;
}

const OPTIMIZER_NAMES: Record<TrainSettings["opt"], string> = { sgd: "SGD", momentum: "momentum", nesterov: "Nesterov momentum", adam: "Adam", adamw: "AdamW" };

/**
 * The training step of a run with these settings, compiled: a fresh session (the same model, optimizer and first
 * minibatch as the view's run), one eager step first (so an optimizer's buffers exist, as at every step after the
 * first), then the step traced and simplified. The view's own run is not touched.
 */
export async function compiledStep(settings: TrainSettings): Promise<CompiledStep> {
  const session = await TrainSession.create(settings);
  const { model, optimizer } = session;
  const step = (x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const { x, y } = session.loader[Symbol.iterator]().next().value as nn.Batch;
  step(x, y);
  const compiled = compile(step, { optimize: false, strict: true });
  compiled(x, y);
  const traced = compiled.programs()[0]!;
  const { program, counts } = passCounts(traced);
  const names = stateNames(model, optimizer);
  return {
    traced,
    program,
    counts,
    dot: programDot(program, { names, inputNames: ["x", "y"], name: "compiled step" }),
    text: programString(program, names),
    explanation: explain(counts, OPTIMIZER_NAMES[settings.opt]),
  };
}
