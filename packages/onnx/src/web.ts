/**
 * gradgraph-onnx for browsers (`gradgraph-onnx/web`): everything but the onnxruntime-node target, so that a
 * bundle never reaches onnxruntime-node or Node's modules. Compiled steps run with `compileAsync` and
 * {@link onnxRuntimeWeb} (WebAssembly or WebGPU).
 * @packageDocumentation
 */
export * from "./portable.js";
