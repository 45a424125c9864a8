/**
 * The conventions at kinks and at the edges of the floating-point range (ARCHITECTURE.md, "Conventions at kinks"):
 * exact expected values, in reverse and forward mode, on the scalar and the tensor engine (the printed code's
 * partials are checked in test/render). Central differences cannot check these.
 */
import { describe, expect, test } from "vitest";
import { hessian, jacfwd, jacrev } from "../../packages/gradgraph/src/autodiff/functional.js";
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

describe("softmax, logSoftmax and logsumexp of a 0-d tensor along axis 0 or -1, as in PyTorch", () => {
  const scalar = (v: number) => tensor(v, { dtype: "float64", requiresGrad: true });
  const ops = {
    softmax: { f: (x: Tensor, d: number) => x.softmax(d), value: () => 1, slope: 0 },
    logSoftmax: { f: (x: Tensor, d: number) => x.logSoftmax(d), value: () => 0, slope: 0 },
    logsumexp: { f: (x: Tensor, d: number) => x.logsumexp(d), value: (v: number) => v, slope: 1 },
  };

  test("the value (1, 0, x), its derivative (0, 0, 1) in reverse and forward mode, and a second derivative of 0", () => {
    for (const [name, op] of Object.entries(ops)) {
      for (const d of [0, -1]) {
        const x = scalar(3);
        const y = op.f(x, d);
        expect(y.shape, `${name}(${d})`).toEqual([]);
        expect(y.item(), `${name}(${d})`).toBe(op.value(3));
        expect(engine.gradients([y], [x])[0]!.item(), `${name}(${d}) reverse`).toBe(op.slope);
        expect(engine.tangents([y], [x], [tensor(1, { dtype: "float64" })])[0]!.item(), `${name}(${d}) forward`).toBe(op.slope);
        expect((hessian((t: Tensor) => op.f(t, d))(scalar(3)) as Tensor).item(), `${name}(${d}) second`).toBe(0);
      }
    }
    expect(tensor(2).softmax().item()).toBe(1);
    expect(tensor(2).logsumexp(0, true).shape).toEqual([]);
    expect(tensor(-Infinity).logsumexp(-1).item()).toBe(-Infinity);
  });

  test("any other axis is an error naming the allowed range", () => {
    for (const name of ["softmax", "logSoftmax", "logsumexp"] as const) {
      for (const d of [1, -2, 0.5]) {
        expect(() => ops[name].f(tensor(3), d)).toThrow(`${name}: axis ${d} is out of range for a 0-d tensor (shape []): expected 0 or -1 (the range [-1, 0])`);
      }
    }
    expect(() => tensor(3).logsumexp([0, -1])).toThrow("logsumexp: axis -1 is repeated in [0,-1]");
    // Tensors with axes keep their own message.
    expect(() => tensor([1, 2]).softmax(1)).toThrow("softmax: axis 1 is out of range for shape [2]");
  });
});
