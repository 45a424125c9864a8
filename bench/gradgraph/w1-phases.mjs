// W1 profile tool (not a judge): the side-by-side judge's W1 step (perf-w1-scalar.sh: micrograd's demo through the
// public Value API, 65,818 nodes) in a process of its own, as the judge runs it, split in three: the forward
// (recording the graph), the backward (zeroing the parameters' gradients and `backward()`), the SGD update.
// Prints each part's minimum over the steps (the judge takes the step's minimum too). The Value comes from the
// module given (default: this checkout's build; `bench/gradgraph/w1-floor.mjs` is the one-object-per-node floor).
// Run after `npm run build`:  node bench/gradgraph/w1-phases.mjs [module] [steps]
import { lcg, SEEDS, moons, w1Params } from "../lib/common.mjs";
const file = process.argv[2] ?? new URL("../../packages/gradgraph/dist/index.js", import.meta.url).pathname;
const { Value } = await import(new URL(file, `file://${process.cwd()}/`).href);
const steps = Number(process.argv[3] ?? 520);
const rnd = lcg(SEEDS.w1);
const { X, y } = moons(100, rnd);
const layers = w1Params(rnd).map((neurons, l, all) => neurons.map((n) => ({ w: n.w.map((v) => new Value(v)), b: new Value(n.b), nonlin: l !== all.length - 1 })));
const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
const lr = 0.05, alpha = 1e-4;
function forward(x) {
  for (const layer of layers) x = layer.map((n) => {
    let act = n.b;
    for (let i = 0; i < n.w.length; i++) act = act.add(n.w[i].mul(x[i]));
    return n.nonlin ? act.relu() : act;
  });
  return x[0];
}
const best = { forward: Infinity, backward: Infinity, update: Infinity, step: Infinity };
let loss0 = null;
for (let k = 0; k < steps; k++) {
  const t0 = performance.now();
  const losses = X.map((row, i) => forward(row.map((v) => Value.constant(v))).mul(-y[i]).add(1).relu());
  let data = Value.constant(0);
  for (const l of losses) data = data.add(l);
  data = data.mul(1 / losses.length);
  let reg = Value.constant(0);
  for (const p of params) reg = reg.add(p.mul(p));
  const total = data.add(reg.mul(alpha));
  const t1 = performance.now();
  for (const p of params) p.grad = 0;
  total.backward();
  const t2 = performance.now();
  for (const p of params) p.data -= lr * p.grad;
  const t3 = performance.now();
  loss0 ??= total.data;
  best.forward = Math.min(best.forward, t1 - t0);
  best.backward = Math.min(best.backward, t2 - t1);
  best.update = Math.min(best.update, t3 - t2);
  best.step = Math.min(best.step, t3 - t0);
}
if (Math.abs(loss0 - 1.865453195760891) > 1e-9) throw new Error(`loss at step 1 is ${loss0}, not the judge's 1.865453195760891`);
console.log(`${file.split("/").slice(-3).join("/")}${process.env.FIELDS === "1" ? " (FIELDS=1)" : ""}: minimum over ${steps} steps (ms) — forward ${best.forward.toFixed(3)}, backward ${best.backward.toFixed(3)}, update ${best.update.toFixed(3)}, step ${best.step.toFixed(3)}`);
