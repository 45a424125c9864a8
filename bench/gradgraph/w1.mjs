// W1 (../../shared/peer-bench/README.md): micrograd's demo on gradgraph's scalar engine — MLP 2-16-16-1 on 100
// moons points, SVM max-margin loss + 1e-4 L2, full batch; one step = forward + backward + SGD (lr 0.05). Inputs
// and constants are graph nodes, as in micrograd and the typed-array tape (anchors/w1_tape.mjs), so both build the
// same 65,818-node graph on the same data and must reach the same loss at step 1.
import { lcg, SEEDS, moons, w1Params, bench } from "../lib/common.mjs";

export const W1_LOSS_STEP1 = 1.865453195760891;

/** Runs W1 on `gg` (gradgraph's module); returns one record. */
export async function w1(gg, { timing }) {
  const { Value } = gg;
  const rnd = lcg(SEEDS.w1);
  const { X, y } = moons(100, rnd);
  const layers = w1Params(rnd).map((neurons, l, all) =>
    neurons.map((n) => ({ w: n.w.map((v) => new Value(v)), b: new Value(n.b), nonlin: l !== all.length - 1 })));
  const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
  const lr = 0.05, alpha = 1e-4;
  let loss0 = null;
  const forward = (x) => {
    for (const layer of layers) {
      x = layer.map((n) => {
        let act = n.b;
        for (let i = 0; i < n.w.length; i++) act = act.add(n.w[i].mul(x[i]));
        return n.nonlin ? act.relu() : act;
      });
    }
    return x[0];
  };
  const step = () => {
    const losses = X.map((row, i) => forward(row.map((v) => Value.constant(v))).mul(-y[i]).add(1).relu());
    let data = Value.constant(0);
    for (const l of losses) data = data.add(l);
    data = data.mul(1 / losses.length);
    let reg = Value.constant(0);
    for (const p of params) reg = reg.add(p.mul(p));
    const total = data.add(reg.mul(alpha));
    for (const p of params) p.grad = 0;
    total.backward();
    for (const p of params) p.data -= lr * p.grad;
    if (loss0 === null) loss0 = total.data;
  };
  const r = await bench(step, timing({ warmup: 20, minRuns: 50, maxRuns: 500, budgetMs: 2500 }));
  const ok = Math.abs(loss0 - W1_LOSS_STEP1) <= 1e-9;
  return { workload: "W1", size: "2-16-16-1 x100", loss_step1: loss0, ok, check: `loss at step 1 ${loss0} (reference ${W1_LOSS_STEP1})`, ...r };
}
