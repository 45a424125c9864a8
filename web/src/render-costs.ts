/**
 * The three methods' costs under the step views: passes and local-derivative multiplications of reverse mode,
 * forward mode and path products (the paths report of the chosen input). Built once per problem, input and view.
 */
import { forwardMode, reverseMode } from "gradgraph/lecture";
import { pathsFor, type Problem } from "./model.js";
import type { View } from "./url.js";
import { ui } from "./ui.js";

let shown: { p: Problem | null; wrt: string | null; view: View } | null = null;

export function renderCosts(p: Problem | null, wrt: string | null, view: View): void {
  if (shown !== null && shown.p === p && shown.wrt === wrt && shown.view === view) return;
  shown = { p, wrt, view };
  if (p === null || view === "practice" || p.graph.names.length === 0) {
    ui.costs.replaceChildren();
    return;
  }
  const data = pathsFor(p, wrt ?? p.graph.names[0]!);
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
  const active = { backprop: "reverse", forward: "forward", paths: "paths", practice: "", train: "" }[view];
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
