/**
 * Activations and losses on tensors. Each is a primitive of the op table or a composite of primitives (so it
 * needs no gradient rule of its own: backprop runs through its parts), chosen per function and said here:
 *
 * | function | how | why |
 * |---|---|---|
 * | relu, tanh, sigmoid | table primitives | one kernel each; sigmoid's forward is written stably for large \|x\| |
 * | leakyRelu | composite: where(x > 0, x, α·x) | two cheap kernels; gradient α at 0 (as PyTorch) |
 * | gelu | composite: the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))) | the table has no erf; this is GPT-2's and PyTorch's `approximate="tanh"` GELU (within 1e-3 of the exact one) |
 * | softmax, logSoftmax | composites: e / Σe and (x − m) − log Σe, e = exp(x − m), m the max | stable at ±1000; as precise at logits of 10⁸ as at 1 |
 * | mseLoss, l1Loss | composites: mean((y − t)²), mean(\|y − t\|) | |
 * | bceWithLogits | composite: max(x, 0) − x·t + log(1 + e^(−\|x\|)) | stable (e^(−\|x\|) ≤ 1 never overflows); `max` splits its gradient at a tie, so the gradient at x = 0 is exactly σ(0) − t |
 * | crossEntropy | composite: −Σ w[y]·logSoftmax(x)[y] / Σ w[y] with gather (class weights, ignoreIndex, label smoothing) | stable: logSoftmax never takes log of 0 |
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOneOf, expectOptions, optionKeys } from "../core/expect.js";
import { formatShape } from "../ops/shape.js";
import type { Value } from "../scalar/value.js";
import type { Generator } from "../tensor/random.js";
import { rand } from "../tensor/random-tensors.js";
import { NDArray, toTypedArray } from "../tensor/ndarray.js";
import { host, recording } from "../tensor/recording.js";
import { BatchedTensor } from "../tensor/batched.js";
import { batchOf } from "../tensor/index-args.js";
import { isTensor, tensor, Tensor, where, type IndexLike, type TensorLike } from "../tensor/tensor.js";

/** max(x, 0). A table primitive. */
export const relu = (x: Tensor): Tensor => x.relu();
/** tanh(x). A table primitive. */
export const tanh = (x: Tensor): Tensor => x.tanh();
/** σ(x) = 1/(1 + e^−x). A table primitive (stable forward for large |x|). */
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();

/** x for x > 0, α·x otherwise (α = 0.01 by default). Composite: where(x > 0, x, α·x). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return where(x.gt(0), x, x.mul(slope));
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GELU, the tanh approximation: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Composite of table ops (the table has
 * no erf); equal to PyTorch's `gelu(x, approximate="tanh")`.
 */
export function gelu(x: Tensor): Tensor {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(GELU_C);
  return x.mul(0.5).mul(inner.tanh().add(1));
}

/** softmax along an axis (default the last). Composite: exp(x − m) / Σ exp(x − m), m the max: stable. */
export const softmax = (x: Tensor, axis = -1): Tensor => x.softmax(axis);
/** log softmax along an axis (default the last). Composite: (x − m) − log Σ exp(x − m), m the max. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => x.logSoftmax(axis);

/**
 * Dropout: zeroes each element with probability p (masks drawn from `generator`) and scales the rest by
 * 1/(1 − p), so the expectation is x; p = 1 gives zeros. The caller decides when it applies (training mode).
 */
export function dropout(x: Tensor, p: number, generator: Generator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new InputError(`dropout: p must be in [0, 1], got ${p}`);
  if (p === 0) return x;
  if (p === 1) return x.mul(0);
  const keep = rand(x.shape, { generator, dtype: x.dtype }).gt(p);
  return x.mul(keep).mul(1 / (1 - p));
}

/** The names of the activations (what `MLP`, the scalar MLP, the CLI's `--act` and the explorer accept). */
export type ActivationName = "relu" | "tanh" | "sigmoid" | "gelu" | "leaky_relu" | "identity";

/** What the library knows about an activation; every use of an activation name reads this one entry. */
export interface ActivationSpec {
  /** The function on tensors. */
  readonly tensor: (x: Tensor) => Tensor;
  /** The same on scalar Values (the lecture's 1-D MLP in `nn/scalar.ts`). */
  readonly scalar: (v: Value) => Value;
  /** PyTorch's `calculate_gain` for it (`slope`: leaky ReLU's negative slope). */
  readonly gain: (slope: number) => number;
  /** Its layers start from Kaiming (relu-like) rather than Xavier initialisation. */
  readonly reluLike: boolean;
}

/**
 * The activations by name: one typed table, so tsc rejects a name without an entry (and `MLP`'s module table,
 * keyed by the same names, a name without a module) instead of an unknown name turning into the identity.
 */
export const ACTIVATIONS: { readonly [K in ActivationName]: ActivationSpec } = {
  relu: { tensor: relu, scalar: (v) => v.relu(), gain: () => Math.SQRT2, reluLike: true },
  tanh: { tensor: tanh, scalar: (v) => v.tanh(), gain: () => 5 / 3, reluLike: false },
  sigmoid: { tensor: sigmoid, scalar: (v) => v.sigmoid(), gain: () => 1, reluLike: false },
  gelu: {
    tensor: gelu,
    scalar: (v) => v.mul(0.5).mul(v.add(v.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1)),
    gain: () => Math.SQRT2,
    reluLike: true,
  },
  leaky_relu: {
    tensor: (x) => leakyRelu(x),
    scalar: (v) => (v.data > 0 ? v : v.mul(0.01)),
    gain: (slope) => Math.sqrt(2 / (1 + slope * slope)),
    reluLike: true,
  },
  identity: { tensor: (x) => x, scalar: (v) => v, gain: () => 1, reluLike: false },
};

/** The activation called `name` (`leakyRelu` is `leaky_relu`), or an error listing them. */
export function activationSpec(name: string): ActivationSpec & { readonly name: ActivationName } {
  const key = name === "leakyRelu" ? "leaky_relu" : name;
  if (!Object.hasOwn(ACTIVATIONS, key)) throw new InputError(`activation ${name}: expected one of ${Object.keys(ACTIVATIONS).join(", ")}`);
  return { ...ACTIVATIONS[key as ActivationName], name: key as ActivationName };
}

/** The activation function called `name`, or an error listing them. */
export function activation(name: string): (x: Tensor) => Tensor {
  return activationSpec(name).tensor;
}

// ---------------------------------------------------------------------------------------------------------
// Losses: all return the mean over the batch (a single-element tensor), like PyTorch's reduction="mean".
// ---------------------------------------------------------------------------------------------------------

/** How a loss combines the per-element losses. */
export type Reduction = "mean" | "sum" | "none";

/** The accepted reductions, in PyTorch's spelling. */
const REDUCTIONS: readonly Reduction[] = ["mean", "sum", "none"];

/** `x` reduced as `reduction` says (each loss checks it first: an unknown one is an InputError, never "none"). */
function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? x.mean() : reduction === "sum" ? x.sum() : x;
}

function sameShapeAs(pred: Tensor, target: TensorLike, what: string): Tensor {
  const t = Tensor.from(target);
  if (t.size !== 1 && t.shape.join() !== pred.shape.join()) {
    // A [n] target for [n, 1] predictions is the common case of a single output: accept it.
    if (pred.ndim === 2 && pred.shape[1] === 1 && t.ndim === 1 && t.shape[0] === pred.shape[0]) return t.reshape(-1, 1);
    throw new ShapeError(`${what}: target of shape ${formatShape(t.shape)} does not match predictions of shape ${formatShape(pred.shape)}`);
  }
  return t;
}

/**
 * Mean squared error: mean((pred − target)²).
 *
 * @example
 * mseLoss(tensor([1, 2]), tensor([1, 4])).item(); // 2
 */
export function mseLoss(pred: Tensor, target: TensorLike, reduction: Reduction = "mean"): Tensor {
  expectOneOf("mseLoss", "reduction", reduction, REDUCTIONS);
  return reduce(pred.sub(sameShapeAs(pred, target, "mseLoss")).pow(2), reduction);
}

/** Mean absolute error: mean(|pred − target|). */
export function l1Loss(pred: Tensor, target: TensorLike, reduction: Reduction = "mean"): Tensor {
  expectOneOf("l1Loss", "reduction", reduction, REDUCTIONS);
  return reduce(pred.sub(sameShapeAs(pred, target, "l1Loss")).abs(), reduction);
}

/**
 * Binary cross-entropy on logits x with targets t in [0, 1]: −[t·log σ(x) + (1 − t)·log(1 − σ(x))], computed
 * stably as max(x, 0) − x·t + log(1 + e^(−|x|)) (no overflow at ±1000, no log of 0).
 */
export function bceWithLogits(logits: Tensor, target: TensorLike, reduction: Reduction = "mean"): Tensor {
  expectOneOf("bceWithLogits", "reduction", reduction, REDUCTIONS);
  const t = sameShapeAs(logits, target, "bceWithLogits");
  const x = logits;
  return reduce(x.maximum(0).sub(x.mul(t)).add(x.abs().neg().exp().add(1).log()), reduction);
}

/** Options of {@link crossEntropy} (PyTorch's `F.cross_entropy` keywords). */
export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** A weight per class ([classes]): each row's loss is scaled by its label's weight. */
  weight?: Tensor | readonly number[];
  /** Rows with this label add nothing and do not count in the mean (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target is (1 − ε)·one-hot + ε/classes (default 0). */
  labelSmoothing?: number;
}

const CROSS_ENTROPY_KEYS = optionKeys<CrossEntropyOptions>({ reduction: true, weight: true, ignoreIndex: true, labelSmoothing: true });

/**
 * Cross-entropy from logits [batch, classes] and integer class labels [batch], PyTorch's `F.cross_entropy`:
 * with log p = logSoftmax(x), w the class weights (ones by default), ε the label smoothing and C the classes,
 * row i's loss is
 *
 *   ℓᵢ = −(1 − ε)·w[yᵢ]·log p[i, yᵢ] − (ε/C)·Σ_c w[c]·log p[i, c]
 *
 * (0 for a row whose label is `ignoreIndex`); "mean" divides Σᵢ ℓᵢ by Σᵢ w[yᵢ] over the rows not ignored
 * (their count without weights), as PyTorch does, so a batch of only ignored rows gives NaN (0/0), with gradient 0 (as PyTorch's). Stable:
 * log softmax subtracts the row's max and never takes the log of 0.
 *
 * @example
 * crossEntropy(tensor([[2, 0], [0, 2]]), [0, 1]).item(); // log(1 + e^-2) ≈ 0.1269
 * crossEntropy(logits, labels, { labelSmoothing: 0.1, ignoreIndex: -1 });
 */
export function crossEntropy(logits: Tensor, labels: Tensor | IndexLike, options: Reduction | CrossEntropyOptions = "mean"): Tensor {
  const o: CrossEntropyOptions = typeof options === "string" ? { reduction: options } : options;
  expectOptions("crossEntropy", o, CROSS_ENTROPY_KEYS);
  expectOneOf("crossEntropy", "reduction", o.reduction ?? "mean", REDUCTIONS);
  if (logits.ndim !== 2) {
    throw new ShapeError(`crossEntropy: expected logits of shape [batch, classes], got ${formatShape(logits.shape)}`);
  }
  const [n, k] = logits.shape as [number, number];
  const eps = o.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new InputError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const weight = o.weight === undefined ? null : o.weight instanceof Tensor ? o.weight.cast(logits.dtype) : tensor([...o.weight], { dtype: logits.dtype });
  if (weight !== null && (weight.ndim !== 1 || weight.shape[0] !== k)) {
    throw new ShapeError(`crossEntropy: expected a class weight of shape [${k}], got ${formatShape(weight.shape)}`);
  }
  const { index, kept } = labelIndex(labels, n, k, o.ignoreIndex ?? -100);
  const logp = logits.logSoftmax(1);
  const keep = kept.cast(logits.dtype);
  // w[yᵢ] for the rows kept, 0 for the rows ignored (whose index was set to 0 for gather).
  const wy = weight === null ? keep : weight.gather(0, index.reshape(n)).mul(keep);
  let rows = logp.gather(1, index).reshape(n).mul(wy).mul(1 - eps);
  if (eps > 0) rows = rows.add((weight === null ? logp : logp.mul(weight)).sum(1).mul(keep).mul(eps / k));
  const loss = rows.neg();
  const reduction = o.reduction ?? "mean";
  if (reduction !== "mean") return reduce(loss, reduction);
  // Only ignored rows: the loss is 0/0 = NaN but the gradient 0, as PyTorch's (a plain division's would be NaN).
  const total = wy.sum(), some = total.gt(0);
  return where(some, loss.sum().div(where(some, total, 1)), NaN);
}

/**
 * Labels as an [n, 1] index tensor (gather wants the logits' rank), checked: integers in [0, classes) or the
 * ignored label; `kept` is 1 for a row that counts, 0 for an ignored one (whose index is set to 0). Labels in a
 * tensor are data: a compiled step turns each call's labels into indices again (a host step).
 */
function labelIndex(labels: Tensor | IndexLike, n: number, k: number, ignore: number): { index: Tensor; kept: Tensor } {
  // `examples` sets of n labels: one, or inside vmap a batch of labels that differ per example (one set each)
  const fromFlat = (flat: ArrayLike<number>, examples = 1): NDArray[] => {
    if (flat.length !== n * examples) throw new ShapeError(`crossEntropy: ${flat.length / examples} labels for ${n} rows of logits`);
    const out = new Float64Array(n * examples);
    const kept = new Float64Array(n * examples);
    for (let i = 0; i < n * examples; i++) {
      const v = flat[i]!;
      if (v === ignore) continue;
      if (!Number.isInteger(v) || v < 0 || v >= k) {
        const where = examples === 1 ? `row ${i}` : `row ${i % n} of example ${Math.floor(i / n)}`;
        throw new InputError(`crossEntropy: label ${v} at ${where} is not a class index in [0, ${k})${ignore === -100 ? "" : ` or the ignored ${ignore}`}`);
      }
      out[i] = v;
      kept[i] = 1;
    }
    const lead = examples === 1 ? [] : [examples];
    return [new NDArray(out, [...lead, n, 1]), new NDArray(kept, [...lead, n])];
  };
  let made: NDArray[];
  // A tensor of another copy of the package reads alike (its elements through toArray).
  if (labels instanceof Tensor) {
    const batch = batchOf(labels, "crossEntropy");
    recording.current?.tensor(batch?.inner ?? labels); // labels made before a trace are state (read at each call), not a constant
    made = host("labels", [labels.value], ([l]) => fromFlat(toTypedArray(l!), batch === null ? 1 : batch.inner.shape[0]!));
    if (batch !== null) return { index: new BatchedTensor(new Tensor(made[0]!), batch.level), kept: new BatchedTensor(new Tensor(made[1]!), batch.level) };
  }
  else if (isTensor(labels)) made = fromFlat(labels.toArray());
  else if (labels instanceof Int32Array) made = fromFlat(labels);
  else made = fromFlat(Array.isArray(labels) ? ((labels as unknown[]).flat(Infinity as 1) as number[]) : [labels as number]);
  return { index: new Tensor(made[0]!), kept: new Tensor(made[1]!) };
}

/** The losses by name (the CLI and saved configs refer to them so). */
export const LOSSES = {
  /** Mean squared error: {@link mseLoss}. */
  mse: mseLoss,
  /** Mean absolute error: {@link l1Loss}. */
  l1: l1Loss,
  /** Binary cross-entropy on logits: {@link bceWithLogits}. */
  bce: bceWithLogits,
  /** Cross-entropy of logits against class indices: {@link crossEntropy}. */
  cross_entropy: crossEntropy,
} as const;
/** A loss's name: a key of {@link LOSSES}. */
export type LossName = keyof typeof LOSSES;
