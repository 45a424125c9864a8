/**
 * onnxruntime-web as an execution target of `compileAsync`: the program exported with its state as graph inputs
 * (./export.ts), loaded into an onnxruntime-web session once per trace, run at each call on the live tensors, and
 * the tensors' new values written back (./feeds.ts, as the Node target does). Its runs are asynchronous, so it is
 * an `AsyncTarget`. Execution providers: "wasm" (WebAssembly, the CPU) and "webgpu" (where `navigator.gpu` gives
 * an adapter). onnxruntime-web is an optional peer dependency, imported when {@link onnxRuntimeWeb} is called
 * (a bundler bundles it; its .wasm files are fetched from `wasmPaths`).
 */
import type { AsyncExecutable, AsyncTarget, Program, TypedArray } from "gradgraph";
import { OnnxError } from "./errors.js";
import type { ExportedProgram } from "./export.js";
import { checkThreads, exportingTarget, feedArrays, writeBack } from "./feeds.js";
import { encodeModel } from "./proto.js";

/** The parts of onnxruntime-web this target uses. */
interface WebTensor {
  readonly data: unknown;
}
interface WebSession {
  run(feeds: Record<string, WebTensor>): Promise<Record<string, WebTensor>>;
}
/** The onnxruntime-web module (what `import * as ort from "onnxruntime-web"` gives), as far as this target uses it. */
export interface OnnxRuntimeWebModule {
  Tensor: new (type: "float32" | "float64", data: TypedArray, dims: readonly number[]) => WebTensor;
  InferenceSession: { create(model: Uint8Array, options: object): Promise<WebSession> };
  env: { wasm: { wasmPaths?: unknown; numThreads?: number } };
}

/** Options of {@link onnxRuntimeWeb}. */
export interface OnnxRuntimeWebOptions {
  /** "wasm" (default: WebAssembly on the CPU) or "webgpu" (needs a WebGPU adapter; what its kernels lack, float64 included, ONNX Runtime runs on the CPU). */
  executionProvider?: "wasm" | "webgpu";
  /**
   * Where onnxruntime-web's .wasm files are served (a URL prefix ending in "/", e.g. "/ort/": copy them from
   * `node_modules/onnxruntime-web/dist/`). Default: onnxruntime-web's own choice (next to the script).
   * Set once: onnxruntime-web reads it when it first starts.
   */
  wasmPaths?: string;
  /** WebAssembly threads, 1 to 256 (onnxruntime-web's `env.wasm.numThreads`; more than 1 needs a cross-origin isolated page). */
  threads?: number;
  /** The onnxruntime-web module, if the page imports it already (e.g. `import * as ort from "onnxruntime-web/webgpu"`). */
  ort?: OnnxRuntimeWebModule;
}

const INSTALL = "npm install onnxruntime-web (an optional peer dependency of gradgraph-onnx)";

async function load(): Promise<OnnxRuntimeWebModule> {
  try {
    const m = (await import("onnxruntime-web")) as unknown as OnnxRuntimeWebModule & { default?: OnnxRuntimeWebModule };
    return typeof m.InferenceSession === "function" || typeof m.InferenceSession === "object" ? m : m.default!;
  } catch (e) {
    throw new OnnxError(`onnxRuntimeWeb: the package onnxruntime-web could not be loaded (${(e as Error).message.split("\n")[0]}): ${INSTALL}`);
  }
}

/** Whether this page offers WebGPU: `navigator.gpu.requestAdapter()` gives an adapter. */
export async function hasWebGpu(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * The onnxruntime-web target (browsers; WebAssembly or WebGPU), for {@link compileAsync}: each replay of the step
 * is an onnxruntime-web run, awaited; the tensors the step writes (parameters, optimizer buffers, gradients) hold
 * the new values after it.
 *
 * @example
 * import { compileAsync } from "gradgraph";
 * import { onnxRuntimeWeb } from "gradgraph-onnx/web";
 * const target = await onnxRuntimeWeb({ executionProvider: "wasm", wasmPaths: "/ort/" });
 * const step = compileAsync(trainStep, { target });
 * const loss = await step(x, y);
 */
export async function onnxRuntimeWeb(options: OnnxRuntimeWebOptions = {}): Promise<AsyncTarget> {
  const threads = checkThreads("onnxRuntimeWeb", options.threads);
  const provider = options.executionProvider ?? "wasm";
  if (provider !== "wasm" && provider !== "webgpu") throw new OnnxError(`onnxRuntimeWeb: expected the execution provider "wasm" or "webgpu", got ${JSON.stringify(provider)}`);
  if (provider === "webgpu" && !(await hasWebGpu())) throw new OnnxError("onnxRuntimeWeb: the execution provider \"webgpu\" needs WebGPU, and navigator.gpu gives no adapter here (use \"wasm\")");
  const ort = options.ort ?? (await load());
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  return exportingTarget(`onnxruntime-web (${provider})`, "onnxRuntimeWeb", (p, e) => prepare(p, e, ort, provider));
}

function prepare(p: Program, e: ExportedProgram, ort: OnnxRuntimeWebModule, provider: "wasm" | "webgpu"): AsyncExecutable {
  const session = ort.InferenceSession.create(encodeModel(e.model), { executionProviders: [provider], graphOptimizationLevel: "all", logSeverityLevel: 3 });
  session.catch(() => undefined); // reported by the first call, not as an unhandled rejection
  return async (inputs) => {
    const arrays = feedArrays(p, e, inputs);
    if (arrays === null) return null; // state changed shape: trace again
    const feeds: Record<string, WebTensor> = {};
    for (const i of e.inputs) feeds[i.name] = new ort.Tensor(i.var.dtype, arrays.get(i.name)!, i.var.shape);
    const out = await (await session).run(feeds);
    return writeBack(p, e, (k) => out[e.outputs[k]!.name]!.data as TypedArray);
  };
}
