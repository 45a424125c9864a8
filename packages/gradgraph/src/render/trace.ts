/**
 * The forward and backward passes as tables, one row per step, as the lecture walks them on the board.
 * Rows are plain data (for the web explorer); `formatTrace` lays them out as aligned text.
 */
import { formatTable, formatValue } from "./format.js";
import { opOf, type Snapshot, type SnapshotNode } from "./snapshot.js";
import { printOp, symConst, symName, type Sym } from "./symbolic.js";

/** One step of the forward pass. */
export interface ForwardRow {
  /** The node's name (`a`). */
  node: string;
  /** `input`, or the op's name (`neg`, `exp`, `add`). */
  operation: string;
  /** What it computes, on the board (`-x`, `exp(a)`, `y + b`); empty for an input. */
  formula: string;
  /** Its inputs with their values (`y = 1, b = 1`; a constant is its literal). */
  inputs: string;
  /** Its value (empty without values). */
  value: string;
}

/** One contribution to a gradient in the backward pass (or the seed at the root). */
export interface BackwardRow {
  /** The node whose gradient this row adds to. */
  node: string;
  /** The local derivative, symbolic and numeric: `∂d/∂c = -d/c = -0.25`. */
  local: string;
  /** The gradient it is multiplied with: `∇d = 1`. */
  incoming: string;
  /** `local × incoming`. */
  contribution: string;
  /** The node's gradient, on its last row: the value, or for a fan-out node the sum (`3 + 3 = 6`). */
  gradient: string;
}

/** The forward pass: the parameters, then every op in the order it runs (constants appear as literals). */
export function forwardRows(snap: Snapshot): ForwardRow[] {
  const rows: ForwardRow[] = [];
  const value = (n: SnapshotNode) => (n.value === null ? "" : formatValue(n.value));
  for (const n of snap.nodes) {
    if (n.kind === "const") continue;
    if (n.kind === "input") {
      rows.push({ node: n.name, operation: "input", formula: "", inputs: "", value: value(n) });
      continue;
    }
    const args = n.inputs.map((x) => snap.nodes[x]!);
    rows.push({
      node: n.name,
      operation: n.op!,
      formula: printOp(opOf(n), args.map(boardOperand), "board", "pow").text,
      inputs: args.map((a) => (a.kind === "const" && a.namedConstant === null ? a.name : `${a.name} = ${value(a)}`)).join(", "),
      value: value(n),
    });
  }
  return rows;
}

/**
 * The backward pass, in the order gradients become final: the seed `∇root = 1`, then for each node one row per
 * contribution (`local derivative × incoming gradient`); a fan-out node's last row shows the sum. Parameters the
 * output does not depend on get one row with gradient 0. Empty when the snapshot has no gradients.
 */
export function backwardRows(snap: Snapshot): BackwardRow[] {
  if (!snap.hasGrads) return [];
  const rows: BackwardRow[] = [];
  const root = snap.nodes[snap.root]!;
  for (const id of snap.backwardOrder) {
    const n = snap.nodes[id]!;
    if (id === snap.root) {
      rows.push({ node: n.name, local: `∂${n.name}/∂${n.name} = 1 (seed)`, incoming: "", contribution: "", gradient: "1" });
      continue;
    }
    if (n.contributions.length === 0) {
      rows.push({ node: n.name, local: `${root.name} does not depend on ${n.name}`, incoming: "", contribution: "", gradient: "0" });
      continue;
    }
    n.contributions.forEach((c, k) => {
      const from = snap.nodes[c.from]!;
      const text = from.localsText[c.input]!;
      const number = formatValue(c.local);
      const last = k === n.contributions.length - 1;
      rows.push({
        node: n.name,
        local: `∂${from.name}/∂${n.name} = ${text === number ? number : `${text} = ${number}`}`,
        incoming: `∇${from.name} = ${formatValue(c.incoming)}`,
        contribution: formatValue(c.value),
        gradient: last ? (n.contributions.length === 1 ? formatValue(n.grad!) : `${sumText(n.contributions.map((x) => x.value))} = ${formatValue(n.grad!)}`) : "",
      });
    });
  }
  return rows;
}

/** Sums with more terms than this are summarised (`sum of 200 contributions`) rather than written out. */
const MAX_SUM_TERMS = 8;

/** `3 + 3`, `6 - 2`: the terms of a sum as written by hand. */
function sumText(terms: readonly number[]): string {
  if (terms.length > MAX_SUM_TERMS) return `sum of ${terms.length} contributions`;
  return terms
    .map((t, i) => (i === 0 ? formatValue(t) : t < 0 || Object.is(t, -0) ? `- ${formatValue(-t)}` : `+ ${formatValue(t)}`))
    .join(" ");
}

/** The forward pass as an aligned table. */
export function forwardTable(snap: Snapshot): string {
  const rows = forwardRows(snap);
  return formatTable(
    ["node", "operation", "formula", "inputs", "value"],
    rows.map((r) => [r.node, r.operation, r.formula, r.inputs, r.value]),
  );
}

/** The backward pass as an aligned table (empty string without gradients). */
export function backwardTable(snap: Snapshot): string {
  if (!snap.hasGrads) return "";
  const rows = backwardRows(snap);
  return formatTable(
    ["node", "local derivative", "incoming gradient", "contribution", "gradient"],
    rows.map((r) => [r.node, r.local, r.incoming, r.contribution, r.gradient]),
  );
}

/**
 * Both passes, titled, as `gradgraph trace` prints them.
 *
 * @example
 * formatTrace(snapshot(d, [x, y]));
 * // Forward pass
 * //   node  operation  formula  inputs        value
 * //   ...
 * //   d     div        1 / c    1, c = 2      0.5
 * //
 * // Backward pass (∇n = ∂d/∂n)
 * //   ...
 */
export function formatTrace(snap: Snapshot): string {
  const root = snap.nodes[snap.root]!;
  const parts = ["Forward pass", forwardTable(snap)];
  if (snap.hasGrads) parts.push("", `Backward pass (∇n = ∂${root.name}/∂n)`, backwardTable(snap));
  return parts.join("\n") + "\n";
}

function boardOperand(n: SnapshotNode): Sym {
  return n.kind === "const" ? symConst(n.value!, "board", n.name) : symName(n.name);
}
