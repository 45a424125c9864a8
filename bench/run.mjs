// `npm run bench`: gradgraph's benchmarks on the peer-bench workloads (../shared/peer-bench), run in one process
// tree beside the plain-JavaScript yardsticks shipped there, so the machine's noise hits both alike. Prints each
// JSON line as it comes, then a table of medians and ratios (yardstick time / gradgraph time: > 1 means faster).
// The peers that need their own packages (tfjs, jax-js, PyTorch) are run from ../shared/peer-bench/ by hand;
// their figures for this machine are in its README.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const peer = (p) => here(`../../shared/peer-bench/${p}`);
if (!existsSync(here("../dist/index.js"))) {
  console.error("bench: build first (npm run build)");
  process.exit(2);
}
if (!existsSync(peer("lib/common.mjs"))) {
  console.error("bench: ../shared/peer-bench is missing; the workloads' data and timer come from there");
  process.exit(2);
}

const runs = [
  { file: here("w1_scalar.mjs"), args: [] },
  { file: peer("w1_scalar/w1_plainjs.mjs"), args: [] },
  { file: peer("w1_scalar/w1_tape.mjs"), args: [] },
  { file: here("w3_w4_tensor.mjs"), args: [] },
  { file: peer("w3_matmul/plainjs.mjs"), args: [] },
  { file: peer("w4_elementwise/plainjs.mjs"), args: [] },
  { file: here("nn_train.mjs"), args: [] },
];

const records = [];
for (const r of runs) {
  const out = spawnSync(process.execPath, [r.file, ...r.args], { encoding: "utf8" });
  if (out.status !== 0) {
    console.error(`bench: ${r.file} failed:\n${out.stderr}`);
    process.exit(1);
  }
  for (const line of out.stdout.split("\n").filter((l) => l.startsWith("{"))) {
    console.log(line);
    records.push(JSON.parse(line));
  }
}

const label = (r) => `${r.workload} ${r.peer ?? r.variant ?? ""} ${r.size ?? r.n ?? ""}`.replace(/\s+/g, " ").trim();
console.log("\n| workload | median ms | GFLOP/s |\n| --- | --- | --- |");
for (const r of records) {
  console.log(`| ${label(r)} | ${r.median_ms ?? ""} | ${r.gflops ?? r.gflop_s ?? ""} |`);
}
