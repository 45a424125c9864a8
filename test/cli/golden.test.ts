/**
 * Golden files for `trace`, `trace --code python` and `dot` on the lecture's examples, through the CLI (so
 * through the parser). `UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts` rewrites them; read the diff.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { run } from "./run.js";

const examples = {
  "f-xy": ["f(x, y) = 1/(y + exp(-x))", "0,1"],
  "f-xyz": ["f(x, y, z) = (max(3*x, 0) - y)^2 + z", "1,0,-2"],
  "l-mlp": ["L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2", "2,10,-1,4,3,1"],
  "fan-out": ["w(x) = x^2 + 3*x", "2"],
} as const;

const commands = {
  trace: { args: ["trace"], ext: "trace.txt" },
  python: { args: ["trace", "--code", "python"], ext: "py" },
  ts: { args: ["trace", "--code", "ts"], ext: "ts.txt" },
  dot: { args: ["dot"], ext: "dot" },
} as const;

const cases = Object.entries(examples).flatMap(([name, [expr, at]]) =>
  Object.entries(commands).map(([kind, c]) => ({ file: `${name}.${c.ext}`, kind, argv: [c.args[0], expr, "--at", at, ...c.args.slice(1)] })),
);

test.each(cases)("$file", async ({ file, argv }) => {
  const r = await run(...argv);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const path = fileURLToPath(new URL(`./golden/${file}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    if (!process.env.UPDATE_GOLDEN) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1`);
    writeFileSync(path, r.stdout);
  }
  expect(r.stdout).toBe(readFileSync(path, "utf8"));
});
