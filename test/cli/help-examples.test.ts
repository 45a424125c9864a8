/**
 * Every example in a command's `--help` runs and succeeds. (`train` and `eval` examples train networks for
 * seconds to minutes and write run folders: test/cli/train.test.ts covers those commands, and `export`, which
 * needs a run folder, is in test/cli/onnx.test.ts.)
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { run, shellWords } from "./run.js";

const commands = ["grad", "trace", "dot", "paths", "jvp", "onnx"];

test.each(commands)("the examples of `gradgraph %s --help` run", async (cmd) => {
  const help = await run(cmd, "--help");
  expect(help.code).toBe(0);
  const examples = help.stdout.split("\n").filter((l) => l.startsWith("  gradgraph "));
  expect(examples.length).toBeGreaterThan(0);
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-help-"));
  for (const line of examples) {
    const argv = shellWords(line).slice(1).map((w, i, all) => (all[i - 1] === "--svg" || all[i - 1] === "-o" ? join(dir, w) : w));
    const r = await run(...argv);
    expect(r.stderr, line).not.toMatch(/error|internal/i);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
  }
});
