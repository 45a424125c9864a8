// One MNIST epoch as the README trains it, without augmentation: MLP 784-128-10 (ReLU), Adam lr 1e-3, batch 64,
// shuffled, on the first 7,996 of MNIST's 60,000 training digits (gradgraph's loadMnist, normalised; the size the
// bench had before the official split, so its figures stay comparable). 20 steps of warm-up, then one full
// epoch timed (sample, forward, loss, backward, update, loss read back). PyTorch runs the same epoch on the same
// digits (anchors/torch_bench.py --workloads mnist --mnist DIR, from the files dumpMnist writes).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
// MNIST's files are read by gradgraph/node (the package's entry: its build under `npm run bench`, its sources in
// the suite's bench test).
import { loadMnist } from "gradgraph/node";

const BENCH_DIGITS = 7996;

export async function mnist(gg, { tiny, compiled = false, target }) {
  const { nn } = gg;
  const { train } = await loadMnist({ normalize: true, trainLimit: tiny ? 256 : BENCH_DIGITS });
  const model = new nn.MLP([784, 128, 10], "relu", { seed: 0 });
  const optimizer = new nn.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new nn.DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 });
  const train1 = (x, y) => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const run = compiled ? gg.compile(train1, target === undefined ? {} : { target }) : train1;
  const step = ({ x, y }) => run(x, y).item();
  const losses = [];
  let warm = 0;
  for (const b of loader) if (warm++ < (tiny ? 1 : 20)) losses.push(step(b)); else break;
  const t0 = performance.now();
  let steps = 0;
  for (const b of loader) (losses.push(step(b)), steps++);
  const ms = performance.now() - t0;
  // A check that could fail: the losses are finite and Adam brings the first one down within the epoch.
  const first = losses[0], last = losses.at(-1);
  const ok = losses.every(Number.isFinite) && last < first;
  return { workload: "mnist", ...(compiled ? { variant: target === undefined ? "compiled" : "compiled on ONNX Runtime" } : {}), size: "784-128-10 b64", digits: train.x.shape[0], steps, first_loss: first, last_loss: last, ok,
    check: `loss ${first.toFixed(4)} at step 1, ${last.toFixed(4)} at the end of the epoch`,
    min_ms: +ms.toFixed(3), median_ms: +ms.toFixed(3), runs: 1, ms_per_step: +(ms / steps).toFixed(3) };
}

/** Writes the training digits for the PyTorch anchor: DIR/x.f32 ([n, 784] float32) and DIR/y.u8 ([n] labels). */
export async function dumpMnist(gg, dir) {
  const { train } = await loadMnist({ normalize: true, trainLimit: BENCH_DIGITS });
  writeFileSync(join(dir, "x.f32"), Float32Array.from(train.x.toArray()));
  writeFileSync(join(dir, "y.u8"), Uint8Array.from(train.y.toArray()));
  return train.x.shape[0];
}

export const mnistc = (gg, o) => mnist(gg, { ...o, compiled: true });
/** The epoch compiled on ONNX Runtime (gradgraph-onnx's target, onnxruntime-node; gradgraph's thread count). */
export const mnisto = async (gg, o) => {
  const { onnxRuntime } = await import("gradgraph-onnx");
  return mnist(gg, { ...o, compiled: true, target: await onnxRuntime() });
};
