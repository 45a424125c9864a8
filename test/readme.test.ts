/**
 * README.md shows real output: every `console` block's `$ gradgraph ...` command is run and its output compared,
 * and the library example is run with Node against the built package.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";
import { run, shellWords } from "./cli/run.js";

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

const blocks = [...readme.matchAll(/```console\n\$ (gradgraph [^\n]+)\n([\s\S]*?)```/g)].map((m) => ({
  command: m[1]!,
  output: m[2]!,
}));

test("the README has console examples", () => {
  expect(blocks.length).toBeGreaterThanOrEqual(6);
});

test.each(blocks)("$command", async ({ command, output }) => {
  const r = await run(...shellWords(command).slice(1));
  expect(r.combined).toBe(output);
});

const libraryBlocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/**
 * Runs a README block with Node against the built packages, with `extra` appended; returns its stdout lines. The
 * file is written inside the repository (test-artifacts/, ignored by git), so `import … from "gradgraph"` and
 * `"gradgraph/node"` resolve as in a user's project: through node_modules and the package's `exports`.
 */
function runBlock(block: string, extra: string): string[] {
  const artifacts = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(artifacts, "readme-"));
  const file = join(dir, "example.mjs");
  // TypeScript (type imports, annotations) is stripped first, as a user's build would.
  const js = ts.transpileModule(block, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } }).outputText;
  writeFileSync(file, js + extra);
  const r = spawnSync(process.execPath, [file], { encoding: "utf8", cwd: dir });
  rmSync(dir, { recursive: true, force: true }); // the block's own files (runs/…) too
  expect(r.stderr).toBe("");
  return r.stdout.trim().split("\n");
}

test("the scalar library example prints what the README says", () => {
  const block = libraryBlocks.find((b) => b.includes("new Value"))!;
  const [first, second] = runBlock(block, '\nconsole.log(JSON.stringify(differentiate(d, [x, y], "forward")));\n');
  expect(first).toBe("0.5 0.25 -0.25");
  expect(JSON.parse(second!)).toEqual({ value: 0.5, grads: [0.25, -0.25], multiplications: 6 });
  expect(block).toContain("{ value: 0.5, grads: [0.25, -0.25], multiplications: 6 }");
});

test("the tensor library example runs and gives W a gradient of W's shape", () => {
  const block = libraryBlocks.find((b) => b.includes("randn"))!;
  expect(block).toContain("W.grad; // ∂loss/∂W, shape [3, 2]");
  const [shape] = runBlock(block, "\nconsole.log(JSON.stringify(W.grad.shape));\n");
  expect(JSON.parse(shape!)).toEqual([3, 2]);
});

test("the install section's example prints what its comments say", () => {
  const block = libraryBlocks.find((b) => b.includes("f(x) = Σ x²"))!;
  expect(runBlock(block, "")).toEqual(["Float32Array(3) [ 2, 4, 6 ]", "[ 1, 1 ]"]);
  expect(block).toContain("// Float32Array(3) [ 2, 4, 6 ]");
});

test("every other ts block of the README runs with the published entry points, without an error", () => {
  const others = libraryBlocks.filter((b) => !["new Value", "randn", "f(x) = Σ x²"].some((k) => b.includes(k)));
  expect(others.length).toBeGreaterThanOrEqual(3);
  for (const block of others) runBlock(block, "");
});
