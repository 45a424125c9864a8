/**
 * Saving and loading models: a folder with `model.safetensors` (the state dict: parameters and persistent
 * buffers, named like PyTorch's `state_dict`: `0.weight`, `bn.running_mean`, …) and `config.json` (what network
 * it is, and whatever else the caller records: the data, the training settings, the results). Any module saves
 * with {@link saveModule} and loads into an instance built the same way with {@link loadModuleState}; an MLP's
 * config names its architecture, so {@link loadModel} builds it. Node only (`gradgraph/node`); files are written
 * atomically.
 */
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { ACTIVATIONS, type ActivationName } from "../nn/functional.js";
import { MLP } from "../nn/mlp.js";
import type { Module } from "../nn/module.js";
import { buildLayerNet, LayerNet } from "../nn/spec.js";
import { encodeSafetensors, MAX_SAFETENSORS_HEADER } from "../nn/safetensors.js";
import { readFileLimited, writeFileAtomic } from "./files.js";
import { loadSafetensors } from "./safetensors.js";

/** The weights' file in a saved model's folder. */
export const WEIGHTS_FILE = "model.safetensors";
/** The config's file in a saved model's folder (how to rebuild the model, and what the caller adds). */
export const CONFIG_FILE = "config.json";
/** The largest config.json read (a saved one is a few kB). */
export const MAX_CONFIG_BYTES = 16_000_000;

/** `config.json` of a saved model; `D` is what the trainer records about the data. */
export interface ModelConfig<D extends object = Record<string, unknown>> {
  /** Marks the file as a saved network's config. */
  format: "gradgraph-mlp";
  /** The format's version. */
  version: 1;
  /** How to rebuild the network: an MLP's sizes, activation and dtype, or a layer spec. */
  model: { type: "MLP"; sizes: number[]; activation: ActivationName; dtype: DType } | LayersConfig;
  /** The dataset and split it was trained on, as the trainer describes it (`gradgraph train` writes its data spec). */
  data?: D;
  /** Training settings (optimizer, learning rate, …), as the trainer recorded them. */
  training?: Record<string, unknown>;
  /** Final figures. */
  results?: Record<string, unknown>;
}

/** A network of a layer spec ({@link LayerNet}): the spec, and the data's shapes it was built for. */
export interface LayersConfig {
  type: "LayerNet";
  spec: string;
  inputShape: number[];
  image?: number[];
  classes: number;
  dtype: DType;
}

/** The config of an MLP or a {@link LayerNet} (and extras). */
export function mlpConfig<D extends object = Record<string, unknown>>(model: MLP | LayerNet, extra: Pick<ModelConfig<D>, "data" | "training" | "results"> = {}): ModelConfig<D> {
  const dtype = model.parameters()[0]?.dtype ?? "float32";
  const m: ModelConfig["model"] =
    model instanceof LayerNet
      ? { type: "LayerNet", spec: model.spec, inputShape: [...model.inputShape], ...(model.image ? { image: [...model.image] } : {}), classes: model.classes, dtype }
      : { type: "MLP", sizes: [...model.sizes], activation: model.activation, dtype };
  return { format: "gradgraph-mlp", version: 1, model: m, ...extra };
}

/** How a saved network is named: `MLP 784-256-10 relu`, or its layer spec. */
export function modelTitle(model: MLP | LayerNet): string {
  return model instanceof LayerNet ? model.spec : `MLP ${model.sizes.join("-")} ${model.activation}`;
}

/**
 * Writes a module's state dict and a config into `dir` (writeFileAtomic creates it). Both are made before
 * either is written, so a config that cannot be saved leaves an earlier save in `dir` whole.
 */
async function writeModel(dir: string, model: Module, config: object, description: string): Promise<void> {
  const text = configText(config, join(dir, CONFIG_FILE));
  const weights = encodeSafetensors(model.stateDict(), { producer: "gradgraph", model: description });
  await writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, CONFIG_FILE), text);
}

/**
 * `config` as the text of `config.json`, or an InputError naming the first field JSON cannot hold: a BigInt, a
 * function or a symbol (which `JSON.stringify` would throw on or drop without a word), a Map or a Set (saved as
 * `{}`), or an object that contains itself. `undefined` fields are left out and NaN and ±Infinity are written as
 * null, as JSON does (a diverged run's NaN loss reads back as null).
 */
function configText(config: object, where: string): string {
  const inside: object[] = [];
  const check = (v: unknown, path: string): void => {
    if (typeof v === "bigint" || typeof v === "function" || typeof v === "symbol") {
      throw new InputError(`${where}: ${path} is a ${typeof v}, which JSON cannot hold: expected numbers, strings, booleans, null, arrays and plain objects`);
    }
    if (typeof v !== "object" || v === null) return;
    if (v instanceof Map || v instanceof Set) throw new InputError(`${where}: ${path} is a ${v.constructor.name}, which JSON would save as {}: give a plain object or an array`);
    if (inside.includes(v)) throw new InputError(`${where}: ${path} contains itself (a cycle), which JSON cannot hold`);
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return; // a Date and the like say how they are saved
    inside.push(v);
    if (Array.isArray(v)) v.forEach((x, k) => check(x, `${path}[${k}]`));
    else for (const [k, x] of Object.entries(v)) if (x !== undefined) check(x, `${path}.${k}`);
    inside.pop();
  };
  check(config, "config");
  try {
    return JSON.stringify(config, null, 2) + "\n";
  } catch (e) {
    throw new InputError(`${where}: the config cannot be saved as JSON: ${(e as Error).message}`); // a toJSON that gives a BigInt, say
  }
}

/**
 * Writes `dir/model.safetensors` and `dir/config.json` (creating `dir`).
 *
 * @example
 * await saveModel("runs/moons", model, { data: { name: "moons" } });
 * const { model: again } = await loadModel("runs/moons");
 */
export async function saveModel<D extends object = Record<string, unknown>>(dir: string, model: MLP | LayerNet, extra: Pick<ModelConfig<D>, "data" | "training" | "results"> = {}): Promise<ModelConfig<D>> {
  const config = mlpConfig(model, extra);
  await writeModel(dir, model, config, modelTitle(model));
  return config;
}

/** `config.json` of a module saved by {@link saveModule}: its class, and what the caller adds. */
export interface ModuleConfig {
  /** Marks the file as a saved module's config. */
  format: "gradgraph-module";
  /** The format's version. */
  version: 1;
  /** The module's class name (`type`), and whatever the caller described it with. */
  model: { type: string } & Record<string, unknown>;
  [extra: string]: unknown;
}

/**
 * Saves any module: its state dict (`model.safetensors`) and a config naming its class with whatever the caller
 * adds (`model` fields describe the architecture, other fields anything else). Load it into a module built the
 * same way with {@link loadModuleState}.
 *
 * @example
 * await saveModule("runs/net", net, { model: { hidden: 64 } });
 * const again = new Net(64);
 * await loadModuleState("runs/net", again);
 */
export async function saveModule(dir: string, module: Module, extra: { model?: Record<string, unknown>; [k: string]: unknown } = {}): Promise<ModuleConfig> {
  const type = module.constructor.name;
  const config: ModuleConfig = { ...extra, format: "gradgraph-module", version: 1, model: { ...extra.model, type } };
  await writeModel(dir, module, config, type);
  return config;
}

/**
 * Loads a saved module's state into `module` (strictly: every key, the right shapes), after checking that the
 * config names the same class; returns the config. Reads folders written by {@link saveModule} and by
 * {@link saveModel}. Any problem is an {@link InputError} naming the file and what was expected.
 */
export async function loadModuleState(dir: string, module: Module): Promise<Record<string, unknown>> {
  const config = await readConfig(dir);
  const format = config.format;
  if (format !== "gradgraph-module" && format !== "gradgraph-mlp") {
    throw new InputError(`${join(dir, CONFIG_FILE)}: not a gradgraph model config: format is ${JSON.stringify(format)}, expected "gradgraph-module" or "gradgraph-mlp"`);
  }
  const type = (config.model as { type?: unknown } | undefined)?.type;
  if (type !== module.constructor.name) {
    throw new InputError(`${join(dir, CONFIG_FILE)}: the saved model is a ${JSON.stringify(type)}, not a ${module.constructor.name}; build a ${String(type)} to load it into`);
  }
  await loadWeights(dir, module);
  return config;
}

/** Reads and parses `dir/config.json`, saying what is missing or broken. */
async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const configPath = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = new TextDecoder().decode(readFileLimited(configPath, MAX_CONFIG_BYTES, CONFIG_FILE));
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${dir}: cannot read the model's config: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new InputError(`${dir}: not a folder (a saved model is a folder holding ${CONFIG_FILE} and ${WEIGHTS_FILE})`);
    throw new InputError(`${dir}: no model there (${code === "ENOENT" ? `${CONFIG_FILE} not found` : (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InputError(`${configPath}: not a gradgraph model config: not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Loads `dir/model.safetensors` into `model`, strictly. */
async function loadWeights(dir: string, model: Module): Promise<void> {
  // The weights of the largest model allowed, in float64, behind the largest header allowed.
  const { tensors } = await loadSafetensors(join(dir, WEIGHTS_FILE), { maxBytes: 8 + MAX_SAFETENSORS_HEADER + 8 * MAX_PARAMETERS });
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new InputError(`${join(dir, WEIGHTS_FILE)}: the weights do not fit the model in ${CONFIG_FILE} (${(e as Error).message})`);
  }
}

/** The largest layer and the most parameters an MLP may have (far beyond what trains in reasonable time here). */
export const MAX_LAYER_SIZE = 100_000;
/** The most parameters a saved MLP may have. */
export const MAX_PARAMETERS = 50_000_000;

/** Why these layer sizes (positive integers) make too big a network, or null. */
export function sizesProblem(sizes: readonly number[]): string | null {
  const big = sizes.find((n) => n > MAX_LAYER_SIZE);
  if (big !== undefined) return `a layer of ${big} units is more than the ${MAX_LAYER_SIZE.toLocaleString("en-US")} allowed`;
  let params = 0;
  for (let i = 0; i + 1 < sizes.length; i++) params += sizes[i]! * sizes[i + 1]! + sizes[i + 1]!;
  if (params > MAX_PARAMETERS) return `${params.toLocaleString("en-US")} parameters is more than the ${MAX_PARAMETERS.toLocaleString("en-US")} allowed`;
  return null;
}

type Bad = (why: string) => InputError;
const isInts = (x: unknown, min: number): x is number[] => Array.isArray(x) && x.every((n) => Number.isInteger(n) && n >= min);

function checkMlp(m: Extract<ModelConfig["model"], { type: "MLP" }>, bad: Bad): void {
  if (!Array.isArray(m.sizes) || m.sizes.length < 2 || !m.sizes.every((n) => Number.isInteger(n) && n > 0)) throw bad(`model.sizes must be at least two positive integers, got ${JSON.stringify(m.sizes)}`);
  const size = sizesProblem(m.sizes);
  if (size !== null) throw bad(`model.sizes ${JSON.stringify(m.sizes)}: ${size}`);
  if (typeof m.activation !== "string" || !Object.hasOwn(ACTIVATIONS, m.activation)) throw bad(`model.activation must be one of ${Object.keys(ACTIVATIONS).join(", ")}, got ${JSON.stringify(m.activation)}`);
  if (m.dtype !== "float32" && m.dtype !== "float64") throw bad(`model.dtype must be float32 or float64, got ${JSON.stringify(m.dtype)}`);
}

function checkLayers(m: LayersConfig, bad: Bad): void {
  if (typeof m.spec !== "string") throw bad(`model.spec must be a layer spec like "linear(10)", got ${JSON.stringify(m.spec)}`);
  if (!isInts(m.inputShape, 1) || m.inputShape.length < 1) throw bad(`model.inputShape must be positive integers, got ${JSON.stringify(m.inputShape)}`);
  if (m.image !== undefined && (!isInts(m.image, 1) || m.image.length !== 3)) throw bad(`model.image must be [channels, height, width], got ${JSON.stringify(m.image)}`);
  if (!Number.isInteger(m.classes) || m.classes < 1) throw bad(`model.classes must be a positive integer, got ${JSON.stringify(m.classes)}`);
  if (m.dtype !== "float32" && m.dtype !== "float64") throw bad(`model.dtype must be float32 or float64, got ${JSON.stringify(m.dtype)}`);
}

/** Checks a parsed config.json, saying what is wrong. */
export function checkConfig(x: unknown, where: string): ModelConfig {
  const bad = (why: string) => new InputError(`${where}: not a gradgraph model config: ${why}`);
  if (typeof x !== "object" || x === null) throw bad("not a JSON object");
  const c = x as Partial<ModelConfig>;
  if (c.format !== "gradgraph-mlp") throw bad(`format is ${JSON.stringify(c.format)}, expected "gradgraph-mlp"`);
  if (c.version !== 1) throw bad(`version ${JSON.stringify(c.version)} is not 1`);
  const m = c.model;
  if (typeof m === "object" && m !== null && m.type === "LayerNet") checkLayers(m, bad);
  else if (typeof m !== "object" || m === null || m.type !== "MLP") throw bad("model.type must be MLP or LayerNet");
  else checkMlp(m, bad);
  if (c.data !== undefined && (typeof c.data !== "object" || c.data === null || Array.isArray(c.data))) throw bad(`data must be an object, got ${JSON.stringify(c.data)}`);
  if (c.training !== undefined && (typeof c.training !== "object" || c.training === null || Array.isArray(c.training))) throw bad(`training must be an object, got ${JSON.stringify(c.training)}`);
  if (c.results !== undefined && (typeof c.results !== "object" || c.results === null || Array.isArray(c.results))) throw bad(`results must be an object, got ${JSON.stringify(c.results)}`);
  return c as ModelConfig;
}

/**
 * Reads a model saved by {@link saveModel}: builds the MLP its config describes and loads the weights, checking
 * that every parameter is there with the right shape. A missing or broken file is an {@link InputError}.
 */
export async function loadModel(dir: string): Promise<{ model: MLP | LayerNet; config: ModelConfig }> {
  const configPath = join(dir, CONFIG_FILE);
  const config = checkConfig(await readConfig(dir), configPath);
  const m = config.model;
  let model: MLP | LayerNet;
  try {
    model = m.type === "LayerNet" ? buildLayerNet(m.spec, m.inputShape, { ...(m.image ? { image: m.image } : {}), classes: m.classes, dtype: m.dtype }) : new MLP(m.sizes, m.activation, { dtype: m.dtype });
  } catch (e) {
    throw new InputError(`${configPath}: not a gradgraph model config: ${(e as Error).message}`);
  }
  await loadWeights(dir, model);
  return { model, config };
}
