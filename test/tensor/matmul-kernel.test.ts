import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { tensorOps } from "../../packages/gradgraph/src/ops/index.js";
import { broadcastShapes, stridesOf, type Shape } from "../../packages/gradgraph/src/ops/shape.js";
import { matmulKernel, setMatmulKernel } from "../../packages/gradgraph/src/tensor/kernels/matmul.js";
import { wasmAvailable, wasmModuleBytes } from "../../packages/gradgraph/src/tensor/kernels/matmul-wasm.js";
import { sgemmAvailable, sgemmFma, sgemmModuleBytes, sgemmPool } from "../../packages/gradgraph/src/tensor/kernels/sgemm-wasm.js";
import { getNumThreads, setNumThreads } from "../../packages/gradgraph/src/tensor/kernels/threads.js";
import { NDArray, toTypedArray, type TypedArray } from "../../packages/gradgraph/src/tensor/ndarray.js";
import { randn } from "../../packages/gradgraph/src/tensor/index.js";

afterEach(() => {
  setMatmulKernel("auto");
});

/** A random array in a buffer with a gap before it (a nonzero offset). */
function randArray(shape: Shape, dtype: "float32" | "float64", seed: number): NDArray {
  let s = seed * 2654435761 + 12345;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(size + 3) : new Float64Array(size + 3);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return new NDArray(data, shape, stridesOf(shape), 3);
}

/** The view of `x` with its last two axes swapped (strided, as the backward pass's transposes are). */
function transposed(x: NDArray): NDArray {
  const r = x.ndim;
  const shape = [...x.shape], strides = [...x.strides];
  [shape[r - 2], shape[r - 1]] = [shape[r - 1]!, shape[r - 2]!];
  [strides[r - 2], strides[r - 1]] = [strides[r - 1]!, strides[r - 2]!];
  return new NDArray(x.data, shape, strides, x.offset);
}

function run(kernel: "js" | "wasm", a: NDArray, b: NDArray, dtype: "float32" | "float64"): TypedArray {
  setMatmulKernel(kernel);
  const outShape = tensorOps.matmul.shape([a.shape, b.shape], undefined);
  return matmulKernel([a, b], undefined, outShape, dtype).data;
}

/** A float64 reference by the definition (for shapes of rank ≥ 2); `absSums` gets Σ_p |a_p|·|b_p| per entry. */
function reference(a: NDArray, b: NDArray, absSums: number[] = []): number[] {
  const m = a.shape[a.ndim - 2]!, k = a.shape[a.ndim - 1]!, n = b.shape[b.ndim - 1]!;
  const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], "matmul");
  const count = batch.reduce((x, y) => x * y, 1), bs = stridesOf(batch);
  const out: number[] = [];
  if (a.ndim === 2 && b.ndim === 2) {
    // the large products' path: the same sums over the operands' row-major copies, no index arrays per element
    const A = toTypedArray(a), B = toTypedArray(b);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0, abs = 0;
        for (let p = 0; p < k; p++) {
          const v = A[i * k + p]! * B[p * n + j]!;
          s += v;
          abs += Math.abs(v);
        }
        out.push(s);
        absSums.push(abs);
      }
    return out;
  }
  const idx = (x: NDArray, t: number, i: number, j: number) => {
    const pad = batch.length - (x.ndim - 2);
    const index: number[] = [];
    for (let d = 0; d < x.ndim - 2; d++) {
      const q = Math.floor(t / bs[d + pad]!) % batch[d + pad]!;
      index.push(x.shape[d] === 1 ? 0 : q);
    }
    return x.at([...index, i, j]);
  };
  for (let t = 0; t < count; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0, abs = 0;
        for (let p = 0; p < k; p++) {
          const v = idx(a, t, i, p) * idx(b, t, p, j);
          s += v;
          abs += Math.abs(v);
        }
        out.push(s);
        absSums.push(abs);
      }
  return out;
}

const cases: [Shape, Shape][] = [
  [[1, 1], [1, 1]],
  [[3, 5], [5, 7]],
  [[17, 33], [33, 65]],
  [[4, 4], [4, 8]],
  [[5, 1], [1, 9]], // k = 1
  [[6, 0], [0, 3]], // k = 0
  [[1, 300], [300, 1]],
  [[2, 600], [600, 3]], // two K blocks, the second partial
  [[70, 257], [257, 13]], // m past one row block, k one past a K block
  [[130, 40], [40, 6]],
  [[2, 3, 4], [2, 4, 5]], // batched
  [[3, 1, 6, 7], [2, 7, 5]], // broadcast batch dims
  [[9, 11], [4, 11, 10]], // a broadcast over b's batch
  [[2, 1, 5, 3], [1, 4, 3, 6]],
];

/**
 * The documented float32 error bound (matmul.ts): |ĉ − c| ≤ γ_K · Σ_p |a_p|·|b_p|, γ_K = K·u / (1 − K·u), u = 2⁻²⁴,
 * against the exact product of the same float32 inputs (float64 products of float32 values are exact; the
 * float64 sum adds an error far below the bound).
 */
function expectWithinFloat32Bound(c: ArrayLike<number>, a: NDArray, b: NDArray): void {
  const k = a.ndim === 1 ? a.shape[0]! : a.shape[a.ndim - 1]!, u = 2 ** -24, gamma = (k * u) / (1 - k * u);
  const abs: number[] = [], ref = reference(a, b, abs);
  expect(c.length).toBe(ref.length);
  // one assertion for the whole result (one per element made a 300×256 product take seconds): the first element
  // outside the bound, or none (a NaN is outside)
  let bad = -1;
  for (let i = 0; i < ref.length && bad < 0; i++) if (!(Math.abs(c[i]! - ref[i]!) <= gamma * abs[i]! + 1e-300)) bad = i;
  expect(bad < 0 ? null : `element ${bad}: ${c[bad]} against ${ref[bad]}, error ${Math.abs(c[bad]! - ref[bad]!)} > bound ${gamma * abs[bad]!}`).toBeNull();
}

/** Whether two results hold the same numbers, bit for bit (one comparison, not one assertion per element). */
const sameBits = (x: ArrayLike<number>, y: ArrayLike<number>): boolean =>
  x.length === y.length && Buffer.from(Float32Array.from(x).buffer).equals(Buffer.from(Float32Array.from(y).buffer));

describe.runIf(wasmAvailable())("the float64 WebAssembly matmul kernel", () => {
  test("is a small module that validates", () => {
    const bytes = wasmModuleBytes();
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  for (const [sa, sb] of cases)
    test(`${JSON.stringify(sa)} @ ${JSON.stringify(sb)}: equals the JavaScript kernel (and the definition)`, () => {
      const a = randArray(sa, "float64", 1), b = randArray(sb, "float64", 2);
      const w = run("wasm", a, b, "float64"), j = run("js", a, b, "float64");
      // Same float64 sums in the same order: bit-identical.
      expect(Array.from(w)).toEqual(Array.from(j));
      const ref = reference(a, b);
      expect(w.length).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(w[i]! - ref[i]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref[i]!)));
    });
});

// The float32 kernel's tests run on one thread and on two (the second with a worker that has started).
for (const threads of [1, 2])
  describe.runIf(sgemmAvailable())(`the float32 WebAssembly matmul kernel on ${threads} thread(s)`, () => {
    let saved = 1;
    beforeAll(async () => {
      saved = getNumThreads();
      setNumThreads(threads);
      if (threads > 1 && sgemmPool() !== null) {
        run("wasm", randArray([64, 64], "float32", 1), randArray([64, 64], "float32", 2), "float32"); // starts the workers
        for (let i = 0; i < 200 && sgemmPool()!.ready < threads - 1; i++) await new Promise((r) => setTimeout(r, 25));
        expect(sgemmPool()!.ready).toBeGreaterThanOrEqual(threads - 1);
      }
    });
    afterAll(() => setNumThreads(saved));

    test("is a small module that validates", () => {
      for (const shared of [false, true]) {
        const bytes = sgemmModuleBytes(shared);
        expect(bytes.length).toBeLessThan(4096);
        expect(WebAssembly.validate(bytes)).toBe(true);
      }
    });

    for (const [sa, sb] of cases)
      test(`${JSON.stringify(sa)} @ ${JSON.stringify(sb)}: within the float32 bound of the definition`, () => {
        const a = randArray(sa, "float32", 1), b = randArray(sb, "float32", 2);
        expectWithinFloat32Bound(run("wasm", a, b, "float32"), a, b);
      });

    test("transposed (strided) operands, as in the backward pass", () => {
      for (const [m, k, n] of [[3, 5, 7], [17, 33, 65], [64, 300, 40], [1, 9, 1]] as const)
        for (const ta of [false, true])
          for (const tb of [false, true]) {
            const a0 = randArray(ta ? [k, m] : [m, k], "float32", 3), b0 = randArray(tb ? [n, k] : [k, n], "float32", 4);
            const a = ta ? transposed(a0) : a0, b = tb ? transposed(b0) : b0;
            expectWithinFloat32Bound(run("wasm", a, b, "float32"), a, b);
          }
    });

    test("operands as they lie: a row of a larger matrix, every third row, a broadcast (stride 0) column, K past a block", () => {
      const big = randArray([40, 700], "float32", 9);
      const row = new NDArray(big.data, [1, 700], [700 * 7, 1], big.offset + 700 * 5); // row stride far past k
      const thirds = new NDArray(big.data, [13, 700], [3 * 700, 1], big.offset); // span > m·k: copied row-major
      const wide = randArray([700, 300], "float32", 10);
      const col = new NDArray(wide.data, [700, 19], [300, 0], wide.offset + 4); // one column repeated
      for (const [a, b] of [[row, wide], [thirds, wide], [thirds, col], [transposed(col), transposed(thirds)]] as const)
        expectWithinFloat32Bound(run("wasm", a, b, "float32"), a, b);
    });

    test("accumulates in float32: large K gives errors the float64 kernel does not, still within the bound", () => {
      const a = randArray([8, 4096], "float32", 5), b = randArray([4096, 8], "float32", 6);
      const w = run("wasm", a, b, "float32"), j = run("js", a, b, "float32");
      expectWithinFloat32Bound(w, a, b);
      expect(Array.from(w)).not.toEqual(Array.from(j));
    });

    test("results do not depend on the thread count (bit-identical to one thread), transposed forms too", () => {
      for (const [m, k, n, ta, tb] of [[512, 300, 257, false, false], [130, 784, 256, false, false], [37, 1000, 600, false, false], [270, 129, 250, true, false], [135, 515, 129, false, true], [250, 99, 350, true, true]] as const) {
        // (every one at least PARALLEL_MIN_WORK = 2²³ multiply-adds: split among the threads)
        expect(m * k * n).toBeGreaterThanOrEqual(1 << 23);
        const a0 = randArray(ta ? [k, m] : [m, k], "float32", m), b0 = randArray(tb ? [n, k] : [k, n], "float32", n);
        const a = ta ? transposed(a0) : a0, b = tb ? transposed(b0) : b0;
        const here = Array.from(run("wasm", a, b, "float32"));
        setNumThreads(1);
        const one = Array.from(run("wasm", a, b, "float32"));
        setNumThreads(threads);
        expect(here).toEqual(one);
      }
    });

    test("consecutive products split across threads (each in the other of two workspaces) give each its own result", () => {
      const shapes = [[256, 256, 256], [300, 200, 150], [256, 256, 256], [130, 784, 256], [300, 200, 150]] as const;
      const results = shapes.map(([m, k, n], s) => {
        const a = randArray([m, k], "float32", 40 + s), b = randArray([k, n], "float32", 50 + s);
        const c = Float32Array.from(run("wasm", a, b, "float32"));
        expectWithinFloat32Bound(c, a, b);
        return c;
      });
      expect(sameBits(results[2]!, results[0]!)).toBe(false); // other operands
      const again = shapes.map(([m, k, n], s) => run("wasm", randArray([m, k], "float32", 40 + s), randArray([k, n], "float32", 50 + s), "float32"));
      expect(again.map((c, s) => sameBits(c, results[s]!))).toEqual(shapes.map(() => true));
    });
  });

describe.runIf(sgemmAvailable())("the float32 kernel's two forms: relaxed SIMD's multiply-add and plain f32x4", () => {
  test("the multiply-add form runs where Node validates it (Node 20 after turning on its flag)", () => {
    expect(sgemmFma()).toBe(true);
    for (const fma of [false, true]) expect(WebAssembly.validate(sgemmModuleBytes(false, fma))).toBe(true);
  });

  test("repeated products of one shape do not add into the last one's C (the first K block stores)", () => {
    const a = randArray([9, 600], "float32", 11), b = randArray([600, 10], "float32", 12);
    const first = Array.from(run("wasm", a, b, "float32"));
    expect(Array.from(run("wasm", a, b, "float32"))).toEqual(first);
    expectWithinFloat32Bound(first, a, b);
  });

  test("GRADGRAPH_RELAXED_SIMD=0 keeps the plain kernel, within the same bound", async () => {
    vi.resetModules();
    vi.stubEnv("GRADGRAPH_RELAXED_SIMD", "0");
    try {
      const sgemm = await import("../../packages/gradgraph/src/tensor/kernels/sgemm-wasm.js");
      const mm = await import("../../packages/gradgraph/src/tensor/kernels/matmul.js");
      expect(sgemm.sgemmFma()).toBe(false);
      mm.setMatmulKernel("wasm");
      for (const [sa, sb] of [[[70, 257], [257, 13]], [[2, 600], [600, 3]], [[17, 33], [33, 65]]] as [Shape, Shape][]) {
        const a = randArray(sa, "float32", 1), b = randArray(sb, "float32", 2);
        const outShape = tensorOps.matmul.shape([a.shape, b.shape], undefined);
        expectWithinFloat32Bound(mm.matmulKernel([a, b], undefined, outShape, "float32").data, a, b);
      }
      mm.setMatmulKernel("auto");
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe.runIf(wasmAvailable())("the WebAssembly matmul kernels", () => {

  test("1-D operands, NaN and infinity propagate as in the JavaScript kernel", () => {
    const dtype = "float64";
    const a = randn([7, 6], { seed: 1, dtype }), v = randn([6], { seed: 2, dtype }), u = randn([7], { seed: 3, dtype });
    for (const [x, y] of [[a, v], [u, a], [v, v]] as const) {
      setMatmulKernel("wasm");
      const w = x.matmul(y).toArray();
      setMatmulKernel("js");
      expect(Array.from(w)).toEqual(Array.from(x.matmul(y).toArray()));
    }
    const data = randArray([5, 6], "float64", 5), bad = new Float64Array(data.data);
    bad[3 + 2] = NaN;
    bad[3 + 13] = Infinity;
    const x = new NDArray(bad, [5, 6], [6, 1], 3), y = randArray([6, 3], "float64", 6);
    expect(Array.from(run("wasm", x, y, "float64"))).toEqual(Array.from(run("js", x, y, "float64")));
    // float32: the same entries are NaN and infinite.
    const x32 = new NDArray(Float32Array.from(bad), [5, 6], [6, 1], 3), y32 = randArray([6, 3], "float32", 6);
    const nonFinite = (c: ArrayLike<number>) => Array.from(c, (v) => (Number.isFinite(v) ? 0 : v));
    expect(nonFinite(run("wasm", x32, y32, "float32"))).toEqual(nonFinite(run("js", x32, y32, "float32")));
    expect(nonFinite(run("wasm", x32, y32, "float32")).some((v) => Number.isNaN(v))).toBe(true);
  });

  test("gradients through matmul agree with the JavaScript kernel (float64)", () => {
    const grads = (kernel: "js" | "wasm") => {
      setMatmulKernel(kernel);
      const X = randn([33, 70], { seed: 7, dtype: "float64" }), W = randn([70, 19], { seed: 8, requiresGrad: true, dtype: "float64" });
      const loss = X.matmul(W).tanh().matmul(randn([19, 5], { seed: 9, dtype: "float64" })).pow(2).sum();
      loss.backward();
      return [loss.item(), ...Array.from(W.grad!.toArray())];
    };
    expect(grads("wasm")).toEqual(grads("js"));
  });

  test("a larger product, and memory growing between calls of different sizes", () => {
    for (const [m, k, n] of [[8, 8, 8], [200, 520, 130], [12, 3, 12]] as const) {
      const a = randArray([m, k], "float64", m), b = randArray([k, n], "float64", n);
      expect(Array.from(run("wasm", a, b, "float64"))).toEqual(Array.from(run("js", a, b, "float64")));
      const a32 = randArray([m, k], "float32", m), b32 = randArray([k, n], "float32", n);
      expectWithinFloat32Bound(run("wasm", a32, b32, "float32"), a32, b32);
    }
  });
});

describe("results are written whole (their storage is not zeroed first)", () => {
  test.each(["float32", "float64"] as const)("an empty inner dimension gives zeros in a large result (%s)", (dtype) => {
    for (const kernel of ["js", "wasm"] as const) {
      const a = new NDArray(dtype === "float32" ? new Float32Array(0) : new Float64Array(0), [128, 0]);
      const b = new NDArray(dtype === "float32" ? new Float32Array(0) : new Float64Array(0), [0, 96]);
      const c = run(kernel, a, b, dtype);
      expect(c.length).toBe(128 * 96);
      expect(c.every((v) => v === 0)).toBe(true);
    }
  });
});

describe("without WebAssembly SIMD", () => {
  test("the kernel falls back to JavaScript", async () => {
    vi.resetModules();
    vi.stubGlobal("WebAssembly", undefined);
    try {
      const wasm = await import("../../packages/gradgraph/src/tensor/kernels/matmul-wasm.js");
      const mm = await import("../../packages/gradgraph/src/tensor/kernels/matmul.js");
      expect(wasm.wasmAvailable()).toBe(false);
      mm.setMatmulKernel("wasm");
      const a = randArray([17, 33], "float32", 1), b = randArray([33, 65], "float32", 2);
      const out = mm.matmulKernel([a, b], undefined, [17, 65], "float32").data;
      const ref = reference(a, b);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(out[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i]!)));
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  test("a module that fails validation (no SIMD) makes the kernel fall back", async () => {
    vi.resetModules();
    vi.stubGlobal("WebAssembly", { ...WebAssembly, validate: () => false });
    try {
      const wasm = await import("../../packages/gradgraph/src/tensor/kernels/matmul-wasm.js");
      const sgemm = await import("../../packages/gradgraph/src/tensor/kernels/sgemm-wasm.js");
      expect(wasm.wasmAvailable()).toBe(false);
      expect(wasm.workspace(4, 4, 4)).toBeNull();
      expect(sgemm.sgemmAvailable()).toBe(false);
      expect(sgemm.sgemmSession(4, 8, 4)).toBeNull();
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});
