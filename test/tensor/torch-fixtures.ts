/**
 * Reading the committed PyTorch fixtures of tensor expressions (test/fixtures/gen_tensor_fixtures.py,
 * gen_tensorops_fixtures.py): the JSON's shapes, its inputs as tensors of a dtype, and an element-wise comparison
 * that treats NaN and ±Infinity (written as strings) exactly.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { NDArray, Tensor, type DType } from "../../packages/gradgraph/src/tensor/index.js";

export interface Arr {
  shape: number[];
  data: (number | string)[];
}
export interface Case {
  name: string;
  inputs: Record<string, Arr & { requires_grad: boolean }>;
  value: Arr;
  grads: Record<string, Arr>;
}

/** The fixture file `test/fixtures/<file>`. */
export function readFixtures(file: string): { torch: string; cases: Case[] } {
  return JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8")) as { torch: string; cases: Case[] };
}

/** A fixture number: "inf", "-inf" and "nan" are written as strings. */
export const num = (v: number | string): number => (typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN);

/** A case's inputs as tensors of `dtype`, requiring grad as in PyTorch. */
export function inputsOf(c: Case, dtype: DType): Tensor[] {
  return Object.values(c.inputs).map((a) => {
    const data = (dtype === "float64" ? Float64Array : Float32Array).from(a.data.map(num));
    return new Tensor(new NDArray(data, a.shape), { requiresGrad: a.requires_grad });
  });
}

/** `actual` has `expected`'s shape and each entry is within atol + rtol·|expected| (NaN and ±Infinity exactly). */
export function expectMatches(actual: Tensor, expected: Arr, rtol: number, atol: number, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.toArray();
  expected.data.forEach((e, i) => {
    const v = num(e), x = a[i]!;
    if (Number.isNaN(v)) expect(x, `${what}[${i}]`).toBeNaN();
    else if (!Number.isFinite(v)) expect(x, `${what}[${i}]`).toBe(v);
    else expect(Math.abs(x - v), `${what}[${i}]: ${x} vs ${v}`).toBeLessThanOrEqual(atol + rtol * Math.abs(v));
  });
}
