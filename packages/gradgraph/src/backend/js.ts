/**
 * The pure-TypeScript reference backend: prints each kernel's ALU DAG as a JavaScript loop (`new Function`, so
 * V8 compiles one tight loop per kernel with no per-element call), in two shapes — a flat loop when every input is
 * either the whole output contiguous or one value, and a strided loop over collapsed axes for views and
 * broadcasting. Where `new Function` is not allowed (a strict content security policy) the DAG is interpreted
 * per element. It is always available and is every other backend's fallback.
 */
import { ALU_CALLS, aluNumbers, printJs, schedule, type AluCall, type AluNode } from "../ops/alu.js";
import type { DType } from "../ops/op.js";
import type { Shape } from "../ops/shape.js";
import type { Backend, Kernel } from "./backend.js";
import { broadcastStrides, collapse, NDArray, uninitArray, type TypedArray } from "./ndarray.js";

/** The flat loop: `out[i] = f(inputs)`; inputs are (data, offset) pairs, or one value each where `single[k]`. */
type Flat = (out: TypedArray, n: number, ...args: unknown[]) => void;
/** The strided loop over collapsed axes: inputs are (data, offset, strides) triples. */
type Strided = (out: TypedArray, shape: number[], ...args: unknown[]) => void;

function flatSource(k: Kernel, single: readonly boolean[], f32: boolean): string {
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
  const { body, result } = printJs(k.root, names, f32);
  const loads = reads.map((r, i) => `const a${i} = ${r};`).join(" ");
  return `return function flat(out, n, ${params.join(", ")}) { ${pre.join(" ")}
    for (let i = 0; i < n; i++) { ${loads} ${body} out[i] = ${result}; } };`;
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

function flatFor(k: Kernel, single: readonly boolean[], f32: boolean): Flat {
  const key = `${k.key}|${single.map(Number).join("")}|${canCompile}|${f32}`;
  let f = flats.get(key);
  if (f === undefined) {
    if (canCompile) f = (new Function(flatSource(k, single, f32)) as () => Flat)();
    else {
      const run = interpret(k.root, f32);
      f = (out, n, ...args) => {
        const xs = new Array<number>(k.arity);
        for (let i = 0; i < n; i++) {
          for (let j = 0, p = 0; j < k.arity; j++) xs[j] = single[j] ? (args[p++] as number) : (args[p++] as TypedArray)[(args[p++] as number) + i]!;
          out[i] = run(xs);
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
    flatFor(k, single, rounds(k, dtype))(o, n, ...args);
    return result;
  }
  const c = collapse(outShape, xs.map((x) => broadcastStrides(x, outShape)));
  const args: unknown[] = [];
  xs.forEach((x, i) => args.push(x.data, x.offset, c.strides[i]!));
  stridedFor(k, rounds(k, dtype))(o, c.shape, ...args);
  return result;
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
};

function copyOut(a: NDArray): TypedArray {
  const out = allocate(a.dtype, a.size);
  const k = { root: { op: "input", index: 0, key: "$0" }, arity: 1, key: "1:$0" } as const;
  run(k, [a], a.shape, a.dtype, new NDArray(out, a.shape));
  return out;
}
