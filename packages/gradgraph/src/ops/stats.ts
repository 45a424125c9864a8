/**
 * Statistics and norms, written once against {@link TensorAlgebra} from primitives of the table (composites:
 * their gradients, any order and either mode, follow from their parts): var, std, norm.
 */
import { InputError } from "../core/errors.js";
import type { Axes, ReduceOptions } from "./composite.js";
import { mean } from "./composite.js";
import type { TensorAlgebra } from "./op.js";
import { normalizeAxes } from "./shape.js";

/** PyTorch's options of var/std: `correction` (default 1, Bessel's), or `unbiased` (true: 1, false: 0), and the dims/keepdim. */
export interface VarOptions extends ReduceOptions {
  /** Divide by N − correction (default 1: Bessel's correction; 0: the population variance). */
  correction?: number;
  /** The older spelling: true is correction 1, false is correction 0. */
  unbiased?: boolean;
}

/**
 * Σ (x − mean)² / (N − correction) over axes (all by default). N − correction ≤ 0 divides by 0 (inf or NaN), as
 * in PyTorch. The mean is not detached: the Hessian needs its dependence on x.
 */
export function variance<T>(o: TensorAlgebra<T>, x: T, axes?: Axes, options: VarOptions = {}): T {
  const shape = o.shape(x);
  const ax = normalizeAxes(axes, shape, "var");
  if (options.correction !== undefined && options.unbiased !== undefined) throw new InputError("var: give correction or unbiased, not both");
  const correction = options.correction ?? (options.unbiased === false ? 0 : 1);
  let n = 1;
  for (const a of ax) n *= shape[a]!;
  const d = o.sub(x, mean(o, x, ax, true));
  return o.div(o.sum(o.square(d), { axes: ax, keepdims: options.keepdims === true }), Math.max(0, n - correction));
}

/**
 * √var (same options). At zero variance (constant data) its gradient is 0, as in PyTorch (not √'(0)·0 = ∞·0 =
 * NaN: `rootOrZero`); where var itself is NaN (one element with correction 1) it stays NaN.
 */
export function std<T>(o: TensorAlgebra<T>, x: T, axes?: Axes, options: VarOptions = {}): T {
  return rootOrZero(o, variance(o, x, axes, options), (s) => o.sqrt(s));
}

/** The order of a vector norm: a positive number, Infinity (max |x|), -Infinity (min |x|) or 0 (count of nonzeros). */
export type NormOrd = number;

/** `root(s)` where s ≠ 0, 0 where s = 0, with a zero gradient there (not root'(0)·0 = ∞·0 = NaN): PyTorch's norm at 0. */
function rootOrZero<T>(o: TensorAlgebra<T>, s: T, root: (v: T) => T): T {
  const zero = o.eq(s, 0);
  return o.where(zero, 0, root(o.where(zero, 1, s)));
}

/**
 * The vector norm over axes (all by default), as `torch.linalg.vector_norm`: p = 2 (default) √Σx², p = 1 Σ|x|,
 * p = ±Infinity max/min |x| (the gradient split evenly at ties, as amax), p = 0 the count of nonzeros, any other
 * p > 0 (Σ|x|^p)^(1/p). At x = 0 the 2- and p-norms have gradient 0, as in PyTorch.
 */
export function norm<T>(o: TensorAlgebra<T>, x: T, p: NormOrd = 2, axes?: Axes, keepdims = false): T {
  const ax = normalizeAxes(axes, o.shape(x), "norm");
  const r = { axes: ax, keepdims };
  if (p === Infinity) return o.amax(o.abs(x), r);
  if (p === -Infinity) return o.amin(o.abs(x), r);
  if (p === 0) return o.sum(o.ne(x, 0), r);
  if (p === 1) return o.sum(o.abs(x), r);
  if (p === 2) return rootOrZero(o, o.sum(o.square(x), r), (s) => o.sqrt(s));
  if (!(p > 0) || !Number.isFinite(p)) throw new InputError(`norm: the order p must be a positive number, 0 or ±Infinity, got ${p}`);
  return rootOrZero(o, o.sum(o.pow(o.abs(x), p), r), (s) => o.pow(s, 1 / p));
}
