/** The installed executable (`bin/gradgraph`, built by `npm install`), run as a user runs it. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const bin = fileURLToPath(new URL("../../packages/cli/bin/gradgraph", import.meta.url));
const sh = (...args: string[]) => spawnSync(bin, args, { encoding: "utf8" });

test("bin/gradgraph runs the CLI and passes its exit code", () => {
  const ok = sh("grad", "f(x, y) = 1/(y + exp(-x))", "--at", "0,1", "--json");
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout)).toEqual({ value: 0.5, grad: { x: 0.25, y: -0.25 } });
  const bad = sh("grad", "1/(y + exp(-x)", "--at", "x=0,y=1");
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain("never closed");
  expect(bad.stderr).not.toContain("    at ");
});

test("`gradgraph lecture` (npm start) solves the lecture's goal", () => {
  const r = sh("lecture");
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("[∂L/∂w1, ∂L/∂b1, ∂L/∂w2, ∂L/∂b2] = [-36, -18, -12, -6]");
  expect(r.stdout).toMatch(/reverse mode \(backprop\)\s+1 sweep\s+13\s/);
  expect(r.stdout).toMatch(/forward mode\s+6 sweeps\s+34\s/);
  expect(r.stdout).toMatch(/path products\s+6 paths\s+34\s/);
  expect(r.stdout).toContain("Forward pass");
  expect(r.stdout).toContain("Backward pass");
});

test("`gradgraph lecture` ends with a short training run: Sample, Forward, Backprop, Update", () => {
  const r = sh("lecture");
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("7. Training: Sample, Forward, Backprop, Update — an MLP 2-16-16-2 learns two moons");
  for (const step of ["Sample", "Forward", "Backprop", "Update"]) expect(r.stdout).toMatch(new RegExp(`^ {4}${step} +\\S`, "m"));
  const lines = [...r.stdout.matchAll(/^ {2}epoch +(\d+) {3}loss (\d\.\d{4}) {3}accuracy (\d+\.\d)%$/gm)];
  expect(lines.map((m) => Number(m[1]))).toEqual([0, 10, 20, 30, 40]);
  const losses = lines.map((m) => Number(m[2]));
  expect(losses[4]).toBeLessThan(losses[0]! / 10);
  expect(Number(lines[4]![3])).toBeGreaterThanOrEqual(99);
});

test("a closed pipe ends the command quietly; a full disk is one line and exit code 2", async () => {
  const { spawn } = await import("node:child_process");
  const { openSync, closeSync } = await import("node:fs");
  // A long trace whose reader goes away after the first chunk (as `| head -1` does).
  const expr = "x" + "+x".repeat(4000);
  const child = spawn(bin, ["trace", expr, "--at", "x=1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.once("data", () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(stderr).toBe("");
  expect(code).toBe(0);

  const full = openSync("/dev/full", "w");
  const r = spawnSync(bin, ["grad", "x", "--at", "x=1"], { stdio: ["ignore", full, "pipe"], encoding: "utf8" });
  closeSync(full);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^gradgraph: cannot write the output: ENOSPC/);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
});
