/**
 * The stepper panel of the step views: the head (the two passes, or the input to differentiate with respect
 * to), the controls and step counter, and the step's explanation. A tensor step has a place of its own for the
 * vector rule that made a node's gradient ({@link tensorRuleLines}).
 */
import type { AnyStepper, Explorer } from "./controller.js";
import type { Problem, TensorProblem } from "./model.js";
import { tensorStepper, type Frame, type Line } from "./steps.js";
import { para, renderLines, ui } from "./ui.js";

/** What the head's controls ask of the page. */
export interface StepperActions {
  go(step: number): void;
  setWrt(name: string): void;
}

/** The controls and the explanation of frame `step` of `stepper`. */
export function renderStep(stepper: AnyStepper, step: number, frame: Frame, extra: readonly Line[] = []): void {
  ui.controls.hidden = false;
  ui.stepLabel.textContent = `Step ${step + 1} of ${stepper.length}`;
  ui.first.disabled = ui.prev.disabled = step === 0;
  ui.next.disabled = ui.last.disabled = step === stepper.length - 1;
  const h = document.createElement("h3");
  h.textContent = frame.title;
  ui.explain.replaceChildren(h, renderLines([...frame.lines, ...extra]));
}

/**
 * Lines added to a tensor step's explanation: the vector rule of the lecture that made the node's gradient
 * (∇W = Xᵀ @ ∇a, ∇b = sum(∇c, axis=0)), as `gradgraph trace` prints it (derived from the ops' backward rules).
 */
export function tensorRuleLines(t: TensorProblem, frame: Frame, step: number): Line[] {
  if (step < tensorStepper(t).backwardStart || frame.current.length !== 1) return [];
  const n = t.view.nodes[frame.current[0]!];
  if (n === undefined || n.rule === null || n.id === t.view.root) return [];
  return [{ label: "vector rule", text: `∇${n.name} = ${n.rule}`, kind: "formula" }];
}

/** The stepper's head: the two passes (backprop), or which input (forward mode, paths). */
export function renderHead(ex: Explorer, p: Problem | null, stepper: AnyStepper | null, act: StepperActions): void {
  const head: HTMLElement[] = [];
  if (ex.view === "backprop" && stepper?.backwardStart !== undefined) {
    const start = stepper.backwardStart;
    const inBackward = ex.currentStep() >= start;
    const phase = (label: string, on: boolean, to: number, id: string) => {
      const b = document.createElement("button");
      b.type = "button";
      b.id = id;
      b.textContent = label;
      b.className = "phase";
      b.setAttribute("aria-pressed", String(on));
      b.addEventListener("click", () => act.go(to));
      return b;
    };
    const wrap = document.createElement("div");
    wrap.className = "phases";
    wrap.append(phase("Forward pass", !inBackward, 0, "phase-forward"), phase("Backward pass", inBackward, start, "phase-backward"));
    const note = para(
      p === null
        ? "Tensor expression: every edge shows its value's shape. Forward mode, path products and practice work on scalar expressions."
        : `Reverse mode: ∂${p.output}/∂i = ∂j/∂i · ∂${p.output}/∂j, walking right to left.`,
    );
    note.className = "muted";
    head.push(wrap, note);
  } else if (p !== null && (ex.view === "forward" || ex.view === "paths") && p.graph.names.length > 0) {
    const label = document.createElement("label");
    label.htmlFor = "wrt";
    label.textContent = ex.view === "forward" ? "Tangents with respect to " : "Paths from ";
    const select = document.createElement("select");
    select.id = "wrt";
    for (const n of p.graph.names) select.add(new Option(n, n, false, n === ex.wrt));
    select.addEventListener("change", () => {
      act.setWrt(select.value);
      document.getElementById("wrt")?.focus();
    });
    const wrap = document.createElement("div");
    wrap.className = "wrt";
    wrap.append(label, select);
    if (ex.view === "paths") wrap.append(document.createTextNode(` to ${p.snap.nodes[p.snap.root]!.name} (${p.output})`));
    head.push(wrap);
  }
  ui.stepperHead.replaceChildren(...head);
}

/** Play and Pause: an SVG icon (no emoji font needed) and the word. */
export function renderPlay(playing: boolean): void {
  ui.play.setAttribute("aria-pressed", String(playing));
  ui.play.setAttribute("aria-label", playing ? "Pause" : "Play");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 12 12");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", playing ? "M2 1h3v10H2zM7 1h3v10H7z" : "M2 1l9 5-9 5z");
  svg.append(path);
  const label = document.createElement("span");
  label.textContent = playing ? "Pause" : "Play";
  ui.play.replaceChildren(svg, label);
}
