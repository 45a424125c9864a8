/**
 * gradgraph: computational graphs and backpropagation.
 *
 * The library's public API: tensors and their autodiff (backward, functional transforms, vmap, gradcheck), the
 * scalar engine (`Value`), neural networks (`nn`, `optim`, `data`) and the backends. Two subpaths hold the
 * rest: `gradgraph/node` (files: weights, models, training runs, MNIST) and `gradgraph/lecture` (the lecture's
 * tools: the expression language, the renderers, the three differentiation modes, the op table). Layers: see
 * ARCHITECTURE.md.
 *
 * @module gradgraph
 */
export { GradgraphError, ShapeError, InputError, SourceError, SourceErrors, Interrupted, describeError } from "./core/errors.js";
export type { DType } from "./ops/op.js";
export { Value, type ValueOptions, type ValueLike, type Span } from "./scalar/value.js";
export { StaleValueError } from "./scalar/tape.js";
export { formatShape, type Shape } from "./ops/shape.js";
// The tensor engine: n-d tensors on the same op table, backward (also building differentiable graphs), forward
// mode over a graph, gradcheck; NumPy-named free functions under `functional` (src/tensor/index.ts has them all).
export {
  Tensor,
  isTensor,
  tensor,
  fromTypedArray,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  Generator,
  manualSeed,
  MAX_SEED,
  noGrad,
  enableGrad,
  isGradEnabled,
  engine,
  concat,
  stack,
  where,
  einsum,
  setNumThreads,
  getNumThreads,
  type TensorLike,
  type TensorOptions,
  type CreateOptions,
  type BackwardOptions,
  type ReduceOptions,
  type SliceSpec,
  type NestedArray,
  type IndexLike,
  type GeneratorState,
  type TypedArray,
} from "./tensor/index.js";
export type { RandomOptions } from "./tensor/random-tensors.js";
export type { Axes, DimArg } from "./ops/composite.js";
export type { VarOptions } from "./ops/stats.js";
export {
  gradcheck,
  findFaultyOp,
  type GradcheckOptions,
  type GradcheckReport,
  type GradcheckFailure,
  type CheckMode,
  type Culprit,
} from "./autodiff/gradcheck.js";
/** Free functions with NumPy's and PyTorch's names (`functional.matmul(a, b)`, …), mirroring the methods of {@link Tensor}. */
export * as functional from "./tensor/functional.js";
export { backendNames, setBackend, wasmMemoryBytes, withBackend, type Backend, type Kernel as BackendKernel, type KernelSet, type OutputMode } from "./backend/index.js";
// Functional transforms over tensors and trees of tensors (grad, vjp, jvp, jacrev, jacfwd, hessian, ...), custom
// derivatives, and debug aids (NaN/Inf detection, traced programs).
export {
  grad,
  valueAndGrad,
  vjp,
  jvp,
  linearize,
  jacrev,
  jacfwd,
  hessian,
  hvp,
  type Argnums,
  type GradsOf,
  type JacobianOf,
  type TangentsOf,
  type TransformOptions,
} from "./autodiff/functional.js";
export { customFunction, customVjp, customJvp, stopGradient, type CustomRules, type CustomFunction, type VjpRule, type JvpRule } from "./autodiff/custom.js";
export { vmap, type InAxes, type OutAxes } from "./autodiff/vmap.js";
export {
  detectAnomaly,
  findForwardAnomaly,
  findScalarAnomaly,
  traceProgram,
  AnomalyError,
  type AnomalyPhase,
  type AnomalyOptions,
  type TracedProgram,
  type TracedEquation,
  type TracedVar,
} from "./autodiff/debug.js";
// Compiled steps: trace a step into a program, simplify it, run it on a target (src/compile/).
export {
  compile,
  compileAsync,
  CompileError,
  registerTarget,
  cpuTarget,
  stepProgram,
  programString,
  programDot,
  optimize,
  lowerElementwise,
  eliminateDead,
  eliminateCommon,
  fuseElementwise,
  fuseReductions,
  fuseKernels,
  inPlaceUpdates,
  planMemory,
  type ProgramDotOptions,
  type CompiledFunction,
  type CompiledInfo,
  type CompileOptions,
  type ReplayMode,
  type AsyncCompiledFunction,
  type CompileAsyncOptions,
  type AsyncTarget,
  type AsyncExecutable,
  type Target,
  type Executable,
  type Program,
  type Step,
  type KernelOutput,
  type Var,
  type Source,
  type Effect,
  type Guard,
} from "./compile/index.js";
export { flattenTree, unflattenTree, mapTree, treeLeaves, type Tree, type GradTree, type TangentTree, type FlatTree, type TreeSpec } from "./autodiff/tree.js";
// Neural networks (the training issue): modules and layers, losses, initialisers, optimizers and schedules, data
// (toy sets, Iris, MNIST), fit/evaluate, safetensors, reports, and the micrograd-style scalar MLP (nn.scalar).
// Namespaces as in PyTorch: nn (everything), optim and data (the same functions, grouped).
export * as nn from "./nn/index.js";
/** The optimizers and learning-rate schedules (the same as in `nn`), grouped as PyTorch's `torch.optim`. */
export * as optim from "./nn/optim.js";
/** Datasets, loaders, splits and the built-in data (the same as in `nn`), grouped as PyTorch's `torch.utils.data`. */
export * as data from "./nn/data/index.js";
