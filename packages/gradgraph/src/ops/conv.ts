/**
 * Convolution and pooling, lowered onto matmul (im2col). Two primitives, each the other's transpose:
 *
 * - `im2col` (PyTorch's `unfold`): x [N, C, H, W] → cols [C, kh, kw, N, Ho, Wo], where
 *   cols[c, i, j, n, p, q] = x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] (`padValue` outside the input);
 * - `col2im` (PyTorch's `fold`): the transpose, summing every column entry back into the pixel it came from.
 *
 * With the columns laid out [C·kh·kw, N·Ho·Wo] a convolution is one matrix product W [O, C·kh·kw] @ cols, and
 * its rules follow from im2col's and matmul's, each again a product: grad input = col2im(Wᵀ @ ḡ) (the transposed
 * convolution), grad weight = ḡ @ colsᵀ (the correlation of ḡ with x). Both primitives are linear (im2col is
 * affine when padValue ≠ 0: its tangent pads with 0), so the backward pass is made of differentiable ops and
 * double backward needs nothing more. Pooling is im2col followed by a reduction over the window axes (amax:
 * ties split evenly, as the table's amax; PyTorch's max_pool2d gives the whole gradient to the first maximum).
 */
import { ShapeError } from "../core/errors.js";
import { defineTensorOp, linearJvp, type ConvGeometry, type Target, type TensorAlgebra } from "./op.js";
import { formatShape, sameShape, type Shape } from "./shape.js";

/** Output size along one axis: ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1. */
export function convOutSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

const pair = (v: readonly [number, number]) => `(${v[0]}, ${v[1]})`;

/** Checks the geometry against an image shape [N, C, H, W]; returns [Ho, Wo]. */
export function convOutShape(op: string, x: Shape, g: ConvGeometry): [number, number] {
  if (x.length !== 4) throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W], got ${formatShape(x)}`);
  for (const [what, v, min] of [["kernel", g.kernel, 1], ["stride", g.stride, 1], ["padding", g.padding, 0], ["dilation", g.dilation, 1]] as const) {
    if (!v.every((n) => Number.isInteger(n) && n >= min)) throw new ShapeError(`${op}: ${what} must be integers ≥ ${min}, got ${pair(v)}`);
  }
  const out = [0, 1].map((a) => convOutSize(x[a + 2]!, g.kernel[a]!, g.stride[a]!, g.padding[a]!, g.dilation[a]!)) as [number, number];
  if (out[0] < 1 || out[1] < 1) {
    const span = [0, 1].map((a) => g.dilation[a]! * (g.kernel[a]! - 1) + 1);
    const padded = [0, 1].map((a) => x[a + 2]! + 2 * g.padding[a]!);
    throw new ShapeError(`${op}: kernel ${pair(g.kernel)} (spanning ${span.join("×")} with dilation ${pair(g.dilation)}) is larger than the padded input ${padded.join("×")} of shape ${formatShape(x)}`);
  }
  return out;
}

const geometryParams = (p: ConvGeometry, t: Target): string[] => {
  const tup = (v: readonly number[]) => (t === "py" ? `(${v.join(", ")})` : `[${v.join(", ")}]`);
  return [`kernel=${tup(p.kernel)}`, `stride=${tup(p.stride)}`, `padding=${tup(p.padding)}`, `dilation=${tup(p.dilation)}`];
};

const geometry = (p: ConvGeometry): ConvGeometry => ({ kernel: p.kernel, stride: p.stride, padding: p.padding, dilation: p.dilation });

export const im2col = defineTensorOp({
  name: "im2col", kind: "movement", arity: 1, nondiff: false,
  doc: "cols[c,i,j,n,p,q] = x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] (padValue outside): the windows of a convolution",
  shape: ([x], p) => {
    const [ho, wo] = convOutShape("im2col", x!, p);
    return [x![1]!, p.kernel[0], p.kernel[1], x![0]!, ho, wo];
  },
  // x̄ = col2im(ḡ): every window entry's gradient summed into the pixel it was read from
  vjp: (o, g, [x], _y, _needs, p) => [o.col2im(g, { ...geometry(p), shape: o.shape(x!) })],
  // dy = im2col(dx) with 0 outside (the padding value is a constant)
  jvp: (o, [dx], _xs, _y, p) => (dx ? o.im2col(dx, { ...p, padValue: 0 }) : null),
  // vmap: the batch axis B joins the images: [B, N, C, H, W] → [B·N, C, H, W] → columns [C, kh, kw, B·N, Ho, Wo] → B first
  batch: (o, [x], _b, p) => {
    const [b, n, ...chw] = o.shape(x!) as number[];
    const cols = o.im2col(o.reshape(x!, { shape: [b! * n!, ...chw] }), p);
    const [c, kh, kw, , ho, wo] = o.shape(cols) as number[];
    return o.permute(o.reshape(cols, { shape: [c!, kh!, kw!, b!, n!, ho!, wo!] }), { perm: [3, 0, 1, 2, 4, 5, 6] });
  },
  print: { kind: "call", name: { board: "im2col", py: "im2col", ts: "im2col" } },
  printParams: (p, t) => [...geometryParams(p, t), ...(p.padValue === 0 ? [] : [`pad_value=${p.padValue}`])],
});

export const col2im = defineTensorOp({
  name: "col2im", kind: "movement", arity: 1, nondiff: false,
  doc: "the transpose of im2col: zeros of [N,C,H,W], then x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] += cols[c,i,j,n,p,q]",
  shape: ([c], p) => {
    const [ho, wo] = convOutShape("col2im", p.shape, p);
    const want = [p.shape[1]!, p.kernel[0], p.kernel[1], p.shape[0]!, ho, wo];
    if (!sameShape(c!, want)) throw new ShapeError(`col2im: columns of shape ${formatShape(c!)} do not fold into ${formatShape(p.shape)} (expected ${formatShape(want)})`);
    return p.shape;
  },
  // c̄ = im2col(ḡ)
  vjp: (o, g, _xs, _y, _needs, p) => [o.im2col(g, { ...geometry(p), padValue: 0 })],
  // dy = col2im(dc)
  jvp: linearJvp("col2im"),
  // vmap: [B, C, kh, kw, N, Ho, Wo] → [C, kh, kw, B·N, Ho, Wo] → folded into [B·N, C, H, W] → [B, N, C, H, W]
  batch: (o, [c], _b, p) => {
    const [b, ch, kh, kw, n, ho, wo] = o.shape(c!) as number[];
    const merged = o.reshape(o.permute(c!, { perm: [1, 2, 3, 0, 4, 5, 6] }), { shape: [ch!, kh!, kw!, b! * n!, ho!, wo!] });
    const img = o.col2im(merged, { ...geometry(p), shape: [b! * n!, ...p.shape.slice(1)] });
    return o.reshape(img, { shape: [b!, ...p.shape] });
  },
  print: { kind: "call", name: { board: "col2im", py: "col2im", ts: "col2im" } },
  printParams: (p, t) => [...geometryParams(p, t), `shape=${t === "py" ? `(${p.shape.join(", ")})` : `[${p.shape.join(", ")}]`}`],
});

/** The convolution entries. */
export const convOps = { im2col, col2im } as const;

/** Options of a 2-D convolution (PyTorch's conv2d). */
export interface Conv2dOptions {
  stride?: readonly [number, number];
  padding?: readonly [number, number];
  dilation?: readonly [number, number];
  groups?: number;
}

/**
 * y = conv2d(x, w) + b (PyTorch's cross-correlation): x [N, C, H, W], w [O, C/groups, kh, kw], b [O] or null,
 * y [N, O, Ho, Wo]. One matmul per group: W [G, O/G, C/G·kh·kw] @ cols [G, C/G·kh·kw, N·Ho·Wo].
 */
export function conv2d<T>(o: TensorAlgebra<T>, x: T, w: T, b: T | null, opts: Conv2dOptions = {}): T {
  const xs = o.shape(x), ws = o.shape(w);
  const groups = opts.groups ?? 1;
  if (xs.length !== 4) throw new ShapeError(`conv2d: expected a 4-D input [N, C, H, W], got ${formatShape(xs)}`);
  if (ws.length !== 4) throw new ShapeError(`conv2d: expected a 4-D weight [out, in/groups, kh, kw], got ${formatShape(ws)}`);
  const [n, c] = xs as [number, number];
  const [out, cg, kh, kw] = ws as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || out % groups !== 0) {
    throw new ShapeError(`conv2d: groups=${groups} must divide both the input channels (${c}) and the output channels (${out})`);
  }
  if (cg * groups !== c) {
    throw new ShapeError(`conv2d: weight ${formatShape(ws)} expects ${cg * groups} input channels (${cg} per group × ${groups} groups), got ${c} in input ${formatShape(xs)}`);
  }
  if (b !== null && !sameShape(o.shape(b), [out])) throw new ShapeError(`conv2d: bias of shape ${formatShape(o.shape(b))}, expected [${out}]`);
  const p = { kernel: [kh, kw], stride: opts.stride ?? [1, 1], padding: opts.padding ?? [0, 0], dilation: opts.dilation ?? [1, 1], padValue: 0 } as const;
  const cols = o.im2col(x, p);
  const [, , , , ho, wo] = o.shape(cols) as number[];
  const k = cg * kh * kw, l = n * ho! * wo!;
  const y =
    groups === 1
      ? o.matmul(o.reshape(w, { shape: [out, k] }), o.reshape(cols, { shape: [k, l] }))
      : o.matmul(o.reshape(w, { shape: [groups, out / groups, k] }), o.reshape(cols, { shape: [groups, k, l] }));
  // [O, N, Ho, Wo] → [N, O, Ho, Wo] (a view)
  const yn = o.permute(o.reshape(y, { shape: [out, n, ho!, wo!] }), { perm: [1, 0, 2, 3] });
  return b === null ? yn : o.add(yn, o.reshape(b, { shape: [out, 1, 1] }));
}

/** Options of a 2-D pooling (PyTorch's max_pool2d / avg_pool2d; the stride defaults to the kernel). */
export interface Pool2dOptions {
  stride?: readonly [number, number];
  padding?: readonly [number, number];
  dilation?: readonly [number, number];
}

function pool2d<T>(o: TensorAlgebra<T>, x: T, kernel: readonly [number, number], opts: Pool2dOptions, kind: "max" | "avg"): T {
  const xs = o.shape(x);
  const op = kind === "max" ? "maxPool2d" : "avgPool2d";
  if (xs.length !== 4) throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W], got ${formatShape(xs)}`);
  const padding = opts.padding ?? [0, 0];
  if (padding.some((q, a) => q * 2 > kernel[a]!)) {
    throw new ShapeError(`${op}: padding ${pair(padding)} must be at most half the kernel ${pair(kernel)}`);
  }
  const p = { kernel, stride: opts.stride ?? kernel, padding, dilation: opts.dilation ?? [1, 1], padValue: kind === "max" ? -Infinity : 0 } as const;
  const [ho, wo] = convOutShape(op, xs, p);
  const [kh, kw] = kernel;
  if (p.stride[0] === kh && p.stride[1] === kw && padding[0] === 0 && padding[1] === 0 && p.dilation[0] === 1 && p.dilation[1] === 1) {
    // Windows that tile the image (LeNet's 2×2 pools): x[:, :, :ho·kh, :wo·kw] viewed as [N, C, ho, kh, wo, kw],
    // reduced over the kh and kw axes — no columns, and the gradient lands in x's layout directly.
    const [n, c, h, w] = xs as [number, number, number, number];
    const cut = h === ho * kh && w === wo * kw ? x : o.slice(x, { starts: [0, 0, 0, 0], ends: [n, c, ho * kh, wo * kw], steps: [1, 1, 1, 1] });
    const tiles = o.reshape(cut, { shape: [n, c, ho, kh, wo, kw] });
    const axes = { axes: [3, 5], keepdims: false };
    return kind === "max" ? o.amax(tiles, axes) : o.div(o.sum(tiles, axes), kh * kw);
  }
  const cols = o.im2col(x, p);
  const axes = { axes: [1, 2], keepdims: false };
  // [C, N, Ho, Wo] → [N, C, Ho, Wo]; the average counts the padding (PyTorch's count_include_pad=True)
  const r = kind === "max" ? o.amax(cols, axes) : o.div(o.sum(cols, axes), kernel[0] * kernel[1]);
  return o.permute(r, { perm: [1, 0, 2, 3] });
}

/** Max over each window: x [N, C, H, W] → [N, C, Ho, Wo] (−∞ padding). */
export function maxPool2d<T>(o: TensorAlgebra<T>, x: T, kernel: readonly [number, number], opts: Pool2dOptions = {}): T {
  return pool2d(o, x, kernel, opts, "max");
}

/** Mean over each window: x [N, C, H, W] → [N, C, Ho, Wo] (zero padding, counted). */
export function avgPool2d<T>(o: TensorAlgebra<T>, x: T, kernel: readonly [number, number], opts: Omit<Pool2dOptions, "dilation"> = {}): T {
  return pool2d(o, x, kernel, opts, "avg");
}
