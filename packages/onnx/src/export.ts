/**
 * A traced gradgraph program as an ONNX model: every step lowered by ./lower.ts (ops of the table, fused
 * elementwise kernels, copies), the program's inputs as graph inputs, its constants as initializers, and the
 * tensors it reads (parameters, optimizer buffers) as initializers, inputs, or both. What a call leaves in tensors
 * (a parameter's new value, a gradient) becomes an output named after the tensor.
 */
import { Tensor } from "gradgraph";
import { attr, GraphBuilder, modelOf, tensorProto, type OnnxValue } from "./builder.js";
import { OnnxError } from "./errors.js";
import { lowerAlu, lowerOp } from "./lower.js";
import { DataType, type ModelProto } from "./proto.js";
import type { EffectLike, ProgramLike, VarLike } from "./program.js";

/** How the tensors a program reads (its state: parameters, buffers) enter the model. */
export type StateMode =
  /** As initializers holding their current values: a model's weights. */
  | "initializer"
  /** As graph inputs, fed at each run (a runtime running the program on live tensors). */
  | "input"
  /** As initializers that inputs of the same name may override (ONNX IR ≥ 4): a training step's export. */
  | "both";

/** Options of {@link programToOnnx}. */
export interface ProgramExportOptions {
  /** How state enters the model (default "initializer"). */
  state?: StateMode;
  /** Names of state tensors (a module's parameter names); others use their label, else `state_<k>`. */
  names?: ReadonlyMap<Tensor, string>;
  /** Names of the graph inputs, in order (default `input_<i>`). */
  inputNames?: readonly string[];
  /** Names of the program's outputs, in order (default `output_<k>`). */
  outputNames?: readonly string[];
  /** The graph's name. */
  graphName?: string;
}

/** Where a graph input's value comes from at each run. */
export type Feed =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "state"; readonly tensor: Tensor; readonly field: "value" | "grad" }
  /** The `out`-th array of the program's host step number `step` (JavaScript run before the graph). */
  | { readonly kind: "host"; readonly step: number; readonly out: number };

/** Where a graph output's value goes. */
export type Fetch =
  | { readonly kind: "output"; readonly index: number }
  /** A tensor's new value or gradient (an effect of the call). */
  | { readonly kind: "state"; readonly tensor: Tensor; readonly field: "value" | "grad" };

/** A program as an ONNX model, and how its graph inputs and outputs map to the program's. */
export interface ExportedProgram {
  readonly model: ModelProto;
  readonly inputs: readonly { readonly name: string; readonly var: VarLike; readonly feed: Feed }[];
  readonly outputs: readonly { readonly name: string; readonly var: VarLike; readonly fetch: Fetch }[];
}

/** Unique, readable names: a second `w` is `w_1`. */
function namer(b: GraphBuilder): (want: string) => string {
  return (want) => {
    for (let k = 0; ; k++) {
      const name = k === 0 ? want : `${want}_${k}`;
      try {
        return b.reserve(name);
      } catch {
        continue;
      }
    }
  };
}

/**
 * The ONNX model of a program. A host step (JavaScript run at each call: an optimizer's scalars) becomes graph
 * inputs; one that reads values the graph computes cannot be expressed, and is an OnnxError naming it.
 */
export function programToOnnx(p: ProgramLike, options: ProgramExportOptions = {}): ExportedProgram {
  const b = new GraphBuilder();
  const unique = namer(b);
  const mode = options.state ?? "initializer";
  const names = new Map<number, string>();
  const value = (v: VarLike): OnnxValue => {
    const name = names.get(v.id);
    if (name === undefined) throw new OnnxError(`the program reads %${v.id} before any step makes it`);
    return { name, shape: v.shape, dtype: v.dtype };
  };
  const inputs: { name: string; var: VarLike; feed: Feed }[] = [];
  const initializers: { name: string; var: VarLike; tensor: Tensor }[] = [];
  let stateCount = 0;
  const stateNames = new Map<Tensor, string>();
  const stateName = (t: Tensor): string => {
    let name = stateNames.get(t);
    if (name === undefined) {
      name = options.names?.get(t) ?? t.label ?? `state_${stateCount++}`;
      stateNames.set(t, name);
    }
    return name;
  };

  p.inputs.forEach((v, i) => {
    const name = unique(options.inputNames?.[i] ?? `input_${i}`);
    if (!names.has(v.id)) names.set(v.id, name);
    inputs.push({ name, var: v, feed: { kind: "input", index: i } });
  });
  for (const [v, s] of p.sources) {
    if (s.kind === "input") continue;
    if (s.kind === "constant") {
      const data = new Tensor(s.value).toArray();
      names.set(v.id, b.initializer(tensorProto(unique(`const_${v.id}`), v.dtype, v.shape, data)));
      continue;
    }
    const name = unique(s.field === "grad" ? `${stateName(s.tensor)}.grad` : stateName(s.tensor));
    names.set(v.id, name);
    if (mode !== "input") initializers.push({ name, var: v, tensor: s.field === "grad" ? s.tensor.grad ?? s.tensor : s.tensor });
    if (mode !== "initializer") inputs.push({ name, var: v, feed: { kind: "state", tensor: s.tensor, field: s.field } });
  }
  for (const init of initializers) b.initializers.push(tensorProto(init.name, init.var.dtype, init.var.shape, init.tensor.toArray()));

  // Outputs: the program's, then what the call leaves in tensors (updates in place, assigned values, gradients).
  const outputs: { name: string; var: VarLike; fetch: Fetch }[] = [];
  p.outputs.forEach((v, k) => outputs.push({ name: options.outputNames?.[k] ?? `output_${k}`, var: v, fetch: { kind: "output", index: k } }));
  const inPlace = new Map<Tensor, VarLike>();
  for (const s of p.steps) {
    if (s.kind !== "fused" || s.into === undefined) continue;
    const src = p.sources.get(s.into);
    if (src?.kind === "state" && src.field === "value") inPlace.set(src.tensor, s.out);
  }
  for (const [tensor, v] of inPlace) outputs.push({ name: `${stateName(tensor)}.updated`, var: v, fetch: { kind: "state", tensor, field: "value" } });
  for (const e of p.effects as readonly EffectLike[]) {
    if (e.var === null) continue;
    const name = e.field === "grad" ? `${stateName(e.tensor)}.grad` : `${stateName(e.tensor)}.updated`;
    outputs.push({ name, var: e.var, fetch: { kind: "state", tensor: e.tensor, field: e.field } });
  }
  // The first output of a var computed by a step names that step's result; the rest are Identity copies.
  const wanted = new Map<number, string>();
  for (const o of outputs) {
    o.name = unique(o.name);
    if (!p.sources.has(o.var) && !wanted.has(o.var.id)) wanted.set(o.var.id, o.name);
  }
  const made = (v: VarLike, result: string) => {
    const want = wanted.get(v.id);
    const last = b.nodes.at(-1);
    if (want !== undefined && last?.output?.[0] === result) last.output[0] = want;
    else if (want !== undefined) b.node("Identity", [result], [], want);
    names.set(v.id, want ?? result);
  };

  const computed = new Set<number>();
  p.steps.forEach((s, i) => {
    switch (s.kind) {
      case "op": {
        const index = s.index === undefined ? undefined : b.node("Cast", [value(s.index).name], [attr.int("to", DataType.INT64)]);
        made(s.out, lowerOp(b, s.op.name, s.params, s.inputs.map(value), s.out, index));
        break;
      }
      case "fused":
        made(s.out, lowerAlu(b, s.expr, s.inputs.map(value), s.out));
        break;
      case "copy":
        made(s.out, b.node(s.input.dtype === s.out.dtype ? "Identity" : "Cast", [value(s.input).name], s.input.dtype === s.out.dtype ? [] : [attr.int("to", s.out.dtype === "float64" ? DataType.DOUBLE : DataType.FLOAT)]));
        break;
      case "host": {
        const late = s.inputs.find((v) => computed.has(v.id));
        if (late !== undefined) throw new OnnxError(`the step computes ${s.name} in JavaScript from %${late.id}, a value of the graph: ONNX cannot run JavaScript in the middle of a graph`);
        s.outs.forEach((v, k) => {
          const name = unique(s.outs.length === 1 ? s.name : `${s.name}_${k}`);
          names.set(v.id, name);
          inputs.push({ name, var: v, feed: { kind: "host", step: i, out: k } });
        });
        return;
      }
    }
    for (const v of s.kind === "op" || s.kind === "fused" || s.kind === "copy" ? [s.out] : []) computed.add(v.id);
  });
  for (const o of outputs) {
    const have = value(o.var).name;
    if (have !== o.name) b.node("Identity", [have], [], o.name);
  }
  const io = (list: readonly { name: string; var: VarLike }[]) => list.map(({ name, var: v }) => ({ name, shape: v.shape, dtype: v.dtype }));
  return { model: modelOf(b, io(inputs), io(outputs), options.graphName), inputs, outputs };
}
