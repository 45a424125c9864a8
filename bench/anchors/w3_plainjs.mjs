// Copied from ../shared/peer-bench/w3_matmul/plainjs.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), unchanged.
// W3 in plain JS on Float32Array (row-major n x n): what pure JS reaches without WASM/SIMD.
//   naive   : textbook i-j-k triple loop (B read down a column: cache-hostile)
//   ikj     : loop interchange, inner loop streams a row of B and a row of C
//   blocked : B transposed once (counted in the time), 4x4 register tile of dot products,
//             k split in blocks of 256 so the tile's rows stay in L1/L2
// Usage: node plainjs.mjs [--sizes 256,512,1024] [--kernels naive,ikj,blocked] [--f64]
import { lcg, SEEDS, randMatrix, bench, emit, arg } from '../lib/common.mjs';

export function naive(A, B, C, n) {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
}

export function ikj(A, B, C, n) {
  C.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const a = A[ci + k], bk = k * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bk + j];
    }
  }
}

const KB = 256;
export function blocked(A, B, C, n, BT) {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) BT[j * n + i] = B[i * n + j];
  C.fill(0);
  for (let k0 = 0; k0 < n; k0 += KB) {
    const k1 = Math.min(n, k0 + KB);
    for (let i = 0; i < n; i += 4) {
      const a0 = i * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
      for (let j = 0; j < n; j += 4) {
        const b0 = j * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let k = k0; k < k1; k++) {
          const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
          const y0 = BT[b0 + k], y1 = BT[b1 + k], y2 = BT[b2 + k], y3 = BT[b3 + k];
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        C[a0 + j] += c00; C[a0 + j + 1] += c01; C[a0 + j + 2] += c02; C[a0 + j + 3] += c03;
        C[a1 + j] += c10; C[a1 + j + 1] += c11; C[a1 + j + 2] += c12; C[a1 + j + 3] += c13;
        C[a2 + j] += c20; C[a2 + j + 1] += c21; C[a2 + j + 2] += c22; C[a2 + j + 3] += c23;
        C[a3 + j] += c30; C[a3 + j + 1] += c31; C[a3 + j + 2] += c32; C[a3 + j + 3] += c33;
      }
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = arg('sizes', '256,512,1024').split(',').map(Number);
  const kernels = arg('kernels', 'naive,ikj,blocked').split(',');
  const f64 = process.argv.includes('--f64');
  const Arr = f64 ? Float64Array : Float32Array;
  const fns = { naive, ikj, blocked };
  for (const n of sizes) {
    const rnd = lcg(SEEDS.w3);
    const A = Arr.from(randMatrix(n, rnd)), B = Arr.from(randMatrix(n, rnd));
    const ref = new Arr(n * n); ikj(A, B, ref, n);
    for (const k of kernels) {
      const C = new Arr(n * n), BT = new Arr(n * n);
      const r = await bench(() => fns[k](A, B, C, n, BT), { warmup: 1, minRuns: 3, maxRuns: 15, budgetMs: 3000 });
      let err = 0; for (let i = 0; i < n * n; i++) err = Math.max(err, Math.abs(C[i] - ref[i]));
      emit({ workload: 'W3', peer: `plain-js-${k}${f64 ? '-f64' : ''}`, size: n, gflops: +(2 * n ** 3 / r.median_ms / 1e6).toFixed(3), max_abs_err_vs_ikj: err, ...r });
    }
  }
}
