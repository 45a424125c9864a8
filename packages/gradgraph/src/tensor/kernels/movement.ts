/**
 * Movement kernels. reshape (of contiguous data), permute, broadcastTo and slice are views: O(1), sharing the
 * input's storage. pad, concat, gather, scatterAdd and cast write fresh arrays.
 */
import type { DType, GatherParams, PadParams, ScatterAddParams, SliceParams } from "../../ops/op.js";
import { stridesOf, type Shape } from "../../ops/shape.js";
import { arrayType, broadcastStrides, contiguous, copyArray, copyStrided, forEachRow, NDArray } from "../ndarray.js";

/** A view with a new shape when the data are contiguous, else a contiguous copy reshaped. */
export function reshapeKernel([a]: readonly NDArray[], _p: unknown, outShape: Shape, dtype: DType): NDArray {
  const c = contiguous(a!);
  const v = new NDArray(c.data, outShape, stridesOf(outShape), c.offset);
  return dtype === a!.dtype ? v : copyArray(v, dtype);
}

export function permuteKernel([a]: readonly NDArray[], p: { perm: readonly number[] }, outShape: Shape): NDArray {
  return new NDArray(a!.data, outShape, p.perm.map((i) => a!.strides[i]!), a!.offset);
}

export function broadcastToKernel([a]: readonly NDArray[], _p: unknown, outShape: Shape): NDArray {
  return new NDArray(a!.data, outShape, broadcastStrides(a!, outShape), a!.offset);
}

export function sliceKernel([a]: readonly NDArray[], p: SliceParams, outShape: Shape): NDArray {
  let offset = a!.offset;
  for (let i = 0; i < outShape.length; i++) offset += p.starts[i]! * a!.strides[i]!;
  return new NDArray(a!.data, outShape, a!.strides.map((s, i) => s * p.steps[i]!), offset);
}

export function padKernel([a]: readonly NDArray[], p: PadParams, outShape: Shape, dtype: DType): NDArray {
  const out = new (arrayType(dtype))(outShape.reduce((x, y) => x * y, 1));
  const os = stridesOf(outShape);
  let offset = 0;
  for (let i = 0; i < os.length; i++) offset += p.starts[i]! * os[i]!;
  copyStrided(a!, out, offset, a!.shape, os.map((s, i) => s * p.steps[i]!));
  return new NDArray(out, outShape);
}

export function concatKernel(xs: readonly NDArray[], p: { axis: number }, outShape: Shape, dtype: DType): NDArray {
  const out = new (arrayType(dtype))(outShape.reduce((x, y) => x * y, 1));
  const os = stridesOf(outShape);
  let at = 0;
  for (const x of xs) {
    copyStrided(x, out, at * os[p.axis]!, x.shape, os);
    at += x.shape[p.axis]!;
  }
  return new NDArray(out, outShape);
}

/**
 * Walks every position of `shape` in row-major order, keeping the offsets into `a` (strides `as`) and into the
 * index (contiguous). `visit` is called per row of the last axis.
 */
function forEachIndexRow(shape: Shape, as: readonly number[], base: number, visit: (ap: number, ip: number, n: number) => void): void {
  forEachRow(shape, as, stridesOf(shape), base, 0, visit);
}

export function gatherKernel([a]: readonly NDArray[], p: GatherParams, outShape: Shape, dtype: DType): NDArray {
  const x = a!;
  const out = new (arrayType(dtype))(p.index.data.length);
  const ix = p.index.data, d = x.data;
  const r = outShape.length, axis = p.axis, sAxis = x.strides[axis]!;
  // Walk the index; along `axis` the position comes from the index, not the walk.
  const walk = x.strides.map((s, i) => (i === axis ? 0 : s));
  const last = r - 1, sLast = walk[last]!;
  forEachIndexRow(outShape, walk, x.offset, (ap, ip, n) => {
    if (axis === last) for (let j = 0; j < n; j++) out[ip + j] = d[ap + ix[ip + j]! * sAxis]!;
    else for (let j = 0, q = ap; j < n; j++, q += sLast) out[ip + j] = d[q + ix[ip + j]! * sAxis]!;
  });
  return new NDArray(out, outShape);
}

export function scatterAddKernel([a]: readonly NDArray[], p: ScatterAddParams, outShape: Shape, dtype: DType): NDArray {
  const src = contiguous(a!);
  const out = new (arrayType(dtype))(outShape.reduce((x, y) => x * y, 1));
  const os = stridesOf(outShape);
  const ix = p.index.data, s = src.data, so = src.offset;
  const r = outShape.length, axis = p.axis, sAxis = os[axis]!;
  const walk = os.map((v, i) => (i === axis ? 0 : v));
  const last = r - 1, sLast = walk[last]!;
  forEachIndexRow(p.index.shape, walk, 0, (op, ip, n) => {
    if (axis === last) for (let j = 0; j < n; j++) out[op + ix[ip + j]! * sAxis]! += s[so + ip + j]!;
    else for (let j = 0, q = op; j < n; j++, q += sLast) out[q + ix[ip + j]! * sAxis]! += s[so + ip + j]!;
  });
  return new NDArray(out, outShape);
}

export function castKernel([a]: readonly NDArray[], _p: unknown, _outShape: Shape, dtype: DType): NDArray {
  return a!.dtype === dtype && !a!.weak ? a! : copyArray(a!, dtype);
}
