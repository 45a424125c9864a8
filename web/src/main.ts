/**
 * The explorer page: wires the fields, the tabs, the stepper, practice mode, the graph and the code panel to
 * the model. All computing goes through the library's public API (see model.ts, steps.ts, practice.ts).
 */
import { forwardMode, reverseMode, type CodeLine, type CodeTarget } from "../../src/index.js";
import { GraphView } from "./graph.js";
import { analyse, codeLines, drawing, EXAMPLES, fmt, nested, pathsFor, shapeText, tensorDrawing, type Drawing, type FieldError, type Problem, type TensorProblem } from "./model.js";
import { check, parseAnswer } from "./practice.js";
import { backpropStepper, dname, forwardModeStepper, pathsStepper, practiceFrame, practiceOrder, tensorStepper, type Frame, type Line, type Stepper } from "./steps.js";
import { withDefaults } from "./train-settings.js";
import { TrainView } from "./train-view.js";
import { decodeState, encodeState, VIEWS, type View } from "./url.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
};

const ui = {
  form: $<HTMLFormElement>("problem"),
  expr: $<HTMLInputElement>("expr"),
  point: $<HTMLInputElement>("point"),
  example: $<HTMLSelectElement>("example"),
  error: $("error"),
  result: $("result"),
  value: $("value"),
  at: $("at"),
  grads: $("grads"),
  share: $<HTMLButtonElement>("share"),
  shareStatus: $("share-status"),
  tabs: Array.from(document.querySelectorAll<HTMLButtonElement>('[role="tab"]')),
  viewNotice: $("view-notice"),
  stepper: $("stepper"),
  stepperHead: $("stepper-head"),
  controls: $("controls"),
  first: $<HTMLButtonElement>("first"),
  prev: $<HTMLButtonElement>("prev"),
  play: $<HTMLButtonElement>("play"),
  next: $<HTMLButtonElement>("next"),
  last: $<HTMLButtonElement>("last"),
  stepLabel: $("step-label"),
  explain: $("explain"),
  practice: $("practice"),
  practiceForm: $<HTMLFormElement>("practice-form"),
  answer: $<HTMLInputElement>("answer"),
  answerLabel: $("answer-label"),
  feedback: $("feedback"),
  score: $("score"),
  restart: $<HTMLButtonElement>("restart"),
  costs: $("costs"),
  code: $("code"),
  codeTitle: $("code-title"),
  codeLangs: $("code-langs"),
  langs: Array.from(document.querySelectorAll<HTMLInputElement>('input[name="lang"]')),
};

const graph = new GraphView($("graph"));
/** The views that step through the expression's graph. */
type StepView = Exclude<View, "practice" | "train">;
const isStepView = (v: View): v is StepView => v !== "practice" && v !== "train";

const DEFAULT = EXAMPLES[0]!;
const initial = decodeState(location.search);

/** The page's state (what the URL encodes, plus practice progress). */
const state = {
  view: initial.view ?? ("backprop" as View),
  code: initial.code ?? ("py" as CodeTarget),
  wrt: initial.wrt ?? null,
  /** Each stepper view's position; null: its default (backprop: the last step, showing everything). */
  steps: { backprop: null, forward: null, paths: null } as Record<StepView, number | null>,
  practice: { index: 0, answered: new Set<number>(), correct: 0, wrong: 0 },
};
if (initial.step !== undefined && initial.step !== null && isStepView(state.view)) state.steps[state.view] = initial.step;

/** The training view (its worker starts when the view is first shown). */
const trainView = new TrainView(withDefaults(initial.train ?? {}));
trainView.onChange = () => writeUrl();
/** Whether the expression has been read yet (a link to the training view reads it only when another view opens). */
let computed = false;

/** The scalar problem on the page, or the tensor one (at most one of them is set). */
let problem: Problem | null = null;
let tensor: TensorProblem | null = null;
let stepper: (Stepper & { backwardStart?: number; stepOf?: (node: number, pass: "forward" | "backward") => number }) | null = null;
let graphReady = false;
let playing: number | null = null;

// ---- fields ---------------------------------------------------------------------------------------------------

for (const ex of EXAMPLES) ui.example.add(new Option(ex.label, ex.expr));
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
  const ex = EXAMPLES.find((x) => x.expr === ui.example.value);
  if (ex === undefined) return;
  ui.expr.value = ex.expr;
  ui.point.value = ex.point;
  ui.example.value = "";
  compute(false);
});

function showErrors(errors: FieldError[]): void {
  ui.error.hidden = errors.length === 0;
  ui.error.textContent = errors.map((e) => e.text).join("\n");
  ui.expr.setAttribute("aria-invalid", String(errors.some((e) => e.field === "expr")));
  ui.point.setAttribute("aria-invalid", String(errors.some((e) => e.field === "point")));
}

/** Parses the fields and rebuilds everything; `restore` keeps the steps the URL asked for. */
function compute(restore: boolean): void {
  computed = true;
  const analysis = analyse(ui.expr.value, ui.point.value);
  if (!analysis.ok) {
    showErrors(analysis.errors);
    document.body.classList.add("stale");
    stop();
    writeUrl();
    if (problem === null && tensor === null) {
      // Nothing drawn yet (a shared link with a mistake): say what the panel is waiting for.
      $("graph").replaceChildren(para("The graph appears here once the expression and the point are read."));
      document.body.dataset["ready"] = "true";
    }
    return;
  }
  showErrors([]);
  document.body.classList.remove("stale");
  const shown = problem ?? tensor;
  const next = analysis.problem ?? analysis.tensor;
  if (shown !== null && shown.expr === next.expr && shown.point === next.point) return;
  const sameGraph = shown !== null && shown.dot === next.dot;
  if (!restore) state.steps = { backprop: null, forward: null, paths: null };
  resetPractice();
  showViewNotice(null);
  if (analysis.tensor !== undefined) {
    // The scalar views do not apply to tensors: the backprop stepper shows values and gradients as arrays.
    problem = null;
    tensor = analysis.tensor;
    if (state.view !== "backprop" && state.view !== "train") {
      // A link may ask for a scalar view: say why it is not shown rather than drop it silently.
      const name = document.getElementById(`tab-${state.view}`)?.textContent ?? state.view;
      showViewNotice(`${name} is not available for tensor inputs (it works on expressions of numbers), so the Backprop view is shown.`);
      state.view = "backprop";
    }
    showTensorResult(tensor);
    if (!sameGraph) draw(tensorDrawing(tensor));
  } else {
    tensor = null;
    problem = analysis.problem;
    const names = problem.graph.names;
    if (state.wrt === null || !names.includes(state.wrt)) state.wrt = names.find((n) => n !== "x" && n !== "y") ?? names[0] ?? null;
    showResult(problem);
    if (!sameGraph) draw(drawing(problem));
  }
  refresh();
}

/** Graphs with more nodes are not drawn (Graphviz takes about a second per thousand nodes). */
const MAX_DRAWN = 1500;

/** Lays the graph out (asynchronously: Graphviz loads on first use), then shows the current step on it. */
function draw(d: Drawing): void {
  graphReady = false;
  if (d.nodes.length > MAX_DRAWN) {
    // Graphviz would hold the page for seconds; everything else still works on a graph this size.
    $("graph").replaceChildren(para(`This graph has ${d.nodes.length} nodes, too many to draw here (at most ${MAX_DRAWN}); the stepper and the code still work.`));
    document.body.dataset["ready"] = "true";
    return;
  }
  const owner = problem ?? tensor;
  graph
    .show(d)
    .then((shown) => {
      if (!shown || (problem ?? tensor) !== owner) return;
      graphReady = true;
      refresh();
      document.body.dataset["ready"] = "true";
    })
    .catch((e: unknown) => {
      $("graph").textContent = `The graph could not be drawn: ${e instanceof Error ? e.message : String(e)}`;
    });
}

function showTensorResult(t: TensorProblem): void {
  const root = t.view.nodes[t.view.root]!;
  const of = t.view.seededWithOnes ? `sum(${t.output})` : t.output;
  ui.value.textContent = `${t.output} ${shapeText(root.shape)} = ${nested(root.value, 60)}`;
  const inputs = t.view.nodes.filter((n) => n.kind === "input");
  ui.at.textContent = `at ${inputs.map((n) => `${n.name} ${shapeText(n.shape)}`).join(", ")}`;
  ui.grads.replaceChildren(
    ...inputs.map((n) => {
      const li = document.createElement("li");
      li.dataset["input"] = n.name;
      li.textContent = `∂${of}/∂${n.name} = ${n.grad === null ? "0" : nested(n.grad, 60)}`;
      return li;
    }),
  );
}

function showResult(p: Problem): void {
  const root = p.snap.nodes[p.snap.root]!;
  ui.value.textContent = `${p.output} = ${fmt(root.value!)}`;
  ui.at.textContent = p.graph.names.length > 0 ? `at ${p.graph.names.map((n, i) => `${n} = ${fmt(p.graph.inputs[i]!.data)}`).join(", ")}` : "";
  ui.grads.replaceChildren(
    ...p.snap.params.map((id) => {
      const li = document.createElement("li");
      li.dataset["input"] = p.snap.nodes[id]!.name;
      return li;
    }),
  );
  showGrads();
}

/** The gradients in the summary (hidden in practice mode until found). */
function showGrads(): void {
  if (problem === null || tensor !== null) return;
  const p = problem;
  for (const li of Array.from(ui.grads.querySelectorAll<HTMLLIElement>("li"))) {
    const id = p.snap.params.find((q) => p.snap.nodes[q]!.name === li.dataset["input"])!;
    const hidden = state.view === "practice" && !state.practice.answered.has(id);
    li.textContent = `${dname(p, id)} = ${hidden ? "?" : fmt(p.snap.nodes[id]!.grad!)}`;
    li.classList.toggle("hidden-grad", hidden);
  }
}

// ---- URL ------------------------------------------------------------------------------------------------------

function writeUrl(): void {
  const step = isStepView(state.view) ? state.steps[state.view] : null;
  // A training link leaves the expression out while it is the default example.
  const plain = state.view === "train" && ui.expr.value === DEFAULT.expr && ui.point.value === DEFAULT.point;
  const url = encodeState({
    expr: plain ? null : ui.expr.value,
    point: plain ? null : ui.point.value,
    view: state.view,
    step,
    wrt: state.wrt,
    code: state.code,
    train: trainView.settings,
  });
  history.replaceState(null, "", url);
}

ui.share.addEventListener("click", () => {
  writeUrl();
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
  state.view = view;
  if (view === "train") trainView.show();
  else trainView.hide();
  skip.href = view === "train" ? "#train" : "#stepper";
  for (const t of ui.tabs) {
    const on = t.dataset["view"] === view;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    if (on && focus) t.focus();
  }
  ui.stepper.setAttribute("aria-labelledby", `tab-${view}`);
  document.body.dataset["view"] = view;
  if (view !== "train" && !computed) compute(true);
  refresh();
}

const skip = document.querySelector<HTMLAnchorElement>("a.skip")!;

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

function currentStep(): number {
  if (stepper === null || !isStepView(state.view)) return 0;
  const s = state.steps[state.view];
  return s === null ? stepper.length - 1 : Math.min(Math.max(0, s), stepper.length - 1);
}

function go(step: number): void {
  if (stepper === null || !isStepView(state.view)) return;
  state.steps[state.view] = Math.min(Math.max(0, step), stepper.length - 1);
  refresh();
}

function stop(): void {
  if (playing !== null) window.clearInterval(playing);
  playing = null;
  ui.play.setAttribute("aria-pressed", "false");
  ui.play.textContent = "▶ Play";
}

ui.first.addEventListener("click", () => go(0));
ui.prev.addEventListener("click", () => go(currentStep() - 1));
ui.next.addEventListener("click", () => go(currentStep() + 1));
ui.last.addEventListener("click", () => go(Infinity));
ui.play.addEventListener("click", () => {
  if (playing !== null) return stop();
  if (stepper === null) return;
  if (currentStep() >= stepper.length - 1) go(0);
  ui.play.setAttribute("aria-pressed", "true");
  ui.play.textContent = "⏸ Pause";
  playing = window.setInterval(() => {
    if (stepper === null || currentStep() >= stepper.length - 1) return stop();
    go(currentStep() + 1);
  }, 1100);
});

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const t = e.target as HTMLElement | null;
  if (t !== null && (t.closest("input, select, textarea, [role=tab]") !== null || t.isContentEditable)) return;
  if (state.view === "train") {
    if (e.key !== "ArrowRight") return;
    e.preventDefault();
    trainView.keyStep();
    return;
  }
  if (state.view === "practice") return;
  const moves: Record<string, () => number> = {
    ArrowRight: () => currentStep() + 1,
    ArrowLeft: () => currentStep() - 1,
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
  if (stepper === null || problem === null) return;
  if (state.view === "backprop" && stepper.stepOf !== undefined) {
    const inBackward = currentStep() >= (stepper.backwardStart ?? 0);
    const n = problem.snap.nodes[id]!;
    if (inBackward && n.requiresGrad) go(stepper.stepOf(id, "backward"));
    else if (n.kind === "op") go(stepper.stepOf(id, "forward"));
  } else if ((state.view === "forward" || state.view === "paths") && problem.snap.params.includes(id)) {
    state.wrt = problem.snap.nodes[id]!.name;
    state.steps[state.view] = null;
    refresh();
  }
};

$("zoom-in").addEventListener("click", () => graph.setZoom(1.25));
$("zoom-out").addEventListener("click", () => graph.setZoom(0.8));
$("zoom-fit").addEventListener("click", () => graph.setZoom(null));

for (const r of ui.langs) {
  r.addEventListener("change", () => {
    if (!r.checked) return;
    state.code = r.value as CodeTarget;
    refresh();
  });
}

// ---- practice -------------------------------------------------------------------------------------------------

function resetPractice(): void {
  state.practice = { index: 0, answered: new Set(), correct: 0, wrong: 0 };
  ui.feedback.replaceChildren();
  ui.answer.value = "";
}

ui.restart.addEventListener("click", () => {
  resetPractice();
  refresh();
  ui.answer.focus();
});

ui.practiceForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (problem === null) return;
  const order = practiceOrder(problem);
  const id = order[state.practice.index];
  if (id === undefined) return;
  const parsed = parseAnswer(ui.answer.value);
  if ("error" in parsed) {
    ui.feedback.className = "feedback invalid";
    ui.feedback.replaceChildren(para(parsed.error));
    return;
  }
  const verdict = check(problem, id, parsed.value);
  if (verdict.correct) {
    state.practice.correct++;
    state.practice.answered.add(id);
    state.practice.index++;
    ui.feedback.className = "feedback right";
    ui.feedback.replaceChildren(para(`✓ Correct: ${dname(problem, id)} = ${fmt(verdict.expected)}`));
    ui.answer.value = "";
  } else {
    state.practice.wrong++;
    ui.feedback.className = "feedback wrong";
    ui.feedback.replaceChildren(para("✗ Not quite. Here is how it goes; type the right value to go on."), renderLines(verdict.lines));
    ui.answer.select();
  }
  refresh();
});

function para(text: string): HTMLParagraphElement {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

// ---- rendering a step -----------------------------------------------------------------------------------------

function renderLines(lines: Line[]): HTMLElement {
  const dl = document.createElement("dl");
  dl.className = "lines";
  for (const l of lines) {
    const row = document.createElement("div");
    row.className = `line ${l.kind ?? ""}`.trim();
    const dd = document.createElement("dd");
    dd.textContent = l.text;
    if (l.label === undefined) {
      row.classList.add("wide");
      row.append(dd);
    } else {
      const dt = document.createElement("dt");
      dt.textContent = l.label;
      row.append(dt, dd);
    }
    dl.append(row);
  }
  return dl;
}

/** The stepper for the current view (rebuilt on every refresh: they are cheap for graphs of this size). */
function buildStepper(p: Problem): typeof stepper {
  const wrtId = p.snap.params.find((q) => p.snap.nodes[q]!.name === state.wrt);
  switch (state.view) {
    case "backprop":
      return backpropStepper(p);
    case "forward":
      return wrtId === undefined ? null : forwardModeStepper(p, wrtId);
    case "paths":
      return state.wrt === null ? null : pathsStepper(p, state.wrt);
    case "practice":
    case "train":
      return null;
  }
}

let lastCode: { problem: Problem; code: CodeTarget; practice: boolean } | null = null;
let codeLinesShown: CodeLine[] = [];

function refresh(): void {
  for (const t of ui.tabs) {
    const on = t.dataset["view"] === state.view;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
  }
  document.body.dataset["view"] = state.view;
  for (const r of ui.langs) r.checked = r.value === state.code;
  writeUrl();
  for (const t of ui.tabs) t.disabled = tensor !== null && t.dataset["view"] !== "backprop" && t.dataset["view"] !== "train";
  if (state.view === "train") return;
  ui.codeTitle.textContent = tensor === null ? "Code" : "Trace";
  ui.codeLangs.hidden = tensor !== null;
  if (tensor !== null) return refreshTensor(tensor);
  if (problem === null) return;
  const p = problem;
  const practice = state.view === "practice";
  stepper = buildStepper(p);
  showGrads();

  let frame: Frame;
  ui.practice.hidden = !practice;
  ui.controls.hidden = practice || stepper === null;
  if (practice) {
    const order = practiceOrder(p);
    const id = order[state.practice.index] ?? null;
    frame = practiceFrame(p, state.practice.answered, id);
    renderPractice(p, id, order.length);
    ui.explain.replaceChildren();
  } else if (stepper !== null) {
    const step = currentStep();
    frame = stepper.frame(step);
    ui.stepLabel.textContent = `Step ${step + 1} of ${stepper.length}`;
    ui.first.disabled = ui.prev.disabled = step === 0;
    ui.next.disabled = ui.last.disabled = step === stepper.length - 1;
    const h = document.createElement("h3");
    h.textContent = frame.title;
    ui.explain.replaceChildren(h, renderLines(frame.lines));
  } else {
    frame = { title: "", lines: [], current: [], related: [], edges: [], labels: [], code: null };
    ui.explain.replaceChildren(para(`${p.output} has no inputs to differentiate with respect to.`));
  }
  renderHead(p);
  renderCosts(p);
  if (graphReady) graph.apply(frame);
  renderCode(p, frame, practice);
}

function refreshTensor(t: TensorProblem): void {
  stepper = tensorStepper(t);
  ui.practice.hidden = true;
  ui.controls.hidden = false;
  const step = currentStep();
  const frame = stepper.frame(step);
  ui.stepLabel.textContent = `Step ${step + 1} of ${stepper.length}`;
  ui.first.disabled = ui.prev.disabled = step === 0;
  ui.next.disabled = ui.last.disabled = step === stepper.length - 1;
  const h = document.createElement("h3");
  h.textContent = frame.title;
  ui.explain.replaceChildren(h, renderLines(frame.lines));
  renderHead(null);
  ui.costs.replaceChildren();
  if (graphReady) graph.apply(frame);
  // The trace tables, the current node's row marked.
  const node = frame.current.length === 1 ? t.view.nodes[frame.current[0]!]!.name : null;
  const backward = step >= (stepper.backwardStart ?? Infinity);
  let section: "forward" | "backward" | null = null;
  lastCode = null;
  ui.code.replaceChildren(
    ...t.trace.split("\n").map((text, k) => {
      if (text.startsWith("Forward pass")) section = "forward";
      if (text.startsWith("Backward pass")) section = "backward";
      const span = document.createElement("span");
      span.className = "line";
      span.dataset["line"] = String(k + 1);
      span.textContent = text;
      const first = text.trim().split(/\s+/)[0];
      if (node !== null && first === node && section === (backward ? "backward" : "forward") && text.startsWith("  ")) span.classList.add("current");
      span.append("\n");
      return span;
    }),
  );
}

function renderHead(p: Problem | null): void {
  const head: HTMLElement[] = [];
  if (state.view === "backprop" && stepper?.backwardStart !== undefined) {
    const inBackward = currentStep() >= stepper.backwardStart;
    const phase = (label: string, on: boolean, to: number, id: string) => {
      const b = document.createElement("button");
      b.type = "button";
      b.id = id;
      b.textContent = label;
      b.className = "phase";
      b.setAttribute("aria-pressed", String(on));
      b.addEventListener("click", () => {
        stop();
        go(to);
      });
      return b;
    };
    const wrap = document.createElement("div");
    wrap.className = "phases";
    wrap.append(
      phase("Forward pass", !inBackward, 0, "phase-forward"),
      phase("Backward pass", inBackward, stepper.backwardStart, "phase-backward"),
    );
    const note = para(
      p === null
        ? "Tensor expression: every edge shows its value's shape. Forward mode, path products and practice work on scalar expressions."
        : `Reverse mode: ∂${p.output}/∂i = ∂j/∂i · ∂${p.output}/∂j, walking right to left.`,
    );
    note.className = "muted";
    head.push(wrap, note);
  } else if (p !== null && (state.view === "forward" || state.view === "paths") && p.graph.names.length > 0) {
    const label = document.createElement("label");
    label.htmlFor = "wrt";
    label.textContent = state.view === "forward" ? "Tangents with respect to " : "Paths from ";
    const select = document.createElement("select");
    select.id = "wrt";
    for (const n of p.graph.names) select.add(new Option(n, n, false, n === state.wrt));
    select.addEventListener("change", () => {
      state.wrt = select.value;
      if (isStepView(state.view)) state.steps[state.view] = null;
      refresh();
      document.getElementById("wrt")?.focus();
    });
    const wrap = document.createElement("div");
    wrap.className = "wrt";
    wrap.append(label, select);
    if (state.view === "paths") wrap.append(document.createTextNode(` to ${p.snap.nodes[p.snap.root]!.name} (${p.output})`));
    head.push(wrap);
  }
  ui.stepperHead.replaceChildren(...head);
}

function renderPractice(p: Problem, id: number | null, total: number): void {
  const { correct, wrong, answered } = state.practice;
  ui.score.textContent = `Correct: ${correct} · Wrong: ${wrong} · ${answered.size} of ${total} gradients found`;
  const done = id === null;
  ui.practiceForm.hidden = done;
  if (done) {
    if (!ui.feedback.classList.contains("done")) {
      ui.feedback.className = "feedback right done";
      ui.feedback.replaceChildren(para(`✓ Done: all ${total} gradients found, with ${correct} correct and ${wrong} wrong entries.`));
    }
    return;
  }
  ui.answerLabel.textContent = `${dname(p, id)} =`;
}

function renderCosts(p: Problem): void {
  if (state.view === "practice" || p.graph.names.length === 0) {
    ui.costs.replaceChildren();
    return;
  }
  const wrt = state.wrt ?? p.graph.names[0]!;
  const data = pathsFor(p, wrt);
  const rows: [string, string, string, string][] = [];
  let edges: number | null = null;
  if ("error" in data) {
    const r = reverseMode(p.graph.root, p.graph.inputs);
    const f = forwardMode(p.graph.root, p.graph.inputs);
    rows.push(["reverse", "reverse mode (backprop)", "1 sweep", String(r.multiplications)]);
    rows.push(["forward", "forward mode", `${p.graph.inputs.length} sweeps`, String(f.multiplications)]);
    rows.push(["paths", "path products", "too many paths", "—"]);
  } else {
    edges = data.edges;
    for (const m of data.methods) {
      const name = { reverse: "reverse mode (backprop)", forward: "forward mode", paths: "path products" }[m.method];
      const unit = m.method === "paths" ? "path" : "sweep";
      rows.push([m.method, name, `${m.passes} ${unit}${m.passes === 1 ? "" : "s"}`, String(m.multiplications)]);
    }
  }
  const active = { backprop: "reverse", forward: "forward", paths: "paths", practice: "", train: "" }[state.view];
  const table = document.createElement("table");
  const caption = table.createCaption();
  caption.textContent =
    `The three methods, for ${p.graph.names.length === 1 ? "the one input" : `all ${p.graph.names.length} inputs`}` +
    (edges === null ? "" : ` (${edges} edge${edges === 1 ? "" : "s"} carry gradients)`);
  const head = table.createTHead().insertRow();
  for (const h of ["method", "passes", "multiplications"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [key, name, passes, mults] of rows) {
    const tr = body.insertRow();
    tr.dataset["method"] = key;
    if (key === active) tr.className = "active";
    for (const text of [name, passes, mults]) tr.insertCell().textContent = text;
  }
  ui.costs.replaceChildren(table);
}

function renderCode(p: Problem, frame: Frame, practice: boolean): void {
  if (lastCode === null || lastCode.problem !== p || lastCode.code !== state.code || lastCode.practice !== practice) {
    codeLinesShown = codeLines(p, state.code, !practice);
    lastCode = { problem: p, code: state.code, practice };
  }
  const known = (id: number) => id === p.snap.root || state.practice.answered.has(id);
  const spec = frame.code;
  const spans = codeLinesShown.map((l, k) => {
    const span = document.createElement("span");
    span.className = "line";
    span.dataset["line"] = String(k + 1);
    const hidden = practice && l.pass === "backward" && !l.grads.some(known);
    span.textContent = hidden ? `${l.text.match(/^\s*/)![0]}…` : l.text;
    if (hidden) span.classList.add("hidden-line");
    const current =
      spec !== null &&
      l.pass === spec.pass &&
      (spec.pass === "forward" ? l.node === spec.node : l.grads.includes(spec.node));
    if (current) span.classList.add("current");
    span.append("\n");
    return span;
  });
  ui.code.replaceChildren(...spans);
  const cur = ui.code.querySelector<HTMLElement>(".current");
  if (cur !== null) {
    const top = cur.offsetTop - ui.code.offsetTop;
    if (top < ui.code.scrollTop || top > ui.code.scrollTop + ui.code.clientHeight - 40) ui.code.scrollTop = Math.max(0, top - 60);
  }
}

// ---- start ----------------------------------------------------------------------------------------------------

selectView(state.view);
