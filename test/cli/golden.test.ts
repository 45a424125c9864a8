/**
 * `trace`, `trace --code python|ts` and `dot` on the lecture's examples, through the CLI and so through the
 * parser, must print exactly the render golden files (test/render/golden), which were made from graphs built by
 * hand with the `Value` API: the expression language builds the lecture's graphs node for node.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { run } from "./run.js";

const examples = {
  "f-xy": ["f(x, y) = 1/(y + exp(-x))", "0,1"],
  // The lecture's code writes p = x * 3.
  "f-xyz": ["f(x, y, z) = (max(x*3, 0) - y)^2 + z", "1,0,-2"],
  mlp: ["L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2", "2,10,-1,4,3,1"],
  "x2-plus-3x": ["w(x) = x^2 + 3*x", "2"],
  "x-times-x": ["w(x) = x*x", "3"],
} as const;

const commands = {
  trace: { args: ["trace"], golden: (n: string) => `trace/${n}.txt` },
  python: { args: ["trace", "--code", "python"], golden: (n: string) => `code/${n}.py` },
  ts: { args: ["trace", "--code", "ts"], golden: (n: string) => `code/${n}.ts.txt` },
  dot: { args: ["dot"], golden: (n: string) => `dot/${n}.dot` },
} as const;

const cases = Object.entries(examples).flatMap(([name, [expr, at]]) =>
  Object.values(commands).map((c) => ({
    file: c.golden(name),
    argv: [c.args[0], expr, "--at", at, ...c.args.slice(1)],
  })),
);

test.each(cases)("$file", async ({ file, argv }) => {
  const r = await run(...argv);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const golden = fileURLToPath(new URL(`../render/golden/${file}`, import.meta.url));
  expect(r.stdout).toBe(readFileSync(golden, "utf8"));
});
