/**
 * ONNX Runtime as an execution target of `compile`: the program exported with its state as graph inputs
 * (./export.ts), loaded into an ONNX Runtime session once per trace, and run at each call on the live tensors.
 *
 * - onnxruntime-node is loaded when {@link onnxRuntime} is called (a dynamic import: the package is an optional
 *   peer dependency; without it, a clear error says how to install it).
 * - A call runs synchronously (compile's targets are synchronous): through onnxruntime-node's native session,
 *   whose `run` is synchronous (its public `InferenceSession.run` wraps the same call in a promise).
 * - Weights are not copied in or out: inputs are views of the tensors' own arrays; the new value of each tensor
 *   the step writes (a parameter, a moment buffer, a gradient) is written by ONNX Runtime straight into one of two
 *   arrays kept for that tensor (preallocated outputs), which the tensor then holds — the other array is the one
 *   the next call writes, so an input is never the output of the same run.
 */
import { getNumThreads, type Executable, type Program, type Target, type TypedArray, type Var } from "gradgraph";
import { OnnxError } from "./errors.js";
import type { ExportedProgram } from "./export.js";
import { checkThreads, exportingTarget, feedArrays, sizeOf, writeBack } from "./feeds.js";
import { encodeModel } from "./proto.js";

/** The parts of onnxruntime-node this target uses. */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
interface OrtModule {
  Tensor: new (type: "float32" | "float64", data: TypedArray, dims: readonly number[]) => OrtTensor;
}
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: object): Record<string, OrtTensor>;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

/** Options of {@link onnxRuntime}. */
export interface OnnxRuntimeOptions {
  /** Threads of ONNX Runtime's operators, 1 to 256 (default: gradgraph's own thread count, `getNumThreads()`). */
  threads?: number;
  /**
   * Whether ONNX Runtime writes the tensors' new values into arrays kept for them (default true). With false it
   * allocates them at every call (a copy out of its own memory each): for measuring what the reuse saves.
   */
  preallocate?: boolean;
}

const INSTALL = "npm install onnxruntime-node (its CPU binaries ship in the package: with ONNXRUNTIME_NODE_INSTALL=skip, or the .npmrc line onnxruntime-node-install=skip, it installs without a download)";

async function load(): Promise<{ ort: OrtModule; native: NativeBinding }> {
  const name = "onnxruntime-node";
  let ort: OrtModule, native: NativeBinding;
  try {
    ort = (await import(name)) as OrtModule;
    const b = (await import(`${name}/dist/binding.js`)) as Partial<NativeBinding> & { default?: NativeBinding };
    native = (typeof b.initOrt === "function" ? b : b.default) as NativeBinding;
  } catch (e) {
    throw new OnnxError(`onnxRuntime: the package onnxruntime-node could not be loaded (${(e as Error).message.split("\n")[0]}). It is an optional peer dependency of gradgraph-onnx: ${INSTALL}`);
  }
  if (typeof native?.initOrt !== "function" || typeof native.binding?.InferenceSession !== "function") {
    throw new OnnxError("onnxRuntime: this onnxruntime-node has no synchronous native session (gradgraph-onnx needs onnxruntime-node 1.30 or later 1.x)");
  }
  return { ort, native };
}

const arrayOf = (v: Var, n = sizeOf(v)): TypedArray => (v.dtype === "float64" ? new Float64Array(n) : new Float32Array(n));

/**
 * The ONNX Runtime target (Node: onnxruntime-node, CPU). Pass it to `compile(fn, { target })`, or to
 * `registerTarget` to make it compile's choice wherever it can run the program.
 *
 * @example
 * const target = await onnxRuntime();
 * const step = compile(trainStep, { target });
 */
export async function onnxRuntime(options: OnnxRuntimeOptions = {}): Promise<Target> {
  const threads = checkThreads("onnxRuntime", options.threads);
  const { ort, native } = await load();
  native.initOrt();
  return exportingTarget("onnxruntime", "onnxRuntime", (p, e) => prepare(p, e, ort, native, threads ?? getNumThreads(), options.preallocate ?? true));
}

function prepare(p: Program, e: ExportedProgram, ort: OrtModule, native: NativeBinding, threads: number, preallocate: boolean): Executable {
  const session = new native.binding.InferenceSession();
  const bytes = encodeModel(e.model);
  try {
    session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", executionProviders: ["cpu"],
      logSeverityLevel: 3, // errors only: ONNX Runtime's warnings (an initializer its optimizer folded away) are not the user's
    });
  } catch (err) {
    throw new OnnxError(`onnxRuntime: ONNX Runtime refused the step's exported model (a bug of gradgraph-onnx's export; the CPU target runs it): ${(err as Error).message}`);
  }
  // Two arrays per tensor the step writes: ONNX Runtime writes one while the tensor holds (and feeds) the other.
  const pairs = e.outputs.map((o) => (preallocate && o.fetch.kind === "state" ? [arrayOf(o.var), arrayOf(o.var)] as const : null));
  const wrapped = new Map<TypedArray, OrtTensor>();
  const ortTensor = (data: TypedArray, v: Var): OrtTensor => {
    let t = wrapped.get(data);
    if (t === undefined) {
      // onnxruntime-node refuses views of a SharedArrayBuffer (arrays of gradgraph's shared WebAssembly heap, where
      // the built-in target keeps what a step updates): those are fed as a copy.
      t = new ort.Tensor(v.dtype, data.buffer instanceof ArrayBuffer ? data : (data.slice() as TypedArray), v.shape);
      if (pairs.some((pair) => pair?.includes(data))) wrapped.set(data, t);
    }
    return t;
  };
  return (inputs) => {
    const arrays = feedArrays(p, e, inputs);
    if (arrays === null) return null; // state changed shape: trace again
    const feeds: Record<string, OrtTensor> = {};
    for (const i of e.inputs) feeds[i.name] = ortTensor(arrays.get(i.name)!, i.var);
    const fetches: Record<string, OrtTensor | null> = {};
    e.outputs.forEach((o, k) => {
      const pair = pairs[k];
      if (pair === null || pair === undefined || o.fetch.kind !== "state") return void (fetches[o.name] = null);
      const held = o.fetch.field === "grad" ? o.fetch.tensor.grad?.value.data : o.fetch.tensor.value.data;
      fetches[o.name] = ortTensor(held === pair[0] ? pair[1] : pair[0], o.var);
    });
    const out = session.run(feeds, fetches, {});
    return writeBack(p, e, (k) => (pairs[k] === null ? out[e.outputs[k]!.name]!.data : fetches[e.outputs[k]!.name]!.data) as TypedArray);
  };
}
