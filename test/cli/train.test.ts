/** `gradgraph train` and `gradgraph eval`: files written, figures reported again on reload, errors, Ctrl-C. */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test, vi } from "vitest";
import { decodeSafetensors } from "../../packages/gradgraph/src/nn/index.js";
import { trainConfig } from "../../packages/cli/src/train.js";
import { run } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-train-"));
const bin = fileURLToPath(new URL("../../packages/cli/bin/gradgraph", import.meta.url));

/** The figures table (the lines after the first) of train's or eval's stdout. */
const figures = (stdout: string) => stdout.split("\n").filter((l) => /^\s+(train|test)\s/.test(l));

describe("gradgraph train", () => {
  const out = join(dir, "moons");

  test("trains, prints a summary, writes model, config, metrics and report; eval reports the same figures", async () => {
    const r = await run("train", "--data", "moons", "--epochs", "30", "--seed", "1", "--out", out);
    expect(r.stderr).toContain("Training MLP 2-16-16-2 (relu, 354 parameters) on moons (400 train / 100 test, 500 points, noise 0.1, seed 0)");
    expect(r.stderr).toMatch(/epoch 30\/30 {2}batch 13\/13 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}test loss/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on moons: 30 epochs, 390 steps in \d+\.\d s\n/);
    expect(r.stdout).toContain(`Wrote ${out}: model.safetensors, config.json, metrics.csv, report.html, and the state to resume it (optimizer.safetensors, training-state.json)`);
    const [train, test] = figures(r.stdout);
    expect(train).toMatch(/^ {2}train {4}\s*0\.\d{4}\s+(9\d|100)\.\d\d%$/);

    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.model).toEqual({ type: "MLP", sizes: [2, 16, 16, 2], activation: "relu", dtype: "float32" });
    expect(config.data).toEqual({ name: "moons", n: 500, noise: 0.1, seed: 0, testFraction: 0.2 });
    expect(config.training).toMatchObject({ optimizer: "adam", lr: 0.01, epochs: 30, batch: 32, seed: 1 });
    const st = decodeSafetensors(readFileSync(join(out, "model.safetensors")));
    expect([...st.tensors.keys()]).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
    const csv = readFileSync(join(out, "metrics.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,complete");
    expect(csv).toHaveLength(31);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<title>MLP 2-16-16-2 on moons</title>");
    expect(html.match(/<svg /g)).toHaveLength(3); // loss, accuracy, decision boundary
    expect(html).toContain("Decision boundary");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);

    const e = await run("eval", out);
    expect(e.code).toBe(0);
    expect(e.stdout.split("\n")[0]).toBe(`MLP 2-16-16-2 (relu) from ${out} on moons (400 train / 100 test, 500 points, noise 0.1, seed 0)`);
    expect(figures(e.stdout)).toEqual([train, test]);
    const j = await run("eval", out, "--json");
    const parsed = JSON.parse(j.stdout);
    expect(Object.keys(parsed)).toEqual(["data", "train", "test"]);
    expect(`${(100 * parsed.test.accuracy).toFixed(2)}%`).toBe(test!.trim().split(/\s+/)[2]);
  });

  test("mnist: a short run on a few hundred digits, reloaded by eval", async () => {
    const m = join(dir, "mnist");
    const r = await run("train", "--data", "mnist", "--limit", "300", "--epochs", "1", "--batch", "50", "--out", m, "--augment", "shift", "--opt", "adamw", "--schedule", "cosine");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("on mnist (300 train / 10000 test)");
    const e = await run("eval", m);
    expect(figures(e.stdout)).toEqual(figures(r.stdout));
    expect(readFileSync(join(m, "report.html"), "utf8")).not.toContain("Decision boundary");
  });

  test("MNIST accuracy: 8,000 of the training digits, 12 epochs, reach ≥ 96% on the 10,000 official test digits", async () => {
    // The README's full recipe (60,000 digits, ≥ 98%) is too long for a test; this is its small variant.
    const r = await run("train", "--data", "mnist", "--limit", "8000", "--model", "784-128-10", "--act", "relu", "--opt", "adamw", "--lr", "2e-3", "--weight-decay", "0.05", "--epochs", "12", "--batch", "64", "--schedule", "cosine", "--augment", "shift", "--seed", "0");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("on mnist (8000 train / 10000 test)");
    const test = figures(r.stdout)[1]!.trim().split(/\s+/);
    expect(test[0]).toBe("test");
    expect(Number.parseFloat(test[2]!)).toBeGreaterThanOrEqual(96);
  }, 60_000);

  test.each([
    [["--data", "moons", "--model", "2-16-3"], "--model 2-16-3 does not fit moons: it has 2 classes, so the last size must be 2 (e.g. 2-16-2)"],
    [["--data", "mnist", "--model", "100-10", "--limit", "10"], "--model 100-10 does not fit mnist: each sample has 784 input features, so the first size must be 784 (e.g. 784-10)"],
    [["--data", "moons", "--model", "2-x-2"], "--model 2-x-2: size 2 of 4 is empty (each \"-\", \"x\" or \",\" separates two sizes); expected layer sizes joined by dashes"],
    [["--data", "moons", "--model", "2-0-2"], "--model 2-0-2: size 2 of 3 is 0; every layer needs at least 1 unit"],
    [["--data", "moons", "--model", "2--2"], "--model 2--2: size 2 of 3 is empty (each \"-\", \"x\" or \",\" separates two sizes); expected layer sizes joined by dashes"],
    [["--data", "moons", "--model", "2-1e1-2"], '--model 2-1e1-2: size 2 of 3 is "1e1", not a whole number written as digits'],
    [["--data", "moons", "--model", "2-8.0-2"], '--model 2-8.0-2: size 2 of 3 is "8.0", not a whole number written as digits'],
    [["--data", "moons", "--model", "2- 8-2"], '--model 2- 8-2: size 2 of 3 is " 8", not a whole number written as digits'],
    [["--data", "moons", "--model", "2"], "--model 2: expected layer sizes joined by dashes"],
    [["--data", "moons", "--model", "2-100000000-2"], "--model 2-100000000-2: a layer of 100000000 units is more than the 100,000 allowed"],
    [["--data", "moon"], "--data moon: unknown dataset (did you mean moons?) (expected one of moons, circles, spirals, xor, iris, mnist, or a file.csv)"],
    [["--data", "moons", "--opt", "adagrad"], "--opt adagrad: expected one of sgd, momentum, nesterov, adam, adamw"],
    [["--data", "moons", "--lr", "-1"], "--lr -1: expected a positive number"],
    [["--data", "moons", "--epochs", "1.5"], "--epochs 1.5: expected a positive integer"],
    [["--data", "moons", "--threads", "0"], "--threads 0: expected an integer from 1 to 256"],
    [["--data", "moons", "--threads", "0x2"], "--threads 0x2: expected an integer from 1 to 256"],
    [["--data", "moons", "--epochs", "1e1"], "--epochs 1e1: expected a positive integer"],
    [["--data", "moons", "--out", ""], "--out: no folder name given"],
    [["--data", "moons", "--epochs", "99999999999999999999"], "--epochs 99999999999999999999: expected a positive integer (at most 2^53 − 1)"],
    [["--data", "iris", "--noise", "0.1"], "--n and --noise are for the generated datasets"],
    [["--data", "moons", "--augment", "shift"], "--augment shift: only for image data (mnist), not moons"],
    [["--data", "moons", "--target", "gpu"], "--target gpu: expected one of cpu, onnxruntime"],
    [["--data", "moons", "--target", "onnxruntime", "--no-compile"], "--target onnxruntime runs the compiled step: it cannot go with --no-compile"],
  ])("bad input: %j", async (args, message) => {
    const r = await run("train", ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`gradgraph: ${message}`);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a bad GRADGRAPH_NUM_THREADS is exit 2 before any work, even for data too small to use the threads", async () => {
    vi.stubEnv("GRADGRAPH_NUM_THREADS", "abc");
    vi.resetModules(); // the thread count is read once, at its first use: a fresh copy of the modules reads it again
    try {
      const fresh = (await import("./run.js")).run;
      const r = await fresh("train", "--data", "xor", "--epochs", "1");
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('gradgraph: GRADGRAPH_NUM_THREADS: expected an integer from 1 to 256, got "abc"\n');
      expect(r.stdout).toBe("");
      // --threads, given, is the count: the variable is not read
      const out = join(dir, "threads-env");
      const given = await fresh("train", "--data", "xor", "--epochs", "1", "--threads", "1", "--out", out);
      expect(given.code).toBe(0);
      // eval too, whatever the data's size (it failed only on data large enough for the threads: MNIST's)
      vi.resetModules(); // --threads set the count in these modules: a fresh copy reads the variable again
      const e = await (await import("./run.js")).run("eval", out);
      expect([e.code, e.stderr, e.stdout]).toEqual([2, 'gradgraph: GRADGRAPH_NUM_THREADS: expected an integer from 1 to 256, got "abc"\n', ""]);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  test("--help on train and eval", async () => {
    const t = await run("train", "--help");
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("--data <name>");
    expect(t.stdout).toContain("--threads <n>");
    expect(t.stdout).toContain("Ctrl-C stops after the current batch");
    const e = await run("eval", "--help");
    expect(e.code).toBe(0);
    expect(e.stdout).toContain("reload a trained model");
  });
});

describe("gradgraph eval", () => {
  test("a missing folder, a corrupt weights file, a model that does not fit the data: exit 2 with a message", async () => {
    const missing = await run("eval", join(dir, "nope"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no model there (config.json not found)");
    const file = join(dir, "a-plain-file");
    writeFileSync(file, "x");
    const notDir = await run("eval", file); // was Node's "ENOTDIR: not a directory, open '…/config.json'"
    expect(notDir.stderr).toBe(`gradgraph: ${file}: not a folder (a saved model is a folder holding config.json and model.safetensors)\n`);
    expect(notDir.code).toBe(2);

    const out = join(dir, "corrupt");
    expect((await run("train", "--data", "xor", "--epochs", "2", "--out", out)).code).toBe(0);
    const weights = join(out, "model.safetensors");
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 10));
    const corrupt = await run("eval", out);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toContain(`${weights}: not a valid safetensors file: tensor `);
    expect(corrupt.stderr).toMatch(/ends at byte \d+ of a \d+-byte data section \(the file is truncated\)/);
    expect(corrupt.stderr).not.toContain("    at ");

    writeFileSync(weights, bytes);
    const spirals = await run("eval", out, "--data", "spirals");
    expect(spirals.code).toBe(2);
    expect(spirals.stderr).toContain(`the model in ${out} has 2 classes, but spirals has 3\n`);
    expect(spirals.stderr).not.toContain("e.g.");
    expect(spirals.stderr).not.toContain("retrain");
    expect((await run("eval", out, "--data", "moons")).code).toBe(0);
  });

  test("a model.safetensors linked to /dev/zero or a config.json that is a FIFO: exit 2 at once, nothing read", async () => {
    const out = join(dir, "devices");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out)).code).toBe(0);
    const weights = join(out, "model.safetensors");
    rmSync(weights);
    symlinkSync("/dev/zero", weights);
    const zero = await run("eval", out);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe(`gradgraph: cannot read the weights: ${weights}: a character device, not a regular file; only regular files are read\n`);
    const config = join(out, "config.json");
    rmSync(config);
    execFileSync("mkfifo", [config]);
    const fifo = await run("eval", out);
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toBe(`gradgraph: ${out}: cannot read the model's config: ${config}: a pipe (FIFO), not a regular file; only regular files are read\n`);
  });
});

describe("config.json is checked whole on loading", () => {
  test("bad data spec, sizes or activation: exit 2 naming the field, what was expected and what came", async () => {
    const out = join(dir, "badconfig");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out)).code).toBe(0);
    const path = join(out, "config.json");
    const good = JSON.parse(readFileSync(path, "utf8"));
    const cases: [(c: any) => void, string][] = [
      [(c) => (c.data = null), "data must be an object, got null"],
      [(c) => (c.data = { name: 3 }), "data.name must be one of moons, circles, spirals, xor, iris, mnist, csv, got 3"],
      [(c) => (c.data.noise = "x"), 'data.noise must be a non-negative number, got "x"'],
      [(c) => (c.data.n = 1e9), "data.n must be a whole number from 1 to 1,000,000, got 1000000000"],
      [(c) => (c.data.n = 2.5), "data.n must be a whole number from 1 to 1,000,000, got 2.5"],
      [(c) => (c.data.seed = -1), "data.seed must be a whole number from 0 to 4294967295 (2^32 − 1), got -1"],
      // (a saved seed past 2^32 below 2^53 is an older gradgraph's, read as the seed it used: resume.test.ts)
      [(c) => (c.data.seed = 2 ** 53), "data.seed must be a whole number from 0 to 4294967295 (2^32 − 1), got 9007199254740992"],
      [(c) => (c.data.seed = 1.5), "data.seed must be a whole number from 0 to 4294967295 (2^32 − 1), got 1.5"],
      [(c) => (c.data.testFraction = 1), "data.testFraction must be a fraction between 0 and 1, got 1"],
      [(c) => (c.data = { name: "mnist", trainLimit: "all" }), 'data.trainLimit must be a whole number from 1 to 60000, got "all"'],
      [(c) => (c.model.sizes = [2, 1e9, 2]), "model.sizes [2,1000000000,2]: a layer of 1000000000 units is more than the 100,000 allowed"],
      [(c) => (c.model.activation = "toString"), "model.activation must be one of relu"],
      [(c) => (c.training = 5), "training must be an object, got 5"],
    ];
    for (const [edit, message] of cases) {
      const c = structuredClone(good);
      edit(c);
      writeFileSync(path, JSON.stringify(c));
      const r = await run("eval", out);
      expect(r.stderr).toContain(`gradgraph: ${path}: not a gradgraph model config: ${message}`);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toContain("    at ");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    writeFileSync(path, JSON.stringify(good));
    expect((await run("eval", out)).code).toBe(0);
  });

  test("an empty training or test split is refused, not trained on or reported as NaN", async () => {
    const noTrain = await run("train", "--data", "moons", "--test-fraction", "0.999", "--epochs", "1", "--out", join(dir, "notrain"));
    expect(noTrain.stderr).toContain("gradgraph: no training samples left (test fraction 0.999 of 500 points leaves 0 for training and 500 for testing); use a smaller --test-fraction");
    expect(noTrain.code).toBe(2);
    expect(existsSync(join(dir, "notrain", "config.json"))).toBe(false);
    const noTest = await run("train", "--data", "moons", "--n", "3", "--epochs", "1");
    expect(noTest.stderr).toContain("gradgraph: no test samples (test fraction 0.2 of 3 points holds out 0 for testing and leaves 3 for training); use a larger --n or --test-fraction");
    expect(noTest.code).toBe(2);
    expect(noTest.stdout).not.toContain("NaN");
  });

  test("options that would do nothing: --momentum with adam is an error; --limit beyond MNIST and --warmup beyond the run are noted", async () => {
    for (const opt of ["adam", "adamw"]) {
      const r = await run("train", "--data", "moons", "--opt", opt, "--momentum", "0.5", "--epochs", "1");
      expect(r.stderr).toContain(`gradgraph: --momentum applies to sgd/momentum/nesterov, not ${opt}`);
      expect(r.code).toBe(2);
    }
    expect((await run("train", "--data", "moons", "--opt", "sgd", "--momentum", "0.5", "--epochs", "1")).code).toBe(0);
    const w = await run("train", "--data", "moons", "--warmup", "100", "--epochs", "2");
    expect(w.code).toBe(0);
    expect(w.stderr).toContain("note: --warmup 100: longer than the run (26 steps), so the learning rate never reaches --lr 0.01");
    expect((await run("train", "--data", "moons", "--warmup", "26", "--epochs", "2")).stderr).not.toContain("note:");
    const m = join(dir, "mnist-limit");
    const l = trainConfig({ data: "mnist", act: "relu", opt: "adam", seed: "0", schedule: "constant", dataSeed: "0", dtype: "float32", limit: "100000", out: m });
    expect(l.notes).toEqual(["--limit 100000: MNIST has only 60,000 training digits; training on all of them"]);
    expect(l.spec).toEqual({ name: "mnist", seed: 0, normalize: true });
  });

  test("a diverged run warns on stderr, says NaN in the summary, and is marked in config.json and the report (exit 0: it completed)", async () => {
    const out = join(dir, "diverged");
    const r = await run("train", "--data", "moons", "--opt", "sgd", "--lr", "1e6", "--epochs", "3", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: loss became NaN \(or infinite\) at step (\d+) \(epoch 1\): try a smaller --lr \(now 1000000\)\n/);
    expect(figures(r.stdout)[0]).toMatch(/^ {2}train\s+NaN\s+\d+\.\d\d%$/);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    const step = Number(/at step (\d+)/.exec(r.stderr)![1]);
    expect(config.results.diverged).toEqual({ step, epoch: 1 });
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("loss became NaN (or infinite)");
    const ok = await run("train", "--data", "moons", "--epochs", "1");
    expect(ok.stderr).not.toContain("warning");
  });

  test("a run diverged by a huge --weight-decay names it first in the warning, not --lr alone", async () => {
    const r = await run("train", "--data", "moons", "--n", "60", "--epochs", "1", "--weight-decay", "1e308");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: loss became NaN \(or infinite\) at step \d+ \(epoch 1\): try a smaller --weight-decay \(now 1e\+308\) or --lr \(now 0\.01\)\n/);
  });

  test("singular and plural: 1 epoch of 1 batch, 1 step", async () => {
    const out = join(dir, "one");
    const r = await run("train", "--data", "moons", "--epochs", "1", "--batch", "400", "--warmup", "1", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("1 epoch of 1 batch of 400, seed 0, 1 warmup step\n");
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on moons: 1 epoch, 1 step in /);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("adam lr 0.01, 1 epoch, batch 400");
    expect(html).not.toMatch(/\b1 (epochs|steps|batches)\b/);
    const two = await run("train", "--data", "moons", "--epochs", "2", "--batch", "200");
    expect(two.stderr).toContain("2 epochs of 2 batches of 200");
  });

  // It printed "1 epoch of 1 batch of 100000" for a batch of the 400 training points.
  test("a --batch beyond the training data is one batch of all of it, said so", async () => {
    const r = await run("train", "--data", "moons", "--epochs", "1", "--batch", "100000");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("note: --batch 100000: more than the 400 training samples, so each epoch is one batch of 400\n");
    expect(r.stderr).toContain("1 epoch of 1 batch of 400, seed 0");
  });

  test("--out that cannot be created: exit 2 at once (not Node 20's endless recursive mkdir under /proc)", async () => {
    const r = await run("train", "--data", "moons", "--epochs", "1", "--out", "/proc/nope/deeper");
    expect(r.stderr).toMatch(/^gradgraph: --out \/proc\/nope\/deeper: cannot create the folder \(\/proc\/nope: ENOENT/);
    expect(r.code).toBe(2);
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const f = await run("train", "--data", "moons", "--epochs", "1", "--out", join(file, "sub"));
    expect(f.stderr).toContain(`gradgraph: --out ${join(file, "sub")}: cannot create the folder (${file} exists and is not a folder)`);
    expect(f.code).toBe(2);
    const nested = join(dir, "new", "nested", "run");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", nested)).code).toBe(0);
    expect(existsSync(join(nested, "config.json"))).toBe(true);
  }, 10_000);

  // A seed is the generator's 32-bit state: 2^32 would give seed 0's run again, so it is refused, not wrapped.
  test("--n is bounded; seeds are whole numbers from 0 to 2^32 − 1 on the command line as in config.json", async () => {
    for (const [args, message] of [
      [["--n", "1e9"], "--n 1e9: expected a whole number of points from 1 to 1,000,000"],
      [["--data-seed", "-1"], "--data-seed -1: expected a whole number from 0 to 4294967295"],
      [["--seed", "1e20"], "--seed 1e20: expected a whole number from 0 to 4294967295"],
      [["--seed", "4294967296"], "--seed 4294967296: expected a whole number from 0 to 4294967295"],
      [["--data-seed", "99999999999999999999"], "--data-seed 99999999999999999999: expected a whole number from 0 to 4294967295"],
    ] as const) {
      const r = await run("train", "--data", "moons", "--epochs", "1", ...args);
      expect(r.stderr).toContain(`gradgraph: ${message}`);
      expect(r.code).toBe(2);
    }
  });
});

describe("Ctrl-C", () => {
  test("SIGINT stops after the current batch, still writes the model and the report, exits 130", async () => {
    const out = join(dir, "interrupted");
    const child = spawn(bin, ["train", "--data", "spirals", "--epochs", "100000", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      let sent = false;
      child.stderr.on("data", (d) => {
        stderr += d;
        // After the first epoch's progress line, interrupt.
        if (!sent && /epoch 1\/100000/.test(stderr)) {
          sent = true;
          child.kill("SIGINT");
        }
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(stderr).toContain("stopping after this batch");
    expect(code).toBe(130);
    expect(stderr).toMatch(/gradgraph: stopped by Ctrl-C in epoch \d+ of 100000, after \d+ of \d+ steps; the model and report are in /);
    expect(stdout).toMatch(/^Stopped MLP 2-64-64-3 on spirals: \d+ epochs? and (part of another|no more), \d+ steps/);
    for (const f of ["model.safetensors", "config.json", "metrics.csv", "report.html"]) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("stopped by Ctrl-C");
    const e = await run("eval", out);
    expect(e.code).toBe(0);
    expect(figures(e.stdout)).toEqual(figures(stdout));
  });
});

/** Runs the real CLI with `GRADGRAPH_TEST_PAUSE` set: it says `paused at PHASE` and waits there for a signal. */
function trainPausing(pause: string, ...args: string[]) {
  const child = spawn(bin, ["train", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GRADGRAPH_TEST_PAUSE: pause } });
  let stdout = "", stderr = "";
  const waiting: [string, () => void][] = [];
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => {
    stderr += d;
    for (const [i, [text, wake]] of [...waiting.entries()].reverse()) if (stderr.includes(text)) (waiting.splice(i, 1), wake());
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return {
    child,
    /** Resolves once stderr has said `text`. */
    said: (text: string) => new Promise<void>((resolve) => (stderr.includes(text) ? resolve() : waiting.push([text, resolve]))),
    done: async () => ({ code: await exit, stdout, stderr }),
  };
}

/** The files of a run folder, by name, as bytes. */
const filesOf = (d: string) => Object.fromEntries(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f))]));
const RUN_FILES = ["config.json", "metrics.csv", "model.safetensors", "optimizer.safetensors", "report.html", "training-state.json"];

describe("signals at any time end with a complete run folder, or the previous one untouched", () => {
  test("SIGTERM while training: stops after the batch, writes everything, exits 143; eval reloads it", async () => {
    const out = join(dir, "sigterm");
    // No pause: the signal goes once epoch 1's progress line is out (its 10 steps done), far from the run's end.
    const t = trainPausing("none", "--data", "xor", "--epochs", "100000", "--out", out);
    await t.said("epoch 1/100000");
    t.child.kill("SIGTERM");
    const r = await t.done();
    expect(r.code).toBe(143);
    expect(r.stderr).toContain("gradgraph: SIGTERM: stopping after this batch");
    const stopped = /gradgraph: stopped by SIGTERM in epoch (\d+) of 100000, after (\d+) of 1000000 steps; the model and report are in (.*)\n/.exec(r.stderr);
    expect(stopped?.[3]).toBe(out);
    expect(Number(stopped![2])).toBeGreaterThanOrEqual(10);
    expect(r.stderr).toContain(`\ncontinue it with: gradgraph train --resume ${out.includes(" ") ? `'${out}'` : out}\n`);
    expect(readdirSync(out).sort()).toEqual(RUN_FILES);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).results).toMatchObject({ steps: Number(stopped![2]), stopped: true });
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("stopped by SIGTERM");
    expect((await run("eval", out)).code).toBe(0);
  });

  test("SIGTERM before the first batch, without --out: nothing trained, exit 143, saying that nothing was saved and how to keep a run", async () => {
    const t = trainPausing("train", "--data", "xor", "--epochs", "5");
    await t.said("paused at train"); // the signal comes before fit starts: not one batch is trained
    t.child.kill("SIGTERM");
    const r = await t.done();
    expect(r.code).toBe(143);
    // said as the signal comes: no batch is running to finish (it said "stopping after this batch")
    expect(r.stderr).toContain("\ngradgraph: SIGTERM: stopping before the first batch (a second signal quits at once)\n");
    expect(r.stderr).not.toContain("after this batch");
    expect(r.stdout).toMatch(/^Stopped MLP 2-16-16-2 on xor before its first step\n/);
    expect(r.stderr).toContain("gradgraph: stopped by SIGTERM before the first of 50 steps; nothing was saved (with --out DIR a stopped run is kept, and can be resumed)\n");
    expect(r.stderr).not.toContain("continue it with");
  });

  test("SIGHUP during the final evaluation: the run completes and is written whole, exit 129", async () => {
    const out = join(dir, "sighup");
    const t = trainPausing("evaluate", "--data", "xor", "--epochs", "2", "--out", out);
    await t.said("paused at evaluate");
    t.child.kill("SIGHUP");
    const r = await t.done();
    expect(r.code).toBe(129);
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on xor: 2 epochs, 20 steps/);
    expect(r.stderr).toContain("gradgraph: SIGHUP: finishing the run first");
    expect(r.stderr).toContain(`gradgraph: SIGHUP came after training ended; the run completed; the model and report are in ${out}\n`);
    expect(r.stderr).not.toContain("continue it with"); // nothing left to resume
    expect(readdirSync(out).sort()).toEqual(RUN_FILES);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).results.epochsCompleted).toBe(2);
  });

  test("SIGHUP with the terminal gone (its output cannot be written): the run is still saved whole, exit 129", async () => {
    const out = join(dir, "hangup");
    const t = trainPausing("train", "--data", "xor", "--epochs", "3", "--out", out);
    await t.said("paused at train");
    t.child.stdout.destroy();
    t.child.stderr.destroy();
    t.child.kill("SIGHUP");
    expect((await t.done()).code).toBe(129);
    expect(readdirSync(out).sort()).toEqual(RUN_FILES);
    expect((await run("eval", out)).code).toBe(0);
  });

  test("Ctrl-C while the files are written, over a previous run (--overwrite): the new run replaces it whole, exit 130", async () => {
    const out = join(dir, "sigint-write");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--seed", "1", "--out", out)).code).toBe(0);
    const t = trainPausing("write", "--data", "xor", "--epochs", "1", "--seed", "2", "--out", out, "--overwrite");
    await t.said("paused at write");
    // Half written, in a folder beside it: the previous run is still whole in place.
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).training.seed).toBe(1);
    t.child.kill("SIGINT");
    const r = await t.done();
    expect(r.code).toBe(130);
    expect(readdirSync(out).sort()).toEqual(RUN_FILES);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).training.seed).toBe(2);
    expect(readdirSync(dir).filter((f) => f.startsWith(".sigint-write"))).toEqual([]); // no temporary folder, no lock
  });

  test("a second signal while the files are written quits at once: the previous run stays as it was, byte for byte", async () => {
    const out = join(dir, "quit");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--seed", "1", "--out", out)).code).toBe(0);
    const before = filesOf(out);
    const t = trainPausing("evaluate,write", "--data", "xor", "--epochs", "1", "--seed", "2", "--out", out, "--overwrite");
    await t.said("paused at evaluate");
    t.child.kill("SIGINT");
    await t.said("paused at write");
    t.child.kill("SIGTERM");
    const r = await t.done();
    expect(r.code).toBe(143);
    expect(r.stderr).toContain(`gradgraph: quit at once; nothing written, ${out} is as it was\n`);
    expect(filesOf(out)).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.startsWith(".quit"))).toEqual([]);
  });
});

describe("--out: a new or empty folder, --overwrite for a previous run, one train at a time", () => {
  test("a folder with files is refused without --overwrite, and with it unless it holds a gradgraph run", async () => {
    const out = join(dir, "refuse");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out)).code).toBe(0);
    const again = await run("train", "--data", "xor", "--epochs", "1", "--out", out);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`gradgraph: --out ${out}: the folder is not empty; add --overwrite to replace a previous run there, or choose a new folder\n`);
    const other = join(dir, "not-a-run");
    mkdirSync(other);
    writeFileSync(join(other, "notes.txt"), "mine");
    const r = await run("train", "--data", "xor", "--epochs", "1", "--out", other, "--overwrite");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the folder is not empty and holds no gradgraph run (no config.json of one), so --overwrite does not replace it");
    expect(readFileSync(join(other, "notes.txt"), "utf8")).toBe("mine");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", empty)).code).toBe(0);
    expect(readdirSync(empty).sort()).toEqual(RUN_FILES);
    expect((await run("train", "--data", "xor", "--overwrite")).stderr).toContain("--overwrite replaces the folder given by --out: give --out too");
  });

  test("--overwrite refuses a previous run's folder that also holds other files (notes, a run saved inside it), naming them; nothing is deleted", async () => {
    const out = join(dir, "with-notes");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out)).code).toBe(0);
    writeFileSync(join(out, "notes.txt"), "mine");
    expect((await run("train", "--resume", out, "--epochs", "2", "--out", join(out, "continued"))).code).toBe(0);
    const before = readdirSync(out).sort();
    const r = await run("train", "--data", "xor", "--epochs", "1", "--out", out, "--overwrite");
    expect(r.stderr).toBe(
      `gradgraph: --out ${out}: the folder holds a previous run and also continued/, notes.txt, which a run does not write; --overwrite replaces only a run's own files (model.safetensors, config.json, metrics.csv, report.html, optimizer.safetensors, training-state.json), so it refuses to replace this folder: move those elsewhere, or choose another --out\n`,
    );
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(readdirSync(out).sort()).toEqual(before);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
    expect(readdirSync(join(out, "continued")).sort()).toEqual(RUN_FILES);
    // resuming into its own folder replaces it too: refused the same way
    expect((await run("train", "--resume", out, "--epochs", "2")).stderr).toContain("also continued/, notes.txt, which a run does not write");
    rmSync(join(out, "notes.txt"));
    rmSync(join(out, "continued"), { recursive: true });
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out, "--overwrite")).code).toBe(0);
  });

  test("a second train into the same --out is refused while the first runs; a lock left by a dead process is taken over", async () => {
    const out = join(dir, "locked");
    const first = trainPausing("train", "--data", "xor", "--epochs", "1", "--out", out);
    await first.said("paused at train");
    const second = await run("train", "--data", "xor", "--epochs", "1", "--out", out);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`gradgraph: --out ${out}: another gradgraph train (process ${first.child.pid}) is writing there; wait for it to end, or choose another --out`);
    first.child.kill("SIGINT");
    expect((await first.done()).code).toBe(130);
    expect(readdirSync(dir).filter((f) => f.startsWith(".locked"))).toEqual([]);

    const stale = join(dir, "stale");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(join(dir, ".stale.lock"), `${dead}\n`);
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", stale)).code).toBe(0);
    expect(existsSync(join(dir, ".stale.lock"))).toBe(false);
  });
});

describe("trainConfig: the command line's options to a run's settings, with no side effect", () => {
  const base = { data: "moons", act: "relu", opt: "adam", seed: "0", schedule: "constant", dataSeed: "0", dtype: "float32" };
  test("presets fill what is not given; given options win", () => {
    const c = trainConfig({ ...base, epochs: "7", n: "1000", out: "runs/x" });
    expect(c).toMatchObject({ name: "moons", model: { kind: "mlp", sizes: [2, 16, 16, 2] }, lr: 0.01, epochs: 7, batch: 32, out: "runs/x", overwrite: false, augment: false, notes: [] });
    expect(c.spec).toEqual({ name: "moons", seed: 0, n: 1000 });
    expect(trainConfig({ ...base, data: "mnist", limit: "60001" }).notes).toEqual(["--limit 60001: MNIST has only 60,000 training digits; training on all of them"]);
  });
  test("bad options are InputErrors, before any data is loaded or folder made", () => {
    expect(() => trainConfig({ ...base, lr: "0" })).toThrow("--lr 0: expected a positive number");
    expect(() => trainConfig({ ...base, overwrite: true })).toThrow("--overwrite replaces the folder given by --out: give --out too");
  });
  test("every number option is decimal, as the integer options and CSV cells are: 0x10, 0b1, 0o7 refused, not read as 16, 1, 7; 1e999 and 1e-999 refused", () => {
    const decimal = "written in decimal (e.g. 16, 0.01 or 1e-3; not hexadecimal, binary or octal)";
    for (const [key, flag, what] of [["lr", "--lr", "a positive number"], ["weightDecay", "--weight-decay", "a non-negative number"], ["clip", "--clip", "a positive number"], ["noise", "--noise", "a non-negative number"], ["momentum", "--momentum", "a number in [0, 1)"], ["testFraction", "--test-fraction", "a fraction between 0 and 1"]] as const) {
      const opts = key === "momentum" ? { ...base, opt: "sgd" } : base;
      for (const v of ["0x10", "0b1", "0o7"]) expect(() => trainConfig({ ...opts, [key]: v })).toThrow(`${flag} ${v}: expected ${what}, ${decimal}`);
      expect(() => trainConfig({ ...opts, [key]: "1e999" })).toThrow(`${flag} 1e999: 1e999 is too large for a float64 number (it would be Infinity); expected ${what}`);
      expect(() => trainConfig({ ...opts, [key]: "1e-999" })).toThrow(`${flag} 1e-999: 1e-999 is too small for a float64 number`);
    }
    expect(() => trainConfig({ ...base, epochs: "0x10" })).toThrow("--epochs 0x10: expected a positive integer");
    expect(trainConfig({ ...base, lr: " .5e-2 ", weightDecay: "+1" })).toMatchObject({ lr: 0.005, weightDecay: 1 });
  });
});

describe("where the training step runs", () => {
  test("--no-compile (eager) and --target onnxruntime train moons to the built-in target's figures (within rounding)", async () => {
    const args = ["train", "--data", "moons", "--epochs", "5", "--seed", "3"];
    const [cpu, eager, ort] = [await run(...args), await run(...args, "--no-compile"), await run(...args, "--target", "onnxruntime")];
    for (const r of [cpu, eager, ort]) expect(r.code, r.stderr).toBe(0);
    // eager and compiled on the built-in target print the same figures; ONNX Runtime's float32 kernels round otherwise
    expect(figures(eager.stdout)).toEqual(figures(cpu.stdout));
    const losses = (s: string) => figures(s).map((l) => Number(l.trim().split(/\s+/)[1]));
    losses(ort.stdout).forEach((v, i) => expect(Math.abs(v - losses(cpu.stdout)[i]!)).toBeLessThan(1e-3));
    expect(figures(cpu.stdout).length).toBe(2);
  });
});
