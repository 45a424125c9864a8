// Copied from ../shared/peer-bench/w4_elementwise/plainjs.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), unchanged.
// W4 in plain JS on Float32Array: relu(x*y+z).sum() forward + gradients for x, y, z (n = 1e6).
//   unfused: one loop and one freshly allocated Float32Array per op, forward and backward, the way an
//            eager tensor engine without fusion runs it (mul, add, relu, sum | ones, relu', mul x3)
//   fused  : one branchless forward+backward loop (float64 math), outputs written into preallocated buffers
// Usage: node plainjs.mjs
import { w4Data, W4N, bench, emit } from '../lib/common.mjs';

const { x, y, z } = w4Data();
const n = W4N;

// One kernel (function) per op, each allocating its output, as an eager engine would call them.
const mul = (a, b) => { const o = new Float32Array(a.length); for (let i = 0; i < a.length; i++) o[i] = a[i] * b[i]; return o; };
const add = (a, b) => { const o = new Float32Array(a.length); for (let i = 0; i < a.length; i++) o[i] = a[i] + b[i]; return o; };
const relu = (a) => { const o = new Float32Array(a.length); for (let i = 0; i < a.length; i++) o[i] = a[i] > 0 ? a[i] : 0; return o; };
const sum = (a) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; };
const full = (len, v) => new Float32Array(len).fill(v);
const reluBack = (g, a) => { const o = new Float32Array(a.length); for (let i = 0; i < a.length; i++) o[i] = a[i] > 0 ? g[i] : 0; return o; };

function unfused() {
  const t1 = mul(x, y), t2 = add(t1, z), t3 = relu(t2), s = sum(t3);   // forward
  const g3 = full(n, 1);                                               // d sum / d t3
  const g2 = reluBack(g3, t2);                                         // d t3 / d t2
  const gz = g2, gx = mul(g2, y), gy = mul(g2, x);                     // d t2/dz = 1, d t1/dx = y, d t1/dy = x
  return [s, gx, gy, gz];
}

const gx = new Float32Array(n), gy = new Float32Array(n), gz = new Float32Array(n);
function fused() {
  let s = 0;
  for (let i = 0; i < n; i++) {  // branchless: the sign of v is random, a branch mispredicts ~50% (2x slower)
    const xi = x[i], yi = y[i], v = xi * yi + z[i], m = v > 0 ? 1 : 0;
    s += v * m; gx[i] = yi * m; gy[i] = xi * m; gz[i] = m;
  }
  // Return the number itself: `return [s, gx, gy, gz]` made this loop 2.2x slower on node 20
  // (the float accumulator escaping into an array literal kept it boxed inside the loop).
  return s;
}

for (const [name, fn] of [['unfused', unfused], ['fused', fused]]) {
  let value = null;
  const r = await bench(() => { const o = fn(); if (value === null) value = typeof o === 'number' ? o : o[0]; }, { warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 3000 });
  emit({ workload: 'W4', peer: `plain-js-${name}`, size: n, value, note: 'float64 accumulator for the sum', ...r });
}
