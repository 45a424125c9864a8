/**
 * The ```ts blocks of README.md, docs/*.md and the library's README type-check as a TypeScript user pastes them:
 * strict, `nodenext`, against the built package's .d.ts (`npm run build` first). The other tests run the blocks
 * as JavaScript, which would not notice `(x) => ...` being an implicit any, or a subclass clashing with a base class.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const pages = ["README.md", "packages/gradgraph/README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

test("every ```ts block type-checks (strict, nodenext) against the package's types", () => {
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-doc-types-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(join(root, "packages", "gradgraph"), join(dir, "node_modules", "gradgraph"), "dir");
    // docs/onnx.md's blocks import gradgraph-onnx and onnxruntime-node
    symlinkSync(join(root, "packages", "onnx"), join(dir, "node_modules", "gradgraph-onnx"), "dir");
    for (const dep of ["onnxruntime-node", "onnxruntime-common"]) symlinkSync(join(root, "node_modules", dep), join(dir, "node_modules", dep), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const files = new Map<string, string>();
    for (const page of pages) {
      const blocks = [...readFileSync(join(root, page), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
      blocks.forEach((code, i) => {
        const file = join(dir, `${page.replace(/[^\w]/g, "_")}_${i + 1}.ts`);
        writeFileSync(file, `${code}\nexport {};\n`);
        files.set(file, `${page} block ${i + 1}`);
      });
    }
    expect(files.size).toBeGreaterThan(10);
    const program = ts.createProgram([...files.keys()], {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file === undefined ? "" : `${files.get(d.file.fileName) ?? d.file.fileName}, line ${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `;
      return where + ts.flattenDiagnosticMessageText(d.messageText, " ");
    });
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
