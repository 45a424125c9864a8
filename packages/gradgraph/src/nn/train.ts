/**
 * The training loop of the lecture — **Sample** a minibatch, **Forward** to the loss, **Backprop** the
 * gradients, **Update** the parameters — as `fit`, and `evaluate` for held-out data.
 *
 * `fit` is async: between batches it lets the event loop run now and then (every `yieldMs`), so a progress bar
 * redraws and an `AbortSignal` (Ctrl-C in the CLI) can stop it cleanly after the current batch (or before the
 * first, when it is aborted already).
 */
import { InputError } from "../core/errors.js";
import { describe, expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import type { GeneratorState } from "../tensor/random.js";
import { noGrad, type Tensor } from "../tensor/tensor.js";
import { compile } from "../compile/compile.js";
import type { Target } from "../compile/cpu.js";
import { DataLoader, type Dataset } from "./data/dataset.js";
import { LOSSES, type LossName } from "./functional.js";
import type { Module } from "./module.js";
import { clipGradNorm, LRScheduler, type Optimizer, type Schedule } from "./optim.js";

/** A loss: predictions and targets to a single-element tensor. */
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

/** A metric: the mean of some score over a batch (fit and evaluate average it over samples). */
export interface Metric {
  name: string;
  /** The score of a batch: predictions (the model's output) against targets. */
  fn: (pred: Tensor, target: Tensor) => number;
}

/**
 * The fraction of samples classified correctly: for [n, k] logits with k > 1 the argmax against the class index,
 * for a single output the sign of the logit (> 0 is class 1) against a 0/1 target.
 */
export function accuracy(pred: Tensor, target: Tensor): number {
  const p = pred.toArray(), t = target.toArray();
  const n = pred.shape[0] ?? 1;
  const k = n === 0 ? 0 : p.length / n;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let c: number;
    if (k === 1) c = p[i]! > 0 ? 1 : 0;
    else {
      c = 0;
      for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + c]!) c = j;
    }
    if (c === t[i]) right++;
  }
  return n === 0 ? 0 : right / n;
}

/** The built-in metrics by name. */
export const METRICS: Record<string, Metric> = { accuracy: { name: "accuracy", fn: accuracy } };

function resolveLoss(loss: LossFn | LossName, who: string): LossFn {
  if (typeof loss === "function") return loss;
  if (typeof loss !== "string") throw new InputError(`${who}: loss must be a function or a name (${Object.keys(LOSSES).join(", ")}), got ${describe(loss)}`);
  const f = (LOSSES as Record<string, LossFn>)[loss];
  if (f === undefined) throw new InputError(`loss ${loss}: expected one of ${Object.keys(LOSSES).join(", ")}`);
  return f;
}

function resolveMetrics(metrics: readonly (string | Metric)[], who: string): Metric[] {
  return metrics.map((m) => {
    if (typeof m !== "string") {
      if (typeof m !== "object" || m === null || typeof m.name !== "string") throw new InputError(`${who}: a metric is a name (${Object.keys(METRICS).join(", ")}) or { name, fn }, got ${describe(m)}`);
      expectFunction(m.fn, who, `fn of metric ${JSON.stringify(m.name)}`);
      return m;
    }
    const found = METRICS[m];
    if (found === undefined) throw new InputError(`metric ${m}: expected one of ${Object.keys(METRICS).join(", ")}`);
    return found;
  });
}

/** What `onStep` hears after every batch. */
export interface StepInfo {
  epoch: number;
  epochs: number;
  /** Batch number within the epoch (1-based) and batches per epoch. */
  batch: number;
  batches: number;
  /** Steps so far, over all epochs. */
  step: number;
  /** This batch's loss, and the running means of the loss and metrics over the epoch so far. */
  loss: number;
  running: Record<string, number>;
  /** Samples seen in this run, and seconds since it started. */
  samples: number;
  seconds: number;
  /** The learning rate used for this step. */
  lr: number;
}

/** One epoch's figures: the training means (over the epoch's batches) and, with validation data, its. */
export interface EpochRecord {
  /** The epoch's number (1-based). */
  epoch: number;
  /** Steps done by the epoch's end, over all epochs. */
  step: number;
  /** The means of the loss and metrics over the epoch's training batches. */
  train: Record<string, number>;
  /** The loss and metrics on the validation data after the epoch. */
  validation?: Record<string, number>;
  /** The learning rate at the epoch's end. */
  lr: number;
  /** Seconds since training started. */
  seconds: number;
  /** False when the epoch was cut short by the signal. */
  complete: boolean;
}

/** What {@link fit} returns: every epoch's figures, every step's loss, whether it was stopped, and where it stands. */
export interface History {
  /** Every epoch's figures. */
  epochs: EpochRecord[];
  /** The loss of every step. */
  stepLosses: number[];
  /** True if the signal stopped training before the last epoch ended (or before it began). */
  stopped: boolean;
  /** Seconds of training (over resumed runs too). */
  seconds: number;
  /** Where training stands (`fit` always sets it): pass this history as `resume` to continue it exactly. */
  state?: FitState;
}

/**
 * Where a training run stands, as plain numbers (it saves as JSON): the epoch in progress and the batches done
 * in it, the loader's shuffling state at that epoch's start, the schedule's position, and the epoch's running
 * sums. With the model's and optimizer's state (and any generator the model or augmentation draws from), it is
 * all `fit` needs to continue a run exactly.
 */
export interface FitState {
  /** The epoch in progress or next (1-based), and the batches of it already done. */
  epoch: number;
  batch: number;
  step: number;
  samples: number;
  /** The epoch's sums of loss and metrics (times samples) so far, and its samples so far. */
  sums: Record<string, number>;
  seen: number;
  /** The loader's generator at the start of `epoch` (its order is drawn again from it). */
  loader: GeneratorState;
  scheduler: { step: number; baseLr: number } | null;
}

/** Options of {@link fit}: the loss and optimizer, epochs and batches, metrics, validation, schedule, and more. */
export interface FitOptions {
  /** The loss: a function or a name (mse, l1, bce, cross_entropy). */
  loss: LossFn | LossName;
  /** What updates the parameters after each batch ({@link SGD}, {@link Adam}, …). */
  optimizer: Optimizer;
  /** Number of passes over the data (default 1). */
  epochs?: number;
  /** For a Dataset: samples per batch (default 32). (For a {@link DataLoader}, its own settings hold.) */
  batchSize?: number;
  /** For a Dataset: shuffle the samples every epoch (default true). */
  shuffle?: boolean;
  /** For a Dataset: the seed of the shuffling (default 0). */
  seed?: number;
  /** For a Dataset: drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Metrics beside the loss: names ("accuracy") or {@link Metric}s. */
  metrics?: readonly (string | Metric)[];
  /** Held-out data evaluated after every epoch. */
  validation?: Dataset;
  /** A learning-rate schedule, stepped after every batch (a factor of the optimizer's initial lr). */
  schedule?: Schedule;
  /** Data augmentation: a new input batch from each training batch's (e.g. {@link randomShift}). */
  augment?: (x: Tensor) => Tensor;
  /** Clip the gradients' global norm to this before each update. */
  clipNorm?: number;
  /** Called after every batch with its figures (for progress bars). */
  onStep?: (info: StepInfo) => void;
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord) => void;
  /**
   * Stop once aborted: after the current batch, or before the first when it is aborted already (nothing is
   * trained then, and the history returned is the one resumed, or an empty one, with `stopped` set; unless no
   * epoch is left to train, as with `epochs: 0` or a finished run resumed: that run has ended, not stopped).
   */
  signal?: AbortSignal;
  /**
   * Compile the training step (default true): the first batch of each shape is traced, later ones replay one
   * program (see `compile`). A step that cannot be compiled (`clipNorm` reads the gradients' norm into
   * JavaScript) runs eagerly. false: every step eager.
   */
  compile?: boolean;
  /** Where the compiled step runs (see `compile`'s `target`; default: compile's choice, the built-in CPU target unless one is registered). */
  target?: Target;
  /** How often (ms) to let the event loop run (default 25). */
  yieldMs?: number;
  /**
   * A previous run's history: training continues where it stopped (same data, loader settings and schedule;
   * load the model's and optimizer's state first), and the history returned carries on from it. Bit for bit
   * what an uninterrupted run gives, provided any other generator (dropout, augmentation) is restored too.
   */
  resume?: History;
}

const FIT_KEYS = optionKeys<FitOptions>({
  loss: true, optimizer: true, epochs: true, batchSize: true, shuffle: true, seed: true, dropLast: true, metrics: true, validation: true,
  schedule: true, augment: true, clipNorm: true, onStep: true, onEpoch: true, signal: true, compile: true, target: true, yieldMs: true, resume: true,
});

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** Lets timers, I/O and signal handlers run. */
function tick(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** The batches `fit` trains on: the loader given, or one over the dataset; one that gives no batch is refused. */
function loaderOf(data: Dataset | DataLoader, options: FitOptions, epochs: number): DataLoader {
  const loader =
    data instanceof DataLoader
      ? data
      : new DataLoader(data, { batchSize: options.batchSize ?? 32, shuffle: options.shuffle ?? true, seed: options.seed ?? 0, dropLast: options.dropLast ?? false });
  // no batch: every epoch would end with nothing trained and a NaN loss, said nowhere
  if (epochs > 0 && loader.length === 0) {
    throw new InputError(`fit: the data gives no batch to train on (${loader.dataset.length} samples, batches of ${loader.batchSize}${loader.dropLast ? ", the last partial one dropped" : ""})`);
  }
  return loader;
}

/**
 * Trains `model` on `data`: for each epoch and each minibatch, **Sample** (the loader's next batch),
 * **Forward** (`loss(model.forward(x), y)`), **Backprop** (`loss.backward()`), **Update** (`optimizer.step()`).
 * Returns the history of losses and metrics.
 *
 * @example
 * const { train, test } = trainTestSplit(moons(500, { seed: 0 }));
 * const model = new MLP([2, 16, 16, 2], "relu", { seed: 0 });
 * const history = await fit(model, train, {
 *   loss: "cross_entropy", optimizer: new Adam(model.parameters(), { lr: 0.01 }),
 *   epochs: 50, batchSize: 32, metrics: ["accuracy"], validation: test,
 * });
 */
export async function fit(model: Module, data: Dataset | DataLoader, options: FitOptions): Promise<History> {
  expectOptions("fit", options ?? null, FIT_KEYS);
  const loss = resolveLoss(options.loss, "fit");
  const metrics = resolveMetrics(options.metrics ?? [], "fit");
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new InputError(`fit: epochs must be a non-negative integer, got ${epochs}`);
  checkFitOptions(model, options);
  const loader = loaderOf(data, options, epochs);
  const opt = options.optimizer;
  const scheduler = options.schedule ? new LRScheduler(opt, options.schedule) : null;
  const yieldMs = options.yieldMs ?? 25;
  if (options.resume !== undefined && options.resume.state === undefined) throw new InputError("fit: cannot resume: the history has no state (one that fit returned has)");
  const resume = options.resume?.state;
  if (resume !== undefined) checkResume(resume, epochs, loader.length, scheduler !== null);
  const history: History = {
    epochs: (options.resume?.epochs ?? []).filter((e) => e.complete),
    stepLosses: [...(options.resume?.stepLosses ?? [])],
    stopped: false,
    seconds: options.resume?.seconds ?? 0,
    state: { epoch: 1, batch: 0, step: 0, samples: 0, sums: {}, seen: 0, loader: loader.getState(), scheduler: scheduler?.stateDict() ?? null },
  };
  if (resume !== undefined) {
    loader.setState(resume.loader);
    if (scheduler !== null && resume.scheduler !== null) scheduler.loadStateDict(resume.scheduler);
    history.state = { ...resume, sums: { ...resume.sums } };
  }
  if (options.signal?.aborted && history.state!.epoch <= epochs) {
    // Stopped before the first batch of the epochs left: nothing trained, the history as it came (the resumed
    // run's, or empty). With no epoch left (epochs: 0, a finished run resumed) training has ended: not stopped.
    model.train();
    return { ...history, epochs: [...(options.resume?.epochs ?? [])], stopped: true };
  }
  const runStep = trainingStep(model, loss, options);
  const t0 = now() - history.seconds * 1000;
  let lastYield = t0;
  const first = history.state!.epoch;
  let { step, samples } = history.state!;
  const batches = loader.length;
  model.train();
  for (let epoch = first; epoch <= epochs && !history.stopped; epoch++) {
    const from = epoch === resume?.epoch ? resume.batch : 0;
    const loaderState = loader.getState();
    const sums: Record<string, number> = from > 0 ? { ...resume!.sums } : { loss: 0 };
    for (const m of metrics) sums[m.name] ??= 0;
    let seen = from > 0 ? resume!.seen : 0, batch = from;
    for (const { x, y } of loader.epoch(from)) {
      batch++;
      const lr = opt.lr;
      const [l, pred] = runStep(x, y);
      scheduler?.step();
      const n = x.shape[0]!;
      const lv = l.item();
      history.stepLosses.push(lv);
      sums.loss! += lv * n;
      for (const m of metrics) sums[m.name]! += m.fn(pred, y) * n;
      seen += n;
      samples += n;
      step++;
      const running: Record<string, number> = {};
      for (const k of Object.keys(sums)) running[k] = sums[k]! / seen;
      options.onStep?.({ epoch, epochs, batch, batches, step, loss: lv, running, samples, seconds: (now() - t0) / 1000, lr });
      if (now() - lastYield >= yieldMs) {
        await tick();
        lastYield = now();
      }
      if (options.signal?.aborted) {
        history.stopped = true;
        break;
      }
    }
    const complete = batch === batches;
    const sched = scheduler?.stateDict() ?? null;
    history.state = complete
      ? { epoch: epoch + 1, batch: 0, step, samples, sums: {}, seen: 0, loader: loader.getState(), scheduler: sched }
      : { epoch, batch, step, samples, sums: { ...sums }, seen, loader: loaderState, scheduler: sched };
    const train: Record<string, number> = {};
    for (const k of Object.keys(sums)) train[k] = seen === 0 ? NaN : sums[k]! / seen;
    const record: EpochRecord = { epoch, step, train, lr: opt.lr, seconds: (now() - t0) / 1000, complete };
    if (options.validation) record.validation = evaluate(model, options.validation, { loss, metrics });
    model.train();
    history.epochs.push(record);
    options.onEpoch?.(record);
  }
  model.train();
  history.seconds = (now() - t0) / 1000;
  return history;
}

/** The optimizer, and the options that are functions (called after the first batch: checked before it). */
function checkFitOptions(model: Module, options: FitOptions): void {
  checkOptimizer(options.optimizer);
  checkOptimizerParams(model, options.optimizer);
  for (const k of ["augment", "schedule", "onStep", "onEpoch"] as const) if (options[k] !== undefined) expectFunction(options[k], "fit", k);
}

/** Refuses what is not an optimizer: loss is a name ("cross_entropy"), so "adam" looks plausible for it too. */
function checkOptimizer(given: Partial<Optimizer> | undefined): void {
  if (typeof given?.zeroGrad !== "function" || typeof given.step !== "function") {
    const got = typeof given === "string" ? `the string ${JSON.stringify(given)}` : given === undefined ? "none" : typeof given;
    throw new InputError(`fit: optimizer must be an optimizer made for the model's parameters, e.g. new nn.Adam(model.parameters(), { lr: 0.01 }); got ${got}`);
  }
}

/**
 * Refuses an optimizer that would train nothing of the model: its parameters must be some of the model's (all,
 * a sub-module's, or an unfrozen subset) and at least one. An optimizer made for another model (a notebook's
 * rebuilt model with the old optimizer) would otherwise step tensors the loss never reaches, every epoch.
 */
function checkOptimizerParams(model: Module, opt: Optimizer): void {
  const params: unknown = opt.params;
  const make = "make it for this model, e.g. new nn.Adam(model.parameters(), { lr: 0.01 })";
  if (!Array.isArray(params)) throw new InputError(`fit: the optimizer has no list of parameters (params); ${make}`);
  if (params.length === 0) throw new InputError(`fit: the optimizer has no parameters, so it would train nothing; ${make}`);
  const own = new Set(model.parameters());
  const foreign = params.filter((p) => !own.has(p as Tensor)).length;
  if (foreign > 0) {
    const which = `${foreign} of the optimizer's ${params.length} parameters ${foreign === 1 ? "is" : "are"} not`;
    throw new InputError(`fit: ${which} the model's (it has ${own.size}), so fit would not train it as asked; ${make} (an optimizer over part of the model, a sub-module or the unfrozen parameters, is fine)`);
  }
}

/**
 * Forward, Backprop and Update of one batch as one function (Sample is the loader's), compiled unless
 * `options.compile` is false; returns the loss and the predictions.
 */
function trainingStep(model: Module, loss: LossFn, options: FitOptions): (x: Tensor, y: Tensor) => [Tensor, Tensor] {
  const opt = options.optimizer;
  const step = (x: Tensor, y: Tensor): [Tensor, Tensor] => {
    // Forward: predictions and the loss.
    const pred = model.forward(options.augment ? options.augment(x) : x);
    const l = loss(pred, y);
    // Backprop: gradients of the loss with respect to every parameter.
    opt.zeroGrad();
    l.backward();
    if (options.clipNorm !== undefined) clipGradNorm(opt.params, options.clipNorm);
    // Update: one optimizer step.
    opt.step();
    return [l, pred];
  };
  if (options.compile === false) return step;
  // A module that replaces a tensor in a field (`this.seen = this.seen.add(1)`) instead of assigning into it is
  // traced again at each step: the guard is which tensors the model holds.
  const holds = () => [...model.namedParameters(), ...model.namedBuffers()].map(([, t]) => t?.id ?? 0).join(",");
  return compile(step, { guard: holds, ...(options.target ? { target: options.target } : {}) });
}

/** Why a run saved at `state` cannot go on to `epochs` epochs (it is already past them), or null. */
export function resumeDone(state: Pick<FitState, "epoch" | "batch">, epochs: number): string | null {
  if (state.epoch > epochs + 1 || (state.epoch === epochs + 1 && state.batch > 0)) return `the run already reached epoch ${state.epoch - 1}, beyond the ${epochs} asked`;
  return null;
}

/** Checks that a saved state can continue this run, saying what does not fit. */
function checkResume(r: FitState, epochs: number, batches: number, scheduled: boolean): void {
  const bad = (why: string) => new InputError(`fit: cannot resume: ${why}`);
  if (typeof r !== "object" || r === null) throw bad("the history has no state");
  for (const k of ["epoch", "batch", "step", "samples", "seen"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 0) throw bad(`state.${k} must be a non-negative integer, got ${JSON.stringify(r[k])}`);
  }
  if (r.epoch < 1) throw bad(`state.epoch must be at least 1, got ${r.epoch}`);
  if (r.batch >= batches && batches > 0) throw bad(`state.batch is ${r.batch}, but an epoch has ${batches} batches (other data or batch size?)`);
  const done = resumeDone(r, epochs);
  if (done !== null) throw bad(done);
  if (scheduled !== (r.scheduler !== null)) throw bad(scheduled ? "the run had no schedule, this one has" : "the run had a schedule, this one has none");
}

/**
 * Records the mode of every module of the tree and returns what puts each back: `model.train(wasTraining)` set the
 * whole tree to the root's mode, so a submodule left in evaluation mode on purpose (a frozen BatchNorm) came back
 * in training mode.
 */
function saveModes(model: Module): () => void {
  const modes = model.modules().map((m) => [m, m.training] as const);
  return () => {
    for (const [m, mode] of modes) m.training = mode;
  };
}

/** Options of {@link evaluate}: the loss and metrics to compute, and the batch size. */
export interface EvaluateOptions {
  /** A loss to report as `loss`: a function or a name. */
  loss?: LossFn | LossName;
  /** Metrics to report: names ("accuracy") or {@link Metric}s. */
  metrics?: readonly (string | Metric)[];
  /** Samples per forward pass (default 1024; only memory depends on it). */
  batchSize?: number;
}

/**
 * The mean loss and metrics of `model` on `data`, in evaluation mode and without recording a graph. Each
 * module's mode is restored afterwards.
 *
 * @example
 * evaluate(model, test, { loss: "cross_entropy", metrics: ["accuracy"] }); // { loss: 0.05, accuracy: 0.99 }
 */
export function evaluate(model: Module, data: Dataset, options: EvaluateOptions = {}): Record<string, number> {
  expectOptions("evaluate", options, optionKeys<EvaluateOptions>({ loss: true, metrics: true, batchSize: true }));
  const loss = options.loss === undefined ? null : resolveLoss(options.loss, "evaluate");
  const metrics = resolveMetrics(options.metrics ?? [], "evaluate");
  const restore = saveModes(model);
  model.eval();
  try {
    return noGrad(() => {
      const sums: Record<string, number> = {};
      if (loss) sums.loss = 0;
      for (const m of metrics) sums[m.name] = 0;
      let seen = 0;
      for (const { x, y } of new DataLoader(data, { batchSize: options.batchSize ?? 1024 })) {
        const pred = model.forward(x);
        const n = x.shape[0]!;
        if (loss) sums.loss! += loss(pred, y).item() * n;
        for (const m of metrics) sums[m.name]! += m.fn(pred, y) * n;
        seen += n;
      }
      const out: Record<string, number> = {};
      for (const k of Object.keys(sums)) out[k] = seen === 0 ? NaN : sums[k]! / seen;
      return out;
    });
  } finally {
    restore();
  }
}

/** The model's outputs for `x` in evaluation mode, without a graph, in batches of `batchSize`. */
export function predict(model: Module, x: Tensor, batchSize = 4096): Tensor {
  const restore = saveModes(model);
  model.eval();
  try {
    return noGrad(() => {
      const n = x.shape[0]!;
      if (n <= batchSize) return model.forward(x);
      const parts: Tensor[] = [];
      for (let i = 0; i < n; i += batchSize) parts.push(model.forward(x.slice([i, Math.min(n, i + batchSize)])));
      return parts[0]!.concat(parts.slice(1), 0);
    });
  } finally {
    restore();
  }
}
