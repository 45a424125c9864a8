/**
 * gradgraph/lecture: the tools the lecture's material is built from, for programs that teach or show graphs
 * (the CLI and the web explorer use them): the expression language (`x*y + sin(x)` → a graph), the renderers
 * (trace tables, the lecture's straight-line code, Graphviz DOT, path products), the three differentiation
 * methods on scalar graphs (reverse, forward, paths), tensor graphs for people, and the op table itself.
 *
 * @example
 * import { compileScalar, parseProgram, formatTrace, snapshot } from "gradgraph/lecture";
 * const { root, inputs } = compileScalar(parseProgram("x*y + sin(x)"), { x: 2, y: 3 });
 * root.backward();
 * console.log(formatTrace(snapshot(root, inputs)));
 *
 * @module gradgraph/lecture
 */
export * from "./lang/index.js";
export * from "./render/index.js";
export * from "./autodiff/modes.js";
export * from "./ops/op.js";
export { caretLines, CARET_WINDOW } from "./core/errors.js";
export { numberRangeProblem } from "./core/number-range.js";
export { topoOrder, type GraphNode } from "./core/graph.js";
export { localDerivative } from "./scalar/value.js";
export { elementwiseOps, elementwiseList } from "./ops/elementwise.js";
export { algebraOf, numberAlgebra } from "./ops/algebras.js";
export { ops, opList, tensorOps, tensorOpList } from "./ops/registry.js";
export { spanIn } from "./autodiff/debug.js";
export {
  describeTensorGraph,
  formatTensorTrace,
  formatNested,
  tensorToDot,
  type TensorGraphView,
  type TensorNodeView,
} from "./render/tensor.js";
export { generateTensorCode, type TensorCodeOptions } from "./render/tensor-code.js";
