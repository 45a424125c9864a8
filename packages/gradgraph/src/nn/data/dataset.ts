/**
 * Datasets and loaders: the **Sample** step of the training loop. A {@link Dataset} holds inputs `x` (one row per
 * sample) and targets `y` (class indices for classification, values for regression); a {@link DataLoader} cuts
 * it into minibatches, shuffled by a seeded generator so a run is reproducible.
 */
import { InputError } from "../../core/errors.js";
import { expectOneOf, expectOptions, optionKeys } from "../../core/expect.js";
import { formatShape, sizeOf } from "../../ops/shape.js";
import { arrayType, NDArray, toTypedArray, type TypedArray } from "../../tensor/ndarray.js";
import { host } from "../../tensor/recording.js";
import { checkSeed, Generator, type GeneratorState } from "../../tensor/random.js";
import { fromTypedArray, Tensor } from "../../tensor/tensor.js";

/** A minibatch: inputs and targets of the same samples. */
export interface Batch {
  /** The inputs, one row per sample. */
  x: Tensor;
  /** The targets of the same samples. */
  y: Tensor;
}

/** What a dataset is: its name, task and, for classification, its class names. */
export interface DatasetInfo {
  /** A name for reports and saved configs. */
  name: string;
  /** Classification (y holds class indices) or regression (y holds values). */
  task: "classification" | "regression";
  /** Class names, index = label (classification). */
  classes?: readonly string[];
  /** Names of the input features (for reports). */
  features?: readonly string[];
  /** Images: each sample's [channels, height, width] (its row of x holds them flattened, row major). */
  imageShape?: readonly [number, number, number];
}

const INFO_KEYS = optionKeys<DatasetInfo>({ name: true, task: true, classes: true, features: true, imageShape: true });
/** The tasks a dataset can be for. */
const TASKS: readonly DatasetInfo["task"][] = ["classification", "regression"];

/**
 * Samples as tensors: `x` of shape [n, …features], `y` of shape [n] (class indices) or [n, outputs].
 *
 * @example
 * const ds = new Dataset(tensor([[0, 0], [1, 1]]), tensor([0, 1]), { name: "tiny", task: "classification", classes: ["a", "b"] });
 * ds.batch([1]).x.toNested(); // [[1, 1]]
 */
export class Dataset {
  /** Its name, task and class names. */
  readonly info: DatasetInfo;

  constructor(readonly x: Tensor, readonly y: Tensor, info: Partial<DatasetInfo> = {}) {
    if (x.ndim < 1 || y.ndim < 1 || x.shape[0] !== y.shape[0]) {
      throw new InputError(`Dataset: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must have the same number of rows`);
    }
    expectOptions("Dataset", info, INFO_KEYS, "info");
    if (info.task !== undefined) expectOneOf("Dataset", "task", info.task, TASKS);
    this.info = { ...info, name: info.name ?? "dataset", task: info.task ?? "classification" };
    if (this.info.task === "classification") checkLabels(y, this.info.classes);
  }

  /** Number of samples. */
  get length(): number {
    return this.x.shape[0]!;
  }

  /** The shape of one input sample (without the batch axis). */
  get inputShape(): number[] {
    return this.x.shape.slice(1);
  }

  /** Number of input features (the product of the input shape). */
  get inputSize(): number {
    return sizeOf(this.inputShape);
  }

  /** Number of classes (classification), or outputs per sample (regression). */
  get outputSize(): number {
    if (this.info.task === "classification") {
      if (this.info.classes) return this.info.classes.length;
      const y = this.y.toArray();
      let m = 0;
      for (let i = 0; i < y.length; i++) m = Math.max(m, y[i]!);
      return m + 1;
    }
    return this.y.ndim === 1 ? 1 : sizeOf(this.y.shape.slice(1));
  }

  /** The samples at `indices`, as a batch (rows copied into fresh tensors). */
  batch(indices: ArrayLike<number>): Batch {
    return { x: takeRows(this.x, indices), y: takeRows(this.y, indices) };
  }

  /** A dataset of the samples at `indices`. */
  subset(indices: ArrayLike<number>): Dataset {
    const b = this.batch(indices);
    return new Dataset(b.x, b.y, this.info);
  }

  /** The same samples under another name. */
  renamed(name: string): Dataset {
    return new Dataset(this.x, this.y, { ...this.info, name });
  }
}

/**
 * A classification dataset's labels are class indices: integers in [0, classes) (any integer ≥ 0 without a
 * class list). Anything else would make `outputSize` 1.5 or NaN and fail only later, in the loss; the error
 * names the first bad label and its sample.
 */
function checkLabels(y: Tensor, classes: readonly string[] | undefined): void {
  const v = elements(y);
  const n = classes?.length ?? Infinity, per = y.shape[0] === 0 ? 1 : v.length / y.shape[0]!;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (Number.isInteger(c) && c >= 0 && c < n) continue;
    const range = classes === undefined ? "integers ≥ 0" : `integers in [0, ${n}) (its ${n} classes)`;
    const where = per === 1 ? `sample ${i}` : `sample ${Math.floor(i / per)} (element ${i} of y)`;
    throw new InputError(`Dataset: label ${c} at ${where} is not a class index: a classification dataset's labels are ${range}; for values give { task: "regression" }`);
  }
}

/** The elements of a tensor in row-major order: its own storage when contiguous (read only), else a copy. */
function elements(t: Tensor): TypedArray {
  const v = t.value;
  return v.contiguous ? v.data.subarray(v.offset, v.offset + v.size) : t.toArray();
}

/** Rows of a tensor (along axis 0), copied. */
function takeRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  // Read the storage in place: copying the whole dataset for every batch was the hot spot of MNIST training.
  const src = elements(t);
  const n = t.shape[0]!, row = n === 0 ? 0 : src.length / n;
  const out = new (arrayType(t.dtype))(indices.length * row);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i)) throw new InputError(`Dataset: index ${i} at position ${k} is not an integer (rows are picked by whole indices)`);
    if (!(i >= 0 && i < n)) throw new InputError(`Dataset: index ${i} out of range for ${n} samples`);
    out.set(src.subarray(i * row, (i + 1) * row), k * row);
  }
  return fromTypedArray(out, [indices.length, ...t.shape.slice(1)]);
}

/** A uniformly random permutation of 0 … n−1 (Fisher–Yates) from a generator. */
export function permutation(n: number, g: Generator): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Options of {@link DataLoader}: batch size, shuffling and its seed, dropping a short last batch. */
export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Shuffle the samples at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Seed of the shuffling generator (default 0): the same seed gives the same batches. */
  seed?: number;
  /** Drop the last batch if it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

const LOADER_KEYS = optionKeys<DataLoaderOptions>({ batchSize: true, shuffle: true, seed: true, dropLast: true });

/**
 * Minibatches of a dataset. Iterating it is one epoch; with `shuffle`, each epoch draws a new order from the
 * loader's seeded generator (so epoch 2's order differs from epoch 1's, and both are the same on every run).
 *
 * @example
 * const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 0 });
 * for (const { x, y } of loader) { … }
 */
export class DataLoader implements Iterable<Batch> {
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch draws a new order. */
  readonly shuffle: boolean;
  /** Whether a last batch smaller than `batchSize` is dropped. */
  readonly dropLast: boolean;
  private readonly generator: Generator;

  constructor(readonly dataset: Dataset, options: DataLoaderOptions = {}) {
    expectOptions("DataLoader", options, LOADER_KEYS);
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new InputError(`DataLoader: batch size must be a positive integer, got ${this.batchSize}`);
    }
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = new Generator(checkSeed(options.seed ?? 0, "DataLoader"));
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of the next epoch (advances the generator when shuffling). */
  private order(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return permutation(n, this.generator);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return p;
  }

  /** The state of the shuffling generator, between epochs: restoring it replays the next epoch's order. */
  getState(): GeneratorState {
    return this.generator.getState();
  }

  /** Restores a state from {@link getState}. */
  setState(s: GeneratorState): void {
    this.generator.setState(s);
  }

  /** One epoch's batches (`for (const { x, y } of loader)`). */
  *[Symbol.iterator](): Iterator<Batch> {
    yield* this.epoch(0);
  }

  /** One epoch's batches (drawing its order), from batch `from` on: a resumed epoch skips the batches done. */
  *epoch(from: number): IterableIterator<Batch> {
    const order = this.order();
    const batches = this.length;
    for (let b = from; b < batches; b++) {
      yield this.dataset.batch(order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize)));
    }
  }
}

/** Options of {@link trainTestSplit}: the test part's size, the seed, stratification. */
export interface SplitOptions {
  /** Fraction of the samples held out for testing (default 0.2), or… */
  testFraction?: number;
  /** …an exact number of test samples. */
  testSize?: number;
  /** Seed of the shuffle before splitting (default 0). */
  seed?: number;
  /** Keep each class's share the same in both parts (classification; default true when the dataset has classes). */
  stratify?: boolean;
}

const SPLIT_KEYS = optionKeys<SplitOptions>({ testFraction: true, testSize: true, seed: true, stratify: true });

/**
 * Splits a dataset into a training part and a held-out test part, shuffled by a seeded generator; stratified by
 * class by default for classification, so both parts keep the class proportions.
 *
 * @example
 * const { train, test } = trainTestSplit(moons(500, { seed: 0 }), { testFraction: 0.2, seed: 0 });
 */
export function trainTestSplit(ds: Dataset, options: SplitOptions = {}): { train: Dataset; test: Dataset } {
  expectOptions("trainTestSplit", options, SPLIT_KEYS);
  const n = ds.length;
  const frac = options.testSize !== undefined ? options.testSize / n : options.testFraction ?? 0.2;
  if (!(frac >= 0 && frac <= 1)) throw new InputError(`trainTestSplit: the test part must be between 0 and all samples`);
  if (options.testSize !== undefined && !Number.isInteger(options.testSize)) throw new InputError(`trainTestSplit: testSize must be a whole number of samples, got ${options.testSize}`);
  const g = new Generator(checkSeed(options.seed ?? 0, "trainTestSplit"));
  const order = permutation(n, g);
  const stratify = options.stratify ?? ds.info.task === "classification";
  const test: number[] = [], train: number[] = [];
  if (stratify && ds.info.task === "classification") {
    const y = ds.y.toArray();
    const byClass = new Map<number, number[]>();
    for (const i of order) {
      const c = y[i]!;
      if (!byClass.has(c)) byClass.set(c, []);
      byClass.get(c)!.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const ks = classes.map((c) => Math.round(byClass.get(c)!.length * frac));
    if (options.testSize !== undefined) {
      // An exact count: each class's share rounded down, the rest to the largest remainders (rounding each share
      // gave testSize 7 of 50 + 50 as 4 + 4).
      const share = classes.map((c) => byClass.get(c)!.length * frac);
      share.forEach((x, i) => (ks[i] = Math.floor(x)));
      let left = options.testSize - ks.reduce((a, b) => a + b, 0);
      for (const i of share.map((_, i) => i).sort((a, b) => share[b]! - Math.floor(share[b]!) - (share[a]! - Math.floor(share[a]!)) || a - b)) {
        if (left-- <= 0) break;
        ks[i]!++;
      }
    }
    classes.forEach((c, ci) => {
      const idx = byClass.get(c)!, k = ks[ci]!;
      // A loop, not push(...idx): spreading hundreds of thousands of arguments overflows the stack.
      for (let j = 0; j < idx.length; j++) (j < k ? test : train).push(idx[j]!);
    });
    // Interleave the classes again (so a prefix of either part is mixed).
    const rank = new Int32Array(n);
    order.forEach((i, r) => (rank[i] = r));
    const back = (xs: number[]) => Int32Array.from(xs).sort((a, b) => rank[a]! - rank[b]!);
    return { train: ds.subset(back(train)), test: ds.subset(back(test)) };
  }
  const k = options.testSize ?? Math.round(n * frac);
  return { train: ds.subset(order.subarray(k)), test: ds.subset(order.subarray(0, k)) };
}

/**
 * Data augmentation for images: shifts each image of a batch by a random whole number of pixels in
 * [−maxShift, maxShift] along each axis (drawn from `generator`), filling the uncovered border with the batch's
 * background (its smallest value). `x` is [n, height·width] or [n, height, width]. A host step: a compiled
 * training step shifts each call's batch anew.
 *
 * @example
 * const g = new Generator(1);
 * fit(model, train, { …, augment: (x) => randomShift(x, { height: 28, width: 28, maxShift: 1, generator: g }) });
 */
export function randomShift(x: Tensor, o: { height: number; width: number; maxShift?: number; generator: Generator }): Tensor {
  const { height: h, width: w } = o;
  const m = o.maxShift ?? 1;
  const n = x.shape[0]!;
  if (x.size !== n * h * w) throw new InputError(`randomShift: a batch of shape ${formatShape(x.shape)} is not ${n} images of ${h}×${w}`);
  const [shifted] = host("random_shift", [x.value], ([v]) => [new NDArray(shift(toTypedArray(v!), n, h, w, m, o.generator), x.shape)]);
  return new Tensor(shifted!);
}

/** The shifted images of `src` (n of h×w): one random shift in [−m, m]² per image, the border the smallest value. */
function shift(src: TypedArray, n: number, h: number, w: number, m: number, generator: Generator): TypedArray {
  let bg = Infinity;
  for (let i = 0; i < src.length; i++) if (src[i]! < bg) bg = src[i]!;
  const out = new (src instanceof Float64Array ? Float64Array : Float32Array)(src.length).fill(bg);
  for (let s = 0; s < n; s++) {
    const dx = generator.int(2 * m + 1) - m, dy = generator.int(2 * m + 1) - m;
    const base = s * h * w;
    for (let r = Math.max(0, dy); r < Math.min(h, h + dy); r++) {
      const from = base + (r - dy) * w, to = base + r * w;
      for (let c = Math.max(0, dx); c < Math.min(w, w + dx); c++) out[to + c] = src[from + c - dx]!;
    }
  }
  return out;
}
