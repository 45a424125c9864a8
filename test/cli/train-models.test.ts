/** `gradgraph train` beyond the named datasets and MLPs: a CSV file with --label, and --model layer specs; eval reloads both. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { run } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-models-"));
const figures = (stdout: string) => stdout.split("\n").filter((l) => /^\s+(train|test)\s/.test(l));

describe("--data file.csv", () => {
  // Two blobs told apart by x + y, with a useless column in between, the label first.
  const rows = Array.from({ length: 200 }, (_, i) => {
    const c = i % 2, x = ((i * 37) % 100) / 100, y = ((i * 61) % 100) / 100;
    return `${c ? "big" : "small"},${(c * 3 + x).toFixed(2)},${i % 7},${(c * 3 + y).toFixed(2)}`;
  });
  const csv = join(dir, "blobs.csv");
  writeFileSync(csv, "kind,x,noise,y\n" + rows.join("\n") + "\n");

  test("trains on the user's table with --label, saves, and eval reloads it with the same figures", async () => {
    const out = join(dir, "blobs");
    const r = await run("train", "--data", csv, "--label", "kind", "--epochs", "20", "--out", out);
    expect(r.stderr).toContain(`Training MLP 3-32-2 (relu, 194 parameters) on ${csv} label kind (160 train / 40 test, split seed 0)`);
    expect(r.code).toBe(0);
    const test = figures(r.stdout)[1]!.trim().split(/\s+/);
    expect(test[2]).toBe("100.00%");
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.data).toEqual({ name: "csv", path: csv, label: "kind", classes: ["big", "small"], sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rows: 200, seed: 0, testFraction: 0.2, normalize: true, featureStats: { features: ["x", "noise", "y"], mean: expect.any(Array), deviation: expect.any(Array) } });
    const e = await run("eval", out);
    expect(figures(e.stdout)).toEqual(figures(r.stdout));
  });

  test.each([
    [(p: string) => ["--data", p, "--label", "colour"], "kind,x\nsmall,1\n", (p: string) => `--label colour: ${p} has no such column (its columns: kind, x)`],
    [(p: string) => ["--data", p], "x,kind\n1,a\n2\n", (p: string) => `${p}:3: 1 cells, but the header has 2 columns`],
    [(p: string) => ["--data", p], "x,kind\n1,a\nx1,b\n", (p: string) => `${p}:3: column "x" holds "x1", expected a number`],
    [(p: string) => ["--data", p, "--model", "2-8-2"], "x,kind\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n", (p: string) => `--model 2-8-2 does not fit ${p.split("/").pop()}: each sample has 1 input features, so the first size must be 1 (e.g. 1-8-2)`],
    [() => ["--data", "moons", "--label", "y"], "", () => "--label names the label column of a CSV file, not of moons"],
    [(p: string) => ["--data", p], "x,price\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n5,4.5\n6,5.5\n", (p: string) => `no test samples (test fraction 0.2 of 6 samples holds out 0 for testing and leaves 6 for training); the split is stratified by class, and each of the 6 samples has a label of its own, so no --test-fraction can split them: the label column price should name classes, each shared by several rows`],
    [(p: string) => ["--data", p], "x,kind\n1,a\n2,a\n", (p: string) => `${p}: the label column "kind" holds one value ("a") in every row; a classifier needs at least two classes`],
    [(p: string) => ["--data", p], "x,kind\n1,a\n1e39,b\n", (p: string) => `${p}:3: column "x" holds 1e39, beyond float32's range (at most about 3.4e38; --dtype float64 reads up to about 1.8e308)`],
  ])("bad input %#", async (args, text, message) => {
    const p = join(dir, `bad${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(p, text);
    const r = await run("train", ...args(p), "--epochs", "1");
    expect(r.stderr).toContain(`gradgraph: ${message(p)}`);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a missing file is exit 2", async () => {
    const r = await run("train", "--data", join(dir, "none.csv"));
    expect(r.stderr).toContain(`gradgraph: ${join(dir, "none.csv")}: no such file`);
    expect(r.code).toBe(2);
  });
});

describe("--model layer specs", () => {
  test("a layer spec on MNIST digits: trained, saved with its spec, reloaded by eval with the same figures", async () => {
    const out = join(dir, "spec");
    const r = await run("train", "--data", "mnist", "--limit", "500", "--model", "flatten-linear(32)-relu-linear(10)", "--epochs", "1", "--out", out);
    expect(r.stderr).toContain("Training flatten-linear(32)-relu-linear(10) (25450 parameters) on mnist (500 train / 10000 test)");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Trained flatten-linear\(32\)-relu-linear\(10\) on mnist: 1 epoch/);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.model).toEqual({ type: "LayerNet", spec: "flatten-linear(32)-relu-linear(10)", inputShape: [784], image: [1, 28, 28], classes: 10, dtype: "float32" });
    const e = await run("eval", out);
    expect(e.stdout).toContain(`flatten-linear(32)-relu-linear(10) from ${out} on mnist (500 train / 10000 test)`);
    expect(figures(e.stdout)).toEqual(figures(r.stdout));
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("flatten-linear(32)-relu-linear(10), 25450 parameters, float32");
  });

  test("--act with a layer spec is said to do nothing (the spec names its activations); the run goes on", async () => {
    const r = await run("train", "--data", "moons", "--model", "linear(8)-relu-linear(2)", "--act", "tanh", "--epochs", "1");
    expect(r.stderr).toContain("note: --act tanh: a layer spec names its own activations (e.g. conv(6,5)-tanh-…); --act applies to MLP sizes only\n");
    expect(r.code).toBe(0);
    const plain = await run("train", "--data", "moons", "--model", "linear(8)-relu-linear(2)", "--epochs", "1");
    expect(plain.stderr).not.toContain("--act");
  });

  test("--resume continues a layer-spec run and a CSV run from their folders", async () => {
    const out = join(dir, "spec-resume");
    expect((await run("train", "--data", "mnist", "--limit", "200", "--model", "flatten-linear(16)-relu-linear(10)", "--epochs", "1", "--out", out)).code).toBe(0);
    const r = await run("train", "--resume", out, "--epochs", "2");
    expect(r.stderr).toContain(`Resuming ${out} at epoch 2`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Trained flatten-linear\(16\)-relu-linear\(10\) on mnist: 2 epochs/);
    const csv = join(dir, "resume.csv");
    writeFileSync(csv, "a,b,c\n" + Array.from({ length: 40 }, (_, i) => `${i % 5},${i % 3},${i % 2}`).join("\n") + "\n");
    const c = join(dir, "csv-resume");
    expect((await run("train", "--data", csv, "--label", "a", "--epochs", "1", "--out", c)).code).toBe(0);
    const rc = await run("train", "--resume", c, "--epochs", "2");
    expect(rc.code).toBe(0);
    expect(JSON.parse(readFileSync(join(c, "config.json"), "utf8")).data).toMatchObject({ name: "csv", path: csv, label: "a" });
  });

  test.each([
    [["--data", "mnist", "--model", "conv(6,30)-flatten-linear(10)"], "--model conv(6,30)-flatten-linear(10): conv(6,30) has a 30×30 kernel, larger than its input of 28×28"],
    [["--data", "moons", "--model", "linear(3)"], "--model linear(3): the network ends in shape [3], but the data has 2 classes: end with linear(2)"],
    [["--data", "moons", "--model", "conv(2,1)-flatten-linear(2)"], "--model conv(2,1)-flatten-linear(2): conv(2,1) takes images [channels, height, width], got a sample of shape [2]"],
    [["--data", "moons", "--model", "foo"], '--model foo: unknown layer "foo"'],
  ])("bad input: %j", async (args, message) => {
    const r = await run("train", ...args, "--epochs", "1");
    expect(r.stderr).toContain(`gradgraph: ${message}`);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("    at ");
  });

  test("--help documents the spec language", async () => {
    const r = await run("train", "--help");
    expect(r.stdout).toContain("conv(N,K[,stride=S][,pad=P])");
    expect(r.stdout).toContain("cnn                    = conv(6,5,pad=2)-relu-maxpool(2)");
  });
});
