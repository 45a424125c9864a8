import { describe, expect, test } from "vitest";
import { fromTypedArray, Generator, randn, rand, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/** The exact-ish sum of float32 values: float64 with Neumaier compensation, independent of the engine. */
function refSum(xs: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!, t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** Naive float32 accumulation, the error the engine must avoid. */
function naiveFloat32Sum(xs: Float32Array): number {
  let s = Math.fround(0);
  for (let i = 0; i < xs.length; i++) s = Math.fround(s + xs[i]!);
  return s;
}

describe("summation accuracy", () => {
  const N = 1_000_000;
  const data = new Float32Array(N);
  const g = new Generator(1);
  for (let i = 0; i < N; i++) data[i] = g.uniform() + 0.1;
  const ref = refSum(data);

  test("the sum of 1e6 float32 values keeps relative error < 1e-6 (naive float32 accumulation does not)", () => {
    const s = fromTypedArray(data).sum().item();
    expect(Math.abs(s - ref) / ref).toBeLessThan(1e-6);
    // The test could fail: plain float32 accumulation is far off on this input.
    expect(Math.abs(naiveFloat32Sum(data) - ref) / ref).toBeGreaterThan(1e-6);
  });

  test("also over a leading axis (strided, compensated) and over the trailing axis of a view", () => {
    const x = fromTypedArray(data, [N / 4, 4]);
    const cols = x.sum(0).toArray();
    for (let j = 0; j < 4; j++) {
      const colRef = refSum(Array.from({ length: N / 4 }, (_, i) => data[i * 4 + j]!));
      expect(Math.abs(cols[j]! - colRef) / colRef).toBeLessThan(1e-6);
    }
    const viaT = x.T.sum(1).toArray();
    expect(Array.from(viaT)).toEqual(Array.from(cols));
  });

  test("float64 sums over a leading axis are compensated (exact where plain accumulation loses every 1)", () => {
    const n = 100_001;
    const xs = new Float64Array(2 * n);
    xs[0] = 1e16;
    xs[1] = 1;
    for (let i = 1; i < n; i++) xs[2 * i] = xs[2 * i + 1] = 1;
    // [n, 2] summed over axis 0: each column is strided, so the compensated path runs.
    expect(fromTypedArray(xs, [n, 2]).sum(0).toNested()).toEqual([1e16 + 100_000, n]);
    let plain = 0;
    for (let i = 0; i < n; i++) plain += xs[2 * i]!;
    expect(plain).not.toBe(1e16 + 100_000);
  });
});

describe("float32 results match float64 within float32 tolerance", () => {
  function network(dtype: "float32" | "float64") {
    const X = randn([16, 8], { seed: 1, dtype });
    const W1 = randn([8, 32], { seed: 2, dtype, requiresGrad: true });
    const b1 = rand([32], { seed: 3, dtype, requiresGrad: true });
    const W2 = randn([32, 4], { seed: 4, dtype, requiresGrad: true });
    const labels = Array.from({ length: 16 }, (_, i) => [i % 4]);
    const logits = X.matmul(W1).add(b1).tanh().matmul(W2);
    const loss = logits.logSoftmax(1).gather(1, labels).mean().neg().add(logits.pow(2).mean().mul(0.01));
    loss.backward();
    return { loss: loss.item(), grads: [W1.grad!, b1.grad!, W2.grad!] };
  }

  test("value and gradients of a small network", () => {
    const a = network("float32"), b = network("float64");
    expect(a.grads[0]!.dtype).toBe("float32");
    expect(Math.abs(a.loss - b.loss) / Math.abs(b.loss)).toBeLessThan(1e-5);
    a.grads.forEach((g, k) => {
      const x = g.toArray(), y = b.grads[k]!.toArray();
      const scale = Math.max(...Array.from(y, Math.abs));
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-5 * scale);
    });
  });

  test("a 128×1024 @ 1024×64 matmul (accumulated in float32, as BLAS does): within γ_K·Σ|a||b| of float64", () => {
    // The documented bound (src/tensor/kernels/matmul.ts): |ĉ − c| ≤ γ_K · Σ_p |a_p|·|b_p|, γ_K = K·u/(1 − K·u), u = 2⁻²⁴.
    const K = 1024, u = 2 ** -24, gamma = (K * u) / (1 - K * u);
    const a32 = randn([128, K], { seed: 5 }), b32 = randn([K, 64], { seed: 6 });
    const c32 = a32.matmul(b32).toArray();
    const c64 = a32.cast("float64").matmul(b32.cast("float64")).toArray();
    const absSums = a32.cast("float64").abs().matmul(b32.cast("float64").abs()).toArray();
    for (let i = 0; i < c32.length; i++) expect(Math.abs(c32[i]! - c64[i]!)).toBeLessThanOrEqual(gamma * absSums[i]!);
  });

  test("elementwise ops round once: float32 result is float64 result rounded", () => {
    const x = randn([1000], { seed: 7 });
    const ops: ((t: Tensor) => Tensor)[] = [(t) => t.exp(), (t) => t.tanh(), (t) => t.sigmoid(), (t) => t.mul(t).add(1).sqrt()];
    for (const f of ops) {
      const y32 = f(x).toArray(), y64 = f(x.cast("float64")).toArray();
      for (let i = 0; i < y32.length; i++) expect(Math.abs(y32[i]! - y64[i]!)).toBeLessThanOrEqual(Math.abs(y64[i]!) * 2 ** -23);
    }
    expect(tensor([1 / 3]).toArray()[0]).toBe(Math.fround(1 / 3));
  });
});

describe("softmax and logSoftmax of large logits", () => {
  // Both were x − logsumexp(x): logsumexp = log Σ exp(x − m) + m is rounded to m's precision, so log Σ was lost
  // where |x| is large (float32 logits of 10⁸: a softmax of all ones, a log softmax of all zeros).
  test("keep their precision whatever the logits' magnitude (a shift changes nothing)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const tol = dtype === "float32" ? 2 ** -21 : 2 ** -49;
      const small = tensor([[1, 1, 0, -2]], { dtype });
      const p = small.softmax(1).toArray(), lp = small.logSoftmax(1).toArray();
      for (const shift of dtype === "float32" ? [2 ** 13, 2 ** 20] : [2 ** 40, 2 ** 50]) { // x + 1, x − 2 exact
        const big = tensor([[shift + 1, shift + 1, shift, shift - 2]], { dtype });
        big.softmax(1).toArray().forEach((v, i) => expect(Math.abs(v - p[i]!), `${dtype} softmax at ${shift}`).toBeLessThanOrEqual(tol));
        big.logSoftmax(1).toArray().forEach((v, i) => expect(Math.abs(v - lp[i]!), `${dtype} logSoftmax at ${shift}`).toBeLessThanOrEqual(4 * tol));
      }
      const tie = tensor([[1e8, 1e8, 1e8]], { dtype }); // was [1, 1, 1] in float32
      tie.softmax(1).toArray().forEach((v) => expect(Math.abs(v - 1 / 3)).toBeLessThanOrEqual(tol));
      tie.logSoftmax(1).toArray().forEach((v) => expect(Math.abs(v + Math.log(3))).toBeLessThanOrEqual(4 * tol));
    }
  });

  test("the cross-entropy of a confident prediction on logits in the thousands is not 0", () => {
    // PyTorch: F.cross_entropy(tensor([[2000., 1980, 1990]]), tensor([0])) = 4.5418e-05
    const loss = tensor([[2000, 1980, 1990]]).logSoftmax(1).slice(0, 0).neg().item();
    expect(Math.abs(loss - 4.5417706e-5)).toBeLessThan(1e-9);
  });
});
