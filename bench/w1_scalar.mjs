// W1 (peer-bench): micrograd's demo on gradgraph's scalar engine — MLP 2-16-16-1 on 100 moons points, SVM
// max-margin loss + 1e-4 L2, full batch; one step = forward + backward + SGD. Same data, graph and loss as
// ../../shared/peer-bench/w1_scalar/*.mjs, so the loss at step 1 must be 1.865453195760891.
import { lcg, SEEDS, moons, w1Params, bench, emit } from "../../shared/peer-bench/lib/common.mjs";
import { Value } from "../dist/index.js";

const rnd = lcg(SEEDS.w1);
const { X, y } = moons(100, rnd);
const layers = w1Params(rnd).map((neurons, l, all) =>
  neurons.map((n) => ({ w: n.w.map((v) => new Value(v)), b: new Value(n.b), nonlin: l !== all.length - 1 })));
const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
const lr = 0.05, alpha = 1e-4;
let loss0 = null, nodes = 0;

function forward(x) {
  for (const layer of layers) {
    x = layer.map((n) => {
      let act = n.b;
      for (let i = 0; i < n.w.length; i++) act = act.add(n.w[i].mul(x[i]));
      return n.nonlin ? act.relu() : act;
    });
  }
  return x[0];
}

function step() {
  const losses = X.map((row, i) => forward(row.map((v) => Value.constant(v))).mul(-y[i]).add(1).relu());
  let data = Value.constant(0);
  for (const l of losses) data = data.add(l);
  data = data.mul(1 / losses.length);
  let reg = Value.constant(0);
  for (const p of params) reg = reg.add(p.mul(p));
  const total = data.add(reg.mul(alpha));
  for (const p of params) p.grad = 0;
  nodes = total.backward();
  for (const p of params) p.data -= lr * p.grad;
  if (loss0 === null) loss0 = total.data;
}

const r = await bench(step, { warmup: 20, minRuns: 50, maxRuns: 500, budgetMs: 3000 });
emit({ workload: "W1", peer: "gradgraph-value", size: "2-16-16-1 x100", params: params.length,
  multiplications: nodes, steps_per_s: +(1000 / r.median_ms).toFixed(2), loss_step1: loss0, ...r });
