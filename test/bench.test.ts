/**
 * Benchmarks are not tests, but they must not rot: this runs each workload of `npm run bench` (bench/gradgraph/)
 * once at a tiny size on the sources, checks the work it did (the peers' loss at step 1, products and gradients
 * against float64), and renders the report from what it ran. No timing is asserted.
 */
import { expect, test } from "vitest";
import * as gg from "../packages/gradgraph/src/index.js";

const load = async (p: string) => await import(new URL(p, import.meta.url).href);

test("every bench workload runs once at a tiny size and does the right work", async () => {
  const { workloads, runWorkload } = await load("../bench/gradgraph/index.mjs");
  const { summarize, tables, heapTable } = await load("../bench/report.mjs");
  const records: Record<string, any>[] = [];
  for (const name of Object.keys(workloads)) {
    const recs = await runWorkload(gg, name, { tiny: true });
    expect(recs.length, name).toBeGreaterThan(0);
    for (const r of recs) {
      expect({ name, ok: r.ok, check: r.check }).toEqual({ name, ok: true, check: r.check });
      records.push({ ...r, label: `gradgraph ${name}`, gg: true });
    }
  }
  const by = (w: string) => records.filter((r) => r.workload === w);
  expect(by("W1").map((r) => r.variant ?? "eager")).toEqual(["eager", "compiled"]);
  for (const r of by("W1")) expect(r.loss_step1).toBeCloseTo(1.865453195760891, 9);
  expect(by("W2").map((r) => r.variant)).toEqual(["tensor", "tensor, compiled", "tensor, compiled on ONNX Runtime", "nn"]);
  // the compiled W4 computes what the eager one does
  expect(by("W4").map((r) => r.variant ?? "eager")).toEqual(["eager", "compiled"]);
  expect(Math.abs(by("W4")[1]!.value - by("W4")[0]!.value)).toBeLessThanOrEqual(1e-4 * Math.abs(by("W4")[0]!.value));
  expect(by("mnist").map((r) => r.variant ?? "eager")).toEqual(["eager", "compiled", "compiled on ONNX Runtime"]);
  for (const r of [...by("W2"), ...by("heap")]) expect(Math.abs(r.loss_step1 - 2.304687)).toBeLessThan(2e-5);
  expect(by("W3")[0]!.max_abs_err).toBeLessThan(1e-3);
  expect(by("mnist")[0]!.last_loss).toBeLessThan(by("mnist")[0]!.first_loss);
  const md = tables(summarize(records));
  for (const w of ["W1", "W2", "W3", "W4", "MNIST"]) expect(md).toContain(`### ${w}`);
  expect(heapTable(by("heap")[0])).toContain("after step 10");
  // the kernels' WebAssembly memories are sampled too (the W2 step has run its kernels by then)
  expect(by("heap")[0]!.wasm_mb[1]).toBeGreaterThan(0);
  expect(heapTable(by("heap")[0])).toContain("WebAssembly memories");
});

test("npm run bench refuses bad options with exit 2 and one message, before running anything (--tiny included)", async () => {
  const { spawnSync } = await import("node:child_process");
  const script = new URL("../bench/run.mjs", import.meta.url).pathname;
  for (const [args, message] of [
    [["--procs", "0"], '--procs: expected a positive integer, got "0"'],
    [["--procs", "0", "--tiny"], '--procs: expected a positive integer, got "0"'],
    [["--workloads", "nope"], '--workloads: expected some of w1,w2,w3,w4,mnist,heap, got "nope"'],
    [["--workloads", ",", "--tiny"], '--workloads: expected some of w1,w2,w3,w4,mnist,heap, got ","'],
    [["--workloads", "none", "--tiny"], '--workloads: expected some of w1,w2,w3,w4,mnist,heap, got "none"'],
    [["--sizes", "abc"], '--sizes: expected integers >= 8, got "abc"'],
  ] as const) {
    const r = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 20_000 });
    expect({ args, status: r.status, first: r.stderr.split("\n")[0] }).toEqual({ args, status: 2, first: `bench: ${message}` });
    expect(r.stdout).toBe("");
  }
});

test("a benchmark process (bench/gradgraph/main.mjs) refuses a bad --threads or --workload with exit 2 and one line, no stack trace", async () => {
  const { spawnSync } = await import("node:child_process");
  const script = new URL("../bench/gradgraph/main.mjs", import.meta.url).pathname;
  for (const [args, message] of [
    [["--workload", "w3", "--threads", "abc"], '--threads: expected an integer from 1 to 256, got "abc"'],
    [["--workload", "w3", "--threads", "0"], '--threads: expected an integer from 1 to 256, got "0"'],
    [["--workload", "nope"], "--workload: expected one of w1, w1c, w2, w2c, w2o, w2nn, w3, w4, w4c, mnist, mnistc, mnisto, heap, got \"nope\""],
  ] as const) {
    const r = spawnSync(process.execPath, [script, ...args, "--tiny"], { encoding: "utf8", timeout: 20_000 });
    expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 2, stderr: `bench/gradgraph/main.mjs: ${message}\n` });
  }
});

test("a benchmark process (bench/gradgraph/main.mjs) refuses an option without its value or an unknown option, as bench/run.mjs does, instead of running with the default", async () => {
  const { spawnSync } = await import("node:child_process");
  const script = new URL("../bench/gradgraph/main.mjs", import.meta.url).pathname;
  for (const [args, message] of [
    [["--tiny", "--workload", "w4", "--threads"], 'unknown or incomplete option "--threads"'],
    [["--tiny", "--workload", "w4", "--thread", "2"], 'unknown or incomplete option "--thread"'],
    [["--tiny", "--workload", "w4", "--steps"], 'unknown or incomplete option "--steps"'],
  ] as const) {
    const r = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 20_000 });
    expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 2, stderr: `bench/gradgraph/main.mjs: ${message}\n` });
  }
});

test("the memory verdict: growth while the process warms up is flat, growth in the second half is not", async () => {
  const { heapTable } = await load("../bench/report.mjs");
  const MB = 2 ** 20;
  /** A heap record of `n` samples whose held bytes (heap + ArrayBuffers + wasm) follow `held(k)`. */
  const record = (n: number, held: (k: number) => number, slope: number) => {
    const samples = Array.from({ length: n }, (_, k) => [20 + k * 2000, held(k), 2 * MB, 100 * MB, 2 * MB]);
    const mb = (b: number) => +(b / MB).toFixed(2);
    return { steps: 100_000, gc_between_samples: true, ms_per_step: 5, ok: true, samples, slope_bytes_per_step: slope,
      heap_used_mb: [mb(samples[0]![1]!), mb(samples.at(-1)![1]!)], array_buffers_mb: [2, 2], wasm_mb: [2, 2], rss_mb: [100, 100] };
  };
  // +1.5 MB over the first two samples (the optimizing compiler, caches), then nothing
  const warm = heapTable(record(50, (k) => 8 * MB + Math.min(k, 2) * 0.75 * MB, 0.1));
  expect(warm).toContain("+1.50 MB from step 20");
  expect(warm).toContain("**flat**");
  // +2 MB spread over the second half
  const leak = heapTable(record(50, (k) => 8 * MB + Math.max(0, k - 25) * 0.08 * MB, 21));
  expect(leak).toContain("**grows**");
});
