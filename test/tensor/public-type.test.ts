/**
 * The public `Tensor` type does not let users write the engine's internals: `value`, `op`, `params`, `inputs` and
 * `id` are readonly, `topoMark` (a graph walk's scratch mark) is not in the published declarations at all
 * (`@internal` + `stripInternal`); `grad`, `label` and `requiresGrad` stay writable, as in PyTorch. Checked two
 * ways: `@ts-expect-error` lines below (typechecked with the sources by `npm run typecheck`), and a consumer
 * file compiled against the built declarations (dist/, as a user of the package sees them).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";
import { tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/** Never called: tsc fails the typecheck if any marked line stops being an error. */
export function writesThatDoNotCompile(t: Tensor, other: Tensor): void {
  // @ts-expect-error value is readonly: a tensor's array changes only through assign/update
  t.value = other.value;
  // @ts-expect-error op is readonly
  t.op = null;
  // @ts-expect-error params is readonly
  t.params = {};
  // @ts-expect-error inputs is readonly
  t.inputs = [];
  // @ts-expect-error id is readonly
  t.id = 3;
  t.grad = null;
  t.label = "x";
  t.requiresGrad = true;
}

test("writing the internals is a compile error for a user of the built package; topoMark is not in its type", () => {
  const dist = fileURLToPath(new URL("../../packages/gradgraph/dist/index.js", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-public-type-"));
  const file = join(dir, "consumer.ts");
  const lines = [
    `import { tensor } from ${JSON.stringify(dist)};`,
    "const t = tensor([1, 2]), u = tensor([3, 4]);",
    "t.value = u.value;",
    "t.op = null;",
    "t.id = 3;",
    "t.topoMark = 1;",
    "t.grad = null; t.label = 'x'; t.requiresGrad = true;",
  ];
  writeFileSync(file, lines.join("\n"));
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [],
  });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ({
    line: d.file === undefined ? -1 : d.file.getLineAndCharacterOfPosition(d.start ?? 0).line,
    text: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  }));
  expect(errors).toEqual([
    { line: 2, text: "Cannot assign to 'value' because it is a read-only property." },
    { line: 3, text: "Cannot assign to 'op' because it is a read-only property." },
    { line: 4, text: "Cannot assign to 'id' because it is a read-only property." },
    { line: 5, text: "Property 'topoMark' does not exist on type 'Tensor'." },
  ]);
});

test("assign and update still replace and write the values (the engine's own writes)", () => {
  const t = tensor([1, 2]);
  t.assign(tensor([3, 4]));
  expect(t.toNested()).toEqual([3, 4]);
  t.update((o, [x]) => o.mul(x!, 2));
  expect(t.toNested()).toEqual([6, 8]);
});
