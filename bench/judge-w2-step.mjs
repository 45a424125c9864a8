// The side-by-side judge's W2 eager step (../shared/peer-bench/side-by-side/perf-w2-mlp.sh) on one build of
// gradgraph, given as the path of its dist/index.js: prints the minimum and median ms of its timed steps. Run it
// alternately on two builds (e.g. a worktree of an earlier commit and this checkout) to compare them in one sitting.
//
//   node bench/judge-w2-step.mjs /path/to/checkout/dist/index.js
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { bench } from "./lib/common.mjs";
import { w2LossStep } from "./gradgraph/w2.mjs";

const lib = process.argv[2];
if (lib === undefined) {
  console.error("usage: node bench/judge-w2-step.mjs PATH/dist/index.js");
  process.exit(2);
}
const gg = await import(pathToFileURL(resolve(lib)).href);
// The same step as the judge's (and bench/gradgraph/w2.mjs's raw-tensor step): the loss read back.
const lossStep = w2LossStep(gg);
const step = () => lossStep().item();
const r = await bench(step, { warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 2500 });
console.log(`${lib}: min ${r.min_ms} ms, median ${r.median_ms} ms (${r.runs} steps)`);
