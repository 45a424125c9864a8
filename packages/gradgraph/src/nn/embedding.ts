/**
 * Embedding: a lookup table of vectors (PyTorch's `nn.Embedding`). The lookup is the table's `gather` along the
 * rows — its vjp is `scatterAdd`, so a row picked twice gets both gradients and rows not picked get zero — and
 * needs no primitive of its own.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import type { IndexArray } from "../ops/op.js";
import { tensorOps } from "../ops/registry.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { randn } from "../tensor/random-tensors.js";
import { NDArray, toTypedArray } from "../tensor/ndarray.js";
import { host, recording } from "../tensor/recording.js";
import { BatchedTensor } from "../tensor/batched.js";
import { batchOf } from "../tensor/index-args.js";
import { tensor, Tensor, where, type IndexLike } from "../tensor/tensor.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Flat indices checked to be whole numbers in [0, size). */
function checkedIndices(flat: ArrayLike<number>, what: string, size: number): Int32Array {
  const data = new Int32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (!Number.isInteger(v)) throw new InputError(`${what}: indices must be whole numbers, got ${v} at position ${i}`);
    if (v < 0 || v >= size) throw new InputError(`${what}: index ${v} at position ${i} is out of range [0, ${size})`);
    data[i] = v;
  }
  return data;
}

/**
 * The gather indices of a lookup (each index repeated for the `dim` columns of its row) and the mask of the
 * positions holding `pad`, from index data (a tensor of whole numbers, nested arrays or an Int32Array). Indices in
 * a tensor are data: a host step, so a compiled step reads each call's.
 */
function lookup(index: Tensor | IndexLike, what: string, num: number, dim: number, pad: number): { rows: IndexArray; isPad: Tensor; shape: number[] } {
  const t = index instanceof Int32Array ? null : index instanceof Tensor ? index : tensor(index, { dtype: "float64" });
  // inside vmap, ids that differ per example: every example's ids at once, the batch axis first
  const batch = t === null ? null : batchOf(t, what);
  const examples = batch === null ? [] : [batch.inner.shape[0]!];
  const perExample = batch === null ? null : t!.shape.reduce((a, b) => a * b, 1);
  const make = (flat: ArrayLike<number>): NDArray[] => {
    const data = checkedIndices(flat, what, num), n = data.length, m = perExample ?? n;
    const rows = new Float64Array(n * dim), isPad = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      rows.fill(data[i]!, i * dim, (i + 1) * dim);
      isPad[i] = data[i] === pad ? 1 : 0;
    }
    return [new NDArray(rows, [...examples, m, dim]), new NDArray(isPad, [...examples, m, 1])];
  };
  if (t !== null) recording.current?.tensor(batch?.inner ?? t); // ids made before a trace are state (read at each call), not a constant
  const [rows, isPad] = t === null ? make(index as Int32Array) : host("embedding_ids", [t.value], ([v]) => make(toTypedArray(v!)));
  const shape = t === null ? [(index as Int32Array).length] : [...t.shape];
  const data = indexArrayOf(rows!);
  if (batch === null) return { rows: { data, shape: rows!.shape }, isPad: new Tensor(isPad!), shape };
  return { rows: { data, shape: rows!.shape.slice(1), batch: { level: batch.level, size: examples[0]! } }, isPad: new BatchedTensor(new Tensor(isPad!), batch.level), shape };
}

/** A float array of whole numbers as gather's Int32Array (a trace is told where it came from). */
function indexArrayOf(a: NDArray): Int32Array {
  const data = Int32Array.from(a.data);
  recording.current?.index(a, data);
  return data;
}

/** Options of {@link Embedding}: a padding row, where the initial weights come from, dtype. */
export interface EmbeddingOptions {
  /** This row's output gets no gradient and starts at zeros (negative: counted from the end). */
  paddingIdx?: number;
  generator?: Generator;
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

const EMBEDDING_KEYS = optionKeys<EmbeddingOptions>({ paddingIdx: true, generator: true, seed: true, dtype: true });

/**
 * The rows of `weight` ([num, dim]) picked by `index` (any shape): an output of shape [...index, dim]. With
 * `paddingIdx`, positions holding that index get no gradient (their row is still read).
 *
 * @example
 * embedding([[0, 2]], tensor([[1, 1], [2, 2], [3, 3]])).toNested(); // [[[1, 1], [3, 3]]]
 */
export function embedding(index: Tensor | IndexLike, weight: Tensor, paddingIdx?: number): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`embedding: expected a weight of shape [num, dim], got ${formatShape(weight.shape)}`);
  const [num, dim] = weight.shape as [number, number];
  const pad = paddingIdx === undefined ? -1 : paddingIdx < 0 ? paddingIdx + num : paddingIdx;
  const { rows, isPad, shape } = lookup(index, `Embedding(${num}, ${dim})`, num, dim, pad);
  const pick = (w: Tensor) => Tensor.apply(tensorOps.gather, [w], { axis: 0, index: rows });
  let out = pick(weight);
  // The padding row's positions take the row without a gradient (where the mask is 0 this is `out` exactly).
  if (pad >= 0) out = where(isPad, pick(weight.detach()), out);
  return out.reshape([...shape, dim]);
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (PyTorch's `nn.Embedding`), initialised
 * from N(0, 1) (the `paddingIdx` row zeros). The input holds whole-number indices of any shape.
 *
 * @example
 * const emb = new Embedding(10, 3, { seed: 0 });
 * emb.forward(tensor([[1, 2], [4, 9]])).shape; // [2, 2, 3]
 */
export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | undefined;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    expectOptions("Embedding", options, EMBEDDING_KEYS);
    for (const [what, n] of [["numEmbeddings", numEmbeddings], ["embeddingDim", embeddingDim]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`Embedding: ${what} must be a positive integer, got ${n}`);
    }
    const p = options.paddingIdx;
    if (p !== undefined && (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings)) {
      throw new InputError(`Embedding: paddingIdx must be a whole number in [${-numEmbeddings}, ${numEmbeddings}), got ${p}`);
    }
    this.paddingIdx = p === undefined ? undefined : p < 0 ? p + numEmbeddings : p;
    const dtype = options.dtype ?? "float32";
    const w = randn([numEmbeddings, embeddingDim], { generator: generatorFor(options, new.target.name), dtype });
    if (this.paddingIdx !== undefined) w.toArray().fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    w.label = "weight";
    this.weight = new Parameter(w);
  }

  forward(index: Tensor | IndexLike): Tensor {
    return embedding(index, this.weight, this.paddingIdx);
  }

  override describe(): string {
    return `Embedding(${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === undefined ? "" : `, padding_idx=${this.paddingIdx}`})`;
  }
}
