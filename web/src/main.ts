/**
 * The explorer page: wires the fields, the tabs, the stepper, practice mode, the graph and the code panel to
 * the state (controller.ts), and draws each view with its renderer. All computing goes through the library's
 * public API (model.ts, steps.ts, practice.ts); the graph is laid out in a Web Worker (graph.ts, layout.ts).
 */
import { Explorer, isStepView } from "./controller.js";
import { GraphView } from "./graph.js";
import { analyse, drawing, EXAMPLES, tensorDrawing, type FieldError } from "./model.js";
import { CodePanel } from "./render-code.js";
import { renderCosts } from "./render-costs.js";
import { renderPractice, showAnswer, showHint, submitAnswer } from "./render-practice.js";
import { renderGrads, renderResult, renderTensorResult } from "./render-result.js";
import { renderHead, renderPlay, renderStep, tensorRuleLines, type StepperActions } from "./render-stepper.js";
import { practiceFrame, practiceOrder, type Frame } from "./steps.js";
import { withDefaults } from "./train-settings.js";
import { TrainView } from "./train-view.js";
import { DigitsView } from "./digits-view.js";
import { CompiledView } from "./compiled-view.js";
import { para, ui } from "./ui.js";
import { decodeState, encodeState, VIEWS, type View } from "./url.js";

const DEFAULT = EXAMPLES[0]!;
const initial = decodeState(location.search);
const ex = new Explorer(initial);
const graph = new GraphView(ui.graph);
const code = new CodePanel();

/** The training view (its worker starts when the view is first shown). */
const trainView = new TrainView(withDefaults(initial.train ?? {}));
/** The compiled-step panel below the training view (it traces when a user asks, then follows the settings). */
const compiledView = new CompiledView();
compiledView.setSettings(trainView.settings);
trainView.onChange = () => {
  compiledView.setSettings(trainView.settings);
  writeUrl();
};
/** The digits panel below the training view (its worker starts when a user asks it to train). */
new DigitsView();
/** Whether the expression has been read yet (a link to the training view reads it only when another view opens). */
let computed = false;
/** Whether the graph on screen is the shown problem's (steps are drawn on it only then). */
let graphReady = false;
let playing: number | null = null;

// ---- fields ---------------------------------------------------------------------------------------------------

for (const e of EXAMPLES) ui.example.add(new Option(e.label, e.expr));
ui.expr.value = initial.expr ?? DEFAULT.expr;
ui.point.value = initial.point ?? (initial.expr === undefined ? DEFAULT.point : "");

let debounce: number | undefined;
const scheduleCompute = () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => compute(false), 300);
};
ui.expr.addEventListener("input", scheduleCompute);
ui.point.addEventListener("input", scheduleCompute);
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  window.clearTimeout(debounce);
  compute(false);
});
ui.example.addEventListener("change", () => {
  const e = EXAMPLES.find((x) => x.expr === ui.example.value);
  if (e === undefined) return;
  ui.expr.value = e.expr;
  ui.point.value = e.point;
  compute(false);
});

/** The examples menu shows the example on the page, or "Choose…" when the fields hold something else. */
function syncExample(): void {
  const e = EXAMPLES.find((x) => x.expr === ui.expr.value && x.point === ui.point.value);
  ui.example.value = e?.expr ?? "";
}

function showErrors(errors: FieldError[]): void {
  ui.error.hidden = errors.length === 0;
  ui.error.textContent = errors.map((e) => e.text).join("\n");
  ui.expr.setAttribute("aria-invalid", String(errors.some((e) => e.field === "expr")));
  ui.point.setAttribute("aria-invalid", String(errors.some((e) => e.field === "point")));
}

/** Parses the fields and rebuilds everything; `restore` keeps the steps the URL asked for. */
function compute(restore: boolean): void {
  computed = true;
  syncExample();
  const analysis = analyse(ui.expr.value, ui.point.value);
  if (!analysis.ok) {
    showErrors(analysis.errors);
    document.body.classList.add("stale");
    stop();
    writeUrl();
    if (ex.shown === null) {
      // Nothing computed yet (a shared link with a mistake): say what the panels are waiting for.
      graph.note("The graph appears here once the expression and the point are read.");
      ui.controls.hidden = true;
      ui.explain.replaceChildren(para("The steps appear here once the expression and the point are read."));
      document.body.dataset["ready"] = "true";
    }
    return;
  }
  showErrors([]);
  document.body.classList.remove("stale");
  const isTensor = analysis.tensor !== undefined;
  const { change, notice } = ex.setProblem(analysis.problem ?? analysis.tensor, isTensor, restore);
  if (change === "same") return;
  ui.feedback.replaceChildren();
  ui.answer.value = "";
  showViewNotice(
    notice === null
      ? null
      : `${document.getElementById(`tab-${notice}`)?.textContent ?? notice} is not available for tensor inputs (it works on expressions of numbers), so the Backprop view is shown.`,
  );
  if (ex.tensor !== null) renderTensorResult(ex.tensor);
  else if (ex.problem !== null) renderResult(ex.problem, ex);
  if (change === "graph") draw();
  refresh();
}

/** Lays the graph out (in a worker, within a time budget), then shows the current step on it. */
function draw(): void {
  graphReady = false;
  const owner = ex.shown;
  if (owner === null) return;
  const d = ex.tensor !== null ? tensorDrawing(ex.tensor) : drawing(ex.problem!);
  graph
    .show(d)
    .then((result) => {
      if (result === "superseded" || ex.shown?.dot !== owner.dot) return;
      graphReady = result === "drawn";
      refresh();
      document.body.dataset["ready"] = "true";
    })
    .catch((e: unknown) => {
      graph.note(`The graph could not be drawn: ${e instanceof Error ? e.message : String(e)}`);
      document.body.dataset["ready"] = "true";
    });
}

// ---- URL ------------------------------------------------------------------------------------------------------

/**
 * Keeps the URL up to date. Chromium takes about 0.2 s to replace a URL of 20 kB (a 2,000-term expression), so a
 * long one is written once the page has been still for a moment rather than on every step.
 */
let urlTimer: number | undefined;
function writeUrl(): void {
  window.clearTimeout(urlTimer);
  if (ui.expr.value.length + ui.point.value.length < 2000) return replaceUrl();
  urlTimer = window.setTimeout(replaceUrl, 400);
}

function replaceUrl(): void {
  const step = isStepView(ex.view) ? ex.steps[ex.view] : null;
  // A training link leaves the expression out while it is the default example.
  const plain = ex.view === "train" && ui.expr.value === DEFAULT.expr && ui.point.value === DEFAULT.point;
  const url = encodeState({
    expr: plain ? null : ui.expr.value,
    point: plain ? null : ui.point.value,
    view: ex.view,
    step,
    wrt: ex.wrt,
    code: ex.code,
    train: trainView.settings,
  });
  history.replaceState(null, "", url);
}

ui.share.addEventListener("click", () => {
  replaceUrl();
  const done = (text: string) => {
    ui.shareStatus.textContent = text;
    window.setTimeout(() => (ui.shareStatus.textContent = ""), 4000);
  };
  if (navigator.clipboard === undefined) return done("Copy the address bar: it holds this view.");
  navigator.clipboard.writeText(location.href).then(
    () => done("Link copied."),
    () => done("Copy the address bar: it holds this view."),
  );
});

// ---- tabs -----------------------------------------------------------------------------------------------------

/** A short note under the tabs (why a view asked for is not shown), or none. */
function showViewNotice(text: string | null): void {
  ui.viewNotice.textContent = text ?? "";
  ui.viewNotice.hidden = text === null;
}

function selectView(view: View, focus = false): void {
  stop();
  showViewNotice(null);
  ex.view = view;
  if (view === "train") trainView.show();
  else trainView.hide();
  ui.skip.href = view === "train" ? "#train" : "#stepper";
  if (focus) document.getElementById(`tab-${view}`)?.focus();
  ui.stepper.setAttribute("aria-labelledby", `tab-${view}`);
  if (view !== "train" && !computed) compute(true);
  if (ex.problem !== null) renderGrads(ex.problem, ex);
  refresh();
}

for (const t of ui.tabs) {
  t.addEventListener("click", () => selectView(t.dataset["view"] as View));
  t.addEventListener("keydown", (e) => {
    const k = VIEWS.indexOf(t.dataset["view"] as View);
    const to = e.key === "ArrowRight" ? k + 1 : e.key === "ArrowLeft" ? k - 1 : e.key === "Home" ? 0 : e.key === "End" ? VIEWS.length - 1 : null;
    if (to === null) return;
    e.preventDefault();
    e.stopPropagation();
    selectView(VIEWS[(to + VIEWS.length) % VIEWS.length]!, true);
  });
}

// ---- stepping -------------------------------------------------------------------------------------------------

function go(step: number): void {
  if (ex.go(step)) refresh();
}

function stop(): void {
  if (playing !== null) window.clearInterval(playing);
  playing = null;
  renderPlay(false);
}

const actions: StepperActions = {
  go: (step) => {
    stop();
    go(step);
  },
  setWrt: (name) => {
    ex.wrt = name;
    if (isStepView(ex.view)) ex.steps[ex.view] = null;
    refresh();
  },
};

ui.first.addEventListener("click", () => go(0));
ui.prev.addEventListener("click", () => go(ex.currentStep() - 1));
ui.next.addEventListener("click", () => go(ex.currentStep() + 1));
ui.last.addEventListener("click", () => go(Infinity));
ui.play.addEventListener("click", () => {
  if (playing !== null) return stop();
  const stepper = ex.stepper();
  if (stepper === null) return;
  if (ex.currentStep() >= stepper.length - 1) go(0);
  renderPlay(true);
  playing = window.setInterval(() => {
    const s = ex.stepper();
    if (s === null || ex.currentStep() >= s.length - 1) return stop();
    go(ex.currentStep() + 1);
  }, 1100);
});

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const t = e.target as HTMLElement | null;
  if (t !== null && (t.closest("input, select, textarea, [role=tab]") !== null || t.isContentEditable)) return;
  if (ex.view === "train") {
    if (e.key !== "ArrowRight") return;
    e.preventDefault();
    trainView.keyStep();
    return;
  }
  if (ex.view === "practice") return;
  const moves: Record<string, () => number> = {
    ArrowRight: () => ex.currentStep() + 1,
    ArrowLeft: () => ex.currentStep() - 1,
    Home: () => 0,
    End: () => Infinity,
  };
  const move = moves[e.key];
  if (move === undefined) return;
  e.preventDefault();
  stop();
  go(move());
});

graph.onNodeClick = (id) => {
  if (ex.clickNode(id)) refresh();
};

document.getElementById("zoom-in")!.addEventListener("click", () => graph.setZoom(1.25));
document.getElementById("zoom-out")!.addEventListener("click", () => graph.setZoom(0.8));
document.getElementById("zoom-fit")!.addEventListener("click", () => graph.setZoom(null));

for (const r of ui.langs) {
  r.addEventListener("change", () => {
    if (!r.checked) return;
    ex.code = r.value === "ts" ? "ts" : "py";
    refresh();
  });
}

// ---- practice -------------------------------------------------------------------------------------------------

ui.restart.addEventListener("click", () => {
  ex.resetPractice();
  ui.feedback.replaceChildren();
  ui.answer.value = "";
  afterPractice();
  ui.answer.focus();
});
ui.practiceForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (ex.problem !== null && submitAnswer(ex.problem, ex)) afterPractice();
});
ui.hint.addEventListener("click", () => {
  if (ex.problem !== null) showHint(ex.problem, ex);
});
ui.reveal.addEventListener("click", () => {
  if (ex.problem === null) return;
  showAnswer(ex.problem, ex);
  afterPractice();
});

function afterPractice(): void {
  if (ex.problem !== null) renderGrads(ex.problem, ex);
  refresh();
}

// ---- one view, drawn ------------------------------------------------------------------------------------------

const EMPTY: Frame = { title: "", lines: [], current: [], related: [], edges: [], labels: [], code: null };

function refresh(): void {
  for (const t of ui.tabs) {
    const on = t.dataset["view"] === ex.view;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    t.disabled = ex.tensor !== null && t.dataset["view"] !== "backprop" && t.dataset["view"] !== "train";
  }
  document.body.dataset["view"] = ex.view;
  for (const r of ui.langs) r.checked = r.value === ex.code;
  writeUrl();
  if (ex.view === "train") return;
  ui.codeTitle.textContent = ex.tensor === null ? "Code" : "Trace";
  ui.codeLangs.hidden = ex.tensor !== null;
  const stepper = ex.stepper();
  const step = ex.currentStep();
  if (ex.tensor !== null && stepper !== null) {
    const t = ex.tensor;
    const frame = stepper.frame(step);
    ui.practice.hidden = true;
    renderStep(stepper, step, frame, tensorRuleLines(t, frame, step));
    renderHead(ex, null, stepper, actions);
    renderCosts(null, null, ex.view);
    if (graphReady) graph.apply(frame);
    code.showTrace(t, frame.current.length === 1 ? t.view.nodes[frame.current[0]!]!.name : null, step >= (stepper.backwardStart ?? Infinity));
    return;
  }
  const p = ex.problem;
  if (p === null) return;
  const practice = ex.view === "practice";
  let frame: Frame = EMPTY;
  ui.practice.hidden = !practice;
  if (practice) {
    ui.controls.hidden = true;
    frame = practiceFrame(p, ex.practice.answered, practiceOrder(p)[ex.practice.index] ?? null);
    renderPractice(p, ex);
    ui.explain.replaceChildren();
  } else if (stepper !== null) {
    frame = stepper.frame(step);
    renderStep(stepper, step, frame);
  } else {
    ui.controls.hidden = true;
    ui.explain.replaceChildren(para(`${p.output} has no inputs to differentiate with respect to.`));
  }
  renderHead(ex, p, stepper, actions);
  renderCosts(p, ex.wrt, ex.view);
  if (graphReady) graph.apply(frame);
  code.showCode(p, ex.code, frame, practice, ex.practice.answered);
}

// ---- start ----------------------------------------------------------------------------------------------------

renderPlay(false);
selectView(ex.view);
