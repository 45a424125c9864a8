/**
 * Kernels that walk one axis per row: cumsum, argmax/argmin, and the sort order of sort/topk. Each visits the
 * rows along `axis` (any strides) once, through the one strided row walk of ../../backend/ndarray.ts.
 */
import type { AxisParams, DType, IndexArray, ScanParams } from "../../ops/op.js";
import { stridesOf, type Shape } from "../../ops/shape.js";
import { arrayType, forEachRow, NDArray } from "../ndarray.js";

/**
 * Calls `visit(inOffset, inStride, outOffset, outStride, n)` once per row along `axis` of `a`, with the output
 * strides `ostrides` (one per axis of `a`; the axis's own stride is the row stride in the output).
 */
export function forEachAlong(a: NDArray, axis: number, ostrides: readonly number[], visit: (ip: number, is: number, op: number, os: number, n: number) => void): void {
  const perm = a.shape.map((_, i) => i).filter((i) => i !== axis).concat([axis]);
  const sa = perm.map((i) => a.strides[i]!), sb = perm.map((i) => ostrides[i]!);
  const r = perm.length;
  forEachRow(perm.map((i) => a.shape[i]!), sa, sb, a.offset, 0, (pa, pb, n) => visit(pa, sa[r - 1]!, pb, sb[r - 1]!, n));
}

/** Running sums along an axis (from the end with `reverse`), accumulated in float64. */
export function cumsumKernel(xs: readonly NDArray[], { axis, reverse }: ScanParams, outShape: Shape, dtype: DType): NDArray {
  const a = xs[0]!;
  const out = new (arrayType(dtype))(a.size);
  const x = a.data;
  forEachAlong(a, axis, stridesOf(outShape), (ip, is, op, os, n) => {
    let s = 0;
    for (let k = 0; k < n; k++) {
      const j = reverse ? n - 1 - k : k;
      s += x[ip + j * is]!;
      out[op + j * os] = s;
    }
  });
  return new NDArray(out, outShape);
}

/** argmax (sign 1) or argmin (sign −1): the first position of the extremum, a NaN counting as one. */
function argKernel(sign: 1 | -1) {
  return (xs: readonly NDArray[], { axis }: AxisParams, outShape: Shape, dtype: DType): NDArray => {
    const a = xs[0]!;
    const out = new (arrayType(dtype))(a.size / a.shape[axis]!);
    const ostrides = stridesOf(a.shape.map((d, i) => (i === axis ? 1 : d)));
    ostrides[axis] = 0;
    const x = a.data;
    forEachAlong(a, axis, ostrides, (ip, is, op, _os, n) => {
      let best = 0, bv = x[ip]!;
      if (bv === bv) {
        for (let k = 1; k < n; k++) {
          const v = x[ip + k * is]!;
          if (v !== v) { best = k; break; }
          if (sign * (v - bv) > 0) { best = k; bv = v; }
        }
      }
      out[op] = best;
    });
    return new NDArray(out, outShape);
  };
}

export const argmaxKernel = argKernel(1);
export const argminKernel = argKernel(-1);

/**
 * The order that sorts each row along `axis` (stable; ascending, or descending), the first `k` positions of it:
 * an index of `a`'s shape with `k` along the axis. NaN sorts as the largest value, as in PyTorch.
 */
export function sortOrder(a: NDArray, axis: number, descending: boolean, k: number): IndexArray {
  const shape = a.shape.map((d, i) => (i === axis ? k : d));
  const data = new Int32Array(shape.reduce((p, d) => p * d, 1));
  const x = a.data;
  const key = (v: number) => (v !== v ? Infinity : v);
  const nanLast = (v: number, w: number) => (v !== v ? 1 : 0) - (w !== w ? 1 : 0);
  forEachAlong(a, axis, stridesOf(shape), (ip, is, op, os, n) => {
    const order = Array.from({ length: n }, (_, j) => j);
    order.sort((i, j) => {
      const u = x[ip + i * is]!, v = x[ip + j * is]!;
      const c = nanLast(u, v) || (key(u) < key(v) ? -1 : key(u) > key(v) ? 1 : 0);
      return descending ? -c : c;
    });
    for (let j = 0; j < k; j++) data[op + j * os] = order[j]!;
  });
  return { data, shape };
}
