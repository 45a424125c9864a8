/**
 * Shapes and the rules that combine them: NumPy broadcasting, axis normalisation, row-major strides.
 * Shape rules of the op table are written with these helpers and throw {@link ShapeError}s that name the op
 * and the shapes, the way NumPy and PyTorch do (`add: shapes [3] and [4] cannot be broadcast`).
 */
import { InputError, ShapeError } from "../core/errors.js";

/** A tensor's shape: the size of each axis, outermost first. `[]` is a scalar (0-d). */
export type Shape = readonly number[];

/** `[2,3]`, `[]`: shapes print without spaces, as in the error messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** The most elements one tensor can hold (the length limit of a typed array in Node and browsers). */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/**
 * The size of a shape that a tensor is about to be made with, after checking it: every size a whole number
 * ≥ 0, and not more elements than a tensor can hold. `what` names the op or function in the error.
 */
export function checkedSize(shape: Shape, what: string): number {
  if (!Array.isArray(shape)) throw new InputError(`${what}: the shape is an array of sizes, such as [2, 3]; got ${JSON.stringify(shape) ?? String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${what}: sizes must be whole numbers ≥ 0, got shape ${formatShape(shape)}`);
    }
  }
  const size = sizeOf(shape);
  if (size > MAX_ELEMENTS) {
    throw new ShapeError(
      `${what}: shape ${formatShape(shape)} has ${size.toExponential(2)} elements, ` +
        `more than the ${MAX_ELEMENTS.toExponential(2)} one tensor can hold`,
    );
  }
  return size;
}

/** Row-major (C order) strides of a contiguous array of this shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Joins shapes for a message: `[2] and [3]`, `[2], [3] and [4]`. */
function listShapes(shapes: readonly Shape[]): string {
  const s = shapes.map(formatShape);
  return s.length <= 2 ? s.join(" and ") : `${s.slice(0, -1).join(", ")} and ${s[s.length - 1]}`;
}

/**
 * The NumPy broadcast of several shapes: align them on the right; along each axis the sizes must be equal or
 * 1 (a missing axis counts as 1), and the result takes the larger size.
 *
 * @example
 * broadcastShapes([[3, 1, 2], [1, 3, 2]], "add"); // [3, 3, 2]
 * broadcastShapes([[3], [4]], "add");             // throws ShapeError "add: shapes [3] and [4] cannot be broadcast"
 */
export function broadcastShapes(shapes: readonly Shape[], op: string): number[] {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const pad = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[pad + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[pad + i] = d;
      else throw new ShapeError(`${op}: shapes ${listShapes(shapes)} cannot be broadcast`);
    }
  }
  return out;
}

/** True when `from` broadcasts to exactly `to`. */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const pad = to.length - from.length;
  for (let i = 0; i < from.length; i++) {
    const d = from[i]!;
    if (d !== 1 && d !== to[pad + i]) return false;
  }
  return true;
}

/**
 * Normalises one axis (negative counts from the end) or throws `op: axis 3 is out of range for shape [2,3]`.
 */
export function normalizeAxis(axis: number, rank: number, op: string, shape: Shape): number {
  expectWholeAxis(axis, rank, op, shape);
  if (axis < -rank || axis >= rank) throw new ShapeError(`${op}: axis ${axis} is out of range for shape ${formatShape(shape)}`);
  return axis < 0 ? axis + rank : axis;
}

/**
 * Throws unless `axis` is one whole number (not a list, string, null or object), naming the range of the `rank`
 * axes: `op: an axis is a whole number (from -2 to 1 for shape [2,2]), got 1.5`. A 0-d tensor's is rank 1.
 */
function expectWholeAxis(axis: unknown, rank: number, op: string, shape: Shape): asserts axis is number {
  if (Number.isInteger(axis)) return;
  const got = Array.isArray(axis) ? `[${axis.join(",")}]` : typeof axis === "string" ? JSON.stringify(axis) : typeof axis === "object" && axis !== null ? "an object" : String(axis);
  throw new ShapeError(`${op}: an axis is a whole number (from ${-rank} to ${rank - 1} for shape ${formatShape(shape)}), got ${got}`);
}

/**
 * Normalises an axis list for a reduction: `undefined`/`null` means every axis; axes are made non-negative,
 * checked against the rank, de-duplicated (a repeat is an error) and sorted. A 0-d tensor takes 0 or -1 as
 * PyTorch does ({@link scalarAxes}): it has no axis to reduce, so the list is `[]` and the result is x itself.
 */
export function normalizeAxes(axes: number | readonly number[] | null | undefined, shape: Shape, op: string): number[] {
  const rank = shape.length;
  if (axes === undefined || axes === null) return Array.from({ length: rank }, (_, i) => i);
  if (rank === 0) return scalarAxes(axes, op);
  const list: readonly number[] = Array.isArray(axes) ? axes : [axes as number]; // anything else: checked as one axis
  const out: number[] = [];
  for (const a of list) {
    const n = normalizeAxis(a, rank, op, shape);
    if (out.includes(n)) throw new ShapeError(`${op}: axis ${a} is repeated in [${list.join(",")}]`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/**
 * The one axis an op runs along (cumsum, argmax, softmax, sort, gather, ...), normalised; or `null` for a 0-d
 * tensor along 0 or -1, which PyTorch allows ({@link scalarAxes}): there is no axis to run along.
 */
export function normalizeAlong(axis: number, shape: Shape, op: string): number | null {
  if (shape.length > 0) return normalizeAxis(axis, shape.length, op, shape);
  expectWholeAxis(axis, 1, op, shape); // one axis, as for a tensor with axes: a list is refused, not taken as [0]
  scalarAxes(axis, op);
  return null;
}

/**
 * The axes a 0-d tensor gives an op along dims (every reduction, softmax, cumsum, argmax, sort, ...): 0 and -1
 * name the scalar itself (PyTorch wraps a 0-d tensor's dims as if it had one axis), so there is no axis to run
 * over: `[]`. Any other dim, or naming it twice, is an error. {@link normalizeAxes} and {@link normalizeAlong}
 * call it: ops reach it through them.
 */
export function scalarAxes(axes: number | readonly number[], op: string): number[] {
  const list: readonly number[] = Array.isArray(axes) ? axes : [axes as number];
  for (const a of list) {
    expectWholeAxis(a, 1, op, []); // what normalizeAxis says of a non-integer axis, over a 0-d tensor's range
    if (a !== 0 && a !== -1) throw new ShapeError(`${op}: axis ${a} is out of range for a 0-d tensor (shape []): expected 0 or -1 (the range [-1, 0])`);
  }
  if (list.length > 1) throw new ShapeError(`${op}: axis ${list[1]} is repeated in [${list.join(",")}]: a 0-d tensor has one axis to name, 0 or -1`);
  return [];
}

/** The shape left by reducing `axes` (sorted, normalised), keeping them as 1s or dropping them. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(shape[i]!);
  }
  return out;
}

/** Checks that a shape is a list of non-negative integers (`op: bad shape [2,-1]`). */
export function checkShape(shape: Shape, op: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${formatShape(shape)}`);
  }
}
