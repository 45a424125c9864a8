/**
 * Runs generated programs: Python through `python3`, TypeScript through the `typescript` package (type-checked
 * with the strict settings, transpiled, imported).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

export type Result = [value: number, grads: number[]];

export const hasPython = spawnSync("python3", ["--version"]).status === 0;

/**
 * Calls each program's `df` with its arguments in one `python3` process; returns [value, grads] per program.
 * Non-finite numbers come back as such.
 */
export function runPython(programs: readonly { code: string; args: readonly number[] }[]): Result[] {
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-py-"));
  programs.forEach((p, i) => writeFileSync(join(dir, `prog${i}.py`), p.code));
  const calls = programs.map((p, i) => `    import prog${i}\n    out.append(conv(prog${i}.df(${p.args.map((a) => pyNumber(a)).join(", ")})))`);
  const driver = [
    "import json, math, sys",
    `sys.path.insert(0, ${JSON.stringify(dir)})`,
    "def num(v):",
    "    v = float(v)",
    "    return v if math.isfinite(v) else repr(v)",
    "def conv(r):",
    "    value, grads = r",
    "    return [num(value), [num(g) for g in grads]]",
    "out = []",
    "if True:",
    ...calls,
    "print(json.dumps(out))",
  ].join("\n");
  const text = execFileSync("python3", ["-c", driver], { encoding: "utf8" });
  const parsed = JSON.parse(text) as [number | string, (number | string)[]][];
  const back = (v: number | string) => (typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN);
  return parsed.map(([v, gs]) => [back(v), gs.map(back)]);
}

function pyNumber(x: number): string {
  if (Number.isNaN(x)) return "float('nan')";
  if (!Number.isFinite(x)) return x > 0 ? "float('inf')" : "float('-inf')";
  return String(x);
}

const STRICT: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  noUnusedParameters: false,
  types: [],
  lib: ["lib.es2022.d.ts"],
};

/** Type errors of a TypeScript program under strict settings (empty when it type-checks). */
export function typeErrors(code: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-ts-"));
  const file = join(dir, "df.ts");
  writeFileSync(file, code);
  const program = ts.createProgram([file], STRICT);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** Transpiles a TypeScript program and imports it as an ES module. */
export async function importTs(code: string): Promise<{ df: (...args: number[]) => Result }> {
  const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-js-"));
  const file = join(dir, "df.mjs");
  writeFileSync(file, js);
  return (await import(pathToFileURL(file).href)) as { df: (...args: number[]) => Result };
}
