/** Each optimizer against updates computed by hand for two steps, gradient clipping, and the schedules. */
import { describe, expect, test } from "vitest";
import { Adam, AdamW, clipGradNorm, constantLR, cosineLR, fit, linearWarmup, LRScheduler, MLP, moons, SGD, stepLR, type Optimizer } from "../../packages/gradgraph/src/nn/index.js";
import { fromTypedArray, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const P0 = [1, -2];
const G1 = [0.5, 3];
const G2 = [-1, 2];

/** Runs two steps with the gradients G1 then G2 (or `grad(p)`), returning p after each. */
function twoSteps(make: (p: Tensor) => Optimizer, grad?: (p: number[]) => number[]): number[][] {
  const p = tensor(P0, { dtype: "float64", requiresGrad: true });
  const opt = make(p);
  const out: number[][] = [];
  for (const g of [G1, G2]) {
    const cur = Array.from(p.toArray());
    p.grad = tensor(grad ? grad(cur) : g, { dtype: "float64" });
    opt.step();
    out.push(Array.from(p.toArray()));
  }
  return out;
}

function expectClose(got: number[][], want: number[][], tol = 1e-12): void {
  got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(tol)));
}

describe("SGD", () => {
  test("plain: p ← p − lr·g", () => {
    const got = twoSteps((p) => new SGD([p], { lr: 0.1 }));
    expectClose(got, [
      [1 - 0.1 * 0.5, -2 - 0.1 * 3],
      [1 - 0.1 * 0.5 - 0.1 * -1, -2 - 0.1 * 3 - 0.1 * 2],
    ]);
  });

  test("momentum: b1 = g1, b2 = μ·b1 + g2", () => {
    const got = twoSteps((p) => new SGD([p], { lr: 0.1, momentum: 0.9 }));
    const b1 = G1, b2 = [0.9 * 0.5 + -1, 0.9 * 3 + 2];
    const p1 = [1 - 0.1 * b1[0]!, -2 - 0.1 * b1[1]!];
    expectClose(got, [p1, [p1[0]! - 0.1 * b2[0]!, p1[1]! - 0.1 * b2[1]!]]);
  });

  test("Nesterov: the step is g + μ·b", () => {
    const got = twoSteps((p) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }));
    // step 1: b = g1 = [0.5, 3], step = g1 + 0.9·b = [0.95, 5.7]
    const p1 = [1 - 0.1 * 0.95, -2 - 0.1 * 5.7];
    // step 2: b = 0.9·[0.5, 3] + [-1, 2] = [-0.55, 4.7], step = g2 + 0.9·b = [-1.495, 6.23]
    expectClose(got, [p1, [p1[0]! - 0.1 * -1.495, p1[1]! - 0.1 * 6.23]]);
  });

  test("weight decay adds λ·p to the gradient", () => {
    // loss = 0.5·p·p': gradient 0.5 (constant) plus λp
    const got = twoSteps((p) => new SGD([p], { lr: 0.1, weightDecay: 0.1 }));
    const p1 = [1 - 0.1 * (0.5 + 0.1 * 1), -2 - 0.1 * (3 + 0.1 * -2)]; // [0.94, -2.28]
    const p2 = [p1[0]! - 0.1 * (-1 + 0.1 * p1[0]!), p1[1]! - 0.1 * (2 + 0.1 * p1[1]!)];
    expectClose(got, [p1, p2]);
    expect(p1[0]).toBeCloseTo(0.94, 14);
  });

  test("Nesterov without momentum is refused", () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new SGD([p], { nesterov: true })).toThrow("Nesterov momentum needs momentum > 0");
  });
});

/** Adam's two steps by hand (β1 0.9, β2 0.999, ε 1e-8, lr 0.1), with bias correction. */
function adamByHand(p0: number[], decay = 0): number[][] {
  const lr = 0.1, eps = 1e-8;
  const out: number[][] = [];
  let p = [...p0];
  let m = [0, 0], v = [0, 0];
  [G1, G2].forEach((g, k) => {
    const t = k + 1;
    p = p.map((x) => x * (1 - lr * decay)); // AdamW's decoupled decay (none for Adam)
    m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]!);
    v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i]! ** 2);
    const mhat = m.map((mi) => mi / (1 - 0.9 ** t));
    const vhat = v.map((vi) => vi / (1 - 0.999 ** t));
    p = p.map((x, i) => x - (lr * mhat[i]!) / (Math.sqrt(vhat[i]!) + eps));
    out.push([...p]);
  });
  return out;
}

describe("Adam and AdamW", () => {
  test("Adam: moments, bias correction (step 1 moves each weight by lr), step 2", () => {
    const got = twoSteps((p) => new Adam([p], { lr: 0.1 }));
    const want = adamByHand(P0);
    expectClose(got, want);
    // The numbers themselves, so the hand computation is checked too: m̂1 = g1 and v̂1 = g1², so step 1 is ±lr.
    expect(want[0]![0]).toBeCloseTo(0.9, 7);
    expect(want[0]![1]).toBeCloseTo(-2.1, 7);
    // step 2: m = [-0.055, 0.47], v = [0.00124975, 0.012991], corrections 0.19 and 0.001999
    const step2 = [(0.1 * (-0.055 / 0.19)) / (Math.sqrt(0.00124975 / 0.001999) + 1e-8), (0.1 * (0.47 / 0.19)) / (Math.sqrt(0.012991 / 0.001999) + 1e-8)];
    expect(want[1]![0]).toBeCloseTo(want[0]![0]! - step2[0]!, 12);
    expect(want[1]![1]).toBeCloseTo(want[0]![1]! - step2[1]!, 12);
    expect(step2[0]).toBeCloseTo(-0.0366101, 6);
    expect(step2[1]).toBeCloseTo(0.0970353, 6);
  });

  test("Adam with weight decay: coupled L2, g ← g + λθ before the moments (PyTorch's Adam weight_decay)", () => {
    const got = twoSteps((p) => new Adam([p], { lr: 0.1, weightDecay: 0.1 }));
    // By hand, λ = 0.1, lr = 0.1, β1 0.9, β2 0.999, ε 1e-8.
    // Step 1: g' = g1 + λθ0 = [0.5 + 0.1, 3 − 0.2] = [0.6, 2.8]; m̂1 = g', v̂1 = g'², so θ1 = θ0 − lr·sign(g') = [0.9, −2.1].
    const lr = 0.1, lam = 0.1, eps = 1e-8;
    const g1 = [0.5 + lam * 1, 3 + lam * -2];
    expect(g1[0]).toBeCloseTo(0.6, 15);
    expect(g1[1]).toBeCloseTo(2.8, 15);
    const m1 = g1.map((g) => 0.1 * g), v1 = g1.map((g) => 0.001 * g * g);
    const p1 = [1, -2].map((x, i) => x - (lr * (m1[i]! / 0.1)) / (Math.sqrt(v1[i]! / 0.001) + eps));
    expect(p1[0]).toBeCloseTo(0.9, 7);
    expect(p1[1]).toBeCloseTo(-2.1, 7);
    // Step 2: g' = g2 + λθ1 = [−1 + 0.09, 2 − 0.21] = [−0.91, 1.79] (θ1 up to ε).
    const g2 = [-1 + lam * p1[0]!, 2 + lam * p1[1]!];
    expect(g2[0]).toBeCloseTo(-0.91, 7);
    expect(g2[1]).toBeCloseTo(1.79, 7);
    const m2 = m1.map((m, i) => 0.9 * m + 0.1 * g2[i]!), v2 = v1.map((v, i) => 0.999 * v + 0.001 * g2[i]! ** 2);
    // m2 = [0.054 − 0.091, 0.252 + 0.179] = [−0.037, 0.431]; v2 = [0.00035964 + 0.0008281, 0.00783216 + 0.0032041]
    expect(m2[0]).toBeCloseTo(-0.037, 7);
    expect(m2[1]).toBeCloseTo(0.431, 7);
    expect(v2[0]).toBeCloseTo(0.00118774, 8);
    expect(v2[1]).toBeCloseTo(0.01103626, 8);
    const p2 = p1.map((x, i) => x - (lr * (m2[i]! / 0.19)) / (Math.sqrt(v2[i]! / 0.001999) + eps));
    expectClose(got, [p1, p2]);
    // It differs from both plain Adam and AdamW.
    expect(Math.abs(got[1]![0]! - adamByHand(P0)[1]![0]!)).toBeGreaterThan(1e-3);
    expect(Math.abs(got[1]![0]! - adamByHand(P0, 0.1)[1]![0]!)).toBeGreaterThan(1e-3);
  });

  test("AdamW: decoupled weight decay p ← p(1 − lr·λ) before the Adam step", () => {
    const got = twoSteps((p) => new AdamW([p], { lr: 0.1, weightDecay: 0.1 }));
    expectClose(got, adamByHand(P0, 0.1));
    expect(got[0]![0]).toBeCloseTo(0.99 - 0.1, 7);
  });

  test("AdamW decays by 0.01 by default, Adam not at all", () => {
    const p = tensor([1], { requiresGrad: true });
    expect(new AdamW([p]).weightDecay).toBe(0.01);
    expect(new Adam([p]).weightDecay).toBe(0);
  });

  test("float32 parameters stay float32; parameters without a gradient are left alone", () => {
    const a = tensor([1, 2], { requiresGrad: true }), b = tensor([3], { requiresGrad: true });
    a.grad = tensor([1, 1]);
    const opt = new Adam([a, b], { lr: 0.5 });
    opt.step();
    expect(a.dtype).toBe("float32");
    // step 1 of Adam moves by lr·g/(|g| + ε): 0.5 each, up to float32 rounding
    expect(a.toArray()[0]).toBeCloseTo(0.5, 6);
    expect(a.toArray()[1]).toBeCloseTo(1.5, 6);
    expect(Array.from(b.toArray())).toEqual([3]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  test("an optimizer only takes leaf parameters that require grad", () => {
    expect(() => new Adam([tensor([1])])).toThrow("every parameter must be a leaf tensor with requiresGrad");
  });
});

describe("gradient clipping", () => {
  test("scales all gradients together to the norm; returns the norm before", () => {
    const a = tensor([3], { requiresGrad: true, dtype: "float64" }), b = tensor([0, 4], { requiresGrad: true, dtype: "float64" });
    a.grad = tensor([3], { dtype: "float64" });
    b.grad = tensor([0, 4], { dtype: "float64" });
    expect(clipGradNorm([a, b], 1)).toBe(5);
    const scale = 1 / (5 + 1e-6);
    expect(a.grad.toArray()[0]).toBeCloseTo(3 * scale, 12);
    expect(b.grad.toArray()[1]).toBeCloseTo(4 * scale, 12);
    // Below the limit: untouched.
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5);
    expect(a.grad.toArray()[0]).toBeCloseTo(3 * scale, 12);
  });

  test("a negative or NaN maxNorm is refused (it flipped every gradient, or clipped nothing); 0 zeroes them", () => {
    const a = tensor([3], { requiresGrad: true, dtype: "float64" });
    a.grad = tensor([3], { dtype: "float64" });
    expect(() => clipGradNorm([a], -1)).toThrow("clipGradNorm: maxNorm must be a number ≥ 0, got -1");
    expect(() => clipGradNorm([a], NaN)).toThrow("clipGradNorm: maxNorm must be a number ≥ 0, got NaN");
    expect(a.grad.toArray()[0]).toBe(3);
    expect(clipGradNorm([a], 0)).toBe(3);
    expect(a.grad.toArray()[0]).toBe(0);
  });
});

describe("learning-rate schedules", () => {
  test("step decay", () => {
    const s = stepLR(10, 0.5);
    expect([0, 9, 10, 19, 20].map(s)).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });

  test("cosine from 1 to the floor", () => {
    const s = cosineLR(100, 0.1);
    expect(s(0)).toBe(1);
    expect(s(50)).toBeCloseTo(0.55, 12);
    expect(s(100)).toBeCloseTo(0.1, 12);
    expect(s(150)).toBe(0.1);
  });

  test("linear warmup, then the next schedule counted from its end", () => {
    const s = linearWarmup(4, stepLR(2, 0.1));
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s(4)).toBe(1);
    expect(s(6)).toBeCloseTo(0.1, 12);
    expect(linearWarmup(0)(0)).toBe(constantLR(0));
  });

  test("LRScheduler drives the optimizer's lr step by step", () => {
    const p = tensor([1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.2 });
    const sched = new LRScheduler(opt, linearWarmup(2));
    expect(opt.lr).toBeCloseTo(0.1, 12);
    sched.step();
    expect(opt.lr).toBeCloseTo(0.2, 12);
    sched.step();
    expect(sched.lr).toBeCloseTo(0.2, 12);
  });

  // A second scheduler (a second fit with a schedule) took the rate the first left as its base: after a cosine to 0
  // the second run did not train at all, and step decays compounded.
  test("a second scheduler starts from the optimizer's initial rate, as PyTorch's initial_lr", async () => {
    const p = tensor([1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.2 });
    const first = new LRScheduler(opt, cosineLR(2));
    first.step();
    first.step();
    expect(opt.lr).toBe(0);
    const second = new LRScheduler(opt, stepLR(1, 0.5));
    expect([second.baseLr, opt.lr]).toEqual([0.2, 0.2]);
    second.step();
    expect(opt.lr).toBeCloseTo(0.1, 15);
    const model = new MLP([2, 4, 2], "relu", { seed: 0 }), adam = new Adam(model.parameters(), { lr: 0.01 });
    const options = { loss: "cross_entropy" as const, optimizer: adam, epochs: 1, batchSize: 16, schedule: cosineLR(4) };
    await fit(model, moons(64, { seed: 0 }), options);
    expect(adam.lr).toBe(0);
    const before = [...model.parameters()[0]!.toArray()];
    const lrs: number[] = [];
    await fit(model, moons(64, { seed: 0 }), { ...options, onStep: () => void lrs.push(adam.lr) });
    expect(lrs[0]).toBeCloseTo(0.01 * cosineLR(4)(1), 15);
    expect([...model.parameters()[0]!.toArray()]).not.toEqual(before);
  });
});

describe("hyperparameters and parameters PyTorch refuses", () => {
  const w = () => tensor([1, 2], { requiresGrad: true });
  test("negative eps, momentum or weight decay, or a NaN one, is an error naming it", () => {
    expect(() => new Adam([w()], { eps: -1e-8 })).toThrow("Adam: eps must be a non-negative number, got -1e-8");
    expect(() => new AdamW([w()], { weightDecay: -0.1 })).toThrow("AdamW: weightDecay must be a non-negative number, got -0.1");
    expect(() => new SGD([w()], { momentum: -0.9 })).toThrow("SGD: momentum must be a non-negative number, got -0.9");
    expect(() => new SGD([w()], { weightDecay: NaN })).toThrow("SGD: weightDecay must be a non-negative number, got NaN");
    expect(() => new Adam([w()], { eps: NaN })).toThrow("eps must be a non-negative number");
  });

  // A parameter group said "got the result of an op at 0"; an iterable threw "params.forEach is not a function".
  test("parameter groups, iterables and non-tensors are refused saying what to give", () => {
    const ps = [w(), w()];
    expect(() => new SGD([{ params: ps, lr: 0.1 }] as unknown as Tensor[])).toThrow("SGD: parameter 0 is an object, not a tensor (a parameter group: gradgraph's optimizers take one list of parameters and one lr; make one optimizer per group)");
    expect(() => new Adam(ps.values() as unknown as Tensor[])).toThrow("Adam: expected an array of parameters, e.g. model.parameters(), got an iterable that is not an array (spread it into one: [...params])");
    expect(() => new SGD([ps[0]!, 5 as unknown as Tensor])).toThrow("SGD: parameter 1 is a number (5), not a tensor");
  });

  test("an empty parameter list is an error (PyTorch's too: it would optimize nothing)", () => {
    expect(() => new SGD([])).toThrow("SGD: got an empty parameter list, so it would optimize nothing");
    expect(() => new Adam([], { lr: 0.01 })).toThrow("Adam: got an empty parameter list");
  });

  test("a parameter listed twice is an error (it would be updated twice per step)", () => {
    const p = w();
    expect(() => new SGD([p, w(), p])).toThrow("SGD: parameter 2 is listed twice");
    expect(() => new Adam([p, p])).toThrow("Adam: parameter 1 is listed twice");
  });

  test("an unknown dtype is an error, not float32 in silence", () => {
    const dtype = "int8" as unknown as "float32";
    expect(() => tensor([1, 2], { dtype })).toThrow('unknown dtype "int8": expected "float32" or "float64"');
    expect(() => tensor([1, 2]).cast(dtype)).toThrow('unknown dtype "int8"');
  });
});

describe("in-place updates", () => {
  test("after the first step a parameter keeps its storage; an array it shared is never written", () => {
    const data = new Float64Array([1, 2, 3]);
    const p = fromTypedArray(data, [3], { requiresGrad: true });
    for (const opt of [new SGD([p], { lr: 0.5, momentum: 0.9 }), new Adam([p], { lr: 0.1 })]) {
      p.grad = tensor([1, 1, 1], { dtype: "float64" });
      opt.step();
      const storage = p.value.data;
      expect(storage).not.toBe(data);
      p.grad = tensor([1, 1, 1], { dtype: "float64" });
      opt.step();
      expect(p.value.data).toBe(storage);
    }
    expect(Array.from(data)).toEqual([1, 2, 3]);
  });

  test("update checks that the result has the tensor's shape", () => {
    const p = tensor([1, 2, 3]);
    expect(() => p.update((o, [a, b]) => o.add(a!, b!), tensor([[1], [2]]))).toThrow(
      "update: the inputs broadcast to [2,3], not to the tensor's shape [3]",
    );
    expect(p.update((o, [a, b]) => o.add(a!, b!), 1).toNested()).toEqual([2, 3, 4]);
  });
});
