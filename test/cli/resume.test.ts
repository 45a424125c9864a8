/** `gradgraph train --resume RUN_DIR`: a stopped run continues exactly; bad folders and options are refused. */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { Linear } from "../../packages/gradgraph/src/nn/index.js";
import { saveModule } from "gradgraph/node";
import { run } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-resume-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../packages/cli/bin/gradgraph", import.meta.url));
const bytes = (d: string, f: string) => readFileSync(join(d, f));
const common = ["--data", "moons", "--n", "200", "--dtype", "float64", "--seed", "1", "--opt", "momentum"];

/** Runs `gradgraph train ARGS` paused where training is about to start, and sends it `signal` there. */
async function signalledBeforeTraining(signal: NodeJS.Signals, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(bin, ["train", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GRADGRAPH_TEST_PAUSE: "train" } });
  let stderr = "", sent = false;
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      if (!sent && stderr.includes("paused at train")) (sent = true, child.kill(signal));
    });
    child.on("exit", (c) => resolve(c));
  });
  return { code, stderr };
}

describe("train --resume", () => {
  test("stop after 2 epochs, resume to 4 = 4 epochs uninterrupted, bit for bit (weights, optimizer, metrics)", async () => {
    const whole = join(dir, "whole"), part = join(dir, "part");
    expect((await run("train", ...common, "--epochs", "4", "--out", whole)).code).toBe(0);
    expect((await run("train", ...common, "--epochs", "2", "--out", part)).code).toBe(0);
    const r = await run("train", "--resume", part, "--epochs", "4");
    expect(r.stderr).toContain(`Resuming ${part} at epoch 3 (step 11)`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on moons: 4 epochs, 20 steps/);
    expect(bytes(part, "model.safetensors").equals(bytes(whole, "model.safetensors"))).toBe(true);
    expect(bytes(part, "optimizer.safetensors").equals(bytes(whole, "optimizer.safetensors"))).toBe(true);
    const csv = (d: string) => bytes(d, "metrics.csv").toString().split("\n").map((l) => l.split(",").slice(0, 7).join());
    expect(csv(part)).toEqual(csv(whole));
    expect(JSON.parse(bytes(part, "config.json").toString()).training.epochs).toBe(4);
  });

  // gradgraph before 0.2 took seeds up to 2^53 − 1 and used them modulo 2^32; such a run still evaluates and resumes
  // as it ran (the seeds are checked to 2^32 − 1 now, and its config.json was refused).
  test("a run saved with a seed past 2^32 (older gradgraph) evaluates and resumes as the seed it used", async () => {
    const used = 5_000_000_000 % 2 ** 32;
    const seeded = ["--data", "moons", "--n", "200", "--dtype", "float64", "--opt", "momentum", "--seed", String(used), "--data-seed", String(used)];
    const whole = join(dir, "seed-whole"), part = join(dir, "seed-part");
    expect((await run("train", ...seeded, "--epochs", "4", "--out", whole)).code).toBe(0);
    expect((await run("train", ...seeded, "--epochs", "2", "--out", part)).code).toBe(0);
    const config = JSON.parse(bytes(part, "config.json").toString());
    config.data.seed = 5_000_000_000;
    config.training.seed = 5_000_000_000;
    writeFileSync(join(part, "config.json"), JSON.stringify(config));
    const e = await run("eval", part);
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    const r = await run("train", "--resume", part, "--epochs", "4");
    expect(r.code).toBe(0);
    expect(bytes(part, "model.safetensors").equals(bytes(whole, "model.safetensors"))).toBe(true);
  });

  test("a run stopped by SIGINT before its first batch is saved as it started: eval loads it, and it resumes to the uninterrupted run", async () => {
    const whole = join(dir, "sig-whole"), part = join(dir, "sig-part");
    const args = ["--data", "xor", "--n", "160", "--dtype", "float64", "--epochs", "3", "--schedule", "cosine", "--warmup", "3"];
    expect((await run("train", ...args, "--out", whole)).code).toBe(0);
    const { code, stderr } = await signalledBeforeTraining("SIGINT", ...args, "--out", part);
    expect(code).toBe(130);
    expect(stderr).toContain(`\ngradgraph: Ctrl-C: stopping before the first batch (Ctrl-C again to quit at once, leaving ${part} as it was)\n`);
    expect(stderr).not.toContain("after this batch");
    expect(stderr).toContain(`stopped by Ctrl-C before the first of 12 steps; the model and report are in ${part}`);
    const config = JSON.parse(bytes(part, "config.json").toString());
    expect(config.results).toMatchObject({ steps: 0, epochsCompleted: 0, stopped: true });
    const e = await run("eval", part);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain(`MLP 2-16-16-2 (relu) from ${part} on xor`);
    const r = await run("train", "--resume", part);
    expect(r.stderr).toContain(`Resuming ${part} at epoch 1 (step 1)`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on xor: 3 epochs, 12 steps/);
    expect(bytes(part, "model.safetensors").equals(bytes(whole, "model.safetensors"))).toBe(true);
    expect(bytes(part, "optimizer.safetensors").equals(bytes(whole, "optimizer.safetensors"))).toBe(true);
  });

  test("a signal before a resumed run's first batch says it stops before training resumes; the folder keeps the run as it was", async () => {
    const d = join(dir, "sig-resumed");
    expect((await run("train", ...common, "--epochs", "1", "--out", d)).code).toBe(0);
    const before = bytes(d, "model.safetensors");
    const { code, stderr } = await signalledBeforeTraining("SIGTERM", "--resume", d, "--epochs", "2");
    expect(code).toBe(143);
    expect(stderr).toContain(`\ngradgraph: SIGTERM: stopping before training resumes (a second signal quits at once, leaving ${d} as it was)\n`);
    expect(stderr).not.toContain("after this batch");
    // It stands between epochs 1 and 2: stopped before epoch 2 (not "in epoch 1", which had ended).
    expect(stderr).toContain(`stopped by SIGTERM before epoch 2 of 2, after 5 of 10 steps; the model and report are in ${d}\ncontinue it with: gradgraph train --resume ${d}\n`);
    expect(bytes(d, "model.safetensors").equals(before)).toBe(true);
  });

  test("a signal before a finished run is resumed: nothing was left to train, so the run completed (not stopped)", async () => {
    const d = join(dir, "sig-finished");
    expect((await run("train", ...common, "--epochs", "1", "--out", d)).code).toBe(0);
    const { code, stderr } = await signalledBeforeTraining("SIGINT", "--resume", d);
    expect(code).toBe(130);
    expect(stderr).toContain(`gradgraph: Ctrl-C came after training ended; the run completed; the model and report are in ${d}\n`);
    expect(stderr).not.toContain("continue it with");
    expect(JSON.parse(bytes(d, "config.json").toString()).results).toMatchObject({ steps: 5, epochsCompleted: 1, stopped: false });
  });

  test("resuming a finished run says it is complete and trains nothing (exit 0, as before: it is evaluated and saved again as it is)", async () => {
    const d = join(dir, "finished");
    expect((await run("train", ...common, "--epochs", "2", "--out", d)).code).toBe(0);
    const before = bytes(d, "model.safetensors");
    const r = await run("train", "--resume", d);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${d} is already complete (2 epochs, 10 steps): nothing to train; --epochs N, above 2, extends it\n`);
    expect(r.stderr).not.toContain("Resuming");
    expect(r.stdout).toMatch(/^Trained MLP 2-16-16-2 on moons: 2 epochs, 10 steps/);
    expect(bytes(d, "model.safetensors").equals(before)).toBe(true);
    // more epochs asked: it resumes at the next one
    const more = await run("train", "--resume", d, "--epochs", "3");
    expect(more.stderr).toContain(`Resuming ${d} at epoch 3 (step 11)\n`);
    expect(more.stdout).toMatch(/^Trained MLP 2-16-16-2 on moons: 3 epochs, 15 steps/);
  });

  test("a hand-edited training-state.json is refused before anything is said (exit 2), naming the file, the field, what came and what was expected", async () => {
    const good = join(dir, "state-ok");
    expect((await run("train", ...common, "--epochs", "2", "--out", good)).code).toBe(0);
    const original = bytes(good, "training-state.json").toString();
    const d = join(dir, "state-edited"), file = join(d, "training-state.json");
    const shape = "this run's 160 training samples in 5 batches of 32";
    const edits: [string, (s: { optimizer: { steps: number }; history: Record<string, any> }) => void, string][] = [
      ["stepLosses cut", (s) => (s.history.stepLosses = s.history.stepLosses.slice(0, 3)), "history.stepLosses holds 3 losses: expected 10, one per step (history.state.step)"],
      ["step 1e20", (s) => (s.history.state.step = 1e20), "history.state.step is 100000000000000000000: expected a whole number from 0 to 2^53 − 1"],
      ["epoch -5", (s) => (s.history.state.epoch = -5), "history.state.epoch is -5: expected a whole number from 1 to 2^53 − 1"],
      ["a fraction", (s) => (s.history.state.seen = 1.5), "history.state.seen is 1.5: expected a whole number from 0 to 2^53 − 1"],
      ["no state", (s) => delete s.history.state, "history.state is nothing: expected fit's position (epoch, batch, step, samples, sums, seen, loader, scheduler)"],
      ["a step too many", (s) => ((s.history.state.step = 12), s.history.stepLosses.push(0.5, 0.5)), `history.state.step is 12: expected 10, the steps of 2 epochs of 5 batches and 0 batches of epoch 3 (${shape})`],
      ["batch past the epoch", (s) => (s.history.state.batch = 5), `history.state.batch is 5: expected less than 5, the batches of an epoch (${shape})`],
      ["samples", (s) => (s.history.state.samples = 5), `history.state.samples is 5: expected 320, the samples of 2 epochs of 5 batches and 0 batches of epoch 3 (${shape})`],
      ["an epoch's step", (s) => (s.history.epochs[0].step = 7), `history.epochs[0].step is 7: expected 5, the steps of epoch 1 (${shape})`],
      ["an epoch record dropped", (s) => s.history.epochs.pop(), "history.epochs records complete epoch 1: expected epochs 1 to 2, those before history.state.epoch (3)"],
      ["the optimizer's steps", (s) => (s.optimizer.steps = 3), "optimizer.steps is 3: expected 10, one optimizer step per training step (history.state.step)"],
    ];
    for (const [what, edit, message] of edits) {
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d);
      for (const f of ["config.json", "model.safetensors", "optimizer.safetensors", "metrics.csv", "report.html"]) writeFileSync(join(d, f), bytes(good, f));
      const state = JSON.parse(original);
      edit(state);
      writeFileSync(file, JSON.stringify(state));
      const r = await run("train", "--resume", d, "--epochs", "3");
      expect([what, r.code, r.stdout, r.stderr]).toEqual([what, 2, "", `gradgraph: ${file}: ${message}\n`]);
    }
  });

  test("a CSV run whose training file changed (a class renamed, rows dropped, any byte) is refused, exit 2, saying what changed; the same file resumes", async () => {
    const csv = join(dir, "fruit.csv");
    const original = readFileSync(fileURLToPath(new URL("../../examples/data/fruit.csv", import.meta.url)), "utf8");
    writeFileSync(csv, original);
    const d = join(dir, "csv-run");
    expect((await run("train", "--data", csv, "--epochs", "1", "--dtype", "float64", "--out", d)).code).toBe(0);
    const data = JSON.parse(bytes(d, "config.json").toString()).data;
    expect(data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(data.rows).toBe(original.trim().split("\n").length - 1);
    const before = bytes(d, "model.safetensors");
    const refused = async (text: string, change: RegExp) => {
      writeFileSync(csv, text);
      const r = await run("train", "--resume", d, "--epochs", "2");
      expect(r.stderr).toMatch(new RegExp(`^gradgraph: --resume ${d}: its training file ${csv} has changed since the run was saved \\(${change.source}\\); resuming continues the run bit for bit and needs the same data: put the original file back, or train a new run on this one \\(gradgraph train --data ${csv} --out NEW_DIR\\)\n$`));
      expect([r.code, r.stdout]).toEqual([2, ""]);
      expect(bytes(d, "model.safetensors").equals(before)).toBe(true);
    };
    await refused(original.replace(/,lemon$/gm, ",lime"), /classes apple, lemon, orange then, apple, lime, orange now/);
    const [head, ...rows] = original.trim().split("\n");
    await refused([head, ...rows.filter((_, i) => i % 2 === 0)].join("\n") + "\n", new RegExp(`${rows.length} rows then, ${Math.ceil(rows.length / 2)} now`));
    await refused(original + "\n", /its bytes differ: SHA-256 [0-9a-f]{12}… then, [0-9a-f]{12}… now/);
    writeFileSync(csv, original);
    const r = await run("train", "--resume", d, "--epochs", "2");
    expect(r.code).toBe(0);
    // a run saved before the fingerprint was recorded resumes as before
    const config = JSON.parse(bytes(d, "config.json").toString());
    delete config.data.sha256;
    delete config.data.rows;
    writeFileSync(join(d, "config.json"), JSON.stringify(config));
    writeFileSync(csv, original + "\n");
    expect((await run("train", "--resume", d, "--epochs", "3")).code).toBe(0);
  });

  test("bad input: not a run folder, a run without training state, options that would change the run, too few epochs", async () => {
    const notRun = join(dir, "not-a-run");
    mkdirSync(notRun);
    writeFileSync(join(notRun, "notes.txt"), "hello");
    let r = await run("train", "--resume", notRun);
    expect(r.stderr).toContain(`gradgraph: --resume ${notRun}: not a gradgraph run folder: ${notRun}: no model there (config.json not found)`);
    expect(r.code).toBe(2);

    const done = join(dir, "done");
    expect((await run("train", ...common, "--epochs", "2", "--out", done)).code).toBe(0);
    r = await run("train", "--resume", done, "--lr", "0.5", "--batch", "8");
    expect(r.stderr).toContain("gradgraph: --resume continues the run as it was saved: --lr, --batch cannot be given with it (only --epochs, --out, --overwrite, --threads)");
    expect(r.code).toBe(2);
    r = await run("train", "--resume", done, "--no-compile"); // named as typed (it said --compile)
    expect(r.stderr).toContain("gradgraph: --resume continues the run as it was saved: --no-compile cannot be given with it");
    expect(r.code).toBe(2);
    r = await run("train", "--resume", done, "--epochs", "1");
    // Refused before anything is loaded or said: stderr is the one error line.
    expect(r.stderr).toBe(`gradgraph: --resume ${done} --epochs 1: the run already reached epoch 2, beyond the 1 asked; ask for more epochs\n`);
    expect(r.code).toBe(2);

    const old = join(dir, "old");
    expect((await run("train", ...common, "--epochs", "1", "--out", old)).code).toBe(0);
    rmSync(join(old, "training-state.json"));
    r = await run("train", "--resume", old);
    expect(r.stderr).toContain(`gradgraph: --resume ${old}: this run has no training-state.json (saved by an older gradgraph), so it cannot be resumed`);
    expect(r.code).toBe(2);

    // A run folder written in code (saveModel + saveTrainingState) records no training settings: refused, not a crash.
    const coded = join(dir, "coded");
    expect((await run("train", ...common, "--epochs", "1", "--out", coded)).code).toBe(0);
    const config = JSON.parse(readFileSync(join(coded, "config.json"), "utf8"));
    delete config.training;
    writeFileSync(join(coded, "config.json"), JSON.stringify(config));
    r = await run("train", "--resume", coded);
    expect(r.stderr).toBe(
      `gradgraph: --resume ${coded}: its config.json records no training.optimizer, training.lr, training.epochs, training.batch, training.seed (it was not written by gradgraph train), so the CLI cannot continue it; in code, give its history to fit as resume (docs/saving.md)\n`,
    );
    expect(r.code).toBe(2);

    const other = join(dir, "other-architecture");
    await saveModule(other, new Linear(2, 2));
    r = await run("train", "--resume", other);
    expect(r.stderr).toContain(`gradgraph: --resume ${other}: not a gradgraph run folder: ${join(other, "config.json")}: not a gradgraph model config: format is "gradgraph-module", expected "gradgraph-mlp"`);
    expect(r.code).toBe(2);

    r = await run("train", "--resume", "");
    expect([r.code, r.stderr]).toEqual([2, "gradgraph: --resume: no folder name given (the folder a gradgraph train --out wrote)\n"]);
    r = await run("eval", "");
    expect([r.code, r.stderr]).toEqual([2, "gradgraph: no run folder given (the folder a gradgraph train --out wrote)\n"]);

    r = await run("train", "--epochs", "1");
    expect(r.stderr).toContain("gradgraph: --data is required (the dataset to train on), unless --resume RUN_DIR continues a saved run");
    expect(r.code).toBe(2);
  });
});
