/**
 * What `gradgraph train` and `eval` print while and after they run: the progress bar (or plain lines when stderr
 * is not a terminal), and the number formats of the summary.
 */
import cliProgress from "cli-progress";
import type { History, StepInfo } from "gradgraph/nn";
import type { Io } from "./io.js";

export const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : `${(100 * x).toFixed(2)}%`);
export const num = (x: number | undefined) => (x === undefined ? "–" : Number.isNaN(x) ? "NaN" : x === Infinity ? "inf" : x < 1e-4 ? x.toExponential(3) : x.toFixed(4));

/** `1 epoch`, `3 epochs`. */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : word === "batch" ? "es" : "s"}`;

/** `1:05` or `12s`. */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const r = Math.round(s);
  return r < 60 ? `${r}s` : `${Math.floor(r / 60)}:${String(r % 60).padStart(2, "0")}`;
}

/** The table of final figures that train and eval both print. */
export function figuresTable(rows: readonly [string, Record<string, number>][]): string {
  const lines = ["           loss      accuracy"];
  for (const [name, r] of rows) lines.push(`  ${name.padEnd(7)}  ${num(r.loss).padStart(8)}  ${pct(r.accuracy).padStart(9)}`);
  return lines.join("\n") + "\n";
}

/** Progress: a bar on a terminal, or a plain line now and then. */
export function progressReporter(io: Io, epochs: number, batches: number, batchSize: number) {
  const total = epochs * batches;
  if (io.isTTY && process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: "epoch {epoch}/{epochs} |{bar}| batch {batch}/{batches} | loss {loss} | acc {acc} | {rate}/s | ETA {eta_formatted}",
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 10,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { epoch: 1, epochs, batch: 0, batches, loss: "–", acc: "–", rate: "–" });
    let active = true;
    return {
      step: (s: StepInfo) =>
        bar.update(s.step, {
          epoch: s.epoch,
          batch: s.batch,
          loss: s.running.loss!.toFixed(4),
          acc: pct(s.running.accuracy),
          rate: `${Math.round(s.samples / Math.max(1e-9, s.seconds))} samples`,
        }),
      epoch: (_r: History["epochs"][number]) => {},
      stop: () => {
        if (active) bar.stop();
        active = false;
      },
    };
  }
  let lastLine = 0;
  let lastStep: StepInfo | null = null;
  const every = Math.max(1, Math.ceil(epochs / 10));
  const line = (s: StepInfo, extra: string) => {
    const rate = s.samples / Math.max(1e-9, s.seconds);
    const eta = ((total - s.step) * batchSize) / rate;
    io.err(
      `epoch ${s.epoch}/${epochs}  batch ${s.batch}/${batches}  loss ${s.running.loss!.toFixed(4)}  acc ${pct(s.running.accuracy)}${extra}  ${Math.round(rate)} samples/s  ETA ${duration(eta)}\n`,
    );
    lastLine = s.seconds;
  };
  return {
    step: (s: StepInfo) => {
      lastStep = s;
      // A long epoch also gets a line every 10 seconds.
      if (s.seconds - lastLine >= 10 && s.batch < batches) line(s, "");
    },
    epoch: (r: History["epochs"][number]) => {
      if (lastStep === null) return;
      if (r.epoch === 1 || r.epoch === epochs || r.epoch % every === 0 || !r.complete) {
        line(lastStep, r.validation ? `  test loss ${r.validation.loss!.toFixed(4)}  test acc ${pct(r.validation.accuracy)}` : "");
      }
    },
    stop: () => {},
  };
}
