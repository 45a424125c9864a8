/**
 * The training view's engine: the lecture's loop — **Sample** a minibatch, **Forward** to the loss, **Backprop**
 * the gradients, **Update** the parameters — on the library's `nn` (public API only), one stage at a time when
 * asked. It runs inside the Web Worker (train-worker.ts) and in Node for the unit tests; no DOM, no Node modules.
 *
 * The run is `gradgraph train`'s: the same data and split (`nn.loadDataset`), the same initial weights (`nn.MLP`
 * with the seed), the same minibatches (`nn.DataLoader`, shuffled with the seed) and the same optimizer, so it
 * computes the same losses step for step as the command line (and as `nn.fit`).
 */
import { fromTypedArray, nn, type Tensor } from "gradgraph";
import { DATASET_CLASSES, layerSizes, type TrainSettings } from "./train-settings.js";

type Dataset = nn.Dataset;
type Batch = nn.Batch;

export const STAGES = ["sample", "forward", "backprop", "update"] as const;
export type Stage = (typeof STAGES)[number];

/** What one minibatch's pass through the loop showed, stage by stage (absent: not reached yet). */
export interface StepReport {
  /** The step this minibatch makes (1-based: the first minibatch is step 1). */
  step: number;
  epoch: number;
  /** The minibatch's number in its epoch (1-based) and the batches per epoch. */
  batch: number;
  batches: number;
  /** The last stage done. */
  stage: Stage;
  sample?: {
    size: number;
    /** Points of each class in the minibatch. */
    counts: number[];
    /** The minibatch's points, x and y interleaved (drawn ringed on the map). */
    points: number[];
  };
  forward?: { loss: number; accuracy: number };
  backprop?: { gradNorm: number };
  update?: { updateNorm: number; paramNorm: number; lr: number };
}

/** Loss and accuracy over a whole split. */
export interface Figures {
  loss: number;
  accuracy: number;
}

/** A square region of the plane holding every point, with a margin (equal scales on both axes). */
export interface Bounds {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
}

/** The points of a split: x and y interleaved, and their labels. */
export interface Points {
  xy: Float32Array;
  labels: Int32Array;
}

/** What the page needs to know about a new run. */
export interface RunInfo {
  sizes: number[];
  parameters: number;
  classes: string[];
  batches: number;
  bounds: Bounds;
  train: Points;
  test: Points;
}

function pointsOf(ds: Dataset): Points {
  return { xy: Float32Array.from(ds.x.toArray()), labels: Int32Array.from(ds.y.toArray()) };
}

/** The square around all points, with 8% margins. */
export function boundsOf(...sets: Points[]): Bounds {
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const { xy } of sets) {
    for (let i = 0; i < xy.length; i += 2) {
      xmin = Math.min(xmin, xy[i]!), xmax = Math.max(xmax, xy[i]!);
      ymin = Math.min(ymin, xy[i + 1]!), ymax = Math.max(ymax, xy[i + 1]!);
    }
  }
  if (!Number.isFinite(xmin)) return { xmin: -1, xmax: 1, ymin: -1, ymax: 1 };
  const half = (Math.max(xmax - xmin, ymax - ymin, 1e-6) / 2) * 1.08;
  const cx = (xmin + xmax) / 2, cy = (ymin + ymax) / 2;
  return { xmin: cx - half, xmax: cx + half, ymin: cy - half, ymax: cy + half };
}

function makeOptimizer(s: TrainSettings, params: Tensor[]): nn.Optimizer {
  // Weight decay (L2 regularisation) only when chosen: otherwise each optimizer's own default, as the CLI.
  const o = { lr: s.lr, ...(s.wd === null ? {} : { weightDecay: s.wd }) };
  switch (s.opt) {
    case "sgd":
      return new nn.SGD(params, o);
    case "momentum":
      return new nn.SGD(params, { ...o, momentum: 0.9 });
    case "nesterov":
      return new nn.SGD(params, { ...o, momentum: 0.9, nesterov: true });
    case "adam":
      return new nn.Adam(params, o);
    case "adamw":
      return new nn.AdamW(params, o);
  }
}

/** The global L2 norm of a list of arrays. */
function norm(arrays: Iterable<ArrayLike<number>>): number {
  let sq = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) sq += a[i]! * a[i]!;
  return Math.sqrt(sq);
}

/** One run: data, model, optimizer, the minibatch order, and the minibatch in progress. */
export class TrainSession {
  readonly model: nn.MLP;
  readonly optimizer: nn.Optimizer;
  readonly loader: nn.DataLoader;
  readonly info: RunInfo;
  /** Completed steps (parameter updates). */
  steps = 0;
  /** The epoch of the last minibatch sampled (0 before the first). */
  epoch = 0;
  /** The loss of every completed step. */
  readonly losses: number[] = [];
  private epochBatches: Iterator<Batch> | null = null;
  private batchInEpoch = 0;
  /** The minibatch in progress: its tensors and the report so far (null between steps). */
  private pending: { x: Tensor; y: Tensor; loss: Tensor | null; report: StepReport } | null = null;
  /** The report of the last stage done. */
  last: StepReport | null = null;

  private constructor(readonly settings: TrainSettings, readonly train: Dataset, readonly test: Dataset) {
    const sizes = layerSizes(settings);
    this.model = new nn.MLP(sizes, settings.act, { seed: settings.seed });
    this.optimizer = makeOptimizer(settings, this.model.parameters());
    this.loader = new nn.DataLoader(train, { batchSize: settings.batch, shuffle: true, seed: settings.seed });
    const trainPts = pointsOf(train), testPts = pointsOf(test);
    this.info = {
      sizes,
      parameters: this.model.numParameters(),
      classes: [...(train.info.classes ?? Array.from({ length: DATASET_CLASSES[settings.data] }, (_, i) => `class ${i}`))],
      batches: this.loader.length,
      bounds: boundsOf(trainPts, testPts),
      train: trainPts,
      test: testPts,
    };
  }

  /** A new run: `gradgraph train`'s data (default size, noise, seed 0 and split) and a fresh model. */
  static async create(settings: TrainSettings): Promise<TrainSession> {
    const { train, test } = await nn.loadDataset({ name: settings.data, ...(settings.noise === null ? {} : { noise: settings.noise }) });
    return new TrainSession(settings, train, test);
  }

  /** The stage the next call of {@link stage} does. */
  get nextStage(): Stage {
    if (this.pending === null) return "sample";
    return STAGES[STAGES.indexOf(this.pending.report.stage) + 1]!;
  }

  /** Does the next stage of the loop and reports the minibatch so far. */
  stage(): StepReport {
    const next = this.nextStage;
    let report: StepReport;
    switch (next) {
      case "sample":
        report = this.sample();
        break;
      case "forward": {
        // Forward: the model's logits for the minibatch and the cross-entropy loss.
        const p = this.pending!;
        const logits = this.model.forward(p.x);
        p.loss = nn.crossEntropy(logits, p.y);
        p.report = { ...p.report, stage: "forward", forward: { loss: p.loss.item(), accuracy: nn.accuracy(logits, p.y) } };
        report = p.report;
        break;
      }
      case "backprop": {
        // Backprop: clear the old gradients, then the gradient of the loss for every parameter.
        const p = this.pending!;
        this.optimizer.zeroGrad();
        p.loss!.backward();
        const gradNorm = norm(this.model.parameters().map((t) => (t.grad === null ? [] : t.grad.toArray())));
        p.report = { ...p.report, stage: "backprop", backprop: { gradNorm } };
        report = p.report;
        break;
      }
      case "update": {
        // Update: one optimizer step; the size of the change it made to the parameters.
        const p = this.pending!;
        const params = this.model.parameters();
        const before = params.map((t) => t.toArray());
        const lr = this.optimizer.lr;
        this.optimizer.step();
        const after = params.map((t) => t.toArray());
        const delta = after.map((a, k) => a.map((v, i) => v - before[k]![i]!));
        p.report = { ...p.report, stage: "update", update: { updateNorm: norm(delta), paramNorm: norm(after), lr } };
        report = p.report;
        this.steps++;
        this.losses.push(report.forward!.loss);
        this.pending = null;
        break;
      }
    }
    this.last = report;
    return report;
  }

  /** Sample: the loader's next minibatch (a new epoch, in a new order, when one ends). */
  private sample(): StepReport {
    let next = this.epochBatches?.next();
    if (next === undefined || next.done) {
      this.epochBatches = this.loader[Symbol.iterator]();
      this.epoch++;
      this.batchInEpoch = 0;
      next = this.epochBatches.next();
    }
    const { x, y } = next.value as Batch;
    this.batchInEpoch++;
    const labels = y.toArray();
    const counts = new Array<number>(this.info.classes.length).fill(0);
    for (const c of labels) counts[c] = (counts[c] ?? 0) + 1;
    const report: StepReport = {
      step: this.steps + 1,
      epoch: this.epoch,
      batch: this.batchInEpoch,
      batches: this.info.batches,
      stage: "sample",
      sample: { size: labels.length, counts, points: Array.from(x.toArray()) },
    };
    this.pending = { x, y, loss: null, report };
    return report;
  }

  /** Finishes the minibatch in progress, or does a whole one: Sample, Forward, Backprop, Update. */
  step(): StepReport {
    do this.stage();
    while (this.pending !== null);
    return this.last!;
  }

  /** Loss and accuracy of the model on the training and test splits (evaluation mode, no graph). */
  evaluate(): { train: Figures; test: Figures } {
    const o = { loss: "cross_entropy", metrics: ["accuracy"] } as const;
    const tr = nn.evaluate(this.model, this.train, o), te = nn.evaluate(this.model, this.test, o);
    return { train: { loss: tr.loss!, accuracy: tr.accuracy! }, test: { loss: te.loss!, accuracy: te.accuracy! } };
  }

  /**
   * The class probabilities on a size × size grid over the bounds, row by row from the top (the heat map):
   * `probs[(r * size + c) * classes + k]`.
   */
  boundary(size: number): Float32Array {
    const { xmin, xmax, ymin, ymax } = this.info.bounds;
    const grid = new Float32Array(size * size * 2);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        grid[2 * (r * size + c)] = xmin + ((c + 0.5) / size) * (xmax - xmin);
        grid[2 * (r * size + c) + 1] = ymax - ((r + 0.5) / size) * (ymax - ymin);
      }
    }
    const logits = nn.predict(this.model, fromTypedArray(grid, [size * size, 2]));
    return Float32Array.from(nn.softmax(logits, 1).toArray());
  }

  /** Each layer's weight matrix W ([out, in], row by row), for the network diagram. */
  weights(): Float32Array[] {
    return this.model
      .namedParameters()
      .filter(([name, p]) => name.endsWith("weight") && p.ndim === 2)
      .map(([, p]) => Float32Array.from(p.toArray()));
  }
}

// ---- the messages between the page and the worker ---------------------------------------------------------

/** The page to the worker. `configure` starts a new run (the old one is dropped); the rest act on the run. */
export type ToWorker =
  | { type: "configure"; run: number; settings: TrainSettings; gridSize: number }
  | { type: "speed"; speed: TrainSettings["speed"] }
  | { type: "play" }
  | { type: "pause" }
  /** One stage of the loop (Sample, Forward, Backprop or Update). */
  | { type: "stage" }
  /** The rest of the minibatch in progress, or a whole one. */
  | { type: "step" };

/** Where the run is: completed steps, the minibatch in progress, whether it is training on its own. */
export interface RunState {
  steps: number;
  epoch: number;
  running: boolean;
  nextStage: Stage;
  /** The last stage's report (null before the first). */
  report: StepReport | null;
}

/** The worker to the page; `run` says which `configure` it answers (older ones are ignored). */
export type FromWorker =
  | { type: "ready"; run: number; info: RunInfo }
  /** New minibatch losses since the last message, and the state. */
  | { type: "progress"; run: number; losses: number[]; state: RunState }
  /** The whole splits evaluated, and the class probabilities on the grid (see {@link TrainSession.boundary}). */
  | { type: "eval"; run: number; steps: number; train: Figures; test: Figures; grid: Float32Array; gridSize: number; weights: Float32Array[] }
  | { type: "error"; run: number; message: string };
