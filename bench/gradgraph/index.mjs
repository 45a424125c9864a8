// gradgraph's side of `npm run bench`: each workload takes gradgraph's module (dist/index.js from main.mjs, the
// sources in the test suite) and returns records with the timer's fields (min_ms, median_ms, runs, …) and `ok`
// with `check`, what it verified about the work it did. `tiny` runs each once at a small size (the suite's test).
import { w1, w1c } from "./w1.mjs";
import { w2, w2c, w2nn, w2o } from "./w2.mjs";
import { w3 } from "./w3.mjs";
import { w4, w4c } from "./w4.mjs";
import { mnist, mnistc, mnisto } from "./mnist.mjs";
import { heap } from "./heap.mjs";

export const workloads = { w1, w1c, w2, w2c, w2o, w2nn, w3, w4, w4c, mnist, mnistc, mnisto, heap };

/**
 * Runs one workload; returns its records. Options: tiny, threads (set with gradgraph's setNumThreads where it is
 * exported), sizes (W3), steps (heap).
 */
export async function runWorkload(gg, name, { tiny = false, threads = null, sizes, steps } = {}) {
  const run = workloads[name];
  if (!run) throw new Error(`bench: unknown workload ${JSON.stringify(name)}; expected one of ${Object.keys(workloads).join(", ")}`);
  if (threads !== null && typeof gg.setNumThreads === "function") gg.setNumThreads(threads);
  const timing = tiny ? () => ({ warmup: 0, minRuns: 1, maxRuns: 1, budgetMs: 0 }) : (defaults) => defaults;
  const o = { tiny, timing, sizes: tiny ? [64] : sizes, steps: tiny ? 10 : steps, n: tiny ? 10_000 : undefined };
  const out = [await run(gg, o)].flat();
  const t = typeof gg.getNumThreads === "function" ? gg.getNumThreads() : threads;
  return out.map((r) => ({ peer: "gradgraph", threads: t, ...r }));
}
