// W2 (../../shared/peer-bench/README.md): one training step of MLP 784-256-256-10 (ReLU, softmax cross-entropy,
// batch 128, SGD lr 0.01, float32, the peers' data and initial weights), timed as the anchors time it: zero grads,
// forward, loss, backward, SGD update, loss read back. Two ways: raw tensors (the ordinary PyTorch-style eager
// loop, what the side-by-side script runs) and through nn (nn.MLP, nn.crossEntropy, nn.SGD). Both must reach the
// peers' loss at step 1. The raw-tensor step is also what heap.mjs repeats.
import { w2Data, W2, w2Flops, bench } from "../lib/common.mjs";

export const W2_LOSS_STEP1 = 2.304687;

/**
 * The raw-tensor W2 step on `gg`: returns a function that runs one step and returns the loss. `compiled`: the same
 * step through `gg.compile` (traced at the first call, replayed after; on `target` when given), the loss read back
 * outside it.
 */
export function w2Step(gg, { compiled = false, target } = {}) {
  const step = w2LossStep(gg);
  const run = compiled ? gg.compile(step, target === undefined ? {} : { target }) : step;
  return () => run().item();
}

/** The same step returning the loss tensor (what `compile` traces: reading the loss back happens outside). */
export function w2LossStep(gg) {
  const { fromTypedArray, noGrad } = gg;
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes, lr } = W2;
  const x = fromTypedArray(X, [batch, sizes[0]]);
  const y = Array.from(labels, (l) => [l]);
  const params = Ws.flatMap((W, l) => [
    fromTypedArray(W, [sizes[l], sizes[l + 1]], { requiresGrad: true }),
    fromTypedArray(bs[l], [sizes[l + 1]], { requiresGrad: true }),
  ]);
  return () => {
    for (const p of params) p.grad = null;
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = h.matmul(params[2 * l]).add(params[2 * l + 1]);
      if (l < 2) h = h.relu();
    }
    const loss = h.logSoftmax(1).gather(1, y).mean().neg();
    loss.backward();
    noGrad(() => { for (const p of params) p.assign(p.sub(p.grad.mul(lr))); });
    return loss;
  };
}

/** The same step through gradgraph's nn layer. */
function w2NnStep(gg) {
  const { nn, fromTypedArray, noGrad } = gg;
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes, lr } = W2;
  const model = new nn.MLP(sizes, "relu");
  const state = new Map();   // the peers' weights are [in, out]; Linear keeps PyTorch's [out, in]
  Ws.forEach((W, l) => {
    state.set(`${2 * l}.weight`, noGrad(() => fromTypedArray(W, [sizes[l], sizes[l + 1]]).T));
    state.set(`${2 * l}.bias`, fromTypedArray(bs[l], [sizes[l + 1]]));
  });
  model.loadParameters(state);
  const x = fromTypedArray(X, [batch, sizes[0]]);
  const y = fromTypedArray(Float32Array.from(labels), [batch]);
  const optimizer = new nn.SGD(model.parameters(), { lr });
  return () => {
    optimizer.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item();
  };
}

async function measure(makeStep, gg, variant, timing) {
  const step = makeStep(gg);
  let first = null;
  const r = await bench(() => { const v = step(); if (first === null) first = v; }, timing({ warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 2500 }));
  const ok = Math.abs(first - W2_LOSS_STEP1) <= 2e-5;
  return { workload: "W2", variant, size: "784-256-256-10 b128", loss_step1: first, gflops: +(w2Flops() / r.min_ms / 1e6).toFixed(2),
    ok, check: `loss at step 1 ${first} (reference ${W2_LOSS_STEP1})`, ...r };
}

export const w2 = (gg, { timing }) => measure(w2Step, gg, "tensor", timing);
export const w2c = (gg, { timing }) => measure((g) => w2Step(g, { compiled: true }), gg, "tensor, compiled", timing);
/** Compiled on ONNX Runtime (gradgraph-onnx's target, onnxruntime-node; gradgraph's thread count). */
export const w2o = async (gg, { timing }) => {
  const { onnxRuntime } = await import("gradgraph-onnx");
  const target = await onnxRuntime();
  return measure((g) => w2Step(g, { compiled: true, target }), gg, "tensor, compiled on ONNX Runtime", timing);
};
export const w2nn = (gg, { timing }) => measure(w2NnStep, gg, "nn", timing);
