/**
 * The expression language: what a person writes on the board, parsed, checked, bound and compiled to a graph.
 *
 * @example
 * import { parseProgram, parseBindings, compileScalar } from "./lang/index.js";
 * const program = parseProgram("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2");
 * const { root, inputs, names } = compileScalar(program, parseBindings(["2,10,-1,4,3,1"], program));
 * root.data; // 9
 */
export type {
  Binary,
  Call,
  ConstRef,
  Expr,
  Header,
  Ident,
  Keyword,
  NameRef,
  NumberLit,
  Program,
  Span,
  Unary,
} from "./ast.js";
export { children, postOrder } from "./ast.js";
export { parseProgram, sourceErrorsOf, type ParseOptions } from "./check.js";
export { parseBindings, shapeOf, type BindingOptions, type BindingPosition, type BindingValue, type NestedArray } from "./bindings.js";
export { compileScalar, evaluate, freeNames, type EvalHooks, type ScalarGraph } from "./compile.js";
export {
  compileTensor,
  tensorFunction,
  tensorFunctions,
  tensorOnlyFunctions,
  usesTensorFeatures,
  callsTensorFunction,
  type TensorGraph,
  type TensorCompileOptions,
} from "./tensor.js";
export { printExpr } from "./print.js";
export { editDistance, suggestions, didYouMean } from "../core/suggest.js";
export {
  binaryOperators,
  constants,
  prefixOperators,
  scalarFunctions,
  type BinaryOperator,
  type FunctionSpec,
  type PrefixOperator,
} from "./table.js";
export { isName, tokenize, type Token, type TokenKind } from "./lexer.js";
export { MAX_NESTING } from "./parser.js";
