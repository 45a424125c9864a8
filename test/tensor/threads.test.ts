import { afterEach, describe, expect, test, vi } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { getNumThreads, setNumThreads } from "../../src/index.js";

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

  test("GRADGRAPH_NUM_THREADS sets the default; a bad value is an error naming it", async () => {
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "2");
    vi.resetModules();
    expect((await import("../../src/tensor/kernels/threads.js")).getNumThreads()).toBe(2);
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "two");
    vi.resetModules();
    const t = await import("../../src/tensor/kernels/threads.js");
    expect(() => t.getNumThreads()).toThrow('GRADGRAPH_NUM_THREADS: expected a positive integer, got "two"');
  });

  test("the default is the number of cores", async () => {
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "");
    vi.resetModules();
    const os = await import("node:os");
    expect((await import("../../src/tensor/kernels/threads.js")).getNumThreads()).toBe(os.availableParallelism());
  });
});
