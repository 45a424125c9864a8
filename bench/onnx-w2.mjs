// W2 (one training step of MLP 784-256-256-10, batch 128, SGD, float32; bench/gradgraph/w2.mjs) compiled on the
// ONNX Runtime target (gradgraph-onnx's onnxRuntime(), onnxruntime-node, 1 thread) beside PyTorch + OpenBLAS on 1
// thread (bench/anchors/torch_bench.py), interleaved in one run: each round measures gradgraph's variants in this
// process (compiled on ONNX Runtime with and without its preallocated outputs, compiled on the built-in CPU target,
// eager; all on 1 thread), then PyTorch in a process of its own. Each figure is the minimum over every timed step of
// its rounds, as in ../shared/peer-bench.
//
//   npm run build && node bench/onnx-w2.mjs [--rounds 3]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { arg, bench, w2Flops } from "./lib/common.mjs";
import { w2LossStep, W2_LOSS_STEP1 } from "./gradgraph/w2.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const gg = await import("../packages/gradgraph/dist/index.js");
const { onnxRuntime } = await import("../packages/onnx/dist/index.js");
const OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
const rounds = Number(arg("rounds", "3"));
const timing = { warmup: 5, minRuns: 10, maxRuns: 100, budgetMs: 2500 };

gg.setNumThreads(1);
const target = await onnxRuntime({ threads: 1 });
const fresh = await onnxRuntime({ threads: 1, preallocate: false });
const variants = {
  "gradgraph compiled, ONNX Runtime target": () => gg.compile(w2LossStep(gg), { target }),
  "the same, new arrays for the weights at each step (preallocate: false)": () => gg.compile(w2LossStep(gg), { target: fresh }),
  "gradgraph compiled, CPU target": () => gg.compile(w2LossStep(gg)),
  "gradgraph eager": () => w2LossStep(gg),
};

function torch() {
  if (!existsSync(`${OPENBLAS}/libblas.so.3`)) return { skipped: `no OpenBLAS at ${OPENBLAS}` };
  const r = spawnSync("/usr/bin/python3", [here("anchors/torch_bench.py"), "--threads", "1", "--workloads", "w2"], {
    env: { ...process.env, LD_LIBRARY_PATH: OPENBLAS, OPENBLAS_NUM_THREADS: "1" }, encoding: "utf8", timeout: 120_000,
  });
  const line = r.stdout?.split("\n").find((l) => l.startsWith("{"));
  if (r.status !== 0 || line === undefined) return { skipped: `PyTorch failed: ${(r.stderr ?? "").slice(-300)}` };
  return JSON.parse(line);
}

const results = new Map(Object.keys(variants).map((k) => [k, []]));
results.set("PyTorch 1.13 + OpenBLAS, 1 thread", []);
for (let round = 0; round < rounds; round++) {
  for (const [name, make] of Object.entries(variants)) {
    const step = make();
    let first = null, second = null;
    const r = await bench(() => {
      const v = step().item();
      if (first === null) first = v;
      else if (second === null) second = v;
    }, timing);
    if (Math.abs(first - W2_LOSS_STEP1) > 2e-5) throw new Error(`${name}: loss at step 1 is ${first}, not ${W2_LOSS_STEP1}: not the same workload`);
    if (step.stats !== undefined && step.stats.replayed === 0) throw new Error(`${name}: never replayed (${step.explain()})`);
    results.get(name).push({ ...r, loss_step1: first, loss_step2: second });
  }
  const t = torch();
  if (t.skipped !== undefined) console.error(`PyTorch skipped: ${t.skipped}`);
  else {
    if (t.blas !== "openblas" || t.threads !== 1) throw new Error(`the anchor is not PyTorch+OpenBLAS on 1 thread: ${JSON.stringify(t)}`);
    results.get("PyTorch 1.13 + OpenBLAS, 1 thread").push(t);
  }
}

const min = (rs) => Math.min(...rs.map((r) => r.min_ms));
const torchMin = results.get("PyTorch 1.13 + OpenBLAS, 1 thread").length > 0 ? min(results.get("PyTorch 1.13 + OpenBLAS, 1 thread")) : null;
console.log(`W2 training step (784-256-256-10, batch 128, SGD, float32), ${rounds} interleaved rounds, ${new Date().toISOString()}`);
console.log("| runner | min ms | medians of the rounds (ms) | GFLOP/s at min | ratio to PyTorch 1t |\n|---|---|---|---|---|");
for (const [name, rs] of results) {
  if (rs.length === 0) continue;
  const m = min(rs);
  const ratio = torchMin === null ? "" : `${(m / torchMin).toFixed(2)}x`;
  console.log(`| ${name} | ${m.toFixed(3)} | ${rs.map((r) => r.median_ms.toFixed(3)).join(", ")} | ${(w2Flops() / m / 1e6).toFixed(1)} | ${ratio} |`);
}
