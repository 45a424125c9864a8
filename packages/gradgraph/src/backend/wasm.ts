/**
 * The WebAssembly SIMD backend: prints each kernel's ALU DAG as a WebAssembly function over f32x4 (float32) or
 * f64x2 (float64) lanes, encoded here byte by byte (no toolchain; a kernel is a module of a few hundred bytes,
 * compiled synchronously and cached by the kernel's key). Comparisons are lane masks and `select` is
 * `v128.bitselect`, so relu, gt and max run without a branch.
 *
 * Storage stays ordinary typed arrays. A kernel runs over chunks of 16384 elements: each input's chunk is copied
 * (converted to the result's dtype) into a scratch region of the module's memory, which stays in cache, the
 * kernel runs there, and the result is copied out. Inputs that are one value are passed as a parameter and
 * splatted; an input that is one block repeated along leading axes (a bias row) is copied in piece by piece. What this backend cannot print — a transcendental function (exp, log, tanh, sin, cos, pow: WebAssembly
 * has no instruction for them), a strided or broadcast input, a tiny array — runs on the JavaScript backend.
 * A kernel set (several outputs in one pass, backend.ts) runs the same way, one module for all its outputs: each
 * input and output outside the module's memory takes a scratch region (7 in all, else the JavaScript backend);
 * a float32 sum of everything is accumulated in the kernel, in float64, a sum into several elements added up
 * here from its chunk of values. One kernel is run as a set of one output.
 *
 * Results: + − × ÷ √, |x|, −x and the comparisons are IEEE operations in both backends, so float64 results are
 * identical, and a one-op float32 kernel too (the JavaScript loop rounds each float64 result once, which gives
 * the correctly rounded float32 result for these operations); a fused float32 chain rounds after every step here.
 */
import { schedule, scheduleAll, type AluNode } from "../ops/alu.js";
import type { DType } from "../ops/op.js";
import type { Shape } from "../ops/shape.js";
import type { Backend, Kernel, KernelSet } from "./backend.js";
import { HEAP_MAX_PAGES, wasmHeap, type WasmHeap } from "./heap.js";
import { jsBackend, layout, outputFor } from "./js.js";
import { trackMemory } from "./memory.js";
import type { NDArray } from "./ndarray.js";
import { get, I32, name, section, set, simd, sleb, uleb, V128, vec } from "./wasm-encoder.js";

/** Elements per chunk (64 KB of float32: the chunks stay in L2); the scratch holds one chunk per input and one for the output. */
const CHUNK = 16384;
/** Inputs a kernel may have on this backend (more run on the JavaScript backend). */
const MAX_INPUTS = 6;
/** Regions of the scratch, one chunk each (of float64): for the inputs and outputs not in the kernel's memory. */
const REGIONS = MAX_INPUTS + 1;
/** Outputs a kernel set may have on this backend; after the regions, one float64 per output for its sums. */
const MAX_OUTPUTS = 8;
const SUMS = REGIONS * CHUNK * 8;
/** Below `minSize` elements the JavaScript loop is faster than the copies (tests set 0 to run everything here). */
export const wasmTuning = { minSize: 256 };

const F64 = 0x7c;

/** SIMD opcodes per lane type: [f32x4, f64x2]. */
const OPS: Record<string, [number, number]> = {
  eq: [0x41, 0x47], ne: [0x42, 0x48], lt: [0x43, 0x49], gt: [0x44, 0x4a], le: [0x45, 0x4b], ge: [0x46, 0x4c],
  abs: [0xe0, 0xec], neg: [0xe1, 0xed], sqrt: [0xe3, 0xef],
  add: [0xe4, 0xf0], sub: [0xe5, 0xf1], mul: [0xe6, 0xf2], div: [0xe7, 0xf3],
};
const BITSELECT = 0x52;

/** Whether this backend can print the DAG (no transcendental calls). */
function printable(root: AluNode): boolean {
  return schedule(root).every((n) => n.op === "input" || n.op === "const" || n.op === "select" || n.op === "round" || n.op in OPS);
}

/**
 * The module of a kernel set: `k(out_0, …, n, in_0, …)` with byte addresses for array inputs and outputs (i32) and
 * values for single inputs (f64), over ⌈n / lanes⌉ vectors (the scratch has room for the last partial vector). An
 * output where `summed[j]` (float32 only) is not stored: its n values are added up in float64 (each f32x4 promoted
 * in two halves into two f64x2 accumulators; the lanes past n masked to 0) and the sum stored, as one f64, at its
 * address.
 */
function encode(k: KernelSet, f64: boolean, single: readonly boolean[], summed: readonly boolean[], shared: boolean): Uint8Array<ArrayBuffer> {
  const lane = f64 ? 1 : 0, bytes = 16;
  const order = scheduleAll(k.outs.map((o) => o.root));
  const p = k.outs.length, N = p, IN = p + 1;
  const params = [...k.outs.map(() => I32), I32, ...single.map((s) => (s ? F64 : I32))];
  const nParams = params.length;
  const I = nParams; // loop counter (byte offset)
  const END = nParams + 1;
  // One v128 local per single input (splatted once) and per node; for sums, the lane indices, n splatted, the
  // mask of lanes below n and two accumulators per sum.
  const splat = new Map<number, number>();
  let next = nParams + 2;
  single.forEach((s, i) => s && splat.set(i, next++));
  const local = new Map<AluNode, number>();
  for (const n of order) local.set(n, next++);
  const IDX = next++, NV = next++, MASK = next++;
  const acc = summed.map((s) => (s ? (next += 2) - 2 : -1));
  const anySum = summed.some((x) => x);
  const body: number[] = [];
  // end = n * size
  body.push(...get(N), 0x41, ...sleb(f64 ? 8 : 4), 0x6c, ...set(END));
  for (const [i, l] of splat) {
    body.push(...get(IN + i));
    if (!f64) body.push(0xb6); // f32.demote_f64
    body.push(...simd(f64 ? 0x14 : 0x13), ...set(l));
  }
  const i32x4 = (a: number, b: number, c: number, d: number) => {
    const v = new DataView(new ArrayBuffer(16));
    [a, b, c, d].forEach((x, j) => v.setInt32(4 * j, x, true));
    return simd(0x0c, ...new Uint8Array(v.buffer));
  };
  if (anySum) body.push(...i32x4(0, 1, 2, 3), ...set(IDX), ...get(N), ...simd(0x11), ...set(NV)); // i32x4.splat
  const loop: number[] = [];
  for (const n of order) {
    if (n.op === "input") {
      if (single[n.index]) loop.push(...get(splat.get(n.index)!));
      else loop.push(...get(IN + n.index), ...get(I), 0x6a, ...simd(0x00, 4, 0));
    } else if (n.op === "const") {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      for (let j = 0; j < 4; j++) if (f64) { if (j < 2) v.setFloat64(8 * j, n.value, true); } else v.setFloat32(4 * j, n.value, true);
      loop.push(...simd(0x0c, ...b));
    } else if (n.op === "round") {
      loop.push(...get(local.get(n.args[0]!)!)); // lanes of the kernel's type are rounded to it already
    } else if (n.op === "select") {
      const [m, a, b] = n.args as [AluNode, AluNode, AluNode];
      loop.push(...get(local.get(a)!), ...get(local.get(b)!), ...get(local.get(m)!), ...simd(BITSELECT));
    } else {
      for (const a of n.args) loop.push(...get(local.get(a)!));
      loop.push(...simd(OPS[n.op]![lane]!));
    }
    loop.push(...set(local.get(n)!));
  }
  if (anySum) loop.push(...get(IDX), ...get(NV), ...simd(0x39), ...set(MASK), ...get(IDX), ...i32x4(4, 4, 4, 4), ...simd(0xae), ...set(IDX)); // lt_s, add
  const high = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15); // i8x16.shuffle: lanes 2, 3 → 0, 1
  k.outs.forEach((o, j) => {
    const r = local.get(o.root)!;
    if (!summed[j]) {
      // out_j[i] = root_j
      loop.push(...get(j), ...get(I), 0x6a, ...get(r), ...simd(0x0b, 4, 0));
      return;
    }
    // acc += promote(root & mask), in two halves (v128.and, f64x2.promote_low_f32x4, f64x2.add)
    loop.push(...get(r), ...get(MASK), ...simd(0x4e), ...set(r));
    loop.push(...get(acc[j]!), ...get(r), ...simd(0x5f), ...simd(0xf0), ...set(acc[j]!));
    loop.push(...get(acc[j]! + 1), ...get(r), ...get(r), ...high, ...simd(0x5f), ...simd(0xf0), ...set(acc[j]! + 1));
  });
  loop.push(...get(I), 0x41, ...sleb(bytes), 0x6a, ...set(I));
  body.push(0x41, 0, ...set(I), 0x02, 0x40, 0x03, 0x40, ...get(I), ...get(END), 0x4e, 0x0d, 1, ...loop, 0x0c, 0, 0x0b, 0x0b);
  // each sum: the two accumulators' four lanes added, stored as one f64 at out_j
  summed.forEach((sm, j) => {
    if (!sm) return;
    const a = acc[j]!;
    body.push(...get(j), ...get(a), ...get(a + 1), ...simd(0xf0), ...set(a), ...get(a), ...simd(0x21, 0), ...get(a), ...simd(0x21, 1), 0xa0, 0x39, 3, 0);
  });
  body.push(0x0b);
  const locals = [[...uleb(2), I32], [...uleb(next - nParams - 2), V128]];
  const func = [...vec(locals), ...body];
  const module = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(params.map((p) => [p])), 0x00]])),
    ...section(2, vec([[...name("env"), ...name("m"), 0x02, ...memoryLimits(shared)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name("k"), 0x00, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ];
  return new Uint8Array(module);
}

const PAGES = Math.ceil((SUMS + 8 * MAX_OUTPUTS) / 65536);

/** The memory a module imports: a scratch-sized one of its own, or the shared heap (tensor/kernels' too). */
const memoryLimits = (shared: boolean) => (shared ? [0x03, ...uleb(1), ...uleb(HEAP_MAX_PAGES)] : [0x00, ...uleb(PAGES)]);

type Fn = (...args: number[]) => void;

interface State {
  memory: WebAssembly.Memory;
  /** Where the scratch starts: its regions of one chunk each, then the sums. */
  base: number;
  /** The shared heap, when this memory is it (its arrays are then recognised by `heap.owns`). */
  heap: WasmHeap | null;
  f32: Float32Array[];
  f64: Float64Array[];
  /** Where a kernel leaves its sums (one float64 per output). */
  sums: Float64Array;
  kernels: Map<string, Fn>;
  /** sum32(p, end): Σ of the float32 elements at byte addresses [p, end) (a multiple of 32 bytes), in float64. */
  sum32: (p: number, end: number) => number;
}

/**
 * The float32 sum's module: four f64x2 accumulators, eight elements per step (each f32x4 load promoted to float64
 * in two halves), so a 16,384-element chunk is summed in float64 with about 2,048 terms per accumulator.
 */
function sumModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const P = 0, END = 1, A = 2, V = 6; // params p, end; accumulators A..A+3; the loaded vector
  const high = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15); // i8x16.shuffle: lanes 2, 3 → 0, 1
  const promote = simd(0x5f), f64add = simd(0xf0);
  const half = (acc: number, hi: boolean) => [...get(acc), ...get(V), ...(hi ? [...get(V), ...high] : []), ...promote, ...f64add, ...set(acc)];
  const step = (off: number, acc: number) => [...get(P), ...simd(0x00, 4, ...uleb(off)), ...set(V), ...half(acc, false), ...half(acc + 1, true)];
  const code = [
    0x02, 0x40, ...get(P), ...get(END), 0x4f, 0x0d, 0, // if p >= end: skip
    0x03, 0x40, ...step(0, A), ...step(16, A + 2), ...get(P), 0x41, ...sleb(32), 0x6a, ...set(P), ...get(P), ...get(END), 0x49, 0x0d, 0, 0x0b,
    0x0b,
    ...get(A), ...get(A + 1), ...f64add, ...get(A + 2), ...get(A + 3), ...f64add, ...f64add, ...set(V),
    ...get(V), ...simd(0x21, 0), ...get(V), ...simd(0x21, 1), 0xa0, // f64x2.extract_lane 0 + lane 1
  ];
  const func = [...vec([[...uleb(5), V128]]), ...code, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[F64]])]])),
    ...section(2, vec([[...name("env"), ...name("m"), 0x02, ...memoryLimits(shared)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name("s"), 0x00, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}

/**
 * A memory whose PAGES from `base` are the kernels' scratch (from 0 in a memory of its own; a region of the shared
 * heap), with its kernel cache and its float32 sum.
 */
function stateOf(memory: WebAssembly.Memory, base = 0, heap: WasmHeap | null = null): State {
  const sum32 = new WebAssembly.Instance(new WebAssembly.Module(sumModule(heap !== null)), { env: { m: memory } }).exports.s as State["sum32"];
  const buffer = heap?.buffer() ?? memory.buffer;
  const s: State = { memory, base, heap, f32: [], f64: [], sums: new Float64Array(buffer, base + SUMS, MAX_OUTPUTS), kernels: new Map(), sum32 };
  for (let i = 0; i < REGIONS; i++) {
    s.f32.push(new Float32Array(buffer, base + i * CHUNK * 8, CHUNK));
    s.f64.push(new Float64Array(buffer, base + i * CHUNK * 8, CHUNK));
  }
  return s;
}

/** The scratch memory and the kernel cache, or null where WebAssembly SIMD is missing. */
const state: State | null = (() => {
  try {
    const s = stateOf(new WebAssembly.Memory({ initial: PAGES, maximum: PAGES }));
    // Probe: a relu kernel and its sum must compile and compute.
    const x = { op: "input", index: 0, key: "$0" } as const;
    const zero = { op: "const", value: 0, key: "#0" } as const;
    const m = { op: "le", args: [x, zero], key: "le($0,#0)" } as const;
    const relu = { op: "select", args: [m, zero, x], key: "select(le($0,#0),#0,$0)" } as const;
    const fn = compile(s, { outs: [{ root: relu, mode: "store" }, { root: relu, mode: "rows" }], arity: 1, key: "probe" }, false, [false], [false, true]);
    s.f32[1]!.set([-1, 2, -0.5, 3, 4]);
    fn(CHUNK * 8 * 0, SUMS + 8, 4, CHUNK * 8 * 1);
    const r = Array.from(s.f32[0]!.subarray(0, 4));
    const total = s.sums[1];
    s.f32[1]!.set([1, 2, 3, 4, 5, 6, 7, 8.5]);
    if (r.join() !== "0,2,0,3" || total !== 5 || s.sum32(CHUNK * 8, CHUNK * 8 + 32) !== 36.5) return null;
    trackMemory("wasm-scratch", s.memory);
    return s;
  } catch {
    return null;
  }
})();

function compile(s: State, k: KernelSet, f64: boolean, single: readonly boolean[], summed: readonly boolean[]): Fn {
  const key = `${k.key}|${f64 ? "f64" : "f32"}|${single.map(Number).join("")}|${summed.map(Number).join("")}`;
  let fn = s.kernels.get(key);
  if (fn === undefined) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(encode(k, f64, single, summed, s.heap !== null)), { env: { m: s.memory } });
    fn = inst.exports.k as Fn;
    s.kernels.set(key, fn);
  }
  return fn;
}

const printableCache = new Map<string, boolean>();

/** A kernel as a set of one stored output (cached: eager ops run the same kernels again and again). */
const sets = new WeakMap<Kernel, KernelSet>();

function run(k: Kernel, xs: readonly NDArray[], outShape: Shape, dtype: DType, out?: NDArray): NDArray {
  let ks = sets.get(k);
  if (ks === undefined) sets.set(k, (ks = { outs: [{ root: k.root, mode: "store" }], arity: k.arity, key: k.key }));
  return runSet(ks, xs, outShape, dtype, [outShape], out === undefined ? undefined : [out])?.[0] ?? jsBackend.run(k, xs, outShape, dtype, out);
}

function runMany(k: KernelSet, xs: readonly NDArray[], shape: Shape, dtype: DType, outShapes: readonly Shape[], outs?: readonly (NDArray | undefined)[]): NDArray[] {
  return runSet(k, xs, shape, dtype, outShapes, outs)?.slice() ?? jsBackend.runMany!(k, xs, shape, dtype, outShapes, outs);
}

/**
 * Runs a kernel set chunk by chunk, or returns null when the JavaScript backend must (see the module's comment).
 * Each chunk: inputs not in this memory are copied into scratch regions, the kernel runs, outputs not in this
 * memory are copied out of theirs. A sum of everything (m = 1) is summed in the kernel, chunk by chunk, and the
 * chunks' sums added in float64; a sum into several elements is stored to a region and added up here, in float64.
 */
function runSet(k: KernelSet, xs: readonly NDArray[], shape: Shape, dtype: DType, outShapes: readonly Shape[], outs?: readonly (NDArray | undefined)[]): readonly NDArray[] | null {
  // In an arena (a compiled step's arrays) the kernel reads and writes the arena's arrays where they lie.
  const s = arenaOf(outs === undefined ? undefined : outs.length === 1 ? outs[0] : outs.find((o) => o !== undefined), xs) ?? state!;
  let n = 1;
  for (const d of shape) n *= d;
  let ok = printableCache.get(k.key);
  if (ok === undefined) printableCache.set(k.key, (ok = k.outs.every((o) => printable(o.root))));
  const f64 = dtype === "float64";
  if (!ok || n < wasmTuning.minSize || k.arity > MAX_INPUTS || k.outs.length > MAX_OUTPUTS || (f64 && k.outs.some((o) => o.mode !== "store"))) return null;
  const lay = layout(xs, n).map((l, i) => (l === "strided" && repeats(xs[i]!, shape) ? "repeat" : l));
  if (lay.includes("strided") || outs?.some((o) => o !== undefined && !o.contiguous)) return null;
  const results = outShapes.map((sh, j) => outputFor(sh, dtype, outs?.[j], jsBackend.allocate));
  const bytes = f64 ? 8 : 4;
  // Arrays that live in this memory (an arena's, of the kernel's dtype) are read or written in place; the others
  // each take a region of the scratch (-1: none).
  const here = (a: NDArray) => (s.heap !== null ? s.heap.owns(a.data) : a.data.buffer === s.memory.buffer) && a.data.BYTES_PER_ELEMENT === bytes;
  const single = lay.map((l) => l === "single");
  let regions = 0;
  const inRegion = xs.map((x, i) => (single[i] || (lay[i] === "full" && here(x)) ? -1 : regions++));
  const summed = k.outs.map((o, j) => o.mode !== "store" && results[j]!.size === 1);
  const outRegion = k.outs.map((o, j) => (summed[j] || (o.mode === "store" && here(results[j]!)) ? -1 : regions++));
  if (regions > REGIONS) return null;
  const sums = k.outs.map((o, j) => (o.mode === "store" ? null : new Float64Array(results[j]!.size)));
  const fn = compile(s, k, f64, single, summed);
  const views = f64 ? s.f64 : s.f32;
  const p = k.outs.length;
  const args: number[] = new Array<number>(p + 1 + xs.length).fill(0);
  for (let i = 0; i < xs.length; i++) args[p + 1 + i] = single[i] ? xs[i]!.data[xs[i]!.offset]! : s.base + inRegion[i]! * CHUNK * 8;
  for (let j = 0; j < p; j++) args[j] = s.base + (summed[j] ? SUMS + 8 * j : outRegion[j]! * CHUNK * 8);
  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    for (let j = 0; j < p; j++) {
      const r = results[j]!;
      if (outRegion[j] === -1 && !summed[j]) args[j] = r.data.byteOffset + (r.offset + start) * bytes;
    }
    for (let i = 0; i < xs.length; i++) {
      if (single[i]) continue;
      const x = xs[i]!;
      if (inRegion[i] === -1) args[p + 1 + i] = x.data.byteOffset + (x.offset + start) * bytes;
      else if (lay[i] === "full") views[inRegion[i]!]!.set(x.data.subarray(x.offset + start, x.offset + start + len));
      else {
        // A block repeated along the leading axes (a bias row): copy it in pieces from where the chunk starts.
        const size = x.size, v = views[inRegion[i]!]!;
        for (let done = 0, q = start % size; done < len; q = 0) {
          const m = Math.min(size - q, len - done);
          v.set(x.data.subarray(x.offset + q, x.offset + q + m), done);
          done += m;
        }
      }
    }
    args[p] = len;
    fn(...args);
    for (let j = 0; j < p; j++) {
      const o = k.outs[j]!, r = results[j]!, acc = sums[j];
      if (summed[j]) acc![0] = acc![0]! + s.sums[j]!;
      else if (outRegion[j] === -1) continue;
      else if (o.mode === "store") r.data.set(len === CHUNK ? views[outRegion[j]!]! : views[outRegion[j]!]!.subarray(0, len), r.offset + start);
      else addInto(acc!, o.mode, n / r.size, views[outRegion[j]!]!, start, len);
    }
  }
  sums.forEach((acc, j) => acc !== null && results[j]!.data.set(acc, results[j]!.offset));
  return results;
}

/** Adds a chunk's values (elements start… of the kernel's) into their sums: rows of `block`, or columns of m = block. */
function addInto(acc: Float64Array, mode: "rows" | "cols", block: number, v: Float32Array | Float64Array, start: number, len: number): void {
  if (mode === "cols") {
    const m = acc.length;
    for (let i = 0, j = start % m; i < len; i++) {
      acc[j] = acc[j]! + v[i]!;
      if (++j === m) j = 0;
    }
    return;
  }
  for (let g = start; g < start + len; ) {
    const row = Math.floor(g / block), end = Math.min((row + 1) * block, start + len);
    let t = 0;
    for (let i = g - start; i < end - start; i++) t += v[i]!;
    acc[row] = acc[row]! + t;
    g = end;
  }
}

/** The arenas of their own memory, by their memory's buffer. */
const arenas = new WeakMap<ArrayBufferLike, State>();
/** The shared heap's state (its scratch a region of the heap), made with the first arena in it. */
let heapState: State | undefined;

/** The state of the memory `a` lives in: an arena's own memory, or the shared heap; undefined for other arrays. */
function stateHolding(a: ArrayBufferView): State | undefined {
  return arenas.get(a.buffer) ?? (heapState !== undefined && heapState.heap!.owns(a) ? heapState : undefined);
}

/** The arena holding the output, else the first input in one (no allocation: this is on every kernel's path). */
function arenaOf(out: NDArray | undefined, xs: readonly NDArray[]): State | undefined {
  const o = out === undefined ? undefined : stateHolding(out.data);
  if (o !== undefined) return o;
  for (const x of xs) {
    const a = stateHolding(x.data);
    if (a !== undefined) return a;
  }
  return undefined;
}

/** Storage for a compiled step's arrays, which this backend's kernels read and write without copying. */
export interface Arena {
  /** An array of `size` elements in the arena (its storage padded to 16 bytes: kernels write whole vectors). */
  allocate(dtype: DType, size: number): Float32Array | Float64Array;
}

/**
 * An arena for `count` arrays of `bytes` bytes in all (each padded to 16). In the shared heap where there is one
 * (backend/heap.ts: the float32 matrix product then reads and writes its arrays in place too), as a region given
 * back once all its arrays are collected; else (or with `shared` false) a WebAssembly memory of fixed size (never
 * grown, so its arrays stay valid) after a scratch of its own. Null where this backend is unavailable.
 */
export function wasmArena(bytes: number, count: number, shared = true): Arena | null {
  if (state === null) return null;
  const size = bytes + 16 * (count + 1);
  const heap = shared ? wasmHeap() : null;
  if (heap !== null) {
    if (heapState === undefined) {
      const scratch = heap.reserve(PAGES * 65536);
      if (scratch !== null) heapState = stateOf(heap.memory, scratch, heap);
    }
    const arrays = heapState === undefined ? null : heap.arrays(size);
    if (arrays !== null) return { allocate: (dtype, n) => arrays.allocate(dtype === "float64" ? "float64" : "float32", n) };
  }
  const base = PAGES * 65536, pages = Math.ceil((base + size) / 65536);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return null; // more than the runtime gives: the caller uses ordinary arrays
  }
  const s = stateOf(memory);
  arenas.set(memory.buffer, s);
  let next = base;
  return {
    allocate(dtype, size) {
      const T = dtype === "float64" ? Float64Array : Float32Array;
      const a = new T(memory.buffer, next, size);
      next += (size * T.BYTES_PER_ELEMENT + 15) & ~15;
      if (next > pages * 65536) throw new Error("wasmArena: more arrays than the arena was made for");
      return a;
    },
  };
}

/**
 * Σ of `n` contiguous float32 elements from `start`, accumulated in float64: chunk by chunk through the scratch
 * (the tail padded with zeros to the 8-element step), each chunk summed by the SIMD module, the chunk sums added
 * in float64. The error is at most about 2,048·2⁻⁵³·Σ|x| per chunk: far below float32's rounding of the result.
 */
function sumFloat32(x: Float32Array, start: number, n: number): number {
  const arena = stateHolding(x), s = arena ?? state!, v = s.f32[1]!, base = s.base + CHUNK * 8;
  let total = 0;
  for (let c = 0; c < n; c += CHUNK) {
    const len = Math.min(CHUNK, n - c), padded = (len + 7) & ~7;
    if (arena !== undefined && padded === len) {
      // in an arena's memory: summed where it lies (the same chunks, so the same sum)
      const p = x.byteOffset + (start + c) * 4;
      total += s.sum32(p, p + 4 * len);
      continue;
    }
    v.set(x.subarray(start + c, start + c + len));
    if (padded > len) v.fill(0, len, padded);
    total += s.sum32(base, base + 4 * padded);
  }
  return total;
}

/**
 * Whether `x`, broadcast to `shape`, is one contiguous block repeated along leading axes (a bias row added to
 * every row of a batch): its shape, without leading 1s, is the end of `shape`.
 */
function repeats(x: NDArray, shape: Shape): boolean {
  if (!x.contiguous) return false;
  let lead = 0;
  while (lead < x.ndim && x.shape[lead] === 1) lead++;
  const own = x.shape.slice(lead), off = shape.length - own.length;
  return off >= 0 && own.every((d, i) => d === shape[off + i]);
}

/** The WebAssembly SIMD backend, or null where the runtime lacks WebAssembly SIMD. */
export const wasmBackend: Backend | null =
  state === null
    ? null
    : {
        name: "wasm",
        allocate: jsBackend.allocate,
        release: jsBackend.release,
        read: jsBackend.read,
        run,
        runMany,
        sumFloat32,
      };

/** Exported for tests: whether the backend would print a kernel (else it runs on the JavaScript backend). */
export { printable as wasmPrintable };
