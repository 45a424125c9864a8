/**
 * Data movement: reshape, permute, broadcastTo, slice, pad, concat, gather, scatterAdd, cast. These are linear
 * maps that only move (or convert) elements, so each one's vjp is its transpose and its jvp is itself:
 * reshape ↔ reshape back, permute ↔ inverse permute, slice ↔ pad, gather ↔ scatterAdd, concat ↔ slices.
 *
 * Composites built on these (./composite.ts): squeeze/unsqueeze/flatten (reshape), transpose/mT (permute),
 * stack (unsqueeze + concat), index (slice + reshape), zero padding by widths (pad).
 */
import { ShapeError } from "../core/errors.js";
import { batchSize, liftTo, repeatBatch, shiftAxes } from "./batch.js";
import { defineTensorOp, linearJvp, type IndexArray, type Target } from "./op.js";
import { broadcastsTo, checkShape, formatShape, sameShape, sizeOf, type Shape } from "./shape.js";

const call = (board: string, py: string, ts: string) => ({ kind: "call", name: { board, py, ts } }) as const;
const list = (xs: readonly number[], target: Target) => (target === "py" ? `(${xs.join(", ")}${xs.length === 1 ? "," : ""})` : `[${xs.join(", ")}]`);

export const reshape = defineTensorOp({
  name: "reshape", kind: "movement", arity: 1, nondiff: false,
  doc: "the same elements, in row-major order, in another shape",
  shape: ([x], { shape }) => {
    checkShape(shape, "reshape");
    if (sizeOf(shape) !== sizeOf(x!)) {
      throw new ShapeError(
        `reshape: cannot reshape ${formatShape(x!)} (${sizeOf(x!)} elements) to ${formatShape(shape)} (${sizeOf(shape)} elements)`,
      );
    }
    return shape;
  },
  // x̄ = reshape(ḡ, shape of x)
  vjp: (o, g, [x]) => [o.reshape(g, { shape: o.shape(x!) })],
  // dy = reshape(dx, shape of y)
  jvp: linearJvp("reshape"),
  batch: (o, [x], _b, { shape }) => o.reshape(x!, { shape: [o.shape(x!)[0]!, ...shape] }),
  print: call("reshape", "np.reshape", "reshape"),
  printParams: (p, t) => [list(p.shape, t)],
  // On the board a vector is a column: [n] → [n, 1] is the vector itself, [n] → [1, n] its transpose (and back).
  printPostfix: ({ shape }, [x]) => {
    const column = x!.length === 1 && shape.length === 2 && shape[1] === 1;
    const row = x!.length === 1 && shape.length === 2 && shape[0] === 1 && shape[1] !== 1;
    const back = x!.length === 2 && shape.length === 1 && (x![1] === 1 || x![0] === 1);
    return column || (back && x![1] === 1) ? { board: "" } : row || back ? { board: "ᵀ" } : undefined;
  },
});

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const permute = defineTensorOp({
  name: "permute", kind: "movement", arity: 1, nondiff: false,
  doc: "axes reordered: y.shape[i] = x.shape[perm[i]] (transpose is the case of two axes)",
  shape: ([x], { perm }) => {
    const ok = perm.length === x!.length && perm.every((p, i) => Number.isInteger(p) && p >= 0 && p < x!.length && perm.indexOf(p) === i);
    if (!ok) throw new ShapeError(`permute: [${perm.join(",")}] is not a permutation of the axes of ${formatShape(x!)}`);
    return perm.map((p) => x![p]!);
  },
  // x̄ = permute(ḡ, perm⁻¹)
  vjp: (o, g, _xs, _y, _needs, { perm }) => [o.permute(g, { perm: inversePermutation(perm) })],
  // dy = permute(dx, perm)
  jvp: linearJvp("permute"),
  batch: (o, [x], _b, { perm }) => o.permute(x!, { perm: [0, ...shiftAxes(perm)] }),
  print: call("permute", "np.transpose", "permute"),
  printParams: (p, t) => [list(p.perm, t)],
  // Swapping the last two axes is the (batched) matrix transpose: Wᵀ, W.T (W.mT above two axes).
  printPostfix: ({ perm }) => {
    const r = perm.length;
    const swapsLastTwo = r >= 2 && perm[r - 2] === r - 1 && perm[r - 1] === r - 2 && perm.slice(0, -2).every((p, i) => p === i);
    if (!swapsLastTwo) return undefined;
    const t = r === 2 ? ".T" : ".mT";
    return { board: "ᵀ", py: t, ts: t };
  },
});

export const broadcastTo = defineTensorOp({
  name: "broadcastTo", kind: "movement", arity: 1, nondiff: false,
  doc: "x repeated along new leading axes and along its size-1 axes to fill `shape`",
  shape: ([x], { shape }) => {
    checkShape(shape, "broadcastTo");
    if (!broadcastsTo(x!, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${formatShape(x!)} to ${formatShape(shape)}`);
    return shape;
  },
  // x̄ = ḡ summed back to x's shape — done by the engine, which unbroadcasts every cotangent in one place
  vjp: (_o, g) => [g],
  // dy = broadcast(dx)
  jvp: linearJvp("broadcastTo"),
  batch: (o, [x], _b, { shape }) => o.broadcastTo(liftTo(o, x!, shape.length), { shape: [o.shape(x!)[0]!, ...shape] }),
  print: call("broadcastTo", "np.broadcast_to", "broadcastTo"),
  printParams: (p, t) => [list(p.shape, t)],
});

/** Number of elements `start, start+step, … < end`. */
function sliceLength(start: number, end: number, step: number): number {
  return end > start ? Math.ceil((end - start) / step) : 0;
}

export const slice = defineTensorOp({
  name: "slice", kind: "movement", arity: 1, nondiff: false,
  doc: "x[start:end:step] along every axis",
  shape: ([x], { starts, ends, steps }) => {
    const r = x!.length;
    if (starts.length !== r || ends.length !== r || steps.length !== r) {
      throw new ShapeError(`slice: ${starts.length} ranges for shape ${formatShape(x!)} (expected ${r})`);
    }
    return x!.map((n, i) => {
      const s = starts[i]!, e = ends[i]!, st = steps[i]!;
      if (![s, e, st].every(Number.isInteger) || s < 0 || e > n || s > e || st < 1) {
        throw new ShapeError(`slice: range ${s}:${e}:${st} is out of bounds for axis ${i} of shape ${formatShape(x!)}`);
      }
      return sliceLength(s, e, st);
    });
  },
  // x̄ = ḡ placed into zeros of x's shape at the sliced positions
  vjp: (o, g, [x], _y, _needs, { starts, steps }) => [o.pad(g, { shape: o.shape(x!), starts, steps })],
  // dy = slice(dx)
  jvp: linearJvp("slice"),
  batch: (o, [x], _b, p) => { const n = o.shape(x!)[0]!; return o.slice(x!, { starts: [0, ...p.starts], ends: [n, ...p.ends], steps: [1, ...p.steps] }); },
  print: call("slice", "slice", "slice"),
  printParams: (p) => [p.starts.map((s, i) => `${s}:${p.ends[i]}${p.steps[i] === 1 ? "" : `:${p.steps[i]}`}`).join(", ")],
});

export const pad = defineTensorOp({
  name: "pad", kind: "movement", arity: 1, nondiff: false,
  doc: "zeros of `shape` with x placed at starts + i·steps (zero padding; the transpose of slice)",
  shape: ([x], { shape, starts, steps }) => {
    checkShape(shape, "pad");
    const r = x!.length;
    const fits =
      shape.length === r && starts.length === r && steps.length === r &&
      x!.every((n, i) => Number.isInteger(starts[i]) && Number.isInteger(steps[i]) && starts[i]! >= 0 && steps[i]! >= 1 &&
        (n === 0 || starts[i]! + (n - 1) * steps[i]! < shape[i]!));
    if (!fits) {
      throw new ShapeError(`pad: ${formatShape(x!)} does not fit into ${formatShape(shape)} at [${starts.join(",")}] with steps [${steps.join(",")}]`);
    }
    return shape;
  },
  // x̄ = ḡ[starts : starts + n·steps : steps]
  vjp: (o, g, [x], _y, _needs, { starts, steps }) => [
    o.slice(g, { starts, steps, ends: o.shape(x!).map((n, i) => (n === 0 ? starts[i]! : starts[i]! + (n - 1) * steps[i]! + 1)) }),
  ],
  // dy = pad(dx)
  jvp: linearJvp("pad"),
  batch: (o, [x], _b, p) => o.pad(x!, { shape: [o.shape(x!)[0]!, ...p.shape], starts: [0, ...p.starts], steps: [1, ...p.steps] }),
  print: call("pad", "pad", "pad"),
  printParams: (p, t) => [list(p.shape, t), list(p.starts, t)],
});

export const concat = defineTensorOp({
  name: "concat", kind: "movement", arity: "variadic", nondiff: false,
  doc: "the inputs joined along an existing axis",
  shape: (shapes, { axis }) => {
    if (shapes.length === 0) throw new ShapeError("concat: needs at least one tensor");
    const first = shapes[0]!;
    if (!Number.isInteger(axis) || axis < 0 || axis >= first.length) {
      throw new ShapeError(`concat: axis ${axis} is out of range for shape ${formatShape(first)}`);
    }
    let total = 0;
    for (const s of shapes) {
      if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
        throw new ShapeError(`concat: shapes ${formatShape(first)} and ${formatShape(s)} differ outside axis ${axis}`);
      }
      total += s[axis]!;
    }
    return first.map((d, i) => (i === axis ? total : d));
  },
  // x̄_i = the slice of ḡ where x_i sits
  vjp: (o, g, xs, _y, needs, { axis }) => {
    const gs = o.shape(g);
    let at = 0;
    return xs.map((x, i) => {
      const n = o.shape(x)[axis]!;
      const starts = gs.map((_, k) => (k === axis ? at : 0));
      const ends = gs.map((d, k) => (k === axis ? at + n : d));
      at += n;
      return needs[i] ? o.slice(g, { starts, ends, steps: gs.map(() => 1) }) : null;
    });
  },
  // dy = concat(dx_i), zeros for inputs with no tangent
  jvp: (o, dxs, xs, _y, p) =>
    dxs.every((d) => d === null) ? null : o.concat(xs.map((x, i) => dxs[i] ?? o.broadcastTo(0, { shape: o.shape(x) })), p),
  // unbatched inputs repeated along the batch axis
  batch: (o, xs, batched, { axis }) => {
    const n = batchSize(o, xs, batched);
    return o.concat(xs.map((x, i) => (batched[i] ? x : repeatBatch(o, x, n))), { axis: axis + 1 });
  },
  print: call("concat", "np.concatenate", "concat"),
  printParams: (p) => [`axis=${p.axis}`],
});

/** Checks gather/scatter indices: same rank as `data`, fitting it off the axis, and in range along it. */
function checkIndex(op: string, index: IndexArray, data: Shape, axis: number, exact: boolean): void {
  const r = data.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= r) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for shape ${formatShape(data)}`);
  }
  const is = index.shape;
  const fits = is.length === r && is.every((d, i) => (i === axis ? true : exact ? d === data[i] : d <= data[i]!));
  // a batched index (inside vmap) holds every example's indices
  if (!fits || sizeOf(is) * (index.batch?.size ?? 1) !== index.data.length) {
    throw new ShapeError(`${op}: index of shape ${formatShape(is)} does not fit ${formatShape(data)} along axis ${axis}`);
  }
  const n = data[axis]!;
  for (let i = 0; i < index.data.length; i++) {
    const k = index.data[i]!;
    if (k < 0 || k >= n) throw new ShapeError(`${op}: index ${k} is out of range for axis ${axis} of size ${n}`);
  }
}

export const gather = defineTensorOp({
  name: "gather", kind: "movement", arity: 1, nondiff: false,
  doc: "out[…, i, …] = x[…, index[…, i, …], …] along an axis (picks class scores by label)",
  shape: ([x], { axis, index }) => {
    checkIndex("gather", index, x!, axis, false);
    return index.shape;
  },
  // x̄ = scatterAdd(ḡ) into zeros of x's shape (an element picked twice gets both gradients)
  vjp: (o, g, [x], _y, _needs, { axis, index }) => [o.scatterAdd(g, { axis, index, shape: o.shape(x!) })],
  // dy = gather(dx)
  jvp: linearJvp("gather"),
  // the index comes laid out for the batch ([n, ...]: `indexForBatch`); an unbatched input with indices that
  // differ per example (each example picks its own) is repeated for each example
  batch: (o, [x], [bx], { axis, index }) => o.gather(bx ? x! : repeatBatch(o, x!, index.shape[0]!), { axis: axis + 1, index }),
  print: call("gather", "np.take_along_axis", "gather"),
  printParams: (p) => [`axis=${p.axis}`],
});

export const scatterAdd = defineTensorOp({
  name: "scatterAdd", kind: "movement", arity: 1, nondiff: false,
  doc: "zeros of `shape`, then out[…, index[…, i, …], …] += x[…, i, …] (the transpose of gather)",
  shape: ([x], { axis, index, shape }) => {
    checkShape(shape, "scatterAdd");
    if (!sameShape(x!, index.shape)) {
      throw new ShapeError(`scatterAdd: values of shape ${formatShape(x!)} and index of shape ${formatShape(index.shape)} differ`);
    }
    checkIndex("scatterAdd", index, shape, axis, false);
    return shape;
  },
  // x̄ = gather(ḡ)
  vjp: (o, g, _xs, _y, _needs, { axis, index }) => [o.gather(g, { axis, index })],
  // dy = scatterAdd(dx)
  jvp: linearJvp("scatterAdd"),
  // the index comes laid out for the batch, as gather's
  batch: (o, [x], [bx], { axis, index, shape }) => {
    const n = index.shape[0]!;
    return o.scatterAdd(bx ? x! : repeatBatch(o, x!, n), { axis: axis + 1, index, shape: [n, ...shape] });
  },
  print: call("scatterAdd", "scatter_add", "scatterAdd"),
  printParams: (p) => [`axis=${p.axis}`],
});

export const cast = defineTensorOp({
  name: "cast", kind: "cast", arity: 1, nondiff: false,
  doc: "the same values in another element type (float32 ↔ float64)",
  shape: ([x]) => x!,
  dtype: (_d, { dtype }) => dtype,
  // x̄ = ḡ in x's dtype
  vjp: (o, g, [x]) => [o.cast(g, { dtype: o.dtype(x!) })],
  // dy = dx in y's dtype
  jvp: linearJvp("cast"),
  batch: (o, [x], _b, p) => o.cast(x!, p),
  print: call("cast", "np.asarray", "cast"),
  printParams: (p) => [`dtype=${p.dtype}`],
});

/** The movement entries. */
export const movementOps = { reshape, permute, broadcastTo, slice, pad, concat, gather, scatterAdd, cast } as const;
