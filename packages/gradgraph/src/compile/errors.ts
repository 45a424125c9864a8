import { GradgraphError } from "../core/errors.js";

/** A step that cannot be compiled, with `strict: true` or `stepProgram` (the message says why). */
export class CompileError extends GradgraphError {
  override name = "CompileError";
}
