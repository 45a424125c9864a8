/**
 * Reduction kernels. Sums are accurate: a reduction over trailing contiguous axes (the common case: row sums,
 * the sum of everything) uses pairwise summation in float64 (error O(ε log n)) — for float32 blocks of 4,096 or
 * more, the backend's float64-accumulated SIMD sum where it has one (`Backend.sumFloat32`); any other layout
 * accumulates in float64, with Neumaier compensation for float64 results (a float32 result needs none). So the
 * sum of 10⁶ float32 values keeps a relative error far below 1e-6, and float64 sums are as before.
 * Max/min propagate NaN, as NumPy and PyTorch do.
 */
import { backend } from "../../backend/index.js";
import type { DType, ReduceParams } from "../../ops/op.js";
import { stridesOf, type Shape } from "../../ops/shape.js";
import { arrayType, collapse, forEachRow as walkRows, NDArray, type TypedArray } from "../ndarray.js";

/** Pairwise (cascade) sum of `n` contiguous elements from `start`; blocks of 128 summed with 4 accumulators. */
export function pairwiseSum(x: TypedArray, start: number, n: number): number {
  if (n <= 128) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let i = start;
    const end = start + n, end4 = start + (n & ~3);
    for (; i < end4; i += 4) {
      s0 += x[i]!;
      s1 += x[i + 1]!;
      s2 += x[i + 2]!;
      s3 += x[i + 3]!;
    }
    for (; i < end; i++) s0 += x[i]!;
    return s0 + s1 + (s2 + s3);
  }
  const h = (n >> 1) & ~127 || n >> 1;
  return pairwiseSum(x, start, h) + pairwiseSum(x, start + h, n - h);
}

/** Below this many elements a block is summed in JavaScript (the backend's float32 sum pays a call and copies). */
const BACKEND_SUM_MIN = 4096;

/**
 * Σ of a contiguous block: float32 blocks of at least {@link BACKEND_SUM_MIN} elements by the backend's float64-
 * accumulated sum where it has one (WebAssembly SIMD), everything else pairwise in JavaScript.
 */
function blockSum(x: TypedArray, start: number, n: number): number {
  const f = n >= BACKEND_SUM_MIN && x instanceof Float32Array ? backend().sumFloat32 : undefined;
  return f !== undefined ? f(x as Float32Array, start, n) : pairwiseSum(x, start, n);
}

function stridedSum(x: TypedArray, ip: number, is: number, n: number): number {
  let v = 0;
  for (let j = 0, i = ip; j < n; j++, i += is) v += x[i]!;
  return v;
}

/** Strides (in the output) with which each input axis is accumulated: 0 along reduced axes. */
function outputStrides(shape: Shape, axes: readonly number[]): number[] {
  const kept = shape.filter((_, i) => !axes.includes(i));
  const ks = stridesOf(kept);
  let k = 0;
  return shape.map((_, i) => (axes.includes(i) ? 0 : ks[k++]!));
}

/** Number of trailing axes of `a` that are all reduced, if `a` is contiguous (else 0). */
function trailingReduced(a: NDArray, axes: readonly number[]): number {
  if (!a.contiguous) return 0;
  let t = 0;
  for (let i = a.ndim - 1; i >= 0 && axes.includes(i); i--) t++;
  // Every reduced axis must be among the trailing ones.
  return t === axes.length ? t : 0;
}

/**
 * Walks `a` in its own memory order and calls back per row of the innermost collapsed axis: `visit(inOffset,
 * inStride, outOffset, outStride, n)`. The callbacks are per row, never per element.
 */
function forEachRow(
  a: NDArray,
  ostrides: readonly number[],
  visit: (ip: number, is: number, op: number, os: number, n: number) => void,
): void {
  const c = collapse(a.shape, [a.strides, ostrides]);
  const [is, os] = c.strides as [number[], number[]];
  const isLast = is[is.length - 1] ?? 1, osLast = os[os.length - 1] ?? 1;
  walkRows(c.shape, is, os, a.offset, 0, (ip, op, n) => visit(ip, isLast, op, osLast, n));
}

/** Σ over axes. */
export function sumKernel(xs: readonly NDArray[], p: ReduceParams, outShape: Shape, dtype: DType, into?: TypedArray): NDArray {
  const a = xs[0]!;
  let m = 1;
  for (const d of outShape) m *= d;
  const out = into ?? new (arrayType(dtype))(m);
  const result = new NDArray(out, outShape);
  if (m === 0) return result;
  const t = trailingReduced(a, p.axes);
  if (t > 0 || (p.axes.length === 0 && a.contiguous)) {
    // Each output element is a contiguous block of the input.
    const block = a.size / m;
    for (let j = 0; j < m; j++) out[j] = blockSum(a.data, a.offset + j * block, block);
    return result;
  }
  const acc = new Float64Array(m), comp = new Float64Array(m);
  const x = a.data;
  if (dtype === "float32") {
    // A float32 result needs no compensation: float64 accumulation errs by at most (terms)·2⁻⁵³·Σ|x|, far below
    // float32's rounding (for any count of terms under 2²⁹). Rows of a batch added into a row of sums (a bias's
    // gradient) are then one plain loop per row.
    forEachRow(a, outputStrides(a.shape, p.axes), (ip, is, op, os, n) => {
      if (os === 0) {
        acc[op]! += is === 1 ? blockSum(x, ip, n) : stridedSum(x, ip, is, n);
        return;
      }
      for (let j = 0, i = ip, o = op; j < n; j++, i += is, o += os) acc[o]! += x[i]!;
    });
    out.set(acc);
    return result;
  }
  forEachRow(a, outputStrides(a.shape, p.axes), (ip, is, op, os, n) => {
    if (os === 0) {
      // The whole row lands in one output element: sum it pairwise if contiguous, then add compensated.
      let v = 0;
      if (is === 1) v = pairwiseSum(x, ip, n);
      else for (let j = 0, i = ip; j < n; j++, i += is) v += x[i]!;
      const s = acc[op]!, tt = s + v;
      comp[op]! += Math.abs(s) >= Math.abs(v) ? s - tt + v : v - tt + s;
      acc[op] = tt;
      return;
    }
    for (let j = 0, i = ip, o = op; j < n; j++, i += is, o += os) {
      const v = x[i]!, s = acc[o]!, tt = s + v;
      comp[o]! += Math.abs(s) >= Math.abs(v) ? s - tt + v : v - tt + s;
      acc[o] = tt;
    }
  });
  for (let j = 0; j < m; j++) out[j] = acc[j]! + comp[j]!;
  return result;
}

function extremumKernel(max: boolean) {
  return (xs: readonly NDArray[], p: ReduceParams, outShape: Shape, dtype: DType): NDArray => {
    const a = xs[0]!;
    let m = 1;
    for (const d of outShape) m *= d;
    const acc = new Float64Array(m).fill(max ? -Infinity : Infinity);
    const x = a.data;
    forEachRow(a, outputStrides(a.shape, p.axes), (ip, is, op, os, n) => {
      if (max) {
        for (let j = 0, i = ip, o = op; j < n; j++, i += is, o += os) {
          const v = x[i]!;
          if (v > acc[o]! || v !== v) acc[o] = v;
        }
      } else {
        for (let j = 0, i = ip, o = op; j < n; j++, i += is, o += os) {
          const v = x[i]!;
          if (v < acc[o]! || v !== v) acc[o] = v;
        }
      }
    });
    // A NaN, once stored, stays: comparisons with NaN are false and a later non-NaN v is never !== itself.
    const out = new (arrayType(dtype))(m);
    out.set(acc);
    return new NDArray(out, outShape);
  };
}

/** max over axes. */
export const amaxKernel = extremumKernel(true);
/** min over axes. */
export const aminKernel = extremumKernel(false);
