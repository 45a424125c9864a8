/**
 * The graph panel: the library's DOT laid out by Graphviz in a Web Worker (layout.ts), left to right as on the
 * slides, then styled per step. Graphviz names its SVG groups after the DOT ids, so node `nK` (or, in the compact
 * layout, each copy `nK_u` of an input or constant) is snapshot node K and the k-th `edge` group is the k-th
 * edge the DOT lists (see `edgesOf`); a step only toggles classes on what changed and rewrites the edge labels
 * that changed, it never lays the graph out again.
 *
 * Layout is budgeted: a wide graph (`layoutFor`) is drawn compact from the start; a full layout that runs past
 * {@link FULL_BUDGET_MS} is stopped and redrawn compact; a compact one past {@link COMPACT_BUDGET_MS}, or one the
 * reader stops, leaves a note in the panel. Nothing else on the page waits for it.
 */
import { layoutFor, type DotLayout } from "gradgraph/lecture";
import { Layouts } from "./layout.js";
import type { Drawing } from "./model.js";
import type { Frame } from "./steps.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/** Time allowed for the full layout before it is redrawn compact, and for the compact one. */
export const FULL_BUDGET_MS = 3000;
export const COMPACT_BUDGET_MS = 8000;
/** Graphs with more nodes are not drawn (even the compact layout takes seconds); everything else still works. */
export const MAX_DRAWN = 1500;

/** How a call to {@link GraphView.show} ended. */
export type ShowResult = "drawn" | "superseded" | "not drawn";

export class GraphView {
  private svg: SVGSVGElement | null = null;
  private nodes = new Map<number, SVGGElement[]>();
  private edges: SVGGElement[] = [];
  private labels: (SVGTextElement | null)[] = [];
  /** What the last frame marked, to undo just that on the next one. */
  private marked: Element[] = [];
  private width = 0;
  private height = 0;
  /** Zoom: null fits the panel's width (within limits). */
  private zoom: number | null = null;
  private token = 0;
  private readonly layouts = new Layouts();
  /** The layout the graph on screen was drawn with. */
  layout: DotLayout | null = null;
  /** Called when a node is clicked (or activated with Enter or Space). */
  onNodeClick: ((id: number) => void) | null = null;

  constructor(private readonly box: HTMLElement) {
    new ResizeObserver(() => this.resize()).observe(box);
  }

  /** Lays the drawing out and puts it on the page; a newer call wins. */
  async show(d: Drawing): Promise<ShowResult> {
    const token = ++this.token;
    this.clear();
    if (d.nodes.length > MAX_DRAWN) {
      this.note(`This graph has ${d.nodes.length} nodes, too many to draw here (at most ${MAX_DRAWN}); the stepper and the code still work.`);
      return "not drawn";
    }
    const slow = window.setTimeout(() => {
      if (token === this.token) this.note(`Laying out the graph (${d.nodes.length} nodes)…`, true);
    }, 300);
    try {
      let layout = layoutFor(d.nodes);
      let result = await this.layouts.lay(d.dot(layout), layout === "full" ? FULL_BUDGET_MS : COMPACT_BUDGET_MS);
      if (token !== this.token) return "superseded";
      if ("stopped" in result && result.stopped === "timeout" && layout === "full") {
        this.note(`Graphviz took over ${FULL_BUDGET_MS / 1000} s; drawing each input and constant once per use instead…`, true);
        layout = "compact";
        result = await this.layouts.lay(d.dot(layout), COMPACT_BUDGET_MS);
        if (token !== this.token) return "superseded";
      }
      if ("error" in result) throw new Error(result.error);
      if ("stopped" in result) {
        this.note(
          result.stopped === "timeout"
            ? `The graph was not drawn: Graphviz took over ${COMPACT_BUDGET_MS / 1000} s to lay out its ${d.nodes.length} nodes. The stepper and the code still work.`
            : "The graph was not drawn (stopped). The stepper and the code still work.",
        );
        return "not drawn";
      }
      this.layout = layout;
      this.mount(d, result.svg);
      return "drawn";
    } finally {
      window.clearTimeout(slow);
    }
  }

  /** A note in the panel instead of a graph (with a Stop button while a layout runs). */
  note(text: string, stoppable = false): void {
    this.clear();
    const p = document.createElement("p");
    p.className = "muted graph-note";
    p.textContent = text;
    if (stoppable) {
      const stop = document.createElement("button");
      stop.type = "button";
      stop.id = "layout-stop";
      stop.textContent = "Stop";
      stop.addEventListener("click", () => this.layouts.cancel());
      p.append(" ", stop);
    }
    this.box.replaceChildren(p);
  }

  private clear(): void {
    this.svg = null;
    this.nodes.clear();
    this.edges = [];
    this.labels = [];
    this.marked = [];
    this.layout = null;
  }

  private mount(d: Drawing, text: string): void {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true) as unknown as SVGSVGElement;
    const [, , w, h] = (svg.getAttribute("viewBox") ?? "0 0 100 100").split(/\s+/).map(Number);
    this.width = w ?? 100;
    this.height = h ?? 100;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", d.label);
    svg.querySelector(":scope > g > title")?.remove();

    for (const g of Array.from(svg.querySelectorAll<SVGGElement>("g.node"))) {
      const title = g.querySelector("title");
      const m = /^n(\d+)(?:_\d+)?$/.exec(title?.textContent ?? "");
      if (m === null) {
        g.classList.add("out");
        title?.remove();
        continue;
      }
      const id = Number(m[1]);
      const n = d.nodes[id]!;
      const list = this.nodes.get(id) ?? [];
      list.push(g);
      this.nodes.set(id, list);
      g.dataset["node"] = String(id);
      g.dataset["name"] = n.name;
      g.classList.add(n.kind);
      if (title !== null) title.textContent = n.title;
      // Reachable by keyboard: Tab to a node, Enter or Space does what a click does.
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", n.title);
      g.addEventListener("click", () => this.onNodeClick?.(id));
      g.addEventListener("keydown", (e) => {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        this.onNodeClick?.(id);
      });
    }
    const groups = Array.from(svg.querySelectorAll<SVGGElement>("g.edge"));
    const number = (g: SVGGElement) => Number(/(\d+)$/.exec(g.id)?.[1] ?? "0");
    groups.sort((a, b) => number(a) - number(b));
    groups.forEach((g, k) => {
      const e = d.edges[k];
      const title = g.querySelector("title");
      const to = e === undefined ? "" : e.to === null ? "out" : `n${e.to}`;
      const ok = e !== undefined && new RegExp(`^n${e.from}(?:_\\d+)?->${to}$`).test(title?.textContent ?? "");
      if (!ok || title === null) {
        throw new Error(`graph: SVG edge ${k + 1} is ${title?.textContent ?? "untitled"}, expected ${e === undefined ? "none" : `n${e.from}->${to}`}`);
      }
      // A tooltip where the drawing has one (a tensor's value and gradient), else none.
      const tip = d.edgeTitles?.[k];
      if (tip === undefined) title.remove();
      else title.textContent = tip;
      g.dataset["edge"] = String(k);
      this.edges.push(g);
      this.labels.push(g.querySelector("text"));
    });

    // Edge labels on a layer of their own above every edge, so that no edge is drawn across a label.
    const top = svg.querySelector<SVGGElement>(":scope > g");
    if (top !== null) {
      const layer = document.createElementNS(SVG_NS, "g");
      layer.setAttribute("class", "labels");
      this.labels.forEach((t, k) => {
        if (t === null) return;
        t.classList.add("edge-label");
        t.dataset["edge"] = String(k);
        layer.append(t);
      });
      top.append(layer);
    }
    this.box.replaceChildren(svg);
    this.svg = svg;
    this.addHalos();
    this.resize();
  }

  /** A rounded box behind each plaintext node (inputs, constants), so a highlight shows on them too. */
  private addHalos(): void {
    for (const list of this.nodes.values()) {
      for (const g of list) {
        if (g.querySelector("ellipse, polygon") !== null) continue;
        const text = g.querySelector("text");
        if (text === null) continue;
        const b = text.getBBox();
        const rect = document.createElementNS(SVG_NS, "rect");
        rect.setAttribute("class", "halo");
        rect.setAttribute("x", String(b.x - 6));
        rect.setAttribute("y", String(b.y - 3));
        rect.setAttribute("width", String(b.width + 12));
        rect.setAttribute("height", String(b.height + 6));
        rect.setAttribute("rx", "6");
        g.insertBefore(rect, text);
      }
    }
  }

  /** Shows a step: highlights and edge labels (touching only what differs from the last step). */
  apply(frame: Frame): void {
    if (this.svg === null) return;
    for (const el of this.marked) el.classList.remove("current", "related");
    const marked: Element[] = [];
    const mark = (el: Element | null | undefined, cls: "current" | "related") => {
      if (el === null || el === undefined) return;
      el.classList.add(cls);
      marked.push(el);
    };
    const current = new Set(frame.current);
    for (const id of frame.related) if (!current.has(id)) for (const g of this.nodes.get(id) ?? []) mark(g, "related");
    for (const id of frame.current) for (const g of this.nodes.get(id) ?? []) mark(g, "current");
    for (const k of frame.edges) {
      mark(this.edges[k], "current");
      mark(this.labels[k], "current");
    }
    this.marked = marked;
    this.labels.forEach((t, k) => {
      const label = frame.labels[k];
      if (t !== null && label !== undefined && label !== "" && t.textContent !== label) t.textContent = label;
    });
    this.svg.classList.toggle("has-current", frame.current.length > 0);
    const first = frame.current[0];
    if (first !== undefined) this.reveal(first);
  }

  /** Zooms in or out by a factor, or back to fitting the panel (null). */
  setZoom(factor: number | null): void {
    this.zoom = factor === null ? null : Math.min(3, Math.max(0.3, (this.zoom ?? this.fit()) * factor));
    this.resize();
  }

  private fit(): number {
    const available = this.box.clientWidth - 12;
    // Fit the panel's width, but not below a readable size (the panel scrolls instead) nor above 1.4× (2× on a
    // wide screen, whose panel has room for larger labels).
    const most = available > 1400 ? 2 : 1.4;
    return Math.min(most, Math.max(0.6, available / this.width));
  }

  private resize(): void {
    if (this.svg === null) return;
    const scale = this.zoom ?? this.fit();
    this.svg.style.width = `${Math.round(this.width * scale)}px`;
    this.svg.style.height = `${Math.round(this.height * scale)}px`;
  }

  /** Scrolls the panel (not the page) so that node `id` is visible. */
  private reveal(id: number): void {
    const g = this.nodes.get(id)?.[0];
    if (g === undefined || this.box.scrollWidth <= this.box.clientWidth) return;
    const box = this.box.getBoundingClientRect();
    const r = g.getBoundingClientRect();
    if (r.left < box.left + 20 || r.right > box.right - 20) {
      this.box.scrollLeft += r.left + r.width / 2 - (box.left + box.width / 2);
    }
  }
}
