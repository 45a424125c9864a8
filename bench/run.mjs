// `npm run bench`: gradgraph beside the anchors it can reach on this machine, in one invocation (BENCHMARKS.md,
// "Method"). Each runner — gradgraph or an anchor — runs in processes of its own, interleaved round by round, so
// the machine's noise falls on all alike; the report gives each runner's minimum and median and the ratio of
// gradgraph's time to each anchor's.
//
//   npm run bench -- [--workloads w1,w2,w3,w4,mnist,heap] [--anchors plain,torch,jax,tfjs|none] [--procs 3]
//                    [--sizes 512] [--heap-steps 2000 | --full] [--tiny] [--out FILE.md] [--json FILE.jsonl]
//
// Anchors: plain — the plain-JavaScript yardsticks (anchors/w1_tape.mjs, w3_plainjs.mjs, w4_plainjs.mjs);
// jax, tfjs — jax-js and TensorFlow.js (bench/package.json, installed into bench/node_modules on first use);
// torch — PyTorch through /usr/bin/python3 with Debian's python3-torch and libopenblas0-pthread, 1 thread (and 2
// for W3). An anchor that is not there is skipped with the reason. --full runs the heap workload for 10^5 steps.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { arg } from "./lib/common.mjs";
import { checkOptions } from "./lib/options.mjs";
import { W1_LOSS_STEP1 } from "./gradgraph/w1.mjs";
import { W2_LOSS_STEP1 } from "./gradgraph/w2.mjs";
import { heapTable, summarize, tables } from "./report.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const root = here("..");
const OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
const PYTHON = "/usr/bin/python3";
const JS_PEERS = JSON.parse(readFileSync(here("package.json"), "utf8")).devDependencies;
const ALL_WORKLOADS = ["w1", "w2", "w3", "w4", "mnist", "heap"];
const ALL_ANCHORS = ["plain", "torch", "jax", "tfjs"];

function usage(message) {
  console.error(`bench: ${message}\nusage: npm run bench -- [--workloads ${ALL_WORKLOADS.join(",")}] [--anchors ${ALL_ANCHORS.join(",")}|none] ` +
    "[--procs N] [--sizes 512] [--heap-steps N | --full] [--tiny] [--out FILE.md] [--json FILE.jsonl]");
  process.exit(2);
}
// `none` (and an empty list) only where running none is meaningful: the anchors, not the workloads.
const list = (name, all, def, noneOk = false) => {
  const v = arg(name, def);
  if (v === "none" && noneOk) return [];
  const xs = v.split(",").filter(Boolean);
  if (xs.length === 0) usage(`--${name}: expected some of ${all.join(",")}, got ${JSON.stringify(v)}`);
  for (const x of xs) if (!all.includes(x)) usage(`--${name}: expected some of ${all.join(",")}, got ${JSON.stringify(x)}`);
  return xs;
};
const posInt = (name, def) => {
  const v = Number(arg(name, String(def)));
  if (!Number.isInteger(v) || v < 1) usage(`--${name}: expected a positive integer, got ${JSON.stringify(arg(name))}`);
  return v;
};
const VALUED = ["workloads", "anchors", "procs", "sizes", "heap-steps", "out", "json"], FLAGS = ["full", "tiny"];
checkOptions(VALUED, FLAGS, usage);
const tiny = process.argv.includes("--tiny");
const workloads = list("workloads", ALL_WORKLOADS, ALL_WORKLOADS.join(","));
const wanted = list("anchors", ALL_ANCHORS, tiny ? "none" : ALL_ANCHORS.join(","), true);
const procsGiven = posInt("procs", 3); // checked with --tiny too, which runs each workload once whatever it says
const procs = tiny ? 1 : procsGiven;
const sizes = arg("sizes", "512").split(",").map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 8)) usage(`--sizes: expected integers >= 8, got ${JSON.stringify(arg("sizes"))}`);
const heapSteps = process.argv.includes("--full") ? 100_000 : posInt("heap-steps", 2000);
if (!existsSync(join(root, "dist/index.js"))) usage("dist/index.js is missing: build first (npm run build; `npm run bench` does)");

const log = (s) => process.stderr.write(`${s}\n`);
const sh = (cmd, args, o = {}) => spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...o });

// ---- which anchors are here ----------------------------------------------------------------------------------
const skipped = [];
function jsPeersReady() {
  const have = () => Object.entries(JS_PEERS).every(([name, v]) => {
    const f = join(root, "bench/node_modules", name, "package.json");
    return existsSync(f) && JSON.parse(readFileSync(f, "utf8")).version === v;
  });
  if (have()) return true;
  log("bench: installing the JavaScript peers (bench/package.json: jax-js, tfjs) into bench/node_modules, once …");
  const r = sh("npm", ["ci", "--no-audit", "--no-fund"], { cwd: here("."), timeout: 600_000 });
  if (r.status === 0 && have()) return true;
  const why = (r.error?.message ?? r.stderr ?? "").trim().split("\n").filter(Boolean).slice(-3).join(" / ");
  skipped.push(`jax-js and tfjs: could not install them (npm ci in bench/ failed${why ? `: ${why}` : ""}); is the npm registry reachable?`);
  return false;
}
function torchReady() {
  if (!existsSync(PYTHON)) return void skipped.push(`PyTorch: no ${PYTHON}`);
  if (!existsSync(join(OPENBLAS, "libblas.so.3"))) return void skipped.push(`PyTorch: Debian's libopenblas0-pthread is not installed (${OPENBLAS}; apt-get install -y python3-torch libopenblas0-pthread)`);
  const r = sh(PYTHON, ["-c", "import torch"]);
  if (r.status !== 0) return void skipped.push("PyTorch: Debian's python3-torch is not installed (apt-get install -y python3-torch libopenblas0-pthread)");
  return true;
}
const anchors = new Set(wanted.filter((a) => a === "plain"));
if ((wanted.includes("jax") || wanted.includes("tfjs")) && workloads.some((w) => ["w2", "w3", "w4"].includes(w)) && jsPeersReady()) {
  for (const a of ["jax", "tfjs"]) if (wanted.includes(a)) anchors.add(a);
}
if (wanted.includes("torch") && workloads.some((w) => w !== "w1" && w !== "heap") && torchReady()) anchors.add("torch");
for (const s of skipped) log(`bench: skipped — ${s}`);

// ---- the runners ---------------------------------------------------------------------------------------------
const probe = sh(process.execPath, ["--input-type=module", "-e",
  `const g = await import(${JSON.stringify(join(root, "dist/index.js"))}); console.log(typeof g.setNumThreads === "function")`]);
const threadsSettable = probe.stdout.trim() === "true";
const threadVariants = threadsSettable ? [1, 2] : ["default"];
// threads: 1 or 2 (set), "default" (the library's own count, named in the label), or null (W1: the scalar engine).
const gg = (workload, threads, extra = [], name = "gradgraph") => ({
  gg: true, label: `${name}${typeof threads === "number" ? ` ${threads}t` : ""}`,
  labelOf: threads === "default" && threadsSettable ? (r) => `${name} ${r.threads}t` : undefined,
  cmd: process.execPath, args: [here("gradgraph/main.mjs"), "--workload", workload, ...(typeof threads === "number" ? ["--threads", String(threads)] : []), ...(tiny ? ["--tiny"] : []), ...extra],
});
const node = (label, file, args = []) => ({ label, cmd: process.execPath, args: [here(file), ...args] });
const torch = (threads, args) => ({
  label: `PyTorch ${threads}t`, cmd: PYTHON, args: [here("anchors/torch_bench.py"), "--threads", String(threads), ...args],
  env: { LD_LIBRARY_PATH: OPENBLAS, OPENBLAS_NUM_THREADS: String(threads) },
});
const mnistDir = workloads.includes("mnist") && anchors.has("torch") ? mkdtempSync(join(os.tmpdir(), "gradgraph-bench-")) : null;
const torchIf = (threads, args) => anchors.has("torch") && torch(threads, args);
const jax = (args) => anchors.has("jax") && node("jax-js wasm jit", "anchors/jaxjs.mjs", ["--device", "wasm", "--jit", "1", ...args]);
const tfjs = (args) => anchors.has("tfjs") && node("tfjs wasm", "anchors/tfjs.mjs", ["--backend", "wasm", ...args]);
const w3 = ["--workloads", "w3", "--sizes", sizes.join(",")];
const plan = {
  w1: [gg("w1", null), gg("w1c", null, [], "gradgraph compiled"), anchors.has("plain") && node("plain-JS typed-array tape", "anchors/w1_tape.mjs")],
  w2: [...threadVariants.map((t) => gg("w2", t)), ...threadVariants.map((t) => gg("w2c", t, [], "gradgraph compiled")),
    ...threadVariants.map((t) => gg("w2o", t, [], "gradgraph compiled on ONNX Runtime")), gg("w2nn", "default", [], "gradgraph through nn"),
    torchIf(1, ["--workloads", "w2"]), jax(["--workloads", "w2"]), tfjs(["--workloads", "w2"])],
  w3: [...threadVariants.map((t) => gg("w3", t, ["--sizes", sizes.join(",")])), torchIf(1, w3), torchIf(2, w3), jax(w3), tfjs(w3),
    anchors.has("plain") && node("plain-JS blocked", "anchors/w3_plainjs.mjs", ["--sizes", sizes.join(","), "--kernels", "blocked"])],
  w4: [...threadVariants.map((t) => gg("w4", t)), ...threadVariants.map((t) => gg("w4c", t, [], "gradgraph compiled")), torchIf(1, ["--workloads", "w4"]), jax(["--workloads", "w4"]), tfjs(["--workloads", "w4"]),
    anchors.has("plain") && { ...node("plain-JS", "anchors/w4_plainjs.mjs"), labelOf: (r) => `plain-JS ${r.peer.replace("plain-js-", "")} loop` }],
  mnist: [gg("mnist", "default"), gg("mnistc", "default", [], "gradgraph compiled"), gg("mnisto", "default", [], "gradgraph compiled on ONNX Runtime"), mnistDir && torchIf(1, ["--workloads", "mnist", "--mnist", mnistDir])],
};

/** Runs one process; returns its JSON records, labelled, or null (with a message) when it failed. */
function runProcess(job, workload, timeout = 300_000) {
  const r = sh(job.cmd, job.args, { cwd: root, timeout, env: { ...process.env, ...job.env } });
  const recs = (r.stdout ?? "").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  if (r.status !== 0 || recs.length === 0) {
    const why = r.error ? r.error.message : (r.stderr || r.stdout || "").trim().split("\n").slice(-4).join("\n    ");
    log(`bench: ${job.label} (${workload}) failed (exit ${r.status ?? r.signal}):\n    ${why}`);
    return null;
  }
  return recs.map((rec) => ({ ...rec, label: job.labelOf?.(rec) ?? job.label, gg: !!job.gg, workload: rec.workload ?? workload }));
}

// ---- run, interleaved ------------------------------------------------------------------------------------------
const started = new Date();
const load0 = os.loadavg();
const records = [];
const failures = [];
if (mnistDir) {
  const d = runProcess({ label: "MNIST digits for PyTorch", cmd: process.execPath, args: [here("gradgraph/main.mjs"), "--dump-mnist", mnistDir] }, "mnist");
  if (!d) plan.mnist = plan.mnist.slice(0, 1);
}
const order = workloads.filter((w) => w !== "heap");
for (let round = 0; round < procs; round++) {
  for (const w of order) {
    const jobs = plan[w].filter(Boolean);
    for (const job of round % 2 ? [...jobs].reverse() : jobs) {   // alternate the order: no runner always goes first
      const recs = runProcess(job, w.toUpperCase());
      if (!recs) { failures.push(`${job.label} (${w})`); continue; }
      records.push(...recs);
      for (const r of recs) log(`round ${round + 1}/${procs}  ${r.workload}${r.size && w === "w3" ? ` n=${r.size}` : ""}  ${r.label}: min ${r.min_ms} ms, median ${r.median_ms} ms${r.ok === false ? `  CHECK FAILED: ${r.check}` : ""}`);
    }
  }
}
let heap = null;
if (workloads.includes("heap")) {
  log(`bench: heap over ${tiny ? 10 : heapSteps} W2 steps (one process) …`);
  const job = { ...gg("heap", null, ["--steps", String(heapSteps)]) };
  job.args = ["--expose-gc", ...job.args];
  const recs = runProcess(job, "heap", 0);
  if (recs) records.push(...recs), (heap = recs[0]); else failures.push("gradgraph (heap)");
}
if (mnistDir) rmSync(mnistDir, { recursive: true, force: true });

// ---- checks on the anchors: the same work as gradgraph's ------------------------------------------------------------
const w4ref = records.find((r) => r.gg && r.workload === "W4")?.value;
for (const r of records) {
  if (r.gg || r.ok !== undefined) continue;
  if (r.workload === "W1") Object.assign(r, { ok: Math.abs(r.loss_step1 - W1_LOSS_STEP1) <= 1e-9, check: `loss at step 1 ${r.loss_step1} (reference ${W1_LOSS_STEP1})` });
  if (r.workload === "W2") Object.assign(r, { ok: Math.abs(r.loss_step1 - W2_LOSS_STEP1) <= 2e-5, check: `loss at step 1 ${r.loss_step1} (reference ${W2_LOSS_STEP1})` });
  if (r.workload === "W4" && w4ref !== undefined && !tiny) Object.assign(r, { ok: Math.abs(r.value - w4ref) <= 1e-4 * Math.abs(w4ref), check: `sum ${r.value} (gradgraph's ${w4ref})` });
}

// ---- the report ----------------------------------------------------------------------------------------------------
const git = (...a) => sh("git", a, { cwd: root }).stdout?.trim() ?? "";
const lscpu = sh("lscpu", []).stdout ?? "", field = (name) => lscpu.match(new RegExp(`^${name}:\\s*(.+)$`, "m"))?.[1];
const cpu = `${field("Model name") ?? os.cpus()[0]?.model ?? "?"}${field("CPU family") ? ` (family ${field("CPU family")}, model ${field("Model")}` +
  `${/\bavx512f\b/.test(field("Flags") ?? "") ? ", AVX-512" : /\bavx2\b/.test(field("Flags") ?? "") ? ", AVX2" : ""})` : ""}`;
const deb = (p) => sh("dpkg-query", ["-W", "-f", "${Version}", p]).stdout?.trim() || null;
const first = (pred) => records.find(pred);
const pt = first((r) => r.label.startsWith("PyTorch")), jx = first((r) => r.label.startsWith("jax-js")), tf = first((r) => r.label.startsWith("tfjs"));
const dirty = git("status", "--porcelain", "--untracked-files=no") ? " with uncommitted changes" : "";
const versions = [
  `gradgraph ${git("rev-parse", "--short", "HEAD")}${dirty} (setNumThreads ${threadsSettable ? "exported: rows for 1 and 2 threads" : "not exported: its default threads"})`,
  `Node ${process.version}`,
  pt && `PyTorch ${pt.version} (Debian python3-torch ${deb("python3-torch")}, OpenBLAS ${deb("libopenblas0-pthread")} pthread; ${pt.blas})`,
  jx && `jax-js ${jx.version} (wasm device, jit)`,
  tf && `tfjs ${tf.version} (wasm backend, SIMD ${tf.simd}, ${tf.threads ?? 1} thread)`,
].filter(Boolean);
const rows = summarize(records);
const report = [
  `### Run of ${started.toISOString().slice(0, 16).replace("T", " ")} UTC`,
  "",
  `\`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\`: ${procs} process${procs > 1 ? "es" : ""} per runner, interleaved; ` +
    `${cpu}, ${os.cpus().length} CPUs; load average ${load0.map((x) => x.toFixed(1)).join(" ")} at the start, ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} at the end.`,
  "",
  `Versions: ${versions.join("; ")}.`,
  ...(skipped.length ? ["", ...skipped.map((x) => `Skipped: ${x}.`)] : []),
  ...(failures.length ? ["", `Failed processes: ${failures.join(", ")}.`] : []),
  "",
  tables(rows),
  heap ? heapTable(heap) : "",
].join("\n");
console.log(report);
const out = arg("out"), json = arg("json");
if (out) writeFileSync(out, report + "\n");
if (json) writeFileSync(json, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
const bad = rows.filter((r) => r.gg && r.failed.length).length + (heap && !heap.ok ? 1 : 0) + failures.filter((f) => f.startsWith("gradgraph")).length;
process.exit(bad ? 1 : 0);
