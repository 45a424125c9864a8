/**
 * The layers import downwards only (ARCHITECTURE.md): this test reads every source file's imports and fails on
 * one that reaches a layer it may not. The web explorer imports the public API (src/index.ts) only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** What each layer (a folder of src/) may import, besides itself. */
const allowed: Record<string, readonly string[]> = {
  core: [],
  // ops holds the op table, the algebras built from it and the generic sweeps (sweep.ts) that run on them.
  ops: ["core"],
  // backend: storage, the Backend interface, the CPU backends printing kernels from the ops' ALU definitions.
  backend: ["core", "ops"],
  scalar: ["core", "ops"],
  tensor: ["core", "ops", "backend"],
  // modes.ts on the scalar engine; gradcheck and the functional transforms on the tensor engine.
  autodiff: ["core", "ops", "scalar", "tensor"],
  nn: ["core", "ops", "backend", "scalar", "tensor", "autodiff", "render"],
  lang: ["core", "ops", "scalar", "tensor"],
  render: ["core", "ops", "scalar", "tensor", "autodiff", "lang"],
  cli: ["core", "ops", "backend", "scalar", "tensor", "autodiff", "nn", "lang", "render"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => s.startsWith("."));
}

test("every src layer imports only the layers below it", () => {
  const violations: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    const layer = rel.split("/")[0]!;
    if (!rel.includes("/")) continue; // src/index.ts: the public API re-exports everything
    const ok = allowed[layer];
    expect(ok, `layer ${layer} is not in the table`).toBeDefined();
    for (const spec of imports(file)) {
      const target = relative(src, resolve(dirname(file), spec));
      const targetLayer = target.split("/")[0]!;
      if (targetLayer === layer) continue;
      const permitted = ok!.includes(targetLayer);
      if (!permitted) violations.push(`${rel} imports ${target}`);
    }
  }
  expect(violations).toEqual([]);
});

test("the web explorer uses the public API only", () => {
  const violations: string[] = [];
  for (const file of files(join(root, "web", "src"))) {
    for (const spec of imports(file)) {
      const target = relative(root, resolve(dirname(file), spec));
      if (target.startsWith("src/") && target !== "src/index.js") violations.push(`${relative(root, file)} imports ${target}`);
    }
  }
  expect(violations).toEqual([]);
});
