/**
 * The layers beyond Linear: gradient checks in float64 (inputs and parameters, reverse and forward mode),
 * training vs evaluation mode, save → load → same outputs, masks, and clear errors for bad input. Agreement with
 * PyTorch is in layer-fixtures.test.ts.
 */
import { describe, expect, test } from "vitest";
import { grad } from "../../packages/gradgraph/src/autodiff/functional.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { BatchNorm1d, BatchNorm2d, crossEntropy, decodeSafetensors, Dropout, Embedding, embedding, encodeSafetensors, GRU, LayerNorm, LSTM, Module, MultiheadAttention } from "../../packages/gradgraph/src/nn/index.js";
import { manualSeed, noGrad, randn, tensor, Tensor, type DType, zeros } from "../../packages/gradgraph/src/tensor/index.js";

const f64 = (x: Parameters<typeof tensor>[0], requiresGrad = false) => tensor(x, { dtype: "float64", requiresGrad });
const rnd = (shape: number[], seed: number, dtype: DType = "float64") => randn(shape, { seed, dtype });

/** Sets the parameter called `name` (dotted) to `t`. */
function setParam(m: Module, name: string, t: Tensor): void {
  const parts = name.split(".");
  let obj = m as unknown as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) obj = obj[p] as Record<string, unknown>;
  obj[parts[parts.length - 1]!] = t;
}

/** gradcheck of sum(f(module) · w) with respect to the inputs and every parameter of the module. */
function gradcheckModule(m: Module, inputs: Tensor[], run: (...xs: Tensor[]) => Tensor) {
  const named = m.namedParameters();
  const k = inputs.length;
  return gradcheck((...xs) => {
    named.forEach(([n], i) => setParam(m, n, xs[k + i]!));
    const y = run(...xs.slice(0, k));
    return y.mul(rnd([...y.shape], 99)).sum();
  }, [...inputs, ...named.map(([, p]) => p)]);
}

/** The state dict through safetensors bytes into `fresh` (strict): the same outputs. */
function roundTrip(m: Module, fresh: Module, run: (m: Module) => Tensor): void {
  const loaded = decodeSafetensors(encodeSafetensors(m.stateDict())).tensors;
  const before = noGrad(() => run(fresh)).toArray().slice();
  fresh.loadStateDict(loaded);
  const want = noGrad(() => run(m)).toArray();
  const got = noGrad(() => run(fresh)).toArray();
  expect([...got]).toEqual([...want]);
  expect([...before]).not.toEqual([...want]); // the load changed something
}

describe("LayerNorm", () => {
  test("normalises the last dimensions; gradcheck in float64", () => {
    const ln = new LayerNorm([2, 3], { dtype: "float64" });
    const y = ln.forward(rnd([4, 2, 3], 1).mul(5).add(2));
    expect(Math.abs(y.mean().item())).toBeLessThan(1e-12);
    expect(y.pow(2).mean([1, 2]).toArray().every((v) => Math.abs(v - 1) < 1e-4)).toBe(true);
    noGrad(() => ln.weight!.assign(rnd([2, 3], 2)));
    expect(gradcheckModule(ln, [rnd([3, 2, 3], 3)], (x) => ln.forward(x!)).ok).toBe(true);
  });

  test("save → load → same outputs; bad shapes name what was expected", () => {
    const a = new LayerNorm(4), b = new LayerNorm(4);
    noGrad(() => a.weight!.assign(rnd([4], 4, "float32")));
    const x = rnd([2, 4], 5, "float32");
    roundTrip(a, b, (m) => m.forward(x));
    expect(() => a.forward(rnd([2, 5], 1))).toThrow("LayerNorm: input of shape [2,5] does not end in the normalized shape [4]");
    expect(() => new LayerNorm([0])).toThrow("normalizedShape must be positive integers");
    expect(new LayerNorm(4, { affine: false }).parameters()).toEqual([]);
  });
});

describe("BatchNorm", () => {
  test("training: batch statistics, running estimates move; eval: running estimates, nothing moves", () => {
    const bn = new BatchNorm1d(2, { dtype: "float64" });
    const x = f64([[1, 10], [3, 20], [5, 60]]);
    const y = bn.forward(x);
    expect(y.mean(0).toArray().every((v) => Math.abs(v) < 1e-12)).toBe(true);
    // running_mean = 0.9·0 + 0.1·[3, 30]; running_var = 0.9·1 + 0.1·unbiased var [4, 700]
    expect([...bn.running_mean!.toArray()].map((v) => +v.toFixed(12))).toEqual([0.3, 3]);
    expect([...bn.running_var!.toArray()].map((v) => +v.toFixed(12))).toEqual([1.3, 70.9]);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    bn.eval();
    const e = bn.forward(x);
    // (x − 0.3)/√(1.3 + 1e-5) for the first channel
    expect(e.toArray()[0]).toBeCloseTo((1 - 0.3) / Math.sqrt(1.3 + 1e-5), 12);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    expect(bn.running_mean!.toArray()[0]).toBeCloseTo(0.3, 12);
  });

  test("gradcheck in float64 (train mode through the batch statistics, and eval mode)", () => {
    const bn = new BatchNorm2d(2, { dtype: "float64" });
    noGrad(() => (bn.weight!.assign(rnd([2], 6)), bn.bias!.assign(rnd([2], 7))));
    expect(gradcheckModule(bn, [rnd([2, 2, 3, 2], 8)], (x) => bn.forward(x!)).ok).toBe(true);
    bn.eval();
    expect(gradcheckModule(bn, [rnd([2, 2, 3, 2], 9)], (x) => bn.forward(x!)).ok).toBe(true);
  });

  test("save → load → same outputs (running statistics included); bad input", () => {
    const a = new BatchNorm1d(3), b = new BatchNorm1d(3);
    a.forward(rnd([5, 3], 10, "float32"));
    a.eval(), b.eval();
    const x = rnd([4, 3], 11, "float32");
    roundTrip(a, b, (m) => m.forward(x));
    expect(() => a.forward(rnd([4, 5], 1))).toThrow("BatchNorm1d(3): expected input of shape [N, 3] or [N, 3, L], got [4,5]");
    expect(() => new BatchNorm2d(3).forward(rnd([4, 3, 2], 1))).toThrow("BatchNorm2d(3): expected input of shape [N, 3, H, W], got [4,3,2]");
    expect(() => new BatchNorm1d(3).forward(rnd([1, 3], 1))).toThrow("expected more than 1 value per channel when training");
    expect([...new BatchNorm1d(3, { trackRunningStats: false }).stateDict().keys()]).toEqual(["weight", "bias"]);
    expect([...new BatchNorm2d(3, { affine: false }).stateDict().keys()]).toEqual(["running_mean", "running_var", "num_batches_tracked"]);
  });
});

describe("Dropout", () => {
  test("training: zeroes about p of the elements and scales the rest by 1/(1 − p); eval: the identity", () => {
    const d = new Dropout(0.25, { seed: 3 });
    const x = tensor(new Array(20000).fill(2));
    const y = d.forward(x).toArray();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.23);
    expect(zeros).toBeLessThan(0.27);
    expect(y.every((v) => v === 0 || Math.abs(v - 2 / 0.75) < 1e-6)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(new Dropout(1).forward(x).toArray().every((v) => v === 0)).toBe(true);
    expect(() => new Dropout(1.5)).toThrow("Dropout: p must be in [0, 1], got 1.5");
  });

  test("the gradient is the mask times 1/(1 − p); masks come from the global generator (manualSeed)", () => {
    const x = tensor(new Array(50).fill(1), { requiresGrad: true });
    const d = new Dropout(0.5, { seed: 0 });
    const y = d.forward(x);
    y.sum().backward();
    expect([...x.grad!.toArray()]).toEqual([...y.toArray()]);
    manualSeed(7);
    const a = [new Dropout(0.5).forward(x).toArray(), new Dropout(0.5).forward(x).toArray()];
    manualSeed(7);
    const b = [new Dropout(0.5).forward(x).toArray(), new Dropout(0.5).forward(x).toArray()];
    expect([...a[0]!]).toEqual([...b[0]!]);
    expect([...a[1]!]).toEqual([...b[1]!]);
    expect([...a[0]!]).not.toEqual([...a[1]!]); // two Dropouts draw different masks
  });
});

describe("Embedding", () => {
  test("looks up rows; repeated indices add their gradients; the padding row gets none; gradcheck", () => {
    const emb = new Embedding(5, 2, { paddingIdx: 1, seed: 0, dtype: "float64" });
    expect([...emb.weight.slice(1).toArray()]).toEqual([0, 0]);
    const y = emb.forward([[0, 1], [3, 0]]);
    expect(y.shape).toEqual([2, 2, 2]);
    y.sum().backward();
    expect(emb.weight.grad!.toNested()).toEqual([[2, 2], [0, 0], [0, 0], [1, 1], [0, 0]]);
    // Without padding (whose zero gradient is by definition, not the derivative).
    expect(gradcheck((w) => embedding([[3, 1], [3, 4]], w).pow(2).sum(), [rnd([5, 2], 1)]).ok).toBe(true);
  });

  test("save → load → same outputs; bad indices are named with what was expected", () => {
    const a = new Embedding(4, 3, { seed: 1 }), b = new Embedding(4, 3, { seed: 2 });
    roundTrip(a, b, (m) => m.forward(tensor([3, 0, 2])));
    expect(() => a.forward([1, 4])).toThrow("Embedding(4, 3): index 4 at position 1 is out of range [0, 4)");
    expect(() => a.forward(tensor([0.5]))).toThrow("Embedding(4, 3): indices must be whole numbers, got 0.5 at position 0");
    expect(() => a.forward([-1])).toThrow("out of range [0, 4)");
    expect(() => new Embedding(4, 3, { paddingIdx: 4 })).toThrow("paddingIdx must be a whole number in [-4, 4), got 4");
    expect(new Embedding(4, 3, { paddingIdx: -1 }).paddingIdx).toBe(3);
  });
});

describe("MultiheadAttention", () => {
  test("gradcheck in float64 for inputs and all four parameters (with a key padding mask)", () => {
    const mha = new MultiheadAttention(4, 2, { batchFirst: true, seed: 0, dtype: "float64" });
    expect(mha.namedParameters().map(([n, p]) => `${n} ${p.shape.join("x")}`)).toEqual(["in_proj_weight 12x4", "in_proj_bias 12", "out_proj.weight 4x4", "out_proj.bias 4"]);
    noGrad(() => (mha.in_proj_bias!.assign(rnd([12], 3)), mha.out_proj.bias!.assign(rnd([4], 4))));
    const r = gradcheckModule(mha, [rnd([2, 3, 4], 1), rnd([2, 2, 4], 2)], (q, kv) => mha.forward(q!, kv!, kv!, { keyPaddingMask: [[false, true], [false, false]] }));
    expect(r.ok, r.message).toBe(true);
  });

  test("causal: an output never depends on later positions", () => {
    const mha = new MultiheadAttention(4, 2, { seed: 1, dtype: "float64" });
    const x = rnd([5, 1, 4], 2).mul(1).detach();
    x.requiresGrad = true;
    mha.forward(x, x, x, { causal: true }).slice(2).sum().backward();
    const g = x.grad!.toNested() as number[][][];
    expect(g.slice(3).flat(2).every((v) => v === 0)).toBe(true);
    expect(g.slice(0, 3).flat(2).some((v) => v !== 0)).toBe(true);
    // The same as a boolean attnMask with true above the diagonal.
    const mask = Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => j > i));
    expect([...mha.forward(x, x, x, { attnMask: mask }).toArray()]).toEqual([...mha.forward(x, x, x, { causal: true }).toArray()]);
  });

  test("dropout on the weights only in training mode; save → load → same outputs; bad input", () => {
    const mha = new MultiheadAttention(4, 1, { dropout: 0.5, seed: 2 });
    const x = rnd([3, 2, 4], 3, "float32");
    const t1 = mha.forward(x).toArray().slice(), t2 = mha.forward(x).toArray().slice();
    expect([...t1]).not.toEqual([...t2]);
    // The weights returned are the dropped-out ones (as PyTorch's): some are 0, the others scaled by 2.
    const w = mha.attend(x, x, x, { averageAttnWeights: false }).weights.toArray();
    expect(w.some((v) => v === 0)).toBe(true);
    expect(w.some((v) => v > 1)).toBe(true);
    mha.eval();
    expect([...mha.forward(x).toArray()]).toEqual([...mha.forward(x).toArray()]);
    roundTrip(mha, new MultiheadAttention(4, 1, { seed: 9 }).eval(), (m) => m.forward(x));
    expect(() => new MultiheadAttention(6, 4)).toThrow("MultiheadAttention: embedDim 6 must be divisible by numHeads 4");
    expect(() => mha.forward(rnd([3, 2, 5], 1))).toThrow("expected query of shape [seq, batch, embed] or [seq, embed] with embed = 4, got [3,2,5]");
    expect(() => mha.forward(x, x, x, { attnMask: [[true]] })).toThrow("expected attnMask of shape [3, 3] or [2, 3, 3], got [1,1]");
  });
});

describe("LSTM", () => {
  test("PyTorch's parameter names; gradcheck in float64 through two layers and the initial state", () => {
    const lstm = new LSTM(2, 3, { numLayers: 2, batchFirst: true, seed: 0, dtype: "float64" });
    expect(lstm.namedParameters().map(([n, p]) => `${n} ${p.shape.join("x")}`)).toEqual([
      "weight_ih_l0 12x2", "weight_hh_l0 12x3", "bias_ih_l0 12", "bias_hh_l0 12",
      "weight_ih_l1 12x3", "weight_hh_l1 12x3", "bias_ih_l1 12", "bias_hh_l1 12",
    ]);
    const r = gradcheckModule(lstm, [rnd([2, 3, 2], 1), rnd([2, 2, 3], 2), rnd([2, 2, 3], 3)], (x, h, c) => {
      const o = lstm.run(x!, { h: h!, c: c! });
      return o.output.sum().add(o.h.mul(2).sum()).add(o.c.mul(o.c).sum()).reshape(1);
    });
    expect(r.ok, r.message).toBe(true);
  });

  test("unbatched input; save → load → same outputs; bad input", () => {
    const a = new LSTM(2, 3, { seed: 1 }), b = new LSTM(2, 3, { seed: 2 });
    const x = rnd([4, 2], 3, "float32");
    const { output, h, c } = a.run(x);
    expect([output.shape, h.shape, c.shape]).toEqual([[4, 3], [1, 3], [1, 3]]);
    expect([...a.run(x.unsqueeze(1)).output.reshape(4, 3).toArray()]).toEqual([...output.toArray()]);
    roundTrip(a, b, (m) => m.forward(x));
    expect(() => a.forward(rnd([4, 1, 5], 1))).toThrow("LSTM(2, 3): expected input of shape [seq, batch, input] or [seq, input] with input = 2, got [4,1,5]");
    expect(() => a.run(rnd([4, 1, 2], 1), { h: rnd([1, 3], 1), c: rnd([1, 3], 1) })).toThrow("LSTM: expected initial h of shape [1,1,3], got [1,3]");
    // An empty sequence said only "stack: needs at least one tensor".
    expect(() => a.forward(zeros([0, 2, 2]))).toThrow("LSTM(2, 3): the sequence is empty (input of shape [0,2,2], length 0): expected at least one step");
    expect(() => new LSTM(2, 3, { batchFirst: true }).forward(zeros([2, 0, 2]))).toThrow("LSTM(2, 3): the sequence is empty (input of shape [2,0,2], length 0)");
  });
});

describe("GRU", () => {
  test("PyTorch's parameter names; gradcheck in float64 through two layers and h0; save → load; bad input", () => {
    const gru = new GRU(2, 3, { numLayers: 2, seed: 0, dtype: "float64" });
    expect(gru.namedParameters().map(([n, p]) => `${n} ${p.shape.join("x")}`)).toEqual([
      "weight_ih_l0 9x2", "weight_hh_l0 9x3", "bias_ih_l0 9", "bias_hh_l0 9",
      "weight_ih_l1 9x3", "weight_hh_l1 9x3", "bias_ih_l1 9", "bias_hh_l1 9",
    ]);
    const r = gradcheckModule(gru, [rnd([3, 2, 2], 1), rnd([2, 2, 3], 2)], (x, h) => {
      const o = gru.run(x!, h!);
      return o.output.sum().add(o.h.mul(o.h).sum()).reshape(1);
    });
    expect(r.ok, r.message).toBe(true);
    const x = rnd([4, 2], 3, "float32");
    const a = new GRU(2, 3, { seed: 1 });
    expect(a.run(x).h.shape).toEqual([1, 3]);
    roundTrip(a, new GRU(2, 3, { seed: 2 }), (m) => m.forward(x));
    expect(() => a.forward(rnd([4, 1, 5], 1))).toThrow("GRU(2, 3): expected input of shape [seq, batch, input] or [seq, input] with input = 2, got [4,1,5]");
    expect(() => a.run(rnd([4, 1, 2], 1), rnd([2, 1, 3], 1))).toThrow("GRU: expected initial h of shape [1,1,3], got [2,1,3]");
    expect(() => new GRU(2, 0)).toThrow("GRU: hiddenSize must be a positive integer, got 0");
  });
});

describe("crossEntropy options", () => {
  test("gradcheck with weight, ignoreIndex and labelSmoothing; bad options", () => {
    const opts = { weight: [1, 2, 0.5], ignoreIndex: -1, labelSmoothing: 0.3 };
    expect(gradcheck((x) => crossEntropy(x, [2, -1, 0, 1], opts), [rnd([4, 3], 1)]).ok).toBe(true);
    // A float64 weight tensor with float32 logits: the loss stays float32 and equals the number[] weight's.
    const x32 = rnd([4, 3], 2, "float32");
    const byTensor = crossEntropy(x32, [2, 0, 0, 1], { weight: f64([1, 2, 0.5]) });
    expect(byTensor.dtype).toBe("float32");
    expect(byTensor.item()).toBe(crossEntropy(x32, [2, 0, 0, 1], { weight: [1, 2, 0.5] }).item());
    // Only the ignored rows: 0/0, as PyTorch.
    expect(crossEntropy(rnd([2, 3], 1), [-100, -100]).item()).toBeNaN();
    // … whose gradient is 0, as PyTorch's (a batch of padding must not make the weights NaN).
    expect(Array.from(grad((x: Tensor) => crossEntropy(x, [-100, -100], { labelSmoothing: 0.1 }))(rnd([2, 3], 1)).toArray())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => crossEntropy(rnd([2, 3], 1), [0, 3])).toThrow("crossEntropy: label 3 at row 1 is not a class index in [0, 3)");
    expect(() => crossEntropy(rnd([2, 3], 1), [0, 1], { weight: [1, 2] })).toThrow("crossEntropy: expected a class weight of shape [3], got [2]");
    expect(() => crossEntropy(rnd([2, 3], 1), [0, 1], { labelSmoothing: 2 })).toThrow("labelSmoothing must be in [0, 1], got 2");
  });
});

describe("second order", () => {
  /** gradcheck of x ↦ ⟨∇ₓ sum(f(x)·c), w⟩: the layer's second derivatives against differences of its first. */
  const secondOrder = (f: (x: Tensor) => Tensor, shape: number[]) => {
    const g = grad((x: Tensor) => { const y = f(x); return y.mul(rnd([...y.shape], 98)).sum(); });
    return gradcheck((x) => g(x!).mul(rnd(shape, 97)).sum(), [rnd(shape, 96)]);
  };

  test("LayerNorm, BatchNorm (training), MultiheadAttention, LSTM, GRU and crossEntropy have second derivatives", () => {
    const ln = new LayerNorm(3, { dtype: "float64" });
    const bn = new BatchNorm1d(2, { dtype: "float64" });
    const mha = new MultiheadAttention(4, 2, { seed: 1, dtype: "float64" });
    const lstm = new LSTM(2, 2, { seed: 2, dtype: "float64" });
    const gru = new GRU(2, 2, { seed: 3, dtype: "float64" });
    const cases: [string, (x: Tensor) => Tensor, number[]][] = [
      ["LayerNorm", (x) => ln.forward(x), [2, 3]],
      ["BatchNorm1d", (x) => bn.forward(x), [4, 2]],
      ["MultiheadAttention", (x) => mha.forward(x, x, x, { causal: true }), [3, 1, 4]],
      ["LSTM", (x) => lstm.forward(x), [3, 1, 2]],
      ["GRU", (x) => gru.forward(x), [3, 1, 2]],
      ["crossEntropy", (x) => crossEntropy(x, [1, 0, -1], { weight: [2, 1, 0.5], ignoreIndex: -1, labelSmoothing: 0.2 }), [3, 3]],
    ];
    for (const [name, f, shape] of cases) {
      const r = secondOrder(f, shape);
      expect(r.ok, `${name}: ${r.message}`).toBe(true);
    }
  });
});
