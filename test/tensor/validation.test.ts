/**
 * Run-time checks of what TypeScript checks only at compile time, for plain-JavaScript callers: dtype strings
 * everywhere a dtype is accepted, typed arrays of other element types, and slice specs.
 */
import { describe, expect, test } from "vitest";
import { InputError, ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { nn } from "../../packages/gradgraph/src/index.js";
import { arange, eye, flatten, fromTypedArray, full, rand, randint, randn, tensor, transpose, zeros, type SliceSpec, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

describe("dtype strings", () => {
  const allowed = 'expected "float32" or "float64"';
  for (const dtype of ["float16", "int32", "bogus", "Float32"]) {
    test(`${JSON.stringify(dtype)} is an InputError naming the allowed dtypes and what came, wherever a dtype is taken`, () => {
      const d = dtype as never;
      const entries: [string, () => unknown][] = [
        ["tensor", () => tensor([1, 2], { dtype: d })],
        ["tensor(Float32Array)", () => tensor(new Float32Array(2), { dtype: d })],
        ["zeros", () => zeros([2], { dtype: d })],
        ["full", () => full([2], 3, { dtype: d })],
        ["arange", () => arange(3, undefined, 1, { dtype: d })],
        ["randn", () => randn([2], { dtype: d })],
        ["rand", () => rand([2], { dtype: d })],
        ["cast", () => tensor([1]).cast(d)],
        ["nn.Linear", () => new nn.Linear(2, 3, { dtype: d })],
        ["nn.MLP", () => new nn.MLP([2, 3, 1], "relu", { dtype: d })],
        ["nn.Embedding", () => new nn.Embedding(4, 2, { dtype: d })],
      ];
      for (const [name, f] of entries) {
        expect(f, name).toThrow(InputError);
        expect(f, name).toThrow(`unknown dtype ${JSON.stringify(dtype)}: ${allowed}`);
      }
    });
  }

  test("fromTypedArray takes Float32Array/Float64Array only (an Int32Array was float32 in silence)", () => {
    expect(() => fromTypedArray(new Int32Array([1, 2]) as never)).toThrow("fromTypedArray: expected a Float32Array or Float64Array, got a Int32Array");
    expect(() => fromTypedArray([1, 2] as never)).toThrow("got an Array (use tensor() for plain arrays)");
    expect(() => tensor(new Uint8Array([1, 2]) as never)).toThrow("tensor: a Uint8Array cannot hold a tensor (float32 or float64); convert it, e.g. Float32Array.from(data)");
  });

  test("tensor(typedArray, { dtype }) converts to the dtype asked for (it kept the array's dtype), and shares a matching one", () => {
    const f32 = new Float32Array([1.5, 2]);
    const t = tensor(f32, { dtype: "float64" });
    expect(t.dtype).toBe("float64");
    expect(t.toNested()).toEqual([1.5, 2]);
    expect(tensor(new Float64Array([1])).dtype).toBe("float64");
    expect(tensor(f32).toArray()).toBe(f32);
  });
});

describe("slice specs", () => {
  const x = arange(12).reshape(3, 4);
  const sl = (...specs: unknown[]): Tensor => x.slice(...(specs as SliceSpec[]));

  test("null (or a missing part) inside a range is Python's None: [1, null] is 1:None, not an empty slice", () => {
    expect(sl([1, null]).shape).toEqual([2, 4]);
    expect(sl([1, null]).toNested()).toEqual(sl([1]).toNested());
    expect(sl(null, [null, null, 2]).toNested()).toEqual([[0, 2], [4, 6], [8, 10]]);
    expect(sl([null, -1]).shape).toEqual([2, 4]);
  });

  test("malformed specs are InputErrors showing the expected form", () => {
    const expected = "expected an integer index, [start, end, step] (integers; a part may be null or left out, as Python's None) or null for the whole axis";
    for (const [spec, got] of [
      ["1:3", '"1:3"'],
      [[1.5, 3], "[1.5,3]"],
      [[0, 1, 1, 1], "[0,1,1,1]"],
      [{ start: 1 }, '{"start":1}'],
      [true, "true"],
      [[0, "2"], '[0,"2"]'],
      [NaN, "NaN"], // not "null": null is a valid spec
    ] as const) {
      expect(() => sl(null, spec), String(got)).toThrow(InputError);
      expect(() => sl(null, spec), String(got)).toThrow(`slice: axis 1: ${expected}, got ${got}`);
    }
  });
});

describe("shapes", () => {
  test("a shape that is not an array (PyTorch's zeros(2, 3)) is an InputError showing the array form", () => {
    const entries: [string, () => unknown][] = [
      ["zeros", () => zeros(2 as never, 3 as never)],
      ["full", () => full(2 as never, 1)],
      ["randn", () => randn(3 as never)],
      ["rand", () => rand("2,3" as never)],
    ];
    for (const [name, f] of entries) {
      expect(f, name).toThrow(InputError);
      expect(f, name).toThrow(/: the shape is an array of sizes, such as \[2, 3\]; got (2|3|"2,3")$/);
    }
  });
});

describe("operands", () => {
  test("what is not a tensor or a number is an InputError that shows it (arrays and null said 'got object')", () => {
    const x = tensor([1, 2, 3]);
    expect(() => x.add([1, 2, 3] as never)).toThrow(new InputError("expected a tensor or a number, got [1,2,3]"));
    expect(() => x.mul(null as never)).toThrow(new InputError("expected a tensor or a number, got null"));
    expect(() => x.add("1" as never)).toThrow(new InputError('expected a tensor or a number, got "1"'));
  });

  test("clamp's bounds are checked too (PyTorch's clamp(min=2) as an object was a TypeError from inside)", () => {
    expect(() => tensor([1, 2, 3]).clamp({ min: 2 } as never)).toThrow(new InputError('expected a tensor or a number, got {"min":2}'));
    expect(tensor([1, 2, 3]).clamp(2, null).toNested()).toEqual([2, 2, 3]);
    expect(tensor([1, 2, 3]).clamp(2, 2.5).dtype).toBe("float32");
    expect(tensor([1, 2, 3]).clamp(undefined, tensor(2)).toNested()).toEqual([1, 2, 2]);
  });
});

test("an axis that is not a whole number says so, not that it is out of range", () => {
  expect(() => tensor([[1, 2], [3, 4]]).max(1.5)).toThrow("an axis is a whole number (from -2 to 1 for shape [2,2]), got 1.5");
  expect(() => tensor([[1, 2], [3, 4]]).sum(2)).toThrow("axis 2 is out of range for shape [2,2]");
});

describe("ranges and the identity", () => {
  test("arange and eye check their numbers (arange(5, { dtype }) made a tensor of shape [NaN], eye(2.5) one of [2.5, 2.5])", () => {
    expect(() => arange(5, { dtype: "float64" } as never)).toThrow(
      'arange: end must be a finite number, got {"dtype":"float64"} (options come fourth: arange(start, end, step, options))',
    );
    expect(() => arange(NaN)).toThrow(InputError);
    expect(() => arange(NaN)).toThrow("arange: start must be a finite number, got NaN");
    expect(() => arange(0, Infinity)).toThrow("arange: end must be a finite number, got Infinity");
    expect(() => arange("5" as never)).toThrow('arange: start must be a finite number, got "5"');
    expect(() => eye(2.5)).toThrow("eye: sizes must be whole numbers ≥ 0, got 2.5");
    expect(() => eye(2, NaN)).toThrow(InputError);
    expect(arange(2, undefined, 1, { dtype: "float64" }).toNested()).toEqual([0, 1]);
    expect(eye(0).shape).toEqual([0, 0]);
  });
});

describe("arguments PyTorch takes, not ignored (a reviewer's findings)", () => {
  test("randint refuses an empty range (low >= high) and non-integer bounds, as PyTorch's 'expects from < to'", () => {
    expect(() => randint(5, 3, [5], { seed: 0 })).toThrow(InputError);
    expect(() => randint(5, 3, [5], { seed: 0 })).toThrow("randint: expects low < high (the range [low, high) must hold a value), got low 5, high 3");
    expect(() => randint(3, 3, [2], { seed: 0 })).toThrow("got low 3, high 3");
    expect(() => randint(0.5, 3, [2])).toThrow("randint: low must be an integer, got 0.5");
    expect(() => randint(0, NaN, [2])).toThrow("randint: high must be an integer, got NaN");
    expect(() => randint(5, [3] as never, [2])).toThrow("randint: high must be an integer, got [3] (the arguments are randint(low, high, shape))");
    const k = randint(-2, 2, [200], { seed: 1 }).toArray();
    expect(Math.min(...k)).toBe(-2);
    expect(Math.max(...k)).toBe(1);
    expect(randint(4, 5, [3], { seed: 0 }).toNested()).toEqual([4, 4, 4]);
  });

  test("flatten(startDim, endDim) is PyTorch's: [2,3,4].flatten(1) is [2,12] (the argument was ignored: [24])", () => {
    const x = zeros([2, 3, 4]);
    expect(x.flatten().shape).toEqual([24]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten(0, 1).shape).toEqual([6, 4]);
    expect(x.flatten(-2).shape).toEqual([2, 12]);
    expect(x.flatten(1, -2).shape).toEqual([2, 3, 4]);
    expect(x.flatten(2, 2)).toBe(x); // nothing to merge: x itself, as reshape to its own shape
    expect(flatten(x, 1, 2).shape).toEqual([2, 12]); // the free function takes them too
    expect(tensor(3).flatten().shape).toEqual([1]); // PyTorch: a 0-d tensor flattens to [1]
    expect(tensor(3).flatten(-1, 0).shape).toEqual([1]);
    expect(zeros([0, 3]).flatten(1).shape).toEqual([0, 3]);
    expect(() => x.flatten(2, 1)).toThrow(ShapeError);
    expect(() => x.flatten(2, 1)).toThrow("flatten: startDim 2 comes after endDim 1 for shape [2,3,4]");
    expect(() => x.flatten(3)).toThrow("flatten: axis 3 is out of range for shape [2,3,4]");
    expect(() => x.flatten(0, -4)).toThrow(ShapeError);
    expect(() => tensor(3).flatten(1)).toThrow("flatten: axis 1 is out of range for shape []");
    expect(() => x.flatten(0.5)).toThrow(ShapeError);
  });

  test("flatten(1) is a reshape: the gradient comes back in the input's shape and order", () => {
    const x = arange(24, undefined, 1, { dtype: "float64" }).reshape(2, 3, 4).detach();
    x.requiresGrad = true;
    const w = arange(24, undefined, 1, { dtype: "float64" }).reshape(2, 12);
    const y = x.flatten(1);
    expect(y.toNested()).toEqual(x.reshape(2, 12).toNested());
    y.mul(w).sum().backward();
    expect(x.grad!.shape).toEqual([2, 3, 4]);
    expect(Array.from(x.grad!.toArray())).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  test("transpose takes two dims or none; one alone is an InputError (it was taken as (0, -1), silently)", () => {
    const x = zeros([2, 3, 4]);
    expect(x.transpose().shape).toEqual([4, 3, 2]); // no dims: all axes reversed (documented; x.T)
    expect(x.transpose(0, 1).shape).toEqual([3, 2, 4]);
    expect(x.transpose(-1, 0).shape).toEqual([4, 3, 2]);
    expect(() => x.transpose(0)).toThrow(InputError);
    expect(() => x.transpose(0)).toThrow("transpose: give two axes to swap (transpose(0, 1)) or none to reverse them all, got only 0");
    expect(() => x.transpose(undefined, 1)).toThrow(InputError);
    expect(() => transpose(x, 1)).toThrow(InputError);
    expect(() => x.transpose(0, 3)).toThrow("transpose: axis 3 is out of range for shape [2,3,4]");
  });

  test("permute refuses what is not a permutation of the axes", () => {
    const x = zeros([2, 3, 4]);
    expect(x.permute(2, 0, 1).shape).toEqual([4, 2, 3]);
    expect(x.permute(-1, 0, 1).shape).toEqual([4, 2, 3]);
    for (const perm of [[0], [0, 0, 1], [0, 1, 5], [0, 1, 1.5], [0, 1, -4], [0, 1, 2, 3]]) {
      expect(() => x.permute(...perm), JSON.stringify(perm)).toThrow(ShapeError);
    }
    expect(() => x.permute(0)).toThrow("permute: [0] is not a permutation of the axes of [2,3,4]");
  });
});
