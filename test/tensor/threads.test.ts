import { afterEach, describe, expect, test, vi } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { getNumThreads, setNumThreads } from "../../packages/gradgraph/src/index.js";

describe("the thread count", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  test("setNumThreads is exported from the package root and checks its argument", () => {
    const before = getNumThreads();
    try {
      setNumThreads(3);
      expect(getNumThreads()).toBe(3);
      for (const bad of [0, -1, 1.5, NaN, 1000]) expect(() => setNumThreads(bad)).toThrow(InputError);
      expect(() => setNumThreads(0)).toThrow("setNumThreads: expected an integer from 1 to 256, got 0");
      expect(getNumThreads()).toBe(3);
    } finally {
      setNumThreads(before);
    }
  });

  test("setNumThreads shows a wrong type as it came: a string is quoted, not shown as the number it spells", () => {
    const before = getNumThreads();
    try {
      expect(() => setNumThreads("2" as unknown as number)).toThrow('setNumThreads: expected an integer from 1 to 256, got "2"');
      expect(() => setNumThreads(undefined as unknown as number)).toThrow("setNumThreads: expected an integer from 1 to 256, got undefined");
      expect(() => setNumThreads(NaN)).toThrow("setNumThreads: expected an integer from 1 to 256, got NaN");
      expect(getNumThreads()).toBe(before);
    } finally {
      setNumThreads(before);
    }
  });

  test("GRADGRAPH_NUM_THREADS sets the default; a bad value is an error naming it", async () => {
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "2");
    vi.resetModules();
    expect((await import("../../packages/gradgraph/src/tensor/kernels/threads.js")).getNumThreads()).toBe(2);
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "two");
    vi.resetModules();
    const t = await import("../../packages/gradgraph/src/tensor/kernels/threads.js");
    expect(() => t.getNumThreads()).toThrow('GRADGRAPH_NUM_THREADS: expected an integer from 1 to 256, got "two"');
  });

  test("GRADGRAPH_NUM_THREADS takes what setNumThreads takes: a count past 256, or not written as digits, is an error", async () => {
    for (const bad of ["1e9", "1000", "257", "0x2", "1.5", "-3", "0", "abc"]) {
      vi.stubEnv("GRADGRAPH_NUM_THREADS", bad);
      vi.resetModules();
      const t = await import("../../packages/gradgraph/src/tensor/kernels/threads.js");
      expect(() => t.getNumThreads(), bad).toThrow(`GRADGRAPH_NUM_THREADS: expected an integer from 1 to 256, got ${JSON.stringify(bad)}`);
    }
    for (const [good, n] of [["256", 256], [" 3 ", 3], ["1", 1]] as const) {
      vi.stubEnv("GRADGRAPH_NUM_THREADS", good);
      vi.resetModules();
      expect((await import("../../packages/gradgraph/src/tensor/kernels/threads.js")).getNumThreads(), good).toBe(n);
    }
  });

  test("the default is the number of cores", async () => {
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "");
    vi.resetModules();
    const os = await import("node:os");
    expect((await import("../../packages/gradgraph/src/tensor/kernels/threads.js")).getNumThreads()).toBe(os.availableParallelism());
  });
});

describe("without workers", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  test("a worker that cannot start leaves the caller to run every chunk (same result, no error)", async () => {
    vi.resetModules();
    const realProcess = globalThis.process;
    // getBuiltinModule("node:worker_threads") gives a Worker constructor that throws, as under a worker limit.
    vi.stubGlobal("process", new Proxy(realProcess, {
      get: (t, k) =>
        k === "getBuiltinModule"
          ? (name: string) => (name === "node:worker_threads" ? { Worker: function () { throw new Error("no workers here"); } } : realProcess.getBuiltinModule(name))
          : Reflect.get(t, k),
    }));
    const t = await import("../../packages/gradgraph/src/tensor/index.js");
    const sgemm = await import("../../packages/gradgraph/src/tensor/kernels/sgemm-wasm.js");
    const A = t.randn([300, 200], { seed: 1 }), B = t.randn([200, 100], { seed: 2 });
    t.setNumThreads(1);
    const one = Array.from(A.matmul(B).toArray());
    t.setNumThreads(2);
    expect(Array.from(A.matmul(B).toArray())).toEqual(one);
    expect(sgemm.sgemmPool()?.ready ?? 0).toBe(0);
  });

  test("setNumThreads(256), the most it takes, splits a large product into no more chunks than the pool's table holds", async () => {
    vi.resetModules();
    const realProcess = globalThis.process;
    // No worker starts (as above), so 256 threads cost nothing here; the split still follows the thread count.
    vi.stubGlobal("process", new Proxy(realProcess, {
      get: (t, k) =>
        k === "getBuiltinModule"
          ? (name: string) => (name === "node:worker_threads" ? { Worker: function () { throw new Error("no workers here"); } } : realProcess.getBuiltinModule(name))
          : Reflect.get(t, k),
    }));
    const t = await import("../../packages/gradgraph/src/tensor/index.js");
    // 512·128·256 = 2^24 multiply-adds: past the size at which products are split across threads.
    const A = t.randn([512, 256], { seed: 1 }), B = t.randn([256, 128], { seed: 2 });
    t.setNumThreads(1);
    const one = Array.from(A.matmul(B).toArray());
    for (const n of [146, 147, 200, 256]) {
      t.setNumThreads(n);
      expect(Array.from(A.matmul(B).toArray()), `${n} threads`).toEqual(one);
    }
    t.setNumThreads(2);
  });
});
