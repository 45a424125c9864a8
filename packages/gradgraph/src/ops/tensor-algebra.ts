/**
 * Builds a {@link TensorAlgebra} from the op table: one method per primitive (elementwise and tensor), each
 * applying the op through a single `apply` function. This is the whole of what a tensor engine must provide to
 * run every rule of the table.
 */
import { elementwiseList } from "./elementwise.js";
import type { AlgebraCaps, AnyOp, Arg, DType, TensorAlgebra } from "./op.js";
import { tensorOpList } from "./registry.js";
import type { Shape } from "./shape.js";

/** What an engine supplies: how to apply an op, lift a number, and inspect a value. */
export interface TensorAlgebraParts<T> {
  /** Applies a primitive to its inputs (numbers already lifted) with its parameters. */
  apply(op: AnyOp, inputs: T[], params: unknown): T;
  /** A constant (0-d; it adopts the dtype of the values it meets). */
  lift(c: number): T;
  shape(x: T): Shape;
  dtype(x: T): DType;
  detach(x: T): T;
  /**
   * Whether a value holds a NaN (true when unsure); lets `scale` skip its mask when no ∞·0 happened. Absent (a
   * printing algebra): `scale` is the plain product.
   */
  hasNaN?(x: T): boolean;
  /** What the algebra can do beyond the ops (see `AlgebraCaps`). */
  caps?: AlgebraCaps<T>;
}

/** The algebra whose every method applies an op of the table through `parts.apply`. */
export function tensorAlgebraOf<T>(parts: TensorAlgebraParts<T>): TensorAlgebra<T> {
  const { apply, lift } = parts;
  const up = (x: Arg<T>): T => (typeof x === "number" ? lift(x) : x);
  const o: Record<string, unknown> = {
    lift,
    shape: parts.shape,
    dtype: parts.dtype,
    detach: parts.detach,
    ...(parts.caps ? { caps: parts.caps } : {}),
  };
  for (const op of elementwiseList) {
    o[op.name] = op.arity === 1 ? (a: Arg<T>) => apply(op, [up(a)], undefined) : (a: Arg<T>, b: Arg<T>) => apply(op, [up(a), up(b)], undefined);
  }
  for (const op of tensorOpList) {
    const arity = op.arity;
    o[op.name] =
      arity === "variadic"
        ? (xs: readonly Arg<T>[], params: unknown) => apply(op, xs.map(up), params)
        : (...args: unknown[]) => apply(op, (args.slice(0, arity) as Arg<T>[]).map(up), args[arity]);
  }
  const alg = o as TensorAlgebra<T>;
  o.scale = (p: Arg<T>, t: T) => {
    const m = alg.mul(p, t);
    return parts.hasNaN?.(m) === true ? strongZero(alg, up(p), t) : m;
  };
  return alg;
}

/**
 * `p · t` with 0 where the tangent `t` is 0 (Algebra.scale), for a product that came out NaN somewhere (∞·0):
 * `p` is replaced by 0 only where it is not finite and `t` is 0, so that on graph tensors the derivative of the
 * result with respect to each factor stays the other factor wherever that is finite.
 */
function strongZero<T>(o: TensorAlgebra<T>, p: T, t: T): T {
  const nonFinite = (x: T) => o.eq(o.eq(o.sub(x, x), 0), 0); // ∞ - ∞ and NaN - NaN are NaN
  return o.mul(o.where(o.mul(o.eq(t, 0), nonFinite(p)), 0, p), t);
}
