/**
 * Compiled steps: `compile(fn)` traces a step into a {@link Program}, simplifies it and runs it on a target.
 */
import { expectFunction } from "../core/expect.js";
import { CompileError } from "./program.js";
import { optimize } from "./passes.js";
import type { Program } from "./program.js";
import { trace } from "./trace.js";

export { compile, CompileError, registerTarget, type CompiledFunction, type CompiledInfo, type CompileOptions } from "./compile.js";
export type { ReplayMode } from "./scalar.js";
export { compileAsync, type AsyncCompiledFunction, type AsyncExecutable, type AsyncTarget, type CompileAsyncOptions } from "./async.js";
export { programDot, type ProgramDotOptions } from "./dot.js";
export { cpuTarget, planMemory, type Executable, type Target } from "./cpu.js";
export { eliminateCommon, eliminateDead, fuseElementwise, fuseKernels, fuseReductions, inPlaceUpdates, lowerElementwise, optimize, sumMode, transposedProducts } from "./passes.js";
export { exprString, programString, stepInputs, stepName, stepOutputs, type Effect, type Guard, type KernelOutput, type Program, type Source, type Step, type Var } from "./program.js";

/**
 * The program of one call of `fn` (which runs, eagerly, once): what `compile` would run, after its passes unless
 * `optimize: false`. For tools that take a program elsewhere (ONNX export) and for looking at one.
 *
 * @example
 * const p = stepProgram((x: Tensor) => x.mul(2).add(1).relu().sum(), ones([3]));
 * programString(p); // one fused kernel and a sum
 */
export function stepProgram(fn: (...args: never[]) => unknown, ...args: unknown[]): Program {
  expectFunction(fn, "stepProgram");
  const t = trace(fn, args);
  if (t.program === null) throw new CompileError(`stepProgram: this step cannot be compiled: ${t.reasons.join("; ")}`);
  return optimize(t.program);
}
