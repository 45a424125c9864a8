// The report of `npm run bench`: records (one JSON object per measurement, from every process) grouped by
// workload, size and runner, with each group's minimum and median and the ratio of gradgraph's time to each
// runner's, as Markdown. Pure functions (bench/run.mjs does the running).

/** What each workload measures, for the table titles. */
export const TITLES = {
  W1: "W1 scalar MLP 2-16-16-1 on 100 moons points, forward + backward + SGD (ms per step)",
  W2: "W2 MLP 784-256-256-10 training step, batch 128, SGD, float32 (ms per step)",
  W3: "W3 float32 matmul, product read back (ms per product; GFLOP/s = 2n³ / min)",
  W4: "W4 relu(x·y + z).sum() and its gradients w.r.t. x, y, z, 1e6 float32, read back (ms)",
  mnist: "MNIST epoch: MLP 784-128-10, Adam, batch 64, 7,996 digits (s per epoch, one epoch per process)",
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length;
  return m === 0 ? NaN : m % 2 ? s[(m - 1) / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
};

/**
 * Groups `records` (each with workload, label, gg (true for gradgraph), min_ms, median_ms, runs, ok, check, and
 * size where a workload has several) into rows in the order first seen: processes, timed runs, minimum of the
 * minimums, median of the processes' medians, and failed checks.
 */
export function summarize(records) {
  const groups = new Map();
  for (const r of records) {
    if (r.min_ms === undefined || r.workload === "heap") continue;
    const key = `${r.workload}|${r.size ?? ""}|${r.label}`;
    if (!groups.has(key)) groups.set(key, { workload: r.workload, size: r.size, label: r.label, gg: !!r.gg, recs: [] });
    groups.get(key).recs.push(r);
  }
  return [...groups.values()].map((g) => ({
    workload: g.workload, size: g.size, label: g.label, gg: g.gg,
    processes: g.recs.length,
    runs: g.recs.reduce((s, r) => s + (r.runs ?? 1), 0),
    min: Math.min(...g.recs.map((r) => r.min_ms)),
    median: median(g.recs.map((r) => r.median_ms)),
    failed: g.recs.filter((r) => r.ok === false).map((r) => r.check),
  }));
}

const fmt = (x) => (!Number.isFinite(x) ? "–" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** Markdown tables, one per workload and size: each row's min and median, and gradgraph's time ÷ the row's. */
export function tables(rows) {
  const out = [];
  const sections = [...new Set(rows.map((r) => `${r.workload}|${r.size ?? ""}`))];
  for (const s of sections) {
    const rs = rows.filter((r) => `${r.workload}|${r.size ?? ""}` === s);
    const { workload, size } = rs[0];
    const secs = workload === "mnist", unit = secs ? 1000 : 1;
    const ggs = rs.filter((r) => r.gg);
    const title = TITLES[workload] ?? workload;
    out.push(`#### ${title}${workload === "W3" ? `, n = ${size}` : ""}`, "");
    const head = ["runner", "processes × timed runs", "min", "median", ...(workload === "W3" ? ["GFLOP/s (min)"] : []),
      ...ggs.map((g) => `${g.label} ÷ runner (min)`)];
    out.push(`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`);
    for (const r of rs) {
      const cells = [r.label + (r.failed.length ? ` (check failed: ${r.failed[0]})` : ""), `${r.processes} × ${r.runs}`,
        fmt(r.min / unit), fmt(r.median / unit),
        ...(workload === "W3" ? [fmt((2 * Number(size) ** 3) / r.min / 1e6)] : []),
        ...ggs.map((g) => (g === r ? "–" : `${fmt(g.min / r.min)}×`))];
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** The heap record's table and verdict. */
export function heapTable(h) {
  const [k0] = h.samples[0], [k1] = h.samples.at(-1);
  const wasm = h.wasm_mb ?? [0, 0];
  const growth = h.heap_used_mb[1] + h.array_buffers_mb[1] + wasm[1] - h.heap_used_mb[0] - h.array_buffers_mb[0] - wasm[0];
  // Flat: the second half (a steady state, after V8's optimizing compiler and the kernels' caches have settled,
  // which takes a few thousand steps) adds under 1 MB, by its end points and by its fitted slope.
  const held = (s) => s[1] + s[2] + (s[4] ?? 0);
  const mid = h.samples[h.samples.length >> 1];
  const late = (held(h.samples.at(-1)) - held(mid)) / 2 ** 20;
  const flat = late < 1 && Math.abs(h.slope_bytes_per_step) * h.steps < 2 ** 20;
  return [
    `#### Memory over ${h.steps.toLocaleString("en")} W2 steps in one process (${h.gc_between_samples ? "two garbage collections before each sample" : "no forced GC"}, ${h.ms_per_step} ms per step)`,
    "",
    `| MB | after step ${k0} | after step ${k1} |`,
    "| --- | --- | --- |",
    `| V8 heap used | ${h.heap_used_mb[0]} | ${h.heap_used_mb[1]} |`,
    `| ArrayBuffers (typed-array storage) | ${h.array_buffers_mb[0]} | ${h.array_buffers_mb[1]} |`,
    `| WebAssembly memories (kernel scratch and workspaces) | ${wasm[0]} | ${wasm[1]} |`,
    `| resident set | ${h.rss_mb[0]} | ${h.rss_mb[1]} |`,
    "",
    `Heap + ArrayBuffers + WebAssembly memories: ${growth >= 0 ? "+" : ""}${growth.toFixed(2)} MB from step ${k0} to ${k1}, ` +
      `${late >= 0 ? "+" : ""}${late.toFixed(2)} MB over the second half (from step ${mid[0]}), slope there ` +
      `${h.slope_bytes_per_step} bytes per step: **${flat ? "flat" : "grows"}**${h.ok ? "" : ` (check failed: ${h.check})`}. ` +
      `Resident set: ${h.rss_mb[1] >= h.rss_mb[0] ? "+" : ""}${(h.rss_mb[1] - h.rss_mb[0]).toFixed(1)} MB.`,
    "",
  ].join("\n");
}
