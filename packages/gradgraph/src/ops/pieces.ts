/**
 * Cutting and padding, written against {@link TensorAlgebra} from slice and pad (composites): split, chunk, and
 * PyTorch's `F.pad` with its flat spec (last axis first) and a constant value.
 */
import { InputError, ShapeError } from "../core/errors.js";
import type { TensorAlgebra } from "./op.js";
import { formatShape, normalizeAxis } from "./shape.js";

/**
 * Pieces along an axis: of `size` each (the last one smaller when it does not divide), or of the listed sizes
 * (which must add up to the axis), as `torch.split`.
 */
export function split<T>(o: TensorAlgebra<T>, x: T, sizes: number | readonly number[], axis = 0): T[] {
  const shape = o.shape(x);
  const a = normalizeAxis(axis, shape.length, "split", shape);
  const n = shape[a]!;
  let list: number[];
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes < 1) throw new ShapeError(`split: the piece size must be a positive integer, got ${sizes}`);
    list = [];
    for (let at = 0; at < n; at += sizes) list.push(Math.min(sizes, n - at));
    if (n === 0) list.push(0);
  } else {
    list = [...sizes];
    if (list.some((s) => !Number.isInteger(s) || s < 0) || list.reduce((s, v) => s + v, 0) !== n) {
      throw new ShapeError(`split: sizes [${list.join(", ")}] do not add up to ${n}, the size of axis ${a} of ${formatShape(shape)}`);
    }
  }
  let at = 0;
  return list.map((len) => {
    const starts = shape.map((_, i) => (i === a ? at : 0));
    const ends = shape.map((d, i) => (i === a ? at + len : d));
    at += len;
    return o.slice(x, { starts, ends, steps: shape.map(() => 1) });
  });
}

/** `chunks` pieces of equal size ⌈n / chunks⌉ along an axis (fewer when that covers it sooner), as `torch.chunk`. */
export function chunk<T>(o: TensorAlgebra<T>, x: T, chunks: number, axis = 0): T[] {
  const shape = o.shape(x);
  if (!Number.isInteger(chunks) || chunks < 1) throw new ShapeError(`chunk: the number of chunks must be a positive integer, got ${chunks}`);
  const a = normalizeAxis(axis, shape.length, "chunk", shape);
  return split(o, x, Math.max(1, Math.ceil(shape[a]! / chunks)), a);
}

/**
 * PyTorch's `F.pad(x, spec, value=value)` (constant mode): `spec` is [before, after] pairs flattened, the last
 * axis first (`[left, right, top, bottom]` pads a matrix's columns, then its rows). Negative widths crop. The
 * constant is placed by a select on `pad` of ones, so the result stays differentiable in x.
 */
export function padConstant<T>(o: TensorAlgebra<T>, x: T, spec: readonly number[], value = 0): T {
  const shape = o.shape(x);
  if (spec.length % 2 !== 0 || spec.length / 2 > shape.length || spec.some((w) => !Number.isInteger(w))) {
    throw new ShapeError(`pad: the spec must be integer [before, after] pairs, last axis first, at most 2 per axis of ${formatShape(shape)}; got [${spec.join(", ")}]`);
  }
  if (typeof value !== "number") throw new InputError(`pad: the constant must be a number, got ${typeof value === "object" ? JSON.stringify(value) : typeof value}`);
  const r = shape.length;
  const w = shape.map((_, i) => {
    const k = r - 1 - i;
    return [spec[2 * k] ?? 0, spec[2 * k + 1] ?? 0] as const;
  });
  // Crop first (negative widths), then pad.
  const cropped = shape.map((d, i) => d + Math.min(0, w[i]![0]) + Math.min(0, w[i]![1]));
  if (cropped.some((d) => d < 0)) throw new ShapeError(`pad: [${spec.join(", ")}] crops more than ${formatShape(shape)} holds`);
  let y = x;
  if (w.some(([b, e]) => b < 0 || e < 0)) {
    const starts = w.map(([b]) => Math.max(0, -b));
    y = o.slice(y, { starts, ends: starts.map((s, i) => s + cropped[i]!), steps: shape.map(() => 1) });
  }
  if (w.every(([b, e]) => b <= 0 && e <= 0)) return y;
  const params = { shape: cropped.map((d, i) => d + Math.max(0, w[i]![0]) + Math.max(0, w[i]![1])), starts: w.map(([b]) => Math.max(0, b)), steps: shape.map(() => 1) };
  const padded = o.pad(y, params);
  if (value === 0) return padded;
  const inside = o.pad(o.broadcastTo(1, { shape: cropped }), params);
  // x inside, the constant outside: a select (x + (1 − inside)·value would give NaN inside for value ±∞)
  return o.where(inside, padded, value);
}
