/** Small helpers for the functional-transform tests. */
import { expect } from "vitest";
import { tensor, type NestedArray, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/** A float64 tensor. */
export const t64 = (x: NestedArray, label?: string): Tensor => tensor(x, { dtype: "float64", ...(label === undefined ? {} : { label }) });

/** Flat values of a tensor or nested array. */
export const flat = (x: Tensor | NestedArray): number[] => (typeof x === "number" || Array.isArray(x) ? [x].flat(Infinity as 1) as number[] : Array.from(x.toArray()));

/** Elementwise closeness with a relative and absolute tolerance, and equal shapes. */
export function expectClose(actual: Tensor, expected: Tensor | NestedArray, tol = 1e-9): void {
  const a = flat(actual), e = flat(expected);
  if (typeof expected === "object" && !Array.isArray(expected)) expect(actual.shape).toEqual(expected.shape);
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    const err = Math.abs(v - e[i]!);
    if (!(err <= tol * (1 + Math.abs(e[i]!)))) expect(v, `element ${i}`).toBe(e[i]);
  });
}
