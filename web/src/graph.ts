/**
 * The graph panel: the library's DOT laid out by Graphviz (WebAssembly, `renderSvg`), left to right as on the
 * slides, then styled per step. Graphviz names its SVG groups after the DOT ids, so node `nK` is snapshot node
 * K and the k-th `edge` group is the k-th edge `toDot` wrote (see `edgesOf`); a step only toggles classes and
 * rewrites edge-label texts, it never lays the graph out again.
 */
import { renderSvg } from "../../src/index.js";
import type { Drawing } from "./model.js";
import type { Frame } from "./steps.js";

const SVG_NS = "http://www.w3.org/2000/svg";

export class GraphView {
  private svg: SVGSVGElement | null = null;
  private nodes = new Map<number, SVGGElement>();
  private edges: SVGGElement[] = [];
  private labels: (SVGTextElement | null)[] = [];
  private width = 0;
  private height = 0;
  /** Zoom: null fits the panel's width (within limits). */
  private zoom: number | null = null;
  private token = 0;
  /** Called when a node is clicked. */
  onNodeClick: ((id: number) => void) | null = null;

  constructor(private readonly box: HTMLElement) {
    new ResizeObserver(() => this.resize()).observe(box);
  }

  /** Lays out the problem's graph; resolves when it is on the page (a newer call wins). */
  async show(p: Drawing): Promise<boolean> {
    const token = ++this.token;
    const text = await renderSvg(p.dot);
    if (token !== this.token) return false;
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true) as unknown as SVGSVGElement;
    const [, , w, h] = (svg.getAttribute("viewBox") ?? "0 0 100 100").split(/\s+/).map(Number);
    this.width = w ?? 100;
    this.height = h ?? 100;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", p.label);
    svg.querySelector(":scope > g > title")?.remove();

    this.nodes.clear();
    for (const g of Array.from(svg.querySelectorAll<SVGGElement>("g.node"))) {
      const title = g.querySelector("title");
      const m = /^n(\d+)$/.exec(title?.textContent ?? "");
      if (m === null) {
        g.classList.add("out");
        title?.remove();
        continue;
      }
      const id = Number(m[1]);
      const n = p.nodes[id]!;
      this.nodes.set(id, g);
      g.dataset["node"] = String(id);
      g.dataset["name"] = n.name;
      g.classList.add(n.kind);
      if (title !== null) title.textContent = n.title;
      g.addEventListener("click", () => this.onNodeClick?.(id));
    }
    const groups = Array.from(svg.querySelectorAll<SVGGElement>("g.edge"));
    const number = (g: SVGGElement) => Number(/(\d+)$/.exec(g.id)?.[1] ?? "0");
    groups.sort((a, b) => number(a) - number(b));
    this.edges = [];
    this.labels = [];
    groups.forEach((g, k) => {
      const e = p.edges[k];
      const title = g.querySelector("title");
      const expected = e === undefined ? null : `n${e.from}->${e.to === null ? "out" : `n${e.to}`}`;
      if (e === undefined || title?.textContent !== expected) {
        throw new Error(`graph: SVG edge ${k + 1} is ${title?.textContent ?? "untitled"}, expected ${expected ?? "none"}`);
      }
      title.remove();
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
    return true;
  }

  /** A rounded box behind each plaintext node (inputs, constants), so a highlight shows on them too. */
  private addHalos(): void {
    for (const g of this.nodes.values()) {
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

  /** Shows a step: highlights and edge labels. */
  apply(frame: Frame): void {
    if (this.svg === null) return;
    for (const g of this.nodes.values()) g.classList.remove("current", "related");
    for (const g of this.edges) g.classList.remove("current");
    for (const t of this.labels) t?.classList.remove("current");
    for (const id of frame.related) this.nodes.get(id)?.classList.add("related");
    for (const id of frame.current) {
      const g = this.nodes.get(id);
      g?.classList.remove("related");
      g?.classList.add("current");
    }
    for (const k of frame.edges) {
      this.edges[k]?.classList.add("current");
      this.labels[k]?.classList.add("current");
    }
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
    // Fit the panel, but not below a readable size (the panel scrolls instead; on a phone it scrolls anyway, so
    // keep the labels larger there) nor above 1.4×.
    const least = available < 600 ? 0.9 : 0.75;
    return Math.min(1.4, Math.max(least, available / this.width));
  }

  private resize(): void {
    if (this.svg === null) return;
    const scale = this.zoom ?? this.fit();
    this.svg.style.width = `${Math.round(this.width * scale)}px`;
    this.svg.style.height = `${Math.round(this.height * scale)}px`;
  }

  /** Scrolls the panel (not the page) so that node `id` is visible. */
  private reveal(id: number): void {
    const g = this.nodes.get(id);
    if (g === undefined || this.box.scrollWidth <= this.box.clientWidth) return;
    const box = this.box.getBoundingClientRect();
    const r = g.getBoundingClientRect();
    if (r.left < box.left + 20 || r.right > box.right - 20) {
      this.box.scrollLeft += r.left + r.width / 2 - (box.left + box.width / 2);
    }
  }
}
