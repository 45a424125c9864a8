/**
 * The computational graph as text for a terminal: one line per operation node with the values (edges) that
 * enter and leave it, in forward order — the lecture's definition: nodes are operations, edges are values.
 */
import { formatValue } from "./format.js";
import type { Snapshot } from "./snapshot.js";

/**
 * @example
 * formatGraph(snapshot(d, [x, y]));
 * //   x    ──▶ (neg) ──▶ a = 0
 * //   a    ──▶ (exp) ──▶ b = 1
 * //   y, b ──▶ (add) ──▶ c = 2
 * //   1, c ──▶ (div) ──▶ d = 0.5  (output)
 */
export function formatGraph(snap: Snapshot): string {
  const rows = snap.nodes
    .filter((n) => n.kind === "op")
    .map((n) => {
      const ins = n.inputs.map((i) => snap.nodes[i]!.name).join(", ");
      const out = n.value === null ? n.name : `${n.name} = ${formatValue(n.value)}`;
      return { ins, op: `(${n.op})`, out: out + (n.id === snap.root ? "  (output)" : "") };
    });
  const wi = Math.max(0, ...rows.map((r) => r.ins.length));
  const wo = Math.max(0, ...rows.map((r) => r.op.length));
  return rows.map((r) => `  ${r.ins.padEnd(wi)} ──▶ ${r.op.padEnd(wo)} ──▶ ${r.out}`.trimEnd()).join("\n") + "\n";
}
