/**
 * What `gradgraph train` and `eval` say about data and models: `--data` (a named dataset or a CSV file), `--model`
 * (layer sizes or a layer spec) and whether a network fits the data, each with errors that say what would fit.
 */
import { type DType, InputError } from "gradgraph";
import { didYouMean } from "gradgraph/lecture";
import { type ActivationName, buildLayerNet, type Dataset, isSizes, LayerNet, MLP, parseLayers } from "gradgraph/nn";
import { DATASET_NAMES, type DataSourceName, type DataSpec, labelColumn } from "./datasets.js";
import { sizesProblem } from "gradgraph/node";

/** `--data`: a named dataset, or a CSV file (a name ending in .csv). */
export function dataSource(value: string): { name: DataSourceName; path?: string } {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return { name: value as DataSourceName };
  if (/\.csv$/i.test(value)) return { name: "csv", path: value };
  throw new InputError(`--data ${value}: unknown dataset${didYouMean(value, DATASET_NAMES)} (expected one of ${DATASET_NAMES.join(", ")}, or a file.csv)`);
}

/** `784-128-10` → [784, 128, 10]: sizes are whole numbers written as digits, each at least 1. */
export function parseSizes(text: string): number[] {
  const parts = text.replace(/^mlp:/, "").split(/[-x,]/);
  const example = "expected layer sizes joined by dashes, inputs first and classes last, e.g. 784-128-64-10";
  if (parts.length < 2) throw new InputError(`--model ${text}: ${example}`);
  parts.forEach((p, i) => {
    const which = `size ${i + 1} of ${parts.length}`;
    if (p === "") throw new InputError(`--model ${text}: ${which} is empty (each "-", "x" or "," separates two sizes); ${example}`);
    if (!/^[0-9]+$/.test(p)) throw new InputError(`--model ${text}: ${which} is ${JSON.stringify(p)}, not a whole number written as digits; ${example}`);
    if (Number(p) === 0) throw new InputError(`--model ${text}: ${which} is 0; every layer needs at least 1 unit`);
  });
  const sizes = parts.map(Number);
  const problem = sizesProblem(sizes);
  if (problem !== null) throw new InputError(`--model ${text}: ${problem}`);
  return sizes;
}

/**
 * `--model`, checked as far as it can be without the data: layer sizes (an MLP), or a layer spec (parsed now, its
 * shapes checked against the data later). `hidden` sizes (CSV's default) take inputs and classes from the data.
 */
export type ModelChoice = { kind: "mlp"; sizes: number[] } | { kind: "layers"; text: string } | { kind: "hidden"; hidden: number[] };

export function modelChoice(text: string): ModelChoice {
  if (isSizes(text)) return { kind: "mlp", sizes: parseSizes(text) };
  parseLayers(text); // its errors now, before any data is loaded
  return { kind: "layers", text };
}

/** Checks that an MLP's sizes fit a dataset's inputs and classes, with an example that would. */
export function checkFits(sizes: readonly number[], data: Dataset, option: string): void {
  const inputs = data.inputSize, classes = data.outputSize;
  const fix = ` (e.g. ${[inputs, ...sizes.slice(1, -1), classes].join("-")})`;
  if (sizes[0] !== inputs) {
    throw new InputError(`${option} ${sizes.join("-")} does not fit ${data.info.name}: each sample has ${inputs} input features, so the first size must be ${inputs}${fix}`);
  }
  if (sizes[sizes.length - 1] !== classes) {
    throw new InputError(`${option} ${sizes.join("-")} does not fit ${data.info.name}: it has ${classes} classes, so the last size must be ${classes}${fix}`);
  }
}

/** Builds the network `--model` describes for a dataset (seeded weights). */
export function buildModel(m: ModelChoice, data: Dataset, o: { act: ActivationName; seed: number; dtype: DType }): MLP | LayerNet {
  if (m.kind === "layers") {
    return buildLayerNet(m.text, data.inputShape, { ...(data.info.imageShape ? { image: data.info.imageShape } : {}), classes: data.outputSize, seed: o.seed, dtype: o.dtype });
  }
  const sizes = m.kind === "mlp" ? m.sizes : [data.inputSize, ...m.hidden, data.outputSize];
  checkFits(sizes, data, "--model");
  return new MLP(sizes, o.act, { seed: o.seed, dtype: o.dtype });
}

/**
 * Checks that a saved network fits the dataset it is evaluated on: what the model takes and what the data has (a
 * trained model's sizes cannot change, so no other --model is suggested).
 */
export function checkSavedFits(model: MLP | LayerNet, data: Dataset, dir: string): void {
  if (model instanceof MLP) {
    const inputs = model.sizes[0]!, classes = model.sizes[model.sizes.length - 1]!;
    if (inputs !== data.inputSize) throw new InputError(`the model in ${dir} takes ${inputs} input feature${inputs === 1 ? "" : "s"}, but each sample of ${data.info.name} has ${data.inputSize}`);
    if (classes !== data.outputSize) throw new InputError(`the model in ${dir} has ${classes} classes, but ${data.info.name} has ${data.outputSize}`);
    return;
  }
  const same = model.inputShape.length === data.inputShape.length && model.inputShape.every((n, i) => n === data.inputShape[i]);
  if (!same) throw new InputError(`the model in ${dir} takes samples of shape [${model.inputShape.join(", ")}], but ${data.info.name}'s are [${data.inputShape.join(", ")}]`);
  if (model.classes !== data.outputSize) throw new InputError(`the model in ${dir} has ${model.classes} classes, but ${data.info.name} has ${data.outputSize}`);
}

/** How a network is named in the CLI's lines: `MLP 784-128-10`, or its layer spec. */
export function modelName(model: MLP | LayerNet): string {
  return model instanceof MLP ? `MLP ${model.sizes.join("-")}` : model.spec;
}

/** The network in the report's summary: `MLP 784-128-10, relu, 101770 parameters`. */
export function modelSummary(model: MLP | LayerNet): string {
  return model instanceof MLP ? `MLP ${model.sizes.join("-")}, ${model.activation}, ${model.numParameters()} parameters` : `${model.spec}, ${model.numParameters()} parameters`;
}

/** Refuses a split with no training or no test samples, saying how the numbers came about. */
export function checkSplit(spec: DataSpec, train: Dataset, test: Dataset, where: string): void {
  if (train.length > 0 && test.length > 0) return;
  const total = train.length + test.length;
  const rows = spec.name === "iris" || spec.name === "csv";
  const how = spec.name === "mnist" ? `${total} digits` : `test fraction ${spec.testFraction} of ${total} ${rows ? "samples" : "points"}`;
  let fix = spec.name === "mnist" ? "" : train.length === 0 ? "; use a smaller --test-fraction" : rows ? "; use a larger --test-fraction" : "; use a larger --n or --test-fraction";
  // The split is stratified: each class holds out round(fraction × its samples). When every class has one sample
  // (a label column of measurements, not classes), no --test-fraction can split it.
  if (rows && total > 1 && new Set([...train.y.toArray(), ...test.y.toArray()]).size === total) {
    fix = `; the split is stratified by class, and each of the ${total} samples has a label of its own, so no --test-fraction can split them: ${labelColumn(spec.label)} should name classes, each shared by several rows`;
  }
  if (train.length === 0) throw new InputError(`${where}no training samples left (${how} leaves ${train.length} for training and ${test.length} for testing)${fix}`);
  throw new InputError(`${where}no test samples (${how} holds out ${test.length} for testing and leaves ${train.length} for training)${fix}`);
}

/** `mnist (60000 train / 10000 test)`, `moons (400 train / 100 test, 500 points, noise 0.1, seed 0)`. */
export function describeData(spec: DataSpec, train: Dataset, test: Dataset): string {
  const extra =
    spec.name === "mnist" ? "" : spec.name === "iris" || spec.name === "csv" ? `, split seed ${spec.seed}` : `, ${spec.n} points, noise ${spec.noise}, seed ${spec.seed}`;
  const label = spec.name === "csv" ? `${spec.path}${spec.label === undefined ? "" : ` label ${spec.label}`}` : spec.name;
  return `${label} (${train.length} train / ${test.length} test${extra})`;
}
