/**
 * The code blocks of docs/*.md run, against the built package as a user installs it (`npm run build` first):
 * each page's ```ts blocks in order, in one scratch folder (so a later block, or a Python one, finds the files an
 * earlier one wrote), as Node ES modules importing "gradgraph", "gradgraph/node", "gradgraph-onnx" and
 * "onnxruntime-node". A line
 * `console.log(expr); // → value` must print that value (compared as JSON). A ```python block runs with
 * /usr/bin/python3 when `import torch` works there (CI has no PyTorch: it is skipped, saying so) and must print
 * what the ts block before it printed on its unchecked lines, numbers within float32 rounding. The tables of
 * pytorch.md are checked too: every call in a "gradgraph" column names a method or export that exists.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const docsDir = join(root, "docs");
const pages = readdirSync(docsDir).filter((f) => f.endsWith(".md")).sort();

interface Block { lang: "ts" | "python"; code: string }

function blocksOf(page: string): Block[] {
  const text = readFileSync(join(docsDir, page), "utf8");
  return [...text.matchAll(/```(ts|python)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] as Block["lang"], code: m[2]! }));
}

/** The library package, as a user installs it (its package.json `exports`: "gradgraph", "gradgraph/node", ...). */
const pkgDir = join(root, "packages", "gradgraph");

/** A scratch folder whose node_modules hold the packages (gradgraph, gradgraph-onnx) and ONNX Runtime. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-docs-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(pkgDir, join(dir, "node_modules", "gradgraph"), "dir");
  symlinkSync(join(root, "packages", "onnx"), join(dir, "node_modules", "gradgraph-onnx"), "dir");
  symlinkSync(join(root, "node_modules", "onnxruntime-node"), join(dir, "node_modules", "onnxruntime-node"), "dir");
  return dir;
}

const CHECK = /^(\s*)console\.log\((.*)\); *\/\/ → (.*)$/;

/** Runs a ts block in `dir`; returns the checks (expected, got) and the other printed lines. */
function runTs(code: string, dir: string, name: string): { checks: [unknown, unknown][]; printed: string[] } {
  const expected: unknown[] = [];
  const source = code
    .split("\n")
    .map((line) => {
      const m = CHECK.exec(line);
      if (m === null) return line;
      expected.push(JSON.parse(m[3]!));
      return `${m[1]}console.log("__check${expected.length - 1} " + JSON.stringify(${m[2]}));`;
    })
    .join("\n");
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, js);
  const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: "utf8" });
  expect(r.stderr, `${name} failed`).toBe("");
  expect(r.status).toBe(0);
  const got = new Map<number, unknown>(), printed: string[] = [];
  for (const line of r.stdout.split("\n").filter((l) => l !== "")) {
    const m = /^__check(\d+) (.*)$/.exec(line);
    if (m === null) printed.push(line);
    else got.set(Number(m[1]), JSON.parse(m[2]!));
  }
  return { checks: expected.map((e, i) => [e, got.get(i)]), printed };
}

const torchReason = (() => {
  const r = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  return r.status === 0 ? null : `skipped: /usr/bin/python3 cannot import torch (${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`;
})();

/** Numbers nested alike and equal within float32 rounding (relative 1e-5). */
function expectClose(got: unknown, want: unknown, what: string): void {
  if (typeof want === "number") {
    expect(typeof got, what).toBe("number");
    expect(Math.abs((got as number) - want), `${what}: ${String(got)} vs ${want}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got) && got.length === want.length, what).toBe(true);
    want.forEach((w, i) => expectClose((got as unknown[])[i], w, what));
  } else expect(got, what).toEqual(want);
}

test("docs/ has pages with code blocks", () => {
  expect(pages).toContain("pytorch.md");
  expect(blocksOf("pytorch.md").filter((b) => b.lang === "ts").length).toBeGreaterThanOrEqual(3);
  expect(blocksOf("pytorch.md").some((b) => b.lang === "python")).toBe(true);
});

for (const page of pages) {
  const blocks = blocksOf(page);
  if (blocks.length === 0) continue;
  describe(page, () => {
    test("every block runs and prints what its comments say", () => {
      const dir = scratch();
      let lastPrinted: string[] = [];
      blocks.forEach((b, i) => {
        const name = `block${i}`;
        if (b.lang === "ts") {
          const { checks, printed } = runTs(b.code, dir, name);
          checks.forEach(([want, got], k) => expect(got, `${page} block ${i}, check ${k}`).toEqual(want));
          lastPrinted = printed;
          return;
        }
        if (torchReason !== null) return;
        writeFileSync(join(dir, `${name}.py`), b.code);
        const r = spawnSync("/usr/bin/python3", [`${name}.py`], { cwd: dir, encoding: "utf8" });
        expect(r.stderr, `${page} python block ${i}`).toBe("");
        const printed = r.stdout.split("\n").filter((l) => l !== "");
        expect(printed.length, `${page} python block ${i} prints as many lines as the ts block before it`).toBe(lastPrinted.length);
        printed.forEach((line, k) => expectClose(JSON.parse(line), JSON.parse(lastPrinted[k]!), `${page} python block ${i}, line ${k}`));
      });
    }, 120_000);
    if (blocks.some((b) => b.lang === "python") && torchReason !== null) test.skip(torchReason, () => {});
  });
}

describe("pytorch.md's tables name what exists", () => {
  test("every call in a gradgraph column is a Tensor/Module/optimizer method or an export of gradgraph or gradgraph/node", async () => {
    const api = (await import("gradgraph")) as unknown as Record<string, unknown>;
    const node = (await import("gradgraph/node")) as unknown as Record<string, unknown>;
    const nn = api.nn as Record<string, unknown>;
    const tensorProto = (api.Tensor as { prototype: object }).prototype;
    const moduleProto = (nn.Linear as { prototype: object }).prototype; // a Module with forward
    const optimizerProto = (nn.Optimizer as { prototype: object }).prototype;
    const receivers: Record<string, object> = { x: tensorProto, a: tensorProto, y: tensorProto, p: tensorProto, loss: tensorProto, model: moduleProto, opt: optimizerProto, optimizer: optimizerProto };
    const has = (o: object, name: string) => name in o && (o as Record<string, unknown>)[name] !== undefined;
    const lines = readFileSync(join(docsDir, "pytorch.md"), "utf8").split("\n");
    const missing: string[] = [];
    let column = -1, checked = 0;
    for (const line of lines) {
      if (!line.startsWith("|")) {
        column = -1;
        continue;
      }
      const cells = line.split("|").slice(1, -1).map((c) => c.trim());
      if (column === -1) {
        column = cells.indexOf("gradgraph");
        continue;
      }
      if (cells[column] === undefined || /^-+$/.test(cells[column]!)) continue;
      for (const [, code] of cells[column]!.matchAll(/`([^`]*)`/g)) {
        for (const m of code!.matchAll(/(?:new )?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\(/g)) {
          const parts = m[1]!.split(".");
          const name = parts.pop()!;
          const where = parts.join(".");
          const ok = where === "" ? has(api, name) || has(node, name) || has(moduleProto, name)
            : where === "nn" ? has(nn, name)
            : where === "functional" ? has(api.functional as object, name)
            : receivers[where] !== undefined && has(receivers[where]!, name);
          checked++;
          if (!ok) missing.push(m[0]!);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(80);
  });
});
