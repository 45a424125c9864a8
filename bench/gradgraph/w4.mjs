// W4 (../../shared/peer-bench/README.md): value and gradients w.r.t. x, y, z of relu(x*y + z).sum() on 1e6
// float32 elements each (the peers' data), all read back: the sum with item(), the gradients with toArray().
// The sum is checked against float64 arithmetic on the same float32 inputs, every 997th gradient against its
// definition (d/dx = y·[v>0], d/dy = x·[v>0], d/dz = [v>0]).
import { w4Data, W4N, bench } from "../lib/common.mjs";

export async function w4(gg, { timing, n = W4N, compiled = false }) {
  const d = w4Data();
  const [xs, ys, zs] = [d.x, d.y, d.z].map((a) => a.subarray(0, n));
  const [x, y, z] = [xs, ys, zs].map((a) => gg.fromTypedArray(a, [n], { requiresGrad: true }));
  let value = null, gx = null, gy = null, gz = null;
  const step = () => {
    x.grad = y.grad = z.grad = null;
    const s = x.mul(y).add(z).relu().sum();
    s.backward();
    return s;
  };
  const run = compiled ? gg.compile(step) : step;
  const r = await bench(() => {
    const v = run().item();
    gx = x.grad.toArray(); gy = y.grad.toArray(); gz = z.grad.toArray();
    if (value === null) value = v;
  }, timing({ warmup: 3, minRuns: 10, maxRuns: 100, budgetMs: 2500 }));
  let ref = 0, bad = 0;
  for (let i = 0; i < n; i++) {
    const v = xs[i] * ys[i] + zs[i];
    if (v > 0) ref += v;
    if (i % 997 !== 0 || Math.abs(v) < 1e-6) continue;   // at the kink float32 and float64 may disagree
    const m = v > 0 ? 1 : 0;
    if (Math.abs(gx[i] - ys[i] * m) > 1e-6 || Math.abs(gy[i] - xs[i] * m) > 1e-6 || Math.abs(gz[i] - m) > 1e-6) bad++;
  }
  const ok = Math.abs(value - ref) <= 1e-4 * Math.abs(ref) && bad === 0;
  return { workload: "W4", ...(compiled ? { variant: "compiled" } : {}), size: n, value, ok, check: `sum ${value} (float64: ${ref}); ${bad} wrong sampled gradients`, ...r };
}

export const w4c = (gg, o) => w4(gg, { ...o, compiled: true });
