/**
 * Convolution and pooling on tensors, as PyTorch's `torch.nn.functional` takes them (an int or an [h, w] pair
 * for kernel, stride, padding, dilation). Each is a composite of the op table (src/ops/conv.ts: im2col/col2im
 * and matmul), so it needs no gradient rule of its own, and gradients of gradients come from the parts.
 *
 * | function | how |
 * |---|---|
 * | conv2d, conv1d | im2col, then one matmul per group (conv1d: conv2d with height 1) |
 * | maxPool2d | im2col with −∞ padding, amax over the window (ties split evenly) |
 * | avgPool2d | im2col, sum over the window / kh·kw (padding counted, PyTorch's default) |
 * | adaptiveAvgPool2d | avgPool2d when the sizes divide; else P_h @ x @ P_wᵀ with constant averaging matrices |
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import * as conv from "../ops/conv.js";
import { formatShape } from "../ops/shape.js";
import { fromTypedArray, graphAlgebra, type Tensor } from "../tensor/tensor.js";

/** An int (both axes) or a pair [h, w]. */
export type Size2 = number | readonly [number, number];

/** The pair of an int or a pair, checked. */
export function pair2(v: Size2, what: string, op: string, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new InputError(`${op}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Stride, padding, dilation (one number, or one per axis) and groups of {@link conv2d}. */
export interface Conv2dArgs {
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  groups?: number;
}

const CONV_KEYS = optionKeys<Conv2dArgs>({ stride: true, padding: true, dilation: true, groups: true });

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or
 * null → [N, O, Ho, Wo].
 *
 * @example
 * conv2d(randn([1, 3, 8, 8]), randn([4, 3, 3, 3]), null, { padding: 1 }).shape; // [1, 4, 8, 8]
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, args: Conv2dArgs = {}): Tensor {
  expectOptions("conv2d", args, CONV_KEYS);
  return conv.conv2d(graphAlgebra, x, weight, bias, {
    stride: pair2(args.stride ?? 1, "stride", "conv2d", 1),
    padding: pair2(args.padding ?? 0, "padding", "conv2d", 0),
    dilation: pair2(args.dilation ?? 1, "dilation", "conv2d", 1),
    groups: args.groups ?? 1,
  });
}

/** Stride, padding, dilation and groups of {@link conv1d}. */
export interface Conv1dArgs {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}

/** 1-D convolution: x [N, C, L], weight [O, C/groups, k], bias [O] or null → [N, O, Lo] (conv2d with height 1). */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, args: Conv1dArgs = {}): Tensor {
  expectOptions("conv1d", args, CONV_KEYS);
  if (x.ndim !== 3) throw new ShapeError(`conv1d: expected a 3-D input [N, C, L], got ${formatShape(x.shape)}`);
  if (weight.ndim !== 3) throw new ShapeError(`conv1d: expected a 3-D weight [out, in/groups, k], got ${formatShape(weight.shape)}`);
  const [n, c, l] = x.shape as [number, number, number];
  const [o, cg, k] = weight.shape as [number, number, number];
  const y = conv2d(x.reshape(n, c, 1, l), weight.reshape(o, cg, 1, k), bias, {
    stride: [1, args.stride ?? 1],
    padding: [0, args.padding ?? 0],
    dilation: [1, args.dilation ?? 1],
    groups: args.groups ?? 1,
  });
  return y.reshape(n, o, y.shape[3]!);
}

/** Stride and padding of the 2-D pooling functions (one number, or one per axis). */
export interface Pool2dArgs {
  /** Default: the kernel. */
  stride?: Size2;
  padding?: Size2;
}

/** The keys of maxPool2d's and avgPool2d's options (MaxPool2d's and AvgPool2d's too). */
export const MAX_POOL_KEYS = optionKeys<Pool2dArgs & { dilation?: Size2 }>({ stride: true, padding: true, dilation: true });
export const AVG_POOL_KEYS = optionKeys<Pool2dArgs>({ stride: true, padding: true });

/** Max over each kh×kw window: [N, C, H, W] → [N, C, Ho, Wo] (padding reads −∞). */
export function maxPool2d(x: Tensor, kernel: Size2, args: Pool2dArgs & { dilation?: Size2 } = {}): Tensor {
  expectOptions("maxPool2d", args, MAX_POOL_KEYS);
  const k = pair2(kernel, "kernel", "maxPool2d", 1);
  return conv.maxPool2d(graphAlgebra, x, k, {
    stride: pair2(args.stride ?? k, "stride", "maxPool2d", 1),
    padding: pair2(args.padding ?? 0, "padding", "maxPool2d", 0),
    dilation: pair2(args.dilation ?? 1, "dilation", "maxPool2d", 1),
  });
}

/** Mean over each kh×kw window: [N, C, H, W] → [N, C, Ho, Wo] (zero padding, counted in the mean). */
export function avgPool2d(x: Tensor, kernel: Size2, args: Pool2dArgs = {}): Tensor {
  expectOptions("avgPool2d", args, AVG_POOL_KEYS);
  const k = pair2(kernel, "kernel", "avgPool2d", 1);
  return conv.avgPool2d(graphAlgebra, x, k, {
    stride: pair2(args.stride ?? k, "stride", "avgPool2d", 1),
    padding: pair2(args.padding ?? 0, "padding", "avgPool2d", 0),
  });
}

/** [outSize, n] averaging matrix: row i averages [⌊i·n/out⌋, ⌈(i+1)·n/out⌉) (PyTorch's adaptive windows). */
function averagingMatrix(n: number, out: number, x: Tensor): Tensor {
  const data = new (x.dtype === "float64" ? Float64Array : Float32Array)(out * n);
  for (let i = 0; i < out; i++) {
    const lo = Math.floor((i * n) / out), hi = Math.ceil(((i + 1) * n) / out);
    for (let j = lo; j < hi; j++) data[i * n + j] = 1 / (hi - lo);
  }
  return fromTypedArray(data, [out, n]);
}

/** Average pooling to a fixed output size [oh, ow]: [N, C, H, W] → [N, C, oh, ow] (PyTorch's windows). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2): Tensor {
  const [oh, ow] = pair2(outputSize, "outputSize", "adaptiveAvgPool2d", 1);
  if (x.ndim !== 4) throw new ShapeError(`adaptiveAvgPool2d: expected a 4-D input [N, C, H, W], got ${formatShape(x.shape)}`);
  const h = x.shape[2]!, w = x.shape[3]!;
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x, [h / oh, w / ow]);
  return averagingMatrix(h, oh, x).matmul(x).matmul(averagingMatrix(w, ow, x).T);
}
