/**
 * The code panel: the lecture-style code of a scalar problem (Python or TypeScript) with the step's lines
 * marked, or a tensor problem's trace tables with the current node's row marked. The lines are built once per
 * problem, language and mode; a step only moves the mark (so a step costs the same on any size of graph).
 */
import type { CodeLine, CodeTarget } from "gradgraph/lecture";
import { codeLines, type Problem, type TensorProblem } from "./model.js";
import type { Frame } from "./steps.js";
import { ui } from "./ui.js";

export class CodePanel {
  private key: { owner: object; code: CodeTarget; practice: boolean; answered: number } | null = null;
  private lines: CodeLine[] = [];
  private spans: HTMLSpanElement[] = [];
  private marked: HTMLSpanElement[] = [];

  /** The scalar problem's code, lines of the frame's step marked; in practice, unfound gradients' lines hidden. */
  showCode(p: Problem, code: CodeTarget, frame: Frame, practice: boolean, answered: ReadonlySet<number>): void {
    const k = this.key;
    if (k === null || k.owner !== p || k.code !== code || k.practice !== practice || k.answered !== answered.size) {
      this.key = { owner: p, code, practice, answered: answered.size };
      this.lines = codeLines(p, code, !practice);
      const known = (id: number) => id === p.snap.root || answered.has(id);
      this.build(
        this.lines.map((l) => {
          const hidden = practice && l.pass === "backward" && !l.grads.some(known);
          return { text: hidden ? `${l.text.match(/^\s*/)![0]}…` : l.text, hidden };
        }),
      );
    }
    const spec = frame.code;
    this.mark(
      spec === null
        ? []
        : this.lines.flatMap((l, i) => (l.pass === spec.pass && (spec.pass === "forward" ? l.node === spec.node : l.grads.includes(spec.node)) ? [i] : [])),
    );
  }

  /** The tensor problem's trace tables, the current node's row (in the pass of the step) marked. */
  showTrace(t: TensorProblem, node: string | null, backward: boolean): void {
    const texts = t.trace.split("\n");
    if (this.key?.owner !== t) {
      this.key = { owner: t, code: "py", practice: false, answered: 0 };
      this.lines = [];
      this.build(texts.map((text) => ({ text, hidden: false })));
    }
    let section: "forward" | "backward" | null = null;
    const rows: number[] = [];
    texts.forEach((text, k) => {
      if (text.startsWith("Forward pass")) section = "forward";
      if (text.startsWith("Backward pass")) section = "backward";
      const first = text.trim().split(/\s+/)[0];
      if (node !== null && first === node && section === (backward ? "backward" : "forward") && text.startsWith("  ")) rows.push(k);
    });
    this.mark(rows);
  }

  private build(lines: readonly { text: string; hidden: boolean }[]): void {
    this.marked = [];
    this.spans = lines.map((l, k) => {
      const span = document.createElement("span");
      span.className = l.hidden ? "line hidden-line" : "line";
      span.dataset["line"] = String(k + 1);
      span.textContent = l.text;
      span.append("\n");
      return span;
    });
    ui.code.replaceChildren(...this.spans);
  }

  private mark(rows: readonly number[]): void {
    for (const s of this.marked) s.classList.remove("current");
    this.marked = rows.map((k) => this.spans[k]!).filter((s) => s !== undefined);
    for (const s of this.marked) s.classList.add("current");
    const cur = this.marked[0];
    if (cur !== undefined) {
      const top = cur.offsetTop - ui.code.offsetTop;
      if (top < ui.code.scrollTop || top > ui.code.scrollTop + ui.code.clientHeight - 40) ui.code.scrollTop = Math.max(0, top - 60);
    }
  }
}
