// W1 (../../shared/peer-bench/README.md): micrograd's demo on gradgraph's scalar engine — MLP 2-16-16-1 on 100
// moons points, SVM max-margin loss + 1e-4 L2, full batch; one step = forward + backward + SGD (lr 0.05). Inputs
// and constants are graph nodes, as in micrograd and the typed-array tape (anchors/w1_tape.mjs), so both build the
// same 65,818-node graph on the same data and must reach the same loss at step 1. `w1c` is the same step through
// `compile` (traced once, replayed on a flat tape): its update is the scalar SGD's `step()` (the trace records it;
// `p.data -= lr * p.grad` is JavaScript arithmetic a trace cannot see), the same arithmetic as the eager loop.
import { lcg, SEEDS, moons, w1Params, bench } from "../lib/common.mjs";

export const W1_LOSS_STEP1 = 1.865453195760891;

/**
 * The W1 model on `gg` (gradgraph's module, or the parts of it used: `Value`, `nn.scalar.SGD`) on `n` moons
 * points, and its step returning the loss `Value`: `update` "raw" moves the parameters by `p.data -= lr * p.grad`
 * (micrograd's loop), "sgd" by the scalar SGD's `step()` (what a trace records). The test suite uses it too.
 */
export function w1Setup(gg, { n = 100, update = "raw" } = {}) {
  const { Value } = gg;
  const rnd = lcg(SEEDS.w1);
  const { X, y } = moons(n, rnd);
  const layers = w1Params(rnd).map((neurons, l, all) =>
    neurons.map((n) => ({ w: n.w.map((v) => new Value(v)), b: new Value(n.b), nonlin: l !== all.length - 1 })));
  const params = layers.flatMap((L) => L.flatMap((n) => [...n.w, n.b]));
  const lr = 0.05, alpha = 1e-4;
  const opt = update === "sgd" ? new gg.nn.scalar.SGD(params, { lr }) : null;
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
    if (opt !== null) opt.step();
    else for (const p of params) p.data -= lr * p.grad;
    return total;
  };
  return { params, step, opt };
}

/** The W1 step on `gg`: eager, or compiled; it returns the loss `Value`. */
function w1Step(gg, { compiled = false } = {}) {
  const { step } = w1Setup(gg, { update: compiled ? "sgd" : "raw" });
  return compiled ? gg.compile(step, { strict: true }) : step;
}

async function measure(gg, timing, compiled) {
  const step = w1Step(gg, { compiled });
  let loss0 = null;
  // The compiled step runs one loop over its tape, which V8 optimizes after a few dozen calls: warm it up longer.
  const r = await bench(() => {
    const loss = step().data;
    if (loss0 === null) loss0 = loss;
  }, timing({ warmup: compiled ? 100 : 20, minRuns: 50, maxRuns: 500, budgetMs: 2500 }));
  const ok = Math.abs(loss0 - W1_LOSS_STEP1) <= 1e-9;
  return { workload: "W1", ...(compiled ? { variant: "compiled" } : {}), size: "2-16-16-1 x100", loss_step1: loss0, ok, check: `loss at step 1 ${loss0} (reference ${W1_LOSS_STEP1})`, ...r };
}

/** Runs W1 on `gg`; returns one record. */
export const w1 = (gg, { timing }) => measure(gg, timing, false);
/** W1 through `compile`: one record. */
export const w1c = (gg, { timing }) => measure(gg, timing, true);
