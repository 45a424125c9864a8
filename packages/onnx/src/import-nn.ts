/**
 * The neural-network ops of `importOnnx`: convolution and pooling windows (1-D and 2-D, any padding, auto_pad),
 * normalisation (BatchNormalization in inference, LayerNormalization) and the activations beyond the elementwise
 * primitives (Gelu by erf, Elu, Selu, HardSigmoid, LeakyRelu), on gradgraph's `nn` functions.
 */
import { formatShape, full, nn, type Tensor } from "gradgraph";
import { Attrs, axisOf, fail, floatIn, type NodeInfo, type OpCompiler, padWith, type Val } from "./import-node.js";

/** Conv and pool windows: kernel, strides, dilations and begin/end pads per spatial axis, from the attributes. */
interface Window {
  autoPad: string;
  kernel: number[] | undefined;
  strides: number[] | undefined;
  dilations: number[] | undefined;
  pads: number[] | undefined;
}

function windowAttrs(node: NodeInfo, a: Attrs): Window {
  const autoPad = a.string("auto_pad", "NOTSET");
  if (!["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].includes(autoPad)) throw fail(node, `attribute auto_pad=${autoPad} is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)`);
  const w: Window = { autoPad, kernel: a.ints("kernel_shape"), strides: a.ints("strides"), dilations: a.ints("dilations"), pads: a.ints("pads") };
  for (const [name, v] of [["kernel_shape", w.kernel], ["strides", w.strides], ["dilations", w.dilations]] as const) {
    if (v !== undefined && (v.length < 1 || v.length > 2 || v.some((n) => !Number.isInteger(n) || n < 1))) {
      throw fail(node, `attribute ${name}=${JSON.stringify(v)}: expected 1 or 2 positive integers (1-D or 2-D windows)`);
    }
  }
  if (w.pads !== undefined && w.pads.some((n) => !Number.isInteger(n) || n < 0)) throw fail(node, `attribute pads=${JSON.stringify(w.pads)}: expected non-negative integers`);
  return w;
}

/**
 * The window settings for spatial size `spatial` (from the input at run time): per axis kernel, stride, dilation,
 * and [begin, end] pads (auto_pad resolved as ONNX defines it).
 */
function resolveWindow(node: NodeInfo, w: Window, spatial: readonly number[], kernel: readonly number[]) {
  const n = spatial.length;
  const per = (v: number[] | undefined, name: string, dflt: number): number[] => {
    if (v === undefined) return Array<number>(n).fill(dflt);
    if (v.length !== n) throw fail(node, `attribute ${name}=${JSON.stringify(v)}: expected ${n} values for ${n} spatial axes`);
    return v;
  };
  const strides = per(w.strides, "strides", 1), dilations = per(w.dilations, "dilations", 1);
  if (w.kernel !== undefined && w.kernel.join() !== kernel.join()) throw fail(node, `attribute kernel_shape=${JSON.stringify(w.kernel)} does not match the weight's kernel ${JSON.stringify(kernel)}`);
  let pads: [number, number][];
  if (w.autoPad === "NOTSET") {
    const p = w.pads ?? Array<number>(2 * n).fill(0);
    if (p.length !== 2 * n) throw fail(node, `attribute pads=${JSON.stringify(p)}: expected ${2 * n} values (begin and end of ${n} spatial axes)`);
    pads = spatial.map((_, i) => [p[i]!, p[i + n]!]);
  } else if (w.autoPad === "VALID") {
    pads = spatial.map(() => [0, 0]);
  } else {
    pads = spatial.map((size, i) => {
      const total = Math.max(0, (Math.ceil(size / strides[i]!) - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
      const small = Math.floor(total / 2);
      return w.autoPad === "SAME_UPPER" ? [small, total - small] : [total - small, small];
    });
  }
  return { strides, dilations, pads };
}

/** `x` padded explicitly on its spatial axes (after N and C) with `value`. */
function padSpatial(node: NodeInfo, x: Tensor, pads: readonly (readonly [number, number])[], value: number): Tensor {
  if (pads.every(([b, e]) => b === 0 && e === 0)) return x;
  return padWith(node, x, [...pads].reverse().flatMap(([b, e]) => [b, e]), value);
}

/** A 1-D window op runs as 2-D with height 1: [N, C, L] → [N, C, 1, L], and the pads/strides gain a leading 1. */
const as2d = (x: Tensor) => (x.ndim === 3 ? x.reshape(x.shape[0]!, x.shape[1]!, 1, x.shape[2]!) : x);

const from2d = (y: Tensor, rank: number) => (rank === 3 ? y.reshape(y.shape[0]!, y.shape[1]!, y.shape[3]!) : y);

const pair = (v: readonly number[], lead: number): [number, number] => (v.length === 1 ? [lead, v[0]!] : [v[0]!, v[1]!]);

function spatialInput(node: NodeInfo, x: Val, what: string): void {
  if (x.t.ndim !== 3 && x.t.ndim !== 4) throw fail(node, `input ${what}: expected a 3-D [N, C, L] or 4-D [N, C, H, W] tensor, got shape ${formatShape(x.t.shape)}`);
}

export const Conv: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
  const w = windowAttrs(node, a);
  const group = a.int("group", 1);
  if (!Number.isInteger(group) || group < 1) throw fail(node, `attribute group=${group}: expected a positive integer`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X"), weight = floatIn(node, ins, 1, "W"), bias = ins[2];
    spatialInput(node, x, "X");
    if (weight.t.ndim !== x.t.ndim) throw fail(node, `input W: expected a ${x.t.ndim}-D weight for a ${x.t.ndim}-D input, got shape ${formatShape(weight.t.shape)}`);
    const spatial = x.t.shape.slice(2), kernel = weight.t.shape.slice(2);
    const { strides, dilations, pads } = resolveWindow(node, w, spatial, kernel);
    const symmetric = pads.every(([b, e]) => b === e);
    const xp = symmetric ? x.t : padSpatial(node, x.t, pads, 0);
    const padding = symmetric ? pads.map(([b]) => b) : pads.map(() => 0);
    const y = nn.conv2d(as2d(xp), as2d(weight.t), bias === undefined ? null : bias.t, {
      stride: pair(strides, 1), dilation: pair(dilations, 1), padding: pair(padding, 0), groups: group,
    });
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

/** The output size of a pooling window; with ceil_mode, an error when it differs from the floor (not supported). */
function checkCeil(node: NodeInfo, ceil: boolean, spatial: readonly number[], k: readonly number[], r: ReturnType<typeof resolveWindow>): void {
  if (!ceil) return;
  spatial.forEach((n, i) => {
    const span = n + r.pads[i]![0] + r.pads[i]![1] - ((k[i]! - 1) * r.dilations[i]! + 1);
    if (span % r.strides[i]! !== 0) throw fail(node, `attribute ceil_mode=1 changes the output size here (axis ${i + 2} of size ${n}); only ceil_mode=0 is supported`);
  });
}

/** A pooling node's input X (4-D, float) and its window resolved against X's spatial size (pads, strides, dilations). */
function poolInput(node: NodeInfo, ins: readonly (Val | undefined)[], w: Window, kernel: readonly number[], ceil: boolean): { x: Val; r: ReturnType<typeof resolveWindow> } {
  const x = floatIn(node, ins, 0, "X");
  spatialInput(node, x, "X");
  const spatial = x.t.shape.slice(2);
  if (kernel.length !== spatial.length) throw fail(node, `attribute kernel_shape=${JSON.stringify(kernel)}: expected ${spatial.length} values for input shape ${formatShape(x.t.shape)}`);
  const r = resolveWindow(node, w, spatial, kernel);
  checkCeil(node, ceil, spatial, kernel, r);
  return { x, r };
}

export const MaxPool: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]);
  const w = windowAttrs(node, a);
  const ceil = a.choice("ceil_mode", 0, [0, 1]) === 1;
  a.choice("storage_order", 0, [0]);
  if (w.kernel === undefined) throw fail(node, "attribute kernel_shape is required, got none");
  const kernel = w.kernel;
  if (node.outputs.length > 1 && node.outputs[1] !== "") throw fail(node, "output Indices is not supported (only Y)");
  return (ins) => {
    const { x, r } = poolInput(node, ins, w, kernel, ceil);
    const y = nn.maxPool2d(as2d(padSpatial(node, x.t, r.pads, -Infinity)), pair(kernel, 1), { stride: pair(r.strides, 1), dilation: pair(r.dilations, 1) });
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

export const AveragePool: OpCompiler = (node) => {
  const a = new Attrs(node, ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"]);
  const w = windowAttrs(node, a);
  const ceil = a.choice("ceil_mode", 0, [0, 1]) === 1;
  const countPad = a.choice("count_include_pad", 0, [0, 1]) === 1;
  if (w.kernel === undefined) throw fail(node, "attribute kernel_shape is required, got none");
  if (w.dilations !== undefined && w.dilations.some((d) => d !== 1)) throw fail(node, `attribute dilations=${JSON.stringify(w.dilations)} is not supported (only 1)`);
  const kernel = w.kernel;
  return (ins) => {
    const { x, r } = poolInput(node, ins, w, kernel, ceil);
    const pool = (t: Tensor) => nn.avgPool2d(as2d(padSpatial(node, t, r.pads, 0)), pair(kernel, 1), { stride: pair(r.strides, 1) });
    let y = pool(x.t);
    // Without count_include_pad, each window's mean is over its positions inside the input: divide by the share
    // of the window that lies inside (the mean of a window of ones, padded with zeros).
    if (!countPad && r.pads.some(([b, e]) => b > 0 || e > 0)) y = y.div(pool(full([1, 1, ...x.t.shape.slice(2)], 1, { dtype: x.t.dtype })));
    return [{ t: from2d(y, x.t.ndim), kind: x.kind }];
  };
};

export const globalPool = (f: (t: Tensor, axes: number[]) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    if (x.t.ndim < 3) throw fail(node, `input X: expected [N, C, spatial...], got shape ${formatShape(x.t.shape)}`);
    return [{ t: f(x.t, x.t.shape.slice(2).map((_, i) => i + 2)), kind: x.kind }];
  };
};

export const BatchNormalization: OpCompiler = (node) => {
  const a = new Attrs(node, ["epsilon", "momentum", "training_mode", "spatial"]);
  const eps = a.float("epsilon", 1e-5);
  a.choice("training_mode", 0, [0]);
  a.choice("spatial", 1, [1]);
  if (node.outputs.length > 1 && node.outputs.slice(1).some((o) => o !== "")) throw fail(node, "outputs running_mean and running_var are not supported (inference only)");
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    if (x.t.ndim < 2) throw fail(node, `input X: expected [N, C, ...], got shape ${formatShape(x.t.shape)}`);
    const c = x.t.shape[1]!;
    const per = (i: number, what: string) => {
      const v = floatIn(node, ins, i, what).t;
      if (v.size !== c) throw fail(node, `input ${what}: expected ${c} values (one per channel), got shape ${formatShape(v.shape)}`);
      return v.reshape([c, ...x.t.shape.slice(2).map(() => 1)]);
    };
    const scale = per(1, "scale"), bias = per(2, "B"), mean = per(3, "input_mean"), variance = per(4, "input_var");
    return [{ t: x.t.sub(mean).div(variance.add(eps).sqrt()).mul(scale).add(bias), kind: x.kind }];
  };
};

export const LeakyRelu: OpCompiler = (node) => {
  const a = new Attrs(node, ["alpha"]);
  const alpha = a.float("alpha", 0.01);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: nn.leakyRelu(x.t, alpha), kind: x.kind }];
  };
};

/**
 * erf(x), as a composite: Abramowitz and Stegun 7.1.26, |error| ≤ 1.5e-7 (below float32's rounding of values near
 * 1; gradgraph has no erf primitive). Odd: erf(−x) = −erf(x).
 */
export function erf(x: Tensor): Tensor {
  const a = x.abs();
  const t = a.mul(0.3275911).add(1).pow(-1);
  const poly = t.mul(t.mul(t.mul(t.mul(t.mul(1.061405429).add(-1.453152027)).add(1.421413741)).add(-0.284496736)).add(0.254829592));
  return x.sign().mul(poly.mul(a.square().neg().exp()).neg().add(1));
}

/** x·Φ(x) with Φ by erf (ONNX's default), or the tanh approximation. */
export const Gelu: OpCompiler = (node) => {
  const a = new Attrs(node, ["approximate"]);
  const approximate = a.string("approximate", "none");
  if (approximate !== "none" && approximate !== "tanh") throw fail(node, `attribute approximate=${approximate} is not supported (supported: none, tanh)`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: approximate === "tanh" ? nn.gelu(x.t) : x.t.mul(erf(x.t.mul(Math.SQRT1_2)).add(1)).mul(0.5), kind: x.kind }];
  };
};

/** An activation with float attributes (each with its ONNX default). */
export const activation = (defaults: Record<string, number>, f: (x: Tensor, a: Record<string, number>) => Tensor): OpCompiler => (node) => {
  const a = new Attrs(node, Object.keys(defaults));
  const values = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, a.float(k, v)]));
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: f(x.t, values), kind: x.kind }];
  };
};

/** y = (x − mean) / √(var + ε) · scale + B over the axes from `axis` on (opset 17). */
export const LayerNormalization: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis", "epsilon", "stash_type"]);
  const axis = a.int("axis", -1), eps = a.float("epsilon", 1e-5);
  a.choice("stash_type", 1, [1]);
  if (node.outputs.slice(1).some((o) => o !== "")) throw fail(node, "outputs Mean and InvStdDev are not supported (only Y)");
  return (ins) => {
    const x = floatIn(node, ins, 0, "X"), scale = floatIn(node, ins, 1, "Scale"), bias = ins[2];
    const ax = axisOf(node, axis, x.t.ndim);
    const axes = x.t.shape.slice(ax).map((_, i) => ax + i);
    const centred = x.t.sub(x.t.mean(axes, true));
    const y = centred.div(centred.square().mean(axes, true).add(eps).sqrt()).mul(scale.t);
    return [{ t: bias === undefined ? y : y.add(bias.t), kind: x.kind }];
  };
};
