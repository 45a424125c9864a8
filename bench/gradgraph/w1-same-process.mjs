// W1 profile tool (not a judge): gradgraph's W1 step (the side-by-side script's, through the public Value API)
// and the typed-array tape yardstick's step alternated in ONE process, so both see the same load: minimum, 10th
// percentile and median of each, and their ratios; the backward's minimum apart. FLOOR=1 replaces gradgraph by
// the "one object per node" floor: a 4-field handle per node over a tape reset every step (no recycling rules, no
// lecture features); FLOOR=handle the same with a 2-field handle (tape and index: no inputs, so no graph). COMPILED=1 runs the step through `compile` instead (w1.mjs's w1Setup with the scalar SGD;
// REPLAY=tape|generated|interpreted picks the replay), after 150 warm-up calls of each. N=steps (default 600).
// Run after `npm run build`: node bench/gradgraph/w1-same-process.mjs
import { lcg, SEEDS, moons, w1Params } from "../lib/common.mjs";
import { Tape } from "../anchors/tape.mjs";
import { w1Setup } from "./w1.mjs";
const gglib = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
const { Value } = gglib;
const lr = 0.05, alpha = 1e-4;
let bestBackward = Infinity;
/**
 * micrograd's demo step on a Value-like class (add, mul, relu, backward, data, grad): `leaf(x)` makes a
 * parameter, `constant(x)` an input or constant; `afterParams()` runs once the parameters exist and returns what
 * each step runs first (the floor engine resets its tape there).
 */
function valueStep(leaf, constant, afterParams = () => () => {}) {
  const rnd = lcg(SEEDS.w1); const { X, y } = moons(100, rnd);
  const layers = w1Params(rnd).map((neurons, l, all) => neurons.map((n) => ({ w: n.w.map((v) => leaf(v)), b: leaf(n.b), nonlin: l !== all.length - 1 })));
  const reset = afterParams();
  const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
  function forward(x) { for (const layer of layers) x = layer.map((n) => { let act = n.b; for (let i = 0; i < n.w.length; i++) act = act.add(n.w[i].mul(x[i])); return n.nonlin ? act.relu() : act; }); return x[0]; }
  return function step() {
    reset();
    const losses = X.map((row, i) => forward(row.map((v) => constant(v))).mul(-y[i]).add(1).relu());
    let data = constant(0); for (const l of losses) data = data.add(l); data = data.mul(1 / losses.length);
    let reg = constant(0); for (const p of params) reg = reg.add(p.mul(p));
    const total = data.add(reg.mul(alpha));
    const tb = performance.now();
    for (const p of params) p.grad = 0;
    total.backward();
    bestBackward = Math.min(bestBackward, performance.now() - tb);
    for (const p of params) p.data -= lr * p.grad;
    return total.data;
  };
}
const ggSetup = () => valueStep((v) => new Value(v), (v) => Value.constant(v));
function tapeSetup() {
  const rnd = lcg(SEEDS.w1); const { X, y } = moons(100, rnd); const layersInit = w1Params(rnd); const T = new Tape();
  const layers = layersInit.map((neurons, l) => neurons.map((n) => ({ w: n.w.map((v) => T.param(v)), b: T.param(n.b), nonlin: l !== layersInit.length - 1 })));
  const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
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
/** FLOOR=handle: the floor without the inputs (a 2-field handle: tape and index), what a node costs with no graph on it. */
const HANDLE = process.env.FLOOR === "handle";
function floorSetup() {
  const cap = 1 << 17;
  const T = { n: 0, op: new Uint8Array(cap), a: new Int32Array(cap), b: new Int32Array(cap), val: new Float64Array(cap), grad: new Float64Array(cap), np: 0 };
  class V {
    constructor(t, i, a, b) { this.t = t; this.i = i; if (!HANDLE) { this.a = a; this.b = b; } }
    get data() { return this.t.val[this.i]; } set data(v) { this.t.val[this.i] = v; }
    get grad() { return this.t.grad[this.i]; } set grad(v) { this.t.grad[this.i] = v; }
    static c(x) { const t = T, n = t.n++; t.op[n] = 0; t.val[n] = x; t.grad[n] = 0; return new V(t, n, null, null); }
    add(o) { if (!(o instanceof V)) o = V.c(o); const t = T, n = t.n++; t.op[n] = 1; t.a[n] = this.i; t.b[n] = o.i; t.val[n] = t.val[this.i] + t.val[o.i]; t.grad[n] = 0; return new V(t, n, this, o); }
    mul(o) { if (!(o instanceof V)) o = V.c(o); const t = T, n = t.n++; t.op[n] = 2; t.a[n] = this.i; t.b[n] = o.i; t.val[n] = t.val[this.i] * t.val[o.i]; t.grad[n] = 0; return new V(t, n, this, o); }
    relu() { const t = T, n = t.n++; const x = t.val[this.i]; t.op[n] = 3; t.a[n] = this.i; t.val[n] = x < 0 ? 0 : x; t.grad[n] = 0; return new V(t, n, this, null); }
    backward() { const { op, a, b, val, grad } = T; const root = this.i; grad[root] = 1;
      for (let i = root; i >= T.np; i--) { const g = grad[i]; switch (op[i]) { case 1: grad[a[i]] += g; grad[b[i]] += g; break; case 2: grad[a[i]] += val[b[i]] * g; grad[b[i]] += val[a[i]] * g; break; case 3: if (val[i] > 0) grad[a[i]] += g; break; } } }
  }
  return valueStep(V.c, V.c, () => {
    T.np = T.n;
    return () => { T.n = T.np; };
  });
}
function compiledSetup() {
  const step = gglib.compile(w1Setup(gglib, { update: "sgd" }).step, { strict: true, ...(process.env.REPLAY ? { replay: process.env.REPLAY } : {}) });
  return Object.assign(() => step().data, { explain: () => step.explain() });
}
const gg = process.env.FLOOR ? floorSetup() : process.env.COMPILED ? compiledSetup() : ggSetup(), tp = tapeSetup();
const l0 = [gg(), tp()]; if (Math.abs(l0[0] - 1.865453195760891) > 1e-9 || Math.abs(l0[1] - 1.865453195760891) > 1e-9) throw new Error("loss " + l0);
if (process.env.COMPILED) for (let k = 0; k < 150; k++) { gg(); tp(); }
const N = Number(process.env.N ?? 600); const tg = [], tt = [];
for (let k = 0; k < N; k++) { let t0 = performance.now(); gg(); tg.push(performance.now() - t0); t0 = performance.now(); tp(); tt.push(performance.now() - t0); }
tg.sort((a, b) => a - b); tt.sort((a, b) => a - b);
const q = (a, f) => a[Math.floor(a.length * f)];
console.log(`${process.env.FLOOR ? (HANDLE ? "floor, 2-field handle" : "floor") : process.env.COMPILED ? `compiled (${gg.explain().split("replayed as ")[1]})` : "gradgraph"}: backward min ${bestBackward === Infinity ? "–" : bestBackward.toFixed(3)}, step min ${tg[0].toFixed(3)} p10 ${q(tg, 0.1).toFixed(3)} med ${q(tg, 0.5).toFixed(3)} | tape min ${tt[0].toFixed(3)} p10 ${q(tt, 0.1).toFixed(3)} med ${q(tt, 0.5).toFixed(3)} | ratio min ${(tg[0] / tt[0]).toFixed(2)} p10 ${(q(tg, 0.1) / q(tt, 0.1)).toFixed(2)}`);
