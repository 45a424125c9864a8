/**
 * What each ONNX operator means on gradgraph tensors, for `importOnnx`: one entry per op type, which reads the
 * node's attributes once (when the model is imported: an unknown or unsupported attribute is an error then) and
 * returns the function that runs the node on its input values, with gradgraph tensor ops, so gradients flow.
 *
 * Values: gradgraph tensors are float32 or float64 only, so an ONNX value carries its element kind beside its
 * tensor. Floats are tensors of their dtype; integers (shapes, indices, axes) and booleans (comparisons) are
 * float64 tensors holding whole numbers (exact below 2^53), without gradients. Ops that need numbers on the host
 * (a Reshape's shape, a Slice's starts) read them from those tensors: shapes are static at run time, as in
 * eager PyTorch — `Shape` gives the actual input's shape.
 */
import { einsum, formatShape, fromTypedArray, full, nn, onesLike, Tensor, where, zeros } from "gradgraph";
import { tensorOps } from "gradgraph/ops";
import { OnnxError } from "./errors.js";

/** The element kind of an ONNX value: a float dtype, or integers / booleans held in a float64 tensor. */
export type Kind = "float32" | "float64" | "int" | "bool";

/** A value flowing through the graph. */
export interface Val {
  t: Tensor;
  kind: Kind;
}

/** An attribute's value, as read from the model. */
export type AttrValue =
  | { type: "float"; value: number }
  | { type: "int"; value: number }
  | { type: "string"; value: string }
  | { type: "tensor"; value: Val }
  | { type: "floats"; value: number[] }
  | { type: "ints"; value: number[] }
  | { type: "other"; value: string };

/** A node as the op table sees it: where it is (for messages), its attributes, how many inputs and outputs. */
export interface NodeInfo {
  /** `node "name" (Op)`, the prefix of every message about it. */
  where: string;
  opType: string;
  attrs: ReadonlyMap<string, AttrValue>;
  /** The opset version of the default domain. */
  opset: number;
  /** Inputs given (an empty name is a missing optional input: undefined at run time). */
  inputs: readonly string[];
  outputs: readonly string[];
}

/** Runs a node on its inputs (undefined where an optional input is left out). */
export type NodeFn = (inputs: readonly (Val | undefined)[]) => Val[];

/** Reads a node's attributes, each once, with errors naming the node. */
export class Attrs {
  readonly #node: NodeInfo;
  readonly #known: Set<string>;

  constructor(node: NodeInfo, known: readonly string[]) {
    this.#node = node;
    this.#known = new Set(known);
    for (const name of node.attrs.keys()) {
      if (!this.#known.has(name)) throw fail(node, `attribute ${name} is not supported (supported: ${known.length === 0 ? "none" : known.join(", ")})`);
    }
  }

  #get(name: string, type: AttrValue["type"]): AttrValue | undefined {
    const a = this.#node.attrs.get(name);
    if (a === undefined) return undefined;
    if (a.type !== type) throw fail(this.#node, `attribute ${name}: expected ${type === "int" ? "an int" : type === "float" ? "a float" : type}, got ${a.type}`);
    return a;
  }

  int(name: string, dflt: number): number {
    return (this.#get(name, "int")?.value as number | undefined) ?? dflt;
  }
  float(name: string, dflt: number): number {
    return (this.#get(name, "float")?.value as number | undefined) ?? dflt;
  }
  string(name: string, dflt: string): string {
    return (this.#get(name, "string")?.value as string | undefined) ?? dflt;
  }
  ints(name: string): number[] | undefined {
    return this.#get(name, "ints")?.value as number[] | undefined;
  }
  floats(name: string): number[] | undefined {
    return this.#get(name, "floats")?.value as number[] | undefined;
  }
  tensor(name: string): Val | undefined {
    return this.#get(name, "tensor")?.value as Val | undefined;
  }
  has(name: string): boolean {
    return this.#node.attrs.has(name);
  }
  /** An int attribute that must be one of `allowed`. */
  choice(name: string, dflt: number, allowed: readonly number[]): number {
    const v = this.int(name, dflt);
    if (!allowed.includes(v)) throw fail(this.#node, `attribute ${name}=${v} is not supported (supported: ${allowed.join(", ")})`);
    return v;
  }
}

/** An OnnxError about a node. */
export function fail(node: NodeInfo, what: string): OnnxError {
  return new OnnxError(`importOnnx: ${node.where}: ${what}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------------

const isFloat = (k: Kind): k is "float32" | "float64" => k === "float32" || k === "float64";

/** A float64 tensor of whole numbers (or 0/1 booleans) as an ONNX int or bool value. */
function hostVal(data: readonly number[] | Float64Array, shape: readonly number[], kind: "int" | "bool" = "int"): Val {
  return { t: fromTypedArray(Float64Array.from(data), [...shape]), kind };
}

/** Input `i` of a node, which must be there. */
function need(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): Val {
  const v = ins[i];
  if (v === undefined) throw fail(node, `input ${i} (${what}) is required, got none`);
  return v;
}

/** A float input (X of most ops). */
function floatIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): Val {
  const v = need(node, ins, i, what);
  if (!isFloat(v.kind)) throw fail(node, `input ${i} (${what}): expected a float tensor, got ${v.kind}`);
  return v;
}

/** The integers of an int input (a shape, axes, indices) on the host. */
function intsIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): number[] {
  const v = need(node, ins, i, what);
  if (v.kind !== "int") throw fail(node, `input ${i} (${what}): expected an integer tensor, got ${v.kind}`);
  if (v.t.ndim > 1) throw fail(node, `input ${i} (${what}): expected a scalar or a 1-D tensor, got shape ${formatShape(v.t.shape)}`);
  return Array.from(v.t.toArray());
}

/** The optional int input `i` as numbers, or the attribute of the same meaning (older opsets), or undefined. */
function intsFrom(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string, attr: number[] | undefined): number[] | undefined {
  if (ins[i] !== undefined) return intsIn(node, ins, i, what);
  return attr;
}

/** A scalar of float input `i` (Clip's bounds). */
function scalarIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): number | undefined {
  const v = ins[i];
  if (v === undefined) return undefined;
  if (v.t.size !== 1) throw fail(node, `input ${i} (${what}): expected a single value, got shape ${formatShape(v.t.shape)}`);
  return v.t.toArray()[0]!;
}

/** An axis of a rank-`rank` tensor, negative counting from the end, checked. */
function axisOf(node: NodeInfo, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw fail(node, `${what} ${axis} is out of range for a tensor of rank ${rank} (expected ${-rank}..${rank - 1})`);
  return a;
}

/** Axes, normalized and checked for repeats. */
function axesOf(node: NodeInfo, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => axisOf(node, a, rank));
  if (new Set(out).size !== out.length) throw fail(node, `axes ${JSON.stringify(axes)} repeat an axis`);
  return out;
}

/** Both operands of a binary op in one dtype: an int operand meeting a float one takes the float's dtype. */
function sameDtype(a: Val, b: Val): [Tensor, Tensor, Kind] {
  if (a.kind === b.kind) return [a.t, b.t, a.kind];
  const kind: Kind = isFloat(a.kind) ? a.kind : isFloat(b.kind) ? b.kind : "int";
  const dt = kind === "float32" ? "float32" : "float64";
  return [a.t.cast(dt), b.t.cast(dt), kind];
}

const product = (xs: readonly number[]) => xs.reduce((p, n) => p * n, 1);

/**
 * The most elements an op may make from sizes it reads in the model's data (Pad, Expand, ConstantOfShape, a
 * window's pads): a guard against a malformed file asking for gigabytes, which would take minutes or fail deep in
 * the engine.
 */
export const MAX_MADE_ELEMENTS = 2 ** 26;

function checkSize(node: NodeInfo, shape: readonly number[]): void {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw fail(node, `the output shape ${formatShape(shape)} is not a shape`);
  if (product(shape) > MAX_MADE_ELEMENTS) throw fail(node, `the output of shape ${formatShape(shape)} would have ${product(shape)} elements, more than the ${MAX_MADE_ELEMENTS} importOnnx makes`);
}

/** `x` taken at positions `idx` along `axis` (numpy's `take` with 1-D indices), differentiable. */
function take(x: Tensor, axis: number, idx: readonly number[]): Tensor {
  const shape = [...x.shape];
  const k = idx.length, inner = product(shape.slice(axis + 1)), outer = product(shape.slice(0, axis));
  shape[axis] = k;
  const index = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) index.fill(idx[j]!, (o * k + j) * inner, (o * k + j + 1) * inner);
  return x.gather(axis, fromTypedArray(index, shape));
}

/** Integer division truncating toward zero, and other int results computed on the host. */
function hostMap(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcast(a.shape, b.shape);
  const x = a.reshape([...Array<number>(shape.length - a.ndim).fill(1), ...a.shape]).broadcastTo(shape).toArray();
  const y = b.reshape([...Array<number>(shape.length - b.ndim).fill(1), ...b.shape]).broadcastTo(shape).toArray();
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, y[i]!);
  return fromTypedArray(out, shape);
}

/** NumPy broadcasting of two shapes (the engine checks again, with its own message). */
function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The ops
// ---------------------------------------------------------------------------------------------------------------

/** Reads a node's attributes and returns the function that runs it. */
type OpCompiler = (node: NodeInfo) => NodeFn;

const unary = (f: (t: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: f(x.t), kind: x.kind }];
  };
};

const arithmetic = (f: (a: Tensor, b: Tensor) => Tensor, onInts?: (x: number, y: number) => number): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const a = need(node, ins, 0, "A"), b = need(node, ins, 1, "B");
    if (a.kind === "bool" || b.kind === "bool") throw fail(node, `expected numbers, got ${a.kind} and ${b.kind}`);
    const [x, y, kind] = sameDtype(a, b);
    return [{ t: kind === "int" && onInts !== undefined ? hostMap(x, y, onInts) : f(x, y), kind }];
  };
};

const comparison = (f: (a: Tensor, b: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const [x, y] = sameDtype(need(node, ins, 0, "A"), need(node, ins, 1, "B"));
    return [{ t: f(x, y).detach().cast("float64"), kind: "bool" }];
  };
};

const logical = (f: (a: Tensor, b: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const a = need(node, ins, 0, "A"), b = need(node, ins, 1, "B");
    if (a.kind !== "bool" || b.kind !== "bool") throw fail(node, `expected two booleans, got ${a.kind} and ${b.kind}`);
    return [{ t: f(a.t, b.t), kind: "bool" }];
  };
};

/** Max, Min, Sum, Mean: any number of inputs, broadcast together. */
const variadic = (f: (a: Tensor, b: Tensor) => Tensor, finish?: (t: Tensor, n: number) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    if (ins.length === 0) throw fail(node, "expected at least one input, got none");
    let acc = need(node, ins, 0, "data_0");
    for (let i = 1; i < ins.length; i++) {
      const [x, y, kind] = sameDtype(acc, need(node, ins, i, `data_${i}`));
      acc = { t: f(x, y), kind };
    }
    return [{ t: finish === undefined ? acc.t : finish(acc.t, ins.length), kind: acc.kind }];
  };
};

/** The reductions: axes from the attribute (older opsets) or the second input, keepdims, noop_with_empty_axes. */
const reduction = (f: (t: Tensor, axes: number[], keep: boolean) => Tensor, axesInputSince: number): OpCompiler => (node) => {
  const a = new Attrs(node, node.opset >= axesInputSince ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
  const keep = a.choice("keepdims", 1, [0, 1]) === 1;
  const noop = a.choice("noop_with_empty_axes", 0, [0, 1]) === 1;
  const attrAxes = a.ints("axes");
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", attrAxes) ?? [];
    if (given.length === 0 && noop) return [x];
    const axes = given.length === 0 ? x.t.shape.map((_, i) => i) : axesOf(node, given, x.t.ndim);
    return [{ t: f(x.t, axes, keep), kind: x.kind }];
  };
};

/** Softmax and LogSoftmax: over one axis (opset 13+), or over the axes from `axis` on, flattened (before 13). */
const softmaxLike = (f: (t: Tensor, axis: number) => Tensor): OpCompiler => (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", node.opset >= 13 ? -1 : 1);
  return (ins) => {
    const x = floatIn(node, ins, 0, "input");
    const ax = axisOf(node, axis, Math.max(x.t.ndim, 1));
    if (node.opset >= 13 || x.t.ndim === 0) return [{ t: f(x.t, ax), kind: x.kind }];
    const s = x.t.shape;
    const y = f(x.t.reshape(product(s.slice(0, ax)), product(s.slice(ax))), 1);
    return [{ t: y.reshape([...s]), kind: x.kind }];
  };
};

/** Conv and pool windows: kernel, strides, dilations and begin/end pads per spatial axis, from the attributes. */
interface Window {
  autoPad: string;
  kernel: number[] | undefined;
  strides: number[] | undefined;
  dilations: number[] | undefined;
  pads: number[] | undefined;
}

function windowAttrs(node: NodeInfo, a: Attrs): Window {
  const autoPad = a.string("auto_pad", "NOTSET");
  if (!["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].includes(autoPad)) throw fail(node, `attribute auto_pad=${autoPad} is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)`);
  const w: Window = { autoPad, kernel: a.ints("kernel_shape"), strides: a.ints("strides"), dilations: a.ints("dilations"), pads: a.ints("pads") };
  for (const [name, v] of [["kernel_shape", w.kernel], ["strides", w.strides], ["dilations", w.dilations]] as const) {
    if (v !== undefined && (v.length < 1 || v.length > 2 || v.some((n) => !Number.isInteger(n) || n < 1))) {
      throw fail(node, `attribute ${name}=${JSON.stringify(v)}: expected 1 or 2 positive integers (1-D or 2-D windows)`);
    }
  }
  if (w.pads !== undefined && w.pads.some((n) => !Number.isInteger(n) || n < 0)) throw fail(node, `attribute pads=${JSON.stringify(w.pads)}: expected non-negative integers`);
  return w;
}

/**
 * The window settings for spatial size `spatial` (from the input at run time): per axis kernel, stride, dilation,
 * and [begin, end] pads (auto_pad resolved as ONNX defines it).
 */
function resolveWindow(node: NodeInfo, w: Window, spatial: readonly number[], kernel: readonly number[]) {
  const n = spatial.length;
  const per = (v: number[] | undefined, name: string, dflt: number): number[] => {
    if (v === undefined) return Array<number>(n).fill(dflt);
    if (v.length !== n) throw fail(node, `attribute ${name}=${JSON.stringify(v)}: expected ${n} values for ${n} spatial axes`);
    return v;
  };
  const strides = per(w.strides, "strides", 1), dilations = per(w.dilations, "dilations", 1);
  if (w.kernel !== undefined && w.kernel.join() !== kernel.join()) throw fail(node, `attribute kernel_shape=${JSON.stringify(w.kernel)} does not match the weight's kernel ${JSON.stringify(kernel)}`);
  let pads: [number, number][];
  if (w.autoPad === "NOTSET") {
    const p = w.pads ?? Array<number>(2 * n).fill(0);
    if (p.length !== 2 * n) throw fail(node, `attribute pads=${JSON.stringify(p)}: expected ${2 * n} values (begin and end of ${n} spatial axes)`);
    pads = spatial.map((_, i) => [p[i]!, p[i + n]!]);
  } else if (w.autoPad === "VALID") {
    pads = spatial.map(() => [0, 0]);
  } else {
    pads = spatial.map((size, i) => {
      const total = Math.max(0, (Math.ceil(size / strides[i]!) - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
      const small = Math.floor(total / 2);
      return w.autoPad === "SAME_UPPER" ? [small, total - small] : [total - small, small];
    });
  }
  return { strides, dilations, pads };
}

/**
 * `x` padded by F.pad's flat spec (last axis first, [before, after] each; negative widths crop) with `value`. The
 * engine's pad adds `value` outside a mask of ones, which gives NaN for an infinite value (−∞ · 0); a `where` on
 * the same mask keeps −∞ as it is (MaxPool's padding).
 */
function padWith(node: NodeInfo, x: Tensor, flat: readonly number[], value: number): Tensor {
  checkSize(node, x.shape.map((d, i) => d + (flat[2 * (x.ndim - 1 - i)] ?? 0) + (flat[2 * (x.ndim - 1 - i) + 1] ?? 0)));
  const y = x.pad(flat, 0);
  if (value === 0) return y;
  return where(onesLike(x).pad(flat, 0), y, value);
}

/** `x` padded explicitly on its spatial axes (after N and C) with `value`. */
function padSpatial(node: NodeInfo, x: Tensor, pads: readonly (readonly [number, number])[], value: number): Tensor {
  if (pads.every(([b, e]) => b === 0 && e === 0)) return x;
  return padWith(node, x, [...pads].reverse().flatMap(([b, e]) => [b, e]), value);
}

/** A 1-D window op runs as 2-D with height 1: [N, C, L] → [N, C, 1, L], and the pads/strides gain a leading 1. */
const as2d = (x: Tensor) => (x.ndim === 3 ? x.reshape(x.shape[0]!, x.shape[1]!, 1, x.shape[2]!) : x);
const from2d = (y: Tensor, rank: number) => (rank === 3 ? y.reshape(y.shape[0]!, y.shape[1]!, y.shape[3]!) : y);
const pair = (v: readonly number[], lead: number): [number, number] => (v.length === 1 ? [lead, v[0]!] : [v[0]!, v[1]!]);

function spatialInput(node: NodeInfo, x: Val, what: string): void {
  if (x.t.ndim !== 3 && x.t.ndim !== 4) throw fail(node, `input ${what}: expected a 3-D [N, C, L] or 4-D [N, C, H, W] tensor, got shape ${formatShape(x.t.shape)}`);
}

const Conv: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
  const w = windowAttrs(node, a);
  const group = a.int("group", 1);
  if (!Number.isInteger(group) || group < 1) throw fail(node, `attribute group=${group}: expected a positive integer`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X"), weight = floatIn(node, ins, 1, "W"), bias = ins[2];
    spatialInput(node, x, "X");
    if (weight.t.ndim !== x.t.ndim) throw fail(node, `input W: expected a ${x.t.ndim}-D weight for a ${x.t.ndim}-D input, got shape ${formatShape(weight.t.shape)}`);
    const spatial = x.t.shape.slice(2), kernel = weight.t.shape.slice(2);
    const { strides, dilations, pads } = resolveWindow(node, w, spatial, kernel);
    const symmetric = pads.every(([b, e]) => b === e);
    const xp = symmetric ? x.t : padSpatial(node, x.t, pads, 0);
    const padding = symmetric ? pads.map(([b]) => b) : pads.map(() => 0);
    const y = nn.conv2d(as2d(xp), as2d(weight.t), bias === undefined ? null : bias.t, {
      stride: pair(strides, 1), dilation: pair(dilations, 1), padding: pair(padding, 0), groups: group,
    });
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

/** The output size of a pooling window; with ceil_mode, an error when it differs from the floor (not supported). */
function checkCeil(node: NodeInfo, ceil: boolean, spatial: readonly number[], k: readonly number[], r: ReturnType<typeof resolveWindow>): void {
  if (!ceil) return;
  spatial.forEach((n, i) => {
    const span = n + r.pads[i]![0] + r.pads[i]![1] - ((k[i]! - 1) * r.dilations[i]! + 1);
    if (span % r.strides[i]! !== 0) throw fail(node, `attribute ceil_mode=1 changes the output size here (axis ${i + 2} of size ${n}); only ceil_mode=0 is supported`);
  });
}

const MaxPool: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
  const w = windowAttrs(node, a);
  const ceil = a.choice("ceil_mode", 0, [0, 1]) === 1;
  a.choice("storage_order", 0, [0]);
  if (w.kernel === undefined) throw fail(node, "attribute kernel_shape is required, got none");
  const kernel = w.kernel;
  if (node.outputs.length > 1 && node.outputs[1] !== "") throw fail(node, "output Indices is not supported (only Y)");
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    spatialInput(node, x, "X");
    const spatial = x.t.shape.slice(2);
    if (kernel.length !== spatial.length) throw fail(node, `attribute kernel_shape=${JSON.stringify(kernel)}: expected ${spatial.length} values for input shape ${formatShape(x.t.shape)}`);
    const r = resolveWindow(node, w, spatial, kernel);
    checkCeil(node, ceil, spatial, kernel, r);
    const y = nn.maxPool2d(as2d(padSpatial(node, x.t, r.pads, -Infinity)), pair(kernel, 1), { stride: pair(r.strides, 1), dilation: pair(r.dilations, 1) });
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

const AveragePool: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"]);
  const w = windowAttrs(node, a);
  const ceil = a.choice("ceil_mode", 0, [0, 1]) === 1;
  const countPad = a.choice("count_include_pad", 0, [0, 1]) === 1;
  if (w.kernel === undefined) throw fail(node, "attribute kernel_shape is required, got none");
  if (w.dilations !== undefined && w.dilations.some((d) => d !== 1)) throw fail(node, `attribute dilations=${JSON.stringify(w.dilations)} is not supported (only 1)`);
  const kernel = w.kernel;
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    spatialInput(node, x, "X");
    const spatial = x.t.shape.slice(2);
    if (kernel.length !== spatial.length) throw fail(node, `attribute kernel_shape=${JSON.stringify(kernel)}: expected ${spatial.length} values for input shape ${formatShape(x.t.shape)}`);
    const r = resolveWindow(node, w, spatial, kernel);
    checkCeil(node, ceil, spatial, kernel, r);
    const pool = (t: Tensor) => nn.avgPool2d(as2d(padSpatial(node, t, r.pads, 0)), pair(kernel, 1), { stride: pair(r.strides, 1) });
    let y = pool(x.t);
    // Without count_include_pad, each window's mean is over its positions inside the input: divide by the share
    // of the window that lies inside (the mean of a window of ones, padded with zeros).
    if (!countPad && r.pads.some(([b, e]) => b > 0 || e > 0)) y = y.div(pool(full([1, 1, ...spatial], 1, { dtype: x.t.dtype })));
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

const globalPool = (f: (t: Tensor, axes: number[]) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    if (x.t.ndim < 3) throw fail(node, `input X: expected [N, C, spatial...], got shape ${formatShape(x.t.shape)}`);
    return [{ t: f(x.t, x.t.shape.slice(2).map((_, i) => i + 2)), kind: x.kind }];
  };
};

const Gemm: OpCompiler = (node) => {
  const a = new Attrs(node, ["alpha", "beta", "transA", "transB"]);
  const alpha = a.float("alpha", 1), beta = a.float("beta", 1);
  const transA = a.choice("transA", 0, [0, 1]) === 1, transB = a.choice("transB", 0, [0, 1]) === 1;
  return (ins) => {
    const A = floatIn(node, ins, 0, "A"), B = floatIn(node, ins, 1, "B"), C = ins[2];
    if (A.t.ndim !== 2 || B.t.ndim !== 2) throw fail(node, `expected 2-D A and B, got ${formatShape(A.t.shape)} and ${formatShape(B.t.shape)}`);
    let y = (transA ? A.t.T : A.t).matmul(transB ? B.t.T : B.t);
    if (alpha !== 1) y = y.mul(alpha);
    if (C !== undefined && beta !== 0) y = y.add(beta === 1 ? C.t : C.t.mul(beta));
    return [{ t: y, kind: A.kind }];
  };
};

const MatMul: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const A = floatIn(node, ins, 0, "A"), B = floatIn(node, ins, 1, "B");
    return [{ t: A.t.matmul(B.t), kind: A.kind }];
  };
};

/** A reshape target: 0 copies the input's size (unless allowzero), -1 is inferred. */
const Reshape: OpCompiler = (node) => {
  const a = new Attrs(node, ["allowzero"]);
  const allowZero = a.choice("allowzero", 0, [0, 1]) === 1;
  return (ins) => {
    const x = need(node, ins, 0, "data"), shape = intsIn(node, ins, 1, "shape");
    const target = shape.map((d, i) => (d === 0 && !allowZero ? (x.t.shape[i] ?? 0) : d));
    const known = target.filter((d) => d !== -1);
    const free = target.length - known.length;
    if (free > 1 || known.some((d) => d < 0) || (free === 0 && product(known) !== x.t.size) || (free === 1 && (product(known) === 0 || x.t.size % product(known) !== 0))) {
      throw fail(node, `cannot reshape ${formatShape(x.t.shape)} (${x.t.size} elements) to ${formatShape(shape)}`);
    }
    return [{ t: x.t.reshape(target), kind: x.kind }];
  };
};

const Flatten: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 1);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    const ax = axis < 0 ? axis + x.t.ndim : axis;
    if (ax < 0 || ax > x.t.ndim) throw fail(node, `axis ${axis} is out of range for shape ${formatShape(x.t.shape)}`);
    const s = x.t.shape;
    return [{ t: x.t.reshape(product(s.slice(0, ax)), product(s.slice(ax))), kind: x.kind }];
  };
};

const Transpose: OpCompiler = (node) => {
  const a = new Attrs(node, ["perm"]);
  const perm = a.ints("perm");
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const p = perm ?? x.t.shape.map((_, i) => x.t.ndim - 1 - i);
    if (p.length !== x.t.ndim || [...p].sort((u, v) => u - v).some((v, i) => v !== i)) throw fail(node, `attribute perm=${JSON.stringify(p)} is not a permutation of the ${x.t.ndim} axes of ${formatShape(x.t.shape)}`);
    return [{ t: x.t.permute(p), kind: x.kind }];
  };
};

const Expand: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = need(node, ins, 0, "input"), shape = intsIn(node, ins, 1, "shape");
    const n = Math.max(shape.length, x.t.ndim);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = x.t.shape[x.t.ndim - n + i] ?? 1, s = shape[shape.length - n + i] ?? 1;
      if (d !== s && d !== 1 && s !== 1) throw fail(node, `cannot expand ${formatShape(x.t.shape)} to ${formatShape(shape)}`);
      out.push(d === 1 ? s : d);
    }
    checkSize(node, out);
    return [{ t: x.t.reshape([...Array<number>(n - x.t.ndim).fill(1), ...x.t.shape]).broadcastTo(out), kind: x.kind }];
  };
};

/** Positions start, start+step, … before end, clamped as ONNX's Slice clamps them (negative steps too). */
function slicePositions(dim: number, start: number, end: number, step: number): number[] {
  const norm = (v: number) => (v < 0 ? v + dim : v);
  let s = norm(start), e = norm(end);
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

const Slice: OpCompiler = (node) => {
  const old = node.opset < 10;
  const a = new Attrs(node, old ? ["starts", "ends", "axes"] : []);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const starts = old ? (a.ints("starts") ?? []) : intsIn(node, ins, 1, "starts");
    const ends = old ? (a.ints("ends") ?? []) : intsIn(node, ins, 2, "ends");
    const axesGiven = old ? a.ints("axes") : intsFrom(node, ins, 3, "axes", undefined);
    const steps = old ? undefined : intsFrom(node, ins, 4, "steps", undefined);
    if (starts.length !== ends.length) throw fail(node, `starts ${JSON.stringify(starts)} and ends ${JSON.stringify(ends)} differ in length`);
    const axes = axesOf(node, axesGiven ?? starts.map((_, i) => i), x.t.ndim);
    if (axes.length !== starts.length || (steps !== undefined && steps.length !== starts.length)) throw fail(node, `starts, ends, axes and steps must have the same length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps?.length ?? "-"}`);
    let y = x.t;
    axes.forEach((ax, i) => {
      const dim = y.shape[ax]!, step = steps?.[i] ?? 1;
      if (step === 0) throw fail(node, "a step of 0 is not allowed");
      const start = starts[i]!, end = ends[i]!;
      if (step > 0) {
        const pos = slicePositions(dim, start, end, step);
        const spec = y.shape.map((): [number, number, number] | null => null);
        spec[ax] = pos.length === 0 ? [0, 0, 1] : [pos[0]!, pos[pos.length - 1]! + 1, step];
        y = y.slice(...spec);
      } else {
        y = take(y, ax, slicePositions(dim, start, end, step));
      }
    });
    return [{ t: y, kind: x.kind }];
  };
};

const Concat: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  if (!a.has("axis")) throw fail(node, "attribute axis is required, got none");
  const axis = a.int("axis", 0);
  return (ins) => {
    const vals = ins.map((_, i) => need(node, ins, i, `inputs[${i}]`));
    if (vals.length === 0) throw fail(node, "expected at least one input, got none");
    const kind = vals[0]!.kind;
    if (vals.some((v) => v.kind !== kind)) throw fail(node, `inputs of different types: ${vals.map((v) => v.kind).join(", ")}`);
    const ax = axisOf(node, axis, vals[0]!.t.ndim);
    const [first, ...rest] = vals.map((v) => v.t);
    return [{ t: first!.concat(rest, ax), kind }];
  };
};

const Gather: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "data"), idx = need(node, ins, 1, "indices");
    const ax = axisOf(node, axis, x.t.ndim);
    const y = take(x.t, ax, Array.from(positionsIn(node, idx, x.t, ax).toArray()));
    const s = x.t.shape;
    return [{ t: y.reshape([...s.slice(0, ax), ...idx.t.shape, ...s.slice(ax + 1)]), kind: x.kind }];
  };
};

/** Squeeze and Unsqueeze: axes as an attribute before opset 13, as the second input from 13 on. */
const Squeeze: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? [] : ["axes"]);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", a.ints("axes"));
    const axes = given === undefined ? x.t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axesOf(node, given, x.t.ndim);
    for (const ax of axes) if (x.t.shape[ax] !== 1) throw fail(node, `cannot squeeze axis ${ax} of shape ${formatShape(x.t.shape)}: its size is not 1`);
    return [{ t: x.t.reshape(x.t.shape.filter((_, i) => !axes.includes(i))), kind: x.kind }];
  };
};

const Unsqueeze: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? [] : ["axes"]);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", a.ints("axes"));
    if (given === undefined) throw fail(node, "axes are required, got none");
    const rank = x.t.ndim + given.length;
    const axes = axesOf(node, given, rank);
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.t.shape[k++]!);
    return [{ t: x.t.reshape(shape), kind: x.kind }];
  };
};

const Split: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? ["axis", "num_outputs"] : ["axis", "split"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    const ax = axisOf(node, axis, x.t.ndim);
    const dim = x.t.shape[ax]!, n = node.outputs.length;
    const given = intsFrom(node, ins, 1, "split", a.ints("split"));
    const sizes = given ?? Array.from({ length: n }, (_, i) => Math.min(Math.ceil(dim / n), Math.max(0, dim - i * Math.ceil(dim / n))));
    if (sizes.length !== n || sizes.reduce((s, v) => s + v, 0) !== dim) throw fail(node, `split sizes ${JSON.stringify(sizes)} do not cut axis ${ax} of size ${dim} into ${n} outputs`);
    return x.t.split(sizes, ax).map((t) => ({ t, kind: x.kind }));
  };
};

const Shape: OpCompiler = (node) => {
  const a = new Attrs(node, ["start", "end"]);
  const start = a.int("start", 0), end = a.has("end") ? a.int("end", 0) : undefined;
  return (ins) => {
    const s = need(node, ins, 0, "data").t.shape;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
    const dims = s.slice(clamp(start), end === undefined ? s.length : clamp(end));
    return [hostVal(dims, [dims.length])];
  };
};

const Size: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => [hostVal([need(node, ins, 0, "data").t.size], [])];
};

const Constant: OpCompiler = (node) => {
  const a = new Attrs(node, ["value", "value_float", "value_floats", "value_int", "value_ints"]);
  const given = [...node.attrs.keys()];
  if (given.length !== 1) throw fail(node, `expected exactly one value attribute, got ${given.length === 0 ? "none" : given.join(", ")}`);
  const v: Val =
    a.tensor("value") ??
    (a.has("value_float") ? { t: fromTypedArray(Float32Array.of(a.float("value_float", 0)), []), kind: "float32" }
      : a.has("value_floats") ? { t: fromTypedArray(Float32Array.from(a.floats("value_floats")!), [a.floats("value_floats")!.length]), kind: "float32" }
      : a.has("value_int") ? hostVal([a.int("value_int", 0)], [])
      : hostVal(a.ints("value_ints")!, [a.ints("value_ints")!.length]));
  return () => [v];
};

const ConstantOfShape: OpCompiler = (node) => {
  const a = new Attrs(node, ["value"]);
  const value = a.tensor("value") ?? { t: fromTypedArray(Float32Array.of(0), [1]), kind: "float32" as const };
  if (value.t.size !== 1) throw fail(node, `attribute value: expected one element, got shape ${formatShape(value.t.shape)}`);
  const v = value.t.toArray()[0]!;
  return (ins) => {
    const shape = intsIn(node, ins, 0, "input");
    checkSize(node, shape);
    return [{ t: full(shape, v, { dtype: value.kind === "float32" ? "float32" : "float64" }), kind: value.kind }];
  };
};

/** ONNX element types to value kinds. */
export function kindOf(dataType: number): Kind | undefined {
  if (dataType === 1) return "float32";
  if (dataType === 11) return "float64";
  if (dataType === 9) return "bool";
  if ([2, 3, 4, 5, 6, 7, 12, 13].includes(dataType)) return "int";
  return undefined;
}

const Cast: OpCompiler = (node) => {
  const a = new Attrs(node, ["to", "saturate"]);
  const to = a.int("to", 0);
  const kind = kindOf(to);
  if (kind === undefined) throw fail(node, `attribute to=${to}: casting to this element type is not supported (supported: float, double, bool and integers)`);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    if (kind === x.kind) return [x];
    if (isFloat(kind)) return [{ t: x.t.cast(kind), kind }];
    if (kind === "bool") return [{ t: x.t.ne(0).detach().cast("float64"), kind }];
    return [{ t: fromTypedArray(Float64Array.from(x.t.toArray(), Math.trunc), [...x.t.shape]), kind }];
  };
};

const Where: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const c = need(node, ins, 0, "condition");
    if (c.kind !== "bool") throw fail(node, `input condition: expected a boolean tensor, got ${c.kind}`);
    const [x, y, kind] = sameDtype(need(node, ins, 1, "X"), need(node, ins, 2, "Y"));
    return [{ t: where(c.t.cast(x.dtype), x, y), kind }];
  };
};

const Clip: OpCompiler = (node) => {
  const old = node.opset < 11;
  const a = new Attrs(node, old ? ["min", "max"] : []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "input");
    const lo = old ? (a.has("min") ? a.float("min", 0) : undefined) : scalarIn(node, ins, 1, "min");
    const hi = old ? (a.has("max") ? a.float("max", 0) : undefined) : scalarIn(node, ins, 2, "max");
    return [{ t: x.t.clamp(lo ?? null, hi ?? null), kind: x.kind }];
  };
};

const identity: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => [need(node, ins, 0, "input")];
};

const Dropout: OpCompiler = (node) => {
  new Attrs(node, ["seed", "ratio"]);
  if (node.outputs.length > 1 && node.outputs[1] !== "") throw fail(node, "output mask is not supported (only output)");
  return (ins) => {
    const training = ins[2];
    if (training !== undefined && training.t.toArray()[0] !== 0) throw fail(node, "training_mode=true is not supported (inference only)");
    return [need(node, ins, 0, "data")];
  };
};

const BatchNormalization: OpCompiler = (node) => {
  const a = new Attrs(node, ["epsilon", "momentum", "training_mode", "spatial"]);
  const eps = a.float("epsilon", 1e-5);
  a.choice("training_mode", 0, [0]);
  a.choice("spatial", 1, [1]);
  if (node.outputs.length > 1 && node.outputs.slice(1).some((o) => o !== "")) throw fail(node, "outputs running_mean and running_var are not supported (inference only)");
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    if (x.t.ndim < 2) throw fail(node, `input X: expected [N, C, ...], got shape ${formatShape(x.t.shape)}`);
    const c = x.t.shape[1]!;
    const per = (i: number, what: string) => {
      const v = floatIn(node, ins, i, what).t;
      if (v.size !== c) throw fail(node, `input ${what}: expected ${c} values (one per channel), got shape ${formatShape(v.shape)}`);
      return v.reshape([c, ...x.t.shape.slice(2).map(() => 1)]);
    };
    const scale = per(1, "scale"), bias = per(2, "B"), mean = per(3, "input_mean"), variance = per(4, "input_var");
    return [{ t: x.t.sub(mean).div(variance.add(eps).sqrt()).mul(scale).add(bias), kind: x.kind }];
  };
};

const LeakyRelu: OpCompiler = (node) => {
  const a = new Attrs(node, ["alpha"]);
  const alpha = a.float("alpha", 0.01);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: nn.leakyRelu(x.t, alpha), kind: x.kind }];
  };
};

const Pad: OpCompiler = (node) => {
  const a = new Attrs(node, ["mode"]);
  const mode = a.string("mode", "constant");
  if (mode !== "constant") throw fail(node, `attribute mode=${mode} is not supported (only constant)`);
  if (node.opset < 11) throw fail(node, `Pad before opset 11 is not supported (the model's opset is ${node.opset})`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const pads = intsIn(node, ins, 1, "pads");
    const value = scalarIn(node, ins, 2, "constant_value") ?? 0;
    const axes = axesOf(node, intsFrom(node, ins, 3, "axes", undefined) ?? x.t.shape.map((_, i) => i), x.t.ndim);
    if (pads.length !== 2 * axes.length) throw fail(node, `pads ${JSON.stringify(pads)}: expected ${2 * axes.length} values (begin and end of each axis)`);
    // F.pad's flat spec: last axis first, [before, after] each; negative widths crop.
    const flat = Array<number>(2 * x.t.ndim).fill(0);
    axes.forEach((ax, i) => {
      const at = 2 * (x.t.ndim - 1 - ax);
      flat[at] = pads[i]!;
      flat[at + 1] = pads[i + axes.length]!;
    });
    return [{ t: padWith(node, x.t, flat, value), kind: x.kind }];
  };
};

const not: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = need(node, ins, 0, "X");
    if (x.kind !== "bool") throw fail(node, `expected a boolean tensor, got ${x.kind}`);
    return [{ t: x.t.eq(0).cast("float64"), kind: "bool" }];
  };
};

/** Integer positions along `axis` of `x` from an int input, negative ones counted from the end, checked. */
function positionsIn(node: NodeInfo, idx: Val, x: Tensor, axis: number): Tensor {
  if (idx.kind !== "int") throw fail(node, `input indices: expected integers, got ${idx.kind}`);
  const dim = x.shape[axis]!;
  const data = Float64Array.from(idx.t.toArray(), (i) => {
    if (i < -dim || i >= dim) throw fail(node, `index ${i} is out of range for axis ${axis} of size ${dim}`);
    return i < 0 ? i + dim : i;
  });
  return fromTypedArray(data, [...idx.t.shape]);
}

const ArgExtremum = (largest: boolean): OpCompiler => (node) => {
  const a = new Attrs(node, ["axis", "keepdims", "select_last_index"]);
  const axis = a.int("axis", 0), keep = a.choice("keepdims", 1, [0, 1]) === 1;
  a.choice("select_last_index", 0, [0]);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const ax = axisOf(node, axis, x.t.ndim);
    const at = largest ? x.t.argmax(ax, keep) : x.t.argmin(ax, keep);
    return [{ t: at.detach().cast("float64"), kind: "int" }];
  };
};

const CumSum: OpCompiler = (node) => {
  const a = new Attrs(node, ["exclusive", "reverse"]);
  const exclusive = a.choice("exclusive", 0, [0, 1]) === 1, reverse = a.choice("reverse", 0, [0, 1]) === 1;
  return (ins) => {
    const x = floatIn(node, ins, 0, "x");
    const [axis] = intsIn(node, ins, 1, "axis");
    if (axis === undefined) throw fail(node, "input axis: expected one integer, got none");
    const ax = axisOf(node, axis, x.t.ndim);
    let y = Tensor.apply(tensorOps.cumsum, [x.t], { axis: ax, reverse });
    if (exclusive) {
      // Each sum without its own element: the inclusive sums shifted by one along the axis, a zero coming in.
      const n = x.t.shape[ax]!, zeroShape = [...x.t.shape];
      zeroShape[ax] = 1;
      const spec = (from: number, to: number) => x.t.shape.map((_, i): [number, number] | null => (i === ax ? [from, to] : null));
      const z = zeros(zeroShape, { dtype: x.t.dtype });
      y = reverse ? y.slice(...spec(1, n)).concat([z], ax) : z.concat([y.slice(...spec(0, n - 1))], ax);
    }
    return [{ t: y, kind: x.kind }];
  };
};

/** PyTorch's gather: `out[…, i, …] = data[…, indices[…, i, …], …]` along `axis`. */
const GatherElements: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "data"), idx = need(node, ins, 1, "indices");
    const ax = axisOf(node, axis, x.t.ndim);
    if (idx.t.ndim !== x.t.ndim) throw fail(node, `input indices: expected rank ${x.t.ndim} (data's), got shape ${formatShape(idx.t.shape)}`);
    return [{ t: x.t.gather(ax, positionsIn(node, idx, x.t, ax)), kind: x.kind }];
  };
};

/**
 * `data` with `updates` written (reduction "none") or added ("add") at `indices` along `axis`. Written updates at
 * a repeated index add up (ONNX leaves that case undefined).
 */
const ScatterElements: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis", "reduction"]);
  const axis = a.int("axis", 0), reduction = a.string("reduction", "none");
  if (reduction !== "none" && reduction !== "add") throw fail(node, `attribute reduction=${reduction} is not supported (supported: none, add)`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data"), idx = need(node, ins, 1, "indices"), u = floatIn(node, ins, 2, "updates");
    const ax = axisOf(node, axis, x.t.ndim);
    if (idx.t.shape.join() !== u.t.shape.join()) throw fail(node, `inputs indices and updates differ in shape: ${formatShape(idx.t.shape)} and ${formatShape(u.t.shape)}`);
    const at = positionsIn(node, idx, x.t, ax);
    const scattered = u.t.cast(x.t.dtype).scatterAdd(ax, at, x.t.shape);
    if (reduction === "add") return [{ t: x.t.add(scattered), kind: x.kind }];
    const hit = onesLike(u.t).scatterAdd(ax, at, x.t.shape).gt(0);
    return [{ t: where(hit, scattered, x.t), kind: x.kind }];
  };
};

/**
 * erf(x), as a composite: Abramowitz and Stegun 7.1.26, |error| ≤ 1.5e-7 (below float32's rounding of values near
 * 1; gradgraph has no erf primitive). Odd: erf(−x) = −erf(x).
 */
function erf(x: Tensor): Tensor {
  const a = x.abs();
  const t = a.mul(0.3275911).add(1).pow(-1);
  const poly = t.mul(t.mul(t.mul(t.mul(t.mul(1.061405429).add(-1.453152027)).add(1.421413741)).add(-0.284496736)).add(0.254829592));
  return x.sign().mul(poly.mul(a.square().neg().exp()).neg().add(1));
}

/** x·Φ(x) with Φ by erf (ONNX's default), or the tanh approximation. */
const Gelu: OpCompiler = (node) => {
  const a = new Attrs(node, ["approximate"]);
  const approximate = a.string("approximate", "none");
  if (approximate !== "none" && approximate !== "tanh") throw fail(node, `attribute approximate=${approximate} is not supported (supported: none, tanh)`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: approximate === "tanh" ? nn.gelu(x.t) : x.t.mul(erf(x.t.mul(Math.SQRT1_2)).add(1)).mul(0.5), kind: x.kind }];
  };
};

/** An activation with float attributes (each with its ONNX default). */
const activation = (defaults: Record<string, number>, f: (x: Tensor, a: Record<string, number>) => Tensor): OpCompiler => (node) => {
  const a = new Attrs(node, Object.keys(defaults));
  const values = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, a.float(k, v)]));
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: f(x.t, values), kind: x.kind }];
  };
};

/** y = (x − mean) / √(var + ε) · scale + B over the axes from `axis` on (opset 17). */
const LayerNormalization: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis", "epsilon", "stash_type"]);
  const axis = a.int("axis", -1), eps = a.float("epsilon", 1e-5);
  a.choice("stash_type", 1, [1]);
  if (node.outputs.slice(1).some((o) => o !== "")) throw fail(node, "outputs Mean and InvStdDev are not supported (only Y)");
  return (ins) => {
    const x = floatIn(node, ins, 0, "X"), scale = floatIn(node, ins, 1, "Scale"), bias = ins[2];
    const ax = axisOf(node, axis, x.t.ndim);
    const axes = x.t.shape.slice(ax).map((_, i) => ax + i);
    const centred = x.t.sub(x.t.mean(axes, true));
    const y = centred.div(centred.square().mean(axes, true).add(eps).sqrt()).mul(scale.t);
    return [{ t: bias === undefined ? y : y.add(bias.t), kind: x.kind }];
  };
};

const Einsum: OpCompiler = (node) => {
  const a = new Attrs(node, ["equation"]);
  const equation = a.string("equation", "");
  if (equation === "") throw fail(node, "attribute equation is required, got none");
  return (ins) => {
    const xs = ins.map((_, i) => floatIn(node, ins, i, `Inputs[${i}]`));
    if (xs.length === 0) throw fail(node, "expected at least one input, got none");
    return [{ t: einsum(equation, ...xs.map((v) => v.t)), kind: xs[0]!.kind }];
  };
};

/**
 * The supported op types of the default ONNX domain. A type not listed here is an error when the model is
 * imported, naming the node, the op and the opset.
 */
export const IMPORT_OPS: Readonly<Record<string, OpCompiler>> = {
  Add: arithmetic((a, b) => a.add(b)),
  Sub: arithmetic((a, b) => a.sub(b)),
  Mul: arithmetic((a, b) => a.mul(b)),
  Div: arithmetic((a, b) => a.div(b), (x, y) => {
    if (y === 0) throw new OnnxError("importOnnx: integer division by zero");
    return Math.trunc(x / y);
  }),
  Pow: arithmetic((a, b) => a.pow(b)),
  Neg: unary((t) => t.neg()),
  Abs: unary((t) => t.abs()),
  Relu: unary((t) => t.relu()),
  Sigmoid: unary((t) => t.sigmoid()),
  Tanh: unary((t) => t.tanh()),
  Exp: unary((t) => t.exp()),
  Log: unary((t) => t.log()),
  Sqrt: unary((t) => t.sqrt()),
  Sin: unary((t) => t.sin()),
  Cos: unary((t) => t.cos()),
  Reciprocal: unary((t) => t.pow(-1)),
  LeakyRelu,
  Erf: unary(erf),
  Gelu,
  Sign: unary((t) => t.sign()),
  Softplus: unary((t) => t.relu().add(t.abs().neg().exp().log1p())),
  Softsign: unary((t) => t.div(t.abs().add(1))),
  Elu: activation({ alpha: 1 }, (t, { alpha }) => where(t.gt(0), t, t.expm1().mul(alpha!))),
  Selu: activation({ alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 }, (t, { alpha, gamma }) => where(t.gt(0), t, t.expm1().mul(alpha!)).mul(gamma!)),
  HardSigmoid: activation({ alpha: 0.2, beta: 0.5 }, (t, { alpha, beta }) => t.mul(alpha!).add(beta!).clamp(0, 1)),
  HardSwish: unary((t) => t.mul(t.div(6).add(0.5).clamp(0, 1))),
  Max: variadic((a, b) => a.maximum(b)),
  Min: variadic((a, b) => a.minimum(b)),
  Sum: variadic((a, b) => a.add(b)),
  Mean: variadic((a, b) => a.add(b), (t, n) => t.div(n)),
  Greater: comparison((a, b) => a.gt(b)),
  Less: comparison((a, b) => a.lt(b)),
  Equal: comparison((a, b) => a.eq(b)),
  GreaterOrEqual: comparison((a, b) => a.ge(b)),
  LessOrEqual: comparison((a, b) => a.le(b)),
  And: logical((a, b) => a.mul(b)),
  Or: logical((a, b) => a.add(b).gt(0).cast("float64")),
  Not: not,
  Where,
  Cast,
  Clip,
  Gemm,
  MatMul,
  Conv,
  MaxPool,
  AveragePool,
  GlobalAveragePool: globalPool((t, axes) => t.mean(axes, true)),
  GlobalMaxPool: globalPool((t, axes) => t.amax(axes, true)),
  BatchNormalization,
  LayerNormalization,
  Einsum,
  Reshape,
  Flatten,
  Transpose,
  Expand,
  Slice,
  Concat,
  Gather,
  GatherElements,
  ScatterElements,
  Split,
  Squeeze,
  Unsqueeze,
  Shape,
  Size,
  ReduceSum: reduction((t, axes, keep) => t.sum(axes, keep), 13),
  ReduceMean: reduction((t, axes, keep) => t.mean(axes, keep), 18),
  ReduceMax: reduction((t, axes, keep) => t.amax(axes, keep), 18),
  ReduceMin: reduction((t, axes, keep) => t.amin(axes, keep), 18),
  ReduceLogSumExp: reduction((t, axes, keep) => t.logsumexp(axes, keep), 18),
  ArgMax: ArgExtremum(true),
  ArgMin: ArgExtremum(false),
  CumSum,
  Softmax: softmaxLike((t, axis) => t.softmax(axis)),
  LogSoftmax: softmaxLike((t, axis) => t.logSoftmax(axis)),
  Identity: identity,
  Dropout,
  Pad,
  Constant,
  ConstantOfShape,
};
