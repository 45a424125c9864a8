import { expect, test } from "vitest";
import { ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { arange, eye, linspace, randn, tensor, zeros } from "../../packages/gradgraph/src/tensor/index.js";

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

// These made their typed array unchecked: a raw RangeError ("Invalid typed array length").
test("arange, linspace and eye check their size as every creation does", () => {
  const tooMany = "has 1.00e+12 elements, more than the 4.29e+9 one tensor can hold";
  expect(() => arange(0, 1e12)).toThrow(`arange: shape [1000000000000] ${tooMany}`);
  expect(() => linspace(0, 1, 1e12)).toThrow(`linspace: shape [1000000000000] ${tooMany}`);
  expect(() => eye(1e6)).toThrow(`eye: shape [1000000,1000000] ${tooMany}`);
  for (const f of [() => arange(0, 1e12), () => linspace(0, 1, 1e12), () => eye(1e6)]) expect(f).toThrow(ShapeError);
  expect(arange(3).toNested()).toEqual([0, 1, 2]);
});

// An array inside itself made the shape walk run until V8 aborted the process; 10,000 levels overflowed the stack.
test("tensor() refuses arrays nested more than 64 deep, and an array inside itself", () => {
  const loop: unknown[] = [];
  loop.push(loop);
  let deep: unknown = [1];
  for (let i = 0; i < 10_000; i++) deep = [deep];
  for (const x of [loop, deep]) {
    expect(() => tensor(x as number[])).toThrow(InputError);
    expect(() => tensor(x as number[])).toThrow("tensor: nested arrays more than 64 levels deep (a tensor has at most 64 axes); is an array inside itself?");
  }
  let ok: unknown = [1];
  for (let i = 1; i < 64; i++) ok = [ok];
  expect(tensor(ok as number[]).ndim).toBe(64);
});
