/**
 * `gradgraph train` and `gradgraph eval`: the training loop of the lecture on real data, from the command line.
 * Train shows a progress bar on a terminal (plain lines otherwise), prints a summary, and writes to `--out` the
 * model (safetensors weights + config.json), metrics.csv and a self-contained report.html. Ctrl-C stops after the
 * current batch and still writes everything. Eval (eval.ts) reloads a run's model and reports the same figures.
 */
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { type DType, Generator, getNumThreads, InputError, Interrupted, MAX_SEED, setNumThreads } from "gradgraph";
import { loadModuleState, loadTrainingState, type ModelConfig, saveModel, saveTrainingState, writeFileAtomic } from "gradgraph/node";
import { didYouMean } from "gradgraph/lecture";
import { type ActivationName, ACTIVATIONS, Adam, AdamW, cosineLR, type Dataset, evaluate, fit, type History, LayerNet, linearWarmup, MAX_GENERATED_POINTS, MLP, MNIST_TRAIN_DIGITS, type Optimizer, randomShift, type Schedule, SGD, SPEC_HELP, stepLR } from "gradgraph/nn";
import { confusionMatrix, decisionBoundary, metricsCsv, reportHtml } from "./report.js";
import { DATASET_NAMES, type DataSourceName, type DataSpec, loadDataset } from "./datasets.js";
import { evalAction } from "./eval.js";
import { keepRunningWithoutOutput, type Io } from "./io.js";
import { buildModel, checkSplit, dataSource, describeData, modelChoice, modelName, modelSummary, type ModelChoice } from "./train-data.js";
import { checkResumePosition, checkSameData, resumeOptions } from "./resume.js";
import { onnxRuntimeTarget } from "./onnx.js";
import { RunFolder } from "./run-folder.js";
import { figuresTable, num, pct, plural, progressReporter } from "./train-progress.js";
import { integer, number } from "./options.js";
import { signalName, StopSignals } from "./signals.js";

const OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "adamw"] as const;
type OptName = (typeof OPTIMIZERS)[number];
const SCHEDULES = ["constant", "step", "cosine"] as const;
/** What --seed and --data-seed take (the generator's 32-bit state: a larger seed would repeat a smaller one's stream). */
const SEED_RANGE = `a whole number from 0 to ${MAX_SEED}`;

/** What each dataset trains with when an option is not given. */
const PRESETS: Record<DataSourceName, { model: string; epochs: number; batch: number; lr: number }> = {
  moons: { model: "2-16-16-2", epochs: 100, batch: 32, lr: 0.01 },
  circles: { model: "2-16-16-2", epochs: 100, batch: 32, lr: 0.01 },
  xor: { model: "2-16-16-2", epochs: 100, batch: 32, lr: 0.01 },
  spirals: { model: "2-64-64-3", epochs: 200, batch: 32, lr: 0.01 },
  iris: { model: "4-16-3", epochs: 100, batch: 16, lr: 0.01 },
  mnist: { model: "784-128-10", epochs: 5, batch: 64, lr: 1e-3 },
  csv: { model: "", epochs: 100, batch: 32, lr: 0.01 }, // model: inputs-32-classes, from the file
};

function choice<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(`${option} ${value}: expected one of ${allowed.join(", ")}${didYouMean(value, allowed)}`);
}

const positiveInt = (o: string, v: string | undefined) => integer(o, v, (x) => x > 0, "a positive integer");
const nonNegative = (o: string, v: string | undefined) => number(o, v, (x) => x >= 0, "a non-negative number");

export interface TrainOpts {
  data?: string;
  label?: string;
  /** A run folder to continue (its settings come from its config.json; see resume.ts). */
  resume?: string;
  threads?: string;
  /** false with --no-compile: every training step eager. */
  compile?: boolean;
  /** Where the compiled step runs: cpu (the default) or onnxruntime. */
  target?: string;
  model?: string;
  act: string;
  opt: string;
  lr?: string;
  epochs?: string;
  batch?: string;
  seed: string;
  out?: string;
  weightDecay?: string;
  momentum?: string;
  schedule: string;
  warmup?: string;
  clip?: string;
  augment?: string;
  n?: string;
  noise?: string;
  dataSeed: string;
  testFraction?: string;
  limit?: string;
  dtype: string;
  overwrite?: boolean;
}

function makeOptimizer(name: OptName, params: ReturnType<MLP["parameters"]>, lr: number, weightDecay: number | undefined, momentum: number | undefined): Optimizer {
  const wd = weightDecay === undefined ? {} : { weightDecay };
  switch (name) {
    case "sgd":
      return new SGD(params, { lr, momentum: momentum ?? 0, ...wd });
    case "momentum":
      return new SGD(params, { lr, momentum: momentum ?? 0.9, ...wd });
    case "nesterov":
      return new SGD(params, { lr, momentum: momentum ?? 0.9, nesterov: true, ...wd });
    case "adam":
      return new Adam(params, { lr, ...wd });
    case "adamw":
      return new AdamW(params, { lr, ...wd });
    default: {
      const never: never = name;
      throw new InputError(`--opt ${String(never)}: unknown optimizer`);
    }
  }
}

/** A run's settings, checked: what {@link trainConfig} makes of the command line. */
export interface TrainConfig {
  name: DataSourceName;
  spec: DataSpec;
  model: ModelChoice;
  act: ActivationName;
  optName: OptName;
  schedule: (typeof SCHEDULES)[number];
  dtype: DType;
  /** Threads for the large float32 matrix products (undefined: the default). */
  threads: number | undefined;
  /** Whether the training step is compiled (the default; --no-compile: eager). */
  compile: boolean;
  /** Where the compiled step runs. */
  target: "cpu" | "onnxruntime";
  lr: number;
  epochs: number;
  batch: number;
  seed: number;
  weightDecay: number | undefined;
  momentum: number | undefined;
  warmup: number;
  clip: number | undefined;
  augment: boolean;
  out: string | undefined;
  overwrite: boolean;
  /** The run folder this run continues, if any. */
  resume: string | undefined;
  /** With `resume`: the data spec its config.json records (a CSV file's fingerprint is checked against the file). */
  resumeData?: DataSpec;
  /** Options that do nothing here, said on stderr (the run goes on). */
  notes: string[];
}

/** The pure step: options as typed → a run's settings, or an {@link InputError} saying what is wrong. */
export function trainConfig(opts: TrainOpts): TrainConfig {
  if (opts.data === undefined) throw new InputError("--data is required (the dataset to train on), unless --resume RUN_DIR continues a saved run");
  const source = dataSource(opts.data);
  const name = source.name;
  const preset = PRESETS[name];
  const act = choice("--act", opts.act === "leakyRelu" ? "leaky_relu" : opts.act, Object.keys(ACTIVATIONS) as ActivationName[]);
  const optName = choice("--opt", opts.opt, OPTIMIZERS);
  const schedule = choice("--schedule", opts.schedule, SCHEDULES);
  const dtype = choice("--dtype", opts.dtype, ["float32", "float64"] as const) as DType;
  const threads = integer("--threads", opts.threads, (x) => x >= 1 && x <= 256, "an integer from 1 to 256");
  const target = choice("--target", opts.target ?? "cpu", ["cpu", "onnxruntime"] as const);
  if (target !== "cpu" && opts.compile === false) throw new InputError(`--target ${target} runs the compiled step: it cannot go with --no-compile`);
  const model: ModelChoice = opts.model === undefined && name === "csv" ? { kind: "hidden", hidden: [32] } : modelChoice(opts.model ?? preset.model);
  if (opts.label !== undefined && name !== "csv") throw new InputError(`--label names the label column of a CSV file, not of ${name}`);
  const lr = number("--lr", opts.lr, (x) => x > 0, "a positive number") ?? preset.lr;
  const epochs = positiveInt("--epochs", opts.epochs) ?? preset.epochs;
  const batch = positiveInt("--batch", opts.batch) ?? preset.batch;
  const seed = integer("--seed", opts.seed, (x) => x <= MAX_SEED, SEED_RANGE)!;
  const dataSeed = integer("--data-seed", opts.dataSeed, (x) => x <= MAX_SEED, SEED_RANGE)!;
  const weightDecay = nonNegative("--weight-decay", opts.weightDecay);
  const momentum = number("--momentum", opts.momentum, (x) => x >= 0 && x < 1, "a number in [0, 1)");
  const warmup = integer("--warmup", opts.warmup, () => true, "a non-negative integer (steps)") ?? 0;
  const clip = number("--clip", opts.clip, (x) => x > 0, "a positive number");
  if (opts.augment !== undefined && opts.augment !== "shift") throw new InputError(`--augment ${opts.augment}: expected shift`);
  if (opts.augment !== undefined && name !== "mnist") throw new InputError(`--augment shift: only for image data (mnist), not ${name === "csv" ? opts.data : name}`);
  if (momentum !== undefined && (optName === "adam" || optName === "adamw")) throw new InputError(`--momentum applies to sgd/momentum/nesterov, not ${optName}`);
  const isToy = name !== "mnist" && name !== "iris";
  if (!isToy && (opts.n !== undefined || opts.noise !== undefined)) throw new InputError(`--n and --noise are for the generated datasets (moons, circles, spirals, xor), not ${name}`);
  if (name !== "mnist" && opts.limit !== undefined) throw new InputError(`--limit is for mnist, not ${name}`);
  if (name === "mnist" && opts.testFraction !== undefined) throw new InputError("--test-fraction: MNIST's split is the official one (60,000 train / 10,000 test digits)");
  if (opts.overwrite && opts.out === undefined) throw new InputError("--overwrite replaces the folder given by --out: give --out too");
  // "" would be the working folder: with --overwrite, a run there would be replaced by this one
  if (opts.out !== undefined && opts.out.trim() === "") throw new InputError("--out: no folder name given");
  const limit = positiveInt("--limit", opts.limit);
  const notes: string[] = [];
  if (limit !== undefined && limit > MNIST_TRAIN_DIGITS) notes.push(`--limit ${limit}: MNIST has only ${MNIST_TRAIN_DIGITS.toLocaleString("en-US")} training digits; training on all of them`);
  const spec: DataSpec = {
    name,
    ...(source.path === undefined ? {} : { path: source.path }),
    ...(opts.label === undefined ? {} : { label: opts.label }),
    seed: dataSeed,
    ...(opts.n === undefined ? {} : { n: integer("--n", opts.n, (x) => x >= 1 && x <= MAX_GENERATED_POINTS, `a whole number of points from 1 to ${MAX_GENERATED_POINTS.toLocaleString("en-US")}`)! }),
    ...(opts.noise === undefined ? {} : { noise: nonNegative("--noise", opts.noise)! }),
    ...(opts.testFraction === undefined ? {} : { testFraction: number("--test-fraction", opts.testFraction, (x) => x > 0 && x < 1, "a fraction between 0 and 1")! }),
    ...(limit === undefined || limit >= MNIST_TRAIN_DIGITS ? {} : { trainLimit: limit }),
    ...(name === "mnist" ? { normalize: true } : {}),
  };
  const augment = opts.augment === "shift";
  return { name, spec, model, act, optName, schedule, dtype, threads, compile: opts.compile !== false, target, lr, epochs, batch, seed, weightDecay, momentum, warmup, clip, augment, out: opts.out, overwrite: opts.overwrite === true, resume: opts.resume, notes };
}

/** The learning-rate schedule of a run of `totalSteps` steps of `batches` batches per epoch. */
function scheduleOf(c: TrainConfig, totalSteps: number, batches: number): Schedule | undefined {
  let sched: Schedule | undefined;
  if (c.schedule === "cosine") sched = cosineLR(Math.max(1, totalSteps - c.warmup));
  else if (c.schedule === "step") sched = stepLR(Math.max(1, Math.ceil(c.epochs / 3) * batches), 0.1);
  return c.warmup > 0 ? linearWarmup(c.warmup, sched) : sched;
}

/** The training settings recorded in config.json. */
function trainingRecord(c: TrainConfig): Record<string, unknown> {
  return {
    optimizer: c.optName,
    lr: c.lr,
    epochs: c.epochs,
    batch: c.batch,
    seed: c.seed,
    schedule: c.schedule,
    ...(c.warmup > 0 ? { warmup: c.warmup } : {}),
    ...(c.weightDecay === undefined ? {} : { weightDecay: c.weightDecay }),
    ...(c.momentum === undefined ? {} : { momentum: c.momentum }),
    ...(c.clip === undefined ? {} : { clip: c.clip }),
    ...(c.augment ? { augment: "shift" } : {}),
  };
}

/** What a run trains: the data, the network, its optimizer and schedule. */
interface Setup {
  train: Dataset;
  test: Dataset;
  dataSpec: DataSpec;
  model: MLP | LayerNet;
  optimizer: Optimizer;
  batches: number;
  totalSteps: number;
  schedule: Schedule | undefined;
  augment: ((x: Parameters<typeof randomShift>[0]) => ReturnType<typeof randomShift>) | undefined;
  /** The random generators the run draws from besides the model's (saved to resume it). */
  generators: Record<string, Generator>;
  /** The notes and the header, for stderr (said once a resumed run's state is checked too). */
  intro: string;
}

/** Loads the data and builds the network; the notes and the header are in its `intro`. */
async function setUpRun(c: TrainConfig): Promise<Setup> {
  const { train, test, spec: loaded } = await loadDataset(c.spec, { dtype: c.dtype });
  // A CSV file is named as typed in messages, and saved by its absolute path (eval may run elsewhere).
  const dataSpec = loaded.path === undefined ? loaded : { ...loaded, path: resolve(loaded.path) };
  if (c.resumeData !== undefined) checkSameData(c.resume!, c.resumeData, dataSpec);
  checkSplit(dataSpec, train, test, "");
  const model = buildModel(c.model, train, { act: c.act, seed: c.seed, dtype: c.dtype });
  const optimizer = makeOptimizer(c.optName, model.parameters(), c.lr, c.weightDecay, c.momentum);
  const batches = Math.ceil(train.length / c.batch);
  const batch = Math.min(c.batch, train.length); // a --batch beyond the data is one batch of all of it
  const totalSteps = c.epochs * batches;
  const notes = [...c.notes];
  if (c.batch > train.length) notes.push(`--batch ${c.batch}: more than the ${train.length.toLocaleString("en-US")} training samples, so each epoch is one batch of ${train.length.toLocaleString("en-US")}`);
  if (c.warmup > totalSteps) notes.push(`--warmup ${c.warmup}: longer than the run (${plural(totalSteps, "step")}), so the learning rate never reaches --lr ${c.lr}`);
  const g = new Generator((c.seed + 1) % (MAX_SEED + 1)); // the augmentation's own stream
  const augment = c.augment ? (x: Parameters<typeof randomShift>[0]) => randomShift(x, { height: 28, width: 28, maxShift: 1, generator: g }) : undefined;
  const intro =
    notes.map((n) => `note: ${n}\n`).join("") +
    `Training ${modelName(model)} (${model instanceof MLP ? `${c.act}, ` : ""}${model.numParameters()} parameters) on ${describeData(loaded, train, test)}\n` +
      `  ${c.optName} lr ${c.lr}${c.weightDecay === undefined ? "" : ` weight decay ${c.weightDecay}`}, ${plural(c.epochs, "epoch")} of ${plural(batches, "batch")} of ${batch}, seed ${c.seed}` +
      `${c.schedule === "constant" ? "" : `, ${c.schedule} schedule`}${c.warmup > 0 ? `, ${plural(c.warmup, "warmup step")}` : ""}${augment ? ", random 1-pixel shifts" : ""}\n`;
  return { train, test, dataSpec, model, optimizer, batches, totalSteps, schedule: scheduleOf(c, totalSteps, batches), augment, generators: augment ? { augment: g } : {}, intro };
}

/**
 * Loads the saved run's weights and state into the model and optimizer, checks its position against this run's
 * batches, and says where it resumes: a run that has done all its epochs is complete (fit then trains nothing,
 * and the run is evaluated and saved again as it is; exit code 0).
 */
async function resumeRun(dir: string, c: TrainConfig, r: Setup): Promise<{ previous: History; said: string }> {
  await loadModuleState(dir, r.model);
  const previous = await loadTrainingState(dir, { model: r.model, optimizer: r.optimizer, generators: r.generators });
  checkResumePosition(dir, previous, { batches: r.batches, samples: r.train.length, batch: c.batch, optimizerSteps: r.optimizer.steps });
  const at = previous.state!;
  const said = at.epoch > c.epochs
    ? `${dir} is already complete (${plural(c.epochs, "epoch")}, ${plural(at.step, "step")}): nothing to train; --epochs N, above ${c.epochs}, extends it\n`
    : `Resuming ${dir} at epoch ${at.epoch}${at.batch > 0 ? `, batch ${at.batch + 1}` : ""} (step ${at.step + 1})\n`;
  return { previous, said };
}

/** Figures of a finished (or stopped) run, and what to say about it. */
interface Outcome {
  trainFig: Record<string, number>;
  testFig: Record<string, number>;
  results: Record<string, unknown>;
  /** Why it stopped early, if it did. */
  stoppedNote: string | undefined;
  /** For the report: stopped early, diverged. */
  note: string | undefined;
}

/**
 * Evaluates the model on both splits and prints the summary (a diverged run warns on stderr). `before`: the steps
 * the run had when this command started it (a resumed run's), so a stop before its first batch is said as one.
 */
function finishRun(c: TrainConfig, r: Setup, history: History, before: number, stoppedBy: string, io: Io): Outcome {
  // A diverged run completes (exit 0) but says so on stderr, in config.json (results.diverged) and in the report.
  const bad = history.stepLosses.findIndex((l) => !Number.isFinite(l));
  const diverged = bad < 0 ? undefined : { step: bad + 1, epoch: Math.floor(bad / r.batches) + 1 };
  // the options that scale a step: --lr, and --weight-decay when given (named first when it is far beyond usual values)
  const causes = [`--lr (now ${c.lr})`];
  if (c.weightDecay !== undefined && c.weightDecay > 0) causes[c.weightDecay > 1 ? "unshift" : "push"](`--weight-decay (now ${c.weightDecay})`);
  const divergedNote = diverged && `loss became NaN (or infinite) at step ${diverged.step} (epoch ${diverged.epoch}): try a smaller ${causes.join(" or ")}`;
  if (divergedNote) io.err(`warning: ${divergedNote}\n`);
  const trainFig = evaluate(r.model, r.train, { loss: "cross_entropy", metrics: ["accuracy"] });
  const testFig = evaluate(r.model, r.test, { loss: "cross_entropy", metrics: ["accuracy"] });
  const done = history.epochs.filter((e) => e.complete).length;
  const last = history.epochs[history.epochs.length - 1];
  const steps = history.stepLosses.length;
  // A signal before the first step (an already aborted fit) trains nothing: the run is its initial state, or the
  // resumed run's, which may stand between two epochs (state.batch 0: before the next, not in the last one done).
  const none = history.stopped && steps === 0;
  const between = history.stopped && steps === before && history.state?.batch === 0;
  const stoppedNote = !history.stopped ? undefined
    : none ? `stopped by ${stoppedBy} before the first of ${plural(r.totalSteps, "step")}`
    : `stopped by ${stoppedBy} ${between ? `before epoch ${history.state!.epoch}` : `in epoch ${last?.epoch ?? 1}`} of ${c.epochs}, after ${steps} of ${plural(r.totalSteps, "step")}`;
  io.out(
    `${history.stopped ? "Stopped" : "Trained"} ${modelName(r.model)} on ${r.train.info.name}` +
      (none ? " before its first step\n" : `: ${done} epoch${done === 1 ? "" : "s"}${history.stopped ? ` and ${last && !last.complete ? "part of another" : "no more"}` : ""}, ${plural(steps, "step")} in ${history.seconds.toFixed(1)} s\n`),
  );
  io.out(figuresTable([["train", trainFig], ["test", testFig]]));
  const results = { train: trainFig, test: testFig, seconds: history.seconds, epochsCompleted: done, steps, stopped: history.stopped, ...(diverged ? { diverged } : {}) };
  return { trainFig, testFig, results, stoppedNote, note: [stoppedNote, divergedNote].filter(Boolean).join("; ") || undefined };
}

/** Writes the run's four files into the folder's temporary place, then puts it in place of --out. */
async function saveRun(c: TrainConfig, r: Setup, history: History, o: Outcome, folder: RunFolder, signals: StopSignals, io: Io): Promise<void> {
  const dir = folder.workDir();
  const config = await saveModel(dir, r.model, { data: r.dataSpec, training: trainingRecord(c), results: o.results });
  await saveTrainingState(dir, { model: r.model, optimizer: r.optimizer, history, generators: r.generators });
  await signals.pauseAt("write", io.err);
  await writeFileAtomic(join(dir, "metrics.csv"), metricsCsv(history));
  await writeFileAtomic(join(dir, "report.html"), buildReport(r.model, config, history, r.train, r.test, o.trainFig, o.testFig, o.note));
  folder.commit();
  io.out(`Wrote ${c.out}: model.safetensors, config.json, metrics.csv, report.html, and the state to resume it (optimizer.safetensors, training-state.json)\n`);
}

/** Where a run is when a first signal comes: loading and setting up, in fit, or evaluating and saving. */
type Phase = "starting" | "training" | "finishing";

/** What a first signal does, said as it comes. Before fit is called no batch is running: none is trained (fit checks first). */
function stopping(phase: Phase, resumed: boolean): string {
  if (phase === "starting") return resumed ? "stopping before training resumes" : "stopping before the first batch";
  return phase === "training" ? "stopping after this batch" : "finishing the run first";
}

/**
 * The run step: loads the data, trains, evaluates, prints, and saves the run folder. SIGINT, SIGTERM and SIGHUP
 * stop training after the current batch (before the first, when one comes while the run is still being set up:
 * nothing is trained then); the run is still evaluated and saved, whole, and the command ends with
 * {@link Interrupted} (exit 130, 143, 129). A second signal quits at once, leaving `--out` as it was.
 */
export async function runTrain(c: TrainConfig, io: Io): Promise<void> {
  let phase: Phase = "starting";
  let stopProgress = () => {};
  let folder: RunFolder | null = null;
  const signals = new StopSignals(
    (s) => {
      keepRunningWithoutOutput(true);
      stopProgress(); // a bar on the terminal is closed first, so the message does not run into it
      const again = s === "SIGINT" ? "Ctrl-C again to quit at once" : "a second signal quits at once";
      const keep = c.out === undefined ? "" : `, leaving ${c.out} as it was`;
      io.err(`\ngradgraph: ${signalName(s)}: ${stopping(phase, c.resume !== undefined)} (${again}${keep})\n`);
    },
    () => {
      folder?.discard();
      io.err(`gradgraph: quit at once${c.out === undefined ? "" : `; nothing written, ${c.out} is as it was`}\n`);
    },
  ).install();
  try {
    if (c.threads !== undefined) setNumThreads(c.threads);
    else getNumThreads(); // a bad GRADGRAPH_NUM_THREADS is an error now, not at the first large product (or never)
    const target = c.target === "onnxruntime" ? await onnxRuntimeTarget() : undefined;
    if (c.out !== undefined) {
      folder = await RunFolder.open(c.out, c.overwrite);
      keepRunningWithoutOutput(true); // the run's results are the folder: a closed terminal does not lose them
    }
    const r = await setUpRun(c);
    const resumed = c.resume === undefined ? undefined : await resumeRun(c.resume, c, r);
    io.err(r.intro + (resumed?.said ?? ""));
    const previous = resumed?.previous;
    await signals.pauseAt("train", io.err);
    const progress = progressReporter(io, c.epochs, r.batches, c.batch);
    stopProgress = progress.stop;
    let history: History;
    phase = "training"; // fit checks the signal as it is called (synchronously), then after each batch
    try {
      history = await fit(r.model, r.train, {
        loss: "cross_entropy",
        optimizer: r.optimizer,
        epochs: c.epochs,
        batchSize: c.batch,
        seed: c.seed,
        metrics: ["accuracy"],
        validation: r.test,
        ...(r.schedule ? { schedule: r.schedule } : {}),
        ...(c.clip === undefined ? {} : { clipNorm: c.clip }),
        ...(r.augment ? { augment: r.augment } : {}),
        signal: signals.signal,
        compile: c.compile,
        ...(target ? { target } : {}),
        ...(previous ? { resume: previous } : {}),
        onStep: progress.step,
        onEpoch: progress.epoch,
      });
    } finally {
      progress.stop();
    }
    phase = "finishing";
    await signals.pauseAt("evaluate", io.err);
    const by = signals.received === undefined ? "Ctrl-C" : signalName(signals.received);
    const outcome = finishRun(c, r, history, previous?.stepLosses.length ?? 0, by, io);
    if (folder !== null) await saveRun(c, r, history, outcome, folder, signals, io);
    if (signals.received !== undefined) {
      const what = outcome.stoppedNote ?? `${by} came after training ended; the run completed`;
      const where = c.out !== undefined ? `; the model and report are in ${c.out}` : outcome.stoppedNote === undefined ? "" : "; nothing was saved (with --out DIR a stopped run is kept, and can be resumed)";
      // A stopped run is saved with its training state: say how to go on from it.
      const resume = c.out === undefined || outcome.stoppedNote === undefined ? "" : `\ncontinue it with: gradgraph train --resume ${shellWord(c.out)}`;
      throw new Interrupted(`${what}${where}${resume}`, signals.exitCode);
    }
  } catch (e) {
    folder?.discard();
    throw e;
  } finally {
    signals.uninstall();
    // After a signal the last message may not be writable either (a closed terminal): the exit code must stand.
    keepRunningWithoutOutput(signals.received !== undefined);
  }
}

/** A path as one word of a shell command: as it is when that is safe, else in single quotes. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function buildReport(
  model: MLP | LayerNet,
  config: ModelConfig<DataSpec>,
  history: History,
  train: Dataset,
  test: Dataset,
  trainFig: Record<string, number>,
  testFig: Record<string, number>,
  note: string | undefined,
): string {
  const t = config.training ?? {};
  const classes = train.info.classes ?? Array.from({ length: train.outputSize }, (_, i) => String(i));
  return reportHtml({
    title: `${modelName(model)} on ${train.info.name}`,
    ...(note ? { note } : {}),
    summary: [
      ["data", describeData(config.data!, train, test)],
      ["model", `${modelSummary(model)}, ${config.model.dtype}`],
      ["training", `${t.optimizer} lr ${t.lr}, ${plural(Number(t.epochs), "epoch")}, batch ${t.batch}, seed ${t.seed}, schedule ${t.schedule}${t.augment ? ", augmented (shifts)" : ""}`],
      ["time", `${history.seconds.toFixed(1)} s, ${plural(history.stepLosses.length, "step")}`],
      ["train", `loss ${num(trainFig.loss)}, accuracy ${pct(trainFig.accuracy)}`],
      ["test", `loss ${num(testFig.loss)}, accuracy ${pct(testFig.accuracy)}`],
    ],
    history,
    metrics: ["accuracy"],
    ...(train.inputSize === 2 ? { boundary: decisionBoundary(model, train, test) } : {}),
    confusion: { classes, counts: confusionMatrix(model, test, classes.length), split: "test" },
    config,
  });
}

/** Registers `train` and `eval`. */
export function registerTrainCommands(program: Command, io: Io): void {
  program
    .command("train")
    .description("train a network on a dataset (Sample, Forward, Backprop, Update) and save the model, metrics and a report")
    .addOption(new Option("--data <name>", `the dataset: ${DATASET_NAMES.join(", ")}, or a CSV file (file.csv: a header row, numeric features, a label column)`))
    .option("--label <column>", "the label column of a CSV file (default: the last)")
    .option("--resume <dir>", "continue the run saved in this folder exactly where it stopped (its settings come from its config.json; --epochs sets a new total)")
    .option("--model <spec>", "layer sizes, inputs first and classes last (default per dataset: moons, circles, xor 2-16-16-2, spirals 2-64-64-3, iris 4-16-3, mnist 784-128-10, csv inputs-32-classes), or layers: see below")
    .option("--act <name>", `activation between layers: ${Object.keys(ACTIVATIONS).join(", ")}`, "relu")
    .option("--opt <name>", `optimizer: ${OPTIMIZERS.join(", ")}`, "adam")
    .option("--lr <rate>", "learning rate (default per dataset: 0.01, mnist 1e-3)")
    .option("--epochs <n>", "passes over the training data (default per dataset: 100, spirals 200, mnist 5)")
    .option("--batch <n>", "minibatch size (default per dataset: 32, iris 16, mnist 64)")
    .option("--seed <n>", "seed of the initial weights, the shuffling and the augmentation", "0")
    .option("--out <dir>", "write model.safetensors, config.json, metrics.csv and report.html there (a new or empty folder)")
    .option("--overwrite", "let --out replace a previous run's folder (only one holding a gradgraph run and nothing else: a folder that also holds other files is refused, naming them)")
    .option("--weight-decay <lambda>", "weight decay (L2 for sgd/adam, decoupled for adamw; adamw's default 0.01)")
    .option("--momentum <mu>", "momentum of sgd (momentum and nesterov default to 0.9)")
    .option("--schedule <name>", `learning-rate schedule: ${SCHEDULES.join(", ")} (step: ×0.1 every third of the epochs)`, "constant")
    .option("--warmup <steps>", "linear learning-rate warmup over this many steps")
    .option("--clip <norm>", "clip the gradients' global norm to this")
    .option("--augment <kind>", "data augmentation: shift (random 1-pixel shifts of the images; mnist)")
    .option("--n <count>", "number of points generated (moons, circles, spirals, xor)")
    .option("--noise <std>", "noise of the generated points")
    .option("--data-seed <n>", "seed of the generated points and of the train/test split", "0")
    .option("--test-fraction <f>", "fraction of the data held out for testing (default 0.2; mnist's split is fixed)")
    .option("--limit <n>", "mnist: train on only the first n of the 60,000 training digits")
    .option("--dtype <type>", "float32 or float64", "float32")
    .option("--threads <n>", "threads for the large float32 matrix products (default: GRADGRAPH_NUM_THREADS, else the cores); results do not depend on it")
    .option("--no-compile", "run every training step eagerly (by default the step is traced once and replayed as one compiled program)")
    .option("--target <name>", "where the compiled step runs: cpu (gradgraph's own kernels; resuming is bit for bit) or onnxruntime (ONNX Runtime, with the optional onnxruntime-node installed: faster on large layers, equal within float32 rounding)", "cpu")
    .addHelpText(
      "after",
      `\n${SPEC_HELP}\n` +
        "\nExamples:\n  gradgraph train --data moons --out runs/moons\n" +
        "  gradgraph train --data spirals --model 2-64-64-3 --act tanh --opt adamw --lr 0.01 --epochs 300\n" +
        "  gradgraph train --data mnist --model 784-256-10 --opt adamw --lr 2e-3 --weight-decay 0.05 --epochs 10 --batch 64 --schedule cosine --augment shift --out runs/mnist\n" +
        "  gradgraph train --data mnist --model cnn --opt adamw --lr 2e-3 --epochs 10 --augment shift --out runs/cnn\n" +
        "  gradgraph train --data flowers.csv --label species --out runs/flowers\n" +
        "\n--out must be a new or empty folder, or a previous run's with --overwrite (holding only a run's files:\n" +
        "anything else there, such as notes or a run saved inside it, is never deleted: the run is refused); it always holds one whole run\n" +
        "(files are written beside it, then put in place); a second train into it while one runs is refused.\n" +
        "Ctrl-C stops after the current batch (before the first, while the data is still loading) and still writes\n" +
        "the model and the report (exit code 130); so do SIGTERM (143) and SIGHUP (129); gradgraph train --resume DIR\n" +
        "then continues the run where it stopped.\n" +
        "A second signal quits at once, leaving --out as it was.\n" +
        "A run whose loss becomes NaN or infinite still completes (exit code 0), with a warning on stderr naming the step,\n" +
        "and results.diverged in config.json.",
    )
    .action(async (opts: TrainOpts, cmd: Command) => {
      const given = Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === "cli");
      const resumed = opts.resume === undefined ? undefined : await resumeOptions(opts.resume, opts as unknown as Record<string, string>, given);
      const config = trainConfig(resumed === undefined ? opts : (resumed.opts as unknown as TrainOpts));
      if (resumed !== undefined) config.resumeData = resumed.data;
      if (given.includes("act") && config.model.kind === "layers") {
        config.notes.push(`--act ${opts.act}: a layer spec names its own activations (e.g. conv(6,5)-tanh-…); --act applies to MLP sizes only`);
      }
      await runTrain(config, io);
    });

  program
    .command("eval")
    .description("reload a trained model and report its loss and accuracy on its data (or another dataset of the same shape)")
    .argument("<dir>", "the folder a `gradgraph train --out` wrote")
    .option("--data <name>", "evaluate on this dataset instead of the one it was trained on: a named one split by the same rules; a CSV file whole, each row once, read with the training file's label column and classes and scaled by the training figures recorded with the model")
    .option("--json", 'print {"data": …, "train": {"loss", "accuracy"}, "test": {…}}; for --data file.csv, {"data": …, "rows": N, "all": {"loss", "accuracy"}}')
    .addHelpText("after", "\nExamples:\n  gradgraph eval runs/moons\n  gradgraph eval runs/flowers --data held-out.csv")
    .action((dir: string, opts: { data?: string; json?: boolean }) => evalAction(dir, opts, io));
}
