/**
 * Run-time checks of what the tensor methods take, for plain-JavaScript callers whose arguments no compiler saw:
 * a reduction's dims and keepdim, in PyTorch's spelling (`x.sum(1, true)`, `x.sum([0, 2])`) or as one options
 * object (`{ dim, keepdim }`, or NumPy's `{ axis, keepdims }`). A wrong type is an InputError saying what was
 * expected and what came, never a reduction over the wrong dims.
 */
import { InputError } from "../core/errors.js";
import type { Axes, ReduceOptions } from "../ops/composite.js";
import type { VarOptions } from "../ops/stats.js";

/** A value as an error message shows it. */
export function describe(x: unknown): string {
  if (typeof x === "object" && x !== null && !Array.isArray(x) && Symbol.for("gradgraph.Tensor") in x) return "a tensor";
  if (typeof x === "function") return "a function";
  if (x === undefined) return "undefined";
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

const isOptions = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !(Symbol.for("gradgraph.Tensor") in x);

const isAxes = (x: unknown): x is Axes =>
  x === undefined || x === null || typeof x === "number" || (Array.isArray(x) && x.every((a) => typeof a === "number"));

/** One of two names for the same option (`dim`/`axis`), refusing both. */
function either(op: string, o: Record<string, unknown>, a: string, b: string): unknown {
  if (o[a] !== undefined && o[b] !== undefined) throw new InputError(`${op}: give ${a} or ${b}, not both`);
  return o[a] ?? o[b];
}

const REDUCE_KEYS = ["dim", "axis", "keepdim", "keepdims"];

/** The dims and keepdim of a reduction, from PyTorch's positional form or an options object, checked. */
export function reduceArgs(op: string, dim: unknown, keepdim: unknown, extraKeys: readonly string[] = []): { axes: Axes; keepdims: boolean } {
  let axes = dim, keep = keepdim;
  if (isOptions(dim)) {
    if (keepdim !== undefined) throw new InputError(`${op}: give keepdim in the options object or as the second argument, not both`);
    const unknown = Object.keys(dim).filter((k) => !REDUCE_KEYS.includes(k) && !extraKeys.includes(k));
    if (unknown.length > 0) {
      throw new InputError(`${op}: unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")}; expected ${[...REDUCE_KEYS, ...extraKeys].join(", ")}`);
    }
    axes = either(op, dim, "dim", "axis");
    keep = either(op, dim, "keepdim", "keepdims");
  }
  if (!isAxes(axes)) {
    throw new InputError(`${op}: dim must be a number, a list of numbers, null (every dim) or { dim, keepdim }, got ${describe(axes)}`);
  }
  if (keep !== undefined && typeof keep !== "boolean") throw new InputError(`${op}: keepdim must be true or false, got ${describe(keep)}`);
  return { axes, keepdims: keep === true };
}

/** var/std's arguments: `(dim?, { correction, unbiased, keepdim }?)` or one options object with the dims in it. */
export function varArgs(op: string, dim: Axes | VarOptions, options: VarOptions | undefined): [Axes, VarOptions] {
  let o: Record<string, unknown> = {};
  if (isOptions(dim)) {
    if (options !== undefined) throw new InputError(`${op}: give the options once (as the first or the second argument)`);
    o = { ...dim };
  } else {
    if (options !== undefined && !isOptions(options)) throw new InputError(`${op}: options must be an object like { correction, keepdim }, got ${describe(options)}`);
    o = { ...options };
    if (dim !== undefined) {
      if (o.dim !== undefined || o.axis !== undefined) throw new InputError(`${op}: give the dims as the first argument or in the options, not both`);
      o.dim = dim;
    }
  }
  const { correction, unbiased, ...rest } = o;
  const r = reduceArgs(op, rest, undefined);
  if (correction !== undefined && typeof correction !== "number") throw new InputError(`${op}: correction must be a number, got ${describe(correction)}`);
  if (unbiased !== undefined && typeof unbiased !== "boolean") throw new InputError(`${op}: unbiased must be true or false, got ${describe(unbiased)}`);
  return [r.axes, { ...(correction === undefined ? {} : { correction }), ...(unbiased === undefined ? {} : { unbiased }), keepdims: r.keepdims }];
}

const isIndex = (v: unknown): boolean => v === undefined || v === null || Number.isInteger(v);

/**
 * One axis's slice spec, checked: an integer, `[start?, end?, step?]` of integers or nulls (at most three), or
 * null/undefined. Anything else (`"1:3"`, `[1.5]`, `[0, 1, 2, 3]`, `{ start: 1 }`) is an InputError showing the
 * expected form, not a silently empty or wrong slice.
 */
export function checkSliceSpec<S>(spec: S, axis: number): S {
  if (spec === undefined || spec === null || Number.isInteger(spec)) return spec;
  if (Array.isArray(spec) && spec.length <= 3 && spec.every(isIndex)) return spec;
  throw new InputError(
    `slice: axis ${axis}: expected an integer index, [start, end, step] (integers; a part may be null or left out, ` +
      `as Python's None) or null for the whole axis, got ${describe(spec)}`,
  );
}
