/**
 * The op table and everything written against it: the registry of every primitive (elementwise and tensor),
 * the rule types and algebras, shape helpers, and the composites built from primitives. Published as the entry point
 * `gradgraph/ops`, for packages that lower gradgraph's ops to another runtime (gradgraph-onnx reads each op's ALU
 * lowering and parameters from it).
 */
export * from "./op.js";
export * from "./shape.js";
export { ALU_CALLS, isMask, schedule, traceAlu, type Alu, type AluCall, type AluNode, type AluOp, type Lowering } from "./alu.js";
export { elementwiseOps, elementwiseList } from "./elementwise.js";
export { reduceOps, sum, amax, amin, keepDims, printReduceParams } from "./reduce.js";
export { movementOps, reshape, permute, broadcastTo, slice, pad, concat, gather, scatterAdd, cast, inversePermutation } from "./movement.js";
export { matmulOps, matmul, matmulShape } from "./matmul.js";
export { selectOps, where } from "./where.js";
export { convOps, im2col, col2im, convOutSize, convOutShape, conv2d, maxPool2d, avgPool2d, type Conv2dOptions, type Pool2dOptions } from "./conv.js";
export { ops, opList, tensorOps, tensorOpList } from "./registry.js";
export { algebraOf, numberAlgebra } from "./algebras.js";
export { tensorAlgebraOf, type TensorAlgebraParts } from "./tensor-algebra.js";
export * as composite from "./composite.js";
export { compositeFunctions } from "./composite.js";
export { tensorFunctionList } from "./functions.js";
