/**
 * Normalisation layers: LayerNorm and BatchNorm1d/2d, as PyTorch defines them. Both are composites of table ops
 * (mean, sub, mul, sqrt, div): backprop runs through their parts, so they need no rule of their own, and
 * second derivatives come from the same graph.
 *
 * - **LayerNorm** normalises each sample over its last dimensions (`normalizedShape`):
 *   y = (x − E[x]) / √(Var[x] + ε) · γ + β, Var the biased variance.
 * - **BatchNorm** normalises each channel (axis 1) over the batch and any spatial axes. In training mode it uses
 *   the batch's statistics (biased variance) and updates the running estimates
 *   (running ← (1 − momentum)·running + momentum·batch, the variance unbiased: ·n/(n − 1); momentum `null` is
 *   the cumulative average); in evaluation mode it uses the running estimates.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { scalarArray } from "../tensor/ndarray.js";
import { host, recording } from "../tensor/recording.js";
import { noGrad, ones, Tensor, zeros } from "../tensor/tensor.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";

const NORM = { affine: true, eps: true, dtype: true } as const;
const NORM_KEYS = optionKeys<NormOptions>(NORM);

/**
 * Layer normalisation over the last `normalizedShape.length` axes of `x`: (x − mean)/√(var + eps), then times
 * `weight` and plus `bias` when given (both of shape `normalizedShape`). The variance is the biased one, as in
 * PyTorch.
 *
 * @example
 * layerNorm(tensor([[1, 2, 3]]), [3]).toNested(); // [[-1.2247, 0, 1.2247]] (to 4 places)
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || tail.join() !== normalizedShape.join()) {
    throw new ShapeError(`LayerNorm: input of shape ${formatShape(x.shape)} does not end in the normalized shape ${formatShape(normalizedShape)}`);
  }
  const axes = normalizedShape.map((_, i) => x.ndim - k + i);
  const centred = x.sub(x.mean(axes, true));
  const variance = centred.mul(centred).mean(axes, true);
  let y = centred.div(variance.add(eps).sqrt());
  if (weight !== null) y = y.mul(weight);
  if (bias !== null) y = y.add(bias);
  return y;
}

/** Options of the normalisation layers: learnable scale and shift, eps, dtype. */
export interface NormOptions {
  /** Learnable scale and shift (γ, β); default true (`elementwise_affine` / `affine` in PyTorch). */
  affine?: boolean;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Layer normalisation (PyTorch's `nn.LayerNorm`): normalises each sample over its last dimensions, with a
 * learnable scale `weight` (ones) and shift `bias` (zeros) of that shape unless `affine: false`.
 *
 * @example
 * const ln = new LayerNorm(4);
 * ln.forward(randn([2, 4])).mean(-1); // ≈ 0 for each row
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: NormOptions = {}) {
    super();
    expectOptions("LayerNorm", options, NORM_KEYS);
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new InputError(`LayerNorm: normalizedShape must be positive integers, got ${formatShape(shape)}`);
    }
    this.normalizedShape = shape;
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? "float32";
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(ones(shape, { dtype, label: "weight" })) : null;
    this.bias = affine ? new Parameter(zeros(shape, { dtype, label: "bias" })) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override describe(): string {
    return `LayerNorm(${formatShape(this.normalizedShape)}, eps=${this.eps}${this.weight === null ? ", affine=false" : ""})`;
  }
}

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}: those of every norm, and the running estimates'. */
export interface BatchNormOptions extends NormOptions {
  /** Weight of the new batch in the running estimates (default 0.1); null: the cumulative average. */
  momentum?: number | null;
  /** Keep running estimates and use them in evaluation mode (default true). */
  trackRunningStats?: boolean;
}

const BATCH_NORM_KEYS = optionKeys<BatchNormOptions>({ ...NORM, momentum: true, trackRunningStats: true });

/** The shared part of BatchNorm1d and BatchNorm2d; `ranks` are the input ranks a subclass accepts. */
abstract class BatchNorm extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  weight: Tensor | null;
  bias: Tensor | null;
  /** Buffers (PyTorch's names): running estimates of each channel's mean and (unbiased) variance, the batches seen. */
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;

  protected abstract readonly ranks: readonly number[];

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    expectOptions(new.target.name, options, BATCH_NORM_KEYS);
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new InputError(`${new.target.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const dtype = options.dtype ?? "float32";
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures], { dtype, label: "weight" })) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures], { dtype, label: "bias" })) : null;
    const track = options.trackRunningStats ?? true;
    // PyTorch registers them as None without running statistics: absent from the state dict.
    this.registerBuffer("running_mean", track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer("running_var", track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer("num_batches_tracked", track ? zeros([], { dtype: "float64" }) : null, { integer: true });
  }

  forward(x: Tensor): Tensor {
    const name = `${this.constructor.name}(${this.numFeatures})`;
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      const want = this.ranks.map((r) => `[${["N", this.numFeatures, ...(r === 3 ? ["L"] : r === 4 ? ["H", "W"] : [])].join(", ")}]`).join(" or ");
      throw new ShapeError(`${name}: expected input of shape ${want}, got ${formatShape(x.shape)}`);
    }
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const bshape = x.shape.map((n, i) => (i === 1 ? n : 1));
    const useBatch = this.training || this.running_mean === null;
    let mean: Tensor, variance: Tensor;
    if (useBatch) {
      const n = x.size / this.numFeatures;
      if (this.training && n <= 1) throw new ShapeError(`${name}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`);
      mean = x.mean(axes, true);
      const centred = x.sub(mean);
      variance = centred.mul(centred).mean(axes, true);
      if (this.training && this.running_mean !== null) this.updateRunning(mean, variance, n);
    } else {
      mean = this.running_mean!.reshape(bshape);
      variance = this.running_var!.reshape(bshape);
    }
    let y = x.sub(mean).div(variance.add(this.eps).sqrt());
    if (this.weight !== null) y = y.mul(this.weight.reshape(bshape));
    if (this.bias !== null) y = y.add(this.bias.reshape(bshape));
    return y;
  }

  /** running ← (1 − m)·running + m·batch (variance unbiased), m = momentum or 1/batches seen. */
  private updateRunning(mean: Tensor, variance: Tensor, n: number): void {
    noGrad(() => {
      // The count and the factors from it are a host step (a compiled step computes them at each call).
      recording.current?.tensor(this.num_batches_tracked!); // state the host step reads, not a constant of a trace
      const [count, keep, m, mv] = host("batchnorm_momentum", [this.num_batches_tracked!.value], ([c]) => {
        const k = c!.data[c!.offset]! + 1, m = this.momentum ?? 1 / k;
        return [scalarArray(k, "float64", false), ...[1 - m, m, (m * n) / (n - 1)].map((x) => scalarArray(x, "float64", true))];
      }).map((a) => new Tensor(a));
      this.num_batches_tracked!.assign(count!);
      const rm = this.running_mean!, rv = this.running_var!;
      rm.assign(rm.mul(keep!).add(mean.detach().reshape(this.numFeatures).mul(m!)));
      rv.assign(rv.mul(keep!).add(variance.detach().reshape(this.numFeatures).mul(mv!)));
    });
  }

  override describe(): string {
    const extras = [this.weight === null ? "affine=false" : "", this.running_mean === null ? "track_running_stats=false" : ""].filter(Boolean);
    return `${this.constructor.name}(${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}${extras.map((e) => `, ${e}`).join("")})`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs (PyTorch's `nn.BatchNorm1d`): each channel normalised with
 * the batch's statistics in training mode (updating the running estimates) and with the running estimates in
 * evaluation mode.
 *
 * @example
 * const bn = new BatchNorm1d(3);
 * bn.forward(randn([8, 3])); // training: batch statistics; bn.running_mean moves towards the batch mean
 * bn.eval().forward(randn([8, 3])); // evaluation: running statistics
 */
export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3];
}

/** Batch normalisation over [N, C, H, W] inputs (PyTorch's `nn.BatchNorm2d`); see {@link BatchNorm1d}. */
export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4];
}
