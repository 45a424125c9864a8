/**
 * Data: datasets, loaders, splits, toy datasets, Iris, MNIST's format (reading its files is `loadMnist` in
 * `gradgraph/node`), and the built-in named datasets (each with its fixed train/test split, reproducible from a
 * small spec saved with the model; `gradgraph train` adds MNIST and CSV files to them).
 */
import { InputError } from "../../core/errors.js";
import { expectOptions, optionKeys } from "../../core/expect.js";
import type { DType } from "../../ops/op.js";
import { arrayType } from "../../tensor/ndarray.js";
import { fromTypedArray } from "../../tensor/tensor.js";
import { MAX_SEED } from "../../tensor/random.js";
import { Dataset, trainTestSplit } from "./dataset.js";
import { iris } from "./iris.js";
import { circles, moons, spirals, xor } from "./toy.js";

export * from "./dataset.js";
export * from "./toy.js";
export { iris, IRIS_CLASSES, IRIS_FEATURES, IRIS_ROWS } from "./iris.js";
export { mnistDataset, MNIST_CLASSES, MNIST_PIXELS, MNIST_MEAN, MNIST_STD, MNIST_TRAIN_DIGITS, MNIST_TEST_DIGITS, type MnistOptions, type MnistRaw } from "./mnist.js";
export { parseIdx, encodeIdx, type Idx, type IdxTypeCode, type IdxExpect } from "./idx.js";

/** The built-in named datasets (generated or shipped with the library). */
export const DATASET_NAMES = ["moons", "circles", "spirals", "xor", "iris"] as const;
/** The name of a built-in dataset ({@link DATASET_NAMES}). */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Everything needed to rebuild a named dataset and its split exactly (saved in a run's config). */
export interface DataSpec {
  name: DatasetName;
  /** Number of samples generated (toy datasets). */
  n?: number;
  /** Noise of the generated points (toy datasets). */
  noise?: number;
  /** Seed of the generated points and of the split (default 0). */
  seed?: number;
  /** Fraction held out for testing (default 0.2). */
  testFraction?: number;
}

const TOY_DEFAULTS: Record<"moons" | "circles" | "spirals" | "xor", { n: number; noise: number }> = {
  moons: { n: 500, noise: 0.1 },
  circles: { n: 500, noise: 0.05 },
  spirals: { n: 600, noise: 0.2 },
  xor: { n: 400, noise: 0.15 },
};

/** The most points a generated dataset (moons, circles, spirals, xor) may have. */
export const MAX_GENERATED_POINTS = 1_000_000;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const show = (x: unknown) => (x === undefined ? "undefined" : JSON.stringify(x));

/**
 * Checks a data spec read from a file (a run's config.json), field by field: its types and ranges. Returns a
 * message saying what was expected and what came (e.g. `data.noise must be a non-negative number, got "x"`), or
 * null when it is fine. `prefix` names the field (`data`).
 */
export function dataSpecProblem(x: unknown, prefix = "data"): string | null {
  if (!isObject(x)) return `${prefix} must be an object like {"name": "moons"}, got ${show(x)}`;
  if (typeof x.name !== "string" || !(DATASET_NAMES as readonly string[]).includes(x.name)) return `${prefix}.name must be one of ${DATASET_NAMES.join(", ")}, got ${show(x.name)}`;
  return specFieldProblem(x, prefix);
}

/** The checks of the fields every spec shares (n, noise, seed, testFraction), or null. */
export function specFieldProblem(x: Record<string, unknown>, prefix: string): string | null {
  const int = (k: string, min: number, max: number, what: string): string | null => {
    const v = x[k];
    if (v === undefined) return null;
    return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max ? null : `${prefix}.${k} must be ${what}, got ${show(v)}`;
  };
  const num = (k: string, ok: (v: number) => boolean, what: string): string | null => {
    const v = x[k];
    if (v === undefined) return null;
    return typeof v === "number" && Number.isFinite(v) && ok(v) ? null : `${prefix}.${k} must be ${what}, got ${show(v)}`;
  };
  return (
    int("n", 1, MAX_GENERATED_POINTS, `a whole number from 1 to ${MAX_GENERATED_POINTS.toLocaleString("en-US")}`) ??
    num("noise", (v) => v >= 0, "a non-negative number") ??
    int("seed", 0, MAX_SEED, `a whole number from 0 to ${MAX_SEED} (2^32 − 1)`) ??
    num("testFraction", (v) => v > 0 && v < 1, "a fraction between 0 and 1")
  );
}

/** The dataset name, checked. */
export function datasetName(name: string): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(name)) return name as DatasetName;
  throw new InputError(`unknown dataset ${name} (expected one of ${DATASET_NAMES.join(", ")})`);
}

/**
 * Loads a named dataset with its train/test split, and returns the spec with every default filled in (save it
 * to rebuild the same split later).
 *
 * @example
 * const { train, test, spec } = await loadDataset({ name: "moons" }); // 400 train, 100 test points
 */
export async function loadDataset(spec: DataSpec, o: { dtype?: DType } = {}): Promise<{ train: Dataset; test: Dataset; spec: DataSpec }> {
  expectOptions("loadDataset", o, optionKeys<{ dtype?: DType }>({ dtype: true }));
  const name = datasetName(spec.name);
  const problem = dataSpecProblem(spec, "data spec");
  if (problem !== null) throw new InputError(problem);
  const seed = spec.seed ?? 0;
  const dtype = o.dtype ?? "float32";
  const testFraction = spec.testFraction ?? 0.2;
  let ds: Dataset;
  let full: DataSpec;
  if (name === "iris") {
    ds = iris({ dtype });
    full = { name, seed, testFraction };
  } else {
    const d = TOY_DEFAULTS[name];
    const n = spec.n ?? d.n, noise = spec.noise ?? d.noise;
    const make = { moons, circles, spirals, xor }[name];
    ds = make(n, { noise, seed, dtype });
    full = { name, n, noise, seed, testFraction };
  }
  const { train, test } = trainTestSplit(ds, { testFraction, seed });
  return { train, test, spec: full };
}

/**
 * Each feature's mean and (population) standard deviation over `train`: what {@link standardized} scales by (a
 * feature of deviation 0 is only centred), and what a model trained on standardised data expects its inputs
 * scaled by.
 */
export function featureStats(train: Dataset): { mean: Float64Array; deviation: Float64Array } {
  const f = train.inputSize, n = train.length;
  const mean = new Float64Array(f), deviation = new Float64Array(f);
  const x = train.x.toArray();
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j]! += x[i * f + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) deviation[j]! += (x[i * f + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < f; j++) deviation[j] = Math.sqrt(deviation[j]!);
  return { mean, deviation };
}

/** Each feature's mean and deviation, as {@link featureStats} gives them (or as a saved model recorded them). */
export interface FeatureStats {
  /** Each feature's mean. */
  mean: ArrayLike<number>;
  /** Each feature's (population) standard deviation; 0 for a constant feature, which is then only centred. */
  deviation: ArrayLike<number>;
}

/** Both parts with each feature standardised by the training part's mean and (population) standard deviation. */
export function standardized(train: Dataset, test: Dataset): { train: Dataset; test: Dataset } {
  const stats = featureStats(train);
  return { train: standardizedBy(train, stats), test: standardizedBy(test, stats) };
}

/**
 * The dataset with each feature scaled by given figures, (x − mean) / deviation (a deviation of 0: only centred):
 * new data scaled as a model's training data was, by that data's {@link featureStats}.
 *
 * @example
 * const split = nn.trainTestSplit(nn.moons(200, { seed: 0 }), { seed: 0 });
 * const stats = nn.featureStats(split.train); // what a model trained on the standardised part expects
 * const fresh = nn.standardizedBy(nn.moons(50, { seed: 1 }), stats);
 */
export function standardizedBy(data: Dataset, stats: FeatureStats): Dataset {
  const f = data.inputSize, { mean, deviation } = stats;
  if (mean.length !== f || deviation.length !== f) {
    throw new InputError(`standardizedBy: the data has ${f} feature${f === 1 ? "" : "s"}, but the figures are for ${mean.length} (mean) and ${deviation.length} (deviation)`);
  }
  const src = data.x.toArray(), out = new (arrayType(data.x.dtype))(src.length);
  for (let i = 0; i < src.length; i++) {
    const j = i % f, s = deviation[j]!;
    out[i] = s > 0 ? (src[i]! - mean[j]!) / s : src[i]! - mean[j]!; // a constant column becomes 0
  }
  return new Dataset(fromTypedArray(out, data.x.shape), data.y, data.info);
}

export { Dataset };
