// One gradgraph benchmark process (bench/run.mjs starts these, interleaved with the anchors):
//   node [--expose-gc] bench/gradgraph/main.mjs --workload w1|w1c|w2|w2c|w2o|w2nn|w3|w4|w4c|mnist|mnistc|mnisto|heap
//        [--threads N] [--sizes 256,512] [--steps N] [--tiny] | --dump-mnist DIR
// Prints one JSON line per record (lib/common.mjs's emit). Needs `npm run build` (it measures dist/index.js).
import { emit, arg } from "../lib/common.mjs";
import { runWorkload } from "./index.mjs";
import { dumpMnist } from "./mnist.mjs";

const gg = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
const dump = arg("dump-mnist");
if (dump !== undefined) {
  emit({ workload: "mnist-data", digits: await dumpMnist(gg, dump) });
} else {
  const num = (s) => (s === undefined ? undefined : Number(s));
  const records = await runWorkload(gg, arg("workload"), {
    tiny: process.argv.includes("--tiny"),
    threads: num(arg("threads")) ?? null,
    sizes: arg("sizes")?.split(",").map(Number),
    steps: num(arg("steps")),
  });
  for (const r of records) emit(r);
}
