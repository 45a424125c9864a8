/**
 * The multi-layer perceptron: Linear layers with an activation between them, initialised for that activation.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { generatorFor } from "../tensor/random.js";
import { checkLayerSizes } from "../tensor/args.js";
import { activationSpec, type ActivationName } from "./functional.js";
import type { InitName } from "./init.js";
import { activationModule, Linear, Sequential, type LayerOptions, type Module } from "./module.js";

/** Options of {@link MLP}: those of {@link Linear} for every layer, and an activation after the last. */
export interface MLPOptions extends Omit<LayerOptions, "bias"> {
  /** An activation after the last layer too (default none: the output is logits or a regression value). */
  outputActivation?: ActivationName;
}

const MLP_KEYS = optionKeys<MLPOptions>({ init: true, gain: true, generator: true, seed: true, dtype: true, outputActivation: true });

/**
 * A multi-layer perceptron: Linear layers of the given sizes with an activation between them — a
 * `Sequential(Linear, act, Linear, act, …, Linear)`, so parameters are named `0.weight`, `0.bias`,
 * `2.weight`, ….
 *
 * Initialisation (unless `init` says otherwise): Kaiming/He for ReLU-like activations (relu, leaky_relu, gelu),
 * Xavier/Glorot for tanh, sigmoid and identity, with the activation's gain; biases zero. All weights come from
 * one generator seeded by `seed` (by default a stream from the global generator that `manualSeed` sets), layer
 * by layer, so a seed fixes the whole network.
 *
 * @example
 * const model = new MLP([784, 128, 10], "relu", { seed: 0 });
 * model.forward(zeros([64, 784])).shape; // [64, 10]
 */
export class MLP extends Sequential {
  /** The layer sizes, inputs first and outputs last. */
  readonly sizes: readonly number[];
  /** The activation between layers. */
  readonly activation: ActivationName;

  constructor(sizes: readonly number[], act: ActivationName = "relu", options: MLPOptions = {}) {
    checkLayerSizes("MLP", sizes);
    expectOptions("MLP", options, MLP_KEYS);
    const spec = activationSpec(act);
    const g = generatorFor(options, new.target.name);
    const init: InitName = options.init ?? (spec.reluLike ? "kaiming-uniform" : "xavier-uniform");
    const gain = options.gain ?? spec.gain(0.01);
    const layers: Module[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const last = i + 2 === sizes.length;
      // The output layer feeds no activation: gain 1 (Xavier) keeps logits small at the start.
      const layerInit: InitName = options.init ?? (last ? "xavier-uniform" : init);
      layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { init: layerInit, gain: last && options.gain === undefined ? 1 : gain, generator: g, dtype: options.dtype ?? "float32" }));
      if (!last) layers.push(activationModule(act));
      else if (options.outputActivation !== undefined) layers.push(activationModule(options.outputActivation));
    }
    super(...layers);
    this.sizes = [...sizes];
    this.activation = act;
  }

  override describe(): string {
    return `MLP(${this.sizes.join("-")}, ${this.activation})`;
  }
}
