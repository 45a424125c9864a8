/**
 * The training view's pictures as data: the loss curve's geometry (axes, ticks, downsampled minibatch losses)
 * and the heat map's colours. Pure, so it is unit-tested in Node; train-view.ts puts the results on the page.
 */
import type { RunInfo, Stage, StepReport } from "./train-session.js";
import { formatLr } from "./train-settings.js";

/** The report's class colours (matplotlib's tab10, as `nn.CLASS_COLORS`): class 0 blue, 1 orange, 2 green. */
export const CLASS_RGB: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
];

/** A #rrggbb colour as [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) throw new Error(`not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/**
 * The heat map's colour of one grid cell from its class probabilities: the classes' colours mixed by
 * probability, then faded towards white where the model is unsure (white on the boundary itself, a light tint
 * where it is certain, so the points stay readable on top).
 */
export function cellColor(probs: ArrayLike<number>, offset: number, classes: number, palette = CLASS_RGB): [number, number, number] {
  let r = 0, g = 0, b = 0, top = 0;
  for (let k = 0; k < classes; k++) {
    const p = probs[offset + k]!;
    const c = palette[k % palette.length]!;
    r += p * c[0];
    g += p * c[1];
    b += p * c[2];
    top = Math.max(top, p);
  }
  // Confidence 0 (all classes equally likely) … 1 (one class certain).
  const confidence = classes > 1 ? Math.min(1, Math.max(0, (top - 1 / classes) / (1 - 1 / classes))) : 1;
  const strength = 0.5 * confidence;
  const mix = (v: number) => Math.round(255 + (v - 255) * strength);
  return [mix(r), mix(g), mix(b)];
}

/** Fills RGBA pixels (size × size) from the grid's class probabilities. */
export function heatPixels(probs: ArrayLike<number>, size: number, classes: number, out = new Uint8ClampedArray(size * size * 4)): Uint8ClampedArray {
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = cellColor(probs, i * classes, classes);
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    out[4 * i + 3] = 255;
  }
  return out;
}

/** The smallest "nice" number (1, 2, 2.5 or 5 × 10^k) at or above x; with `integer`, a whole one (no 2.5). */
export function niceCeil(x: number, integer = false): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  if (integer && x <= 1) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (integer && m === 2.5 && e < 10) continue;
    if (m * e >= x * (1 - 1e-12)) return m * e;
  }
  return 10 * e;
}

/** Evenly spaced ticks from 0 to max (inclusive), at most `count` + 1 of them, on nice (or whole) numbers. */
export function ticks(max: number, count = 4, integer = false): number[] {
  const step = niceCeil(max / count, integer);
  const out: number[] = [];
  for (let v = 0; v <= max * (1 + 1e-9); v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Losses per step as at most `buckets` points: [step, mean loss] with step the bucket's last step (1-based).
 * Every point stays when there are few.
 */
export function downsample(losses: readonly number[], buckets: number): [number, number][] {
  const n = losses.length;
  if (n <= buckets) return losses.map((l, i) => [i + 1, l]);
  const out: [number, number][] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets), hi = Math.floor(((b + 1) * n) / buckets);
    let s = 0;
    for (let i = lo; i < hi; i++) s += losses[i]!;
    out.push([hi, s / (hi - lo)]);
  }
  return out;
}

/** At most `max` items, evenly spaced, always the first and the last. */
export function thin<T>(items: readonly T[], max: number): T[] {
  const n = items.length;
  if (n <= max) return [...items];
  if (max < 2) return n === 0 ? [] : [items[n - 1]!];
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (n - 1)) / (max - 1))]!);
}

/** One evaluation of the whole splits, at a step. */
export interface EvalPoint {
  step: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

/** The loss chart, laid out in a width × height box (SVG user units). */
export interface LossChart {
  width: number;
  height: number;
  /** The plotting area. */
  plot: { left: number; top: number; right: number; bottom: number };
  xMax: number;
  yMax: number;
  xTicks: { value: number; x: number }[];
  yTicks: { value: number; y: number }[];
  /** SVG path data: the minibatch losses (downsampled), the training-set loss, the test-set loss. */
  minibatch: string;
  train: string;
  test: string;
}

const fmtTick = (v: number) => (v >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3))));
export { fmtTick as formatTick };

/**
 * The loss chart's geometry: x is the step (0 … the last), y the loss (0 … a nice number above the largest
 * evaluated loss, or above the 98th percentile of the minibatch losses (bucket means when there are many), so
 * one bad minibatch does not squash the rest). With `log`, y is the loss on a log scale between powers of ten
 * around every loss shown (a loss of exactly 0 sits on the bottom line), so a run that spikes to 1,000 and one
 * that creeps from 0.01 to 0.001 both stay readable.
 */
export function lossChart(losses: readonly number[], evals: readonly EvalPoint[], width = 420, height = 220, log = false): LossChart {
  const plot = { left: 44, top: 10, right: width - 12, bottom: height - 28 };
  const steps = Math.max(losses.length, evals.at(-1)?.step ?? 0);
  const xMax = Math.max(10, niceCeil(steps));
  const buckets = Math.max(2, Math.floor((plot.right - plot.left) / 2));
  // Long runs are drawn from bucket means (and at most `buckets` evaluations): the work per frame stays small.
  const mini = downsample(losses, buckets);
  const shownEvals = thin(evals, buckets);
  const sx = (s: number) => plot.left + (s / xMax) * (plot.right - plot.left);
  let yMax: number;
  let sy: (l: number) => number;
  let yTicks: number[];
  if (log) {
    const all = [...mini.map(([, l]) => l), ...shownEvals.flatMap((e) => [e.trainLoss, e.testLoss])].filter((l) => Number.isFinite(l) && l > 0);
    const lo = all.length === 0 ? -3 : Math.floor(Math.log10(Math.min(...all)));
    const hi = all.length === 0 ? 1 : Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...all))));
    yMax = 10 ** hi;
    sy = (l: number) => plot.bottom - ((Math.min(Math.max(l > 0 ? Math.log10(l) : lo, lo), hi) - lo) / (hi - lo)) * (plot.bottom - plot.top);
    const every = Math.ceil((hi - lo) / 5);
    yTicks = [];
    for (let k = lo; k <= hi; k += every) yTicks.push(Number((10 ** k).toPrecision(12)));
  } else {
    const sorted = mini.map(([, l]) => l).filter(Number.isFinite).sort((a, b) => a - b);
    const high = sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.98))]!;
    const evalHigh = shownEvals.reduce((m, e) => Math.max(m, Number.isFinite(e.trainLoss) ? e.trainLoss : 0, Number.isFinite(e.testLoss) ? e.testLoss : 0), 0);
    const top = (yMax = niceCeil(Math.max(high, evalHigh, 1e-3)));
    sy = (l: number) => plot.bottom - (Math.min(Math.max(l, 0), top) / top) * (plot.bottom - plot.top);
    yTicks = ticks(yMax, 4);
  }
  const path = (pts: readonly (readonly [number, number])[]) =>
    pts.filter(([, v]) => Number.isFinite(v)).map(([s, v], i) => `${i === 0 ? "M" : "L"}${sx(s).toFixed(1)},${sy(v).toFixed(1)}`).join("");
  return {
    width,
    height,
    plot,
    xMax,
    yMax,
    xTicks: ticks(xMax, 4, true).map((value) => ({ value, x: sx(value) })),
    yTicks: yTicks.map((value) => ({ value, y: sy(value) })),
    minibatch: path(mini),
    train: path(shownEvals.map((e) => [e.step, e.trainLoss] as const)),
    test: path(shownEvals.map((e) => [e.step, e.testLoss] as const)),
  };
}

/**
 * Whether a run has gone wrong, in words, or null: a loss that became NaN or infinite (as `gradgraph train`
 * warns), one that jumped to over ten times where it started, or a training loss that has not fallen after
 * 200 steps. Each says what to try.
 */
export function divergence(losses: readonly number[], evals: readonly EvalPoint[], lr: number): string | null {
  const bad = losses.findIndex((l) => !Number.isFinite(l));
  if (bad >= 0) return `The loss became NaN (or infinite) at step ${bad + 1}: the run has diverged. Try a smaller learning rate (now ${formatLr(lr)}).`;
  const first = losses[0];
  if (first === undefined) return null;
  let peak = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i]! > losses[peak]!) peak = i;
  if (losses[peak]! > 10 * first) {
    return (
      `The loss jumped to ${formatLoss(losses[peak]!)} at step ${peak + 1} (from ${formatLoss(first)}): learning rate ${formatLr(lr)} makes the ` +
      "updates overshoot, and the network may not recover (units switched off for good, weights far too large). Try a smaller learning rate."
    );
  }
  const start = evals[0], now = evals.at(-1);
  if (start !== undefined && now !== undefined && now.step >= 200 && !(now.trainLoss < 0.95 * start.trainLoss)) {
    return (
      `After ${now.step} steps the training loss has not fallen (${formatLoss(start.trainLoss)} → ${formatLoss(now.trainLoss)}): ` +
      `learning rate ${formatLr(lr)} is likely too large (updates overshoot) or too small (updates too short).`
    );
  }
  return null;
}

/** A loss with four significant figures (0.6931, 0.01234, 1.2e-5); a positive loss never reads "0". */
export function formatLoss(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  return x.toPrecision(4).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

/** A fraction as a percentage with one decimal (97.5%). */
export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "–";
}

/** A norm or an update size: three significant figures, exponent when tiny or huge. */
export function formatNorm(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return x.toPrecision(3).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

/** A stage's figures for the step on show, or null if the minibatch has not reached that stage. */
export function stageText(stage: Stage, r: StepReport, info: RunInfo | null): string | null {
  switch (stage) {
    case "sample": {
      if (r.sample === undefined) return null;
      const counts = info === null ? "" : ` (${r.sample.counts.map((c, k) => `${c} ${info.classes[k]}`).join(", ")})`;
      return `${r.sample.size} points${counts}; minibatch ${r.batch} of ${r.batches}, epoch ${r.epoch}`;
    }
    case "forward":
      return r.forward === undefined ? null : `loss ${formatLoss(r.forward.loss)} · ${formatPercent(r.forward.accuracy)} of the minibatch right`;
    case "backprop":
      return r.backprop === undefined ? null : `‖∇loss‖ = ${formatNorm(r.backprop.gradNorm)}${info === null ? "" : ` over ${info.parameters} parameters`}`;
    case "update":
      return r.update === undefined ? null : `‖Δθ‖ = ${formatNorm(r.update.updateNorm)} (lr ${formatLr(r.update.lr)}; ‖θ‖ = ${formatNorm(r.update.paramNorm)})`;
  }
}

/** The network diagram: units in columns (inputs left, classes right), every weight an edge coloured by sign. */
export interface NetDiagram {
  width: number;
  height: number;
  units: { x: number; y: number; layer: number }[];
  /** Strongest first is not needed: drawn in layer order; `opacity` and `width` grow with |w|. */
  edges: { x1: number; y1: number; x2: number; y2: number; color: string; opacity: number; width: number }[];
  /** Weights not drawn (only the strongest `maxEdges` are). */
  hidden: number;
}

/** Blue for a positive weight, orange for a negative one (TensorFlow Playground's colours). */
export const WEIGHT_RGB = { positive: "#1c7ed6", negative: "#e8590c" } as const;

/**
 * Lays out a network of layer `sizes` with weight matrices `weights` ([out, in] row by row, one per layer) in a
 * width × height box: one column per layer, each weight a line whose colour is its sign and whose opacity and
 * thickness are its size relative to the largest. Past `maxEdges` weights, only the largest are drawn.
 */
export function networkDiagram(sizes: readonly number[], weights: readonly Float32Array[], width = 420, height = 220, maxEdges = 2000): NetDiagram {
  const pad = 14;
  const column = (l: number) => pad + (sizes.length === 1 ? 0 : (l / (sizes.length - 1)) * (width - 2 * pad));
  const row = (i: number, n: number) => (n === 1 ? height / 2 : pad + (i / (n - 1)) * (height - 2 * pad));
  const units = sizes.flatMap((n, l) => Array.from({ length: n }, (_, i) => ({ x: column(l), y: row(i, n), layer: l })));
  const all: { l: number; o: number; i: number; w: number }[] = [];
  weights.forEach((W, l) => {
    const n = sizes[l] ?? 0, m = sizes[l + 1] ?? 0;
    if (W.length !== n * m) return;
    for (let o = 0; o < m; o++) for (let i = 0; i < n; i++) all.push({ l, o, i, w: W[o * n + i]! });
  });
  const shown = all.length <= maxEdges ? all : [...all].sort((a, b) => Math.abs(b.w) - Math.abs(a.w)).slice(0, maxEdges);
  const max = shown.reduce((m, e) => Math.max(m, Math.abs(e.w)), 0) || 1;
  const edges = shown.map(({ l, o, i, w }) => {
    const r = Math.abs(w) / max;
    return {
      x1: column(l), y1: row(i, sizes[l]!), x2: column(l + 1), y2: row(o, sizes[l + 1]!),
      color: w >= 0 ? WEIGHT_RGB.positive : WEIGHT_RGB.negative,
      opacity: Number((0.08 + 0.92 * r).toFixed(3)),
      width: Number((0.4 + 2.6 * r).toFixed(2)),
    };
  });
  return { width, height, units, edges, hidden: all.length - shown.length };
}
