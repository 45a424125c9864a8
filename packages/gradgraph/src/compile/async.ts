/**
 * `compileAsync(fn)`: {@link compile} for targets whose runs are asynchronous (onnxruntime-web in a browser). The
 * same mechanism (./compile.ts: the cache, guards, signatures, the eager first call); each replay is awaited, and
 * calls run one after another in the order they were made.
 */
import type { NDArray } from "../tensor/ndarray.js";
import { compiler, type CompiledInfo, type CompileOptions } from "./compile.js";
import type { Executable, Target } from "./cpu.js";
import type { Program } from "./program.js";

/** A program made ready on an {@link AsyncTarget}: resolves to the outputs, or null when state no longer fits the trace. */
export type AsyncExecutable = (inputs: readonly NDArray[]) => Promise<NDArray[] | null>;

/** A target whose runs are asynchronous (`onnxRuntimeWeb()` from `gradgraph-onnx/web`): for {@link compileAsync}. */
export interface AsyncTarget {
  readonly name: string;
  /** Why this target cannot run `program` (an op it lacks), or null when it can. */
  unsupported(program: Program): string | null;
  /** The program ready to run (called once per trace, synchronously; the executable may finish its setup at its first call). */
  prepare(program: Program): AsyncExecutable;
}

/** Options of {@link compileAsync}: those of {@link compile}, with a target that may be asynchronous. */
export interface CompileAsyncOptions extends Omit<CompileOptions, "target"> {
  /** Where the program runs: an {@link AsyncTarget} or a synchronous {@link Target} (default: as {@link compile} chooses). */
  target?: AsyncTarget | Target;
}

/** A function compiled by {@link compileAsync}: call it like the original; it resolves to what the original returns. */
export interface AsyncCompiledFunction<A extends unknown[], R> extends CompiledInfo {
  (...args: A): Promise<R>;
}

/**
 * Compiles a step like {@link compile}, for a target whose runs are asynchronous. The first call with a new
 * signature runs `fn` eagerly while tracing it (so its result is ready at once); later calls replay the program on
 * the target and resolve when the run has finished and its effects (new parameter values, gradients) are written
 * back. A call starts its work when it is made, as an async function does (the first call's eager run, a replay's
 * start); calls made before an earlier one has resolved wait for it: a training loop may call without awaiting
 * each step, and the steps still run in order.
 *
 * @example
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
 * const opt = new nn.SGD(model.parameters(), { lr: 0.1 });
 * // In a browser: `target: await onnxRuntimeWeb()` from gradgraph-onnx/web; any synchronous target works too.
 * const step = compileAsync((x: Tensor, y: Tensor) => {
 *   opt.zeroGrad();
 *   const loss = nn.mseLoss(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 *   return loss;
 * }, { target: cpuTarget });
 * const x = randn([16, 4]), y = randn([16, 1]);
 * const first = (await step(x, y)).item(); // traced (runs eagerly once)
 * const later = (await step(x, y)).item(); // replayed on the target
 */
export function compileAsync<A extends unknown[], R>(fn: (...args: A) => R, options: CompileAsyncOptions = {}): AsyncCompiledFunction<A, R> {
  const c = compiler<A, R, AsyncExecutable | Executable>(fn, options, "compileAsync");
  const run = async (args: A): Promise<R> => {
    const g = c.call(args);
    let r = g.next();
    while (r.done !== true) r = g.next(await r.value.run(r.value.inputs));
    return r.value;
  };
  // A call starts at once, as an async function does (its trace or eager run, or the replay's start, happen before
  // the caller awaits anything); one made while an earlier call is still running waits for it, so steps run in order.
  let pending = 0;
  let last: Promise<unknown> = Promise.resolve();
  const call = (...args: A): Promise<R> => {
    const result = pending === 0 ? run(args) : last.then(() => run(args));
    pending++;
    const settled = () => void pending--;
    last = result.then(settled, settled); // a failed call does not stop the ones after it
    return result;
  };
  return Object.assign(call, { programs: c.programs, explain: c.explain, stats: c.stats });
}
