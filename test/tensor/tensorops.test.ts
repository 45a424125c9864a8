/** Conventions and errors of the tensor ops of issue 11 that the PyTorch fixtures do not reach. */
import { describe, expect, test } from "vitest";
import { einsum, engine, tensor } from "../../packages/gradgraph/src/tensor/index.js";

const f64 = (v: number[] | number[][]) => tensor(v, { dtype: "float64" });

describe("argmax / argmin", () => {
  test("the first of tied extrema, a NaN counting as the extremum; positions in the input's dtype, no gradient", () => {
    const x = tensor([[1, 3, 3], [2, NaN, 5]], { requiresGrad: true });
    expect(x.argmax(1).toNested()).toEqual([1, 1]);
    expect(x.argmin(1).toNested()).toEqual([0, 1]);
    expect(x.argmax().toNested()).toEqual(4);
    expect(x.argmax(1).dtype).toBe("float32");
    expect(x.argmax(1).requiresGrad).toBe(false);
    expect(() => tensor([[]]).argmax(1)).toThrow("argmax: cannot take the argmax of an empty axis of shape [1,0]");
  });
});

describe("comparisons", () => {
  test("1/0 in the operands' dtype; NaN compares false except ne", () => {
    const a = f64([1, 2, NaN]), b = f64([2, 2, NaN]);
    expect([a.lt(b), a.le(b), a.ge(b), a.ne(b)].map((t) => t.toNested())).toEqual([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 1]]);
    expect(a.lt(b).dtype).toBe("float64");
  });
});

describe("norm", () => {
  test("the 2-norm of zeros has gradient 0 (PyTorch), not NaN; bad orders are refused", () => {
    const z = f64([0, 0, 0]);
    z.requiresGrad = true;
    const [g] = engine.gradients([z.norm()], [z]);
    expect(g!.toNested()).toEqual([0, 0, 0]);
    expect(() => f64([1]).norm(-1)).toThrow("norm: the order p must be a positive number, 0 or ±Infinity, got -1");
  });
});

describe("sort / topk", () => {
  test("NaN sorts last ascending and first descending; stable at ties", () => {
    const x = f64([2, NaN, 1, 2]);
    expect(x.sort().indices.toNested()).toEqual([2, 0, 3, 1]);
    expect(x.sort(0, true).indices.toNested()).toEqual([1, 0, 3, 2]);
    expect(() => x.topk(5)).toThrow("topk: k = 5 is out of range for axis 0 of shape [4]");
  });
  test("the gradient scatters back to where each value came from", () => {
    const x = f64([3, 1, 2]);
    x.requiresGrad = true;
    const { values } = x.topk(2);
    values.mul(f64([10, 100])).sum().backward();
    expect(x.grad!.toNested()).toEqual([10, 0, 100]);
  });
});

describe("split / chunk / pad", () => {
  test("shapes as in PyTorch, and errors that say what was expected", () => {
    expect(f64([1, 2, 3, 4, 5]).split(2).map((p) => p.toNested())).toEqual([[1, 2], [3, 4], [5]]);
    expect(f64([1, 2, 3, 4, 5]).chunk(2).map((p) => p.toNested())).toEqual([[1, 2, 3], [4, 5]]);
    expect(() => f64([1, 2, 3]).split([1, 1])).toThrow("split: sizes [1, 1] do not add up to 3, the size of axis 0 of [3]");
    expect(f64([[1, 2]]).pad([1, 0, 0, 1], 9).toNested()).toEqual([[9, 1, 2], [9, 9, 9]]);
    expect(() => f64([1, 2]).pad([1, 2, 3])).toThrow("pad: the spec must be integer [before, after] pairs");
    // A plain-JS caller's PyTorch keyword object is refused by name, not a TypeError deep in broadcasting.
    expect(() => f64([1, 2]).pad([1, 1], { value: 9 } as unknown as number)).toThrow('pad: the constant must be a number, got {"value":9}');
  });
});

describe("einsum", () => {
  test("contractions equal their direct forms; bad specs say what was expected", () => {
    const a = f64([[1, 2], [3, 4]]), b = f64([[5, 6], [7, 8]]);
    expect(einsum("ij,jk->ik", a, b).toNested()).toEqual(a.matmul(b).toNested());
    expect(einsum("ij->ji", a).toNested()).toEqual([[1, 3], [2, 4]]);
    expect(() => einsum("ij,jk", a)).toThrow('einsum: "ij,jk" names 2 operands, got 1');
    expect(() => einsum("ij,jk->ik", a, f64([[1, 2, 3]]))).toThrow("einsum: letter j has size 2 in one operand and 1 in another");
    expect(() => einsum("i->j", f64([1]))).toThrow("einsum: output letter j of \"i->j\" is in no operand");
    expect(() => einsum("i-j", f64([1]))).toThrow("einsum: cannot read");
  });
});

test("pad with an infinite constant keeps the elements (no ∞·0 inside) and its gradient", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.pad([1, 1], -Infinity);
  expect(y.toNested()).toEqual([-Infinity, 1, 2, -Infinity]);
  y.mul(tensor([5, 6, 7, 8])).sum().backward();
  expect(x.grad!.toNested()).toEqual([6, 7]);
});
