// W2 profile tool (not a judge): the side-by-side judge's eager W2 step (the raw-tensor step of w2.mjs, loss read
// back) 400 times in one process, on the thread count given, then the last 350 steps sorted by time and cut in
// quarters: each quarter's mean step time and the mean main-thread garbage-collection pause inside its steps (from
// a PerformanceObserver on "gc"). It shows where the mean and the median of a thread count part from its minimum,
// which is the judge's figure (BENCHMARKS.md, "Two threads and the garbage collector"). Node flags go before the
// script, e.g. --single-threaded-gc. Run after `npm run build`:
//   node bench/gradgraph/w2-quarters.mjs 2     (or 1: the thread count)
import { PerformanceObserver } from "node:perf_hooks";
import { w2LossStep } from "./w2.mjs";

const gg = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
const threads = Number(process.argv[2] ?? 2);
gg.setNumThreads(threads);
const pauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) pauses.push([e.startTime, e.duration]);
}).observe({ entryTypes: ["gc"] });
const lossStep = w2LossStep(gg);
const steps = [];
for (let i = 0; i < 400; i++) {
  const t0 = performance.now();
  lossStep().item();
  steps.push([t0, performance.now()]);
}
await new Promise((resolve) => setTimeout(resolve, 50)); // the observer reports between tasks
const rows = steps.slice(50).map(([t0, t1]) => ({
  ms: t1 - t0,
  gc: pauses.reduce((sum, [s, d]) => sum + Math.max(0, Math.min(t1, s + d) - Math.max(t0, s)), 0),
}));
rows.sort((a, b) => a.ms - b.ms);
const q = Math.floor(rows.length / 4), mean = (rs, k) => (rs.reduce((s, r) => s + r[k], 0) / rs.length).toFixed(2);
const quarters = [rows.slice(0, q), rows.slice(q, 2 * q), rows.slice(2 * q, 3 * q), rows.slice(3 * q)];
console.log(`${threads} thread(s)${process.execArgv.length ? ` (${process.execArgv.join(" ")})` : ""}: min ${rows[0].ms.toFixed(2)} ms, mean ${mean(rows, "ms")} ms; ` +
  `quarters by step time (fastest first), mean step / GC pause in it: ${quarters.map((rs) => `${mean(rs, "ms")} / ${mean(rs, "gc")}`).join(", ")} ms`);
process.exit(0);
