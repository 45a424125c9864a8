#!/usr/bin/env bash
# LeNet-5 training step (batch 64, 1x28x28, conv(6,5)-pool-conv(16,5)-pool-fc120-fc84-fc10, ReLU, cross-entropy,
# SGD lr 0.01, float32): gradgraph against PyTorch 1.13 on 1 thread (OpenBLAS where installed), interleaved, three
# processes each, the same data and weights (written by gradgraph, loaded by both; the loss at step 1 must agree);
# each side's figure is the minimum over all its timed steps. Run from the checkout after `npm run build`:
#   bash bench/lenet/side-by-side.sh
set -eu
H="$(dirname "$(readlink -f "$0")")"
OB=/usr/lib/x86_64-linux-gnu/openblas-pthread
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
node "$H/gg.mjs" "$PWD/dist/index.js" "$d" write
for i in 1 2 3; do
  timeout 60 node "$H/gg.mjs" "$PWD/dist/index.js" "$d" >> "$d/gg.jsonl"
  LD_LIBRARY_PATH=$OB OPENBLAS_NUM_THREADS=1 timeout 60 /usr/bin/python3 "$H/torch_lenet.py" "$d" >> "$d/pt.jsonl"
done
node - "$d" <<'JS'
const fs = require("node:fs");
const read = (f) => fs.readFileSync(`${process.argv[2]}/${f}`, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const gg = read("gg.jsonl"), pt = read("pt.jsonl");
const l0 = pt[0].loss_step1;
for (const r of [...gg, ...pt]) if (Math.abs(r.loss_step1 - l0) > 1e-4) { console.log(`LeNet: ${r.peer} loss at step 1 is ${r.loss_step1}, PyTorch's ${l0}: not the same workload`); process.exit(1); }
const min = (rs) => Math.min(...rs.map((r) => r.min_ms));
console.log(`LeNet medians of the 3 runs: gradgraph ${gg.map((r) => r.median_ms.toFixed(2)).join(", ")} ms; PyTorch ${pt.map((r) => r.median_ms.toFixed(2)).join(", ")} ms`);
const g = min(gg), p = min(pt);
console.log(`LeNet-5 step (loss at step 1: ${l0.toFixed(6)}): gradgraph ${g.toFixed(2)} ms vs PyTorch 1 thread ${p.toFixed(2)} ms = ${(g / p).toFixed(2)}x (min of ${gg.reduce((s, r) => s + r.runs, 0)} / ${pt.reduce((s, r) => s + r.runs, 0)} steps)`);
JS
