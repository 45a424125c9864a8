/**
 * A seeded pseudo-random generator that gives the same numbers on every platform and JavaScript engine.
 *
 * - Uniform: **mulberry32** (Tommy Ettinger's 32-bit generator: a Weyl sequence `s += 0x6D2B79F5` passed through
 *   a multiply–xorshift mix), all in exact 32-bit integer arithmetic (`Math.imul`, shifts). Each draw is
 *   `u = next() / 2³²` in [0, 1), 32 bits of resolution.
 * - Normal: the **Marsaglia polar method** (the trigonometry-free form of Box–Muller): draw u, v uniform in
 *   (-1, 1) until s = u² + v² is in (0, 1), then u·√(-2 ln s / s) and v·√(-2 ln s / s) are two independent
 *   standard normals (the second is kept for the next call). `ln` is computed by {@link detLog} from IEEE basic
 *   operations only (+, −, ×, ÷, √ are correctly rounded everywhere), not `Math.log`, whose last bit may differ
 *   between engines, so normals are bit-identical across platforms too.
 */
import { InputError } from "../core/errors.js";

/**
 * Natural logarithm from correctly rounded IEEE operations only (deterministic across engines), accurate to a
 * couple of ulps. x = m·2^e with m in [√½, √2); ln m = 2 atanh(f), f = (m−1)/(m+1), by its series.
 */
export function detLog(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN;
  if (x === Infinity) return Infinity;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  let e = ((view.getUint32(0) >>> 20) & 0x7ff) - 1023;
  if (e === -1023) {
    // Subnormal: scale into the normal range first.
    return detLog(x * 2 ** 64) - 64 * LN2;
  }
  // m = x / 2^e in [1, 2), by setting the exponent bits.
  view.setUint32(0, (view.getUint32(0) & 0x800fffff) | (1023 << 20));
  let m = view.getFloat64(0);
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  const f = (m - 1) / (m + 1), f2 = f * f;
  // 2 (f + f³/3 + f⁵/5 + …); |f| < 0.172, so 12 terms reach double precision.
  let term = f, sum = 0;
  for (let k = 1; k <= 25; k += 2) {
    sum += term / k;
    term *= f2;
  }
  return 2 * sum + e * LN2;
}

const LN2 = 0.6931471805599453;

/** The largest seed: the generator's state is 32 bits, so a larger seed could only repeat a smaller one's stream. */
export const MAX_SEED = 0xffffffff;

/** `seed`, checked: a whole number from 0 to {@link MAX_SEED} (each such seed gives its own stream). */
export function checkSeed(seed: number, where = "Generator"): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InputError(`${where}: a seed must be a whole number from 0 to ${MAX_SEED} (2^32 − 1), got ${typeof seed === "number" ? String(seed) : typeof seed === "string" ? JSON.stringify(seed) : typeof seed}`);
  }
  return seed;
}

/**
 * A seeded random generator (mulberry32 + the polar method). The same seed gives the same sequence on every
 * platform. A seed is a whole number from 0 to 2^32 − 1 (the state's 32 bits); anything else is refused, so that
 * no two accepted seeds give the same stream.
 *
 * @example
 * const g = new Generator(42);
 * g.uniform(); // a number in [0, 1)
 * g.normal();  // a standard normal
 */
export class Generator {
  private state: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.state = checkSeed(seed);
  }

  /** Restarts the sequence from `seed`. */
  seed(seed: number): void {
    this.state = checkSeed(seed, "Generator.seed");
    this.spare = null;
  }

  /** The generator's state (PyTorch's `get_state`): restoring it with {@link setState} replays the same numbers. */
  getState(): GeneratorState {
    return { state: this.state, spare: this.spare };
  }

  /** Restores a state from {@link getState} (a saved training run resumes its random streams with it). */
  setState(s: GeneratorState): void {
    if (!Number.isInteger(s?.state) || s.state < 0 || s.state > 0xffffffff || !(s.spare === null || Number.isFinite(s.spare))) {
      throw new InputError(`Generator.setState: expected { state: a 32-bit unsigned integer, spare: a number or null }, got ${JSON.stringify(s)}`);
    }
    this.state = s.state;
    this.spare = s.spare;
  }

  /** The next 32-bit unsigned integer (mulberry32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (mean 0, variance 1), by the polar method. */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1, v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const r = Math.sqrt((-2 * detLog(s)) / s);
      this.spare = v * r;
      return u * r;
    }
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** A generator's whole state: plain numbers, so it saves as JSON. */
export interface GeneratorState {
  state: number;
  /** The second normal of the last pair drawn, not yet used. */
  spare: number | null;
}

/** The generator used when no seed or generator is given (seed 0 at start; reseed with `manualSeed`). */
export const defaultGenerator = new Generator(0);

/**
 * The generator for something that draws random numbers (a layer's initial weights, a Dropout's masks): the
 * given generator, else a fresh one from the given seed (an explicit seed wins), else a stream of its own seeded
 * from the default generator. So two unseeded layers differ, two Dropouts draw different masks, and `manualSeed`
 * before building a model reproduces the whole run bit for bit, as with PyTorch's global generator.
 */
export function generatorFor(options: { readonly seed?: number | undefined; readonly generator?: Generator | undefined }, who = "Generator"): Generator {
  if (options.generator !== undefined) return options.generator;
  return new Generator(options.seed === undefined ? defaultGenerator.nextUint32() : checkSeed(options.seed, who)); // a bad seed named by who took it
}

/** Reseeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(checkSeed(seed, "manualSeed"));
}
