/**
 * The training view's Web Worker: it owns the run (a {@link TrainSession}) so the page never waits for the
 * tensor engine. Training goes in slices of at most ~25 ms between which messages (pause, step) are read; the
 * page hears the new minibatch losses after every slice and, about 20 times a second, the whole splits' loss
 * and accuracy with the decision boundary's grid (transferred, not copied).
 *
 * Bundled by Vite (`new Worker(new URL("./train-worker.ts", import.meta.url), { type: "module" })`); it imports
 * the library's public API only, and nothing Node-only runs here (the 2-D datasets are generated in code).
 */
import { SPEEDS, type TrainSettings } from "./train-settings.js";
import { TrainSession, type FromWorker, type RunState, type ToWorker } from "./train-session.js";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Longest slice of training between two looks at the message queue (ms). */
const SLICE_MS = 25;
/** Time between two evaluations (and heat maps) while training (ms). */
const EVAL_MS = 50;

let run = 0;
let gridSize = 48;
let speed: TrainSettings["speed"] = "normal";
/** The current run's session (a promise: the data is loaded asynchronously; messages wait for it in order). */
let session: Promise<TrainSession | null> = Promise.resolve(null);
let running = false;
let timer: ReturnType<typeof setTimeout> | null = null;
/** Losses already sent to the page. */
let sent = 0;
let lastEval = 0;
/** Pace: steps done and the time since the pace was last set (for slow and normal speeds). */
let paceStart = 0;
let paceSteps = 0;

const now = () => performance.now();

function state(s: TrainSession): RunState {
  return { steps: s.steps, epoch: s.epoch, running, nextStage: s.nextStage, report: s.last };
}

function progress(s: TrainSession): void {
  const losses = s.losses.slice(sent);
  sent = s.losses.length;
  scope.postMessage({ type: "progress", run, losses, state: state(s) });
}

function evaluate(s: TrainSession): void {
  lastEval = now();
  const { train, test } = s.evaluate();
  const grid = s.boundary(gridSize);
  const weights = s.weights();
  scope.postMessage({ type: "eval", run, steps: s.steps, train, test, grid, gridSize, weights }, [grid.buffer, ...weights.map((w) => w.buffer)]);
}

function fail(e: unknown): void {
  running = false;
  scope.postMessage({ type: "error", run, message: e instanceof Error ? e.message : String(e) });
}

function stopTimer(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function resetPace(s: TrainSession): void {
  paceStart = now();
  paceSteps = s.steps;
}

/** One slice of training, then the next is scheduled (so messages in between are read). */
function slice(s: TrainSession, forRun: number): void {
  timer = null;
  if (!running || forRun !== run) return;
  try {
    const t0 = now();
    const rate = SPEEDS[speed];
    const due = Number.isFinite(rate) ? paceSteps + Math.floor(((t0 - paceStart) / 1000) * rate) : Infinity;
    while (s.steps < due && now() - t0 < SLICE_MS) s.step();
    progress(s);
    if (now() - lastEval >= EVAL_MS) evaluate(s);
  } catch (e) {
    return fail(e);
  }
  timer = setTimeout(() => slice(s, forRun), Number.isFinite(SPEEDS[speed]) ? 16 : 0);
}

/** Runs `f` on the current run's session once it is loaded (in message order). */
function withSession(f: (s: TrainSession) => void): void {
  const forRun = run;
  session.then((s) => {
    if (s === null || forRun !== run) return;
    try {
      f(s);
    } catch (e) {
      fail(e);
    }
  }, fail);
}

scope.onmessage = (e) => {
  const m = e.data;
  switch (m.type) {
    case "configure": {
      stopTimer();
      running = false;
      run = m.run;
      gridSize = m.gridSize;
      speed = m.settings.speed;
      sent = 0;
      const forRun = run;
      session = TrainSession.create(m.settings).then(
        (s) => {
          if (forRun !== run) return null;
          scope.postMessage({ type: "ready", run, info: s.info });
          progress(s);
          evaluate(s);
          return s;
        },
        (err: unknown) => {
          fail(err);
          return null;
        },
      );
      break;
    }
    case "speed":
      speed = m.speed;
      withSession(resetPace);
      break;
    case "play":
      withSession((s) => {
        if (running) return;
        running = true;
        resetPace(s);
        slice(s, run);
      });
      break;
    case "pause":
      withSession((s) => {
        stopTimer();
        running = false;
        progress(s);
        evaluate(s);
      });
      break;
    case "stage":
    case "step":
      withSession((s) => {
        stopTimer();
        running = false;
        const before = s.steps;
        if (m.type === "stage") s.stage();
        else s.step();
        progress(s);
        // The map and the figures change only when the parameters do.
        if (s.steps !== before) evaluate(s);
      });
      break;
  }
};
