/**
 * im2col and col2im kernels (the convolution primitives of src/ops/conv.ts). Both walk the columns
 * [C, kh, kw, N, Ho, Wo] row by row (one row: the Wo outputs of one window offset in one image row), computing
 * the range of q whose input column lies inside the image once per row, so the inner loops are a strided copy
 * (or add) with no bounds test. The input may have any strides (a permuted view from the previous layer).
 */
import type { Col2imParams, DType, Im2colParams } from "../../ops/op.js";
import type { Shape } from "../../ops/shape.js";
import { arrayType, contiguous, NDArray, type TypedArray } from "../ndarray.js";

/** The q in [0, wo) with 0 ≤ q·s + j0 < w: [lo, hi). */
function validRange(j0: number, s: number, w: number, wo: number): [number, number] {
  const lo = j0 >= 0 ? 0 : Math.min(wo, Math.ceil(-j0 / s));
  const hi = j0 >= w ? lo : Math.max(lo, Math.min(wo, Math.ceil((w - j0) / s)));
  return [lo, hi];
}

/**
 * Visits every row of the columns: `row(o, src, lo, hi)` with `o` the row's offset in the columns, `src` the
 * offset in the image of q = 0 (it may lie outside; only q in [lo, hi) are inside); a row outside the image
 * (padding) is skipped.
 */
function forEachColumnRow(
  xShape: Shape, xStrides: readonly number[], xOffset: number, p: Im2colParams | Col2imParams, ho: number, wo: number,
  row: (o: number, src: number, lo: number, hi: number) => void,
): void {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [sn, sc, sh, sw] = xStrides as [number, number, number, number];
  const [kh, kw] = p.kernel, [th, tw] = p.stride, [ph, pw] = p.padding, [dh, dw] = p.dilation;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const j0 = j * dw - pw;
        const [lo, hi] = validRange(j0, tw, w, wo);
        for (let ni = 0; ni < n; ni++) {
          const base = xOffset + ni * sn + ci * sc;
          for (let pi = 0; pi < ho; pi++, o += wo) {
            const r = pi * th - ph + i * dh;
            if (r >= 0 && r < h) row(o, base + r * sh + j0 * sw, lo, hi);
          }
        }
      }
    }
  }
}

export function im2colKernel([a]: readonly NDArray[], p: Im2colParams, outShape: Shape, dtype: DType): NDArray {
  const x = a!;
  const ho = outShape[4]!, wo = outShape[5]!;
  const out = new (arrayType(dtype))(outShape.reduce((s, d) => s * d, 1));
  const d: TypedArray = x.data, pv = p.padValue, step = p.stride[1] * x.strides[3]!;
  if (pv !== 0) out.fill(pv);
  forEachColumnRow(x.shape, x.strides, x.offset, p, ho, wo, (o, src, lo, hi) => {
    for (let q = lo, s = src + lo * step; q < hi; q++, s += step) out[o + q] = d[s]!;
  });
  return new NDArray(out, outShape);
}

export function col2imKernel([a]: readonly NDArray[], p: Col2imParams, outShape: Shape, dtype: DType): NDArray {
  const cols = contiguous(a!);
  const out = new (arrayType(dtype))(outShape.reduce((s, d) => s * d, 1));
  const d: TypedArray = cols.data, off = cols.offset;
  const [, c, h, w] = outShape as [number, number, number, number];
  const strides = [c * h * w, h * w, w, 1];
  const ho = a!.shape[4]!, wo = a!.shape[5]!, step = p.stride[1];
  forEachColumnRow(outShape, strides, 0, p, ho, wo, (o, dst, lo, hi) => {
    for (let q = lo, t = dst + lo * step, s = off + o + lo; q < hi; q++, t += step, s++) out[t]! += d[s]!;
  });
  return new NDArray(out, outShape);
}
