/**
 * Building an ONNX graph: fresh value names, nodes with typed attributes, and constants (scalars cached per dtype
 * and value, int64 lists for shapes and axes) as initializers. Lowerings (./lower.ts) write into one of these.
 */
import type { DType, Shape } from "gradgraph/ops";
import { OnnxError } from "./errors.js";
import { AttributeType, DataType, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from "./proto.js";

/** The ONNX operator set the lowerings write (the standard domain), and the IR version that goes with it. */
export const OPSET = 17;
export const IR_VERSION = 8;

/** A value of the graph being built: its name, shape and dtype. */
export interface OnnxValue {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** The ONNX element type of a gradgraph dtype. */
export function onnxType(dtype: DType): number {
  return dtype === "float64" ? DataType.DOUBLE : DataType.FLOAT;
}

/** A graph input or output's declaration. */
export function valueInfo(v: OnnxValue): ValueInfoProto {
  return { name: v.name, type: { tensorType: { elemType: onnxType(v.dtype), shape: { dim: v.shape.map((dimValue) => ({ dimValue })) } } } };
}

const bytesOf = (a: Float32Array | Float64Array | BigInt64Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A tensor constant: float32/float64 numbers, as raw little-endian data. */
export function tensorProto(name: string, dtype: DType, dims: Shape, data: ArrayLike<number>): TensorProto {
  const typed = dtype === "float64" ? Float64Array.from(data) : Float32Array.from(data);
  return { name, dims: [...dims], dataType: onnxType(dtype), rawData: bytesOf(typed) };
}

/** An int64 tensor constant (shapes, axes, indices). */
export function int64Proto(name: string, dims: Shape, data: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(Array.from(data, (x) => BigInt(x)))) };
}

/** Attribute helpers: `attr.int("axis", 1)`, `attr.ints("perm", [1, 0])`, ... */
export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f }),
  string: (name: string, s: string): AttributeProto => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: TensorProto): AttributeProto => ({ name, type: AttributeType.TENSOR, t }),
};

/** Nodes and initializers of a graph under construction. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly cache = new Map<string, string>();
  private counter = 0;

  /** Whether a name is in use. */
  taken(name: string): boolean {
    return this.names.has(name);
  }

  /** Reserves a name (a graph input's or output's): fresh names never take it. */
  reserve(name: string): string {
    if (this.names.has(name)) throw new OnnxError(`the ONNX graph already has a value named ${JSON.stringify(name)}`);
    this.names.add(name);
    return name;
  }

  /** A name not used yet, from a hint. */
  fresh(hint: string): string {
    for (;;) {
      const name = `${hint}_${this.counter++}`;
      if (!this.names.has(name)) return this.reserve(name);
    }
  }

  /** Adds a node with one output (a fresh name, or `output` when given) and returns the output's name. */
  node(opType: string, inputs: readonly string[], attributes: readonly AttributeProto[] = [], output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, input: [...inputs], output: [out], name: `${opType}_${this.nodes.length}`, ...(attributes.length > 0 ? { attribute: [...attributes] } : {}) });
    return out;
  }

  /** An initializer holding `t` (its name is given, or fresh). */
  initializer(t: TensorProto): string {
    const name = t.name !== undefined && t.name !== "" ? this.reserve(t.name) : this.fresh("const");
    this.initializers.push({ ...t, name });
    return name;
  }

  private cached(key: string, make: () => TensorProto): string {
    let name = this.cache.get(key);
    if (name === undefined) {
      name = this.initializer(make());
      this.cache.set(key, name);
    }
    return name;
  }

  /** A 0-d constant of a dtype (one initializer per dtype and value). */
  scalar(value: number, dtype: DType): string {
    return this.cached(`${dtype}:${Object.is(value, -0) ? "-0" : value}`, () => tensorProto("", dtype, [], [value]));
  }

  /** A 1-d int64 constant (one initializer per list). */
  int64s(values: readonly number[]): string {
    return this.cached(`i64:[${values.join(",")}]`, () => int64Proto("", [values.length], values));
  }

  /** A 0-d int64 constant. */
  int64(value: number): string {
    return this.cached(`i64:${value}`, () => int64Proto("", [], [value]));
  }

  /** An int64 constant of any shape (gather indices), not cached. */
  int64Tensor(dims: Shape, values: ArrayLike<number>): string {
    return this.initializer(int64Proto("", dims, values));
  }

  /** A float constant of any shape, not cached. */
  tensor(dtype: DType, dims: Shape, values: ArrayLike<number>): string {
    return this.initializer(tensorProto("", dtype, dims, values));
  }

  /** `x` as `dtype` (a Cast node only where it is not already). */
  cast(x: OnnxValue, dtype: DType): string {
    return x.dtype === dtype ? x.name : this.node("Cast", [x.name], [attr.int("to", onnxType(dtype))]);
  }
}

/** A model of the builder's graph with these inputs and outputs (each output the name of a value the graph makes). */
export function modelOf(b: GraphBuilder, inputs: readonly OnnxValue[], outputs: readonly OnnxValue[], name = "gradgraph"): ModelProto {
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "gradgraph-onnx",
    graph: { name, node: b.nodes, initializer: b.initializers, input: inputs.map(valueInfo), output: outputs.map(valueInfo) },
  };
}
