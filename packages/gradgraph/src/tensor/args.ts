/**
 * What the tensor methods take, interpreted and checked at run time for plain-JavaScript callers whose arguments
 * no compiler saw: a reduction's dims and keepdim, in PyTorch's spelling (`x.sum(1, true)`, `x.sum([0, 2])`) or
 * as one options object (`{ dim, keepdim }`, or NumPy's `{ axis, keepdims }`); slice specs; reshape's -1. A wrong
 * type is an InputError saying what was expected and what came, never a reduction or slice over the wrong thing.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { formatShape, sizeOf, type Shape } from "../ops/shape.js";
import type { Axes, ReduceOptions } from "../ops/composite.js";
import type { VarOptions } from "../ops/stats.js";

/** A value as an error message shows it. */
export function describe(x: unknown): string {
  if (typeof x === "object" && x !== null && !Array.isArray(x) && Symbol.for("gradgraph.Tensor") in x) return "a tensor";
  if (typeof x === "function") return "a function";
  if (x === undefined) return "undefined";
  if (typeof x === "number") return Object.is(x, -0) ? "-0" : String(x); // JSON would show NaN and Infinity as null
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

const REDUCE = { dim: true, axis: true, keepdim: true, keepdims: true } as const;
const REDUCE_KEYS = optionKeys<ReduceOptions>(REDUCE);
const VAR_KEYS = optionKeys<VarOptions>({ ...REDUCE, correction: true, unbiased: true });

/** The dims and keepdim of a reduction, from PyTorch's positional form or an options object, checked. */
export function reduceArgs(op: string, dim: unknown, keepdim: unknown): { axes: Axes; keepdims: boolean } {
  let axes = dim, keep = keepdim;
  if (isOptions(dim)) {
    if (keepdim !== undefined) throw new InputError(`${op}: give keepdim in the options object or as the second argument, not both`);
    expectOptions(op, dim, REDUCE_KEYS);
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
    expectOptions(op, dim, VAR_KEYS);
    o = { ...dim };
  } else {
    if (options !== undefined && !isOptions(options)) throw new InputError(`${op}: options must be an object like { correction, keepdim }, got ${describe(options)}`);
    expectOptions(op, options, VAR_KEYS);
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

/**
 * A slice of one axis: an integer index (the axis is dropped), `[start?, end?, step?]` (Python's start:end:step;
 * a missing or null part takes Python's default, as `None` does), or null (the whole axis).
 */
export type SliceSpec = number | readonly [(number | null)?, (number | null)?, (number | null)?] | null;

const isIndex = (v: unknown): boolean => v === undefined || v === null || Number.isInteger(v);

/**
 * One axis's slice spec, checked: an integer, `[start?, end?, step?]` of integers or nulls (at most three), or
 * null/undefined. Anything else (`"1:3"`, `[1.5]`, `[0, 1, 2, 3]`, `{ start: 1 }`) is an InputError showing the
 * expected form, not a silently empty or wrong slice.
 */
function checkSliceSpec(spec: unknown, axis: number): SliceSpec {
  if (spec === undefined || spec === null || Number.isInteger(spec)) return spec as SliceSpec;
  if (Array.isArray(spec) && spec.length <= 3 && spec.every(isIndex)) return spec as unknown as SliceSpec;
  throw new InputError(
    `slice: axis ${axis}: expected an integer index, [start, end, step] (integers; a part may be null or left out, ` +
      `as Python's None) or null for the whole axis, got ${describe(spec)}`,
  );
}

/** The slice op's parameters for `x.slice(...specs)` on `shape`, and the axes an integer index drops. */
export function sliceParams(shape: Shape, specs: readonly SliceSpec[]): { starts: number[]; ends: number[]; steps: number[]; drop: number[] } {
  if (specs.length > shape.length) throw new ShapeError(`slice: ${specs.length} indices for shape ${formatShape(shape)}`);
  const starts: number[] = [], ends: number[] = [], steps: number[] = [], drop: number[] = [];
  shape.forEach((n, i) => {
    const s = checkSliceSpec(specs[i], i);
    if (s === undefined || s === null) {
      starts.push(0), ends.push(n), steps.push(1);
    } else if (typeof s === "number") {
      const k = s < 0 ? s + n : s;
      if (k < 0 || k >= n) throw new ShapeError(`slice: index ${s} is out of range for axis ${i} of shape ${formatShape(shape)}`);
      starts.push(k), ends.push(k + 1), steps.push(1), drop.push(i);
    } else {
      const step = s[2] ?? 1;
      if (step < 1) throw new ShapeError(`slice: step ${step} must be a positive integer`);
      const clampIdx = (v: number | null | undefined, dflt: number) => (v === undefined || v === null ? dflt : Math.min(n, Math.max(0, v < 0 ? v + n : v)));
      const a = clampIdx(s[0], 0), b = Math.max(a, clampIdx(s[1], n));
      starts.push(a), ends.push(b), steps.push(step);
    }
  });
  return { starts, ends, steps, drop };
}

/** Resolves a -1 in a requested shape. */
export function resolveShape(shape: number[], from: Shape): number[] {
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) throw new ShapeError(`reshape: only one size may be -1 in ${formatShape(shape)}`);
  if (free === 0) return shape;
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const total = sizeOf(from);
  if (known === 0 || total % known !== 0) {
    throw new ShapeError(`reshape: cannot reshape ${formatShape(from)} (${total} elements) to ${formatShape(shape)}`);
  }
  return shape.map((d) => (d === -1 ? total / known : d));
}

/**
 * Checks a network's layer sizes (inputs first, outputs last: at least two positive integers) for `who` (an MLP's
 * constructor), with a message that shows what came.
 */
export function checkLayerSizes(who: string, sizes: unknown): asserts sizes is readonly number[] {
  if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || (n as number) < 1)) {
    const got = Array.isArray(sizes) ? `[${sizes.map((n) => describe(n)).join(", ")}]` : describe(sizes);
    throw new InputError(`${who}: sizes must be at least two positive integers (inputs, …, outputs), got ${got}`);
  }
}
