/**
 * What the op table of `importOnnx` (import-ops.ts, import-nn.ts) is written against: the values flowing through an
 * imported graph, a node's attributes, and the readers of a node's inputs, each failing with an `OnnxError` that
 * names the node and its op.
 *
 * Values: gradgraph tensors are float32 or float64 only, so an ONNX value carries its element kind beside its
 * tensor. Floats are tensors of their dtype; integers (shapes, indices, axes) and booleans (comparisons) are
 * float64 tensors holding whole numbers (exact below 2^53), without gradients. Ops that need numbers on the host
 * (a Reshape's shape, a Slice's starts) read them from those tensors: shapes are static at run time, as in
 * eager PyTorch — `Shape` gives the actual input's shape.
 */
import { formatShape, fromTypedArray, onesLike, type Tensor, where } from "gradgraph";
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

export const isFloat = (k: Kind): k is "float32" | "float64" => k === "float32" || k === "float64";

/** A float64 tensor of whole numbers (or 0/1 booleans) as an ONNX int or bool value. */
export function hostVal(data: readonly number[] | Float64Array, shape: readonly number[], kind: "int" | "bool" = "int"): Val {
  return { t: fromTypedArray(Float64Array.from(data), [...shape]), kind };
}

/** Input `i` of a node, which must be there. */
export function need(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): Val {
  const v = ins[i];
  if (v === undefined) throw fail(node, `input ${i} (${what}) is required, got none`);
  return v;
}

/** A float input (X of most ops). */
export function floatIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): Val {
  const v = need(node, ins, i, what);
  if (!isFloat(v.kind)) throw fail(node, `input ${i} (${what}): expected a float tensor, got ${v.kind}`);
  return v;
}

/** The integers of an int input (a shape, axes, indices) on the host. */
export function intsIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): number[] {
  const v = need(node, ins, i, what);
  if (v.kind !== "int") throw fail(node, `input ${i} (${what}): expected an integer tensor, got ${v.kind}`);
  if (v.t.ndim > 1) throw fail(node, `input ${i} (${what}): expected a scalar or a 1-D tensor, got shape ${formatShape(v.t.shape)}`);
  return Array.from(v.t.toArray());
}

/** The optional int input `i` as numbers, or the attribute of the same meaning (older opsets), or undefined. */
export function intsFrom(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string, attr: number[] | undefined): number[] | undefined {
  if (ins[i] !== undefined) return intsIn(node, ins, i, what);
  return attr;
}

/** A scalar of float input `i` (Clip's bounds). */
export function scalarIn(node: NodeInfo, ins: readonly (Val | undefined)[], i: number, what: string): number | undefined {
  const v = ins[i];
  if (v === undefined) return undefined;
  if (v.t.size !== 1) throw fail(node, `input ${i} (${what}): expected a single value, got shape ${formatShape(v.t.shape)}`);
  return v.t.toArray()[0]!;
}

/** An axis of a rank-`rank` tensor, negative counting from the end, checked. */
export function axisOf(node: NodeInfo, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw fail(node, `${what} ${axis} is out of range for a tensor of rank ${rank} (expected ${-rank}..${rank - 1})`);
  return a;
}

/** Axes, normalized and checked for repeats. */
export function axesOf(node: NodeInfo, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => axisOf(node, a, rank));
  if (new Set(out).size !== out.length) throw fail(node, `axes ${JSON.stringify(axes)} repeat an axis`);
  return out;
}

/** Both operands of a binary op in one dtype: an int operand meeting a float one takes the float's dtype. */
export function sameDtype(a: Val, b: Val): [Tensor, Tensor, Kind] {
  if (a.kind === b.kind) return [a.t, b.t, a.kind];
  const kind: Kind = isFloat(a.kind) ? a.kind : isFloat(b.kind) ? b.kind : "int";
  const dt = kind === "float32" ? "float32" : "float64";
  return [a.t.cast(dt), b.t.cast(dt), kind];
}

export const product = (xs: readonly number[]) => xs.reduce((p, n) => p * n, 1);

/**
 * The most elements an op may make from sizes it reads in the model's data (Pad, Expand, ConstantOfShape, a
 * window's pads): a guard against a malformed file asking for gigabytes, which would take minutes or fail deep in
 * the engine.
 */
export const MAX_MADE_ELEMENTS = 2 ** 26;

export function checkSize(node: NodeInfo, shape: readonly number[]): void {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw fail(node, `the output shape ${formatShape(shape)} is not a shape`);
  if (product(shape) > MAX_MADE_ELEMENTS) throw fail(node, `the output of shape ${formatShape(shape)} would have ${product(shape)} elements, more than the ${MAX_MADE_ELEMENTS} importOnnx makes`);
}

/** Reads a node's attributes and returns the function that runs it. */
export type OpCompiler = (node: NodeInfo) => NodeFn;

/**
 * `x` padded by F.pad's flat spec (last axis first, [before, after] each; negative widths crop) with `value`. The
 * engine's pad adds `value` outside a mask of ones, which gives NaN for an infinite value (−∞ · 0); a `where` on
 * the same mask keeps −∞ as it is (MaxPool's padding).
 */
export function padWith(node: NodeInfo, x: Tensor, flat: readonly number[], value: number): Tensor {
  checkSize(node, x.shape.map((d, i) => d + (flat[2 * (x.ndim - 1 - i)] ?? 0) + (flat[2 * (x.ndim - 1 - i) + 1] ?? 0)));
  const y = x.pad(flat, 0);
  if (value === 0) return y;
  return where(onesLike(x).pad(flat, 0), y, value);
}

/** ONNX element types to value kinds. */
export function kindOf(dataType: number): Kind | undefined {
  if (dataType === 1) return "float32";
  if (dataType === 11) return "float64";
  if (dataType === 9) return "bool";
  if ([2, 3, 4, 5, 6, 7, 12, 13].includes(dataType)) return "int";
  return undefined;
}

/** Integer positions along `axis` of `x` from an int input, negative ones counted from the end, checked. */
export function positionsIn(node: NodeInfo, idx: Val, x: Tensor, axis: number): Tensor {
  if (idx.kind !== "int") throw fail(node, `input indices: expected integers, got ${idx.kind}`);
  const dim = x.shape[axis]!;
  const data = Float64Array.from(idx.t.toArray(), (i) => {
    if (i < -dim || i >= dim) throw fail(node, `index ${i} is out of range for axis ${axis} of size ${dim}`);
    return i < 0 ? i + dim : i;
  });
  return fromTypedArray(data, [...idx.t.shape]);
}
