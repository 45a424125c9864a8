/**
 * Random tensors from the seeded, platform-independent generator of ./random.ts.
 */
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { checkedSize } from "../ops/shape.js";
import { arrayType, NDArray } from "./ndarray.js";
import { checkSeed, defaultGenerator, Generator } from "./random.js";
import { host } from "./recording.js";
import { Tensor, type TensorOptions } from "./tensor.js";

/** Options of the random tensors (`rand`, `randn`, `randint`): dtype, and where the numbers come from. */
export interface RandomOptions extends TensorOptions {
  dtype?: DType;
  /** A seed for a fresh generator (the same seed gives the same tensor everywhere). */
  seed?: number;
  /** A generator to draw from (its state advances); default: the global one (see `manualSeed`). */
  generator?: Generator;
}

const RANDOM = { dtype: true, seed: true, generator: true, requiresGrad: true, label: true } as const;
const RANDOM_KEYS = optionKeys<RandomOptions>(RANDOM);
const RAND_KEYS = optionKeys<RandomOptions & { low?: number; high?: number }>({ ...RANDOM, low: true, high: true });
const RANDN_KEYS = optionKeys<RandomOptions & { mean?: number; std?: number }>({ ...RANDOM, mean: true, std: true });

function draw(shape: readonly number[], options: RandomOptions, f: (g: Generator) => number): Tensor {
  const generator = () => options.generator ?? (options.seed !== undefined ? new Generator(checkSeed(options.seed, "random tensor")) : defaultGenerator);
  const size = checkedSize(shape, "random tensor"), T = arrayType(options.dtype ?? "float32");
  // A host step: a compiled step draws new numbers at each call (a fixed seed gives the same ones each time).
  const [value] = host("random", [], () => {
    const out = new T(size), g = generator();
    for (let i = 0; i < out.length; i++) out[i] = f(g);
    return [new NDArray(out, [...shape])];
  });
  return new Tensor(value!, options);
}

/**
 * Uniform in [low, high) (default [0, 1)).
 *
 * @example
 * rand([2, 3], { seed: 42 }).shape; // [2, 3], the same numbers on every platform
 */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  expectOptions("rand", options, RAND_KEYS);
  const lo = options.low ?? 0, hi = options.high ?? 1;
  return draw(shape, options, (g) => lo + (hi - lo) * g.uniform());
}

/**
 * Normal with mean 0 and standard deviation 1 (or `mean`, `std`).
 *
 * @example
 * randn([3], { seed: 0 }).toNested(); // three standard normals, reproducible
 */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  expectOptions("randn", options, RANDN_KEYS);
  const mu = options.mean ?? 0, sd = options.std ?? 1;
  return draw(shape, options, (g) => mu + sd * g.normal());
}

/**
 * Uniform integers in [low, high) (as floats). `low` and `high` are integers with low < high (PyTorch's rule:
 * an empty range is an InputError, not a tensor of made-up values).
 *
 * @example
 * randint(0, 10, [4], { seed: 0 }).shape; // [4], each of 0, 1, …, 9
 */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  for (const [name, v] of [["low", low], ["high", high]] as const) {
    if (!Number.isSafeInteger(v)) {
      const got = Array.isArray(v) ? `[${v.join(", ")}]` : typeof v === "number" ? String(v) : typeof v;
      throw new InputError(`randint: ${name} must be an integer, got ${got} (the arguments are randint(low, high, shape))`);
    }
  }
  if (low >= high) throw new InputError(`randint: expects low < high (the range [low, high) must hold a value), got low ${low}, high ${high}`);
  expectOptions("randint", options, RANDOM_KEYS);
  return draw(shape, options, (g) => low + g.int(high - low));
}
