// LeNet-5 training step on gradgraph (batch 64, 1×28×28, SGD lr 0.01, float32): the gradgraph side of
// side-by-side.sh. `node gg.mjs DIST DIR write` writes the shared data (x.f32, y.u8) and weights
// (weights.safetensors, PyTorch's key names) that both sides load; `node gg.mjs DIST DIR` times steps, on 1 thread.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [dist, dir, mode] = process.argv.slice(2);
const gg = await import(pathToFileURL(dist).href);
const { nn, fromTypedArray, randn, randint, setNumThreads } = gg;
setNumThreads(1); // PyTorch runs on 1 thread too
if (mode === "write") {
  const x = randn([64, 1, 28, 28], { seed: 1 }), y = randint(0, 10, [64], { seed: 2 });
  writeFileSync(`${dir}/x.f32`, new Uint8Array(Float32Array.from(x.toArray()).buffer));
  writeFileSync(`${dir}/y.u8`, Uint8Array.from(y.toArray()));
  writeFileSync(`${dir}/weights.safetensors`, nn.encodeSafetensors(nn.lenet5({ seed: 0 }).stateDict()));
  process.exit(0);
}
const x = fromTypedArray(new Float32Array(readFileSync(`${dir}/x.f32`).buffer.slice(0)), [64, 1, 28, 28]);
const labels = Array.from(readFileSync(`${dir}/y.u8`));
const model = nn.lenet5({ seed: 123 });
model.loadStateDict(nn.decodeSafetensors(readFileSync(`${dir}/weights.safetensors`)).tensors);
const opt = new nn.SGD(model.parameters(), { lr: 0.01 });
let first = null;
const step = () => { // as the PyTorch side: zero grads, forward, cross-entropy, backward, SGD step, loss read back
  opt.zeroGrad();
  const loss = nn.crossEntropy(model.forward(x), labels);
  loss.backward();
  opt.step();
  const v = loss.item();
  if (first === null) first = v;
};
const times = [];
for (let i = 0; i < 5; i++) step();
const t0 = performance.now(), c0 = process.cpuUsage();
while (times.length < 10 || (times.length < 200 && performance.now() - t0 < 4000)) {
  const t = performance.now();
  step();
  times.push(performance.now() - t);
}
const cpu = process.cpuUsage(c0);
times.sort((a, b) => a - b);
// cpu_ms: the process's CPU time per timed step (user + system), less disturbed by other load than wall time.
console.log(JSON.stringify({ peer: "gradgraph", loss_step1: first, min_ms: times[0], median_ms: times[times.length >> 1], cpu_ms: (cpu.user + cpu.system) / 1000 / times.length, runs: times.length }));
