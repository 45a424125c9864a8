/**
 * What gradgraph-onnx offers everywhere (Node and browsers): the entry points ./index.ts (Node) and ./web.ts
 * (browsers) each add their runtimes' targets to it.
 */
export { OnnxError } from "./errors.js";
export { AttributeType, DataType, decodeModel, encodeModel } from "./proto.js";
export type {
  AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
  TensorShapeDimension, TensorShapeProto, TypeProto, ValueInfoProto,
} from "./proto.js";
export { exportOnnx, programToOnnx, type ExportedProgram, type ExportOptions, type Feed, type Fetch, type ProgramExportOptions, type StateMode } from "./export.js";
export { importOnnx, OnnxModule, OnnxScope, type ImportOptions, type OnnxValueInfo } from "./import.js";
export { hasWebGpu, onnxRuntimeWeb, type OnnxRuntimeWebModule, type OnnxRuntimeWebOptions } from "./web-target.js";
