// Copied from ../shared/peer-bench/peers_js/jaxjs.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), changed: import paths (packages from bench/node_modules).
// W2/W3/W4 on jax-js (@jax-js/jax). In Node 20 only the 'wasm' (default) and 'cpu' (interpreted JS)
// devices start; the wasm device is single-threaded in Node (its worker pool needs a global Web Worker).
// Usage: node jaxjs.mjs [--device wasm|cpu] [--jit 1|0] [--workloads w2,w3,w4] [--sizes 256,512,1024]
import { createRequire } from 'node:module';
import { lcg, SEEDS, W2, w2Data, w2Flops, randMatrix, w4Data, W4N, bench, emit, arg, pkgVersion } from '../lib/common.mjs';
const require = createRequire(new URL('../', import.meta.url));
const jax = await import(require.resolve('@jax-js/jax'));
const { numpy: np, nn, tree } = jax;

const device = arg('device', 'wasm');
const useJit = arg('jit', '1') === '1';
const workloads = arg('workloads', 'w2,w3,w4').split(',');
const sizes = arg('sizes', '256,512,1024').split(',').map(Number);
const available = await jax.init(device); // jax.init() with no argument throws in Node 20 (no navigator)
jax.defaultDevice(device);
const peer = `jax-js-${device}${useJit ? '-jit' : ''}`;
const version = pkgVersion('@jax-js/jax');
const info = { available_devices: available, global_Worker: typeof Worker !== 'undefined' };

if (workloads.includes('w2')) {
  const { X, labels, Ws, bs } = w2Data();
  const { batch, sizes: S, lr } = W2;
  const x = np.array(X).reshape([batch, S[0]]);
  const y = nn.oneHot(np.array(labels, { dtype: np.int32 }), 10).astype(np.float32);
  let params = {};
  for (let l = 0; l < 3; l++) {
    params['W' + l] = np.array(Ws[l]).reshape([S[l], S[l + 1]]);
    params['b' + l] = np.array(bs[l]);
  }
  const lossFn = (p, x, y) => {
    let h = nn.relu(np.matmul(x, p.W0).add(p.b0));
    h = nn.relu(np.matmul(h, p.W1).add(p.b1));
    const logits = np.matmul(h, p.W2).add(p.b2);
    return np.mean(np.sum(nn.logSoftmax(logits, -1).mul(y), -1)).neg(); // softmax cross-entropy
  };
  const trainStep = (p, x, y) => {
    const [loss, grads] = jax.valueAndGrad(lossFn)(tree.ref(p), x, y);
    const newP = tree.map((w, g) => w.sub(g.mul(lr)), p, grads);
    return [loss, newP];
  };
  const stepFn = useJit ? jax.jit(trainStep) : trainStep;
  let loss0 = null;
  const step = () => {
    const [loss, newP] = stepFn(params, x.ref, y.ref);
    params = newP;
    const v = loss.dataSync()[0]; // forces the step; params are realised by the next step's use
    if (loss0 === null) loss0 = v;
  };
  const r = await bench(step, { warmup: 3, minRuns: 5, maxRuns: 30, budgetMs: 4000 });
  await jax.blockUntilReady(params);
  emit({ workload: 'W2', peer, version, size: '784-256-256-10 b128', loss_step1: loss0,
    gflops: +(w2Flops() / r.median_ms / 1e6).toFixed(2), ...info, ...r });
}

if (workloads.includes('w3')) {
  for (const n of sizes) {
    const rnd = lcg(SEEDS.w3);
    const a = np.array(randMatrix(n, rnd)).reshape([n, n]), b = np.array(randMatrix(n, rnd)).reshape([n, n]);
    const mm = useJit ? jax.jit((a, b) => np.matmul(a, b)) : (a, b) => np.matmul(a, b);
    const r = await bench(() => { const c = mm(a.ref, b.ref); c.dataSync(); }, // dataSync() consumes (frees) c
      { warmup: 2, minRuns: 3, maxRuns: 30, budgetMs: 3000 });
    emit({ workload: 'W3', peer, version, size: n, gflops: +(2 * n ** 3 / r.median_ms / 1e6).toFixed(2), ...info, ...r });
    a.dispose(); b.dispose();
  }
}

if (workloads.includes('w4')) {
  const d = w4Data();
  const [x, y, z] = [d.x, d.y, d.z].map((a) => np.array(a));
  const f = (x, y, z) => np.sum(nn.relu(x.mul(y).add(z)));
  const vg = jax.valueAndGrad(f, { argnums: [0, 1, 2] });
  const fn = useJit ? jax.jit(vg) : vg;
  let sum0 = null;
  const r = await bench(() => {
    const [value, grads] = fn(x.ref, y.ref, z.ref);
    const s = value.dataSync()[0];
    for (const g of grads) g.dataSync();
    if (sum0 === null) sum0 = s;
  }, { warmup: 3, minRuns: 5, maxRuns: 30, budgetMs: 3000 });
  emit({ workload: 'W4', peer, version, size: W4N, value: sum0, note: 'valueAndGrad(argnums 0,1,2)', ...info, ...r });
}
