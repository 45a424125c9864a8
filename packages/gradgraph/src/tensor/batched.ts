/**
 * Batched tensors, the engine under `vmap` (src/autodiff/vmap.ts), after functorch's BatchedTensor: a
 * `BatchedTensor` stands for one example of a batch — its shape is the example's — and holds the whole batch as
 * `inner`, a tensor with the batch axis first. Every op applied to one (through `Tensor.apply`, while a vmap runs)
 * runs the op's batching rule from the op table on the inner tensors once for the whole batch, never a loop over
 * examples, and records a node of the example's graph (the op, its parameters, its batched inputs), so the
 * transforms differentiate the example's function: `vmap(grad(f))` gives per-example gradients. The rules run
 * through the graph algebra, so the inner computation is itself recorded when an outer transform differentiates
 * through the vmap (`grad(vmap(f))`).
 *
 * Nesting: each vmap has a level; an inner tensor may itself be batched at an outer level, and an op runs at the
 * innermost level among its inputs (inputs batched only at outer levels are unbatched there).
 */
import { GradgraphError } from "../core/errors.js";
import { indexForBatch } from "../ops/batch.js";
import { NDArray, toTypedArray } from "./ndarray.js";
import { host, recording } from "./recording.js";
import type { AnyOp, IndexArray } from "../ops/op.js";
import { formatShape, sameShape, type Shape } from "../ops/shape.js";
import { batching, gradMode } from "./grad-mode.js";
import { graphAlgebra, Tensor, type TensorOptions } from "./tensor.js";

/** One example of a batch: the example's shape; the batch (batch axis first) as `inner`. */
export class BatchedTensor extends Tensor {
  readonly inner: Tensor;
  /** The vmap this batch belongs to (larger: nested deeper). */
  readonly level: number;
  private readonly logical: Shape;

  constructor(inner: Tensor, level: number, options: TensorOptions = {}, op: AnyOp | null = null, inputs: readonly Tensor[] = [], params?: unknown) {
    super(inner.value, options, op, inputs, params);
    this.inner = inner;
    this.level = level;
    this.logical = inner.shape.slice(1);
  }

  override get shape(): Shape {
    return this.logical;
  }
  override get ndim(): number {
    return this.logical.length;
  }
  override get size(): number {
    return this.logical.reduce((a, b) => a * b, 1);
  }
  override detach(): Tensor {
    return new BatchedTensor(this.inner.detach(), this.level);
  }
  override item(): number {
    throw inside("item()");
  }
  override toArray(): never {
    throw inside("toArray()");
  }
  override toNested(): never {
    throw inside("toNested()");
  }
  override toString(): string {
    return `BatchedTensor(shape ${formatShape(this.logical)}, level ${this.level}, batch of ${this.inner.shape[0]})`;
  }
}

function inside(what: string): GradgraphError {
  return new GradgraphError(`vmap: ${what} cannot read a batched tensor inside the mapped function (it stands for every example at once); return it from the function instead`);
}

/**
 * Runs `op` on `inputs` when one is batched: at the innermost level among them, through the op's batching rule
 * (after its shape rule on the example's shapes, so errors name those); null when none is batched.
 */
export function applyBatched(op: AnyOp, inputs: readonly Tensor[], params: unknown): Tensor | null {
  let level = -1;
  for (const x of inputs) if (x instanceof BatchedTensor && x.level > level) level = x.level;
  // gather's and scatterAdd's indices may differ per example: the op then runs at their vmap's level, or deeper
  const index = (params as { index?: IndexArray } | null | undefined)?.index;
  if (index?.batch !== undefined && index.batch.level > level) level = index.batch.level;
  if (level < 0) return null;
  if (op.batch === undefined) {
    throw new GradgraphError(`vmap: the op ${op.name} has no batching rule (a \`batch\` entry in the op table), so it cannot run inside vmap`);
  }
  const batched = inputs.map((x) => x instanceof BatchedTensor && x.level === level);
  const xs = inputs.map((x, i) => (batched[i] ? (x as BatchedTensor).inner : x));
  const logical = op.shape(inputs.map((x) => x.shape), params);
  const n = batched.includes(true) ? xs[batched.indexOf(true)]!.shape[0]! : index!.batch!.size;
  const out = op.batch!<Tensor>(graphAlgebra, xs, batched, index === undefined ? params : { ...(params as object), index: laidOut(index, level, n) });
  if (!sameShape(out.shape, [n, ...logical])) {
    throw new Error(`vmap: the batching rule of ${op.name} gave ${formatShape(out.shape)}, expected ${formatShape([n, ...logical])}`);
  }
  const skip = op.nondiffInputs;
  const record = gradMode.enabled && inputs.some((x, i) => x.requiresGrad && !(skip !== undefined && skip.includes(i)));
  return record ? new BatchedTensor(out, level, { requiresGrad: true }, op, inputs, params) : new BatchedTensor(out, level);
}

/**
 * `indexForBatch`, told to a trace in progress: an index repeated for the batch is a new array, which a compiled
 * step must make again from each call's indices (a host step from the array the indices were read from), not
 * replay as it was.
 */
function laidOut(index: IndexArray, level: number, n: number): IndexArray {
  const laid = indexForBatch(index, level, n);
  const r = recording.current, src = laid.data === index.data ? undefined : r?.indexSource(index.data);
  if (r === null || src === undefined) return laid;
  // the array the op gets: [n, ...] examples of this level, after the outer vmap's examples when it is batched there
  const shape = index.batch === undefined ? laid.shape : [index.batch.size, ...laid.shape];
  const [copy] = host("index_for_batch", [src], ([v]) => {
    const again = indexForBatch({ ...index, data: Int32Array.from(toTypedArray(v!)) }, level, n);
    return [new NDArray(Float64Array.from(again.data), shape)];
  });
  r.index(copy!, laid.data);
  return laid;
}

let nextLevel = 1;

/** Runs `fn` with batching on, at a new level (deeper than any running vmap); `fn` gets the level. */
export function withBatching<R>(fn: (level: number) => R): R {
  const prev = batching.apply;
  batching.apply = applyBatched;
  try {
    return fn(nextLevel++);
  } finally {
    batching.apply = prev;
  }
}
