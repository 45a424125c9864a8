/**
 * The computational graph in Graphviz DOT, laid out left to right as on the slides: nodes are operations,
 * edges are intermediate values (labelled with the value's name, value and, when computed, gradient), inputs
 * and constants are source nodes, and the root's value leaves through an edge to an output marker.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { formatValue } from "./format.js";
import { opOf, type Snapshot, type SnapshotNode } from "./snapshot.js";
import { opSymbol, printOp, symConst, symName } from "./symbolic.js";

/** Options of {@link toDot}. */
export interface DotOptions {
  /** The graph's name in DOT (default `gradgraph`). */
  name?: string;
  /** Show gradients on edges when the snapshot has them (default true). */
  grads?: boolean;
  /**
   * `"full"` (default): each input and constant is one node, the inputs in a column on the left. `"compact"`:
   * each input and constant is drawn once per use, next to the op that uses it, and Graphviz is asked for its
   * cheaper placement — for wide graphs (see {@link layoutFor}), whose full layout takes Graphviz minutes.
   */
  layout?: DotLayout;
}

/** How {@link toDot} and `tensorToDot` draw inputs and constants. */
export type DotLayout = "full" | "compact";

/** A graph node as far as layout cost goes: its kind and its inputs' ids. */
export interface LayoutNode {
  kind: string;
  inputs: readonly number[];
}

/**
 * How many rank steps the full layout's edges span: Graphviz's `dot` adds a virtual node per step and its
 * crossing minimisation grows faster than linearly in them, so this, not the node count, predicts the layout's
 * time. A sum of n terms that each use x spans about n²/2 (x's edges reach every term): 100 terms, 5,000 steps,
 * ten seconds of Graphviz; drawn compact, 200 steps. Ops are ranked by their longest path from an input;
 * inputs sit in the left column (rank 0), constants next to their first use.
 */
export function layoutSpan(nodes: readonly LayoutNode[]): number {
  const rank: number[] = [];
  for (const n of nodes) rank.push(n.kind === "op" ? 1 + Math.max(0, ...n.inputs.map((i) => rank[i] ?? 0)) : 0);
  let span = 0;
  nodes.forEach((n, k) => {
    for (const i of n.inputs) span += nodes[i]?.kind === "const" ? 1 : rank[k]! - rank[i]!;
  });
  return span;
}

/** Spans above this are drawn compact (at this size Graphviz's full layout takes about half a second). */
export const COMPACT_SPAN = 1000;

/** The layout to ask for: full unless its span is over {@link COMPACT_SPAN}. */
export function layoutFor(nodes: readonly LayoutNode[]): DotLayout {
  return layoutSpan(nodes) > COMPACT_SPAN ? "compact" : "full";
}

/**
 * The graph in DOT. Output is deterministic: node ids follow the snapshot (`n0`, `n1`, ...), the output marker
 * is `out`, the inputs line up on the left (`rank=source`), and each op's inputs are drawn in order
 * (`ordering=in`: the first operand of `1 / c` is on top).
 * An edge reads `c = 2 | ∂ = -0.25`; a value used more than once has one edge per use, each with its own
 * share of the gradient and the total: `x = 3 | ∂ += 3 (sum 6)`.
 *
 * @example
 * toDot(snapshot(d, [x, y]));
 * // digraph gradgraph {
 * //   graph [rankdir=LR, ordering=in];
 * //   ...
 * //   n5 -> n6 [label="c = 2 | ∂ = -0.25"];
 * //   n6 -> out [label="d = 0.5 | ∂ = 1"];
 * // }
 */
export function toDot(snap: Snapshot, options: DotOptions = {}): string {
  expectOptions("toDot", options, optionKeys<DotOptions>({ name: true, grads: true, layout: true }));
  const showGrads = snap.hasGrads && (options.grads ?? true);
  const w = new DotWriter(snap.nodes, options.name, options.layout);
  for (const n of snap.nodes) {
    if (n.kind === "op") {
      const op = opOf(n);
      const symbol = opSymbol(op.print);
      const formula = printOp(
        op,
        n.inputs.map((x) => {
          const a = snap.nodes[x]!;
          return a.kind === "const" ? symConst(a.value!, "board", a.name) : symName(a.name);
        }),
        "board",
        "pow",
      ).text;
      const shape = symbol.length <= 2 ? "circle" : "ellipse";
      w.node(n.id, `label=${quote(symbol)}, shape=${shape}, tooltip=${quote(`${n.name} = ${formula}`)}`);
    } else if (n.kind === "input") {
      w.node(n.id, `label=${quote(n.name)}, shape=plaintext, fontsize=14`);
    } else {
      w.node(n.id, `label=${quote(n.name)}, shape=plaintext, fontcolor="gray30"`);
    }
  }
  w.inputsLeft(snap.params);
  // Edges grouped by the op they enter, in operand order, which `ordering=in` keeps top to bottom.
  for (const to of snap.nodes) {
    to.inputs.forEach((x, i) => {
      const n = snap.nodes[x]!;
      // The gradient sent back along this edge, as the sweep computed it: local × gradient of the op.
      const local = to.locals[i];
      const back = showGrads && local !== null && local !== undefined && to.grad !== null ? local * to.grad : undefined;
      w.edge(x, `n${to.id}`, edgeLabel(n, back));
    });
  }
  const root = snap.nodes[snap.root]!;
  w.edge(root.id, "out", edgeLabel(root, showGrads && root.requiresGrad ? 1 : undefined, true));
  return w.end();
}

/**
 * Writes a graph's DOT: node `nK` is node K; the output marker is `out`. In the compact layout an input or
 * constant gets a node per use (`nK_1`, `nK_2`, ..., written just before its edge) instead of one node with
 * edges reaching across the graph, and Graphviz's network simplex placement is skipped (`nslimit=0`) and edges
 * drawn straight: both keep wide graphs' layout time near linear.
 */
export class DotWriter {
  private readonly lines: string[];
  private readonly attrs = new Map<number, string>();
  private readonly uses = new Map<number, number>();
  private readonly compact: boolean;

  constructor(
    private readonly nodes: readonly { kind: string }[],
    name = "gradgraph",
    layout: DotLayout = "full",
  ) {
    this.compact = layout === "compact";
    this.lines = [
      `digraph ${quote(name)} {`,
      `  graph [rankdir=LR, ordering=in${this.compact ? ", nslimit=0, splines=line" : ""}];`,
      '  node [fontname="Helvetica", fontsize=12];',
      '  edge [fontname="Helvetica", fontsize=10];',
    ];
  }

  private copied(k: number): boolean {
    return this.compact && this.nodes[k]?.kind !== "op";
  }

  /** Node k with its attributes (a copied leaf is written at each use instead). */
  node(k: number, attrs: string): void {
    if (this.copied(k)) this.attrs.set(k, attrs);
    else this.lines.push(`  n${k} [${attrs}];`);
  }

  /** The inputs in a column on the left (full layout only), then the output marker. */
  inputsLeft(ids: readonly number[]): void {
    if (ids.length > 1 && !this.compact) this.lines.push(`  { rank=source; ${ids.map((k) => `n${k}`).join("; ")}; }`);
    this.lines.push('  out [label="", shape=point];');
  }

  /** An edge from node k to `to` (a DOT id), `label` being ` [label=...]` or empty. */
  edge(k: number, to: string, label: string): void {
    let from = `n${k}`;
    if (this.copied(k)) {
      const u = (this.uses.get(k) ?? 0) + 1;
      this.uses.set(k, u);
      from = `n${k}_${u}`;
      this.lines.push(`  ${from} [${this.attrs.get(k) ?? ""}];`);
    }
    this.lines.push(`  ${from} -> ${to}${label};`);
  }

  end(): string {
    return [...this.lines, "}"].join("\n") + "\n";
  }
}

/** The label of an edge carrying `n`'s value, with the gradient sent back along it when given. */
function edgeLabel(n: SnapshotNode, grad: number | undefined, isOutput = false): string {
  // A literal constant needs no label: its node already shows the number.
  if (n.kind === "const" && n.namedConstant === null) return "";
  let label = n.value === null ? n.name : `${n.name} = ${formatValue(n.value)}`;
  if (grad !== undefined) {
    label += n.fanOut && !isOutput ? ` | ∂ += ${formatValue(grad)} (sum ${formatValue(n.grad!)})` : ` | ∂ = ${formatValue(grad)}`;
  }
  return ` [label=${quote(label)}]`;
}

/** A DOT double-quoted string: backslashes, quotes and line breaks escaped. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}
