import { describe, expect, test } from "vitest";
import { backendNames, fusedKernel, NDArray, withBackend, backend, uninitArray, wasmMemoryBytes } from "../../packages/gradgraph/src/backend/index.js";
import { wasmPrintable, wasmTuning } from "../../packages/gradgraph/src/backend/wasm.js";
import { elementwiseList } from "../../packages/gradgraph/src/ops/elementwise.js";
import { stats } from "../../packages/gradgraph/src/tensor/backend.js";
import { fromTypedArray, Tensor, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { elementwiseKernelOf } from "../../packages/gradgraph/src/backend/kernels.js";

/** Values that exercise every branch: signs, zeros of both signs, ties, infinities, NaN, tiny and huge. */
const SPECIAL = [-2.5, -1, -0.5, -0, 0, 0.5, 1, 3, Infinity, -Infinity, NaN, 1e-300, -1e300, 7];

function data(n: number, seed: number, ctor: Float32ArrayConstructor | Float64ArrayConstructor) {
  const out = new ctor(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = i < SPECIAL.length * SPECIAL.length ? SPECIAL[(seed + i) % SPECIAL.length]! * (i % 3 === 0 ? 1 : Math.floor(i / SPECIAL.length) % 2 ? 1 : 2) : (s / 2147483648) * 8 - 4;
  }
  return out;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return "same";
};

describe("the CPU backends", () => {
  test("both are available here and wasm is the default", () => {
    expect(backendNames()).toEqual(["js", "wasm"]);
    expect(backend().name).toBe("wasm");
  });

  test("the wasm backend prints the arithmetic, comparison and selection ops, not the transcendental ones", () => {
    const printed = new Set(elementwiseList.filter((op) => wasmPrintable(elementwiseKernelOf(op).root)).map((op) => op.name));
    for (const name of ["add", "sub", "mul", "div", "neg", "sqrt", "abs", "relu", "max", "min", "gt", "eq", "sign"]) expect(printed.has(name as never), name).toBe(true);
    for (const name of ["exp", "log", "tanh", "sin", "cos", "pow"]) expect(printed.has(name as never), name).toBe(false);
  });

  for (const dtype of ["float64", "float32"] as const) {
    test(`every elementwise op gives bit-identical ${dtype} results on both backends (1027 elements, scalar operands too)`, () => {
      const ctor = dtype === "float64" ? Float64Array : Float32Array;
      const a = fromTypedArray(data(1027, 1, ctor)), b = fromTypedArray(data(1027, 5, ctor));
      for (const op of elementwiseList) {
        const run = () => {
          // Through the op table, not the methods (Tensor.max(0.5) is a reduction, as PyTorch's; maximum is the op).
          const x = Tensor.apply(op, op.arity === 1 ? [a] : [a, b]);
          const y = op.arity === 1 ? a : Tensor.apply(op, [a, Tensor.from(0.5)]);
          return [x.toArray().slice(), y.toArray().slice()];
        };
        const js = withBackend("js", run), wasm = withBackend("wasm", run);
        expect(same(wasm[0]!, js[0]!), op.name).toBe("same");
        expect(same(wasm[1]!, js[1]!), op.name).toBe("same");
      }
    });
  }

  test("a fused chain is one printed kernel: relu(x·y + z) in one pass, equal to the three ops in float64", () => {
    const x = data(5000, 2, Float64Array), y = data(5000, 3, Float64Array), z = data(5000, 4, Float64Array);
    const { kernel } = fusedKernel((o, [a, b, c]) => o.relu(o.add(o.mul(a!, b!), c!)), 3);
    const arrays = [x, y, z].map((d) => new NDArray(d, [d.length]));
    for (const name of backendNames()) {
      withBackend(name, () => {
        const fused = backend().run(kernel, arrays, [5000], "float64");
        const [tx, ty, tz] = [x, y, z].map((d) => fromTypedArray(d));
        const before = stats.kernelCalls;
        const unfused = tx!.mul(ty!).add(tz!).relu();
        expect(stats.kernelCalls - before).toBe(3);
        expect(same(fused.data, unfused.toArray()), name).toBe("same");
      });
    }
  });

  test("the backward pass fuses each rule's partial · g: relu's gradient is one kernel", () => {
    const x = tensor([-1, 2, -3, 4], { requiresGrad: true });
    const r = x.relu();
    const before = stats.kernelCalls;
    r.backward(tensor([1, 2, 3, 4]));
    expect(stats.kernelCalls - before).toBe(1);
    expect(x.grad!.toNested()).toEqual([0, 2, 0, 4]);
  });

  test("strided and broadcast inputs (which the wasm backend hands to the JavaScript loops) agree", () => {
    const a = tensor([[1, -2, 3], [-4, 5, -6]], { dtype: "float64" }), b = tensor([[1], [-1]], { dtype: "float64" });
    // A bias row repeated over a batch crossing chunk boundaries (17,500 elements, blocks of 7).
    const big = fromTypedArray(data(17_500, 9, Float64Array), [2500, 7]), row = tensor([1, -2, 3, 0.5, -0, 7, 2], { dtype: "float64" });
    const run = () => [a.T.relu().toNested(), a.mul(b).toNested(), a.max(b).toNested(), a.add(tensor([1, 2, 3], { dtype: "float64" })).toNested(), Array.from(big.add(row).toArray())];
    const prev = wasmTuning.minSize;
    wasmTuning.minSize = 0;
    try {
      const w = withBackend("wasm", run), j = withBackend("js", run);
      expect(w.slice(0, 4)).toEqual(j.slice(0, 4));
      expect(same(w[4] as number[], j[4] as number[])).toBe("same");
      expect(j[3]).toEqual([[2, 0, 6], [-3, 7, -3]]);
      expect(withBackend("js", run)[1]).toEqual([[1, -2, 3], [4, -5, 6]]);
    } finally {
      wasmTuning.minSize = prev;
    }
  });

  test("setBackend refuses an unknown name and names the backends there are", async () => {
    const { setBackend } = await import("../../packages/gradgraph/src/backend/index.js");
    expect(() => setBackend("gpu")).toThrow("setBackend: no backend 'gpu' (available: js, wasm)");
  });
});

describe("choosing a backend from the environment", () => {
  test("GRADGRAPH_BACKEND=js makes the js backend current at start; an unknown name is an error at first use", async () => {
    const { vi } = await import("vitest");
    vi.resetModules();
    vi.stubEnv("GRADGRAPH_BACKEND", "js");
    try {
      const fresh = await import("../../packages/gradgraph/src/backend/index.js");
      expect(fresh.backend().name).toBe("js");
      vi.resetModules();
      vi.stubEnv("GRADGRAPH_BACKEND", "gpu");
      const bad = await import("../../packages/gradgraph/src/backend/index.js");
      expect(() => bad.backend()).toThrow("GRADGRAPH_BACKEND=gpu: no backend 'gpu' (available: js, wasm)");
      expect(() => bad.backendNames()).toThrow("GRADGRAPH_BACKEND=gpu"); // every use, not only the first
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe("result storage", () => {
  test("a large result is written in full over storage that is not zero-filled, and owns exactly its buffer", () => {
    // Fill and drop arrays first, so that freed memory with other contents is likely to be handed out again.
    for (let r = 0; r < 4; r++) uninitArray("float32", 1 << 16).fill(12345);
    const raw = uninitArray("float32", 1 << 16);
    expect(raw.length).toBe(1 << 16);
    expect(raw.byteOffset).toBe(0);
    expect(raw.buffer.byteLength).toBe(4 << 16);
    for (const name of backendNames()) {
      withBackend(name, () => {
        const n = 70001; // not a multiple of the chunk or the vector width
        const x = fromTypedArray(data(n, 3, Float32Array), [n]);
        const y = x.mul(0).add(1).toArray();
        expect(y.buffer.byteLength, name).toBe(4 * n);
        expect(y.every((v, i) => v === 1 || Number.isNaN(x.toArray()[i]!) || !Number.isFinite(x.toArray()[i]!)), name).toBe(true);
        const small = uninitArray("float64", 3);
        expect(Array.from(small), "small arrays are zeroed").toEqual([0, 0, 0]);
      });
    }
  });
});

describe("float32 sums", () => {
  test("the sum of all elements, row sums and column sums agree with float64 to float32 rounding, on every backend", () => {
    const n = 100003, x = data(n, 5, Float32Array).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e6 ? v : 0.25));
    let exact = 0;
    for (const v of x) exact += v;
    let abs = 0;
    for (const v of x) abs += Math.abs(v);
    const m = fromTypedArray(x.subarray(0, 99 * 1001), [99, 1001]);
    for (const name of backendNames()) {
      withBackend(name, () => {
        const t = fromTypedArray(x, [n]);
        const s = t.sum().item();
        expect(Math.abs(s - exact), name).toBeLessThanOrEqual(abs * 2 ** -23);
        expect(s, name).toBe(Math.fround(s));
        // column sums (a bias's gradient) and row sums, against float64 sums of the same elements
        const colSums = m.sum(0).toArray(), rowSums = m.sum(1).toArray();
        for (let j = 0; j < 1001; j += 97) {
          let e = 0, ea = 0;
          for (let i = 0; i < 99; i++) (e += x[i * 1001 + j]!), (ea += Math.abs(x[i * 1001 + j]!));
          expect(Math.abs(colSums[j]! - e), `${name} column ${j}`).toBeLessThanOrEqual(ea * 2 ** -23);
        }
        for (let i = 0; i < 99; i += 7) {
          let e = 0, ea = 0;
          for (let j = 0; j < 1001; j++) (e += x[i * 1001 + j]!), (ea += Math.abs(x[i * 1001 + j]!));
          expect(Math.abs(rowSums[i]! - e), `${name} row ${i}`).toBeLessThanOrEqual(ea * 2 ** -23);
        }
      });
    }
  });

  test("the wasm float32 sum handles every tail length and chunk boundary exactly like float64 on integers", () => {
    for (const n of [4096, 4097, 4103, 16384, 16385, 16391, 40000]) {
      const x = new Float32Array(n).map((_, i) => (i % 17) - 8);
      let e = 0;
      for (const v of x) e += v;
      expect(fromTypedArray(x, [n]).sum().item(), `n = ${n}`).toBe(e);
    }
  });
});

describe("memory report", () => {
  test("wasmMemoryBytes lists the kernels' WebAssembly memories once they exist", () => {
    const n = 512;
    fromTypedArray(new Float32Array(n * 4).fill(1), [n * 4]).mul(2); // the wasm backend's scratch
    tensor(Array.from({ length: 64 }, () => Array(64).fill(1))).matmul(tensor(Array.from({ length: 64 }, () => Array(64).fill(1))));
    const m = wasmMemoryBytes();
    expect(m["wasm-scratch"]).toBeGreaterThan(0);
    // the float32 product's memory: the shared heap where there is SharedArrayBuffer (Node), else its own
    expect(m[typeof SharedArrayBuffer === "function" ? "heap" : "sgemm"]).toBeGreaterThan(0);
  });
});
