/**
 * The backend seam: what the tensor engine asks of a device. A backend allocates and releases storage, reads an
 * array back (possibly asynchronously: a GPU backend copies to the host), and runs kernels. The kernels the
 * engine asks for are elementwise expressions traced from the op table's ALU definitions ({@link Kernel}): the
 * backend prints its own code for each (JavaScript, WebAssembly SIMD, later WGSL) and caches it.
 *
 * The CPU backends: `js` (the pure-TypeScript reference, always available, and every other backend's fallback)
 * and `wasm` (WebAssembly SIMD, where the runtime has it). {@link setBackend} chooses; the default is the fastest
 * one available.
 */
import { InputError } from "../core/errors.js";
import { checkScopeFunction, checkScopeResult } from "../core/scope.js";
import { inputCount, type AluNode } from "../ops/alu.js";
import type { DType } from "../ops/op.js";
import type { Shape } from "../ops/shape.js";
import { jsBackend } from "./js.js";
import type { NDArray, TypedArray } from "./ndarray.js";
import { wasmBackend } from "./wasm.js";

/** An elementwise kernel: one output from `arity` inputs (broadcast to the output's shape), as an ALU DAG. */
export interface Kernel {
  readonly root: AluNode;
  readonly arity: number;
  /** Structural key of the DAG (equal kernels have equal keys: backends cache their printed code by it). */
  readonly key: string;
}

/**
 * How a {@link KernelSet} writes one of its outputs: `store`, an array of the kernel's shape, element for element;
 * `rows`, sums of consecutive blocks of n/m elements (reduced trailing axes; m = 1: the sum of everything);
 * `cols`, sums of the elements m apart (reduced leading axes: element i adds into i mod m). For m elements out
 * of n.
 */
export type OutputMode = "store" | "rows" | "cols";

/**
 * A multi-output kernel: several ALU DAGs of the same inputs (sharing nodes), computed in one pass over the
 * kernel's shape, each written as an array or summed ({@link OutputMode}).
 */
export interface KernelSet {
  readonly outs: readonly { readonly root: AluNode; readonly mode: OutputMode }[];
  readonly arity: number;
  /** Structural key (backends cache their printed code by it). */
  readonly key: string;
}

/** A kernel set from traced DAGs (built by one tracer, so that shared subexpressions are one node). */
export function kernelSetOf(outs: readonly { root: AluNode; mode: OutputMode }[], arity: number): KernelSet {
  return { outs, arity, key: `${arity}:${outs.map((o) => `${o.mode} ${o.root.key}`).join(";")}` };
}

/** A kernel from a traced DAG. */
export function kernelOf(root: AluNode, arity = inputCount(root)): Kernel {
  return { root, arity, key: `${arity}:${root.key}` };
}

/** Where kernels run and arrays live: the JavaScript backend or the WebAssembly one (see {@link setBackend}). */
export interface Backend {
  readonly name: string;
  /** Storage for `size` elements of `dtype` (contents unspecified: a kernel overwrites it). */
  allocate(dtype: DType, size: number): TypedArray;
  /** Gives storage back, by an owner that knows nobody else holds it. */
  release(data: TypedArray): void;
  /** The elements of an array in row-major order (the storage itself when it is exactly that). */
  read(a: NDArray): TypedArray | Promise<TypedArray>;
  /**
   * Runs an elementwise kernel on arrays already checked against the op's shape rule; `dtype` is the result's
   * (inputs of another dtype are converted). Writes into `out` when given (same shape, contiguous, owned).
   */
  run(kernel: Kernel, xs: readonly NDArray[], outShape: Shape, dtype: DType, out?: NDArray): NDArray;
  /**
   * Optional: Σ of `n` contiguous float32 elements of `data` from `start`, accumulated in float64 (at least as
   * accurately as float32 needs: the sum kernel rounds it to float32). Without it the sum runs in JavaScript.
   */
  sumFloat32?(data: Float32Array, start: number, n: number): number;
  /**
   * Optional: runs a {@link KernelSet} over `shape` (its inputs broadcast to it), in one pass; `outShapes` gives
   * each output's shape (a sum's: its m elements), `outs` where to write each (contiguous, owned), when given.
   * A float32 sum accumulates in float64 and is rounded once. Without it, the JavaScript backend's runs.
   */
  runMany?(k: KernelSet, xs: readonly NDArray[], shape: Shape, dtype: DType, outShapes: readonly Shape[], outs?: readonly (NDArray | undefined)[]): NDArray[];
}

let registry: Map<string, Backend> | null = null;
let current: Backend | null = null;

/**
 * The backends by name, filled on first use (not when a module loads, so that bundlers may drop unused modules
 * freely: the package declares `sideEffects: false`): `js`, then `wasm` where the runtime has WebAssembly SIMD,
 * current; `GRADGRAPH_BACKEND=js` (or `wasm`) in the environment chooses at start (read without depending on Node).
 */
function backends(): Map<string, Backend> {
  if (registry !== null) return registry;
  registry = new Map([[jsBackend.name, jsBackend]]);
  current = jsBackend;
  if (wasmBackend !== null) {
    registry.set(wasmBackend.name, wasmBackend);
    current = wasmBackend;
  }
  const chosen = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADGRAPH_BACKEND;
  if (chosen !== undefined && chosen !== "") {
    const b = registry.get(chosen);
    if (b === undefined) {
      const names = [...registry.keys()].join(", ");
      registry = current = null; // every use says so, not only the first
      throw new InputError(`GRADGRAPH_BACKEND=${chosen}: no backend '${chosen}' (available: ${names})`);
    }
    current = b;
  }
  return registry;
}

/** Makes a backend available by name (the CPU backends are there from the start); `makeCurrent` chooses it. */
export function registerBackend(b: Backend, makeCurrent = false): void {
  backends().set(b.name, b);
  if (makeCurrent) current = b;
}

/** The backend kernels run on now. */
export function backend(): Backend {
  if (current === null) backends();
  return current!;
}

/** Runs a kernel set on the current backend (the JavaScript backend's loop where it has no `runMany`). */
export function runKernelSet(k: KernelSet, xs: readonly NDArray[], shape: Shape, dtype: DType, outShapes: readonly Shape[], outs?: readonly (NDArray | undefined)[]): NDArray[] {
  const b = backend();
  return (b.runMany ?? jsBackend.runMany!)(k, xs, shape, dtype, outShapes, outs);
}

/** Names of the backends available in this runtime. */
export function backendNames(): string[] {
  return [...backends().keys()];
}

/** Chooses the backend by name (`js`, `wasm`); an unknown or unavailable name is an error naming those there are. */
export function setBackend(name: string): void {
  const b = backends().get(name);
  if (b === undefined) throw new InputError(`setBackend: no backend '${name}' (available: ${backendNames().join(", ")})`);
  current = b;
}

/**
 * Runs `fn` with the named backend current, then restores the previous one. For synchronous code: an async
 * function, or one that returns a promise, is an error (the backend could not hold past its first `await`).
 */
export function withBackend<R>(name: string, fn: () => R): R {
  checkScopeFunction("withBackend", fn);
  const prev = backend();
  setBackend(name);
  let r: R;
  try {
    r = fn();
  } finally {
    current = prev;
  }
  return checkScopeResult("withBackend", r);
}
