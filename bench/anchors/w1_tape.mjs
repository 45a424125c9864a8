// Copied from ../shared/peer-bench/w1_scalar/w1_tape.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), unchanged.
// W1 on the typed-array tape engine (tape.mjs): same model, data, loss and graph as w1_plainjs.mjs.
import { Tape } from './tape.mjs';
import { lcg, SEEDS, moons, w1Params, bench, emit } from '../lib/common.mjs';

const rnd = lcg(SEEDS.w1);
const { X, y } = moons(100, rnd);
const layersInit = w1Params(rnd);
const T = new Tape();
const layers = layersInit.map((neurons, l) => neurons.map((n) => ({
  w: n.w.map((v) => T.param(v)), b: T.param(n.b), nonlin: l !== layersInit.length - 1 })));
const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
const lr = 0.05, alpha = 1e-4;
let nodes = 0, loss0 = null;

function forward(x) {
  for (const layer of layers) {
    x = layer.map((n) => {
      let act = n.b;
      for (let i = 0; i < n.w.length; i++) act = T.add(act, T.mul(n.w[i], x[i]));
      return n.nonlin ? T.relu(act) : act;
    });
  }
  return x[0];
}
function step() {
  T.reset();
  const losses = X.map((row, i) => T.relu(T.addc(T.mulc(forward(row.map((v) => T.leaf(v))), -y[i]), 1)));
  let data = T.leaf(0); for (const l of losses) data = T.add(data, l);
  data = T.mulc(data, 1 / losses.length);
  let reg = T.leaf(0); for (const p of params) reg = T.add(reg, T.mul(p, p));
  const total = T.add(data, T.mulc(reg, alpha));
  nodes = T.backward(total);
  for (const p of params) T.val[p] -= lr * T.grad[p];
  if (loss0 === null) loss0 = T.val[total];
}
const r = await bench(step, { warmup: 20, minRuns: 50, maxRuns: 500, budgetMs: 3000 });
emit({ workload: 'W1', peer: 'plain-js-tape', size: '2-16-16-1 x100', params: params.length, graph_nodes: nodes,
  steps_per_s: +(1000 / r.median_ms).toFixed(2), nodes_per_s: Math.round(nodes * 1000 / r.median_ms), loss_step1: loss0, ...r });
