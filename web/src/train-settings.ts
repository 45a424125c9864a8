/**
 * The training view's settings: what can be chosen, the defaults (those of `gradgraph train`), reading them from
 * the fields and the URL (anything invalid is ignored), and the same run as a command line. Pure (no DOM; of the
 * library only the activation table's names), so it is unit-tested in Node and shared by the page and the worker.
 */
import { nn } from "gradgraph";

/** The 2-D datasets, generated in code (no files: they run in the browser). */
export const TRAIN_DATASETS = ["moons", "circles", "spirals", "xor"] as const;
export type TrainDataset = (typeof TRAIN_DATASETS)[number];

/** Classes of each dataset (spirals has three arms). */
export const DATASET_CLASSES: Record<TrainDataset, number> = { moons: 2, circles: 2, spirals: 3, xor: 2 };

/** The activations of `gradgraph train --act`: the names of the library's one activation table. */
export const ACTIVATIONS = Object.keys(nn.ACTIVATIONS) as readonly nn.ActivationName[];
export type TrainActivation = nn.ActivationName;

/** The optimizers of `gradgraph train --opt` (momentum and nesterov: SGD with momentum 0.9; AdamW: weight decay 0.01). */
export const OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "adamw"] as const;
export type TrainOptimizer = (typeof OPTIMIZERS)[number];

export const OPTIMIZER_LABELS: Record<TrainOptimizer, string> = {
  sgd: "SGD",
  momentum: "SGD + momentum",
  nesterov: "SGD + Nesterov",
  adam: "Adam",
  adamw: "AdamW",
};

/** The learning rates offered in the menu (any positive rate up to 10 is accepted from a URL). */
export const LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3] as const;
export const BATCH_SIZES = [1, 4, 8, 16, 32, 64, 128] as const;
/** The data's noise (the generated points' spread; null: the dataset's own, as `gradgraph train`). */
export const NOISES = [0, 0.05, 0.1, 0.2, 0.3, 0.5] as const;
export const MAX_NOISE = 1;
/** L2 regularisation as the optimizer's weight decay (null: the optimizer's own, 0 but for AdamW's 0.01). */
export const WEIGHT_DECAYS = [0, 0.0001, 0.001, 0.01, 0.1] as const;
export const MAX_WEIGHT_DECAY = 1;

/** Limits of the hidden layers (the browser trains them live). */
export const MAX_HIDDEN_LAYERS = 4;
export const MAX_LAYER_SIZE = 128;
export const MAX_LR = 10;
export const MAX_BATCH = 512;
export const MAX_SEED = 1_000_000;

/** How fast the page trains: steps per second (fast: as many as the machine manages). Display only: the run is the same. */
export const SPEEDS = { slow: 10, normal: 100, fast: Infinity } as const;
export type TrainSpeed = keyof typeof SPEEDS;
export const SPEED_NAMES = Object.keys(SPEEDS) as TrainSpeed[];

export interface TrainSettings {
  data: TrainDataset;
  /** Hidden layer sizes (the input size 2 and the number of classes are added around them). */
  hidden: number[];
  act: TrainActivation;
  opt: TrainOptimizer;
  lr: number;
  batch: number;
  /** Seed of the initial weights and of the minibatch order. */
  seed: number;
  speed: TrainSpeed;
  /** The data's noise; null: the dataset's default. */
  noise: number | null;
  /** Weight decay (L2 regularisation); null: the optimizer's default. */
  wd: number | null;
}

/** `gradgraph train --data moons`'s settings. */
export const DEFAULT_TRAIN: Readonly<TrainSettings> = Object.freeze({
  data: "moons",
  hidden: [16, 16],
  act: "relu",
  opt: "adam",
  lr: 0.01,
  batch: 32,
  seed: 0,
  speed: "normal",
  noise: null,
  wd: null,
});

/** A fresh copy of the defaults. */
export function defaultSettings(): TrainSettings {
  return { ...DEFAULT_TRAIN, hidden: [...DEFAULT_TRAIN.hidden] };
}

/** The full layer sizes: inputs (2), the hidden layers, the classes. */
export function layerSizes(s: Pick<TrainSettings, "data" | "hidden">): number[] {
  return [2, ...s.hidden, DATASET_CLASSES[s.data]];
}

/** Number of weights and biases of the MLP. */
export function parameterCount(sizes: readonly number[]): number {
  let n = 0;
  for (let i = 0; i + 1 < sizes.length; i++) n += sizes[i]! * sizes[i + 1]! + sizes[i + 1]!;
  return n;
}

/** Hidden layers as the field and the URL write them: `16-16`, or empty for none. */
export function formatHidden(hidden: readonly number[]): string {
  return hidden.join("-");
}

/**
 * Reads the hidden-layers field: sizes separated by dashes, commas or spaces (`16-16`, `16, 16`, `8 8 8`);
 * empty means none (a linear classifier). Returns the sizes or an error to show under the field.
 */
export function parseHidden(text: string): { hidden: number[] } | { error: string } {
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "none") return { hidden: [] };
  const parts = t.split(/\s*[-,\s]\s*/);
  const sizes: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return { error: `"${p === "" ? t : p}" is not a layer size: write whole numbers joined by dashes, e.g. 16-16` };
    const n = Number(p);
    if (n < 1 || n > MAX_LAYER_SIZE) return { error: `a layer has 1 to ${MAX_LAYER_SIZE} units (got ${n})` };
    sizes.push(n);
  }
  if (sizes.length > MAX_HIDDEN_LAYERS) return { error: `at most ${MAX_HIDDEN_LAYERS} hidden layers here (got ${sizes.length})` };
  return { hidden: sizes };
}

const isOneOf = <T extends string>(list: readonly T[], v: string | null): v is T => v !== null && (list as readonly string[]).includes(v);

/** Query parameters of the training settings (the view itself is `view=train`). */
export const TRAIN_PARAMS = { data: "data", hidden: "layers", act: "act", opt: "opt", lr: "lr", batch: "batch", seed: "seed", speed: "speed", noise: "noise", wd: "wd" } as const;

/** Writes the settings that differ from the defaults into a query (short links). */
export function writeTrainParams(q: URLSearchParams, s: TrainSettings): void {
  const d = DEFAULT_TRAIN;
  if (s.data !== d.data) q.set(TRAIN_PARAMS.data, s.data);
  if (formatHidden(s.hidden) !== formatHidden(d.hidden)) q.set(TRAIN_PARAMS.hidden, formatHidden(s.hidden));
  if (s.act !== d.act) q.set(TRAIN_PARAMS.act, s.act);
  if (s.opt !== d.opt) q.set(TRAIN_PARAMS.opt, s.opt);
  if (s.lr !== d.lr) q.set(TRAIN_PARAMS.lr, String(s.lr));
  if (s.batch !== d.batch) q.set(TRAIN_PARAMS.batch, String(s.batch));
  if (s.seed !== d.seed) q.set(TRAIN_PARAMS.seed, String(s.seed));
  if (s.speed !== d.speed) q.set(TRAIN_PARAMS.speed, s.speed);
  if (s.noise !== null) q.set(TRAIN_PARAMS.noise, String(s.noise));
  if (s.wd !== null) q.set(TRAIN_PARAMS.wd, String(s.wd));
}

/** A number from 0 to `max` in a query parameter, or undefined. */
function readRange(q: URLSearchParams, name: string, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || !/^\s*[0-9.eE+-]+\s*$/.test(v)) return undefined;
  const x = Number(v);
  return Number.isFinite(x) && x >= 0 && x <= max ? x : undefined;
}

/** The valid training settings in a query; missing or invalid ones are absent. */
export function readTrainParams(q: URLSearchParams): Partial<TrainSettings> {
  const out: Partial<TrainSettings> = {};
  const data = q.get(TRAIN_PARAMS.data);
  if (isOneOf(TRAIN_DATASETS, data)) out.data = data;
  const layers = q.get(TRAIN_PARAMS.hidden);
  if (layers !== null) {
    const h = parseHidden(layers);
    if ("hidden" in h) out.hidden = h.hidden;
  }
  const act = q.get(TRAIN_PARAMS.act);
  if (isOneOf(ACTIVATIONS, act)) out.act = act;
  const opt = q.get(TRAIN_PARAMS.opt);
  if (isOneOf(OPTIMIZERS, opt)) out.opt = opt;
  const lr = q.get(TRAIN_PARAMS.lr);
  if (lr !== null && /^\s*[0-9.eE+-]+\s*$/.test(lr)) {
    const x = Number(lr);
    if (Number.isFinite(x) && x > 0 && x <= MAX_LR) out.lr = x;
  }
  const batch = q.get(TRAIN_PARAMS.batch);
  if (batch !== null && /^\d+$/.test(batch) && Number(batch) >= 1 && Number(batch) <= MAX_BATCH) out.batch = Number(batch);
  const seed = q.get(TRAIN_PARAMS.seed);
  if (seed !== null && /^\d+$/.test(seed) && Number(seed) <= MAX_SEED) out.seed = Number(seed);
  const speed = q.get(TRAIN_PARAMS.speed);
  if (isOneOf(SPEED_NAMES, speed)) out.speed = speed;
  const noise = readRange(q, TRAIN_PARAMS.noise, MAX_NOISE);
  if (noise !== undefined) out.noise = noise;
  const wd = readRange(q, TRAIN_PARAMS.wd, MAX_WEIGHT_DECAY);
  if (wd !== undefined) out.wd = wd;
  return out;
}

/** The defaults with the given settings on top. */
export function withDefaults(partial: Partial<TrainSettings>): TrainSettings {
  return { ...defaultSettings(), ...partial };
}

/** A learning rate as the menu and the command line write it (0.01, 0.0003). */
export function formatLr(lr: number): string {
  return String(lr);
}

/** The same run on the command line (same data and split, initial weights, minibatches: the same losses). */
export function cliCommand(s: TrainSettings): string {
  const extra = (s.noise === null ? "" : ` --noise ${s.noise}`) + (s.wd === null ? "" : ` --weight-decay ${s.wd}`);
  return `gradgraph train --data ${s.data}${extra} --model ${layerSizes(s).join("-")} --act ${s.act} --opt ${s.opt} --lr ${formatLr(s.lr)} --batch ${s.batch} --seed ${s.seed}`;
}
