/**
 * Initialisers: the starting weights of a layer, drawn from the seeded, platform-independent {@link Generator},
 * so the same seed gives the same network everywhere.
 *
 * - **Kaiming/He** (He et al. 2015) keeps the variance of activations constant through ReLU layers:
 *   std = gain / √fan_in with gain √2 for ReLU.
 * - **Xavier/Glorot** (Glorot & Bengio 2010) balances forward and backward variance for tanh/sigmoid layers:
 *   std = gain · √(2 / (fan_in + fan_out)).
 * - **uniform** is PyTorch's default for `nn.Linear`: U(±1/√fan_in).
 *
 * Each comes as `…Uniform` (U(±√3·std), the same variance) and `…Normal` (N(0, std²)).
 */
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { rand, randn } from "../tensor/random-tensors.js";
import { zeros, type Tensor } from "../tensor/tensor.js";
import { ACTIVATIONS, type ActivationName } from "./functional.js";

/** The named initialisers. */
export type InitName = "kaiming-uniform" | "kaiming-normal" | "xavier-uniform" | "xavier-normal" | "uniform" | "zeros";
/** The names of the weight initialisers (see {@link InitName}). */
export const INIT_NAMES: readonly InitName[] = ["kaiming-uniform", "kaiming-normal", "xavier-uniform", "xavier-normal", "uniform", "zeros"];

/** Options of the initialisers: where the numbers come from, dtype, gain, and fan mode. */
export interface InitOptions {
  /**
   * Where the numbers come from (its state advances); default: a fresh generator seeded with `seed`, or without
   * one a stream of its own from the global generator (`manualSeed`).
   */
  generator?: Generator;
  seed?: number;
  dtype?: DType;
  /**
   * The gain: √2 for ReLU (the Kaiming default), 1 for linear/sigmoid/tanh-ish layers (the Xavier default), or
   * use {@link gainFor}.
   */
  gain?: number;
}

/**
 * The recommended gain for an activation (PyTorch's `calculate_gain`): relu √2, leaky ReLU √(2/(1+α²)), tanh 5/3,
 * everything else 1 — read from the activation's entry in `ACTIVATIONS`.
 */
export function gainFor(activation: string, slope = 0.01): number {
  const key = activation === "leakyRelu" ? "leaky_relu" : activation;
  return Object.hasOwn(ACTIVATIONS, key) ? ACTIVATIONS[key as ActivationName].gain(slope) : 1;
}

/**
 * fan_in and fan_out of a weight of shape [out, in, ...kernel] (PyTorch's layout for `Linear` and `Conv2d`): each
 * times the kernel's size (its receptive field), as PyTorch's `_calculate_fan_in_and_fan_out`.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 1) throw new InputError(`init: a weight needs at least one dimension, got []`);
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const field = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * field, fanOut: shape[0]! * field };
}

const INIT_KEYS = optionKeys<InitOptions>({ generator: true, seed: true, dtype: true, gain: true });

/** The generator of an initialiser's options, checked (`who` names the initialiser in errors). */
function generatorOf(o: InitOptions, who: string): Generator {
  expectOptions(who, o, INIT_KEYS);
  return generatorFor(o, who);
}

/** Kaiming/He uniform: U(±gain·√(3/fan_in)), gain √2 by default (ReLU). */
export function kaimingUniform(shape: readonly number[], o: InitOptions = {}): Tensor {
  const g = generatorOf(o, "kaimingUniform");
  const bound = (o.gain ?? Math.SQRT2) * Math.sqrt(3 / fans(shape).fanIn);
  return rand(shape, { generator: g, dtype: o.dtype ?? "float32", low: -bound, high: bound });
}

/** Kaiming/He normal: N(0, (gain/√fan_in)²), gain √2 by default (ReLU). */
export function kaimingNormal(shape: readonly number[], o: InitOptions = {}): Tensor {
  const g = generatorOf(o, "kaimingNormal");
  const std = (o.gain ?? Math.SQRT2) / Math.sqrt(fans(shape).fanIn);
  return randn(shape, { generator: g, dtype: o.dtype ?? "float32", std });
}

/** Xavier/Glorot uniform: U(±gain·√(6/(fan_in + fan_out))), gain 1 by default. */
export function xavierUniform(shape: readonly number[], o: InitOptions = {}): Tensor {
  const g = generatorOf(o, "xavierUniform");
  const { fanIn, fanOut } = fans(shape);
  const bound = (o.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return rand(shape, { generator: g, dtype: o.dtype ?? "float32", low: -bound, high: bound });
}

/** Xavier/Glorot normal: N(0, gain²·2/(fan_in + fan_out)), gain 1 by default. */
export function xavierNormal(shape: readonly number[], o: InitOptions = {}): Tensor {
  const g = generatorOf(o, "xavierNormal");
  const { fanIn, fanOut } = fans(shape);
  const std = (o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return randn(shape, { generator: g, dtype: o.dtype ?? "float32", std });
}

/** PyTorch's default for `nn.Linear` weights and biases: U(±1/√fan_in) (`fanIn` given for a bias). */
export function uniformFanIn(shape: readonly number[], o: InitOptions & { fanIn?: number } = {}): Tensor {
  const { fanIn, ...rest } = o;
  const g = generatorOf(rest, "uniformFanIn");
  const bound = 1 / Math.sqrt(fanIn ?? fans(shape).fanIn);
  return rand(shape, { generator: g, dtype: o.dtype ?? "float32", low: -bound, high: bound });
}

/**
 * Draws a weight of `shape` with a named initialiser.
 *
 * @example
 * const g = new Generator(0);
 * const W = initWeight("kaiming-normal", [16, 2], { generator: g }); // std √2/√2 = 1
 */
export function initWeight(name: InitName, shape: readonly number[], o: InitOptions = {}): Tensor {
  switch (name) {
    case "kaiming-uniform":
      return kaimingUniform(shape, o);
    case "kaiming-normal":
      return kaimingNormal(shape, o);
    case "xavier-uniform":
      return xavierUniform(shape, o);
    case "xavier-normal":
      return xavierNormal(shape, o);
    case "uniform":
      return uniformFanIn(shape, o);
    case "zeros":
      return zeros(shape, { dtype: o.dtype ?? "float32" });
    default: {
      const never: never = name;
      throw new InputError(`init: unknown initialiser ${String(never)} (expected one of ${INIT_NAMES.join(", ")})`);
    }
  }
}
