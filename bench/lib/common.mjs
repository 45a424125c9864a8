// Copied from ../shared/peer-bench/lib/common.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), so that `npm run bench` runs from this repository alone; changed: pkgVersion reads bench/node_modules.
// Shared helpers for the JS peer benchmarks: deterministic data, timing, JSON-line output.
// Every script prints one JSON object per measurement to stdout (see README.md).
import os from 'node:os';

// 32-bit LCG (Numerical Recipes constants); exact in doubles, identical in lib/common.py.
export function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (1664525 * s + 1013904223) % 4294967296;
    return s / 4294967296;
  };
}

export const SEEDS = { w1: 1337, w2: 42, w3: 7, w4: 123 };

// make_moons-like toy set: n points, two interleaved half circles, uniform noise, labels -1/+1.
export function moons(n, rnd) {
  const X = [], y = [];
  const half = n / 2;
  for (let i = 0; i < n; i++) {
    const k = i % half;
    const t = Math.PI * k / (half - 1);
    const outer = i < half;
    const x0 = outer ? Math.cos(t) : 1 - Math.cos(t);
    const x1 = outer ? Math.sin(t) : 0.5 - Math.sin(t);
    X.push([x0 + 0.2 * (rnd() - 0.5), x1 + 0.2 * (rnd() - 0.5)]);
    y.push(outer ? -1 : 1);
  }
  return { X, y };
}

// W1 parameters for MLP 2-16-16-1: weights uniform(-1,1) in layer/neuron/input order, biases 0.
export function w1Params(rnd, sizes = [2, 16, 16, 1]) {
  const layers = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const neurons = [];
    for (let j = 0; j < sizes[l + 1]; j++) {
      const w = [];
      for (let i = 0; i < sizes[l]; i++) w.push(rnd() * 2 - 1);
      neurons.push({ w, b: 0 });
    }
    layers.push(neurons);
  }
  return layers;
}

// W2: X [128,784] uniform(0,1), labels uniform 0..9, W_l uniform(-1/sqrt(fan_in), +) stored [in,out], b = 0.
export const W2 = { batch: 128, sizes: [784, 256, 256, 10], lr: 0.01 };
export function w2Data(rnd = lcg(SEEDS.w2)) {
  const { batch, sizes } = W2;
  const X = new Float32Array(batch * sizes[0]);
  for (let i = 0; i < X.length; i++) X[i] = rnd();
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.min(9, Math.floor(rnd() * 10));
  const Ws = [], bs = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fin = sizes[l], fout = sizes[l + 1], a = 1 / Math.sqrt(fin);
    const W = new Float32Array(fin * fout);
    for (let i = 0; i < W.length; i++) W[i] = (rnd() * 2 - 1) * a;
    Ws.push(W);
    bs.push(new Float32Array(fout));
  }
  return { X, labels, Ws, bs };
}
// FLOPs of one training step (matmuls only): forward 2*B*sum(in*out), backward 2x that,
// minus the input-gradient of layer 1, which no peer needs.
export function w2Flops() {
  const { batch: B, sizes } = W2;
  let fwd = 0;
  for (let l = 0; l + 1 < sizes.length; l++) fwd += 2 * B * sizes[l] * sizes[l + 1];
  return 3 * fwd - 2 * B * sizes[0] * sizes[1];
}

export function randMatrix(n, rnd) {
  const a = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) a[i] = rnd() * 2 - 1;
  return a;
}

export const W4N = 1_000_000;
export function w4Data(rnd = lcg(SEEDS.w4)) {
  const mk = () => { const a = new Float32Array(W4N); for (let i = 0; i < W4N; i++) a[i] = rnd() * 2 - 1; return a; };
  return { x: mk(), y: mk(), z: mk() };
}

// Timing: `warmup` untimed calls, then timed calls until minRuns and budgetMs are both met (or maxRuns).
// BENCH_FIXED_RUNS=N (environment) forces exactly N timed calls, for whole-process timing from outside.
export async function bench(fn, { warmup = 3, minRuns = 5, maxRuns = 50, budgetMs = 3000 } = {}) {
  if (process.env.BENCH_FIXED_RUNS !== undefined) {
    minRuns = maxRuns = Number(process.env.BENCH_FIXED_RUNS); budgetMs = 0;
  }
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const m = times.length;
  if (m === 0) return { median_ms: null, min_ms: null, max_ms: null, runs: 0, warmup };
  const median = m % 2 ? times[(m - 1) / 2] : (times[m / 2 - 1] + times[m / 2]) / 2;
  return { median_ms: +median.toFixed(4), min_ms: +times[0].toFixed(4), max_ms: +times[m - 1].toFixed(4), runs: m, warmup };
}

export function emit(rec) {
  const out = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, ...rec };
  console.log(JSON.stringify(out));
}

export function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : def;
}

// Installed version of a peer package under bench/node_modules.
import { readFileSync } from 'node:fs';
export function pkgVersion(name) {
  return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}
