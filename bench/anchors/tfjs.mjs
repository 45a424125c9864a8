// Copied from ../shared/peer-bench/peers_js/tfjs.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), changed: import paths (packages from bench/node_modules).
// W2/W3/W4 on TensorFlow.js (tfjs-core + tfjs-backend-cpu or tfjs-backend-wasm).
// Pure JS 'cpu' backend vs XNNPACK/SIMD 'wasm' backend (single-threaded in Node: no Web Worker).
// Usage: node tfjs.mjs --backend cpu|wasm [--workloads w2,w3,w4] [--sizes 256,512,1024]
import { createRequire } from 'node:module';
import { lcg, SEEDS, W2, w2Data, w2Flops, randMatrix, w4Data, W4N, bench, emit, arg } from '../lib/common.mjs';
const require = createRequire(new URL('../', import.meta.url));
// The @tensorflow/tfjs union package registers the gradients (tfjs-core's node bundle does not)
// and the cpu backend; tfjs-backend-wasm adds the 'wasm' backend to the same global engine.
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const backend = arg('backend', 'cpu');
const workloads = arg('workloads', 'w2,w3,w4').split(',');
const sizes = arg('sizes', '256,512,1024').split(',').map(Number);
const info = { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
await tf.setBackend(backend);
await tf.ready();
if (backend === 'wasm') info.threads = wasm.getThreadsCount();
const peer = `tfjs-${backend}`;
const version = tf.version.tfjs;

if (workloads.includes('w2')) {
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes: S, lr } = W2;
  const x = tf.tensor2d(X, [batch, S[0]]);
  const yOneHot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32');
  const vars = Ws.flatMap((W, l) => [tf.variable(tf.tensor2d(W, [S[l], S[l + 1]])), tf.variable(tf.tensor1d(bs[l]))]);
  const opt = tf.train.sgd(lr);
  const lossFn = () => {
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = tf.add(tf.matMul(h, vars[2 * l]), vars[2 * l + 1]);
      if (l < 2) h = tf.relu(h);
    }
    return tf.losses.softmaxCrossEntropy(yOneHot, h);
  };
  let loss0 = null;
  const step = () => {
    const cost = opt.minimize(lossFn, true);
    const v = cost.dataSync()[0];
    if (loss0 === null) loss0 = v;
    cost.dispose();
  };
  const r = await bench(step, { warmup: 3, minRuns: 5, maxRuns: 30, budgetMs: 4000 });
  emit({ workload: 'W2', peer, version, size: '784-256-256-10 b128', loss_step1: loss0,
    gflops: +(w2Flops() / r.median_ms / 1e6).toFixed(2), tensors_alive: tf.memory().numTensors, ...info, ...r });
}

if (workloads.includes('w3')) {
  for (const n of sizes) {
    const rnd = lcg(SEEDS.w3);
    const a = tf.tensor2d(randMatrix(n, rnd), [n, n]), b = tf.tensor2d(randMatrix(n, rnd), [n, n]);
    const r = await bench(() => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); },
      { warmup: 2, minRuns: 3, maxRuns: 30, budgetMs: 3000 });
    emit({ workload: 'W3', peer, version, size: n, gflops: +(2 * n ** 3 / r.median_ms / 1e6).toFixed(2), ...info, ...r });
    a.dispose(); b.dispose();
  }
}

if (workloads.includes('w4')) {
  const d = w4Data();
  const [x, y, z] = [d.x, d.y, d.z].map((a) => tf.tensor1d(a));
  const f = (x, y, z) => tf.sum(tf.relu(tf.add(tf.mul(x, y), z)));
  const vg = tf.valueAndGrads(f);
  let sum0 = null;
  const r = await bench(() => {
    const out = tf.tidy(() => { const { value, grads } = vg([x, y, z]); return [value, ...grads]; });
    // force every result: tfjs computes eagerly, dataSync reads back
    const s = out[0].dataSync()[0]; for (const t of out) t.dataSync();
    if (sum0 === null) sum0 = s;
    tf.dispose(out);
  }, { warmup: 3, minRuns: 5, maxRuns: 30, budgetMs: 3000 });
  emit({ workload: 'W4', peer, version, size: W4N, value: sum0, note: 'tf.valueAndGrads: sum + grads of x,y,z', ...info, ...r });
}
