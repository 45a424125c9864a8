/**
 * Renderers: pure functions from a graph to text. Take a {@link snapshot} of a graph once, then render it as
 * trace tables, the lecture's straight-line code or Graphviz DOT; the paths report runs the three
 * differentiation methods on the graph itself.
 *
 * @example
 * const x = new Value(0, { label: "x" }), y = new Value(1, { label: "y" });
 * const d = Value.constant(1).div(y.add(x.neg().exp()));
 * const snap = snapshot(d, [x, y]);
 * formatTrace(snap);            // forward and backward tables
 * generateCode(snap, "py");     // def df(x, y): ...
 * toDot(snap);                  // digraph { ...
 */
export {
  snapshot,
  snapshotWithValues,
  snapshotToJson,
  NAMED_CONSTANTS,
  type Snapshot,
  type SnapshotNode,
  type SnapshotUse,
  type SnapshotOptions,
  type Contribution,
  type NodeKind,
} from "./snapshot.js";
export {
  formatTrace,
  forwardTable,
  backwardTable,
  forwardRows,
  backwardRows,
  type ForwardRow,
  type BackwardRow,
} from "./trace.js";
export { generateCode, generateCodeLines, type CodeTarget, type CodeOptions, type CodeLine } from "./code.js";
export { toDot, layoutFor, layoutSpan, COMPACT_SPAN, type DotOptions, type DotLayout, type LayoutNode } from "./dot.js";
export {
  pathsReport,
  pathsData,
  formatPaths,
  type PathsData,
  type PathReport,
  type PathStepReport,
  type MethodReport,
} from "./paths.js";
export { formatValue, formatTable, DISPLAY_DIGITS, type TableOptions } from "./format.js";
export { printOp, symbolicAlgebra, symName, symConst, formatNumber, type Sym, type Compact } from "./symbolic.js";
export { formatGraph } from "./graph-text.js";
