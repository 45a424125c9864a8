/**
 * The reductions' PyTorch-style arguments: `max(dim?, keepdim?)`/`min` reduce (values only; `argmax` gives the
 * positions), `maximum`/`minimum` are elementwise, and every reduction takes `dim`/`keepdim` positionally or as
 * `{ dim, keepdim }` / `{ axis, keepdims }`, checked at run time for plain-JavaScript callers.
 */
import { describe, expect, test } from "vitest";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { compileTensor, parseProgram, tensorFunctions } from "../../packages/gradgraph/src/lang/index.js";
import { functional as F } from "../../packages/gradgraph/src/index.js";
import { randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const X = tensor([[1, 5, -2], [3, 2, 7]], { dtype: "float64" });

describe("max/min reduce like PyTorch's, returning the values", () => {
  test("no dim: over everything, a 0-d tensor", () => {
    expect(X.max().shape).toEqual([]);
    expect(X.max().item()).toBe(7);
    expect(X.min().item()).toBe(-2);
  });

  test("a dim, negative dims, a list of dims, keepdim", () => {
    expect(X.max(0).toNested()).toEqual([3, 5, 7]);
    expect(X.max(1).toNested()).toEqual([5, 7]);
    expect(X.max(-1).toNested()).toEqual([5, 7]);
    expect(X.min(-2).toNested()).toEqual([1, 2, -2]);
    expect(X.max(-1, true).toNested()).toEqual([[5], [7]]);
    expect(X.min(0, true).shape).toEqual([1, 3]);
    expect(X.max([0, 1]).item()).toBe(7);
    expect(X.max([0, -1], true).shape).toEqual([1, 1]);
    expect(X.max({ dim: 1, keepdim: true }).toNested()).toEqual([[5], [7]]);
    expect(X.min({ axis: 1, keepdims: false }).toNested()).toEqual([-2, 2]);
  });

  test("the positions come from argmax/argmin on Tensor, with the same dim/keepdim", () => {
    expect(X.argmax().item()).toBe(5);
    expect(X.argmax(1).toNested()).toEqual([1, 2]);
    expect(X.argmin(-1).toNested()).toEqual([2, 1]);
    expect(X.argmax(0, true).toNested()).toEqual([[1, 0, 1]]);
    expect(X.argmax({ dim: -1, keepdim: true }).shape).toEqual([2, 1]);
    // values and positions agree: gather the argmax back
    expect(X.gather(1, X.argmax(1, true)).reshape(-1).toNested()).toEqual(X.max(1).toNested());
  });

  test("gradients of max/min over dims pass gradcheck (reverse and forward), negative dims and keepdim included", () => {
    const a = randn([3, 4, 2], { seed: 7, dtype: "float64" });
    const fns: [string, (x: Tensor) => Tensor][] = [
      ["max()", (x) => x.max()],
      ["max(0)", (x) => x.max(0).sum()],
      ["max(-1, true)", (x) => x.max(-1, true).mul(x).sum()],
      ["min(-2)", (x) => x.min(-2).square().sum()],
      ["min([0, 2], true)", (x) => x.min([0, 2], true).mul(x).sum()],
      ["max({ dim: 1 })", (x) => x.max({ dim: 1 }).sin().sum()],
    ];
    for (const [name, f] of fns) expect(gradcheck(f, [a]).message, name).toBe("gradcheck: ok");
  });

  test("at a tie the gradient is split evenly among the tied maxima (torch.amax's rule, not torch.max(dim)'s one index)", () => {
    const x = tensor([[2, 2, 1], [0, 3, 3]], { dtype: "float64", requiresGrad: true });
    x.max(1).sum().backward();
    expect(x.grad!.toNested()).toEqual([[0.5, 0.5, 0], [0, 0.5, 0.5]]);
    const y = tensor([4, 4, 4, 4], { requiresGrad: true });
    y.min().backward();
    expect(y.grad!.toNested()).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe("maximum/minimum are elementwise, with broadcasting", () => {
  test("values, a number operand, broadcasting, and max/min with a tensor operand (torch.max(input, other))", () => {
    const a = tensor([[-1, 2], [3, -4]]), b = tensor([0, 1]);
    expect(a.maximum(0).toNested()).toEqual([[0, 2], [3, 0]]);
    expect(a.minimum(b).toNested()).toEqual([[-1, 1], [0, -4]]);
    expect(a.max(b).toNested()).toEqual(a.maximum(b).toNested());
    expect(a.min(b).toNested()).toEqual(a.minimum(b).toNested());
    expect(F.maximum(a, b).toNested()).toEqual([[0, 2], [3, 1]]);
    expect(F.max(a, b).toNested()).toEqual([[0, 2], [3, 1]]);
    expect(F.max(a, 1).toNested()).toEqual([2, 3]);
    expect(F.min(a, -2, true).toNested()).toEqual([[-1, -4]]);
  });

  test("gradients pass gradcheck with broadcasting; a tie splits the gradient evenly between the operands", () => {
    const a = randn([3, 4], { seed: 1, dtype: "float64" }), b = randn([4], { seed: 2, dtype: "float64" });
    expect(gradcheck((x, y) => x.maximum(y).mul(x).sum(), [a, b]).message).toBe("gradcheck: ok");
    expect(gradcheck((x, y) => x.minimum(y).exp().sum(), [a, b]).message).toBe("gradcheck: ok");
    const x = tensor([1, 2, 3], { requiresGrad: true }), y = tensor([2, 2, 2], { requiresGrad: true });
    x.maximum(y).sum().backward();
    expect(x.grad!.toNested()).toEqual([0, 0.5, 1]);
    expect(y.grad!.toNested()).toEqual([1, 0.5, 0]);
  });
});

describe("dim/keepdim on every reduction: positional (PyTorch), or an options object", () => {
  test("sum, mean, logsumexp, amax, norm, var, std", () => {
    const x = tensor([[1, 2], [3, 6]], { dtype: "float64" });
    for (const [name, f] of [
      ["sum", (d?: never, k?: never) => x.sum(d, k)],
      ["mean", (d?: never, k?: never) => x.mean(d, k)],
      ["logsumexp", (d?: never, k?: never) => x.logsumexp(d, k)],
      ["amax", (d?: never, k?: never) => x.amax(d, k)],
      ["norm", (d?: never, k?: never) => x.norm(2, d, k)],
    ] as const) {
      const positional = f(-1 as never, true as never).toNested();
      expect(f({ dim: -1, keepdim: true } as never).toNested(), name).toEqual(positional);
      expect(f({ axis: 1, keepdims: true } as never).toNested(), name).toEqual(positional);
      expect(f([1] as never, true as never).toNested(), name).toEqual(positional);
      expect(f(-1 as never).shape, name).toEqual([2]);
      expect(f().shape, name).toEqual([]);
    }
    expect(x.sum(0).toNested()).toEqual([4, 8]);
    expect(x.var(1).toNested()).toEqual([0.5, 4.5]);
    expect(x.var(1, { keepdim: true }).toNested()).toEqual([[0.5], [4.5]]);
    expect(x.var({ dim: -1, correction: 0 }).toNested()).toEqual([0.25, 2.25]);
    expect(x.std(-1, { unbiased: false, keepdims: true }).toNested()).toEqual([[0.5], [1.5]]);
  });

  test("plain-JavaScript mistakes are InputErrors saying what was expected and what came", () => {
    const x = tensor([[1, 2], [3, 4]]) as unknown as Record<string, (...a: unknown[]) => Tensor>;
    const call = (m: string, ...a: unknown[]) => () => x[m]!(...a);
    expect(call("sum", "1")).toThrow(InputError);
    expect(call("sum", "1")).toThrow('sum: dim must be a number, a list of numbers, null (every dim) or { dim, keepdim }, got "1"');
    expect(call("max", 0, "yes")).toThrow('amax: keepdim must be true or false, got "yes"');
    expect(call("mean", { dim: 0, axis: 0 })).toThrow("mean: give dim or axis, not both");
    expect(call("sum", { dims: 0 })).toThrow('sum: unknown option "dims" (did you mean dim?); expected dim, axis, keepdim, keepdims');
    expect(call("sum", { dim: 0 }, true)).toThrow("sum: give keepdim in the options object or as the second argument, not both");
    expect(call("argmax", [0, 1])).toThrow("argmax: dim must be one number (or none, for the flattened tensor), got [0,1]");
    expect(call("var", 0, { correction: "1" })).toThrow('var: correction must be a number, got "1"');
    expect(call("sum", tensor([0]))).toThrow("got a tensor");
    // A tensor of another copy of the package is the elementwise operand, and its error says so (not "a dim").
    const alien = { [Symbol.for("gradgraph.Tensor")]: true };
    expect(call("max", alien)).toThrow("a tensor from another copy of gradgraph");
  });
});

describe("the expression language keeps the lecture's notation", () => {
  test("max(x, 0) in an expression is elementwise; max(x, axis=0) reduces", () => {
    const at = { x: [[-1, 2], [3, -4]] };
    const elementwise = compileTensor(parseProgram("max(x, 0)", { functions: tensorFunctions }), at);
    expect(elementwise.root.toNested()).toEqual([[0, 2], [3, 0]]);
    const reduced = compileTensor(parseProgram("max(x, axis=0)", { functions: tensorFunctions }), at);
    expect(reduced.root.toNested()).toEqual([3, 2]);
  });
});
