/**
 * Runs every program in examples/ as a user would (they import "gradgraph" and "gradgraph/node", resolved to the
 * built package: `npm run build` first) and checks what it prints: the CSV classifier's accuracy, the attention
 * module's loss and its reload, the physics Hessian against finite differences and the analytic eigenvalues,
 * the Web Worker's training in Debian's Chromium (a vite build of the example's page), and weights moved to
 * PyTorch and back (the PyTorch half only where /usr/bin/python3 has torch).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { CHROMIUM, HAS_CHROMIUM, inChromium } from "./chromium.js";

const ROOT = resolve(import.meta.dirname, "..");
const run = promisify(execFile);
/** Runs `node examples/<file> ...args` from the repository root; its stdout. */
const example = async (file: string, ...args: string[]) => (await run(process.execPath, [join("examples", file), ...args], { cwd: ROOT })).stdout;
/** The number after `label` in `text`. */
const num = (text: string, label: string) => {
  const m = new RegExp(`${label} (-?[0-9.e+-]+)`).exec(text);
  if (m === null) throw new Error(`no "${label} <number>" in:\n${text}`);
  return Number(m[1]);
};
const tmp = () => mkdtempSync(join(tmpdir(), "gradgraph-examples-"));

const PYTHON = "/usr/bin/python3";
const torchMissing = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return null;
  } catch {
    return `${PYTHON} cannot import torch (Debian: apt-get install -y python3-torch)`;
  }
})();
if (torchMissing !== null) console.warn(`test/examples.test.ts: the PyTorch half of examples/pytorch is SKIPPED: ${torchMissing}`);

if (!HAS_CHROMIUM) console.warn(`test/examples.test.ts: examples/worker is SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe("examples/", () => {
  test("csv-classifier: trains on the committed CSV and classifies the held-out rows", async () => {
    const out = await example("csv-classifier.mjs");
    expect(out).toContain("180 rows, features weight_g, diameter_cm, hue_deg; classes apple, lemon, orange");
    expect(num(out, "train loss")).toBeGreaterThan(num(out, "->") * 3);
    expect(num(out, "test accuracy")).toBeGreaterThan(0.8);
    expect(out).toMatch(/weight_g 160, diameter_cm 7.6, hue_deg 24: apple/);
  }, 60_000);

  test("attention-module: a Module subclass with attention learns, saves with saveModule and loads back identical", async () => {
    const dir = join(tmp(), "max-finder");
    const out = await example("attention-module.mjs", dir);
    expect(out).toContain("position [6,16], query [1,1,16], embed.weight [16,1]");
    expect(out).toContain("attention.in_proj_weight [48,16]");
    expect(num(out, "last 10 steps")).toBeLessThan(num(out, "first 10 steps") / 10);
    expect(out).toContain(`saved to ${dir}; reloaded outputs identical`);
    expect(readdirSync(dir).sort()).toEqual(["config.json", "model.safetensors"]);
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).model).toEqual({ seq: 6, embed: 16, heads: 2, type: "MaxFinder" });
  }, 60_000);

  test("physics-hessian: the Hessian matches central differences and the analytic vibration modes", async () => {
    const out = await example("physics-hessian.mjs");
    expect(num(out, "central differences: max \\|difference\\|")).toBeLessThan(1e-6);
    expect(out).toContain("eigenvalues: 0.000000, 0.000000, 0.000000, 3.000000, 3.000000, 6.000000");
    expect(num(out, "6.000000; max \\|difference\\|")).toBeLessThan(1e-9);
  }, 60_000);

  test.skipIf(!HAS_CHROMIUM)("worker: a vite build of the page trains in a Web Worker in Chromium; the loss falls", async () => {
    const dist = tmp();
    await run(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "examples/worker", "--outDir", dist, "--emptyOutDir", "--logLevel", "error", "--base", "./"], { cwd: ROOT });
    await inChromium(dist, "index.html", async (page, errors) => {
      await page.waitForSelector("#result[data-done]", { timeout: 60_000 });
      const text = (await page.textContent("#result")) ?? "";
      expect(errors).toEqual([]);
      expect(num(text, "final loss")).toBeLessThan(num(text, "first epoch") / 2);
      expect(num(text, "accuracy")).toBeGreaterThan(0.9);
    });
  }, 120_000);

  test("pytorch: gradgraph saves a state dict named as torch.nn's; PyTorch loads it, trains, and the weights come back exactly", async (ctx) => {
    const dir = tmp();
    const exported = await example("pytorch/export.mjs", dir);
    expect(exported).toContain(`wrote ${dir}/gradgraph.safetensors: 0.weight, 0.bias, 2.weight, 2.bias`);
    if (torchMissing !== null) {
      ctx.skip(`the PyTorch half: ${torchMissing}`);
      return;
    }
    const torchOut = (await run(PYTHON, [join("examples", "pytorch", "roundtrip.py"), dir], { cwd: ROOT })).stdout;
    expect(torchOut).toContain("torch.nn.Sequential loaded 0.weight, 0.bias, 2.weight, 2.bias");
    expect(num(torchOut, "outputs vs gradgraph's: max \\|difference\\|")).toBeLessThan(1e-5);
    const back = await example("pytorch/import.mjs", dir);
    expect(back).toContain("weights read back exactly: true");
    expect(num(back, "vs PyTorch's: max \\|difference\\|")).toBeLessThan(1e-5);
  }, 60_000);
});
