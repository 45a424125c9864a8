/**
 * Neural networks on the tensor engine: modules and layers, activations and losses, initialisers, optimizers
 * and learning-rate schedules, data, the training loop (`fit`, `evaluate`), safetensors weights, and the
 * micrograd-style scalar MLP (`scalar`). The loop is the lecture's: Sample, Forward, Backprop, Update.
 *
 * @example
 * import { nn } from "gradgraph";
 * const { train, test } = nn.trainTestSplit(nn.moons(500, { seed: 0 }));
 * const model = new nn.MLP([2, 16, 16, 2], "relu", { seed: 0 });
 * await nn.fit(model, train, { loss: "cross_entropy", optimizer: new nn.Adam(model.parameters(), { lr: 0.01 }), epochs: 50 });
 * nn.evaluate(model, test, { metrics: ["accuracy"] }); // { accuracy: 1 }
 *
 * @module gradgraph/nn
 */
export {
  isModule,
  Module,
  Linear,
  Sequential,
  ReLU,
  Tanh,
  Sigmoid,
  GELU,
  LeakyReLU,
  Softmax,
  Identity,
  Flatten,
  Dropout,
  activationModule,
  type StateDict,
  type LoadResult,
  type LayerOptions,
} from "./module.js";
export { MLP, type MLPOptions } from "./mlp.js";
export { Parameter, isParameter, parameter } from "./parameter.js";
export * from "./functional.js";
export * from "./conv.js";
export {
  conv2d,
  conv1d,
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  type Size2,
  type Conv2dArgs,
  type Conv1dArgs,
  type Pool2dArgs,
} from "./conv-functional.js";
export { INIT_NAMES, gainFor, kaimingUniform, kaimingNormal, xavierUniform, xavierNormal, type InitName, type InitOptions } from "./init.js";
export * from "./optim.js";
export * from "./data/index.js";
export * from "./train.js";
export { encodeSafetensors, decodeSafetensors, type Safetensors, type SafetensorsWriteOptions, type SafetensorsFloat } from "./safetensors.js";
export { parseLayers, isSizes, buildLayerNet, LayerNet, Unflatten, NAMED_SPECS, SPEC_HELP, type LayerSpec } from "./spec.js";
/** The micrograd-style MLP on scalar {@link gradgraph!Value}s: `Linear`, `MLP`, `SGD`, `mseLoss`, element by element. */
export * as scalar from "./scalar.js";
export * from "./norm.js";
export * from "./embedding.js";
export * from "./attention.js";
export * from "./rnn.js";
