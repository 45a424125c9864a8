/**
 * A traced gradgraph program as an ONNX model: every step lowered by ./lower.ts (ops of the table, fused
 * elementwise kernels, copies), the program's inputs as graph inputs, its constants as initializers, and the
 * tensors it reads (parameters, optimizer buffers) as initializers, inputs, or both. What a call leaves in tensors
 * (a parameter's new value, a gradient) becomes an output named after the tensor.
 */
import { isTensor, stepProgram, Tensor, type Program, type Var } from "gradgraph";
import type { AluNode } from "gradgraph/ops";
import { attr, GraphBuilder, modelOf, tensorProto, type OnnxValue } from "./builder.js";
import { OnnxError } from "./errors.js";
import { lowerAlu, lowerOp } from "./lower.js";
import { DataType, encodeModel, type ModelProto } from "./proto.js";

/** How the tensors a program reads (its state: parameters, buffers) enter the model. */
export type StateMode =
  /** "both" when the program writes state (a training step), else "initializer" (a model). */
  | "auto"
  /** As initializers holding their current values: a model's weights. */
  | "initializer"
  /** As graph inputs, fed at each run (a runtime running the program on live tensors). */
  | "input"
  /** As initializers that inputs of the same name may override (ONNX IR ≥ 4): a training step's export. */
  | "both";

/** Options of {@link programToOnnx}. */
export interface ProgramExportOptions {
  /** How state enters the model (default "auto"). */
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
  readonly inputs: readonly { readonly name: string; readonly var: Var; readonly feed: Feed }[];
  readonly outputs: readonly { readonly name: string; readonly var: Var; readonly fetch: Fetch }[];
}

/** Unique, readable names: a second `w` is `w_1`. */
function namer(b: GraphBuilder): (want: string) => string {
  return (want) => {
    let name = want;
    for (let k = 1; b.taken(name); k++) name = `${want}_${k}`;
    return b.reserve(name);
  };
}

/** A program's multi-output kernel step (`kind: "kernel"`). */
interface KernelStep {
  readonly inputs: readonly Var[];
  readonly shape: readonly number[];
  readonly outs: readonly { readonly expr: AluNode; readonly out: Var; readonly sum?: readonly number[] }[];
}

/**
 * The ONNX model of a program. A host step (JavaScript run at each call: an optimizer's scalars) becomes graph
 * inputs; one that reads values the graph computes cannot be expressed, and is an OnnxError naming it.
 */
export function programToOnnx(p: Program, options: ProgramExportOptions = {}): ExportedProgram {
  const b = new GraphBuilder();
  const unique = namer(b);
  const writes = p.effects.some((e) => e.var !== null) || p.steps.some((s) => s.kind === "fused" && s.into !== undefined);
  const mode = options.state === undefined || options.state === "auto" ? (writes ? "both" : "initializer") : options.state;
  const names = new Map<number, string>();
  const value = (v: Var): OnnxValue => {
    const name = names.get(v.id);
    if (name === undefined) throw new OnnxError(`the program reads %${v.id} before any step makes it`);
    return { name, shape: v.shape, dtype: v.dtype };
  };
  const inputs: { name: string; var: Var; feed: Feed }[] = [];
  const initializers: { name: string; var: Var; tensor: Tensor }[] = [];
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
      const name = unique(`const_${v.id}`);
      b.initializers.push(tensorProto(name, v.dtype, v.shape, new Tensor(s.value).toArray()));
      names.set(v.id, name);
      continue;
    }
    const name = unique(s.field === "grad" ? `${stateName(s.tensor)}.grad` : stateName(s.tensor));
    names.set(v.id, name);
    if (mode !== "input") initializers.push({ name, var: v, tensor: s.field === "grad" ? s.tensor.grad ?? s.tensor : s.tensor });
    if (mode !== "initializer") inputs.push({ name, var: v, feed: { kind: "state", tensor: s.tensor, field: s.field } });
  }
  for (const init of initializers) b.initializers.push(tensorProto(init.name, init.var.dtype, init.var.shape, init.tensor.toArray()));

  // Outputs: the program's, then what the call leaves in tensors (updates in place, assigned values, gradients).
  const outputs: { name: string; var: Var; fetch: Fetch }[] = [];
  p.outputs.forEach((v, k) => outputs.push({ name: options.outputNames?.[k] ?? `output_${k}`, var: v, fetch: { kind: "output", index: k } }));
  // Writes in place are no effect of the program (the storage is shared): each state's last version is an output.
  const storage = new Map<number, { tensor: Tensor; field: "value" | "grad" }>();
  const inPlace = new Map<Tensor, Map<"value" | "grad", Var>>();
  for (const s of p.steps) {
    if (s.kind !== "fused" || s.into === undefined) continue;
    const src = p.sources.get(s.into);
    const of = src?.kind === "state" ? { tensor: src.tensor, field: src.field } : storage.get(s.into.id);
    if (of === undefined) continue;
    storage.set(s.out.id, of);
    if (!inPlace.has(of.tensor)) inPlace.set(of.tensor, new Map());
    inPlace.get(of.tensor)!.set(of.field, s.out);
  }
  for (const [tensor, versions] of inPlace) {
    for (const [field, v] of versions) outputs.push({ name: field === "grad" ? `${stateName(tensor)}.grad` : `${stateName(tensor)}.updated`, var: v, fetch: { kind: "state", tensor, field } });
  }
  for (const e of p.effects) {
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
  // `from`: the number of nodes before the step; a result its own last node made can take the output's name
  const made = (v: Var, result: string, from: number) => {
    const want = wanted.get(v.id);
    const last = b.nodes.length > from ? b.nodes.at(-1) : undefined;
    if (want !== undefined && last?.output?.[0] === result) last.output[0] = want;
    else if (want !== undefined) b.node("Identity", [result], [], want);
    names.set(v.id, want ?? result);
  };

  const computed = new Set<number>();
  p.steps.forEach((s, i) => {
    const from = b.nodes.length;
    if ("outs" in s && s.kind !== "host") {
      // a multi-output kernel: each result on its own (ONNX Runtime's common-subexpression pass shares what they
      // have in common), a sum as ReduceSum
      const k = s as unknown as KernelStep;
      for (const o of k.outs) {
        const at = b.nodes.length;
        const all: OnnxValue = { name: lowerAlu(b, o.expr, k.inputs.map(value), { shape: k.shape, dtype: o.out.dtype }), shape: k.shape, dtype: o.out.dtype };
        made(o.out, o.sum === undefined ? all.name : lowerOp(b, "sum", { axes: o.sum, keepdims: o.out.shape.length === k.shape.length }, [all], o.out), at);
        computed.add(o.out.id);
      }
      return;
    }
    switch (s.kind) {
      case "op": {
        const index = s.index === undefined ? undefined : b.node("Cast", [value(s.index).name], [attr.int("to", DataType.INT64)]);
        made(s.out, lowerOp(b, s.op.name, s.params, s.inputs.map(value), s.out, index), from);
        break;
      }
      case "fused":
        made(s.out, lowerAlu(b, s.expr, s.inputs.map(value), s.out), from);
        break;
      case "copy":
        made(s.out, b.node(s.input.dtype === s.out.dtype ? "Identity" : "Cast", [value(s.input).name], s.input.dtype === s.out.dtype ? [] : [attr.int("to", s.out.dtype === "float64" ? DataType.DOUBLE : DataType.FLOAT)]), from);
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
  const io = (list: readonly { name: string; var: Var }[]) => list.map(({ name, var: v }) => ({ name, shape: v.shape, dtype: v.dtype }));
  return { model: modelOf(b, io(inputs), io(outputs), options.graphName), inputs, outputs };
}

/** A module (duck-typed: gradgraph's nn.Module): its forward function, and names for its parameters and buffers. */
interface ModuleLike {
  forward(x: Tensor): Tensor;
  namedParameters(): [string, Tensor][];
  namedBuffers?(): [string, Tensor][];
}

const isModuleLike = (x: unknown): x is ModuleLike =>
  typeof x === "object" && x !== null && typeof (x as ModuleLike).forward === "function" && typeof (x as ModuleLike).namedParameters === "function";

/** Options of {@link exportOnnx}. */
export interface ExportOptions extends Omit<ProgramExportOptions, "names"> {
  /** Names of the tensors the function reads: a module (its parameter names), `[name, tensor]` pairs, or a map. */
  names?: ModuleLike | readonly (readonly [string, Tensor])[] | ReadonlyMap<Tensor, string>;
}

/**
 * An ONNX model (opset 17, standard operators only) of a function of tensors or of a module's forward pass, as
 * the bytes of an `.onnx` file. The function runs once, eagerly, on `exampleInputs` (one tensor, or the
 * arguments in an array) while its program is traced, as `compile` traces it; the model computes what that call
 * computed, for inputs of the same shapes.
 *
 * - The graph inputs are the arguments' tensors (`input_0`, …, or `options.inputNames`).
 * - A module's parameters (and the tensors a function closes over) are initializers named after them
 *   (`0.weight`; `options.names` names a function's).
 * - A training step (a function that calls `backward()` and an optimizer's `step()`) is exported whole: the
 *   parameters are initializers that inputs of the same names override, their new values are outputs named
 *   `<name>.updated` and their gradients `<name>.grad`; numbers the step computes in JavaScript at each call (an
 *   optimizer's learning rate) are graph inputs. The traced call is a real step: it updates the parameters once.
 *
 * An op without an ONNX form (a custom function) is an {@link OnnxError} naming it.
 *
 * @example
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const bytes = exportOnnx(model, zeros([1, 784])); // write it to model.onnx; ONNX Runtime, PyTorch, Netron read it
 */
export function exportOnnx(fnOrModule: ((...args: never[]) => unknown) | ModuleLike, exampleInputs: Tensor | readonly unknown[], options: ExportOptions = {}): Uint8Array {
  const module = isModuleLike(fnOrModule) ? fnOrModule : undefined;
  if (module === undefined && typeof fnOrModule !== "function") throw new OnnxError(`exportOnnx: expected a function or a module, got ${fnOrModule === null ? "null" : typeof fnOrModule}`);
  const fn = module !== undefined ? (x: Tensor) => module.forward(x) : (fnOrModule as (...args: never[]) => unknown);
  // isTensor, not instanceof: a tensor of another copy of gradgraph is a tensor too (the tree check says more)
  if (!isTensor(exampleInputs) && !Array.isArray(exampleInputs)) {
    throw new OnnxError(`exportOnnx: expected the example inputs as a tensor or an array of them, got ${exampleInputs === null ? "null" : typeof exampleInputs}`);
  }
  const args = isTensor(exampleInputs) ? [exampleInputs] : [...exampleInputs];
  const given = options.names ?? module;
  const pairs: readonly (readonly [string, Tensor])[] =
    given === undefined ? [] : isModuleLike(given) ? [...given.namedParameters(), ...(given.namedBuffers?.() ?? [])] : given instanceof Map ? [...given].map(([t, n]) => [n, t] as const) : (given as readonly (readonly [string, Tensor])[]);
  const names = new Map(pairs.map(([n, t]) => [t, n]));
  const { model } = programToOnnx(stepProgram(fn, ...args), { ...options, names, graphName: options.graphName ?? (module !== undefined ? module.constructor.name : fn.name || "gradgraph") });
  return encodeModel(model);
}
