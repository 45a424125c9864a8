/**
 * gradgraph-onnx: ONNX models from gradgraph programs, and ONNX Runtime as an execution target.
 * @packageDocumentation
 */
export { OnnxError } from "./errors.js";
export { AttributeType, DataType, decodeModel, encodeModel } from "./proto.js";
export type {
  AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
  TensorShapeDimension, TensorShapeProto, TypeProto, ValueInfoProto,
} from "./proto.js";
export { exportOnnx, programToOnnx, type ExportedProgram, type ExportOptions, type Feed, type Fetch, type ProgramExportOptions, type StateMode } from "./export.js";
export { onnxRuntime, type OnnxRuntimeOptions } from "./target.js";
export { importOnnx, OnnxModule, OnnxScope, type ImportOptions, type OnnxValueInfo } from "./import.js";
