/**
 * The package's one error type: a model that cannot be written (an op without an ONNX form) or read (malformed or
 * unsupported bytes), or a runtime that is missing. The message says what was expected and what came.
 */
export class OnnxError extends Error {
  override readonly name = "OnnxError";
}
