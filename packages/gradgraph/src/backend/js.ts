/**
 * The pure-TypeScript reference backend: prints each kernel's ALU DAG as a JavaScript loop (`new Function`, so
 * V8 compiles one tight loop per kernel with no per-element call), in two shapes — a flat loop when every input is
 * either the whole output contiguous or one value, and a strided loop over collapsed axes for views and
 * broadcasting. Where `new Function` is not allowed (a strict content security policy) the DAG is interpreted
 * per element. It is always available and is every other backend's fallback. A kernel set (several outputs,
 * stored or summed: backend.ts) runs as one flat loop, its views and broadcast inputs copied contiguous first.
 */
import { ALU_CALLS, aluNumbers, printJs, printJsAll, schedule, type AluCall, type AluNode } from "../ops/alu.js";
import type { DType } from "../ops/op.js";
import type { Shape } from "../ops/shape.js";
import { kernelSetOf, type Backend, type Kernel, type KernelSet } from "./backend.js";
import { broadcastStrides, collapse, NDArray, uninitArray, type TypedArray } from "./ndarray.js";

/**
 * The flat loop of a kernel set: `flat(n, outputs…, inputs…)`. A stored output is an array; a summed one a
 * Float64Array of its m sums and its block (rows: n/m; cols: m). Inputs are (data, offset) pairs, or one value
 * each where `single[k]`.
 */
type Flat = (n: number, ...args: unknown[]) => void;
/** The strided loop over collapsed axes: inputs are (data, offset, strides) triples. */
type Strided = (out: TypedArray, shape: number[], ...args: unknown[]) => void;

function flatSource(k: KernelSet, single: readonly boolean[], f32: boolean): string {
  const params: string[] = [], pre: string[] = [], reads: string[] = [];
  for (let i = 0; i < k.arity; i++) {
    if (single[i]) {
      params.push(`v${i}`);
      reads.push(`v${i}`);
    } else {
      params.push(`d${i}`, `o${i}`);
      pre.push(`const e${i} = d${i}.subarray(o${i}, o${i} + n);`);
      reads.push(`e${i}[i]`);
    }
  }
  const names = reads.map((_, i) => `a${i}`);
  const { body, results } = printJsAll(k.outs.map((o) => o.root), names, f32);
  const outs: string[] = [], writes: string[] = [];
  k.outs.forEach((o, j) => {
    if (o.mode === "store") {
      outs.push(`out${j}`);
      writes.push(`out${j}[i] = ${results[j]};`);
      return;
    }
    // a sum adds each value as the array it replaces would have stored it (float32: rounded)
    outs.push(`acc${j}`, `b${j}`);
    pre.push(`let j${j} = 0, c${j} = 0;`);
    const v = f32 ? `Math.fround(${results[j]})` : results[j];
    writes.push(o.mode === "rows" ? `acc${j}[j${j}] += ${v}; if (++c${j} === b${j}) { c${j} = 0; j${j}++; }` : `acc${j}[j${j}] += ${v}; if (++j${j} === b${j}) j${j} = 0;`);
  });
  const loads = reads.map((r, i) => `const a${i} = ${r};`).join(" ");
  return `return function flat(n, ${[...outs, ...params].join(", ")}) { ${pre.join(" ")}
    for (let i = 0; i < n; i++) { ${loads} ${body} ${writes.join(" ")} } };`;
}

function stridedSource(k: Kernel, f32: boolean): string {
  const ix = [...Array(k.arity).keys()];
  const params = ix.map((i) => `d${i}, o${i}, s${i}`).join(", ");
  const names = ix.map((i) => `a${i}`);
  const { body, result } = printJs(k.root, names, f32);
  return `return function strided(out, shape, ${params}) {
    const r = shape.length, n0 = shape[r - 1];
    let rows = 1; for (let d = 0; d < r - 1; d++) rows *= shape[d];
    const idx = new Int32Array(r); ${ix.map((i) => `let p${i} = o${i}; const t${i} = s${i}[r - 1];`).join(" ")} let o = 0;
    for (let row = 0; row < rows; row++) {
      ${ix.map((i) => `let q${i} = p${i};`).join(" ")}
      for (let j = 0; j < n0; j++) { ${ix.map((i) => `const a${i} = d${i}[q${i}]; q${i} += t${i};`).join(" ")} ${body} out[o++] = ${result}; }
      for (let d = r - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) { ${ix.map((i) => `p${i} += s${i}[d];`).join(" ")} break; }
        idx[d] = 0; ${ix.map((i) => `p${i} -= s${i}[d] * (shape[d] - 1);`).join(" ")}
      }
    }
  };`;
}

/** Evaluates a DAG on numbers, node by node (the loops where `new Function` is not allowed). */
export function interpret(root: AluNode, f32 = false): (args: readonly number[]) => number {
  const order = schedule(root);
  const slot = new Map<AluNode, number>(order.map((n, i) => [n, i]));
  const vals = new Float64Array(order.length);
  const o = aluNumbers as unknown as Record<string, (...xs: number[]) => number>;
  return (args) => {
    for (let i = 0; i < order.length; i++) {
      const n = order[i]!;
      if (n.op === "input") vals[i] = args[n.index]!;
      else if (n.op === "const") vals[i] = n.value;
      else {
        const xs = n.args.map((a) => vals[slot.get(a)!]!);
        vals[i] = n.op === "round" && f32 ? Math.fround(xs[0]!) : ALU_CALLS.has(n.op) ? aluNumbers.call(n.op as AluCall, ...xs) : o[n.op]!(...xs);
      }
    }
    return vals[order.length - 1]!;
  };
}

/** Whether generated code may be compiled here (false under a content security policy without 'unsafe-eval'). */
let canCompile = (() => {
  try {
    return (new Function("return 1") as () => number)() === 1;
  } catch {
    return false;
  }
})();

/** For tests: run the interpreted loops, as where `new Function` is forbidden. Returns the previous setting. */
export function setCompile(on: boolean): boolean {
  const prev = canCompile;
  canCompile = on;
  return prev;
}

const flats = new Map<string, Flat>();
const strideds = new Map<string, Strided>();

/** Whether a kernel rounds to float32 inside (it has `round` nodes and runs on float32). */
function rounds(k: Kernel, dtype: DType): boolean {
  return dtype === "float32" && k.key.includes("round(");
}

function flatFor(k: KernelSet, single: readonly boolean[], f32: boolean): Flat {
  const key = `${k.key}|${single.map(Number).join("")}|${canCompile}|${f32}`;
  let f = flats.get(key);
  if (f === undefined) {
    if (canCompile) f = (new Function(flatSource(k, single, f32)) as () => Flat)();
    else {
      const runs = k.outs.map((o) => interpret(o.root, f32));
      f = (n, ...args) => {
        const p0 = k.outs.reduce((p, o) => p + (o.mode === "store" ? 1 : 2), 0);
        const xs = new Array<number>(k.arity), at = k.outs.map(() => 0), count = k.outs.map(() => 0);
        for (let i = 0; i < n; i++) {
          for (let j = 0, p = p0; j < k.arity; j++) xs[j] = single[j] ? (args[p++] as number) : (args[p++] as TypedArray)[(args[p++] as number) + i]!;
          for (let j = 0, p = 0; j < k.outs.length; j++) {
            const v = runs[j]!(xs), mode = k.outs[j]!.mode;
            if (mode === "store") {
              (args[p++] as TypedArray)[i] = v;
              continue;
            }
            const acc = args[p++] as Float64Array, b = args[p++] as number, q = at[j]!;
            acc[q] = acc[q]! + (f32 ? Math.fround(v) : v);
            if (mode === "cols") at[j] = q + 1 === b ? 0 : q + 1;
            else if ((count[j] = count[j]! + 1) === b) {
              count[j] = 0;
              at[j] = q + 1;
            }
          }
        }
      };
    }
    flats.set(key, f);
  }
  return f;
}

function stridedFor(k: Kernel, f32: boolean): Strided {
  const key = `${k.key}|${canCompile}|${f32}`;
  let f = strideds.get(key);
  if (f === undefined) {
    if (canCompile) f = (new Function(stridedSource(k, f32)) as () => Strided)();
    else {
      const run = interpret(k.root, f32);
      f = (out, shape, ...args) => {
        const r = shape.length, n0 = shape[r - 1]!;
        let rows = 1;
        for (let d = 0; d < r - 1; d++) rows *= shape[d]!;
        const idx = new Int32Array(r), xs = new Array<number>(k.arity);
        const data = (j: number) => args[3 * j] as TypedArray, st = (j: number) => args[3 * j + 2] as number[];
        const p = Array.from({ length: k.arity }, (_, j) => args[3 * j + 1] as number);
        let o = 0;
        for (let row = 0; row < rows; row++) {
          for (let c = 0; c < n0; c++) {
            for (let j = 0; j < k.arity; j++) xs[j] = data(j)[p[j]! + c * st(j)[r - 1]!]!;
            out[o++] = run(xs);
          }
          for (let d = r - 2; d >= 0; d--) {
            if (++idx[d]! < shape[d]!) {
              for (let j = 0; j < k.arity; j++) p[j]! += st(j)[d]!;
              break;
            }
            idx[d] = 0;
            for (let j = 0; j < k.arity; j++) p[j]! -= st(j)[d]! * (shape[d]! - 1);
          }
        }
      };
    }
    strideds.set(key, f);
  }
  return f;
}

/** A fresh output array, or `out` when given. */
export function outputFor(outShape: Shape, dtype: DType, out: NDArray | undefined, allocate: (d: DType, n: number) => TypedArray): NDArray {
  if (out !== undefined) return out;
  let n = 1;
  for (const d of outShape) n *= d;
  return new NDArray(allocate(dtype, n), outShape);
}

/** How the inputs of a kernel are laid out against its output: one value, the whole output contiguous, or other. */
export function layout(xs: readonly NDArray[], n: number): ("single" | "full" | "strided")[] {
  return xs.map((x) => (isSingle(x) ? "single" : x.size === n && x.contiguous ? "full" : "strided"));
}

/** One value, possibly broadcast (every axis of size 1 or of stride 0). */
function isSingle(x: NDArray): boolean {
  if (x.size === 1) return true;
  for (let i = 0; i < x.ndim; i++) if (x.strides[i] !== 0 && x.shape[i] !== 1) return false;
  return true;
}

/** Runs a kernel with the printed JavaScript loops. */
function run(k: Kernel, xs: readonly NDArray[], outShape: Shape, dtype: DType, out?: NDArray): NDArray {
  const result = outputFor(outShape, dtype, out, allocate);
  const n = result.size;
  if (n === 0) return result;
  const lay = layout(xs, n);
  const o = result.data.subarray(result.offset, result.offset + n);
  if (!lay.includes("strided") && n > 1) {
    const single = lay.map((l) => l === "single");
    const args: unknown[] = [];
    xs.forEach((x, i) => (single[i] ? args.push(x.data[x.offset]!) : args.push(x.data, x.offset)));
    flatFor(setOf(k), single, rounds(k, dtype))(n, o, ...args);
    return result;
  }
  const c = collapse(outShape, xs.map((x) => broadcastStrides(x, outShape)));
  const args: unknown[] = [];
  xs.forEach((x, i) => args.push(x.data, x.offset, c.strides[i]!));
  stridedFor(k, rounds(k, dtype))(o, c.shape, ...args);
  return result;
}

/** A kernel as a set of one stored output (cached: eager ops run the same kernels again and again). */
const sets = new WeakMap<Kernel, KernelSet>();
function setOf(k: Kernel): KernelSet {
  let s = sets.get(k);
  if (s === undefined) sets.set(k, (s = kernelSetOf([{ root: k.root, mode: "store" }], k.arity)));
  return s;
}

/** The identity kernel (a contiguous copy, broadcasting). */
const IDENTITY: Kernel = { root: { op: "input", index: 0, key: "$0" }, arity: 1, key: "1:$0" };

/**
 * Runs a kernel set with the printed JavaScript loop: one flat loop over the kernel's shape; an input that is
 * neither one value nor an array of the whole shape (a view, a broadcast row) is first copied to one. Sums
 * accumulate in float64, in order, and are stored once (float32: rounded once).
 */
function runMany(k: KernelSet, xs: readonly NDArray[], shape: Shape, dtype: DType, outShapes: readonly Shape[], outs?: readonly (NDArray | undefined)[]): NDArray[] {
  const results = outShapes.map((s, j) => outputFor(s, dtype, outs?.[j], allocate));
  let n = 1;
  for (const d of shape) n *= d;
  const sums = k.outs.map((o, j) => (o.mode === "store" ? null : new Float64Array(results[j]!.size)));
  if (n > 0) {
    const lay = layout(xs, n);
    const ins = xs.map((x, i) => (lay[i] === "strided" ? run(IDENTITY, [x], shape, x.dtype) : x));
    const single = lay.map((l) => l === "single");
    const args: unknown[] = [];
    k.outs.forEach((o, j) => {
      const r = results[j]!;
      if (o.mode === "store") args.push(r.data.subarray(r.offset, r.offset + n));
      else args.push(sums[j], o.mode === "rows" ? n / r.size : r.size);
    });
    ins.forEach((x, i) => (single[i] ? args.push(x.data[x.offset]!) : args.push(x.data, x.offset)));
    flatFor(k, single, dtype === "float32")(n, ...args);
  }
  sums.forEach((acc, j) => acc !== null && results[j]!.data.set(acc, results[j]!.offset));
  return results;
}

function allocate(dtype: DType, size: number): TypedArray {
  return uninitArray(dtype, size);
}

/** The reference backend. */
export const jsBackend: Backend = {
  name: "js",
  allocate,
  release: () => {},
  read: (a) => (a.contiguous && a.offset === 0 && a.data.length === a.size ? a.data : copyOut(a)),
  run,
  runMany,
};

function copyOut(a: NDArray): TypedArray {
  const out = allocate(a.dtype, a.size);
  run(IDENTITY, [a], a.shape, a.dtype, new NDArray(out, a.shape));
  return out;
}
