/**
 * Ties, where max/min (elementwise and reductions) split the derivative evenly (PyTorch's rule): the value and
 * the derivative with respect to EACH operand, in reverse mode and in forward mode (the jvp rules), on the scalar
 * and the tensor engine. Central differences cannot check a kink, so these are exact expected values.
 */
import { describe, expect, test } from "vitest";
import { differentiate } from "../../packages/gradgraph/src/autodiff/modes.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { engine, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/tensor.js";

const f64 = (x: Parameters<typeof tensor>[0], requiresGrad = true) => tensor(x, { dtype: "float64", requiresGrad });

describe("scalar engine: max(a, b) and min(a, b) at a tie give half to each operand", () => {
  // [op, a, b, value, ∂/∂a, ∂/∂b]
  const cases = [
    ["max", 2, 2, 2, 0.5, 0.5],
    ["min", 2, 2, 2, 0.5, 0.5],
    ["max", -1, -1, -1, 0.5, 0.5],
    ["min", 0, 0, 0, 0.5, 0.5],
    // Off the tie, for contrast: all to the larger (max) or the smaller (min), whichever side it is on.
    ["max", 3, 2, 3, 1, 0],
    ["max", 2, 3, 3, 0, 1],
    ["min", 3, 2, 2, 0, 1],
    ["min", 2, 3, 2, 1, 0],
  ] as const;
  for (const [op, av, bv, value, da, db] of cases) {
    test(`${op}(${av}, ${bv}) = ${value}, ∂/∂a = ${da}, ∂/∂b = ${db} in all three modes`, () => {
      for (const mode of ["reverse", "forward", "paths"] as const) {
        const a = new Value(av, { label: "a" }), b = new Value(bv, { label: "b" });
        const y = op === "max" ? a.max(b) : a.min(b);
        expect(y.data).toBe(value);
        expect(differentiate(y, [a, b], mode).grads, mode).toEqual([da, db]);
      }
    });
  }

  test("the tied value as a constant second (or first) operand: the input still gets half", () => {
    for (const op of ["max", "min"] as const) {
      const x = new Value(2, { label: "x" });
      const right = op === "max" ? x.max(2) : x.min(2);
      const left = op === "max" ? Value.from(2).max(x) : Value.from(2).min(x);
      for (const y of [right, left]) {
        expect(y.data).toBe(2);
        expect(differentiate(y, [x], "reverse").grads, op).toEqual([0.5]);
        expect(differentiate(y, [x], "forward").grads, op).toEqual([0.5]);
      }
    }
  });
});

/** ∂sum(f(a, b))/∂a and ∂/∂b, by the reverse sweep and by the forward sweep (one input's tangent at a time). */
function bothModes(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor) {
  const y = f(a, b);
  const reverse = engine.gradients([y.sum()], [a, b]).map((g) => g.toNested());
  // Forward: the tangent of sum(y) along each unit direction of each input, one input at a time.
  const forward = [a, b].map((x) => {
    const out: number[] = [];
    for (let j = 0; j < x.size; j++) {
      const t = new Float64Array(x.size);
      t[j] = 1;
      const [ty] = engine.tangents([y], [x], [tensor(Array.from(t), { dtype: "float64" }).reshape(x.shape)]);
      out.push(ty!.sum().item());
    }
    return out;
  });
  return { value: y.toNested(), reverse, forward };
}

describe("tensor engine: elementwise max/min at ties, both operands, both modes", () => {
  test("max: [2, 1, 3] against [2, 2, 2]", () => {
    const r = bothModes((a, b) => a.max(b), f64([2, 1, 3]), f64([2, 2, 2]));
    expect(r.value).toEqual([2, 2, 3]);
    expect(r.reverse).toEqual([[0.5, 0, 1], [0.5, 1, 0]]);
    expect(r.forward).toEqual([[0.5, 0, 1], [0.5, 1, 0]]);
  });

  test("min: [2, 1, 3] against [2, 2, 2]", () => {
    const r = bothModes((a, b) => a.min(b), f64([2, 1, 3]), f64([2, 2, 2]));
    expect(r.value).toEqual([2, 1, 2]);
    expect(r.reverse).toEqual([[0.5, 1, 0], [0.5, 0, 1]]);
    expect(r.forward).toEqual([[0.5, 1, 0], [0.5, 0, 1]]);
  });

  test("the tied value as the second operand, broadcast: max(x, 2) and min(x, 2)", () => {
    const x = f64([2, 1, 3]);
    const two = f64(2);
    const max = bothModes((a, b) => a.max(b), x, two);
    expect(max.reverse).toEqual([[0.5, 0, 1], 1.5]);
    expect(max.forward).toEqual([[0.5, 0, 1], [1.5]]);
    const min = bothModes((a, b) => a.min(b), x, two);
    expect(min.reverse).toEqual([[0.5, 1, 0], 1.5]);
    expect(min.forward).toEqual([[0.5, 1, 0], [1.5]]);
  });
});

describe("amax/amin at ties: the jvp splits the tangent as the vjp splits the gradient", () => {
  /** The jvp of `f` at x along tangent t. */
  const jvp = (f: (x: Tensor) => Tensor, x: Tensor, t: number[] | number[][]) =>
    engine.tangents([f(x)], [x], [tensor(t, { dtype: "float64" })])[0]!.toNested();

  test("amax([3, 3, 1]): tangent [1, 0, 0] gives 0.5, [0, 1, 0] gives 0.5, [0, 0, 1] gives 0", () => {
    const x = f64([3, 3, 1]);
    expect(jvp((v) => v.amax(), x, [1, 0, 0])).toBe(0.5);
    expect(jvp((v) => v.amax(), x, [0, 1, 0])).toBe(0.5);
    expect(jvp((v) => v.amax(), x, [0, 0, 1])).toBe(0);
    expect(jvp((v) => v.amax(), x, [1, 1, 1])).toBe(1);
    expect(engine.gradients([x.amax()], [x])[0]!.toNested()).toEqual([0.5, 0.5, 0]);
  });

  test("amin([1, 4, 1]): tangent [1, 0, 0] gives 0.5", () => {
    const x = f64([1, 4, 1]);
    expect(jvp((v) => v.amin(), x, [1, 0, 0])).toBe(0.5);
    expect(jvp((v) => v.amin(), x, [0, 0, 1])).toBe(0.5);
    expect(jvp((v) => v.amin(), x, [0, 1, 0])).toBe(0);
    expect(engine.gradients([x.amin()], [x])[0]!.toNested()).toEqual([0.5, 0, 0.5]);
  });

  test("along an axis: three-way and two-way ties", () => {
    const x = f64([[1, 4, 4], [2, 2, 2]]);
    expect(jvp((v) => v.amax(1), x, [[0, 1, 0], [1, 0, 0]])).toEqual([0.5, 1 / 3]);
    expect(jvp((v) => v.amax(1, true), x, [[0, 0, 2], [0, 3, 0]])).toEqual([[1], [1]]);
    expect(jvp((v) => v.amin(1), x, [[1, 0, 0], [0, 0, 3]])).toEqual([1, 1]);
    expect(jvp((v) => v.amin(0), f64([[1, 2, 5], [1, 3, 5]]), [[1, 1, 0], [0, 0, 1]])).toEqual([0.5, 1, 0.5]);
    // Forward and reverse give the same Jacobian: ∂amax/∂x = [[0, ½, ½], [⅓, ⅓, ⅓]].
    expect(bothModes((a) => a.amax(1), x, f64(0)).forward[0]).toEqual([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3]);
    expect(engine.gradients([x.amax(1).sum()], [x])[0]!.toNested()).toEqual([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]);
  });
});
