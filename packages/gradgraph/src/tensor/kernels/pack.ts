/** Packing a strided matrix for the matmul kernels (in JavaScript): row-major, or in register-tile panels. */
import type { TypedArray } from "../ndarray.js";

/**
 * Packs a strided rows×cols matrix M (M[i][p] at off + i·rs + p·cs) into panels of R rows for the WebAssembly
 * kernels: panel q holds, for each p, M[qR..qR+R-1][p]; rows from `rows` to `padded` are zero.
 */
export function packPanels(src: TypedArray, off: number, rs: number, cs: number, rows: number, cols: number, padded: number, dst: Float64Array | Float32Array, R: number): void {
  const w = R * cols;
  if (cs <= rs || rows === 1) {
    // Along each source row (the contiguous direction when cs = 1).
    for (let i = 0; i < rows; i++) {
      const s = off + i * rs;
      let d = Math.floor(i / R) * w + (i % R);
      if (cs === 1) for (let p = 0; p < cols; p++, d += R) dst[d] = src[s + p]!;
      else for (let p = 0, q = s; p < cols; p++, d += R, q += cs) dst[d] = src[q]!;
    }
  } else {
    // Across rows for each p (the contiguous direction when rs = 1, e.g. B's columns of a row-major B).
    for (let i0 = 0; i0 < rows; i0 += R) {
      const n = Math.min(rows, i0 + R) - i0, base = (i0 / R) * w;
      for (let p = 0; p < cols; p++) {
        const s = off + p * cs + i0 * rs, d = base + R * p;
        for (let i = 0; i < n; i++) dst[d + i] = src[s + i * rs]!;
      }
    }
  }
  for (let i = rows; i < padded; i++) {
    let d = Math.floor(i / R) * w + (i % R);
    for (let p = 0; p < cols; p++, d += R) dst[d] = 0;
  }
}

/** Copies a rows×cols strided matrix (M[i][p] at off + i·rs + p·cs) into a row-major buffer. */
export function copyRows(src: TypedArray, off: number, rs: number, cs: number, rows: number, cols: number, dst: Float64Array | Float32Array): void {
  let o = 0;
  if (cs === 1) {
    for (let i = 0; i < rows; i++) {
      const base = off + i * rs;
      for (let j = 0; j < cols; j++) dst[o++] = src[base + j]!;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      let p = off + i * rs;
      for (let j = 0; j < cols; j++, p += cs) dst[o++] = src[p]!;
    }
  }
}
