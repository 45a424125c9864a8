/**
 * The built-in target: runs a program's steps with the engine's own kernels (the current backend, its threads),
 * in arrays planned once and reused at every call. The memory plan gives each array a step computes a buffer; a
 * buffer whose last reader has run is free for a later step of the same dtype and size (an elementwise step may
 * write over an input it reads last), so a call allocates only what it hands out: its outputs and what it leaves
 * in tensors. Nothing is checked or looked up per call that the trace fixed: shapes, dtypes, kernels.
 */
import { kernelOf, kernelSetOf, runKernelSet } from "../backend/backend.js";
import type { DType } from "../ops/op.js";
import { kernels, type Kernel } from "../tensor/backend.js";
import { backend } from "../backend/backend.js";
import { wasmArena } from "../backend/wasm.js";
import { wasmHeap } from "../backend/heap.js";
import { arrayType, copyArray, copyInto, NDArray, type TypedArray } from "../tensor/ndarray.js";
import { indexData } from "../tensor/index-args.js";
import { productSplits, withProductThreadsHeld } from "../tensor/kernels/sgemm-wasm.js";
import { moveStorage, ownedValue } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { sumMode } from "./passes.js";
import { stepInputs, stepOutputs, type Program, type Source, type Step, type Var } from "./program.js";

/** A program made ready to run: call it with the arguments' arrays; null when state no longer fits the trace. */
export type Executable = (inputs: readonly NDArray[]) => NDArray[] | null;

/** A target runs programs: the built-in CPU one here, ONNX Runtime in `gradgraph-onnx`. */
export interface Target {
  readonly name: string;
  /** Why this target cannot run `program` (an op it lacks), or null when it can. */
  unsupported(program: Program): string | null;
  /** The program ready to run (called once per trace). */
  prepare(program: Program): Executable;
}

/**
 * Which vars must not share a buffer: outputs and values left in tensors (handed out: fresh at each call), and
 * gradients left in `.grad` (a buffer of their own, written over by the next call), following views to their base.
 */
function escaping(p: Program): Set<number> {
  const base = new Map<number, number>();
  for (const s of p.steps) if (s.kind === "op" && s.view) base.set(s.out.id, base.get(s.inputs[0]!.id) ?? s.inputs[0]!.id);
  const out = new Set<number>();
  const mark = (v: Var) => {
    out.add(v.id);
    const b = base.get(v.id);
    if (b !== undefined) out.add(b);
  };
  p.outputs.forEach(mark);
  for (const e of p.effects) if (e.var !== null && e.field === "value") mark(e.var);
  return out;
}

/**
 * Gradients left in `.grad` that a step computes into a buffer (the base array, for a gradient that is a view):
 * each gets one of its own, kept across calls. Not one whose tensor's previous `.grad` — at the next call, that
 * very buffer — the step still reads after writing it (or hands out, or leaves in a tensor): that one is fresh at
 * each call, added to `escape`.
 */
function ownBuffers(p: Program, escape: Set<number>): Set<number> {
  const base = new Map<number, number>();
  const writer = new Map<number, number>();
  p.steps.forEach((s, i) => {
    if (s.kind === "op" && s.view) base.set(s.out.id, base.get(s.inputs[0]!.id) ?? s.inputs[0]!.id);
    else if (s.kind !== "host") for (const v of stepOutputs(s)) writer.set(v.id, i);
  });
  const root = (v: Var) => base.get(v.id) ?? v.id;
  // The last step reading each array (through a view or not) other than element for element by the step writing
  // `at`; outputs and effects read at the end.
  const readAfter = (b: number, at: number): boolean => {
    if ([...p.outputs, ...p.effects.flatMap((e) => (e.var === null ? [] : [e.var]))].some((v) => root(v) === b)) return true;
    return p.steps.some((s, i) => {
      if (i < at) return false;
      const reads = stepInputs(s).filter((v) => root(v) === b);
      if (reads.length === 0) return false;
      return i > at || !(elementwise(s) && reads.every((v) => v.id === b));
    });
  };
  const out = new Set<number>();
  for (const e of p.effects) {
    if (e.field !== "grad" || e.var === null) continue;
    const b = root(e.var);
    const at = writer.get(b);
    if (at === undefined || escape.has(b)) continue;
    const previous = [...p.sources].find(([, s]) => s.kind === "state" && s.tensor === e.tensor && s.field === "grad")?.[0];
    if (previous !== undefined && readAfter(root(previous), at)) escape.add(b);
    else out.add(b);
  }
  return out;
}

/** The memory plan: for each var a step computes into a buffer, the buffer's number; and each buffer's size. */
export function planMemory(p: Program): { buffer: Map<number, number>; sizes: { dtype: DType; size: number }[] } {
  const escape = escaping(p);
  const own = ownBuffers(p, escape);
  // Last step reading each var; a view's readers keep its base alive.
  const base = new Map<number, number>();
  const last = new Map<number, number>();
  p.steps.forEach((s, i) => {
    for (const v of stepInputs(s)) {
      const b = base.get(v.id) ?? v.id;
      last.set(b, i);
      last.set(v.id, i);
    }
    if (s.kind === "op" && s.view) base.set(s.out.id, base.get(s.inputs[0]!.id) ?? s.inputs[0]!.id);
  });
  const buffer = new Map<number, number>();
  const sizes: { dtype: DType; size: number }[] = [];
  const free: number[] = [];
  const take = (v: Var): number => {
    const size = v.shape.reduce((a, b) => a * b, 1);
    const k = free.findIndex((b) => sizes[b]!.dtype === v.dtype && sizes[b]!.size === size);
    if (k >= 0) return free.splice(k, 1)[0]!;
    sizes.push({ dtype: v.dtype, size });
    return sizes.length - 1;
  };
  /** Frees the buffers step `i` reads for the last time (`direct`: only those it reads as they are, not by a view). */
  const release = (i: number, s: Step, direct = false) => {
    for (const v of stepInputs(s)) {
      const b = base.get(v.id) ?? v.id;
      if (direct && b !== v.id) continue;
      const k = buffer.get(b);
      if (k !== undefined && last.get(b) === i && !own.has(b) && !free.includes(k)) free.push(k);
    }
  };
  p.steps.forEach((s, i) => {
    // An elementwise step may write over an input it reads for the last time, element for element (not over one
    // it reads through a view: a transposed read would see elements already written). A kernel step too: it
    // reads every input's element before it writes that element of any output, and writes its sums at the end.
    if (elementwise(s)) release(i, s, true);
    if (s.kind === "fused" ? s.into === undefined : s.kind === "op" ? !s.view && plannable(s) : s.kind === "copy" || s.kind === "kernel") {
      for (const out of stepOutputs(s)) {
        const size = out.shape.reduce((a, b) => a * b, 1);
        if (own.has(out.id) && size > 0) buffer.set(out.id, sizes.push({ dtype: out.dtype, size }) - 1);
        else if (!escape.has(out.id) && size > 0) buffer.set(out.id, take(out));
      }
    }
    if (!elementwise(s)) release(i, s);
  });
  return { buffer, sizes };
}

/** Whether a step reads its inputs element for element as it writes (a fused step not in place, a kernel step). */
function elementwise(s: Step): boolean {
  return (s.kind === "fused" && s.into === undefined) || s.kind === "kernel";
}

/** Ops whose kernel writes into a buffer it is given (the others allocate their result). */
const INTO = new Set(["matmul", "sum"]);
function plannable(s: Step & { kind: "op" }): boolean {
  return INTO.has(s.op.name) || (s.op as { kind?: string }).kind === "elementwise";
}

/** The built-in CPU target: always available, runs every op of the table. */
export const cpuTarget: Target = {
  name: "cpu",
  unsupported: () => null,
  prepare: prepareCpu,
};

function prepareCpu(p: Program): Executable {
  const { buffer, sizes } = planMemory(p);
  let buffers: TypedArray[] | null = null;
  const n = Math.max(-1, ...p.inputs.map((v) => v.id), ...[...p.sources.keys()].map((v) => v.id), ...p.steps.flatMap((s) => stepOutputs(s).map((v) => v.id))) + 1;
  const inPlace = new Set<number>();
  for (const s of p.steps) if (s.kind === "fused" && s.into !== undefined) inPlace.add(s.into.id);
  const sources = [...p.sources].filter((e): e is [Var, Exclude<Source, { kind: "input" }>] => e[1].kind !== "input");
  const same = (a: NDArray | undefined, v: Var) => a !== undefined && a.dtype === v.dtype && a.shape.length === v.shape.length && a.shape.every((d, i) => d === v.shape[i]);
  const runs = p.steps.map((s) => stepRunner(s, (v) => {
    const b = buffer.get(v.id);
    return b === undefined || buffers === null ? undefined : buffers[b];
  }));
  // State updated in place moves, once, into the shared heap where the program's buffers are (kernels, the matrix
  // product's included, then read and write it where it lies). Only for a program with matrix products: the heap
  // is there for them, and a program without keeps an arena of its own, not shared, because copying into a
  // SharedArrayBuffer is slower (TypedArray set: about 2.5 times, BENCHMARKS.md) and its kernels copy every
  // input that lives outside.
  const products = p.steps.some((s) => s.kind === "op" && s.op.name === "matmul");
  // A program with products split across threads holds the worker pool awake between them while it runs; one
  // whose products all run on the calling thread leaves the workers asleep.
  const splits = p.steps.some((s) => s.kind === "op" && s.op.name === "matmul" && s.out.dtype === "float32" && splitsAcrossThreads(s));
  let home: ((t: Tensor) => NDArray) | null | undefined;
  return (inputs) => {
    buffers ??= allocateBuffers(sizes, products);
    home ??= products ? heapHome() : null;
    const slots: (NDArray | undefined)[] = new Array(n);
    p.inputs.forEach((v, i) => (slots[v.id] = inputs[i]));
    for (const [v, s] of sources) {
      let a: NDArray | undefined;
      if (s.kind === "constant") a = s.value;
      else if (s.field === "grad") a = s.tensor.grad?.value;
      else a = !inPlace.has(v.id) ? s.tensor.value : home === null ? ownedValue(s.tensor) : home(s.tensor);
      if (!same(a, v)) return null;
      slots[v.id] = a;
    }
    if (splits) withProductThreadsHeld(() => runAll(runs, slots));
    else runAll(runs, slots);
    for (const e of p.effects) {
      if (e.field === "grad") e.tensor.grad = e.var === null ? null : new Tensor(slots[e.var.id]!);
      else e.tensor.assign(new Tensor(slots[e.var!.id]!));
    }
    return p.outputs.map((v) => slots[v.id]!);
  };
}

/** Whether a matrix product step is large enough to be split across the worker pool (its out: …×m×n; a: …×k). */
function splitsAcrossThreads(s: Step & { kind: "op" }): boolean {
  const out = s.out.shape, a = s.inputs[0]!.shape;
  return productSplits(out.at(-2) ?? 1, out.at(-1) ?? 1, a.at(-1) ?? 1);
}

/** Runs a program's steps, in order, on its slots. */
function runAll(runs: readonly ((slots: (NDArray | undefined)[]) => void)[], slots: (NDArray | undefined)[]): void {
  for (const run of runs) run(slots);
}

/**
 * Where the wasm backend's arrays live in the shared heap: the storage updated in place, moved there once per
 * storage a tensor holds (at the program's first update; storage given to the tensor later, by `assign` or by
 * loading a state dict, at the next); null elsewhere.
 */
function heapHome(): ((t: Tensor) => NDArray) | null {
  const heap = wasmHeap();
  if (backend().name !== "wasm" || heap === null) return null;
  const tried = new WeakSet<TypedArray>();
  return (t) => {
    const v = ownedValue(t);
    if (heap.owns(v.data) || tried.has(v.data) || (v.dtype !== "float32" && v.dtype !== "float64")) return v;
    tried.add(v.data);
    const arrays = heap.arrays(v.data.byteLength);
    return arrays === null ? v : moveStorage(t, arrays.allocate(v.dtype, v.size));
  };
}

/**
 * The planned buffers: in one arena of the WebAssembly backend where it is there (its kernels then read and
 * write them in place, no copy through their scratch) — in the shared heap when `shared` — else ordinary arrays.
 */
function allocateBuffers(sizes: readonly { dtype: DType; size: number }[], shared: boolean): TypedArray[] {
  const bytes = sizes.reduce((n, { dtype, size }) => n + size * (dtype === "float64" ? 8 : 4), 0);
  const arena = backend().name === "wasm" && bytes > 0 ? wasmArena(bytes, sizes.length, shared) : null;
  return sizes.map(({ dtype, size }) => (arena === null ? new (arrayType(dtype))(size) : arena.allocate(dtype, size)));
}

/** One step as a function of the slots (arrays by var id). */
function stepRunner(s: Step, bufferOf: (v: Var) => TypedArray | undefined): (slots: (NDArray | undefined)[]) => void {
  const get = (slots: (NDArray | undefined)[], v: Var) => slots[v.id]!;
  switch (s.kind) {
    case "op": {
      const kernel = ((kernels as unknown as Record<string, Kernel<unknown> | undefined>)[s.op.name] ?? (s.op as { kernel?: Kernel<unknown> }).kernel)!;
      const { out, inputs, index } = s;
      const name = s.op.name;
      return (slots) => {
        const xs = inputs.map((v) => get(slots, v));
        let params = s.params;
        if (index !== undefined) {
          // indices read at this call: checked by the op's shape rule (in range) as an eager call checks them
          params = { ...(s.params as object), index: { data: indexData(get(slots, index), name), shape: index.shape } };
          s.op.shape(xs.map((x) => x.shape), params as never);
        }
        slots[out.id] = kernel(xs, params, out.shape, out.dtype, bufferOf(out));
      };
    }
    case "fused": {
      const k = kernelOf(s.expr, s.inputs.length);
      const { out, inputs, into } = s;
      return (slots) => {
        const xs = inputs.map((v) => get(slots, v));
        const buf = bufferOf(out);
        const target = into !== undefined ? get(slots, into) : buf === undefined ? undefined : new NDArray(buf, out.shape);
        slots[out.id] = backend().run(k, xs, out.shape, out.dtype, target);
      };
    }
    case "kernel": {
      const k = kernelSetOf(s.outs.map((o) => ({ root: o.expr, mode: o.sum === undefined ? "store" : sumMode(s.shape, o.sum)! })), s.inputs.length);
      const { inputs, shape, outs } = s;
      const shapes = outs.map((o) => o.out.shape), dtype = outs[0]!.out.dtype;
      return (slots) => {
        const xs = inputs.map((v) => get(slots, v));
        const targets = outs.map((o) => {
          const buf = bufferOf(o.out);
          return buf === undefined ? undefined : new NDArray(buf, o.out.shape);
        });
        const made = runKernelSet(k, xs, shape, dtype, shapes, targets);
        outs.forEach((o, j) => (slots[o.out.id] = made[j]));
      };
    }
    case "copy":
      return (slots) => {
        const buf = bufferOf(s.out);
        slots[s.out.id] = buf === undefined ? copyArray(get(slots, s.input), s.out.dtype) : copyInto(get(slots, s.input), buf);
      };
    case "host":
      return (slots) => {
        const made = s.fn(s.inputs.map((v) => get(slots, v)));
        s.outs.forEach((v, i) => {
          const a = made[i];
          if (a === undefined || a.size !== v.shape.reduce((x, y) => x * y, 1)) {
            throw new Error(`compile: the host step ${s.name} made ${a === undefined ? "no array" : `an array of ${a.size} elements`} where the trace had ${v.shape.join("×") || "one element"}`);
          }
          slots[v.id] = a;
        });
      };
  }
}
