// W3 (../../shared/peer-bench/README.md): float32 square matmul, entries U(-1,1) from the peers' LCG, product read
// back (`toArray`); GFLOP/s = 2n³ / time. Sampled entries are checked against a float64 dot product.
import { lcg, SEEDS, randMatrix, bench } from "../lib/common.mjs";

export async function w3(gg, { timing, sizes = [512] }) {
  const out = [];
  for (const n of sizes) {
    const rnd = lcg(SEEDS.w3);
    const a = randMatrix(n, rnd), b = randMatrix(n, rnd);
    const A = gg.fromTypedArray(a, [n, n]), B = gg.fromTypedArray(b, [n, n]);
    let C = null;
    const r = await bench(() => { C = A.matmul(B).toArray(); }, timing({ warmup: 2, minRuns: 5, maxRuns: 50, budgetMs: 2500 }));
    let maxErr = 0;
    for (const [i, j] of [[0, 0], [1, 7 % n], [n - 1, n - 1], [n >> 1, 3 % n], [5 % n, n - 2]]) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p] * b[p * n + j];
      maxErr = Math.max(maxErr, Math.abs(C[i * n + j] - s));
    }
    const ok = maxErr < 1e-3;
    out.push({ workload: "W3", size: n, gflops: +((2 * n ** 3) / r.min_ms / 1e6).toFixed(2), max_abs_err: maxErr, ok,
      check: `max |error| ${maxErr.toExponential(2)} on 5 sampled entries against float64 (bound 1e-3)`, ...r });
  }
  return out;
}
