// W1 compiled profile tool (not a judge): the W1 step through `compile` (bench/gradgraph/w1.mjs's w1Setup, scalar
// SGD) and the typed-array tape yardstick's step alternated in ONE process, so both see the same load: minimum,
// 10th percentile and median of each and their ratios. REPLAY=tape|generated picks the replay; N=steps (default
// 1000, after 150 warm-up calls). Run after `npm run build`: node bench/gradgraph/w1c-same-process.mjs
import { lcg, SEEDS, moons, w1Params } from "../lib/common.mjs";
import { Tape } from "../anchors/tape.mjs";
import { w1Setup, W1_LOSS_STEP1 } from "./w1.mjs";
const gg = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
function tapeSetup() {
  const rnd = lcg(SEEDS.w1); const { X, y } = moons(100, rnd); const layersInit = w1Params(rnd); const T = new Tape();
  const layers = layersInit.map((neurons, l) => neurons.map((n) => ({ w: n.w.map((v) => T.param(v)), b: T.param(n.b), nonlin: l !== layersInit.length - 1 })));
  const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
  const lr = 0.05, alpha = 1e-4;
  function forward(x) { for (const layer of layers) { x = layer.map((n) => { let act = n.b; for (let i = 0; i < n.w.length; i++) act = T.add(act, T.mul(n.w[i], x[i])); return n.nonlin ? T.relu(act) : act; }); } return x[0]; }
  return function step() {
    T.reset();
    const losses = X.map((row, i) => T.relu(T.addc(T.mulc(forward(row.map((v) => T.leaf(v))), -y[i]), 1)));
    let data = T.leaf(0); for (const l of losses) data = T.add(data, l); data = T.mulc(data, 1 / losses.length);
    let reg = T.leaf(0); for (const p of params) reg = T.add(reg, T.mul(p, p));
    const total = T.add(data, T.mulc(reg, alpha));
    T.backward(total);
    for (const p of params) T.val[p] -= lr * T.grad[p];
    return T.val[total];
  };
}
const opts = { strict: true, ...(process.env.REPLAY ? { replay: process.env.REPLAY } : {}) };
const cstep = gg.compile(w1Setup(gg, { update: "sgd" }).step, opts);
const cg = () => cstep().data, tp = tapeSetup();
const l0 = [cg(), tp()];
if (Math.abs(l0[0] - W1_LOSS_STEP1) > 1e-9 || Math.abs(l0[1] - W1_LOSS_STEP1) > 1e-9) throw new Error("loss " + l0);
const t1 = performance.now(); cg(); const first = performance.now() - t1;
for (let k = 0; k < 150; k++) { cg(); tp(); }
const N = Number(process.env.N ?? 1000); const tg = [], tt = [];
for (let k = 0; k < N; k++) { let t0 = performance.now(); cg(); tg.push(performance.now() - t0); t0 = performance.now(); tp(); tt.push(performance.now() - t0); }
tg.sort((a, b) => a - b); tt.sort((a, b) => a - b);
const q = (a, f) => a[Math.floor(a.length * f)];
console.log(`compiled (${cstep.explain().split("replayed as ")[1]}; first replay ${first.toFixed(2)} ms): min ${tg[0].toFixed(3)} p10 ${q(tg, 0.1).toFixed(3)} med ${q(tg, 0.5).toFixed(3)} | tape min ${tt[0].toFixed(3)} p10 ${q(tt, 0.1).toFixed(3)} med ${q(tt, 0.5).toFixed(3)} | ratio min ${(tg[0] / tt[0]).toFixed(3)} p10 ${(q(tg, 0.1) / q(tt, 0.1)).toFixed(3)} med ${(q(tg, 0.5) / q(tt, 0.5)).toFixed(3)}`);
