/**
 * Matrix product kernel. Per matrix of a batch the operands are packed (any strides: transposed views, as the
 * backward pass makes, are packed directly, never copied first) and multiplied in register tiles over blocks of
 * K, so the tile's rows stay in cache.
 *
 * - float32 (products of at least WASM_MIN_WORK multiply-adds, where WebAssembly SIMD is available): the f32x4
 *   kernel of sgemm-wasm.ts, accumulating in float32 as BLAS does, split among threads (threads.ts) for large
 *   products. Error bound: with u = 2⁻²⁴ and γ_K = K·u / (1 − K·u), every entry satisfies
 *   |ĉ − c| ≤ γ_K · Σ_p |a_p|·|b_p| (each term is one rounded product and passes through fewer than K rounded
 *   additions; with relaxed SIMD's multiply-add, fused where the CPU has FMA, a term is not even rounded before
 *   it is added). Each entry is summed in the same order, by the same instructions, whatever the thread count, so
 *   results do not depend on it.
 * - float64 (and the float32 fallback): 4×4 tiles accumulating in float64, rounded to the output dtype once;
 *   the f64x2 kernel of matmul-wasm.ts where available (bit-identical to the JavaScript kernel, which stays the
 *   fallback for small products or where WebAssembly SIMD is missing).
 */
import type { DType } from "../../ops/op.js";
import { broadcastShapes, stridesOf, type Shape } from "../../ops/shape.js";
import { NDArray, uninitArray, type TypedArray } from "../ndarray.js";
import { WASM_KB, workspace } from "./matmul-wasm.js";
import { copyRows, packPanels } from "./pack.js";
import { sgemmSession } from "./sgemm-wasm.js";

/**
 * Which kernel runs the products: "auto" (WebAssembly SIMD where available and the product is not tiny, the
 * JavaScript kernel otherwise), or one forced (for tests and benchmarks; "wasm" still falls back where
 * WebAssembly SIMD is unavailable).
 */
export type MatmulKernelChoice = "auto" | "js" | "wasm";
let choice: MatmulKernelChoice = "auto";
/** Sets the kernel choice; returns the previous one. */
export function setMatmulKernel(c: MatmulKernelChoice): MatmulKernelChoice {
  const old = choice;
  choice = c;
  return old;
}
/** Below this many multiply-adds (m·k·n) "auto" keeps the JavaScript kernel. */
const WASM_MIN_WORK = 4096;

/** Block of K kept in cache while a tile row of C is computed (the WebAssembly kernel's block too). */
const KB = WASM_KB;

/** C (m×n, float64, overwritten) = A (m×k, row-major) · B where BT (n×k, row-major) is B transposed. */
export function gemmPacked(A: Float64Array, BT: Float64Array, C: Float64Array, m: number, k: number, n: number): void {
  C.fill(0);
  const m4 = m - (m % 4), n4 = n - (n % 4);
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = Math.min(k, k0 + KB);
    for (let i = 0; i < m4; i += 4) {
      const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
      const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
      for (let j = 0; j < n4; j += 4) {
        const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let p = k0; p < k1; p++) {
          const x0 = A[a0 + p]!, x1 = A[a1 + p]!, x2 = A[a2 + p]!, x3 = A[a3 + p]!;
          const y0 = BT[b0 + p]!, y1 = BT[b1 + p]!, y2 = BT[b2 + p]!, y3 = BT[b3 + p]!;
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        C[c0 + j]! += s00; C[c0 + j + 1]! += s01; C[c0 + j + 2]! += s02; C[c0 + j + 3]! += s03;
        C[c1 + j]! += s10; C[c1 + j + 1]! += s11; C[c1 + j + 2]! += s12; C[c1 + j + 3]! += s13;
        C[c2 + j]! += s20; C[c2 + j + 1]! += s21; C[c2 + j + 2]! += s22; C[c2 + j + 3]! += s23;
        C[c3 + j]! += s30; C[c3 + j + 1]! += s31; C[c3 + j + 2]! += s32; C[c3 + j + 3]! += s33;
      }
      // Columns left over (n not a multiple of 4).
      for (let j = n4; j < n; j++) {
        const b = j * k;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = k0; p < k1; p++) {
          const y = BT[b + p]!;
          s0 += A[a0 + p]! * y; s1 += A[a1 + p]! * y; s2 += A[a2 + p]! * y; s3 += A[a3 + p]! * y;
        }
        C[c0 + j]! += s0; C[c1 + j]! += s1; C[c2 + j]! += s2; C[c3 + j]! += s3;
      }
    }
    // Rows left over (m not a multiple of 4).
    for (let i = m4; i < m; i++) {
      const a = i * k, c = i * n;
      for (let j = 0; j < n; j++) {
        const b = j * k;
        let s = 0;
        for (let p = k0; p < k1; p++) s += A[a + p]! * BT[b + p]!;
        C[c + j]! += s;
      }
    }
  }
}

/** a @ b for shapes already checked by the op's shape rule (NumPy semantics). */
export function matmulKernel([a, b]: readonly NDArray[], _p: unknown, outShape: Shape, dtype: DType, into?: TypedArray): NDArray {
  const x = a!, y = b!;
  // 1-D operands as a row (a) or a column (b): views, no copy.
  const xs = x.ndim === 1 ? [1, x.shape[0]!] : x.shape, xst = x.ndim === 1 ? [0, x.strides[0]!] : x.strides;
  const ys = y.ndim === 1 ? [y.shape[0]!, 1] : y.shape, yst = y.ndim === 1 ? [y.strides[0]!, 0] : y.strides;
  const m = xs[xs.length - 2]!, k = xs[xs.length - 1]!, n = ys[ys.length - 1]!;
  const batch = broadcastShapes([xs.slice(0, -2), ys.slice(0, -2)], "matmul");
  let count = 1;
  for (const d of batch) count *= d;
  const out = into ?? uninitArray(dtype, count * m * n); // every path below writes every element
  if (out.length === 0) return new NDArray(out, outShape);
  // Batch strides of each operand, broadcast (0 where the operand has size 1 or lacks the axis).
  const bstr = (s: Shape, st: readonly number[]) => {
    const pad = batch.length - (s.length - 2);
    return batch.map((d, i) => (i < pad || s[i - pad] === 1 ? 0 : st[i - pad]!));
  };
  const xb = bstr(xs, xst), yb = bstr(ys, yst);
  const xr = xst[xst.length - 2]!, xc = xst[xst.length - 1]!, yr = yst[yst.length - 2]!, yc = yst[yst.length - 1]!;
  const bs = stridesOf(batch);
  /** Where batch element `t`'s matrices start in x and y (broadcast batch axes have stride 0). */
  const offsets = (t: number): [number, number] => {
    let ox = x.offset, oy = y.offset;
    for (let i = 0, rest = t; i < batch.length; i++) {
      const q = Math.floor(rest / bs[i]!);
      rest -= q * bs[i]!;
      ox += q * xb[i]!;
      oy += q * yb[i]!;
    }
    return [ox, oy];
  };
  const useWasm = k > 0 && choice !== "js" && (choice === "wasm" || m * k * n >= WASM_MIN_WORK);
  if (useWasm && dtype === "float32") {
    const session = sgemmSession(m, n, k);
    if (session !== null) {
      let lastX = -1, lastY = -1;
      for (let t = 0; t < count; t++) {
        const [ox, oy] = offsets(t);
        if (ox !== lastX) session.setA(x.data, ox, xr, xc), (lastX = ox);
        // B as its n columns: "rows" j of length k, stride yc between them, yr along each.
        if (oy !== lastY) session.setB(y.data, oy, yc, yr), (lastY = oy);
        session.run(out as Float32Array, t * m * n);
      }
      return new NDArray(out, outShape);
    }
  }
  if (useWasm) {
    const mp = (m + 3) & ~3, np = (n + 3) & ~3;
    const ws = workspace(mp, np, k);
    if (ws !== null) {
      let lastX = -1, lastY = -1;
      for (let t = 0; t < count; t++) {
        const [ox, oy] = offsets(t);
        if (ox !== lastX) packPanels(x.data, ox, xr, xc, m, k, mp, ws.A, 4), (lastX = ox);
        // B's column panels: B[p][j] is at oy + p·yr + j·yc, i.e. "rows" j of length k with stride yr.
        if (oy !== lastY) packPanels(y.data, oy, yc, yr, n, k, np, ws.B, 4), (lastY = oy);
        ws.C.fill(0);
        ws.run();
        const C = ws.C;
        for (let i = 0, o = t * m * n; i < m; i++, o += n) out.set(C.subarray(i * np, i * np + n), o);
      }
      return new NDArray(out, outShape);
    }
  }
  const A = new Float64Array(m * k), BT = new Float64Array(n * k), C = new Float64Array(m * n);
  let lastX = -1, lastY = -1;
  for (let t = 0; t < count; t++) {
    const [ox, oy] = offsets(t);
    // Repack only when the batch element changes (a broadcast operand is packed once).
    if (ox !== lastX) copyRows(x.data, ox, xr, xc, m, k, A), (lastX = ox);
    // Bᵀ row j is column j of B: rows of length k with stride yr, one per column (stride yc).
    if (oy !== lastY) copyRows(y.data, oy, yc, yr, n, k, BT), (lastY = oy);
    gemmPacked(A, BT, C, m, k, n);
    out.set(C, t * m * n);
  }
  return new NDArray(out, outShape);
}
