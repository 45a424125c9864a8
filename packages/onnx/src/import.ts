/**
 * `importOnnx`: an ONNX model as a gradgraph module. The model's float initializers become the module's
 * parameters, named after the initializers (`fc1.weight`), so `stateDict()`, safetensors files and gradgraph's
 * optimizers work on it as on any module; `forward` runs the graph node by node with gradgraph tensor ops
 * (import-ops.ts says what each op means), so gradients flow to the parameters and the inputs, and an imported
 * model can be fine-tuned.
 *
 * Everything that can be checked without the inputs is checked on import: the file, the opset, every node's op
 * and attributes, and that every value a node uses is defined before it. Input-dependent problems (a shape that
 * does not fit) are found when `forward` runs. Either way the error is an `OnnxError` naming the node, its op,
 * and what was expected against what came.
 */
import { formatShape, fromTypedArray, GradgraphError, isTensor, nn, type Tensor } from "gradgraph";
import { OnnxError } from "./errors.js";
import { type AttrValue, fail, kindOf, type Kind, type NodeFn, type NodeInfo, type Val } from "./import-node.js";
import { IMPORT_OPS } from "./import-ops.js";
import { AttributeType, decodeModel, type AttributeProto, type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto } from "./proto.js";

/** The most elements one tensor of a model may hold (a guard against a malformed file's dims). */
const MAX_ELEMENTS = 2 ** 28;
/** The opsets of the default domain whose ops `importOnnx` reads (the op semantics of import-ops.ts). */
const OPSETS = { min: 7, max: 22 } as const;

/** A graph input or output: its name, element kind and shape (a number per fixed axis, a name or null otherwise). */
export interface OnnxValueInfo {
  name: string;
  kind: Kind;
  shape: (number | string | null)[] | null;
}

/** A node, ready to run. */
interface Step {
  info: NodeInfo;
  run: NodeFn;
}

/** @internal The imported graph: its inputs and outputs, the constants, and the nodes in order. */
export interface OnnxProgram {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  constants: Map<string, Val>;
  /** The float initializers that become the module's state: kind, and whether a buffer (else a parameter). */
  state: Map<string, { kind: Kind; buffer: boolean }>;
  steps: Step[];
  opset: number;
  producer: string;
}

/**
 * A module of an imported model that only holds state: the `fc1` of `fc1.weight`, so the dotted ONNX names are a
 * tree of modules, as in the PyTorch model the names come from. Calling it is an error: the graph runs as a whole.
 */
export class OnnxScope extends nn.Module {
  /** Not callable: the graph runs as a whole, in {@link OnnxModule.forward}. */
  forward(): Tensor {
    throw new OnnxError("OnnxScope.forward: a scope of an imported model holds its parameters only; call the OnnxModule");
  }
}

/**
 * An ONNX model as a gradgraph `nn.Module`: made by {@link importOnnx}. Its parameters are the model's float
 * initializers, under the initializers' names (`fc1.weight` is parameter `weight` of a child module `fc1`, so
 * `namedParameters()` and `stateDict()` give the ONNX names); a BatchNormalization's running mean and variance
 * are buffers, as in PyTorch. `forward(...inputs)` runs the graph.
 *
 * @example
 * const model = importOnnx(readFileSync("mlp.onnx"));
 * const y = model.forward(x);                 // the graph's one output
 * const optimizer = new nn.SGD(model.parameters(), { lr: 0.1 });
 */
export class OnnxModule extends nn.Module {
  readonly #program: OnnxProgram;
  /** Initializer name → where its tensor lives now (a module and its field). */
  readonly #slots = new Map<string, { holder: nn.Module; field: string }>();

  /** @internal Made by {@link importOnnx}. */
  constructor(program: OnnxProgram, initializers: Map<string, Tensor>) {
    super();
    this.#program = program;
    for (const [name, t] of initializers) {
      const { buffer } = program.state.get(name)!;
      const slot = this.#place(name);
      const fields = slot.holder as unknown as Record<string, unknown>;
      if (slot.holder !== this && buffer) slot.holder.registerBuffer(slot.field, t);
      // A name that is not a dotted path of plain names stays whole, a field of the module itself; a buffer there
      // becomes a frozen parameter (registerBuffer takes no dotted names).
      else fields[slot.field] = new nn.Parameter(t, { requiresGrad: !buffer });
      this.#slots.set(name, slot);
    }
  }

  /** The module and field for an initializer: `a.b.c` is field `c` of child `b` of child `a`, made as needed. */
  #place(name: string): { holder: nn.Module; field: string } {
    const parts = name.split(".");
    const plain = (n: string) => n !== "" && n !== "__proto__";
    let holder: nn.Module = this;
    if (parts.length > 1 && parts.every(plain)) {
      for (const part of parts.slice(0, -1)) {
        const at = (holder as unknown as Record<string, unknown>)[part];
        if (at instanceof OnnxScope) holder = at;
        else if (part in holder) return this.#whole(name);
        else holder = holder.registerModule(part, new OnnxScope());
      }
      const field = parts[parts.length - 1]!;
      if (!(field in holder)) return { holder, field };
    }
    return this.#whole(name);
  }

  /** The module itself holds `name` whole, unless that clashes with a property of the module. */
  #whole(name: string): { holder: nn.Module; field: string } {
    if (name in this) throw new OnnxError(`importOnnx: initializer ${JSON.stringify(name)} clashes with a property of the module; rename it in the model`);
    return { holder: this, field: name };
  }

  /** The graph's inputs (those not given by initializers), in the order `forward` takes them. */
  get inputInfo(): readonly OnnxValueInfo[] {
    return this.#program.inputs;
  }

  /** The graph's outputs, in the order `run` returns them. */
  get outputInfo(): readonly OnnxValueInfo[] {
    return this.#program.outputs;
  }

  /** The opset version of the default domain the model was written for. */
  get opset(): number {
    return this.#program.opset;
  }

  /**
   * Runs the graph on `inputs` (one tensor per graph input, in order) and returns its one output (a model with
   * several outputs: use {@link run}). A float input of the other float dtype is cast to the graph's (float64 into
   * a float32 model); integer inputs (token ids) are given as float tensors of whole numbers. Wrong inputs (their
   * count, or a shape that contradicts the graph's) are an `OnnxError` naming the input and what it expects.
   */
  forward(...inputs: Tensor[]): Tensor {
    if (this.#program.outputs.length !== 1) {
      throw new OnnxError(`OnnxModule.forward: the model has ${this.#program.outputs.length} outputs (${this.#program.outputs.map((o) => o.name).join(", ")}); use run(), which returns them all`);
    }
    return this.run(...inputs)[0]!;
  }

  /** Runs the graph and returns every output, in the model's order. */
  run(...inputs: Tensor[]): Tensor[] {
    const p = this.#program;
    const env = new Map<string, Val>(p.constants);
    for (const [name, { kind }] of p.state) {
      const { holder, field } = this.#slots.get(name)!;
      env.set(name, { t: (holder as unknown as Record<string, Tensor>)[field]!, kind });
    }
    bindInputs(p.inputs, inputs, env);
    for (const { info, run } of p.steps) {
      const ins = info.inputs.map((n) => (n === "" ? undefined : env.get(n)));
      let outs: Val[];
      try {
        outs = run(ins);
      } catch (e) {
        if (e instanceof OnnxError) throw e;
        if (e instanceof GradgraphError) throw fail(info, `${(e as Error).message} (inputs ${ins.map((v) => (v === undefined ? "none" : formatShape(v.t.shape))).join(", ")})`);
        throw fail(info, `internal error: ${(e as Error).message}`);
      }
      info.outputs.forEach((n, i) => {
        const v = outs[i];
        if (n !== "" && v !== undefined) env.set(n, v);
      });
    }
    return p.outputs.map((o) => env.get(o.name)!.t);
  }

  /** `OnnxModule(inputs=[…], outputs=[…], nodes=N, opset=K, producer=…)`. */
  override describe(): string {
    const p = this.#program;
    return `OnnxModule(inputs=[${p.inputs.map((i) => i.name).join(", ")}], outputs=[${p.outputs.map((o) => o.name).join(", ")}], nodes=${p.steps.length}, opset=${p.opset}${p.producer === "" ? "" : `, producer=${p.producer}`})`;
  }
}

/** Checks the inputs against the graph's and binds them (a float input of the other float dtype is cast). */
function bindInputs(infos: readonly OnnxValueInfo[], inputs: readonly unknown[], env: Map<string, Val>): void {
  const names = infos.map((i) => i.name).join(", ");
  if (inputs.length !== infos.length) throw new OnnxError(`OnnxModule: expected ${infos.length} input${infos.length === 1 ? "" : "s"} (${names}), got ${inputs.length}`);
  const dims = new Map<string, number>();
  infos.forEach((info, i) => {
    const x = inputs[i];
    if (!isTensor(x)) throw new OnnxError(`OnnxModule: input ${info.name}: expected a Tensor, got ${x === null ? "null" : typeof x}`);
    if (info.shape !== null) {
      const want = info.shape.map((d) => (d === null ? "?" : d)).join(",");
      const fits = info.shape.length === x.ndim && info.shape.every((d, k) => {
        if (typeof d === "number") return d === x.shape[k];
        if (typeof d === "string") return (dims.get(d) ?? (dims.set(d, x.shape[k]!), x.shape[k])) === x.shape[k];
        return true;
      });
      if (!fits) throw new OnnxError(`OnnxModule: input ${info.name}: expected shape [${want}], got ${formatShape(x.shape)}`);
    }
    const t = info.kind === "float32" || info.kind === "float64" ? x.cast(info.kind) : x;
    env.set(info.name, { t, kind: info.kind });
  });
}

/** Options of {@link importOnnx}. */
export interface ImportOptions {
  /**
   * Float initializers to keep as constants of the graph rather than make parameters: their names, or a test on
   * the name. Exporters that store constants as initializers (gradgraph's `exportOnnx` names them `const_<k>`)
   * would otherwise add them to `parameters()` and the state dict. PyTorch stores constants in `Constant` nodes.
   */
  constants?: readonly string[] | ((name: string) => boolean);
}

/**
 * Reads an ONNX model (the bytes of an `.onnx` file) as a gradgraph module that runs its graph and can be
 * trained: its float initializers become its parameters (but those `options.constants` names; a
 * BatchNormalization's running statistics become buffers). Malformed files, unsupported ops or attributes, and graphs that use a value before it is defined are
 * an `OnnxError` naming the node, the op and what was expected.
 *
 * @example
 * import { importOnnx } from "gradgraph-onnx";
 * const model = importOnnx(readFileSync("model.onnx"));
 * model.forward(tensor([[1, 2, 3, 4]]));
 */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): OnnxModule {
  const model = decodeModel(bytes);
  const given = options.constants ?? [];
  const isConstant = typeof given === "function" ? given : (name: string) => given.includes(name);
  const { program, initializers } = readModel(model, isConstant);
  return new OnnxModule(program, initializers);
}

function readModel(model: ModelProto, isConstant: (name: string) => boolean): { program: OnnxProgram; initializers: Map<string, Tensor> } {
  const graph = model.graph as GraphProto;
  const opsets = model.opsetImport ?? [];
  const main = opsets.find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
  if (main === undefined) throw new OnnxError("importOnnx: the model imports no opset of the default ONNX domain (opset_import)");
  const opset = Number(main.version ?? 0);
  if (!(opset >= OPSETS.min && opset <= OPSETS.max)) throw new OnnxError(`importOnnx: opset ${opset} of the default domain is not supported (supported: ${OPSETS.min} to ${OPSETS.max})`);

  const constants = new Map<string, Val>();
  const initializers = new Map<string, Tensor>();
  const state = new Map<string, { kind: Kind; buffer: boolean }>();
  // A BatchNormalization's running statistics are state that is not trained: buffers, as PyTorch has them.
  const statistics = new Set((graph.node ?? []).filter((n) => n.opType === "BatchNormalization").flatMap((n) => (n.input ?? []).slice(3, 5)));
  for (const [i, init] of (graph.initializer ?? []).entries()) {
    const name = init.name ?? "";
    if (name === "") throw new OnnxError(`importOnnx: initializer ${i} has no name`);
    if (constants.has(name) || initializers.has(name)) throw new OnnxError(`importOnnx: two initializers are named ${JSON.stringify(name)}`);
    const v = readTensor(init, `initializer ${JSON.stringify(name)}`);
    if ((v.kind === "float32" || v.kind === "float64") && !isConstant(name)) {
      initializers.set(name, v.t);
      state.set(name, { kind: v.kind, buffer: statistics.has(name) });
    } else constants.set(name, v);
  }

  const defined = new Set<string>([...constants.keys(), ...initializers.keys()]);
  // Before IR version 4 initializers were listed among the inputs too: those are not inputs to give.
  const inputs = (graph.input ?? []).filter((vi) => !defined.has(vi.name ?? "")).map((vi, i) => valueInfo(vi, `graph input ${i}`));
  for (const inp of inputs) {
    if (defined.has(inp.name)) throw new OnnxError(`importOnnx: two graph inputs are named ${JSON.stringify(inp.name)}`);
    defined.add(inp.name);
  }

  const steps: Step[] = [];
  for (const [k, node] of (graph.node ?? []).entries()) {
    const opType = node.opType ?? "";
    const where = `node ${JSON.stringify(node.name || `#${k}`)} (${opType === "" ? "no op_type" : opType})`;
    const info: NodeInfo = {
      where,
      opType,
      opset,
      inputs: node.input ?? [],
      outputs: node.output ?? [],
      attrs: new Map(),
    };
    const domain = node.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") throw fail(info, `ops of domain ${JSON.stringify(domain)} are not supported (only the default ONNX domain)`);
    const compile = Object.hasOwn(IMPORT_OPS, opType) ? IMPORT_OPS[opType] : undefined;
    if (compile === undefined) throw fail(info, `op ${opType || "(none)"} is not supported by importOnnx (opset ${opset}); supported: ${Object.keys(IMPORT_OPS).join(", ")}`);
    for (const a of node.attribute ?? []) {
      const name = a.name ?? "";
      if (info.attrs.has(name)) throw fail(info, `attribute ${name} is given twice`);
      (info.attrs as Map<string, AttrValue>).set(name, readAttribute(a, info));
    }
    for (const name of info.inputs) {
      if (name !== "" && !defined.has(name)) throw fail(info, `input ${JSON.stringify(name)} is not defined before the node (the graph must be in topological order)`);
    }
    if (info.outputs.length === 0) throw fail(info, "expected at least one output, got none");
    const run = compile(info);
    for (const name of info.outputs) if (name !== "") defined.add(name);
    steps.push({ info, run });
  }

  const outputs = (graph.output ?? []).map((vi, i) => valueInfo(vi, `graph output ${i}`));
  if (outputs.length === 0) throw new OnnxError("importOnnx: the graph has no outputs");
  for (const o of outputs) if (!defined.has(o.name)) throw new OnnxError(`importOnnx: graph output ${JSON.stringify(o.name)} is computed by no node`);

  const producer = [model.producerName, model.producerVersion].filter((s) => s !== undefined && s !== "").join(" ");
  return { program: { inputs, outputs, constants, state, steps: live(steps, outputs), opset, producer }, initializers };
}

/** The steps an output depends on, in order: a node whose results nothing reads is not run. */
function live(steps: readonly Step[], outputs: readonly OnnxValueInfo[]): Step[] {
  const needed = new Set(outputs.map((o) => o.name));
  const kept: Step[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    if (!step.info.outputs.some((n) => needed.has(n))) continue;
    kept.push(step);
    for (const n of step.info.inputs) if (n !== "") needed.add(n);
  }
  return kept.reverse();
}

/** A graph input's or output's name, element kind and shape. */
function valueInfo(vi: ValueInfoProto, what: string): OnnxValueInfo {
  const name = vi.name ?? "";
  if (name === "") throw new OnnxError(`importOnnx: ${what} has no name`);
  const tt = vi.type?.tensorType;
  const elem = tt?.elemType ?? 1;
  const kind = kindOf(elem);
  if (kind === undefined) throw new OnnxError(`importOnnx: ${what} ${JSON.stringify(name)}: element type ${elem} is not supported (supported: float, double, bool and integers)`);
  const shape = tt?.shape === undefined ? null : (tt.shape.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam !== undefined && d.dimParam !== "" ? d.dimParam : null));
  return { name, kind, shape };
}

/** An attribute's value (tensors read as values; graphs and string lists are kept only by name, unsupported). */
function readAttribute(a: AttributeProto, node: NodeInfo): AttrValue {
  const name = a.name ?? "";
  const type = a.type ?? inferAttributeType(a);
  switch (type) {
    case AttributeType.FLOAT:
      return { type: "float", value: Number(a.f ?? 0) };
    case AttributeType.INT:
      return { type: "int", value: Number(a.i ?? 0) };
    case AttributeType.STRING:
      return { type: "string", value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case AttributeType.TENSOR:
      if (a.t === undefined) throw fail(node, `attribute ${name}: a tensor attribute without a tensor`);
      return { type: "tensor", value: readTensor(a.t, `${node.where}: attribute ${name}`) };
    case AttributeType.FLOATS:
      return { type: "floats", value: (a.floats ?? []).map(Number) };
    case AttributeType.INTS:
      return { type: "ints", value: (a.ints ?? []).map(Number) };
    default:
      return { type: "other", value: `type ${type}` };
  }
}

/** The type of an attribute written without its `type` field (older exporters): the field that is set. */
function inferAttributeType(a: AttributeProto): number {
  if (a.f !== undefined) return AttributeType.FLOAT;
  if (a.i !== undefined) return AttributeType.INT;
  if (a.s !== undefined) return AttributeType.STRING;
  if (a.t !== undefined) return AttributeType.TENSOR;
  if (a.floats !== undefined) return AttributeType.FLOATS;
  if (a.ints !== undefined) return AttributeType.INTS;
  return AttributeType.UNDEFINED;
}

/** Bytes per element of the element types whose raw data `readTensor` reads. */
const RAW: Record<number, [number, (v: DataView, at: number) => number]> = {
  1: [4, (v, at) => v.getFloat32(at, true)],
  11: [8, (v, at) => v.getFloat64(at, true)],
  2: [1, (v, at) => v.getUint8(at)],
  3: [1, (v, at) => v.getInt8(at)],
  4: [2, (v, at) => v.getUint16(at, true)],
  5: [2, (v, at) => v.getInt16(at, true)],
  6: [4, (v, at) => v.getInt32(at, true)],
  7: [8, (v, at) => Number(v.getBigInt64(at, true))],
  9: [1, (v, at) => (v.getUint8(at) === 0 ? 0 : 1)],
  12: [4, (v, at) => v.getUint32(at, true)],
  13: [8, (v, at) => Number(v.getBigUint64(at, true))],
};

/** A TensorProto's values as a value of its kind (floats in their dtype; integers and booleans in float64). */
export function readTensor(t: TensorProto, what: string): Val {
  const type = t.dataType ?? 0;
  const kind = kindOf(type);
  if (kind === undefined) throw new OnnxError(`importOnnx: ${what}: element type ${type} is not supported (supported: float, double, bool and integers)`);
  if (t.dataLocation === 1) throw new OnnxError(`importOnnx: ${what}: external data is not supported (save the model with its weights inside)`);
  const dims = (t.dims ?? []).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new OnnxError(`importOnnx: ${what}: dims ${JSON.stringify(dims)} are not sizes`);
  const size = dims.reduce((p, d) => p * d, 1);
  if (size > MAX_ELEMENTS) throw new OnnxError(`importOnnx: ${what}: ${size} elements (dims ${JSON.stringify(dims)}) are more than the ${MAX_ELEMENTS} importOnnx reads`);
  // The data is checked against the dims before anything is allocated: a malformed file's dims may be huge.
  const make = () => (kind === "float32" ? new Float32Array(size) : new Float64Array(size));
  const raw = t.rawData;
  let out: Float32Array | Float64Array;
  if (raw !== undefined && raw.length > 0) {
    const [bytes, read] = RAW[type]!;
    if (raw.length !== size * bytes) throw new OnnxError(`importOnnx: ${what}: raw data of ${raw.length} bytes for dims ${JSON.stringify(dims)}, expected ${size * bytes}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    out = make();
    for (let i = 0; i < size; i++) out[i] = read(view, i * bytes);
  } else {
    const field = type === 1 ? t.floatData : type === 11 ? t.doubleData : type === 7 ? t.int64Data : type === 12 || type === 13 ? t.uint64Data : t.int32Data;
    const values = field ?? [];
    if (values.length !== size) throw new OnnxError(`importOnnx: ${what}: ${values.length} values for dims ${JSON.stringify(dims)}, expected ${size}`);
    out = make();
    for (let i = 0; i < size; i++) out[i] = type === 9 ? (Number(values[i]) === 0 ? 0 : 1) : Number(values[i]);
  }
  return { t: fromTypedArray(out, dims), kind };
}
