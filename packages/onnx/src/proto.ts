/**
 * ONNX models as plain typed objects, and their protobuf encoding: `encodeModel` writes the bytes of an `.onnx`
 * file, `decodeModel` reads them. The schema is the subset in onnx.proto (embedded by schema.ts), encoded and
 * decoded by protobufjs. Field names are the schema's in camelCase (`op_type` is `opType`); 64-bit integers are
 * numbers (ONNX uses them for dims, opset versions and attributes, all far below 2^53).
 */
import protobuf from "protobufjs";
import { OnnxError } from "./errors.js";
import { ONNX_PROTO } from "./schema.js";

/** TensorProto.DataType: an ONNX element type. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType: which field of an attribute holds its value. */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

export interface StringStringEntryProto { key?: string; value?: string }
export interface OperatorSetIdProto { domain?: string; version?: number }

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

export interface TensorShapeDimension { dimValue?: number; dimParam?: string; denotation?: string }
export interface TensorShapeProto { dim?: TensorShapeDimension[] }
export interface TypeProto { tensorType?: { elemType?: number; shape?: TensorShapeProto }; denotation?: string }
export interface ValueInfoProto { name?: string; type?: TypeProto; docString?: string }

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
}

let modelType: protobuf.Type | undefined;
/** The ModelProto message type, parsed from the embedded schema on first use. */
function model(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO).root.lookupType("onnx.ModelProto");
  return modelType;
}

/** The bytes of an `.onnx` file holding `m`. An object that does not fit the schema is an `OnnxError`. */
export function encodeModel(m: ModelProto): Uint8Array {
  const type = model();
  const problem = type.verify(m);
  if (problem) throw new OnnxError(`encodeModel: not an ONNX ModelProto: ${problem}`);
  return type.encode(type.fromObject(m)).finish();
}

/**
 * The model in an `.onnx` file's bytes. Bytes that are not a protobuf ModelProto, or a ModelProto without a graph,
 * are an `OnnxError` saying what was wrong (never a crash).
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new OnnxError(`decodeModel: expected the bytes of an ONNX file (a Uint8Array), got ${describe(bytes)}`);
  const type = model();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    throw new OnnxError(`decodeModel: not an ONNX file (${bytes.length} bytes): the protobuf is malformed: ${(e as Error).message}`);
  }
  const m = type.toObject(message, { longs: Number, arrays: false, defaults: false }) as ModelProto;
  if (m.graph === undefined) throw new OnnxError(`decodeModel: not an ONNX model (${bytes.length} bytes): it has no graph`);
  if (m.irVersion === undefined) throw new OnnxError(`decodeModel: not an ONNX model (${bytes.length} bytes): it has no ir_version`);
  return m;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "an object";
  return typeof x;
}
