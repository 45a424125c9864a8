/**
 * The result line: the value at the point, each input's gradient (hidden in practice mode until found), and,
 * when something is NaN or ±∞, where and why (the library's anomaly detection, as `--detect-anomaly` reports it).
 */
import type { Explorer } from "./controller.js";
import { fmt, nested, shapeText, type Anomaly, type Problem, type TensorProblem } from "./model.js";
import { dname } from "./steps.js";
import { para, ui } from "./ui.js";

/** `x [2,3]`, or just `x` for a single value (shape []). */
const named = (name: string, shape: readonly number[]) => (shape.length === 0 ? name : `${name} ${shapeText(shape)}`);

export function renderTensorResult(t: TensorProblem): void {
  const root = t.view.nodes[t.view.root]!;
  const of = t.view.seededWithOnes ? `sum(${t.output})` : t.output;
  ui.value.textContent = `${named(t.output, root.shape)} = ${nested(root.value, 60)}`;
  const inputs = t.view.nodes.filter((n) => n.kind === "input");
  ui.at.textContent = `at ${inputs.map((n) => named(n.name, n.shape)).join(", ")}`;
  ui.grads.replaceChildren(
    ...inputs.map((n) => {
      const li = document.createElement("li");
      li.dataset["input"] = n.name;
      li.textContent = `∂${of}/∂${n.name} = ${n.grad === null ? "0" : nested(n.grad, 60)}`;
      return li;
    }),
  );
  renderAnomaly(t.anomaly);
}

export function renderResult(p: Problem, ex: Explorer): void {
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
  renderGrads(p, ex);
  renderAnomaly(p.anomaly);
}

/** The gradients in the summary (hidden in practice mode until found). */
export function renderGrads(p: Problem, ex: Explorer): void {
  for (const li of Array.from(ui.grads.querySelectorAll<HTMLLIElement>("li"))) {
    const id = p.snap.params.find((q) => p.snap.nodes[q]!.name === li.dataset["input"])!;
    const hidden = ex.view === "practice" && !ex.practice.answered.has(id);
    li.textContent = `${dname(p, id)} = ${hidden ? "?" : fmt(p.snap.nodes[id]!.grad!)}`;
    li.classList.toggle("hidden-grad", hidden);
  }
}

function renderAnomaly(a: Anomaly | null): void {
  ui.anomaly.hidden = a === null;
  if (a === null) return ui.anomaly.replaceChildren();
  const pre = document.createElement("pre");
  pre.textContent = a.report;
  const head = para("Not a finite number here. Where it starts:");
  head.className = "anomaly-head";
  ui.anomaly.replaceChildren(head, pre, para(a.meaning));
}
