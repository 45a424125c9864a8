/**
 * One call of an exported program on an ONNX Runtime session, the part every runtime shares (onnxruntime-node in
 * ./target.ts, onnxruntime-web in ./web-target.ts): the program's host steps run in JavaScript, the graph's
 * inputs read from the call's arrays and the live tensors, and after the run its outputs handed back or written
 * into the tensors (new values, gradients).
 */
import { fromTypedArray, Tensor, type Program, type TypedArray, type Var } from "gradgraph";
import { OnnxError } from "./errors.js";
import { programToOnnx, type ExportedProgram } from "./export.js";

/** An engine array (what a tensor holds). */
type NDArray = Tensor["value"];

export const sizeOf = (v: Var) => v.shape.reduce((a, b) => a * b, 1);
/** A tensor's values as one contiguous array (its own storage when it is contiguous). */
const contiguous = (a: NDArray): TypedArray => new Tensor(a).toArray();
const fits = (a: NDArray | undefined, v: Var) => a !== undefined && a.dtype === v.dtype && a.shape.length === v.shape.length && a.shape.every((d, i) => d === v.shape[i]);

/**
 * The graph inputs' arrays for one call (keyed by input name, each of its var's dtype and contiguous), after
 * running the host steps; null when a tensor the program reads no longer fits the trace (trace again).
 */
export function feedArrays(p: Program, e: ExportedProgram, inputs: readonly NDArray[]): Map<string, TypedArray> | null {
  const arrays = new Map<number, NDArray>();
  const arrayFor = (v: Var): NDArray | undefined => {
    const s = p.sources.get(v);
    if (s === undefined) return arrays.get(v.id);
    if (s.kind === "input") return inputs[s.index];
    if (s.kind === "constant") return s.value;
    return s.field === "grad" ? s.tensor.grad?.value : s.tensor.value;
  };
  // JavaScript first: the host steps (an optimizer's scalars, labels as indices), on the call's arrays
  for (const s of p.steps) {
    if (s.kind !== "host") continue;
    const made = s.fn(s.inputs.map((v) => arrayFor(v)!));
    s.outs.forEach((v, k) => arrays.set(v.id, made[k]!));
  }
  const feeds = new Map<string, TypedArray>();
  for (const i of e.inputs) {
    const a = i.feed.kind === "host" ? arrays.get(i.var.id) : arrayFor(i.var);
    if (a === undefined || a.size !== sizeOf(i.var) || (i.feed.kind !== "host" && !fits(a, i.var))) return null;
    feeds.set(i.name, a.dtype === i.var.dtype ? contiguous(a) : (i.var.dtype === "float64" ? Float64Array : Float32Array).from(contiguous(a)));
  }
  return feeds;
}

/** After a run: the program's outputs (in order), and each tensor the step writes given its new value or gradient. */
export function writeBack(p: Program, e: ExportedProgram, dataOf: (output: number) => TypedArray): NDArray[] {
  const results: NDArray[] = [];
  e.outputs.forEach((o, k) => {
    const t = fromTypedArray(dataOf(k), o.var.shape);
    if (o.fetch.kind === "output") results[o.fetch.index] = t.value;
    else if (o.fetch.field === "grad") o.fetch.tensor.grad = t;
    else o.fetch.tensor.assign(t);
  });
  for (const eff of p.effects) if (eff.var === null && eff.field === "grad") eff.tensor.grad = null;
  return results;
}

/**
 * A target running programs exported with their state as graph inputs: a program it cannot export is unsupported
 * (the export's message says why); `prepare` gets the program and its export (made once per program).
 */
export function exportingTarget<X>(name: string, who: string, prepare: (p: Program, e: ExportedProgram) => X): { readonly name: string; unsupported(p: Program): string | null; prepare(p: Program): X } {
  const exported = new WeakMap<Program, ExportedProgram | string>();
  const exportOf = (p: Program): ExportedProgram | string => {
    let e = exported.get(p);
    if (e === undefined) {
      try {
        e = programToOnnx(p, { state: "input" });
      } catch (err) {
        if (!(err instanceof OnnxError)) throw err;
        e = err.message;
      }
      exported.set(p, e);
    }
    return e;
  };
  return {
    name,
    unsupported: (p) => {
      const e = exportOf(p);
      return typeof e === "string" ? e : null;
    },
    prepare: (p) => {
      const e = exportOf(p);
      if (typeof e === "string") throw new OnnxError(`${who}: ${e}`);
      return prepare(p, e);
    },
  };
}

/**
 * A runtime's thread count, checked as gradgraph's `setNumThreads` checks its own (an integer from 1 to 256),
 * before the runtime sees it: ONNX Runtime takes 0 as "all cores", refuses other bad values only when the first
 * session is made, and spends minutes starting thousands of threads.
 */
export function checkThreads(who: string, n: unknown): number | undefined {
  if (n === undefined || (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 256)) return n;
  const shown = typeof n === "number" ? String(n) : typeof n === "bigint" ? `${n}n` : (JSON.stringify(n) ?? String(n));
  throw new OnnxError(`${who}: threads: expected an integer from 1 to 256, got ${shown}`);
}
