// The side-by-side judge's W2 eager step (../shared/peer-bench/side-by-side/perf-w2-mlp.sh) on one build of
// gradgraph, given as the path of its dist/index.js: prints the minimum and median ms of its timed steps. Run it
// alternately on two builds (e.g. a worktree of an earlier commit and this checkout) to compare them in one sitting.
//
//   node bench/judge-w2-step.mjs /path/to/checkout/dist/index.js
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { bench, W2, w2Data } from "./lib/common.mjs";

const lib = process.argv[2];
if (lib === undefined) {
  console.error("usage: node bench/judge-w2-step.mjs PATH/dist/index.js");
  process.exit(2);
}
const { fromTypedArray, noGrad } = await import(pathToFileURL(resolve(lib)).href);
const { X, labels, Ws, bs } = w2Data();
const { batch, sizes, lr } = W2;
const x = fromTypedArray(X, [batch, sizes[0]]);
const y = Array.from(labels, (l) => [l]);
const params = Ws.flatMap((W, l) => [
  fromTypedArray(W, [sizes[l], sizes[l + 1]], { requiresGrad: true }),
  fromTypedArray(bs[l], [sizes[l + 1]], { requiresGrad: true }),
]);
const step = () => {
  for (const p of params) p.grad = null;
  let h = x;
  for (let l = 0; l < 3; l++) {
    h = h.matmul(params[2 * l]).add(params[2 * l + 1]);
    if (l < 2) h = h.relu();
  }
  const loss = h.logSoftmax(1).gather(1, y).mean().neg();
  loss.backward();
  noGrad(() => { for (const p of params) p.assign(p.sub(p.grad.mul(lr))); });
  loss.item();
};
const r = await bench(step, { warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 2500 });
console.log(`${lib}: min ${r.min_ms} ms, median ${r.median_ms} ms (${r.runs} steps)`);
