import { expect, test } from "vitest";
import { ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { randn, zeros } from "../../packages/gradgraph/src/tensor/index.js";

test("an op whose result is too large for one tensor is a ShapeError naming the op and the shape", () => {
  const col = zeros([100_000, 1]);
  const row = zeros([1, 100_000]);
  expect(() => col.matmul(row)).toThrow(ShapeError);
  expect(() => col.matmul(row)).toThrow("matmul: shape [100000,100000] has 1.00e+10 elements, more than the 4.29e+9 one tensor can hold");
});

test("creation checks its shape", () => {
  expect(() => zeros([-1, 2])).toThrow("full: sizes must be whole numbers ≥ 0, got shape [-1,2]");
  expect(() => zeros([1.5])).toThrow(ShapeError);
  expect(() => randn([100_000, 100_000])).toThrow("random tensor: shape [100000,100000] has 1.00e+10 elements");
  expect(zeros([0, 3]).shape).toEqual([0, 3]);
});
