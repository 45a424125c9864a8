/**
 * The training view: settings, the controls (train/pause, one minibatch, one stage, reset), the figures, the
 * decision boundary's heat map (a canvas), the loss curve (SVG) and the four stages of the loop. The run itself
 * lives in a Web Worker (train-worker.ts); this module only sends it commands and draws what it reports.
 */
import { CLASS_RGB, divergence, formatLoss, networkDiagram, formatPercent, formatTick, heatPixels, lossChart, stageText, type EvalPoint } from "./train-plot.js";
import type { Figures, FromWorker, RunInfo, RunState, Stage, StepReport, ToWorker } from "./train-session.js";
import {
  ACTIVATIONS,
  BATCH_SIZES,
  NOISES,
  WEIGHT_DECAYS,
  cliCommand,
  formatHidden,
  formatLr,
  LEARNING_RATES,
  MAX_SEED,
  OPTIMIZER_LABELS,
  OPTIMIZERS,
  parseHidden,
  SPEED_NAMES,
  TRAIN_DATASETS,
  layerSizes,
  parameterCount,
  type TrainSettings,
  type TrainSpeed,
} from "./train-settings.js";

const SVG_NS = "http://www.w3.org/2000/svg";
/** Cells per side of the heat map's grid (evaluated in the worker, smoothed when drawn). */
const GRID = 48;

const DATASET_LABELS: Record<TrainSettings["data"], string> = {
  moons: "Two moons",
  circles: "Circles",
  spirals: "Spirals",
  xor: "XOR",
};
const SPEED_LABELS: Record<TrainSpeed, string> = { slow: "Slow (10 steps/s)", normal: "Normal (100 steps/s)", fast: "Fast (as fast as it goes)" };
const STAGE_TITLES: Record<Stage, string> = { sample: "Sample", forward: "Forward", backprop: "Backprop", update: "Update" };

const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`missing #${id}`);
  return e as T;
};

function fill(select: HTMLSelectElement, options: readonly (readonly [string, string])[]): void {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
}

export class TrainView {
  settings: TrainSettings;
  /** Called when a setting changes (the page rewrites its URL). */
  onChange: (() => void) | null = null;

  private worker: Worker | null = null;
  private run = 0;
  private info: RunInfo | null = null;
  private state: RunState | null = null;
  private losses: number[] = [];
  private evals: EvalPoint[] = [];
  private last: { train: Figures; test: Figures; grid: Float32Array; gridSize: number } | null = null;
  /** Each layer's weights at the last evaluation (the network diagram). */
  private weights: Float32Array[] = [];
  /** Whether the page asked the worker to train (the button's state; the worker's is `state.running`). */
  private playing = false;
  private visible = false;
  private frame: number | null = null;
  private heat: HTMLCanvasElement = document.createElement("canvas");

  private readonly ui = {
    panel: el("train"),
    form: el<HTMLFormElement>("train-form"),
    data: el<HTMLSelectElement>("train-data"),
    hidden: el<HTMLInputElement>("train-hidden"),
    hiddenError: el("train-hidden-error"),
    act: el<HTMLSelectElement>("train-act"),
    opt: el<HTMLSelectElement>("train-opt"),
    lr: el<HTMLSelectElement>("train-lr"),
    batch: el<HTMLSelectElement>("train-batch"),
    seed: el<HTMLInputElement>("train-seed"),
    noise: el<HTMLSelectElement>("train-noise"),
    wd: el<HTMLSelectElement>("train-wd"),
    speed: el<HTMLSelectElement>("train-speed"),
    network: el("train-network"),
    play: el<HTMLButtonElement>("train-play"),
    step: el<HTMLButtonElement>("train-step"),
    stage: el<HTMLButtonElement>("train-stage"),
    reset: el<HTMLButtonElement>("train-reset"),
    status: el("train-status"),
    steps: el("train-steps"),
    epoch: el("train-epoch"),
    trainLoss: el("train-loss"),
    testLoss: el("test-loss"),
    trainAcc: el("train-acc"),
    testAcc: el("test-acc"),
    map: el<HTMLCanvasElement>("train-map"),
    legend: el("train-legend"),
    curve: el("train-curve"),
    log: el<HTMLInputElement>("train-log"),
    net: el("train-net"),
    warning: el("train-warning"),
    stages: el("train-stages"),
    stageTitle: el("train-stage-title"),
    cli: el("train-cli"),
  };

  constructor(settings: TrainSettings) {
    this.settings = { ...settings, hidden: [...settings.hidden] };
    const u = this.ui;
    fill(u.data, TRAIN_DATASETS.map((d) => [d, DATASET_LABELS[d]] as const));
    fill(u.act, ACTIVATIONS.map((a) => [a, a === "leaky_relu" ? "leaky ReLU" : a === "relu" ? "ReLU" : a === "gelu" ? "GELU" : a] as const));
    fill(u.opt, OPTIMIZERS.map((o) => [o, OPTIMIZER_LABELS[o]] as const));
    const lrs = [...LEARNING_RATES] as number[];
    if (!lrs.includes(this.settings.lr)) lrs.push(this.settings.lr), lrs.sort((a, b) => a - b);
    fill(u.lr, lrs.map((r) => [String(r), formatLr(r)] as const));
    const batches = [...BATCH_SIZES] as number[];
    if (!batches.includes(this.settings.batch)) batches.push(this.settings.batch), batches.sort((a, b) => a - b);
    fill(u.batch, batches.map((b) => [String(b), String(b)] as const));
    fill(u.speed, SPEED_NAMES.map((s) => [s, SPEED_LABELS[s]] as const));
    // "" is the default: the dataset's own noise, the optimizer's own weight decay (as the command line).
    const noises = [...NOISES] as number[];
    if (this.settings.noise !== null && !noises.includes(this.settings.noise)) noises.push(this.settings.noise), noises.sort((a, b) => a - b);
    fill(u.noise, [["", "the dataset's"] as const, ...noises.map((n) => [String(n), String(n)] as const)]);
    const wds = [...WEIGHT_DECAYS] as number[];
    if (this.settings.wd !== null && !wds.includes(this.settings.wd)) wds.push(this.settings.wd), wds.sort((a, b) => a - b);
    fill(u.wd, [["", "the optimizer's"] as const, ...wds.map((w) => [String(w), w === 0 ? "none (0)" : String(w)] as const)]);
    u.seed.max = String(MAX_SEED);
    this.showSettings();

    u.form.addEventListener("submit", (e) => e.preventDefault());
    for (const s of [u.data, u.act, u.opt, u.lr, u.batch, u.noise, u.wd]) s.addEventListener("change", () => this.readSettings());
    u.hidden.addEventListener("change", () => this.readSettings());
    u.hidden.addEventListener("keydown", (e) => e.key === "Enter" && this.readSettings());
    u.seed.addEventListener("change", () => this.readSettings());
    u.speed.addEventListener("change", () => {
      this.settings.speed = u.speed.value as TrainSpeed;
      this.post({ type: "speed", speed: this.settings.speed });
      this.onChange?.();
    });
    u.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    u.step.addEventListener("click", () => this.stepMinibatch());
    u.stage.addEventListener("click", () => this.stepStage());
    u.reset.addEventListener("click", () => this.reset());
    u.log.addEventListener("change", () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(u.map);
  }

  // ---- showing and hiding ---------------------------------------------------------------------------------

  /** Shows the view; the first time, starts the worker and the run. */
  show(): void {
    this.visible = true;
    this.ui.panel.hidden = false;
    if (this.worker === null) this.start();
    this.schedule();
  }

  /** Hides the view and pauses training (no work for an unseen page). */
  hide(): void {
    this.visible = false;
    this.ui.panel.hidden = true;
    if (this.playing) this.pause();
  }

  /** Steps one minibatch (the → key). */
  keyStep(): void {
    this.stepMinibatch();
  }

  // ---- settings -------------------------------------------------------------------------------------------

  private showSettings(): void {
    const u = this.ui, s = this.settings;
    u.data.value = s.data;
    u.hidden.value = formatHidden(s.hidden);
    u.act.value = s.act;
    u.opt.value = s.opt;
    u.lr.value = String(s.lr);
    u.batch.value = String(s.batch);
    u.seed.value = String(s.seed);
    u.speed.value = s.speed;
    u.noise.value = s.noise === null ? "" : String(s.noise);
    u.wd.value = s.wd === null ? "" : String(s.wd);
    this.showNetwork();
  }

  private showNetwork(): void {
    const sizes = layerSizes(this.settings);
    const split = this.info === null ? "" : ` · ${this.info.train.labels.length} training and ${this.info.test.labels.length} test points`;
    this.ui.network.textContent = `MLP ${sizes.join("-")} (${this.settings.act}) · ${parameterCount(sizes)} parameters${split}`;
    this.ui.cli.textContent = cliCommand(this.settings);
  }

  /** Reads the fields; a valid change starts a new run, an invalid one is flagged and changes nothing. */
  private readSettings(): void {
    const u = this.ui;
    const hidden = parseHidden(u.hidden.value);
    const seed = Number(u.seed.value);
    const seedOk = /^\d+$/.test(u.seed.value.trim()) && seed <= MAX_SEED;
    u.hidden.setAttribute("aria-invalid", String("error" in hidden));
    u.seed.setAttribute("aria-invalid", String(!seedOk));
    const errors = ["error" in hidden ? `Hidden layers: ${hidden.error}.` : "", seedOk ? "" : `Seed: a whole number from 0 to ${MAX_SEED}.`].filter(Boolean);
    u.hiddenError.hidden = errors.length === 0;
    u.hiddenError.textContent = errors.join(" ");
    if (errors.length > 0 || !("hidden" in hidden)) return;
    const next: TrainSettings = {
      data: u.data.value as TrainSettings["data"],
      hidden: hidden.hidden,
      act: u.act.value as TrainSettings["act"],
      opt: u.opt.value as TrainSettings["opt"],
      lr: Number(u.lr.value),
      batch: Number(u.batch.value),
      seed,
      speed: this.settings.speed,
      noise: u.noise.value === "" ? null : Number(u.noise.value),
      wd: u.wd.value === "" ? null : Number(u.wd.value),
    };
    u.hidden.value = formatHidden(next.hidden);
    const same = JSON.stringify(next) === JSON.stringify(this.settings);
    this.settings = next;
    this.showNetwork();
    if (same) return;
    this.onChange?.();
    this.reset();
  }

  // ---- the worker -----------------------------------------------------------------------------------------

  private start(): void {
    try {
      this.worker = new Worker(new URL("./train-worker.ts", import.meta.url), { type: "module" });
    } catch (e) {
      this.setStatus(`The training worker could not start: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.setStatus(`The training worker failed: ${e.message || "unknown error"}`);
    };
    this.reset();
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private receive(m: FromWorker): void {
    if (m.run !== this.run) return; // an older run's last words
    switch (m.type) {
      case "ready":
        this.info = m.info;
        this.showNetwork();
        this.showLegend();
        break;
      case "progress":
        for (const l of m.losses) this.losses.push(l);
        this.state = m.state;
        break;
      case "eval":
        this.last = { train: m.train, test: m.test, grid: m.grid, gridSize: m.gridSize };
        this.weights = m.weights;
        if (this.evals.at(-1)?.step !== m.steps) {
          this.evals.push({ step: m.steps, trainLoss: m.train.loss, testLoss: m.test.loss, trainAccuracy: m.train.accuracy, testAccuracy: m.test.accuracy });
        }
        break;
      case "error":
        this.playing = false;
        this.setStatus(`Training stopped: ${m.message}`);
        break;
    }
    this.schedule();
  }

  private setStatus(text: string): void {
    this.ui.status.textContent = text;
  }

  // ---- commands -------------------------------------------------------------------------------------------

  private play(): void {
    this.playing = true;
    this.setStatus("Training…");
    this.post({ type: "play" });
    this.showButtons();
  }

  private pause(): void {
    this.playing = false;
    this.setStatus("Paused.");
    this.post({ type: "pause" });
    this.showButtons();
  }

  private stepMinibatch(): void {
    this.playing = false;
    this.setStatus("");
    this.post({ type: "step" });
    this.showButtons();
  }

  private stepStage(): void {
    this.playing = false;
    this.setStatus("");
    this.post({ type: "stage" });
    this.showButtons();
  }

  /** A new run with the current settings: fresh weights from the seed, the first minibatch next. */
  reset(): void {
    if (this.worker === null) return;
    this.run++;
    this.playing = false;
    this.info = null;
    this.state = null;
    this.last = null;
    this.weights = [];
    this.losses = [];
    this.evals = [];
    this.ui.panel.dataset["ready"] = "false";
    this.setStatus("");
    this.post({ type: "configure", run: this.run, settings: this.settings, gridSize: GRID });
    this.showButtons();
    this.schedule();
  }

  private showButtons(): void {
    const u = this.ui;
    u.play.setAttribute("aria-pressed", String(this.playing));
    u.play.textContent = this.playing ? "⏸ Pause" : "▶ Train";
    u.play.title = this.playing ? "Pause training" : "Train until paused";
  }

  // ---- drawing --------------------------------------------------------------------------------------------

  /** Redraws on the next animation frame (many messages, one drawing). */
  private schedule(): void {
    if (this.frame !== null || !this.visible) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  private draw(): void {
    const u = this.ui, s = this.state, f = this.last;
    this.showButtons();
    u.steps.textContent = String(s?.steps ?? 0);
    u.epoch.textContent = s === null || s.report === null ? "0" : `${s.report.epoch} (batch ${s.report.batch} of ${s.report.batches})`;
    u.trainLoss.textContent = f === null ? "…" : formatLoss(f.train.loss);
    u.testLoss.textContent = f === null ? "…" : formatLoss(f.test.loss);
    u.trainAcc.textContent = f === null ? "…" : formatPercent(f.train.accuracy);
    u.testAcc.textContent = f === null ? "…" : formatPercent(f.test.accuracy);
    this.drawStages();
    this.drawMap();
    this.drawCurve();
    this.drawNet();
    const warning = divergence(this.losses, this.evals, this.settings.lr);
    u.warning.hidden = warning === null;
    if (u.warning.textContent !== (warning ?? "")) u.warning.textContent = warning ?? "";
    // For tests and styles: what the page shows (set with the text, so they always agree).
    u.panel.dataset["running"] = String(s?.running ?? false);
    u.panel.dataset["steps"] = String(s?.steps ?? 0);
    u.panel.dataset["stage"] = s?.report?.stage ?? "";
    if (this.info !== null && f !== null) u.panel.dataset["ready"] = "true";
  }

  private drawStages(): void {
    const s = this.state;
    const r = s?.report ?? null;
    const running = s?.running ?? false;
    // The minibatch on show: the one in progress, else the last completed.
    for (const li of Array.from(this.ui.stages.querySelectorAll<HTMLLIElement>("li[data-stage]"))) {
      const stage = li.dataset["stage"] as Stage;
      const value = li.querySelector<HTMLElement>(".stage-value")!;
      const text = r === null ? null : stageText(stage, r, this.info);
      value.textContent = text ?? (r === null ? "—" : s!.nextStage === stage ? "next" : "…");
      li.classList.toggle("pending", text === null);
      const current = r !== null && !running && r.stage === stage;
      li.classList.toggle("current", current);
      if (current) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    const title =
      r === null
        ? "Nothing trained yet: Step stage walks through the first minibatch one stage at a time."
        : running
          ? "Training: the figures below are the latest minibatch's. Pause to follow one minibatch through the loop."
          : `Step ${r.step} · ${STAGE_TITLES[r.stage]} done${r.stage === "update" ? ": the parameters have changed" : `; next: ${STAGE_TITLES[s!.nextStage]}`}`;
    if (this.ui.stageTitle.textContent !== title) this.ui.stageTitle.textContent = title;
  }

  private showLegend(): void {
    const info = this.info;
    if (info === null) return;
    const items = info.classes.map((name, k) => {
      const span = document.createElement("span");
      span.className = "key";
      const dot = document.createElement("i");
      dot.style.background = `rgb(${CLASS_RGB[k % CLASS_RGB.length]!.join(",")})`;
      span.append(dot, name);
      return span;
    });
    const extra = document.createElement("span");
    extra.className = "key-note";
    extra.textContent = "● training · ○ test · ◎ the minibatch";
    this.ui.legend.replaceChildren(...items, extra);
  }

  private drawMap(): void {
    const canvas = this.ui.map, info = this.info, f = this.last;
    const css = canvas.clientWidth;
    if (css === 0) return;
    const dpr = Math.min(3, window.devicePixelRatio || 1);
    const size = Math.round(css * dpr);
    if (canvas.width !== size || canvas.height !== size) (canvas.width = size), (canvas.height = size);
    const ctx = canvas.getContext("2d");
    if (ctx === null) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    if (info === null) return;
    const k = info.classes.length;
    if (f !== null) {
      const g = f.gridSize;
      if (this.heat.width !== g) (this.heat.width = g), (this.heat.height = g);
      const hctx = this.heat.getContext("2d")!;
      const img = hctx.createImageData(g, g);
      heatPixels(f.grid, g, k, img.data);
      hctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(this.heat, 0, 0, size, size);
    }
    const { xmin, xmax, ymin, ymax } = info.bounds;
    const sx = (x: number) => ((x - xmin) / (xmax - xmin)) * size;
    const sy = (y: number) => ((ymax - y) / (ymax - ymin)) * size;
    const rad = Math.max(2.2, Math.min(4, css / 110)) * dpr;
    const color = (c: number) => `rgb(${CLASS_RGB[c % CLASS_RGB.length]!.join(",")})`;
    const dot = (x: number, y: number, c: number, hollow: boolean) => {
      ctx.beginPath();
      ctx.arc(sx(x), sy(y), rad, 0, 2 * Math.PI);
      ctx.fillStyle = hollow ? "#fff" : color(c);
      ctx.fill();
      ctx.lineWidth = hollow ? 1.8 * dpr : 0.8 * dpr;
      ctx.strokeStyle = hollow ? color(c) : "#fff";
      ctx.stroke();
    };
    for (const [pts, hollow] of [[info.train, false], [info.test, true]] as const) {
      for (let i = 0; i < pts.labels.length; i++) dot(pts.xy[2 * i]!, pts.xy[2 * i + 1]!, pts.labels[i]!, hollow);
    }
    // The minibatch of the step on show, ringed.
    const r = this.state?.report;
    if (r?.sample !== undefined && !(this.state?.running ?? false)) {
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = "#1d2330";
      const p = r.sample.points;
      for (let i = 0; i + 1 < p.length; i += 2) {
        ctx.beginPath();
        ctx.arc(sx(p[i]!), sy(p[i + 1]!), rad + 3 * dpr, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    const acc = f === null ? "" : `; training accuracy ${formatPercent(f.train.accuracy)}, test accuracy ${formatPercent(f.test.accuracy)}`;
    canvas.setAttribute("aria-label", `Decision boundary of MLP ${info.sizes.join("-")} on ${this.settings.data}: each region tinted by the class the network predicts there${acc}`);
  }

  /** The network diagram: each weight an edge, blue positive, orange negative, darker and thicker when larger. */
  private drawNet(): void {
    const info = this.info, svg = this.ui.net;
    if (info === null || this.weights.length === 0) return svg.replaceChildren();
    const d = networkDiagram(info.sizes, this.weights, Math.max(260, Math.min(900, svg.clientWidth || 420)), 220);
    const make = (tag: string, attrs: Record<string, string | number>) => {
      const e = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      return e;
    };
    const parts: Element[] = d.edges.map((e) =>
      make("line", { x1: e.x1, y1: e.y1, x2: e.x2, y2: e.y2, stroke: e.color, "stroke-opacity": e.opacity, "stroke-width": e.width }),
    );
    const r = Math.max(2, Math.min(6, 90 / Math.max(...info.sizes)));
    for (const u of d.units) parts.push(make("circle", { cx: u.x, cy: u.y, r }));
    svg.setAttribute("viewBox", `0 0 ${d.width} ${d.height}`);
    svg.replaceChildren(...parts);
    svg.setAttribute("aria-label", `The network's weights: MLP ${info.sizes.join("-")}, ${d.edges.length} weights drawn${d.hidden > 0 ? ` (the largest; ${d.hidden} smaller ones left out)` : ""}`);
  }

  private drawCurve(): void {
    // Laid out at the panel's width, so the text keeps its size.
    const chart = lossChart(this.losses, this.evals, Math.max(260, Math.min(900, this.ui.curve.clientWidth || 420)), 220, this.ui.log.checked);
    const svg = this.ui.curve;
    const make = (tag: string, attrs: Record<string, string | number>, text?: string) => {
      const e = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const { plot } = chart;
    const parts: Element[] = [];
    for (const t of chart.yTicks) {
      parts.push(make("line", { x1: plot.left, x2: plot.right, y1: t.y, y2: t.y, class: "grid" }));
      parts.push(make("text", { x: plot.left - 6, y: t.y + 4, "text-anchor": "end", class: "tick" }, formatTick(t.value)));
    }
    for (const t of chart.xTicks) {
      parts.push(make("line", { x1: t.x, x2: t.x, y1: plot.top, y2: plot.bottom, class: "grid" }));
      parts.push(make("text", { x: t.x, y: plot.bottom + 16, "text-anchor": "middle", class: "tick" }, formatTick(t.value)));
    }
    parts.push(make("text", { x: plot.right, y: chart.height - 2, "text-anchor": "end", class: "axis" }, "step"));
    parts.push(make("path", { d: chart.minibatch, class: "minibatch" }));
    parts.push(make("path", { d: chart.test, class: "test" }));
    parts.push(make("path", { d: chart.train, class: "train" }));
    svg.setAttribute("viewBox", `0 0 ${chart.width} ${chart.height}`);
    svg.replaceChildren(...parts);
    const e = this.evals.at(-1);
    svg.setAttribute("aria-label", e === undefined ? "Loss curve (empty)" : `Loss curve: training-set loss ${formatLoss(e.trainLoss)} and test loss ${formatLoss(e.testLoss)} at step ${e.step}`);
  }
}
