/**
 * The computational graph in Graphviz DOT, laid out left to right as on the slides: nodes are operations,
 * edges are intermediate values (labelled with the value's name, value and, when computed, gradient), inputs
 * and constants are source nodes, and the root's value leaves through an edge to an output marker.
 */
import { formatValue } from "./format.js";
import { opOf, type Snapshot, type SnapshotNode } from "./snapshot.js";
import { printOp, symConst, symName } from "./symbolic.js";

/** Options of {@link toDot}. */
export interface DotOptions {
  /** The graph's name in DOT (default `gradgraph`). */
  name?: string;
  /** Show gradients on edges when the snapshot has them (default true). */
  grads?: boolean;
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
  const showGrads = snap.hasGrads && (options.grads ?? true);
  const lines: string[] = [
    `digraph ${quote(options.name ?? "gradgraph")} {`,
    "  graph [rankdir=LR, ordering=in];",
    '  node [fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const id = (n: SnapshotNode) => `n${n.id}`;
  for (const n of snap.nodes) {
    if (n.kind === "op") {
      const op = opOf(n);
      const symbol = opSymbol(n);
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
      lines.push(`  ${id(n)} [label=${quote(symbol)}, shape=${shape}, tooltip=${quote(`${n.name} = ${formula}`)}];`);
    } else if (n.kind === "input") {
      lines.push(`  ${id(n)} [label=${quote(n.name)}, shape=plaintext, fontsize=14];`);
    } else {
      lines.push(`  ${id(n)} [label=${quote(n.name)}, shape=plaintext, fontcolor="gray30"];`);
    }
  }
  const params = snap.params.map((p) => id(snap.nodes[p]!));
  if (params.length > 1) lines.push(`  { rank=source; ${params.join("; ")}; }`);
  lines.push('  out [label="", shape=point];');
  // Edges grouped by the op they enter, in operand order, which `ordering=in` keeps top to bottom.
  for (const to of snap.nodes) {
    to.inputs.forEach((x, i) => {
      const n = snap.nodes[x]!;
      // The gradient sent back along this edge, as the sweep computed it: local × gradient of the op.
      const local = to.locals[i];
      const back = showGrads && local !== null && local !== undefined && to.grad !== null ? local * to.grad : undefined;
      lines.push(`  ${id(n)} -> ${id(to)}${edgeLabel(n, back)};`);
    });
  }
  const root = snap.nodes[snap.root]!;
  lines.push(`  ${id(root)} -> out${edgeLabel(root, showGrads && root.requiresGrad ? 1 : undefined, true)};`);
  lines.push("}");
  return lines.join("\n") + "\n";
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

/** The op's symbol on the board: `+`, `*`, `^`, `-`, `>`, or its function name (`exp`, `max`). */
function opSymbol(n: SnapshotNode): string {
  const p = opOf(n).print;
  switch (p.kind) {
    case "infix":
      return p.symbol.board;
    case "prefix":
      return p.symbol;
    case "call":
      return p.name.board;
    case "compare":
      return p.symbol.board;
    default: {
      const never: never = p;
      throw new Error(`unknown print kind ${JSON.stringify(never)}`);
    }
  }
}

/** A DOT double-quoted string: backslashes, quotes and line breaks escaped. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}
