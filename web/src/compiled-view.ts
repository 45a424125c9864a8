/**
 * The Training tab's compiled-step panel: the training step of the view's settings traced and compiled
 * (compiled-step.ts), its counts pass by pass, a paragraph on what compiling did, the program as text, and its
 * graph laid out by Graphviz in the layout worker (layout.ts), each fused kernel a cluster.
 */
import { compiledStep, type CompiledCounts } from "./compiled-step.js";
import { Layouts } from "./layout.js";
import type { TrainSettings } from "./train-settings.js";
import { $ } from "./ui.js";

/** Graphviz's budget for the program's graph (a 2-16-16-2 Adam step: under a second in Node). */
const LAYOUT_BUDGET_MS = 20_000;

/** The counts as label and value pairs, in the order the passes run. */
export function countRows(c: CompiledCounts): [string, string][] {
  const n = (x: number) => x.toLocaleString("en-US");
  return [
    ["Operations traced", `${n(c.traced)} (${n(c.elementwise)} elementwise)`],
    ["Constants folded while tracing", n(c.constants)],
    ["Dead steps dropped", n(c.dead)],
    ["Repeated steps merged", n(c.common)],
    ["Elementwise steps → fused kernels", `${n(c.fusedFrom)} → ${n(c.kernels)}`],
    ["Sums fused · kernels with several results", `${n(c.sums)} · ${n(c.multi)}`],
    ["Updates in place", n(c.inPlace)],
    ["Steps that run", `${n(c.steps)}: ${n(c.kernels)} kernels, ${n(c.ops)} other ops (${n(c.views)} of them views), ${n(c.host)} JavaScript`],
    ["Buffers (planned once)", `${n(c.buffers)} (${c.bytes < 10_000 ? `${n(c.bytes)} bytes` : `${(c.bytes / 1024).toFixed(0)} KB`})`],
  ];
}

export class CompiledView {
  private settings: TrainSettings | null = null;
  private shown = false;
  private asked = 0;
  private readonly layouts = new Layouts();
  private readonly ui = {
    panel: $("compiled"),
    show: $<HTMLButtonElement>("compiled-show"),
    status: $("compiled-status"),
    body: $("compiled-body"),
    counts: $("compiled-counts"),
    explain: $("compiled-explain"),
    graph: $("compiled-graph"),
    text: $("compiled-text"),
    fit: $<HTMLButtonElement>("compiled-fit"),
  };

  constructor() {
    this.ui.show.addEventListener("click", () => {
      this.shown = true;
      void this.update();
    });
    this.ui.fit.addEventListener("click", () => {
      const fit = this.ui.graph.classList.toggle("fit");
      this.ui.fit.setAttribute("aria-pressed", String(fit));
    });
  }

  /** The view's settings changed: a shown panel compiles the new run's step. */
  setSettings(settings: TrainSettings): void {
    // The speed changes the run's pace, not its step.
    const same = this.settings !== null && JSON.stringify({ ...this.settings, speed: "" }) === JSON.stringify({ ...settings, speed: "" });
    this.settings = { ...settings, hidden: [...settings.hidden] };
    if (this.shown && !same) void this.update();
  }

  private async update(): Promise<void> {
    const settings = this.settings;
    if (settings === null) return;
    const ask = ++this.asked;
    const { ui } = this;
    ui.panel.dataset["ready"] = "false";
    ui.status.textContent = "Tracing the step…";
    try {
      const c = await compiledStep(settings);
      if (ask !== this.asked) return;
      ui.body.hidden = false;
      ui.counts.replaceChildren(
        ...countRows(c.counts).map(([k, v]) => {
          const div = document.createElement("div");
          const dt = document.createElement("dt"), dd = document.createElement("dd");
          dt.textContent = k;
          dd.textContent = v;
          div.append(dt, dd);
          return div;
        }),
      );
      ui.explain.textContent = c.explanation;
      ui.text.textContent = c.text;
      ui.status.textContent = "Laying the graph out…";
      const r = await this.layouts.lay(c.dot, LAYOUT_BUDGET_MS);
      if (ask !== this.asked) return;
      if ("svg" in r) {
        this.mount(r.svg, c.counts);
        ui.status.textContent = "";
        ui.panel.dataset["ready"] = "true";
      } else {
        ui.graph.replaceChildren();
        ui.status.textContent = "error" in r ? `The graph could not be drawn: ${r.error}` : "Graphviz did not finish laying the graph out; the program is below as text.";
      }
    } catch (e) {
      if (ask !== this.asked) return;
      ui.status.textContent = `This step could not be compiled: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  private mount(text: string, c: CompiledCounts): void {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true) as unknown as SVGSVGElement;
    svg.querySelector(":scope > g > title")?.remove();
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `The compiled training step: ${c.steps} steps, ${c.kernels} fused kernels drawn as boxes, ${c.inPlace} of them updating in place`);
    this.ui.graph.replaceChildren(svg);
  }
}
