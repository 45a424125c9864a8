// What importOnnx's interpreter costs: an MLP 784-128-10 (ReLU, float32) exported with exportOnnx and imported back
// with importOnnx, its forward pass and its forward + backward pass on a batch of 64, beside the same gradgraph
// module run directly. The variants are interleaved: each round times 100 calls of each, and each figure is the
// minimum over the rounds (the first variant timed otherwise pays the thread pool's and the JIT's warm-up).
//
//   npm run build && node bench/onnx-import.mjs [--rounds 8]
import { arg } from "./lib/common.mjs";

const { nn, randn } = await import("../packages/gradgraph/dist/index.js");
const { exportOnnx, importOnnx } = await import("../packages/onnx/dist/index.js");
const rounds = Number(arg("rounds", "8"));

const net = new nn.MLP([784, 128, 10], "relu", { seed: 0 });
const x = randn([64, 784], { seed: 1 });
let t = performance.now();
const bytes = exportOnnx(net, x);
const exportMs = performance.now() - t;
t = performance.now();
const imported = importOnnx(bytes, { constants: (name) => name.startsWith("const_") });
const importMs = performance.now() - t;

const variants = {
  "forward, module": () => net.forward(x),
  "forward, imported": () => imported.forward(x),
  "forward + backward, module": () => (net.zeroGrad(), net.forward(x).sum().backward()),
  "forward + backward, imported": () => (imported.zeroGrad(), imported.forward(x).sum().backward()),
};
const round = (f) => {
  const start = performance.now();
  for (let i = 0; i < 100; i++) f();
  return (performance.now() - start) / 100;
};
for (const f of Object.values(variants)) round(f);
const best = Object.fromEntries(Object.keys(variants).map((k) => [k, Infinity]));
for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(variants)) best[k] = Math.min(best[k], round(f));

console.log(`exportOnnx ${exportMs.toFixed(1)} ms (${bytes.length} bytes), importOnnx ${importMs.toFixed(1)} ms`);
for (const pass of ["forward", "forward + backward"]) {
  const m = best[`${pass}, module`], i = best[`${pass}, imported`];
  console.log(`${pass}: module ${(m * 1000).toFixed(0)} µs, imported ${(i * 1000).toFixed(0)} µs (${(i / m).toFixed(2)}x)`);
}
