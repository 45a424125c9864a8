import { describe, expect, test } from "vitest";
import {
  enableGrad,
  engine,
  GradgraphError,
  isGradEnabled,
  noGrad,
  ones,
  randn,
  ShapeError,
  Tensor,
  tensor,
  type TensorOptions,
} from "../../packages/gradgraph/src/tensor/index.js";
import { withBackend } from "../../packages/gradgraph/src/backend/index.js";

const f64 = (x: Parameters<typeof tensor>[0], o: TensorOptions = {}) => tensor(x, { dtype: "float64", ...o });

describe("backward", () => {
  test("on a scalar: gradients of the leaves, of their shapes", () => {
    const x = f64([[1, 2], [3, 4]], { requiresGrad: true });
    const b = f64([10, 20], { requiresGrad: true });
    const y = x.add(b).pow(2).sum();
    y.backward();
    expect(x.grad!.toNested()).toEqual([[22, 44], [26, 48]]);
    // b was broadcast over the rows: its gradient is summed back over them.
    expect(b.grad!.shape).toEqual([2]);
    expect(b.grad!.toNested()).toEqual([48, 92]);
  });

  test("on a non-scalar without a seed: an error saying what to do", () => {
    const x = f64([1, 2, 3], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(GradgraphError);
    expect(() => x.mul(2).backward()).toThrow(
      "backward: the output has shape [3], not a single value; pass a seed of that shape (the gradient of some scalar with respect to it), e.g. backward(1) for ones, the gradient of its sum",
    );
  });

  test("with a seed: a tensor of the output's shape, or a number (ones: the gradient of the sum)", () => {
    const x = f64([1, 2, 3], { requiresGrad: true });
    x.mul(x).backward(f64([1, 0, -1]));
    expect(x.grad!.toNested()).toEqual([2, 0, -6]);
    x.zeroGrad();
    x.mul(x).backward(1);
    expect(x.grad!.toNested()).toEqual([2, 4, 6]);
    expect(() => x.mul(x).backward(f64([1, 2]))).toThrow(new ShapeError("backward: seed of shape [2] does not fit output of shape [3]"));
  });

  test("on a tensor that does not require grad: an error", () => {
    expect(() => ones([2]).sum().backward()).toThrow("backward: this tensor does not require grad");
  });

  test("gradients accumulate across calls; zeroGrad clears them", () => {
    const w = f64([1, -2], { requiresGrad: true });
    const loss = w.mul(w).sum();
    loss.backward();
    expect(w.grad!.toNested()).toEqual([2, -4]);
    // Backward twice, no retainGraph: works identically (the same gradient is added again).
    loss.backward();
    expect(w.grad!.toNested()).toEqual([4, -8]);
    loss.zeroGrad();
    expect(w.grad).toBeNull();
    loss.backward({ retainGraph: false });
    expect(w.grad!.toNested()).toEqual([2, -4]);
  });

  test("fan-out: gradients add up where a tensor is used twice (w = x² + 3x)", () => {
    const x = f64([-1, 0, 2], { requiresGrad: true });
    x.mul(x).add(x.mul(3)).sum().backward();
    expect(x.grad!.toNested()).toEqual([1, 3, 7]);
  });

  test("noGrad records nothing; detach stops the gradient; constants get no grad", () => {
    const x = f64([1, 2], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
    const c = f64([5, 5]);
    x.detach().mul(x).add(c).sum().backward();
    expect(x.grad!.toNested()).toEqual([1, 2]);
    expect(c.grad).toBeNull();
  });

  test("noGrad, enableGrad and withBackend refuse async work, whose code after an await would run outside them", async () => {
    const x = f64([1, 2], { requiresGrad: true });
    let after: boolean | null = null;
    const asyncFn = async () => {
      await null;
      after = x.mul(2).requiresGrad; // would be recorded: the mode was restored at the first await
    };
    expect(() => noGrad(asyncFn)).toThrow("noGrad: expected a synchronous function, got an async function");
    expect(() => enableGrad(asyncFn)).toThrow("enableGrad: expected a synchronous function, got an async function");
    expect(() => withBackend("js", asyncFn)).toThrow("withBackend: expected a synchronous function, got an async function");
    expect(() => noGrad(() => Promise.resolve(1))).toThrow("noGrad: the function returned a promise");
    expect(() => noGrad("x" as unknown as () => void)).toThrow("noGrad: expected a function, got a string");
    await Promise.resolve();
    expect(after).toBeNull(); // refused before it ran
    expect(isGradEnabled()).toBe(true);
    expect(noGrad(() => 3)).toBe(3);
  });

  test("retainGrads keeps the gradients of intermediate tensors", () => {
    const x = f64([1, 2], { requiresGrad: true });
    const p = x.mul(3);
    const q = p.relu().retainGrad();
    const r = q.sum();
    r.backward({ retainGrads: true });
    expect(p.grad!.toNested()).toEqual([1, 1]);
    expect(q.grad!.toNested()).toEqual([1, 1]);
    expect(r.grad!.item()).toBe(1);
  });

  test("gradients have the dtype of their leaf", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.mul(f64([0.5, 0.25])).sum().backward();
    expect(x.grad!.dtype).toBe("float32");
    expect(x.grad!.toNested()).toEqual([0.5, 0.25]);
  });

  test("a long chain does not overflow the stack", () => {
    const x = f64([1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1.0001);
    y.sum().backward();
    expect(x.grad!.item()).toBeCloseTo(1.0001 ** 20000, 6);
  });
});

describe("max/min split the gradient evenly at ties (PyTorch's rule)", () => {
  test("amax over all and over an axis", () => {
    const x = f64([[1, 3, 3], [2, 2, 2]], { requiresGrad: true });
    x.amax().backward();
    expect(x.grad!.toNested()).toEqual([[0, 0.5, 0.5], [0, 0, 0]]);
    x.zeroGrad();
    x.amax(1).sum().backward();
    expect(x.grad!.toNested()).toEqual([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]);
    x.zeroGrad();
    x.amin(0).sum().backward();
    expect(x.grad!.toNested()).toEqual([[1, 0, 0], [0, 1, 1]]);
  });

  test("elementwise max/min at a tie: half to each side", () => {
    const a = f64([1, 2], { requiresGrad: true }), b = f64([1, 3], { requiresGrad: true });
    a.max(b).sum().backward();
    expect(a.grad!.toNested()).toEqual([0.5, 0]);
    expect(b.grad!.toNested()).toEqual([0.5, 1]);
  });
});

describe("createGraph: the backward pass is itself a graph", () => {
  test("second and third derivatives", () => {
    const x = f64([0.3, -1.2, 2], { requiresGrad: true });
    const [g1] = engine.gradients([x.sin().sum()], [x], undefined, { createGraph: true });
    expect(g1!.requiresGrad).toBe(true);
    const [g2] = engine.gradients([g1!.sum()], [x], undefined, { createGraph: true });
    const [g3] = engine.gradients([g2!.sum()], [x]);
    const xs = [0.3, -1.2, 2];
    (g1!.toNested() as number[]).forEach((v, i) => expect(v).toBeCloseTo(Math.cos(xs[i]!), 14));
    (g2!.toNested() as number[]).forEach((v, i) => expect(v).toBeCloseTo(-Math.sin(xs[i]!), 14));
    (g3!.toNested() as number[]).forEach((v, i) => expect(v).toBeCloseTo(-Math.cos(xs[i]!), 14));
  });

  test("backward({ createGraph: true }) leaves a differentiable .grad", () => {
    const x = f64([1, 2], { requiresGrad: true });
    x.pow(3).sum().backward({ createGraph: true });
    const g = x.grad!;
    expect(g.toNested()).toEqual([3, 12]);
    x.grad = null;
    g.sum().backward();
    expect(x.grad!.toNested()).toEqual([6, 12]);
  });

  test("Hessian-vector product of a matmul + softmax network equals finite differences of the gradient", () => {
    const W = randn([3, 4], { seed: 1, dtype: "float64", requiresGrad: true });
    const X = randn([5, 3], { seed: 2, dtype: "float64" });
    const v = randn([3, 4], { seed: 3, dtype: "float64" });
    const loss = (w: Tensor) => X.matmul(w).softmax(1).pow(2).sum();
    const [g] = engine.gradients([loss(W)], [W], undefined, { createGraph: true });
    const [hv] = engine.gradients([g!.mul(v).sum()], [W]);
    const eps = 1e-5;
    const gradAt = (w: Tensor) => {
      const leaf = new Tensor(w.value, { requiresGrad: true });
      return engine.gradients([loss(leaf)], [leaf])[0]!;
    };
    const [wp, wm] = noGrad(() => [W.add(v.mul(eps)), W.sub(v.mul(eps))]);
    const fd = gradAt(wp!).sub(gradAt(wm!)).div(2 * eps);
    const a = hv!.toArray(), b = fd.toArray();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 6);
  });
});

describe("forward mode over a graph", () => {
  test("<v, J u> (forward) equals <Jᵀ v, u> (reverse)", () => {
    const X = randn([4, 3], { seed: 5, dtype: "float64", requiresGrad: true });
    const W = randn([3, 2], { seed: 6, dtype: "float64", requiresGrad: true });
    const Y = X.matmul(W).tanh().logSoftmax(1);
    const u = [randn([4, 3], { seed: 7, dtype: "float64" }), randn([3, 2], { seed: 8, dtype: "float64" })];
    const v = randn([4, 2], { seed: 9, dtype: "float64" });
    const [Ju] = engine.tangents([Y], [X, W], u);
    const JTv = engine.gradients([Y], [X, W], [v]);
    const lhs = Ju!.mul(v).sum().item();
    const rhs = JTv[0]!.mul(u[0]!).sum().item() + JTv[1]!.mul(u[1]!).sum().item();
    expect(lhs).toBeCloseTo(rhs, 12);
  });

  test("tangents of a broadcast input are broadcast to the output (one place, not in rules)", () => {
    const b = f64([1, 2], { requiresGrad: true });
    const X = f64([[1, 1], [1, 1], [1, 1]], { requiresGrad: true });
    const [t] = engine.tangents([X.add(b)], [b], [f64([1, -1])]);
    expect(t!.toNested()).toEqual([[1, -1], [1, -1], [1, -1]]);
  });
});
