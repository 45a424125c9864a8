/**
 * The lecture's worked examples through the functional API, in reverse mode (`valueAndGrad`: one backward pass)
 * and in forward mode (`jacfwd`: one forward pass per input, through the jvp rules): both give the lecture's
 * answers, identical to each other, and identical to the scalar engine's three modes on the same expression.
 * The vector/minibatch df(X, W, y, z) is pulled back with the lecture's seed dT = ones.
 */
import { describe, expect, test } from "vitest";
import { differentiate, MODES } from "../../packages/gradgraph/src/autodiff/modes.js";
import { jacfwd, jvp, valueAndGrad, vjp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { compileScalar, parseProgram, tensorFunction } from "../../packages/gradgraph/src/lang/index.js";
import { ones, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { expectClose, t64 } from "./helpers.js";

const examples: { expr: string; at: number[]; value: number; grad: number[] }[] = [
  { expr: "f(x, y) = 1/(y + exp(-x))", at: [0, 1], value: 0.5, grad: [0.25, -0.25] },
  { expr: "f(x, y, z) = (max(3*x, 0) - y)^2 + z", at: [1, 0, -2], value: 7, grad: [18, -6, 1] },
  { expr: "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2", at: [2, 10, -1, 4, 3, 1], value: 9, grad: [18, 6, -36, -18, -12, -6] },
  { expr: "w(x) = 1/exp(-x)", at: [0], value: 1, grad: [1] },
  { expr: "w(x) = log(exp(x)^2)", at: [0], value: 0, grad: [2] },
  { expr: "w(x, y, z) = (x + y)*z", at: [1, 2, -3], value: -9, grad: [-3, -3, 3] },
  { expr: "w(x) = x^2 + 3*x", at: [5], value: 40, grad: [13] },
  { expr: "w(x) = x^2 + 3*x", at: [-1.5], value: -2.25, grad: [0] },
];

describe("the lecture's examples: forward and reverse mode agree, through the functional API", () => {
  test.each(examples)("$expr at $at", ({ expr, at, value, grad }) => {
    const program = parseProgram(expr);
    const f = tensorFunction(program);
    const xs = at.map((v) => t64(v));
    const argnums = xs.map((_, i) => i);
    // Reverse mode: one backward pass gives every partial.
    const [v, reverse] = valueAndGrad(f, { argnums })(...xs) as [Tensor, Tensor[]];
    // Forward mode: one pass per input.
    const forward = jacfwd(f, { argnums })(...xs) as Tensor[];
    expect(v.item()).toBe(value);
    expect(reverse.map((g) => g.item())).toEqual(grad);
    expect(forward.map((g) => g.item())).toEqual(reverse.map((g) => g.item()));
    // A directional derivative along all-ones is the sum of the partials.
    const [, d] = jvp(f, xs, xs.map(() => t64(1)));
    expect(d.item()).toBeCloseTo(grad.reduce((s, g) => s + g, 0), 12);
    // The scalar engine's reverse, forward and path-product modes give the same numbers.
    const g = compileScalar(program, Object.fromEntries(program.inputs.map((n, i) => [n, at[i]!])));
    for (const mode of MODES) expect(differentiate(g.root, g.inputs, mode).grads).toEqual(grad);
  });
});

describe("the lecture's vector/minibatch df(X, W, y, z), seeded with dT = ones", () => {
  const df = (X: Tensor, W: Tensor, y: Tensor, z: Tensor) => X.matmul(W).maximum(0).sub(y).pow(2).add(z);
  const X = t64([[1, 2], [3, -4], [0.5, 1]]), W = t64([[1, -1], [0.5, 2]]), y = t64([1, 2]), z = t64([0, 1]);

  test("the pullback of ones gives the lecture's formulas; forward mode agrees", () => {
    const [T, pullback] = vjp(df, X, W, y, z);
    const [dX, dW, dy, dz] = pullback(ones(T.shape, { dtype: "float64" }));
    // By the lecture's backward code: dR = 2R, dy = -Σ_rows dR, dz = Σ_rows dT, dP = (P>0)·dR, dX = dP Wᵀ, dW = Xᵀ dP.
    const P = X.matmul(W), R = P.maximum(0).sub(y);
    const dP = P.gt(0).mul(R.mul(2));
    expectClose(dX, dP.matmul(W.T));
    expectClose(dW, X.T.matmul(dP));
    expectClose(dy, R.mul(2).sum(0).neg());
    expectClose(dz, [3, 3]);
    // Forward mode: the gradient of Σ T, one pass per input element, gives the same.
    const sumT = (X: Tensor, W: Tensor, y: Tensor, z: Tensor) => df(X, W, y, z).sum();
    const fwd = jacfwd(sumT, { argnums: [0, 1, 2, 3] })(X, W, y, z);
    [dX, dW, dy, dz].forEach((g, i) => expectClose(fwd[i]!, g, 1e-12));
  });
});
