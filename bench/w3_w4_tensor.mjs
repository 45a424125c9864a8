// W2 (MLP 784-256-256-10 training step, batch 128, SGD), W3 (float32 square matmul) and W4 (relu(x*y+z).sum() with gradients of x, y, z; 1e6 float32 each) from
// ../../shared/peer-bench on gradgraph's tensor engine, with the same data (lib/common.mjs LCG seeds) and timer,
// so the figures can be set beside the peers' (README there). Run after `npm run build`:
//   node bench/w3_w4_tensor.mjs [--workloads w2,w3,w4] [--sizes 256,512,1024] [--matmul auto|js|wasm]
// (--matmul picks the matmul kernel: the WebAssembly SIMD one where available, or the JavaScript one, for
// before/after ratios in one session; the peer field says which when not auto.)
import { lcg, SEEDS, randMatrix, w2Data, W2, w2Flops, w4Data, W4N, bench, emit as emitRow, arg } from "../../shared/peer-bench/lib/common.mjs";
import { fromTypedArray, noGrad } from "../dist/tensor/index.js";
import { setMatmulKernel } from "../dist/tensor/kernels/matmul.js";

const workloads = arg("workloads", "w2,w3,w4").split(",");
const matmulChoice = arg("matmul", "auto");
setMatmulKernel(matmulChoice);
const emit = (row) => emitRow(matmulChoice === "auto" ? row : { ...row, peer: `${row.peer}-matmul-${matmulChoice}` });

if (workloads.includes("w2")) {
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes, lr } = W2;
  const x = fromTypedArray(X, [batch, sizes[0]]);
  const y = Array.from(labels, (l) => [l]);
  const params = Ws.flatMap((W, l) => [
    fromTypedArray(W, [sizes[l], sizes[l + 1]], { requiresGrad: true }),
    fromTypedArray(bs[l], [sizes[l + 1]], { requiresGrad: true }),
  ]);
  let first = null;
  const step = () => {
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = h.matmul(params[2 * l]).add(params[2 * l + 1]);
      if (l < 2) h = h.relu();
    }
    const loss = h.logSoftmax(1).gather(1, y).mean().neg();
    for (const p of params) p.grad = null;
    loss.backward();
    noGrad(() => { for (const p of params) p.assign(p.sub(p.grad.mul(lr))); });
    const v = loss.item();
    if (first === null) first = v;
    return v;
  };
  const r = await bench(step, { warmup: 2, minRuns: 5, maxRuns: 50, budgetMs: 4000 });
  emit({ workload: "W2", peer: "gradgraph-tensor", loss_step1: first, gflops: +(w2Flops() / r.median_ms / 1e6).toFixed(3), ...r });
}

if (workloads.includes("w3")) {
  for (const n of arg("sizes", "256,512,1024").split(",").map(Number)) {
    const rnd = lcg(SEEDS.w3);
    const A = fromTypedArray(randMatrix(n, rnd), [n, n]), B = fromTypedArray(randMatrix(n, rnd), [n, n]);
    let check = 0;
    const r = await bench(() => { check = A.matmul(B).toArray()[0]; }, { warmup: 1, minRuns: 3, maxRuns: 15, budgetMs: 3000 });
    emit({ workload: "W3", peer: "gradgraph-tensor", size: n, gflops: +((2 * n ** 3) / r.median_ms / 1e6).toFixed(3), c00: check, ...r });
  }
}

if (workloads.includes("w4")) {
  const d = w4Data();
  const x = fromTypedArray(d.x, [W4N], { requiresGrad: true });
  const y = fromTypedArray(d.y, [W4N], { requiresGrad: true });
  const z = fromTypedArray(d.z, [W4N], { requiresGrad: true });
  let value = null;
  const r = await bench(() => {
    x.grad = y.grad = z.grad = null;
    const s = x.mul(y).add(z).relu().sum();
    s.backward();
    const v = s.item();
    x.grad.toArray(); y.grad.toArray(); z.grad.toArray();
    if (value === null) value = v;
  }, { warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 3000 });
  emit({ workload: "W4", peer: "gradgraph-tensor", size: W4N, value, ...r });
}
