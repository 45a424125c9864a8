// Memory over many W2-sized steps (the "heap flat over 10^5 W2-sized steps"): the raw-tensor W2 step of
// w2.mjs repeated `steps` times; at 50 evenly spaced points (after two garbage collections when the process runs
// with --expose-gc, as bench/run.mjs starts it: after one, freed typed arrays are often still counted) V8's used
// heap, the memory of ArrayBuffers (typed-array storage), the kernels' WebAssembly memories and the resident set
// size are sampled. Reported: first and last samples after warm-up, and the least-squares slope of heap +
// ArrayBuffers + WebAssembly memories over the second half, in bytes per step (flat: about 0).
import { w2Step, W2_LOSS_STEP1 } from "./w2.mjs";

export async function heap(gg, { steps = 2000 }) {
  const step = w2Step(gg);
  // The kernels' WebAssembly memories are not in process.memoryUsage()'s heap or ArrayBuffers (older builds: 0).
  const wasmBytes = () => Object.values(gg.wasmMemoryBytes?.() ?? {}).reduce((a, b) => a + b, 0);
  const gc = globalThis.gc ?? (() => {});
  const every = Math.max(1, Math.floor(steps / 50));
  const samples = [];   // [step, heapUsed, arrayBuffers, rss, wasm memories] in bytes
  const sample = (i) => {
    gc();
    gc();
    const m = process.memoryUsage();
    samples.push([i, m.heapUsed, m.arrayBuffers, m.rss, wasmBytes()]);
  };
  const first = step();
  const warm = Math.min(20, Math.ceil(steps / 5));
  for (let i = 1; i < warm; i++) step();
  sample(warm);
  let last = first;
  const t0 = performance.now();
  for (let i = warm + 1; i <= steps; i++) {
    last = step();
    if ((i - warm) % every === 0 || i === steps) sample(i);
  }
  const ms = performance.now() - t0;
  const half = samples.slice(samples.length >> 1);
  const xs = half.map((s) => s[0]), ys = half.map((s) => s[1] + s[2] + s[4]);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? xs.reduce((a, x, k) => a + (x - mx) * (ys[k] - my), 0) / sxx : 0;
  const [, h0, ab0, rss0, w0] = samples[0], [, h1, ab1, rss1, w1] = samples.at(-1);
  const ok = Math.abs(first - W2_LOSS_STEP1) <= 2e-5 && Number.isFinite(last);
  return { workload: "heap", size: "W2 step", steps, gc_between_samples: globalThis.gc !== undefined, loss_step1: first, ok,
    check: `loss at step 1 ${first} (reference ${W2_LOSS_STEP1}), at step ${steps} ${last}`,
    heap_used_mb: [h0, h1].map(mb), array_buffers_mb: [ab0, ab1].map(mb), wasm_mb: [w0, w1].map(mb), rss_mb: [rss0, rss1].map(mb),
    slope_bytes_per_step: +slope.toFixed(1), ms_per_step: +(ms / Math.max(1, steps - warm)).toFixed(3), samples };
}

const mb = (b) => +(b / 2 ** 20).toFixed(2);
