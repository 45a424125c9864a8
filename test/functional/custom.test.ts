/**
 * Custom derivatives: a custom function is one node whose vjp/jvp are the user's rules, in reverse mode, forward
 * mode, `backward()` and at higher orders; a missing rule is derived from the other by transposition. Examples:
 * a stable softplus (log1pexp) whose gradient stays finite at x = 1000, straight-through estimators, stopGradient.
 */
import { describe, expect, test } from "vitest";
import { customFunction, customJvp, customVjp, stopGradient } from "../../packages/gradgraph/src/autodiff/custom.js";
import { grad, hessian, jacfwd, jacrev, jvp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { GradgraphError, ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { fromTypedArray, tensor, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { expectClose, flat, t64 } from "./helpers.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** softplus(x) = log(1 + e^x), written so that it neither overflows nor loses the small values. */
const stable = (x: Tensor) => x.relu().add(x.abs().neg().exp().add(1).log());
const naive = (x: Tensor) => x.exp().add(1).log();

const softplusVjp = customVjp(stable, (g, [x]) => [g.mul(x!.sigmoid())], { name: "softplus" });
const softplusJvp = customJvp(stable, ([dx], [x]) => dx!.mul(x!.sigmoid()), { name: "softplus_jvp" });

const points = [1000, -1000, 0, 2.5, -0.75];
const sum = (f: (x: Tensor) => Tensor) => (x: Tensor) => f(x).sum();

describe("a stable softplus (log1pexp)", () => {
  test("the naive formula has an infinite value and a NaN gradient at 1000; the custom one is finite", () => {
    const x = t64([1000]);
    expect(naive(x).item()).toBe(Infinity);
    expect(grad(sum(naive))(x).item()).toBeNaN();
    for (const sp of [softplusVjp, softplusJvp]) {
      expectClose(sp(t64(points)), points.map((p) => Math.max(p, 0) + Math.log1p(Math.exp(-Math.abs(p)))), 1e-15);
      expectClose(grad(sum(sp))(t64(points)), points.map(sigmoid), 1e-15);
    }
  });

  test("forward mode: the vjp-only function's jvp is the transpose of its vjp, and agrees", () => {
    const u = t64([1, 2, 3, -1, 0.5]);
    for (const sp of [softplusVjp, softplusJvp]) {
      const [, t] = jvp(sp, [t64(points)], [u]);
      expectClose(t, points.map((p, i) => sigmoid(p) * flat(u)[i]!), 1e-15);
      const f = (x: Tensor) => sp(x);
      expectClose(jacfwd(f)(t64(points)), jacrev(f)(t64(points)), 1e-15);
    }
  });

  test("second derivatives are the derivatives of the rules: σ'(x) = σ(1 - σ), finite at ±1000, in every composition", () => {
    const expected = points.map((p) => sigmoid(p) * (1 - sigmoid(p)));
    for (const sp of [softplusVjp, softplusJvp]) {
      const d1 = (x: Tensor) => grad(sum(sp))(x);
      expectClose(grad(sum(d1))(t64(points)), expected, 1e-14); // reverse over reverse
      const H = hessian(sum(sp))(t64(points)); // forward over reverse
      expectClose(H, points.map((_, i) => points.map((_, j) => (i === j ? expected[i]! : 0))), 1e-14);
      const dfwd = (x: Tensor) => jvp(sp, [x], [t64(points.map(() => 1))])[1];
      expectClose(jvp(dfwd, [t64(points)], [t64(points.map(() => 1))])[1], expected, 1e-14); // forward over forward
      expectClose(grad(sum(dfwd))(t64(points)), expected, 1e-14); // reverse over forward
    }
  });

  test("gradcheck (float64, both modes) passes, and names a custom function whose rule is wrong", () => {
    expect(gradcheck((x) => softplusVjp(x).mul(x), [t64([0.3, -1.2, 2])]).message).toBe("gradcheck: ok");
    expect(gradcheck((x) => softplusJvp(x).mul(x), [t64([0.3, -1.2, 2])]).message).toBe("gradcheck: ok");
    const badSin = customVjp((x) => x.sin(), (g, [x]) => [g.mul(x!.sin())], { name: "bad_sin" });
    const r = gradcheck((x) => badSin(x).exp(), [t64([0.3, 1.1])]);
    expect(r.ok).toBe(false);
    expect(r.failures[0]!.op).toBe("bad_sin");
    expect(r.message).toContain("the first op whose reverse rule disagrees: bad_sin");
  });
});

describe("custom functions are graph nodes", () => {
  test("each mode uses its own rule when both are given", () => {
    // Deliberately different rules, to see which one runs: reverse says 2, forward says 1.
    const f = customFunction((x) => x.mul(1), { name: "two_faced", vjp: (g) => [g.mul(2)], jvp: ([dx]) => dx! });
    expectClose(grad(sum(f))(t64([1, 2])), [2, 2]);
    expectClose(jvp(f, [t64([1, 2])], [t64([1, 1])])[1], [1, 1]);
  });

  test("backward() runs the rule too, and the node prints with its name", () => {
    const x = tensor([1000, 0], { dtype: "float64", requiresGrad: true });
    const y = softplusVjp(x);
    expect(y.op?.name).toBe("softplus");
    expect(y.inputs).toEqual([x]);
    y.sum().backward();
    expectClose(x.grad!, [1, 0.5]);
  });

  test("several inputs, a rule summing a broadcast input's cotangent back, null for no gradient, numbers as constants", () => {
    const scaled = customFunction((a, b) => a.mul(b), { name: "scaled", vjp: (g, [a, b]) => [g.mul(b!), null] });
    const a = t64([[1, 2], [3, 4]]), b = t64([10, 20]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => scaled(a, b).sum(), { argnums: [0, 1] })(a, b);
    expectClose(ga, [[10, 20], [10, 20]]);
    expectClose(gb, [0, 0]);
    // The rule sums the broadcast input's cotangent back to its shape; a constant input's cotangent is not asked for.
    const both = customFunction((a, b) => a.mul(b), { vjp: (g, [a, b]) => [g.mul(b!), g.mul(a!).sum(0)] });
    expectClose(grad((b: Tensor) => both(a, b).sum())(b), [4, 6]);
    expectClose(grad((a: Tensor) => both(a, 3).sum())(a), [[3, 3], [3, 3]]);
    expectClose(jvp((a: Tensor) => both(a, 3), [a], [t64([[1, 0], [0, 1]])])[1], [[3, 0], [0, 3]]);
  });

  test("bad rules and no rules are clear errors", () => {
    expect(() => customFunction((x) => x, {})).toThrow(/give a vjp rule, a jvp rule, or both/);
    const wrongCount = customVjp((x) => x.mul(2), (g) => [g, g], { name: "wrong_count" });
    expect(() => grad(sum(wrongCount))(t64([1]))).toThrow(GradgraphError);
    expect(() => grad(sum(wrongCount))(t64([1]))).toThrow(/wrong_count: the vjp rule must return one cotangent per input \(1\), got 2/);
    const wrongShape = customVjp((x) => x.mul(2), (g) => [g.sum().reshape(1).broadcastTo(3)], { name: "wrong_shape" });
    expect(() => grad(sum(wrongShape))(t64([1, 2]))).toThrow(ShapeError);
    expect(() => grad(sum(wrongShape))(t64([1, 2]))).toThrow(/wrong_shape: the vjp rule's cotangent of input 0 has shape \[3\], but input 0 has shape \[2\]/);
    // A tensor of another shape is never broadcast or summed, even one that would broadcast; a number fills.
    const summed = customVjp((x) => x.mul(2), (g) => [g.sum()], { name: "summed" });
    expect(() => grad(sum(summed))(t64([1, 2, 3]))).toThrow(ShapeError);
    expect(() => grad(sum(summed))(t64([1, 2, 3]))).toThrow("summed: the vjp rule's cotangent of input 0 has shape [], but input 0 has shape [3]");
    expect(() => jvp(summed, [t64([1, 2, 3])], [t64([1, 1, 1])])).toThrow(/summed: the vjp rule's cotangent of input 0 has shape \[\], but input 0 has shape \[3\]/);
    const broadcasting = customVjp((x) => x.mul(2), (g) => [g.mul(t64([[1], [1]]))], { name: "broadcasting" });
    expect(() => grad(sum(broadcasting))(t64([1, 2]))).toThrow(/broadcasting: the vjp rule's cotangent of input 0 has shape \[2,2\], but input 0 has shape \[2\]/);
    const scalarJvp = customJvp((x) => x.mul(2), (dxs) => dxs[0]!.sum(), { name: "scalar_jvp" });
    expect(() => jvp(scalarJvp, [t64([1, 2])], [t64([1, 1])])).toThrow(/scalar_jvp: the jvp rule's result has shape \[\], but the output has shape \[2\]/);
    expectClose(grad(sum(customVjp((x) => x.mul(2), () => [2])))(t64([1, 2, 3])), [2, 2, 2]);
  });
});

describe("straight-through estimators", () => {
  // round on the way forward (computed outside the tensor ops), the identity on the way back
  const roundSte = customVjp((x) => fromTypedArray(x.toArray().map(Math.round), x.shape), (g) => [g], { name: "round_ste" });
  // sign forward; gradient passed through where |x| ≤ 1 (the "hard tanh" STE)
  const signSte = customVjp((x) => x.sign(), (g, [x]) => [g.mul(x!.abs().gt(1).neg().add(1))], { name: "sign_ste" });

  test("round: rounded values, identity gradient in both modes, zero second derivative", () => {
    const x = t64([0.4, 1.6, -2.5]);
    expectClose(roundSte(x), [0, 2, -2]);
    expectClose(grad((x: Tensor) => roundSte(x).mul(x).sum())(x), [0.4 + 0, 1.6 + 2, -2.5 - 2]);
    expectClose(jvp(roundSte, [x], [t64([1, 2, 3])])[1], [1, 2, 3]);
    expectClose(hessian(sum(roundSte))(x), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });

  test("sign: ±1 forward, gradient 1 inside [-1, 1] and 0 outside; forward mode by transposition", () => {
    const x = t64([-2, -0.5, 0.3, 1.5]);
    expectClose(signSte(x), [-1, -1, 1, 1]);
    expectClose(grad(sum(signSte))(x), [0, 1, 1, 0]);
    expectClose(jvp(signSte, [x], [t64([5, 5, 5, 5])])[1], [0, 5, 5, 0]);
    // Without the estimator, sign has a zero gradient everywhere.
    expectClose(grad((x: Tensor) => x.sign().sum())(x), [0, 0, 0, 0]);
  });
});

describe("stopGradient", () => {
  test("no derivative flows through it, in either mode or at any order; the value is unchanged", () => {
    const x = t64([3, -2]);
    expectClose(stopGradient(x), [3, -2]);
    expectClose(grad((x: Tensor) => stopGradient(x).mul(x).sum())(x), [3, -2]);
    expectClose(jvp((x: Tensor) => stopGradient(x).mul(x), [x], [t64([1, 1])])[1], [3, -2]);
    // f = stop(x²)·x + x: f' = x² + 1 numerically, but f'' = 0 (the stopped factor is a constant).
    const f = (x: Tensor) => stopGradient(x.mul(x)).mul(x).add(x).sum();
    expectClose(grad(f)(x), [10, 5]);
    expectClose(hessian(f)(x), [[0, 0], [0, 0]]);
    expectClose(grad((y: Tensor) => grad(f)(y).sum())(x), [0, 0]);
  });

  test("on a tree of tensors", () => {
    const p = { w: tensor([1], { requiresGrad: true }), n: 3, list: [tensor([2], { requiresGrad: true })] };
    const s = stopGradient(p);
    expect(s.w.requiresGrad).toBe(false);
    expect(s.list[0]!.requiresGrad).toBe(false);
    expect(s.n).toBe(3);
    expect(s.w.toNested()).toEqual([1]);
  });
});
