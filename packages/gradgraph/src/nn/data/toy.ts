/**
 * Toy datasets generated in code from the seeded generator (the same seed gives the same points everywhere):
 * two moons, two circles, spirals, XOR, and a 1-D regression curve. 2-D classification sets are what the
 * training report draws decision boundaries for.
 */
import { InputError } from "../../core/errors.js";
import { expectFunction, expectOptions, optionKeys } from "../../core/expect.js";
import type { DType } from "../../ops/op.js";
import { arrayType } from "../../tensor/ndarray.js";
import { checkSeed, Generator } from "../../tensor/random.js";
import { fromTypedArray } from "../../tensor/tensor.js";
import { Dataset, permutation } from "./dataset.js";

/** Options of the generated datasets ({@link moons}, {@link circles}, {@link spirals}, {@link xor}): noise, seed, dtype, shuffling. */
export interface ToyOptions {
  /** Standard deviation of Gaussian noise added to the points. */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Shuffle the samples (default true; otherwise class by class). */
  shuffle?: boolean;
}

const TOY = { noise: true, seed: true, dtype: true, shuffle: true } as const;
const TOY_KEYS = optionKeys<ToyOptions>(TOY);

function checkCount(n: number, what: string, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new InputError(`${what}: the number of samples must be an integer ≥ ${min}, got ${n}`);
}

/** The noise's standard deviation: a finite number ≥ 0 (NaN made every point NaN; a negative one was used as is). */
function noiseOf(o: ToyOptions, fallback: number, what: string): number {
  const noise = o.noise ?? fallback;
  if (typeof noise !== "number" || !Number.isFinite(noise) || noise < 0) throw new InputError(`${what}: noise must be a finite number ≥ 0, got ${String(noise)}`);
  return noise;
}

/** A 2-D classification dataset from point and label arrays, shuffled unless told not to. */
function make2d(name: string, xs: number[], ys: number[], labels: number[], classes: string[], o: ToyOptions, g: Generator): Dataset {
  const n = labels.length;
  const order = o.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : permutation(n, g);
  const X = new (arrayType(o.dtype ?? "float32"))(2 * n), Y = new (arrayType(o.dtype ?? "float32"))(n);
  order.forEach((src, i) => {
    X[2 * i] = xs[src]!;
    X[2 * i + 1] = ys[src]!;
    Y[i] = labels[src]!;
  });
  // A noise of 1e300 is finite, but its points are not (in float32 from 3.4e38 on): every loss would be NaN.
  if (!X.every(Number.isFinite)) throw new InputError(`${name}: noise ${o.noise} puts points beyond ${o.dtype ?? "float32"}'s range`);
  return new Dataset(fromTypedArray(X, [n, 2]), fromTypedArray(Y, [n]), { name, task: "classification", classes, features: ["x1", "x2"] });
}

/** `n` evenly spaced values from a to b (b included unless `endpoint` is false). */
function linspace(a: number, b: number, n: number, endpoint = true): number[] {
  const d = endpoint ? n - 1 : n;
  return Array.from({ length: n }, (_, i) => (d === 0 ? a : a + ((b - a) * i) / d));
}

/**
 * Two interleaving half circles (scikit-learn's `make_moons`): the upper moon is class 0, the lower class 1.
 *
 * @example
 * const ds = moons(200, { noise: 0.1, seed: 0 }); // x: [200, 2], y: [200] in {0, 1}
 */
export function moons(n = 200, o: ToyOptions = {}): Dataset {
  expectOptions("moons", o, TOY_KEYS);
  checkCount(n, "moons", 2);
  const g = new Generator(checkSeed(o.seed ?? 0, "moons")), noise = noiseOf(o, 0.1, "moons");
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  const xs: number[] = [], ys: number[] = [], labels: number[] = [];
  for (const t of linspace(0, Math.PI, nOut)) xs.push(Math.cos(t)), ys.push(Math.sin(t)), labels.push(0);
  for (const t of linspace(0, Math.PI, nIn)) xs.push(1 - Math.cos(t)), ys.push(0.5 - Math.sin(t)), labels.push(1);
  for (let i = 0; i < n; i++) (xs[i]! += noise * g.normal()), (ys[i]! += noise * g.normal());
  return make2d("moons", xs, ys, labels, ["upper", "lower"], o, g);
}

/**
 * A circle inside another (scikit-learn's `make_circles`): the outer circle (radius 1) is class 0, the inner
 * (radius `factor`) class 1.
 */
export function circles(n = 200, o: ToyOptions & { factor?: number } = {}): Dataset {
  expectOptions("circles", o, optionKeys<ToyOptions & { factor?: number }>({ ...TOY, factor: true }));
  checkCount(n, "circles", 2);
  const g = new Generator(checkSeed(o.seed ?? 0, "circles")), noise = noiseOf(o, 0.05, "circles"), factor = o.factor ?? 0.5;
  if (!(factor > 0 && factor < 1)) throw new InputError(`circles: factor must be in (0, 1), got ${factor}`);
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  const xs: number[] = [], ys: number[] = [], labels: number[] = [];
  for (const t of linspace(0, 2 * Math.PI, nOut, false)) xs.push(Math.cos(t)), ys.push(Math.sin(t)), labels.push(0);
  for (const t of linspace(0, 2 * Math.PI, nIn, false)) xs.push(factor * Math.cos(t)), ys.push(factor * Math.sin(t)), labels.push(1);
  for (let i = 0; i < n; i++) (xs[i]! += noise * g.normal()), (ys[i]! += noise * g.normal());
  return make2d("circles", xs, ys, labels, ["outer", "inner"], o, g);
}

/**
 * Interleaved spiral arms, one class per arm (the CS231n spiral): arm k at radius r ∈ [0, 1] has angle
 * 4k + 4r (radians) plus noise·N(0, 1).
 */
export function spirals(n = 300, o: ToyOptions & { classes?: number } = {}): Dataset {
  expectOptions("spirals", o, optionKeys<ToyOptions & { classes?: number }>({ ...TOY, classes: true }));
  const k = o.classes ?? 3;
  checkCount(k, "spirals: classes", 2);
  checkCount(n, "spirals", k);
  const g = new Generator(checkSeed(o.seed ?? 0, "spirals")), noise = noiseOf(o, 0.2, "spirals");
  const xs: number[] = [], ys: number[] = [], labels: number[] = [];
  for (let c = 0; c < k; c++) {
    const m = Math.floor(n / k) + (c < n % k ? 1 : 0);
    const r = linspace(0, 1, m);
    for (let i = 0; i < m; i++) {
      const t = (4 * c + 4 * r[i]!) + noise * g.normal();
      xs.push(r[i]! * Math.sin(t));
      ys.push(r[i]! * Math.cos(t));
      labels.push(c);
    }
  }
  return make2d("spirals", xs, ys, labels, Array.from({ length: k }, (_, c) => `arm ${c}`), o, g);
}

/**
 * XOR: points near the corners (0,0), (0,1), (1,0), (1,1) labelled a XOR b. `xor(4, { noise: 0 })` is the truth
 * table itself (the classic problem a single layer cannot solve).
 */
export function xor(n = 200, o: ToyOptions = {}): Dataset {
  expectOptions("xor", o, TOY_KEYS);
  checkCount(n, "xor", 4);
  const g = new Generator(checkSeed(o.seed ?? 0, "xor")), noise = noiseOf(o, 0.1, "xor");
  const xs: number[] = [], ys: number[] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = i & 1, b = (i >> 1) & 1;
    xs.push(a + noise * g.normal());
    ys.push(b + noise * g.normal());
    labels.push(a ^ b);
  }
  return make2d("xor", xs, ys, labels, ["a = b", "a ≠ b"], { ...o, shuffle: o.shuffle ?? n > 4 }, g);
}

/**
 * 1-D regression: x uniform in [−π, π], y = sin(x) + noise·N(0, 1); x of shape [n, 1], y of shape [n, 1].
 * `fn` picks another curve.
 */
export function regression1d(n = 200, o: ToyOptions & { fn?: (x: number) => number; range?: readonly [number, number] } = {}): Dataset {
  expectOptions("regression1d", o, optionKeys<ToyOptions & { fn?: (x: number) => number; range?: readonly [number, number] }>({ ...TOY, fn: true, range: true }));
  checkCount(n, "regression1d");
  if (o.fn !== undefined) expectFunction(o.fn, "regression1d", "fn");
  const g = new Generator(checkSeed(o.seed ?? 0, "regression1d")), noise = noiseOf(o, 0.1, "regression1d"), f = o.fn ?? Math.sin;
  const [lo, hi] = o.range ?? [-Math.PI, Math.PI];
  const T = arrayType(o.dtype ?? "float32");
  const X = new T(n), Y = new T(n);
  for (let i = 0; i < n; i++) {
    const x = lo + (hi - lo) * g.uniform();
    X[i] = x;
    Y[i] = f(x) + noise * g.normal();
  }
  return new Dataset(fromTypedArray(X, [n, 1]), fromTypedArray(Y, [n, 1]), { name: "regression1d", task: "regression", features: ["x"] });
}
