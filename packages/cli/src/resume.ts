/**
 * `gradgraph train --resume RUN_DIR`: the run's settings come from its `config.json` (the network, the data, the
 * training options as recorded), so `trainConfig` checks them as if typed again; training then continues from
 * the weights, the optimizer's state and the run's position saved beside them (`training-state.json`), exactly
 * where it stopped. Only `--epochs` (a new total, to extend the run), `--out`, `--overwrite` and `--threads`
 * may be given with it.
 */
import { InputError } from "gradgraph";
import { join } from "node:path";
import { type ModelConfig, savedFitState, TRAINING_STATE_FILE } from "gradgraph/node";
import { loadRunModel, savedSeed, type DataSpec } from "./datasets.js";
import { type History, resumeDone } from "gradgraph/nn";
import { plural } from "./train-progress.js";

/** The options that may go with --resume; every other one would change the run. */
const ALLOWED = new Set(["resume", "epochs", "out", "overwrite", "threads"]);

/** Options as typed (commander's camelCase names), with their defaults where commander gives one. */
type Opts = Record<string, string | boolean | undefined>;

/**
 * The options of the run saved in `dir`, as `train` would have been given them, with `--epochs`, `--out`
 * (default: `dir` itself, replaced whole when the run is saved) and `--threads` from the command line; `given`
 * names the options typed on the command line (any other than those is refused).
 */
export async function resumeOptions(dir: string, typed: Opts, given: readonly string[]): Promise<{ opts: Opts; data: DataSpec }> {
  if (dir.trim() === "") throw new InputError("--resume: no folder name given (the folder a gradgraph train --out wrote)");
  const changed = given.filter((k) => !ALLOWED.has(k));
  if (changed.length > 0) {
    // as typed: --no-compile is the option `compile` set to false
    const flags = changed.map((k) => `--${typed[k] === false ? "no-" : ""}${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new InputError(`--resume continues the run as it was saved: ${flags.join(", ")} cannot be given with it (only --epochs, --out, --overwrite, --threads)`);
  }
  const { existsSync } = await import("node:fs");
  let config: ModelConfig<DataSpec>;
  try {
    ({ config } = await loadRunModel(dir));
  } catch (e) {
    throw new InputError(`--resume ${dir}: not a gradgraph run folder: ${(e as Error).message}`);
  }
  if (!existsSync(join(dir, TRAINING_STATE_FILE))) {
    throw new InputError(`--resume ${dir}: this run has no ${TRAINING_STATE_FILE} (saved by an older gradgraph), so it cannot be resumed`);
  }
  const t = config.training ?? {};
  // A folder that saveModel + saveTrainingState wrote in code may record no training settings: they are not guessed.
  const missing = ["optimizer", "lr", "epochs", "batch", "seed"].filter((k) => t[k] === undefined || t[k] === null);
  if (missing.length > 0) {
    throw new InputError(
      `--resume ${dir}: its config.json records no training.${missing.join(", training.")} (it was not written by gradgraph train), so the CLI cannot continue it; in code, give its history to fit as resume (docs/saving.md)`,
    );
  }
  const epochs = Number(typed.epochs ?? t.epochs);
  const at = await savedFitState(dir);
  const done = at === null || !Number.isInteger(epochs) ? null : resumeDone(at, epochs);
  if (done !== null) throw new InputError(`--resume ${dir} --epochs ${epochs}: ${done}; ask for more epochs`);
  const d = config.data;
  if (d === undefined) throw new InputError(`--resume ${dir}: its config.json names no dataset`);
  const str = (v: unknown) => (v === undefined ? undefined : String(v));
  // An MLP's sizes, or a layer spec's text; a CSV file's path and label column (read loosely: what the config holds).
  const m = config.model as { sizes?: number[]; spec?: string; activation?: string; dtype: string };
  const file = d as { path?: string; label?: string };
  const opts: Opts = {
    data: file.path ?? d.name,
    label: file.label,
    model: m.spec ?? m.sizes?.join("-"),
    act: m.activation ?? "relu",
    dtype: m.dtype,
    opt: str(t.optimizer),
    lr: str(t.lr),
    epochs: str(typed.epochs ?? t.epochs),
    batch: str(t.batch),
    seed: str(savedSeed(t.seed)),
    schedule: str(t.schedule) ?? "constant",
    warmup: str(t.warmup),
    weightDecay: str(t.weightDecay),
    momentum: str(t.momentum),
    clip: str(t.clip),
    augment: str(t.augment),
    dataSeed: str(d.seed) ?? "0",
    n: str(d.n),
    noise: str(d.noise),
    testFraction: d.name === "mnist" ? undefined : str(d.testFraction),
    limit: str(d.trainLimit),
    threads: str(typed.threads),
    compile: typed.compile !== false,
    target: typed.target,
    out: str(typed.out) ?? dir,
    overwrite: typed.out === undefined ? true : typed.overwrite === true,
    resume: dir,
  };
  return { opts, data: d };
}

/**
 * Refuses to resume a run on data other than it was trained on: a CSV file whose bytes (SHA-256) differ from those
 * recorded would give another split, other batches, other scaling or classes. A run that recorded no fingerprint
 * (an older gradgraph) resumes as it did; a named dataset is rebuilt from its recorded name and parameters.
 */
export function checkSameData(dir: string, recorded: DataSpec, now: DataSpec): void {
  if (recorded.name !== "csv" || recorded.sha256 === undefined || recorded.sha256 === now.sha256) return;
  const changes: string[] = [];
  if (recorded.rows !== undefined && recorded.rows !== now.rows) changes.push(`${recorded.rows} rows then, ${now.rows} now`);
  const classes = (c: string[] | undefined) => (c ?? []).join(", ");
  if (recorded.classes !== undefined && classes(recorded.classes) !== classes(now.classes)) changes.push(`classes ${classes(recorded.classes)} then, ${classes(now.classes)} now`);
  if (changes.length === 0) changes.push(`its bytes differ: SHA-256 ${recorded.sha256.slice(0, 12)}… then, ${(now.sha256 ?? "").slice(0, 12)}… now`);
  throw new InputError(
    `--resume ${dir}: its training file ${recorded.path} has changed since the run was saved (${changes.join("; ")}); ` +
      `resuming continues the run bit for bit and needs the same data: put the original file back, or train a new run on this one (gradgraph train --data ${recorded.path} --out NEW_DIR)`,
  );
}

/** This run's shape: batches per epoch, training samples, samples per batch (no batch is dropped), and the optimizer's step count as loaded. */
export interface RunShape {
  batches: number;
  samples: number;
  batch: number;
  optimizerSteps: number;
}

/**
 * Checks that the position saved in `dir`'s training-state.json (which loadTrainingState read and checked field by
 * field) is one this run can stand at: the steps and samples follow from the epoch and batch with this run's batches
 * per epoch, as fit counts them, and the optimizer took one step per step. A hand-edited or mixed-up file is refused
 * here, before anything is said about the run, naming the field, what it holds and what was expected.
 */
export function checkResumePosition(dir: string, history: History, run: RunShape): void {
  const s = history.state!;
  const bad = (field: string, got: number, want: number, why: string) =>
    new InputError(`${join(dir, TRAINING_STATE_FILE)}: ${field} is ${got}: expected ${want}, ${why}`);
  const shape = `this run's ${plural(run.samples, "training sample")} in ${plural(run.batches, "batch")} of ${run.batch}`;
  if (s.batch >= run.batches) {
    throw new InputError(`${join(dir, TRAINING_STATE_FILE)}: history.state.batch is ${s.batch}: expected less than ${run.batches}, the batches of an epoch (${shape})`);
  }
  const done = (s.epoch - 1) * run.batches;
  const before = `${plural(s.epoch - 1, "epoch")} of ${plural(run.batches, "batch")} and ${plural(s.batch, "batch")} of epoch ${s.epoch} (${shape})`;
  if (s.step !== done + s.batch) throw bad("history.state.step", s.step, done + s.batch, `the steps of ${before}`);
  const seen = Math.min(s.batch * run.batch, run.samples);
  if (s.seen !== seen) throw bad("history.state.seen", s.seen, seen, `the samples of ${plural(s.batch, "batch")} of ${run.batch} (${shape})`);
  const samples = (s.epoch - 1) * run.samples + seen;
  if (s.samples !== samples) throw bad("history.state.samples", s.samples, samples, `the samples of ${before}`);
  // A stopped epoch's record is at the run's step (loadTrainingState checks it); a complete one at its epoch's end.
  for (const [i, e] of history.epochs.entries()) {
    if (e.complete && e.step !== e.epoch * run.batches) throw bad(`history.epochs[${i}].step`, e.step, e.epoch * run.batches, `the steps of ${e.epoch === 1 ? "epoch 1" : `epochs 1 to ${e.epoch}`} (${shape})`);
  }
  if (run.optimizerSteps !== s.step) throw bad("optimizer.steps", run.optimizerSteps, s.step, "one optimizer step per training step (history.state.step)");
}
