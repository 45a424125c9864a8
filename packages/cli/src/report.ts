/**
 * A training run as files a person reads: `metrics.csv` (one row per epoch) and a self-contained `report.html`
 * (no scripts, no external files) with the loss and accuracy curves as SVG, the decision boundary of a 2-D
 * classifier, and the confusion matrix. Pure functions returning strings (they run in a browser too).
 */
import { fromTypedArray, nn, type Tensor } from "gradgraph";

type Dataset = nn.Dataset;
type Module = nn.Module;
type History = nn.History;
const { predict } = nn;

/** The class of each row of [n, k] scores (Tensor.argmax along the last axis). */
const argmax = (x: Tensor): Int32Array => Int32Array.from(x.argmax(-1).toArray());

/** Escapes text for HTML and SVG. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A number for a table or a CSV: up to 6 significant digits, no exponent for ordinary sizes. */
export function fmt(x: number | undefined, digits = 6): string {
  if (x === undefined || Number.isNaN(x)) return "";
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/**
 * The history as CSV: `epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds` (columns for
 * whatever metrics were recorded; empty cells where there is no value).
 */
export function metricsCsv(history: History): string {
  const trainKeys = [...new Set(history.epochs.flatMap((e) => Object.keys(e.train)))];
  const valKeys = [...new Set(history.epochs.flatMap((e) => Object.keys(e.validation ?? {})))];
  const head = ["epoch", "step", ...trainKeys.map((k) => `train_${k}`), ...valKeys.map((k) => `test_${k}`), "lr", "seconds", "complete"];
  const rows = history.epochs.map((e) =>
    [String(e.epoch), String(e.step), ...trainKeys.map((k) => fmt(e.train[k])), ...valKeys.map((k) => fmt(e.validation?.[k])), fmt(e.lr), e.seconds.toFixed(3), String(e.complete)].join(","),
  );
  return [head.join(","), ...rows].join("\n") + "\n";
}

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  /** Thin and faint (e.g. per-step losses under per-epoch means). */
  faint?: boolean;
  /** Draw a dot at every point. */
  dots?: boolean;
}

/** 1, 2 or 5 times a power of ten, near (hi − lo)/count: tick spacing for an axis. */
function niceStep(lo: number, hi: number, count = 5): number {
  const raw = (hi - lo) / count || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/**
 * A line chart as an SVG element: axes with ticks, one polyline per series, a legend.
 *
 * @example
 * lineChart([{ name: "train", points: [[1, 0.7], [2, 0.3]], color: "#1f77b4" }], { title: "loss", xLabel: "epoch" });
 */
export function lineChart(series: readonly Series[], o: { title: string; xLabel: string; yLabel?: string; width?: number; height?: number; yMin?: number; yMax?: number }): string {
  const W = o.width ?? 560, H = o.height ?? 300;
  const L = 56, R = 16, T = 30, B = 44;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x), ys = all.map(([, y]) => y);
  // Loops, not Math.min(...xs): a long run has more steps than a call may have arguments.
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const x of xs) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x));
  for (const y of ys) (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
  if (o.yMin !== undefined) y0 = o.yMin;
  if (o.yMax !== undefined) y1 = o.yMax;
  if (!Number.isFinite(x0)) (x0 = 0), (x1 = 1);
  if (!Number.isFinite(y0)) (y0 = 0), (y1 = 1);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) (y0 -= 0.5), (y1 += 0.5);
  const ys0 = y0, ystep = niceStep(y0, y1);
  y0 = o.yMin ?? Math.floor(ys0 / ystep) * ystep;
  y1 = o.yMax ?? Math.ceil(y1 / ystep) * ystep;
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${escapeHtml(o.title)}</title>`);
  parts.push(`<text x="${L}" y="18" font-size="13" font-weight="bold">${escapeHtml(o.title)}</text>`);
  // Grid and ticks.
  for (let v = y0; v <= y1 + ystep / 2; v += ystep) {
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text x="${L - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(v, 4)}</text>`);
  }
  const xstep = Math.max(niceStep(x0, x1, 6), Number.isInteger(x0) && Number.isInteger(x1) ? 1 : 0);
  for (let v = Math.ceil(x0 / xstep) * xstep; v <= x1 + 1e-9; v += xstep) {
    const x = px(v).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${H - B}" y2="${H - B + 4}" stroke="#444"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${fmt(v, 4)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`);
  // Lines (faint ones first, underneath).
  for (const s of [...series].sort((a, b) => Number(b.faint ?? false) - Number(a.faint ?? false))) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) continue;
    const d = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(Math.min(y1, Math.max(y0, y))).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="${s.faint ? 1 : 2}" opacity="${s.faint ? 0.35 : 1}"/>`);
    if (s.dots || pts.length === 1) for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
  }
  // Legend.
  series.forEach((s, i) => {
    const x = W - R - 150, y = T + 12 + 16 * i;
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2" opacity="${s.faint ? 0.5 : 1}"/><text x="${x + 24}" y="${y}" dominant-baseline="middle">${escapeHtml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** Colours of classes (the Tableau 10). */
export const CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** A lighter tint of a #rrggbb colour (for regions). */
function tint(hex: string, amount = 0.75): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  return `rgb(${mix(n >> 16)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}

/** The most data points a decision boundary draws per set, and the most points of a per-step loss curve. */
export const MAX_DRAWN = 2000;

/**
 * The decision regions of a 2-D classifier (predicted class on a grid over the data, as tinted rectangles, merged
 * along rows) with the training points (filled) and test points (ringed) on top, as an SVG element. Of a set of
 * more than {@link MAX_DRAWN} points, every k-th is drawn.
 */
export function decisionBoundary(model: Module, train: Dataset, test: Dataset | null, o: { size?: number; grid?: number } = {}): string {
  const S = o.size ?? 420, G = o.grid ?? 100, pad = 16;
  const pts = [train, ...(test ? [test] : [])].map((d) => ({ x: d.x.toArray(), y: d.y.toArray() }));
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const { x } of pts) {
    for (let i = 0; i < x.length; i += 2) {
      xmin = Math.min(xmin, x[i]!), xmax = Math.max(xmax, x[i]!);
      ymin = Math.min(ymin, x[i + 1]!), ymax = Math.max(ymax, x[i + 1]!);
    }
  }
  const mx = (xmax - xmin) * 0.08 || 1, my = (ymax - ymin) * 0.08 || 1;
  (xmin -= mx), (xmax += mx), (ymin -= my), (ymax += my);
  const grid = new Float64Array(G * G * 2);
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < G; c++) {
      grid[2 * (r * G + c)] = xmin + ((c + 0.5) / G) * (xmax - xmin);
      grid[2 * (r * G + c) + 1] = ymax - ((r + 0.5) / G) * (ymax - ymin);
    }
  }
  const dtype = train.x.dtype;
  const input: Tensor = fromTypedArray(dtype === "float64" ? grid : Float32Array.from(grid), [G * G, 2]);
  const out = predict(model, input);
  const cls = out.shape[1] === 1 ? Int32Array.from(out.toArray(), (v) => (v > 0 ? 1 : 0)) : argmax(out);
  const cell = (S - 2 * pad) / G;
  const sx = (x: number) => pad + ((x - xmin) / (xmax - xmin)) * (S - 2 * pad);
  const sy = (y: number) => pad + ((ymax - y) / (ymax - ymin)) * (S - 2 * pad);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${S} ${S}" width="${S}" height="${S}">`, `<title>decision boundary</title>`, `<g shape-rendering="crispEdges">`];
  for (let r = 0; r < G; r++) {
    let start = 0;
    for (let c = 1; c <= G; c++) {
      if (c === G || cls[r * G + c] !== cls[r * G + start]) {
        const k = cls[r * G + start]!;
        parts.push(`<rect x="${(pad + start * cell).toFixed(2)}" y="${(pad + r * cell).toFixed(2)}" width="${((c - start) * cell + 0.3).toFixed(2)}" height="${(cell + 0.3).toFixed(2)}" fill="${tint(CLASS_COLORS[k % 10]!)}"/>`);
        start = c;
      }
    }
  }
  parts.push("</g>");
  pts.forEach(({ x, y }, set) => {
    // At most MAX_DRAWN points per set (every k-th: the sets are shuffled), so a million-point run's report
    // stays a few hundred kB.
    const every = Math.ceil(y.length / MAX_DRAWN);
    for (let i = 0; i < y.length; i += every) {
      const color = CLASS_COLORS[y[i]! % 10]!;
      const attrs = set === 0 ? `fill="${color}" stroke="white" stroke-width="0.6"` : `fill="white" stroke="${color}" stroke-width="1.6"`;
      parts.push(`<circle cx="${sx(x[2 * i]!).toFixed(1)}" cy="${sy(x[2 * i + 1]!).toFixed(1)}" r="3" ${attrs}/>`);
    }
  });
  parts.push(`<rect x="${pad}" y="${pad}" width="${S - 2 * pad}" height="${S - 2 * pad}" fill="none" stroke="#444"/>`, "</svg>");
  return parts.join("\n");
}

/** counts[true][predicted] over a dataset. */
export function confusionMatrix(model: Module, data: Dataset, classes: number): number[][] {
  const out = predict(model, data.x);
  const pred = out.shape[1] === 1 ? Int32Array.from(out.toArray(), (v) => (v > 0 ? 1 : 0)) : argmax(out);
  const y = data.y.toArray();
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < pred.length; i++) {
    const t = y[i]!, p = pred[i]!;
    if (t >= 0 && t < classes && p < classes) m[t]![p]!++;
  }
  return m;
}

export interface ReportInput {
  title: string;
  /** Rows of the summary table. */
  summary: readonly (readonly [string, string])[];
  history: History;
  /** Metric names to chart besides the loss (e.g. accuracy). */
  metrics: readonly string[];
  /** The decision-boundary SVG (2-D data). */
  boundary?: string;
  confusion?: { classes: readonly string[]; counts: number[][]; split: string };
  /** Pretty JSON shown at the end (the run's config). */
  config?: unknown;
  /** A note at the top (e.g. stopped early). */
  note?: string;
}

/** The charts of a history: per-step loss (faint) with per-epoch train/test loss, then each metric per epoch. */
export function historyCharts(history: History, metrics: readonly string[]): string[] {
  const batches = history.epochs.length > 0 ? history.epochs[0]!.step : 1;
  const perEpoch = (get: (e: History["epochs"][number]) => number | undefined) =>
    history.epochs.map((e) => [e.step / Math.max(1, batches), get(e)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
  // A long run's per-step losses are averaged in groups, to at most MAX_DRAWN points.
  const group = Math.ceil(history.stepLosses.length / MAX_DRAWN);
  const stepPts: (readonly [number, number])[] = [];
  for (let i = 0; i < history.stepLosses.length; i += group) {
    const part = history.stepLosses.slice(i, i + group);
    stepPts.push([(i + (part.length + 1) / 2) / Math.max(1, batches), part.reduce((a, b) => a + b, 0) / part.length]);
  }
  const charts = [
    lineChart(
      [
        { name: "loss per step", points: stepPts, color: "#1f77b4", faint: true },
        { name: "train (epoch mean)", points: perEpoch((e) => e.train.loss), color: "#1f77b4", dots: true },
        { name: "test", points: perEpoch((e) => e.validation?.loss), color: "#d62728", dots: true },
      ],
      { title: "Loss", xLabel: "epoch", yMin: 0 },
    ),
  ];
  for (const m of metrics) {
    charts.push(
      lineChart(
        [
          { name: `train ${m}`, points: perEpoch((e) => e.train[m]), color: "#1f77b4", dots: true },
          { name: `test ${m}`, points: perEpoch((e) => e.validation?.[m]), color: "#d62728", dots: true },
        ],
        { title: m[0]!.toUpperCase() + m.slice(1), xLabel: "epoch" },
      ),
    );
  }
  return charts;
}

/** The whole report as one HTML document (inline CSS and SVG; nothing external). */
export function reportHtml(r: ReportInput): string {
  const rows = r.summary.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n");
  const charts = historyCharts(r.history, r.metrics).map((s) => `<figure>${s}</figure>`).join("\n");
  let confusion = "";
  if (r.confusion) {
    const { classes, counts, split } = r.confusion;
    const head = `<tr><th>true \\ predicted</th>${classes.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
    const body = counts
      .map((row, i) => `<tr><th>${escapeHtml(classes[i]!)}</th>${row.map((v, j) => `<td class="${i === j ? "diag" : v > 0 ? "off" : ""}">${v}</td>`).join("")}</tr>`)
      .join("\n");
    confusion = `<h2>Confusion matrix (${escapeHtml(split)})</h2>\n<table class="confusion">${head}\n${body}</table>`;
  }
  const boundary = r.boundary
    ? `<h2>Decision boundary</h2>\n<p class="small">Regions: the predicted class on a grid. Dots: training points (filled) and test points (rings), coloured by their true class.</p>\n<figure>${r.boundary}</figure>`
    : "";
  const config = r.config === undefined ? "" : `<h2>Configuration</h2>\n<pre>${escapeHtml(JSON.stringify(r.config, null, 2))}</pre>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(r.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; } th, td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #eee; }
table.confusion td { text-align: right; font-variant-numeric: tabular-nums; } td.diag { background: #e3f1e3; } td.off { background: #fbe9e7; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; } .note { background: #fff3cd; padding: 0.5em 1em; border-radius: 4px; }
.small { color: #666; font-size: 0.9em; } pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
${r.note ? `<p class="note">${escapeHtml(r.note)}</p>` : ""}
<table>
${rows}
</table>
<h2>Curves</h2>
${charts}
${boundary}
${confusion}
${config}
<p class="small">Written by gradgraph.</p>
</body>
</html>
`;
}
