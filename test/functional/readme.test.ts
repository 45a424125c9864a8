/**
 * The README's "Functional transforms" example runs and prints what its comments say (`// → value`), and the
 * traced program it shows is what traceProgram prints. The block is TypeScript: it is transpiled with the
 * TypeScript compiler and run against the sources (no build needed).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";
import * as api from "../../packages/gradgraph/src/index.js";
import { traceProgram } from "../../packages/gradgraph/src/autodiff/debug.js";
import { tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
const section = readme.slice(readme.indexOf("## Functional transforms"), readme.indexOf("## Forward or reverse?"));

const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

test.each(blocks.map((b, i) => [i, b] as const))("functional example %i prints what its comments say", (_i, block) => {
  const expected: unknown[] = [];
  const source = block
    .split("\n")
    .map((line) => {
      const m = /^(\s*)console\.log\((.*)\); \/\/ → (.*)$/.exec(line);
      if (m === null) return line;
      expected.push(JSON.parse(m[3]!));
      return `${m[1]}__check(${expected.length - 1}, ${m[2]});`;
    })
    .join("\n")
    .replace(/^import \{([^}]*)\} from "gradgraph";$/m, (_all, names: string) => {
      const values = names.split(",").map((n) => n.trim()).filter((n) => n !== "" && !n.startsWith("type "));
      return `const { ${values.join(", ")} } = __api;`;
    });
  expect(source).not.toContain('from "gradgraph"');
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const got = new Map<number, unknown>();
  new Function("__api", "__check", js)(api, (i: number, v: unknown) => got.set(i, JSON.parse(JSON.stringify(v))));
  expect(expected.length).toBeGreaterThanOrEqual(3);
  expected.forEach((e, i) => expect(got.get(i), `check ${i}`).toEqual(e));
});

test("the section has its examples (transforms, then vmap and einsum)", () => {
  expect(blocks.length).toBe(2);
});

test("the traced program shown is what traceProgram prints", () => {
  const text = /```text\n([\s\S]*?)```/.exec(section)![1]!;
  const f = (x: Tensor) => x.pow(3).sum();
  expect(traceProgram(f, tensor([1, 2], { dtype: "float64" })).toString() + "\n").toBe(text);
});
