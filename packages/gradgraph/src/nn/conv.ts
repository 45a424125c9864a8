/**
 * Convolution and pooling layers (PyTorch's `nn.Conv1d`, `nn.Conv2d`, `nn.MaxPool2d`, `nn.AvgPool2d`,
 * `nn.AdaptiveAvgPool2d`). Parameters are PyTorch's, by the same names and in the same layout — `weight`
 * [out, in/groups, ...kernel] and `bias` [out] — so a state dict moves between the two unchanged. The work is
 * done by ./conv-functional.ts (im2col + matmul).
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { adaptiveAvgPool2d, avgPool2d, AVG_POOL_KEYS, conv1d, conv2d, maxPool2d, MAX_POOL_KEYS, pair2, type Size2 } from "./conv-functional.js";
import { uniformFanIn } from "./init.js";
import { Parameter } from "./parameter.js";
import { Flatten, Linear, Module, ReLU, Sequential, type LayerOptions } from "./module.js";

/** Options of the convolution layers: stride, padding, dilation, groups, bias, initial weights, dtype. */
export interface ConvOptions extends Pick<LayerOptions, "generator" | "seed" | "dtype" | "bias"> {
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  groups?: number;
}

const CONV_LAYER_KEYS = optionKeys<ConvOptions>({ stride: true, padding: true, dilation: true, groups: true, generator: true, seed: true, dtype: true, bias: true });

const fmt = (v: readonly [number, number], oneD: boolean) => (oneD ? String(v[1]) : `(${v[0]}, ${v[1]})`);

/** What Conv1d and Conv2d share: the checked settings, the weights (PyTorch's init), the input check. */
abstract class ConvNd extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Size2, options: ConvOptions, private readonly oneD: boolean) {
    super();
    const name = oneD ? "Conv1d" : "Conv2d";
    expectOptions(name, options, CONV_LAYER_KEYS);
    for (const [what, n] of [["inChannels", inChannels], ["outChannels", outChannels]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`${name}: ${what} must be a positive integer, got ${n}`);
    }
    const one = (v: Size2, what: string, min: number): [number, number] =>
      oneD ? [what === "padding" ? 0 : 1, pair2(v, what, name, min)[1]] : pair2(v, what, name, min);
    this.kernelSize = one(kernelSize, "kernelSize", 1);
    this.stride = one(options.stride ?? 1, "stride", 1);
    this.padding = one(options.padding ?? 0, "padding", 0);
    this.dilation = one(options.dilation ?? 1, "dilation", 1);
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new InputError(`${name}: groups=${groups} must divide both inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    this.groups = groups;
    const g = generatorFor(options, new.target.name);
    const dtype = options.dtype ?? "float32";
    const kernel = oneD ? [this.kernelSize[1]] : this.kernelSize;
    // PyTorch's default: kaiming_uniform(a=√5) is U(±1/√fan_in), and the bias U(±1/√fan_in) too.
    const fanIn = (inChannels / groups) * kernel.reduce((a, b) => a * b, 1);
    this.weight = new Parameter(uniformFanIn([outChannels, inChannels / groups, ...kernel], { generator: g, dtype, fanIn }));
    this.weight.label = "weight";
    this.bias = this.registerParameter("bias", options.bias === false ? null : uniformFanIn([outChannels], { generator: g, dtype, fanIn }));
    if (this.bias !== null) this.bias.label = "bias";
  }

  /** Checks the input's rank and channels, naming what was expected. */
  protected check(x: Tensor): void {
    const rank = this.oneD ? 3 : 4;
    const layout = this.oneD ? "[N, C, L]" : "[N, C, H, W]";
    if (x.ndim !== rank) throw new ShapeError(`${this.describe()}: expected a ${rank}-D input ${layout}, got ${formatShape(x.shape)}`);
    if (x.shape[1] !== this.inChannels) {
      throw new ShapeError(`${this.describe()}: expected ${this.inChannels} input channels, got ${x.shape[1]} in input ${formatShape(x.shape)}`);
    }
  }

  override describe(): string {
    const d = this.oneD;
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernel_size=${fmt(this.kernelSize, d)}`, `stride=${fmt(this.stride, d)}`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${fmt(this.padding, d)}`);
    if (this.dilation.some((p) => p !== 1)) parts.push(`dilation=${fmt(this.dilation, d)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push("bias=False");
    return `${d ? "Conv1d" : "Conv2d"}(${parts.join(", ")})`;
  }
}

/**
 * 2-D convolution: [N, C_in, H, W] → [N, C_out, Ho, Wo].
 *
 * @example
 * const conv = new Conv2d(1, 6, 5, { seed: 0 });
 * conv.forward(zeros([2, 1, 28, 28])).shape; // [2, 6, 24, 24]
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, options: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, options, false);
  }
  forward(x: Tensor): Tensor {
    this.check(x);
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

/** 1-D convolution: [N, C_in, L] → [N, C_out, Lo]. Options take single ints. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvOptions & { stride?: number; padding?: number; dilation?: number } = {}) {
    super(inChannels, outChannels, kernelSize, options, true);
  }
  forward(x: Tensor): Tensor {
    this.check(x);
    return conv1d(x, this.weight, this.bias, { stride: this.stride[1], padding: this.padding[1], dilation: this.dilation[1], groups: this.groups });
  }
}

/** Max pooling over kh×kw windows (stride defaults to the kernel). */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Size2, readonly options: { stride?: Size2; padding?: Size2; dilation?: Size2 } = {}) {
    super();
    expectOptions("MaxPool2d", options, MAX_POOL_KEYS);
    pair2(kernelSize, "kernelSize", "MaxPool2d", 1);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
  override describe(): string {
    return `MaxPool2d(kernel_size=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)})`;
  }
}

/** Average pooling over kh×kw windows (stride defaults to the kernel; zero padding counted in the mean). */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Size2, readonly options: { stride?: Size2; padding?: Size2 } = {}) {
    super();
    expectOptions("AvgPool2d", options, AVG_POOL_KEYS);
    pair2(kernelSize, "kernelSize", "AvgPool2d", 1);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override describe(): string {
    return `AvgPool2d(kernel_size=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)})`;
  }
}

/** Average pooling to a fixed output size (PyTorch's adaptive windows). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Size2) {
    super();
    pair2(outputSize, "outputSize", "AdaptiveAvgPool2d", 1);
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override describe(): string {
    return `AdaptiveAvgPool2d(output_size=${JSON.stringify(this.outputSize)})`;
  }
}

/**
 * LeNet-5 for 1×28×28 digits, as PyTorch users write it: conv(6, 5)–ReLU–maxpool(2)–conv(16, 5)–ReLU–maxpool(2)–
 * flatten–fc120–ReLU–fc84–ReLU–fc10. Parameter names are the `nn.Sequential`'s (`0.weight`, `3.weight`, `7.weight`,
 * …), so a PyTorch `nn.Sequential` of the same layers loads its state dict.
 */
export function lenet5(options: Pick<LayerOptions, "generator" | "seed" | "dtype"> = {}): Sequential {
  expectOptions("lenet5", options, optionKeys<Pick<LayerOptions, "generator" | "seed" | "dtype">>({ generator: true, seed: true, dtype: true }));
  const g = generatorFor(options, "lenet5");
  const o = { generator: g, ...(options.dtype ? { dtype: options.dtype } : {}) };
  return new Sequential(
    new Conv2d(1, 6, 5, o), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5, o), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(256, 120, o), new ReLU(), new Linear(120, 84, o), new ReLU(), new Linear(84, 10, o),
  );
}
