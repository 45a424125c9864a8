/**
 * Algebras derived from the op table. A rule written once against `Algebra<T>` runs on each of them.
 */
import { elementwiseList } from "./elementwise.js";
import type { Algebra, Arg, ElementwiseOp } from "./op.js";

/**
 * Builds an algebra whose every method applies the op through `apply`, lifting plain numbers with `lift`.
 * This is the whole of what an engine must provide to run every rule of the table.
 */
export function algebraOf<T>(apply: (op: ElementwiseOp, args: T[]) => T, lift: (c: number) => T): Algebra<T> {
  const o: Record<string, unknown> = { lift };
  for (const op of elementwiseList) {
    o[op.name] = (...xs: Arg<T>[]) => apply(op, xs.map((x) => (typeof x === "number" ? lift(x) : x)));
  }
  // Names and graphs of Values: `scale` prints and builds as the plain product `p * t`.
  o.scale = o.mul;
  return o as Algebra<T>;
}

/** `p · t`, but 0 where the tangent `t` is 0 (see {@link Algebra.scale}): the rule on numbers. */
export const scaleNumber = (p: number, t: number): number => (t === 0 ? 0 : p * t);

/** Numbers: every method is the op's forward function itself (no wrapping on this hot path). */
export const numberAlgebra: Algebra<number> = (() => {
  const o: Record<string, unknown> = { lift: (c: number) => c, scale: scaleNumber };
  for (const op of elementwiseList) o[op.name] = op.forward;
  return o as Algebra<number>;
})();
