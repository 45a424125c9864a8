/**
 * The state of a training run beyond the model's weights, so that it can be resumed exactly: the optimizer's
 * moment buffers (`optimizer.safetensors`, named as in `optimizer.stateDict()`: `0.exp_avg`, …) and, in
 * `training-state.json`, the optimizer's step count and learning rate, `fit`'s history and position (epoch,
 * batch, the loader's shuffling state, the schedule's step) and the state of every random generator the run
 * draws from (the model's Dropouts, found in its fields, and any the caller names, e.g. an augmentation's).
 * Node only; files are written atomically.
 *
 * @example
 * const history = await fit(model, train, { optimizer, epochs: 10, signal });   // stopped early
 * await saveModule("run", model);
 * await saveTrainingState("run", { model, optimizer, history });
 * // later, in a new process, with the model and optimizer built as before:
 * await loadModuleState("run", model);
 * const previous = await loadTrainingState("run", { model, optimizer });
 * await fit(model, train, { optimizer, epochs: 10, resume: previous });
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { Generator, type GeneratorState } from "../tensor/random.js";
import type { Module } from "../nn/module.js";
import type { Optimizer } from "../nn/optim.js";
import { decodeSafetensors, encodeSafetensors } from "../nn/safetensors.js";
import { readFileLimited, writeFileAtomic } from "./files.js";
import { readSafetensorsBytes } from "./safetensors.js";
import type { EpochRecord, FitState, History } from "../nn/train.js";

/** The optimizer's state (moment buffers) in a saved run's folder. */
export const OPTIMIZER_FILE = "optimizer.safetensors";
/** The rest of a run's state in its folder: the optimizer's step and settings, fit's history and position, the generators. */
export const TRAINING_STATE_FILE = "training-state.json";
const FORMAT = "gradgraph-training-state";
/** The largest training-state.json read (the history of a long run is a few MB). */
const MAX_STATE_BYTES = 200_000_000;

/** `training-state.json`. */
export interface TrainingStateFile {
  format: typeof FORMAT;
  version: 1;
  optimizer: { type: string; steps: number; lr: number; hyper: Record<string, number | boolean> };
  /** fit's history; NaN losses are written as null (JSON has no NaN). */
  history: History;
  generators: Record<string, GeneratorState>;
  /**
   * The SHA-256 of the optimizer.safetensors written with it: each file is replaced atomically, but not the two
   * together, so a save stopped between them left new moment buffers beside the old step count (wrong bias
   * corrections), loaded without a word. Absent in files of older versions.
   */
  optimizerSha256?: string;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Every generator held in a field of a module of the tree (a Dropout's), by dotted path: `3.generator`. */
export function moduleGenerators(model: Module, prefix = ""): Map<string, Generator> {
  const out = new Map<string, Generator>();
  for (const [name, m] of model.namedModules()) {
    for (const [k, v] of Object.entries(m)) if (v instanceof Generator) out.set(`${prefix}${name === "" ? "" : `${name}.`}${k}`, v);
  }
  return out;
}

function allGenerators(model: Module, extra: Record<string, Generator>): Map<string, Generator> {
  const out = moduleGenerators(model, "model.");
  for (const [k, g] of Object.entries(extra)) out.set(k, g);
  return out;
}

/** The keys of what saveTrainingState and loadTrainingState are given (loadTrainingState's has no history). */
const SAVE_RUN_KEYS = optionKeys<{ model: Module; optimizer: Optimizer; history: History; generators?: Record<string, Generator> }>({
  model: true, optimizer: true, history: true, generators: true,
});
const LOAD_RUN_KEYS = SAVE_RUN_KEYS.filter((k) => k !== "history");

/** Writes `dir/optimizer.safetensors` and `dir/training-state.json` (creating `dir`). */
export async function saveTrainingState(
  dir: string,
  run: { model: Module; optimizer: Optimizer; history: History; generators?: Record<string, Generator> },
): Promise<void> {
  expectOptions("saveTrainingState", run ?? null, SAVE_RUN_KEYS, "run");
  const { tensors, ...optimizer } = run.optimizer.stateDict();
  const generators: Record<string, GeneratorState> = {};
  for (const [k, g] of allGenerators(run.model, run.generators ?? {})) generators[k] = g.getState();
  const bytes = encodeSafetensors(tensors, { producer: "gradgraph", optimizer: optimizer.type });
  const file: TrainingStateFile = { format: FORMAT, version: 1, optimizer, history: run.history, generators, optimizerSha256: sha256(bytes) };
  await writeFileAtomic(join(dir, OPTIMIZER_FILE), bytes);
  await writeFileAtomic(join(dir, TRAINING_STATE_FILE), JSON.stringify(file) + "\n");
}

/** The state `fit` reached in a saved run (epoch, batch, …), read from `dir`'s training-state.json, or null. */
export async function savedFitState(dir: string): Promise<FitState | null> {
  try {
    const file = JSON.parse(new TextDecoder().decode(readFileLimited(join(dir, TRAINING_STATE_FILE), MAX_STATE_BYTES, TRAINING_STATE_FILE))) as TrainingStateFile;
    return historyProblem(file.history) === null ? file.history.state! : null;
  } catch {
    return null; // loadTrainingState says what is wrong with it
  }
}

const show = (v: unknown): string => (v === undefined ? "nothing" : typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? String(v));
const wholeProblem = (field: string, v: unknown, min: number): string | null =>
  Number.isSafeInteger(v) && (v as number) >= min ? null : `${field} is ${show(v)}: expected a whole number from ${min} to 2^53 − 1`;

/**
 * What is wrong with a saved history, or null: each field of its state (fit's position) in range, and the fields
 * that follow from one another agreeing (one loss per step, the schedule's step, the epochs done before the one in
 * progress). A history that fit returned always passes; the data's own figures (batches per epoch) are not known here.
 */
function historyProblem(history: unknown): string | null {
  const h = history as Partial<History> | null;
  if (typeof h !== "object" || h === null || !Array.isArray(h.stepLosses) || !Array.isArray(h.epochs)) return "history must hold epochs and stepLosses";
  const s = h.state as FitState | undefined | null;
  if (typeof s !== "object" || s === null) return `history.state is ${show(s)}: expected fit's position (epoch, batch, step, samples, sums, seen, loader, scheduler)`;
  for (const k of ["epoch", "batch", "step", "samples", "seen"] as const) {
    const p = wholeProblem(`history.state.${k}`, s[k], k === "epoch" ? 1 : 0);
    if (p !== null) return p;
  }
  if (s.seen > s.samples) return `history.state.seen is ${s.seen}: expected at most history.state.samples (${s.samples}), the samples of the whole run`;
  if (typeof s.sums !== "object" || s.sums === null || Object.values(s.sums).some((v) => v !== null && typeof v !== "number")) {
    return `history.state.sums is ${show(s.sums)}: expected the epoch's sums by name, numbers (null for NaN)`;
  }
  if (s.scheduler !== null) {
    if (typeof s.scheduler !== "object") return `history.state.scheduler is ${show(s.scheduler)}: expected null (no schedule) or { step, baseLr }`;
    if (s.scheduler.step !== s.step) return `history.state.scheduler.step is ${show(s.scheduler.step)}: expected ${s.step}, the run's step (history.state.step)`;
  }
  const odd = h.stepLosses.findIndex((l) => l !== null && typeof l !== "number");
  if (odd >= 0) return `history.stepLosses[${odd}] is ${show(h.stepLosses[odd])}: expected a number (null for NaN)`;
  if (h.stepLosses.length !== s.step) return `history.stepLosses holds ${h.stepLosses.length} losses: expected ${s.step}, one per step (history.state.step)`;
  if (typeof h.seconds !== "number" || !(h.seconds >= 0) || !Number.isFinite(h.seconds)) return `history.seconds is ${show(h.seconds)}: expected a non-negative number`;
  return epochsProblem(h.epochs, s);
}

/** The epochs' records: complete ones are epochs 1 to state.epoch − 1 in order, none past state.step. */
function epochsProblem(epochs: unknown[], s: FitState): string | null {
  for (const [i, e] of epochs.entries()) {
    const r = e as Partial<EpochRecord> | null;
    if (typeof r !== "object" || r === null || typeof r.complete !== "boolean") return `history.epochs[${i}] is ${show(e)}: expected an epoch's record (epoch, step, train, lr, seconds, complete)`;
    const p = wholeProblem(`history.epochs[${i}].epoch`, r.epoch, 1) ?? wholeProblem(`history.epochs[${i}].step`, r.step, 0);
    if (p !== null) return p;
    if (r.step! > s.step) return `history.epochs[${i}].step is ${r.step}: expected at most ${s.step}, the run's step (history.state.step)`;
    if (!r.complete && (i !== epochs.length - 1 || r.epoch !== s.epoch || r.step !== s.step)) {
      return `history.epochs[${i}] is a stopped epoch (complete: false), epoch ${r.epoch} at step ${r.step}: expected only the last record to be one, at the run's position (epoch ${s.epoch}, step ${s.step}: history.state)`;
    }
  }
  const done = (epochs as EpochRecord[]).filter((e) => e.complete).map((e) => e.epoch);
  if (done.length !== s.epoch - 1 || done.some((e, i) => e !== i + 1)) {
    const want = s.epoch === 1 ? "none" : s.epoch === 2 ? "epoch 1" : `epochs 1 to ${s.epoch - 1}`;
    return `history.epochs records ${done.length === 0 ? "no complete epoch" : `complete epoch${done.length === 1 ? "" : "s"} ${done.length > 6 ? `${done.slice(0, 3).join(", ")}, …, ${done.at(-1)}` : done.join(", ")}`}: expected ${want}, those before history.state.epoch (${s.epoch})`;
  }
  return null;
}

/**
 * Reads what {@link saveTrainingState} wrote: restores the optimizer's state and every generator's (the model's
 * and those named), checking that each fits, and returns the history to pass to `fit` as `resume`. A missing or
 * broken file, or state that does not fit, is an {@link InputError} naming the file.
 */
export async function loadTrainingState(
  dir: string,
  run: { model: Module; optimizer: Optimizer; generators?: Record<string, Generator> },
): Promise<History> {
  expectOptions("loadTrainingState", run ?? null, LOAD_RUN_KEYS, "run");
  const path = join(dir, TRAINING_STATE_FILE);
  let file: TrainingStateFile;
  try {
    file = JSON.parse(new TextDecoder().decode(readFileLimited(path, MAX_STATE_BYTES, TRAINING_STATE_FILE))) as TrainingStateFile;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${dir}: no training state to resume from (${code === "ENOENT" ? `${TRAINING_STATE_FILE} not found` : (e as Error).message})`);
  }
  const bad = (why: string) => new InputError(`${path}: ${why}`);
  if (typeof file !== "object" || file === null || file.format !== FORMAT || file.version !== 1) {
    throw bad(`not a gradgraph training state (expected format "${FORMAT}", version 1)`);
  }
  const problem = historyProblem(file.history);
  if (problem !== null) throw bad(problem);
  const generators = allGenerators(run.model, run.generators ?? {});
  const saved = Object.keys(file.generators ?? {});
  const missing = [...generators.keys()].filter((k) => !saved.includes(k));
  const extra = saved.filter((k) => !generators.has(k));
  if (missing.length > 0 || extra.length > 0) {
    throw bad(`the random generators do not match the run's:${missing.length > 0 ? ` missing ${missing.join(", ")}` : ""}${extra.length > 0 ? ` unexpected ${extra.join(", ")}` : ""}`);
  }
  const optimizerPath = join(dir, OPTIMIZER_FILE);
  // Read once: the bytes are checked against the hash saved beside them, then decoded.
  const bytes = readSafetensorsBytes(optimizerPath);
  if (file.optimizerSha256 !== undefined && sha256(bytes) !== file.optimizerSha256) {
    throw bad(`${OPTIMIZER_FILE} is not the one saved with ${TRAINING_STATE_FILE} (was a save interrupted between the two files?); its moment buffers would not match the step count`);
  }
  const { tensors } = decodeSafetensors(bytes, optimizerPath);
  try {
    for (const k of generators.keys()) new Generator().setState(file.generators[k]!); // checks each before any changes
    run.optimizer.loadStateDict({ ...file.optimizer, tensors });
  } catch (e) {
    throw bad((e as Error).message);
  }
  for (const [k, g] of generators) g.setState(file.generators[k]!);
  const history = file.history;
  history.stepLosses = history.stepLosses.map((l) => (l === null ? NaN : l));
  return history;
}
