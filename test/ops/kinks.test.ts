/**
 * The conventions at kinks and at the edges of the floating-point range (ARCHITECTURE.md, "Conventions at kinks"):
 * exact expected values, in reverse and forward mode, on the scalar and the tensor engine (the printed code's
 * partials are checked in test/render). Central differences cannot check these.
 */
import { describe, expect, test } from "vitest";
import { grad, hessian, jacfwd, jacrev } from "../../packages/gradgraph/src/autodiff/functional.js";
import { vmap } from "../../packages/gradgraph/src/autodiff/vmap.js";
import { ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { compileTensor, parseProgram, tensorFunctions } from "../../packages/gradgraph/src/lang/index.js";
import { differentiate } from "../../packages/gradgraph/src/autodiff/modes.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { engine, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/tensor.js";

const f64 = (x: number[]) => tensor(x, { dtype: "float64", requiresGrad: true });

/** ∂f/∂(each input) of a two-input scalar function in all three modes of the scalar engine. */
function scalarModes(f: (a: Value, b: Value) => Value, av: number, bv: number) {
  return (["reverse", "forward", "paths"] as const).map((mode) => {
    const a = new Value(av, { label: "a" }), b = new Value(bv, { label: "b" });
    return differentiate(f(a, b), [a, b], mode).grads;
  });
}

/** ∂f/∂a and ∂f/∂b of an elementwise tensor function at one point: reverse sweep, then forward sweep. */
function tensorModes(f: (a: Tensor, b: Tensor) => Tensor, av: number, bv: number) {
  const a = f64([av]), b = f64([bv]);
  const y = f(a, b);
  const reverse = engine.gradients([y.sum()], [a, b]).map((g) => g.item());
  const forward = [a, b].map((x) => {
    const t = engine.tangents([y], [x], [tensor([1], { dtype: "float64" })]);
    return t[0]!.item();
  });
  return [reverse, forward];
}

describe("pow at base 0 (PyTorch's rule): ∂(0^b)/∂b = 0 for b ≥ 0", () => {
  // [a, b, value, ∂/∂a, ∂/∂b]
  const cases = [
    [0, 2, 0, 0, 0], // 0^b is constant 0 for b > 0
    [0, 0.5, 0, Infinity, 0],
    [0, 1, 0, 1, 0],
    [0, 0, 1, 0, 0], // the kink: PyTorch gives 0 for both
    [2, 3, 8, 12, 8 * Math.log(2)], // away from the kink, for contrast
  ] as const;
  for (const [av, bv, value, da, db] of cases) {
    test(`pow(${av}, ${bv}) = ${value}: ∂/∂a = ${da}, ∂/∂b = ${db} in every mode and engine`, () => {
      expect(new Value(av).pow(bv).data).toBe(value);
      for (const grads of scalarModes((a, b) => a.pow(b), av, bv)) expect(grads).toEqual([da, db]);
      for (const grads of tensorModes((a, b) => a.pow(b), av, bv)) expect(grads).toEqual([da, db]);
    });
  }
});

describe("division's gradient in the form that does not overflow: ∂(a/b)/∂b = -(a/b)/b", () => {
  // [a, b, ∂/∂b]
  const cases = [
    [1e200, 1e200, -1e-200], // b² overflows to ∞: -a/b² gives 0
    [1e-200, 1e-200, -1e200], // -a/b² gives -∞
    [3, 4, -3 / 16],
  ] as const;
  for (const [av, bv, db] of cases) {
    test(`a/b at a = ${av}, b = ${bv}: ∂/∂b = ${db}`, () => {
      for (const grads of scalarModes((a, b) => a.div(b), av, bv)) expect(grads[1]).toBe(db);
      for (const grads of tensorModes((a, b) => a.div(b), av, bv)) expect(grads[1]).toBe(db);
    });
  }

  test("x/x has derivative exactly 0, also where x² under- or overflows", () => {
    for (const xv of [1e-300, 1e-8, 1, 1e200]) {
      for (const mode of ["reverse", "forward", "paths"] as const) {
        const x = new Value(xv, { label: "x" });
        expect(differentiate(x.div(x), [x], mode).grads, `${mode} at ${xv}`).toEqual([0]);
      }
      const x = f64([xv]);
      expect(engine.gradients([x.div(x).sum()], [x])[0]!.item()).toBe(0);
    }
  });
});

describe("pow(±1, ±∞) and pow(1, NaN) are 1 (IEEE 754, C, NumPy, PyTorch), not JavaScript's NaN", () => {
  const cases = [
    [1, Infinity], [1, -Infinity], [1, NaN], [-1, Infinity], [-1, -Infinity], [5, 0], [NaN, 0],
  ] as const;
  for (const [a, b] of cases) {
    test(`pow(${a}, ${b}) = 1 on both engines`, () => {
      expect(new Value(a).pow(b).data).toBe(1);
      expect(tensor([a]).pow(tensor([b])).item()).toBe(1);
      expect(tensor([a], { dtype: "float64" }).pow(b).item()).toBe(1);
    });
  }

  test("pow(-1, NaN), pow(-1, 0.5) stay NaN, as in C", () => {
    expect(new Value(-1).pow(NaN).data).toBeNaN();
    expect(new Value(-1).pow(0.5).data).toBeNaN();
  });

  test("1^(1/x) at x = 0 is 1", () => {
    const x = new Value(0, { label: "x" });
    expect(Value.from(1).pow(Value.from(1).div(x)).data).toBe(1);
  });
});

describe("forward mode: a zero tangent gives a zero share even where the local derivative is infinite (√x at 0)", () => {
  const sqrtAt = () => tensor([0, 4], { dtype: "float64" });

  test("forward mode on an array agrees with reverse mode: ∂sum(√X)/∂X = [∞, 0.25]", () => {
    const x = f64([0, 4]);
    const y = x.sqrt().sum();
    expect(engine.gradients([y], [x])[0]!.toNested()).toEqual([Infinity, 0.25]);
    const forward = [0, 1].map((j) => {
      const t = tensor(j === 0 ? [1, 0] : [0, 1], { dtype: "float64" });
      return engine.tangents([y], [x], [t])[0]!.item();
    });
    expect(forward).toEqual([Infinity, 0.25]);
  });

  test("jacfwd of √X is diagonal, zeros off the diagonal; jacrev agrees on the diagonal", () => {
    const f = (x: Tensor) => x.sqrt();
    expect((jacfwd(f)(sqrtAt()) as Tensor).toNested()).toEqual([[Infinity, 0], [0, 0.25]]);
    // Reverse mode multiplies plainly, as PyTorch does (ARCHITECTURE.md): the cotangent [0, 1] meets ∞ at 0.
    const rev = (jacrev(f)(sqrtAt()) as Tensor).toNested() as number[][];
    expect([rev[0]![0], rev[0]![1], rev[1]![1]]).toEqual([Infinity, 0, 0.25]);
  });

  test("scalar forward mode: a zero tangent into √ at 0 gives 0 (√(0·x) is constant)", () => {
    const x = new Value(1, { label: "x" });
    expect(differentiate(x.mul(0).sqrt(), [x], "forward").grads).toEqual([0]);
  });

  test("hessian of sum(X^1.5) at [0, 4] has no NaN off the diagonal", () => {
    const h = hessian((x: Tensor) => x.pow(1.5).sum())(sqrtAt()) as Tensor;
    expect(h.toNested()).toEqual([[Infinity, 0], [0, 0.375]]);
  });
});

describe("std at zero variance, as in PyTorch: value 0, gradient 0 (not ∞·0 = NaN)", () => {
  test("constant data, correction 1 and 0, over all and along a dim; a row that varies keeps its gradient", () => {
    for (const unbiased of [true, false]) {
      const x = f64([2, 2, 2]);
      const y = x.std(undefined, { unbiased });
      expect(y.item()).toBe(0);
      expect(Array.from(engine.gradients([y], [x])[0]!.toArray())).toEqual([0, 0, 0]);
      // PyTorch 1.13: torch.std(torch.tensor([[2., 2.], [1., 3.]]), dim=1, unbiased=u).sum().backward()
      const m = tensor([[2, 2], [1, 3]], { dtype: "float64", requiresGrad: true });
      const g = engine.gradients([m.std(1, { unbiased }).sum()], [m])[0]!.toArray();
      const s = unbiased ? Math.SQRT1_2 : 0.5;
      expect(Array.from(g)).toEqual([0, 0, -s, s].map((v) => expect.closeTo(v, 15)));
    }
  });
  test("one element with correction 1 stays NaN (its variance is 0/0)", () => {
    const x = f64([3]);
    expect(x.std().item()).toBeNaN();
  });
});

describe("reductions over an empty axis, as in PyTorch", () => {
  test("logsumexp of an empty array is -∞; softmax and logSoftmax of one are empty", () => {
    const x = tensor([], { dtype: "float64", requiresGrad: true });
    const lse = x.logsumexp();
    expect(lse.item()).toBe(-Infinity);
    expect(x.softmax().shape).toEqual([0]);
    expect(x.logSoftmax().shape).toEqual([0]);
    expect(engine.gradients([lse], [x])[0]!.shape).toEqual([0]);
  });

  test("along an empty axis of a [2, 0] array: [-∞, -∞], softmax keeps the shape", () => {
    const x = tensor([[], []], { dtype: "float64" });
    expect(x.logsumexp(1).toNested()).toEqual([-Infinity, -Infinity]);
    expect(x.softmax(1).shape).toEqual([2, 0]);
  });
});

describe("every op along a dim of a 0-d tensor, dim 0 or -1, as in PyTorch: no axis to run over", () => {
  const scalar = (v: number) => tensor(v, { dtype: "float64", requiresGrad: true });
  const seed = tensor(1, { dtype: "float64" });
  const sign = Math.sign;
  // name: [the op along dim d, its value at x, its derivative at x]; PyTorch 1.13 (torch.func's grad and jvp) gives
  // these at x = 3, -2 and 0, each a 0-d tensor (keepdim too), and 0 for each second derivative
  const ops: Record<string, [(x: Tensor, d: number) => Tensor, (v: number) => number, (v: number) => number]> = {
    sum: [(x, d) => x.sum(d), (v) => v, () => 1],
    "sum, keepdim": [(x, d) => x.sum(d, true), (v) => v, () => 1],
    "sum over [d]": [(x, d) => x.sum([d]), (v) => v, () => 1],
    mean: [(x, d) => x.mean(d), (v) => v, () => 1],
    amax: [(x, d) => x.amax(d), (v) => v, () => 1],
    amin: [(x, d) => x.amin(d, true), (v) => v, () => 1],
    max: [(x, d) => x.max(d), (v) => v, () => 1],
    min: [(x, d) => x.min({ dim: d, keepdim: true }), (v) => v, () => 1],
    logsumexp: [(x, d) => x.logsumexp(d), (v) => v, () => 1],
    softmax: [(x, d) => x.softmax(d), () => 1, () => 0],
    logSoftmax: [(x, d) => x.logSoftmax(d), () => 0, () => 0],
    cumsum: [(x, d) => x.cumsum(d), (v) => v, () => 1],
    "var, correction 0": [(x, d) => x.var(d, { correction: 0 }), () => 0, () => 0],
    "norm p=2": [(x, d) => x.norm(2, d), Math.abs, sign],
    "norm p=1, keepdim": [(x, d) => x.norm(1, d, true), Math.abs, sign],
    "norm p=∞": [(x, d) => x.norm(Infinity, d), Math.abs, sign],
    "norm p=-∞": [(x, d) => x.norm(-Infinity, d), Math.abs, sign],
    "norm p=3": [(x, d) => x.norm(3, d), Math.abs, sign],
    "norm p=0": [(x, d) => x.norm(0, d), (v) => (v === 0 ? 0 : 1), () => 0],
    "sort's values": [(x, d) => x.sort(d).values, (v) => v, () => 1],
    "topk(1)'s values": [(x, d) => x.topk(1, d).values, (v) => v, () => 1],
    "gather at a 0-d index": [(x, d) => x.gather(d, 0), (v) => v, () => 1],
    "transpose(d, 0)": [(x, d) => x.transpose(d, 0), (v) => v, () => 1],
    squeeze: [(x, d) => x.squeeze(d), (v) => v, () => 1],
  };

  test("the value and derivative PyTorch gives, a 0-d result, in reverse and forward mode, and a second derivative of 0", () => {
    for (const [name, [f, value, slope]] of Object.entries(ops)) {
      for (const v of [3, -2, 0]) {
        for (const d of [0, -1]) {
          const at = `${name} at ${v}, dim ${d}`;
          const x = scalar(v);
          const y = f(x, d);
          expect(y.shape, at).toEqual([]);
          expect(y.item(), at).toBe(value(v));
          // (at 0 PyTorch's norms give 0, the subgradient their double `where` picks)
          const dy = name.startsWith("norm") && v === 0 ? 0 : slope(v);
          // (to the last bits: the p-norm's root rounds, (|x|³)^(1/3))
          expect(engine.gradients([y], [x])[0]!.item(), `${at}, reverse`).toBeCloseTo(dy, 14);
          expect(engine.tangents([y], [x], [seed])[0]!.item(), `${at}, forward`).toBeCloseTo(dy, 14);
          if (v !== 0) expect((hessian((t: Tensor) => f(t, d))(scalar(v)) as Tensor).item(), `${at}, second`).toBeCloseTo(0, 14);
        }
      }
    }
    expect(tensor(2).softmax().item()).toBe(1);
    expect(tensor(-Infinity).logsumexp(-1).item()).toBe(-Infinity);
  });

  test("argmax/argmin give position 0, 0-d with keepdim too, without a gradient", () => {
    const x = scalar(3);
    for (const d of [0, -1]) {
      for (const y of [x.argmax(d), x.argmin(d), x.argmax(d, true), x.argmin({ dim: d, keepdim: true })]) {
        expect([y.shape, y.item(), y.requiresGrad]).toEqual([[], 0, false]);
      }
      expect(x.sort(d).indices.item()).toBe(0);
      expect(x.topk(1, d, false).indices.shape).toEqual([]);
    }
  });

  test("a 0-d x along dim 0 or -1 gives what a one-element [1] x gives along dim 0 (var's NaN included), as 0-d", () => {
    const alsoNaN: Record<string, (x: Tensor, d: number) => Tensor> = {
      var: (x, d) => x.var(d),
      std: (x, d) => x.std(d),
      "std, unbiased false": (x, d) => x.std(d, { unbiased: false }),
    };
    // (gather's 0-d index does not fit a [1] x: the op database checks gather with indices of x's rank)
    const mapped = Object.entries(ops).filter(([n]) => !n.startsWith("gather")).map(([n, [g]]) => [n, g] as const);
    for (const [name, f] of [...mapped, ...Object.entries(alsoNaN)]) {
      for (const v of [3, -2, 0]) {
        const one = tensor([v], { dtype: "float64", requiresGrad: true });
        const y1 = f(one, 0);
        const expected = [y1.item(), engine.gradients([y1], [one])[0]!.item(), engine.tangents([y1], [one], [tensor([1], { dtype: "float64" })])[0]!.item()];
        for (const d of [0, -1]) {
          const x = scalar(v);
          const y = f(x, d);
          expect([y.item(), engine.gradients([y], [x])[0]!.item(), engine.tangents([y], [x], [seed])[0]!.item()], `${name} at ${v}, dim ${d}`).toEqual(expected);
        }
      }
    }
    expect(scalar(3).var(0).item()).toBeNaN(); // PyTorch: nan, as for one element
  });

  test("gather with a 1-D index, scatterAdd into a 0-d tensor, and a lists of one dim", () => {
    const x = scalar(3);
    const g = x.gather(-1, [0, 0]);
    expect(g.toNested()).toEqual([3, 3]);
    expect(engine.gradients([g.sum()], [x])[0]!.item()).toBe(2);
    const s = x.scatterAdd(0, tensor(0), []);
    expect([s.shape, s.item(), engine.gradients([s], [x])[0]!.item()]).toEqual([[], 3, 1]);
    expect(x.mean([-1], true).shape).toEqual([]);
    expect(x.var({ dim: [0], correction: 0, keepdim: true }).shape).toEqual([]);
  });

  test("any other dim is a ShapeError naming the allowed range; naming the one axis twice is an error", () => {
    const x = tensor(3);
    const calls: Record<string, (d: number) => unknown> = {
      sum: (d) => x.sum(d), mean: (d) => x.mean(d), amax: (d) => x.amax(d), max: (d) => x.max(d), logsumexp: (d) => x.logsumexp(d),
      softmax: (d) => x.softmax(d), logSoftmax: (d) => x.logSoftmax(d), cumsum: (d) => x.cumsum(d), argmax: (d) => x.argmax(d),
      var: (d) => x.var(d), norm: (d) => x.norm(2, d), sort: (d) => x.sort(d), topk: (d) => x.topk(1, d), gather: (d) => x.gather(d, [0]),
      scatterAdd: (d) => x.scatterAdd(d, tensor(0), []), transpose: (d) => x.transpose(0, d), squeeze: (d) => x.squeeze(d),
    };
    for (const [name, call] of Object.entries(calls)) {
      const op = name === "max" ? "amax" : name;
      for (const d of [1, -2]) {
        expect(() => call(d), `${name}(${d})`).toThrow(ShapeError);
        expect(() => call(d), `${name}(${d})`).toThrow(`${op}: axis ${d} is out of range for a 0-d tensor (shape []): expected 0 or -1 (the range [-1, 0])`);
      }
      // Not a whole number: what a tensor with axes says, over a 0-d tensor's range.
      expect(() => call(0.5), `${name}(0.5)`).toThrow(`${op}: an axis is a whole number (from -1 to 0 for shape []), got 0.5`);
    }
    for (const f of [() => x.sum([0, -1]), () => x.logsumexp([0, -1]), () => x.var([-1, 0])]) expect(f).toThrow(/axis -?\d is repeated in \[.*\]: a 0-d tensor has one axis to name, 0 or -1/);
    expect(() => x.topk(2, 0)).toThrow("topk: k = 2 is out of range for a 0-d tensor (shape []): expected 1");
    expect(() => x.topk(0, 0)).toThrow("topk: k = 0 is out of range for a 0-d tensor (shape []): expected 1");
    expect(() => x.gather(0, tensor(1))).toThrow("gather: index 1 is out of range for axis 0 of size 1");
    // Tensors with axes keep their own message.
    expect(() => tensor([1, 2]).softmax(1)).toThrow("softmax: axis 1 is out of range for shape [2]");
    expect(() => tensor([1, 2]).cumsum(-2)).toThrow("cumsum: axis -2 is out of range for shape [2]");
  });

  test("a dim that is not one whole number is the ShapeError a tensor with axes gives (not a TypeError, not taken as 0)", () => {
    const ops: Record<string, (x: Tensor, d: unknown) => unknown> = {
      softmax: (x, d) => x.softmax(d as number), logSoftmax: (x, d) => x.logSoftmax(d as number), cumsum: (x, d) => x.cumsum(d as number),
      argmax: (x, d) => x.argmax(d as number), sort: (x, d) => x.sort(d as number), gather: (x, d) => x.gather(d as number, [0]),
      transpose: (x, d) => x.transpose(0, d as number),
    };
    for (const [op, call] of Object.entries(ops)) {
      for (const [d, got] of [[null, "null"], [{}, "an object"], ["0", '"0"'], [[0], "[0]"], [NaN, "NaN"], [0.5, "0.5"]] as const) {
        // argmax takes an options object ({ dim, keepdim }) and checks its own types first: it has its own message.
        if (op === "argmax" && (d === null || typeof d === "object" || typeof d === "string")) continue;
        if (op === "transpose" && d === null) continue; // null (or undefined) is its default, the last axis
        for (const [x, shape] of [[tensor(3), "[]"], [tensor([1, 2]), "[2]"]] as const) {
          const message = `${op}: an axis is a whole number (from -1 to 0 for shape ${shape}), got ${got}`;
          expect(() => call(x, d), `${op}(${got}) of shape ${shape}`).toThrow(new ShapeError(message));
        }
      }
    }
    // The reductions take a list: over a 0-d tensor its entries are checked as one axis each.
    expect(() => tensor(3).logsumexp([0.5])).toThrow(new ShapeError("logsumexp: an axis is a whole number (from -1 to 0 for shape []), got 0.5"));
    expect(tensor(3).logsumexp([0]).item()).toBe(3);
  });

  test("in the expression language (sum, max, mean, logsumexp, softmax with axis=) and under vmap", () => {
    const p = parseProgram("sum(x, axis=0) + max(x, axis=-1) * mean(x, axis=0, keepdims=true) + logsumexp(x, axis=-1) + softmax(x, axis=0)", { functions: tensorFunctions });
    const g = compileTensor(p, { x: 3 });
    expect(g.root.shape).toEqual([]);
    expect(g.root.item()).toBe(3 + 9 + 3 + 1);
    expect(engine.gradients([g.root], g.inputs)[0]!.item()).toBe(1 + 6 + 1);
    expect(() => compileTensor(parseProgram("sum(x, axis=1)", { functions: tensorFunctions }), { x: 3 })).toThrow("sum: axis 1 is out of range for a 0-d tensor");
    // vmap over a batch of 0-d examples: each example's dims 0 and -1 name the example itself, not the batch axis
    const xs = tensor([3, -2, 0.5], { dtype: "float64" });
    const f = (x: Tensor) => x.sum(0).add(x.cumsum(-1)).add(x.amax(0, true)).add(x.argmax(-1)).add(x.gather(0, 0)).add(x.softmax(0));
    expect(vmap(f)(xs).toNested()).toEqual([3, -2, 0.5].map((v) => 4 * v + 1));
    expect((vmap(grad(f))(xs) as Tensor).toNested()).toEqual([4, 4, 4]);
  });
});
