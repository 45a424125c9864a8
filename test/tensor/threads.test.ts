import { afterEach, describe, expect, test, vi } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { compile, getNumThreads, randn, setNumThreads } from "../../packages/gradgraph/src/index.js";
import { WasmPool } from "../../packages/gradgraph/src/tensor/kernels/threads.js";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

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

/**
 * Makes the library's next import see a `getBuiltinModule("node:worker_threads")` whose Worker constructor throws,
 * as under a worker limit (the modules are reset, so the pool is made anew).
 */
function noWorkers(): void {
  vi.resetModules();
  const realProcess = globalThis.process;
  vi.stubGlobal("process", new Proxy(realProcess, {
    get: (t, k) =>
      k === "getBuiltinModule"
        ? (name: string) => (name === "node:worker_threads" ? { Worker: function () { throw new Error("no workers here"); } } : realProcess.getBuiltinModule(name))
        : Reflect.get(t, k),
  }));
}

describe("without workers", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  test("a worker that cannot start leaves the caller to run every chunk (same result, no error)", async () => {
    noWorkers();
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
    noWorkers(); // so 256 threads cost nothing here; the split still follows the thread count
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

test("workers start in a process run with node -e (they do not take its options, which hold the script)", () => {
  const dist = fileURLToPath(new URL("../../packages/gradgraph/dist", import.meta.url));
  const script = `
    const gg = await import(${JSON.stringify(`${dist}/index.js`)});
    const { sgemmPool } = await import(${JSON.stringify(`${dist}/tensor/kernels/sgemm-wasm.js`)});
    gg.setNumThreads(2);
    const A = gg.randn([512, 256]), B = gg.randn([256, 128]);
    A.matmul(B); // 2^24 multiply-adds: a job for the pool, which starts its worker
    for (let i = 0; i < 200 && (sgemmPool()?.ready ?? 0) < 1; i++) await new Promise((r) => setTimeout(r, 25));
    console.log(sgemmPool() === null ? "no pool" : String(sgemmPool().ready));`;
  expect(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 }).trim()).toBe("1");
});

describe("a chunk that fails", () => {
  // A module on a shared memory of its own: `onWorkers(i)` traps in every instance but the caller's (its global is
  // set by `mark`), `onCaller(i)` only in the caller's, `ok(i)` never; each spins a little, then stores i + 1 at
  // byte 70,000 + 4i (past the pool's control page), so a job of many chunks is shared with the worker. It runs in
  // a child process on the build, with a time limit: the failure this guards against is a caller waiting for ever.
  const script = (dist: string) => `
    const { add, body, forLoop, get, I32, i32, i32FuncType, name, section, shl, uleb, vec } = await import(${JSON.stringify(`${dist}/backend/wasm-encoder.js`)});
    const { WasmPool, setNumThreads } = await import(${JSON.stringify(`${dist}/tensor/kernels/threads.js`)});
    const spin = forLoop(1, i32(0), i32(20000), i32(1), []);
    const store = [...get(0), ...i32(2), ...shl, ...get(0), ...i32(1), ...add, 0x36, 2, ...uleb(70000)];
    const trapIf = (onCaller) => [0x23, 0, ...(onCaller ? [] : [0x45]), 0x04, 0x40, 0x00, 0x0b];
    const work = (pre) => body([...vec([[1, I32]]), ...pre, ...spin, ...store, 0x0b]);
    const bytes = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, vec([[0x60, 0, 0], i32FuncType(1)])),
      ...section(2, vec([[...name("env"), ...name("mem"), 0x02, 0x03, ...uleb(2), ...uleb(2)]])),
      ...section(3, vec([[0], [1], [1], [1]])),
      ...section(6, vec([[I32, 0x01, ...i32(0), 0x0b]])),
      ...section(7, vec([[...name("mark"), 0, 0], [...name("onWorkers"), 0, 1], [...name("onCaller"), 0, 2], [...name("ok"), 0, 3]])),
      ...section(10, vec([body([0, ...i32(1), 0x24, 0, 0x0b]), work(trapIf(false)), work(trapIf(true)), work([])])),
    ]);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
    const module = new WebAssembly.Module(bytes);
    const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
    instance.exports.mark();
    setNumThreads(2);
    const pool = new WasmPool(module, memory, instance, ["onWorkers", "onCaller", "ok"]);
    pool.resize();
    for (let i = 0; i < 200 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 25));
    const rows = Array.from({ length: 400 }, (_, i) => [i]);
    const error = (f) => { try { f(); return null; } catch (e) { return e.constructor.name + ": " + e.message; } };
    // On a busy machine the caller may run every chunk before the worker wakes (then nothing fails): try again.
    let onWorkers = null;
    for (let k = 0; k < 50 && onWorkers === null; k++) onWorkers = error(() => pool.run("onWorkers", rows));
    // Likewise the worker may take every chunk before the caller gets one (then nothing fails either): try again.
    let onCaller = null;
    for (let k = 0; k < 50 && onCaller === null; k++) onCaller = error(() => pool.run("onCaller", rows));
    pool.run("ok", rows);
    console.log(JSON.stringify({ ready: pool.ready, onWorkers, onCaller, ok: Array.from(new Int32Array(memory.buffer, 70000, 400)).every((v, i) => v === i + 1) }));`;

  test("throws from the caller, never leaves it waiting, and the pool runs the next job", () => {
    const dist = fileURLToPath(new URL("../../packages/gradgraph/dist", import.meta.url));
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script(dist)], { encoding: "utf8", timeout: 30_000 });
    const r = JSON.parse(out) as { ready: number; onWorkers: string | null; onCaller: string | null; ok: boolean };
    expect(r.ready).toBe(1);
    expect(r.onWorkers).toBe("Error: WasmPool.run: onWorkers failed in a worker thread (a chunk threw; the job's results are incomplete)");
    expect(r.onCaller).toMatch(/^RuntimeError: /);
    expect(r.ok).toBe(true);
  });
});

describe("fewer threads", () => {
  // In a child process on the build, with a time limit: the failure this guards against is a worker stopped from
  // outside between joining a job and leaving it, after which every later product waits for ever.
  const script = (dist: string) => `
    const fs = await import("node:fs");
    const gg = await import(${JSON.stringify(`${dist}/index.js`)});
    const { sgemmPool } = await import(${JSON.stringify(`${dist}/tensor/kernels/sgemm-wasm.js`)});
    const threadsNow = () => fs.existsSync("/proc/self/task") ? fs.readdirSync("/proc/self/task").length : -1;
    const settle = async (ready) => { for (let i = 0; i < 200 && sgemmPool().ready !== ready; i++) await new Promise((r) => setTimeout(r, 25)); };
    const A = gg.randn([512, 256], { seed: 1 }), B = gg.randn([256, 128], { seed: 2 }); // 2^24 multiply-adds: a job for the pool
    gg.setNumThreads(1);
    const base = threadsNow(), one = Array.from(A.matmul(B).toArray());
    gg.setNumThreads(3);
    A.matmul(B);
    await settle(2);
    const up = { ready: sgemmPool().ready, threads: threadsNow() - base };
    gg.setNumThreads(1);
    await settle(0);
    for (let i = 0; i < 100 && threadsNow() !== base; i++) await new Promise((r) => setTimeout(r, 25));
    const down = { ready: sgemmPool().ready, threads: threadsNow() - base };
    // Lowered and raised again between products, many times: workers end while others are still joining.
    let same = true;
    for (let i = 0; i < 60; i++) {
      gg.setNumThreads(2 + (i % 2));
      same &&= Array.from(A.matmul(B).toArray()).every((v, j) => v === one[j]);
      gg.setNumThreads(1 + (i % 3));
    }
    gg.setNumThreads(2);
    same &&= Array.from(A.matmul(B).toArray()).every((v, j) => v === one[j]);
    await settle(1);
    console.log(JSON.stringify({ up, down, same, ready: sgemmPool().ready }));`;

  test("a worker let go ends its thread itself, between jobs; lowering and raising the count between products never hangs", () => {
    const dist = fileURLToPath(new URL("../../packages/gradgraph/dist", import.meta.url));
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script(dist)], { encoding: "utf8", timeout: 60_000 });
    const r = JSON.parse(out) as { up: { ready: number; threads: number }; down: { ready: number; threads: number }; same: boolean; ready: number };
    expect(r.up.ready).toBe(2);
    expect(r.down.ready).toBe(0);
    if (r.up.threads >= 0) {
      expect(r.up.threads).toBe(2);
      expect(r.down.threads).toBe(0);
    }
    expect(r.same).toBe(true);
    expect(r.ready).toBe(1);
  });
});

describe("spinning and sleeping", () => {
  // In a child process on the build: the pool's worker sleeps soon after a job (so it leaves the core to the
  // garbage collector's helpers), but not while the pool is held (a compiled step's products come close together).
  const script = (dist: string) => `
    const gg = await import(${JSON.stringify(`${dist}/index.js`)});
    const { sgemmPool, withProductThreadsHeld } = await import(${JSON.stringify(`${dist}/tensor/kernels/sgemm-wasm.js`)});
    const pause = (ms) => new Promise((r) => setTimeout(r, ms));
    const busy = (ms) => { const until = performance.now() + ms; while (performance.now() < until); };
    const asleepSoon = async () => { for (let i = 0; i < 200; i++) { if (sgemmPool().sleeping === 1) return true; await pause(10); } return false; };
    gg.setNumThreads(2);
    const A = gg.randn([512, 256], { seed: 1 }), B = gg.randn([256, 128], { seed: 2 }); // 2^24 multiply-adds: a job for the pool
    const one = Array.from(A.matmul(B).toArray());
    for (let i = 0; i < 200 && sgemmPool().ready < 1; i++) await pause(25);
    A.matmul(B);
    const afterJob = await asleepSoon();
    let same = true, heldAwake = [], failed = null;
    // A held worker spins up to 100 ms after its last job: checks that this process's thread took longer than 80 ms
    // to make (preempted on a busy machine) see that bound, not the hold, and are made again.
    for (let attempt = 0, slow = true; slow && attempt < 10; attempt++) {
      heldAwake = [];
      withProductThreadsHeld(() => {
        same &&= Array.from(A.matmul(B).toArray()).every((v, j) => v === one[j]);
        const t0 = performance.now();
        // Roused by the hold; on a busy machine it may take a while to run: wait until it is up, then see it stay up.
        for (const until = performance.now() + 2000; sgemmPool().sleeping !== 0 && performance.now() < until;);
        busy(10);
        heldAwake.push(sgemmPool().sleeping);
        withProductThreadsHeld(() => { busy(10); heldAwake.push(sgemmPool().sleeping); });
        busy(10); // the outer hold still holds
        heldAwake.push(sgemmPool().sleeping);
        slow = performance.now() - t0 > 80;
        same &&= Array.from(A.matmul(B).toArray()).every((v, j) => v === one[j]);
      });
    }
    const afterHold = await asleepSoon();
    try { withProductThreadsHeld(() => { throw new Error("inside"); }); } catch (e) { failed = e.message; }
    const afterThrow = await asleepSoon();
    console.log(JSON.stringify({ afterJob, heldAwake, same, afterHold, failed, afterThrow }));`;

  test("a worker sleeps soon after a job, stays awake while the pool is held (holds nest), and sleeps when the hold ends, even by a throw", () => {
    const dist = fileURLToPath(new URL("../../packages/gradgraph/dist", import.meta.url));
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script(dist)], { encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({ afterJob: true, heldAwake: [0, 0, 0], same: true, afterHold: true, failed: "inside", afterThrow: true });
  });
});

test("a compiled step holds the pool only when it has a product split across threads", () => {
  const before = getNumThreads();
  const held = vi.spyOn(WasmPool.prototype, "held");
  try {
    setNumThreads(2);
    // 256·256·256 = 2^24 multiply-adds: split; 64·128·784 = 6.4M (the MNIST example's first layer): not split.
    const big = [randn([256, 256], { seed: 1 }), randn([256, 256], { seed: 2 })];
    const small = [randn([64, 784], { seed: 3 }), randn([784, 128], { seed: 4 })];
    const stepOf = ([a, b]: typeof big) => compile(() => a!.matmul(b!).relu().sum());
    const bigStep = stepOf(big), smallStep = stepOf(small);
    for (let i = 0; i < 3; i++) smallStep();
    expect(held).not.toHaveBeenCalled();
    for (let i = 0; i < 3; i++) bigStep();
    expect(held.mock.calls.length).toBeGreaterThanOrEqual(2); // the replays (the first call traces)
    expect(bigStep().item()).toBe(big[0]!.matmul(big[1]!).relu().sum().item());
  } finally {
    held.mockRestore();
    setNumThreads(before);
  }
});
