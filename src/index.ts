/**
 * gradgraph: computational graphs and backpropagation.
 *
 * The public API. Layers (see ARCHITECTURE.md): core → ops → autodiff/scalar/tensor → lang → render → cli.
 */
export * from "./core/errors.js";
export { topoOrder, type GraphNode } from "./core/graph.js";
export * from "./ops/op.js";
export { elementwiseOps, elementwiseList } from "./ops/elementwise.js";
export { algebraOf, numberAlgebra } from "./ops/algebras.js";
export { Value, localDerivative, type ValueOptions, type Span } from "./scalar/value.js";
export * from "./autodiff/modes.js";
