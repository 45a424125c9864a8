/**
 * gradgraph-onnx: ONNX models from gradgraph programs, and ONNX Runtime as an execution target (onnxruntime-node
 * here; onnxruntime-web in browsers, from `gradgraph-onnx/web`, and in Node too).
 * @packageDocumentation
 */
export * from "./portable.js";
export { onnxRuntime, type OnnxRuntimeOptions } from "./target.js";
