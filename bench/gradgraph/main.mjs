// One gradgraph benchmark process (bench/run.mjs starts these, interleaved with the anchors):
//   node [--expose-gc] bench/gradgraph/main.mjs --workload w1|w1c|w2|w2c|w2o|w2nn|w3|w4|w4c|mnist|mnistc|mnisto|heap
//        [--threads N] [--sizes 256,512] [--steps N] [--tiny] | --dump-mnist DIR
// Prints one JSON line per record (lib/common.mjs's emit). Needs `npm run build` (it measures dist/index.js).
// A bad option is one line on stderr and exit 2, before anything runs.
import { emit, arg } from "../lib/common.mjs";
import { checkOptions } from "../lib/options.mjs";
import { runWorkload, workloads } from "./index.mjs";
import { dumpMnist } from "./mnist.mjs";

function usage(message) {
  console.error(`bench/gradgraph/main.mjs: ${message}`);
  process.exit(2);
}
/** A whole number written in digits, from `min` to `max`, or undefined when the option is not given. */
const int = (name, min, max = Infinity) => {
  const s = arg(name);
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) usage(`--${name}: expected an integer ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${JSON.stringify(s)}`);
  return n;
};

const VALUED = ["workload", "threads", "sizes", "steps", "dump-mnist"], FLAGS = ["tiny"];
checkOptions(VALUED, FLAGS, usage);

const dump = arg("dump-mnist");
let options;
if (dump === undefined) {
  const workload = arg("workload");
  if (!Object.hasOwn(workloads, workload ?? "")) usage(`--workload: expected one of ${Object.keys(workloads).join(", ")}, got ${JSON.stringify(workload ?? null)}`);
  const sizes = arg("sizes")?.split(",").map(Number);
  if (sizes !== undefined && sizes.some((n) => !Number.isInteger(n) || n < 8)) usage(`--sizes: expected integers >= 8, got ${JSON.stringify(arg("sizes"))}`);
  options = { workload, tiny: process.argv.includes("--tiny"), threads: int("threads", 1, 256) ?? null, sizes, steps: int("steps", 1) };
}

const gg = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
if (dump !== undefined) {
  emit({ workload: "mnist-data", digits: await dumpMnist(gg, dump) });
} else {
  const { workload, ...o } = options;
  for (const r of await runWorkload(gg, workload, o)) emit(r);
}
