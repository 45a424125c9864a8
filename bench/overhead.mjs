// Per-step overhead of a compiled step (issue 13: ≤ 20 µs): a 1-element SGD training step (zero grads, forward,
// loss, backward, update) and a 1-element forward function, compiled, called 20,000 times per round; the best
// round's time per call. With --target onnxruntime the training step runs on ONNX Runtime (gradgraph-onnx).
//
//   npm run build && node bench/overhead.mjs [--target cpu|onnxruntime]
import { arg } from "./lib/common.mjs";

const gg = await import("../packages/gradgraph/dist/index.js");
const targetName = arg("target", "cpu");
const target = targetName === "onnxruntime" ? await (await import("../packages/onnx/dist/index.js")).onnxRuntime() : gg.cpuTarget;
const w = gg.tensor([0.5], { requiresGrad: true });
const opt = new gg.nn.SGD([w], { lr: 0.1 });
const x = gg.tensor([2]);
const step = gg.compile((x) => {
  opt.zeroGrad();
  const l = w.mul(x).sub(1).square().sum();
  l.backward();
  opt.step();
  return l;
}, { target });
const f = gg.compile((x) => x.mul(2).add(1), { target });
const calls = 20_000;
for (const [name, fn] of [["forward, 1 element", () => f(x)], ["SGD step, 1 element", () => step(x)]]) {
  for (let i = 0; i < 2000; i++) fn();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, ((performance.now() - t0) / calls) * 1000);
  }
  console.log(`${name}, compiled on ${target.name}: ${best.toFixed(2)} µs per call (best of 5 rounds of ${calls})`);
}
if (step.stats.traced !== 1 || step.stats.eager !== 0) throw new Error(`the step was not replayed: ${JSON.stringify(step.stats)}`);
process.exit(0);
