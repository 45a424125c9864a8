/**
 * The tensor engine's public API: n-dimensional tensors over Float32Array/Float64Array with NumPy broadcasting,
 * the op table's primitives and composites as methods and free functions, backpropagation (`backward`, also
 * building differentiable graphs with `createGraph`), forward mode over a graph. (`gradcheck`, built on it, is in src/autodiff/gradcheck.ts.)
 *
 * @example
 * import { randn } from "gradgraph";
 * const X = randn([4, 3], { seed: 0 }), W = randn([3, 2], { seed: 1, requiresGrad: true });
 * const loss = X.matmul(W).relu().sum();
 * loss.backward();
 * W.grad; // ∂loss/∂W, shape [3, 2]
 */
export {
  Tensor,
  isTensor,
  TENSOR_BRAND,
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
  noGrad,
  enableGrad,
  isGradEnabled,
  tensorHooks,
  graphAlgebra,
  engine,
  type TensorLike,
  type TensorOptions,
  type CreateOptions,
  type BackwardOptions,
  type ReduceOptions,
  type DimArg,
  type SliceSpec,
  type NestedArray,
  type IndexLike,
  type Span,
} from "./tensor.js";
export { rand, randn, randint } from "./random-tensors.js";
export { Generator, manualSeed, MAX_SEED, defaultGenerator, detLog, type GeneratorState } from "./random.js";
export * from "./functional.js";
export { NDArray, type TypedArray } from "./ndarray.js";
export { setNumThreads, getNumThreads } from "./kernels/threads.js";
export { rawAlgebra, applyRaw, kernels, stats, type OpWithKernel, type Kernel } from "./backend.js";
export { reverseSweep, forwardSweep, fitTo, type DiffNode } from "../ops/sweep.js";
export type { DType, Shape } from "../ops/op.js";
export { ShapeError, InputError, GradgraphError } from "../core/errors.js";
