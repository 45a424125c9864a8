// Training-loop benchmarks on gradgraph's nn API (run after `npm run build`):
//   node bench/nn_train.mjs [--workloads mnist,w2,moons]
// - mnist: one epoch of the README's MNIST setup without augmentation (MLP 784-128-10 ReLU, Adam, batch 64,
//   7,996 digits): ms per step (Sample + Forward + Backprop + Update) and seconds per epoch.
// - w2: ../../shared/peer-bench's W2 (MLP 784-256-256-10, batch 128, SGD lr 0.01, the same data and initial
//   weights) through nn.MLP + nn.crossEntropy + nn.SGD; loss at step 1 must be the peers' 2.304687. Compare with
//   the raw-tensor W2 of bench/w3_w4_tensor.mjs to see what the nn layer costs.
// - moons: a 2-16-16-2 MLP step on a batch of 32 (overhead-dominated: many tiny kernels).
import { w2Data, W2, bench, emit, arg } from "../../shared/peer-bench/lib/common.mjs";
import * as nn from "../dist/nn/index.js";
import { fromTypedArray, noGrad } from "../dist/tensor/index.js";

const workloads = arg("workloads", "mnist,w2,moons").split(",");

if (workloads.includes("mnist")) {
  const { train } = await nn.loadMnist({ normalize: true });
  const model = new nn.MLP([784, 128, 10], "relu", { seed: 0 });
  const optimizer = new nn.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new nn.DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
  const step = ({ x, y }) => {
    const loss = nn.crossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return loss.item();
  };
  let warm = 0;
  for (const b of loader) if (warm++ < 20) step(b); else break;
  const t0 = performance.now();
  let steps = 0;
  for (const b of loader) (step(b), steps++);
  const s = (performance.now() - t0) / 1000;
  emit({ workload: "mnist-epoch", peer: "gradgraph-nn", model: "784-128-10", batch: 64, steps, seconds_per_epoch: +s.toFixed(3), ms_per_step: +((1000 * s) / steps).toFixed(3) });
}

if (workloads.includes("w2")) {
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes, lr } = W2;
  const model = new nn.MLP(sizes, "relu");
  // The peers' weights are [in, out]; Linear keeps PyTorch's [out, in].
  const state = new Map();
  Ws.forEach((W, l) => {
    state.set(`${2 * l}.weight`, noGrad(() => fromTypedArray(W, [sizes[l], sizes[l + 1]]).T));
    state.set(`${2 * l}.bias`, fromTypedArray(bs[l], [sizes[l + 1]]));
  });
  model.loadParameters(state);
  const x = fromTypedArray(X, [batch, sizes[0]]);
  const y = fromTypedArray(Float32Array.from(labels), [batch]);
  const optimizer = new nn.SGD(model.parameters(), { lr });
  let first = null;
  const r = await bench(() => {
    const loss = nn.crossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    const v = loss.item();
    if (first === null) first = v;
    return v;
  }, { warmup: 2, minRuns: 5, maxRuns: 50, budgetMs: 4000 });
  emit({ workload: "W2", peer: "gradgraph-nn", loss_step1: first, ...r });
}

if (workloads.includes("moons")) {
  const data = nn.moons(32, { seed: 0 });
  const model = new nn.MLP([2, 16, 16, 2], "relu", { seed: 0 });
  const optimizer = new nn.Adam(model.parameters(), { lr: 0.01 });
  const r = await bench(() => {
    const loss = nn.crossEntropy(model.forward(data.x), data.y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return loss.item();
  }, { warmup: 20, minRuns: 50, maxRuns: 2000, budgetMs: 3000 });
  emit({ workload: "moons-step", peer: "gradgraph-nn", model: "2-16-16-2", batch: 32, ...r });
}
