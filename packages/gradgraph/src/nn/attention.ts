/**
 * Multi-head attention (PyTorch's `nn.MultiheadAttention`), a composite of matmul, softmax and movement ops: no
 * rule of its own. Parameters carry PyTorch's names — `in_proj_weight` [3E, E] (the query, key and value
 * projections stacked), `in_proj_bias` [3E], `out_proj.weight` [E, E], `out_proj.bias` [E] — so a PyTorch
 * `state_dict` loads as it is.
 *
 * softmax(q kᵀ/√d + mask) v per head, where masks follow PyTorch: a boolean mask (nested arrays of booleans)
 * marks with `true` the positions that may NOT be attended to; a float tensor is added to the scores (−∞
 * blocks). `causal: true` lets position i attend to positions ≤ i only.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { fromTypedArray, Tensor, zeros } from "../tensor/tensor.js";
import { dropout } from "./functional.js";
import { xavierUniform } from "./init.js";
import { Linear, Module, type LayerOptions } from "./module.js";
import { Parameter } from "./parameter.js";

/**
 * A mask: booleans (true = blocked, PyTorch's bool mask) or a float tensor added to the scores. gradgraph has no
 * boolean tensors: a comparison's result (`tokens.eq(pad)`) is a float 0/1 tensor, which would be *added* (+1,
 * not blocked); turn it into an additive mask with `where(tokens.eq(pad), -Infinity, 0)`.
 */
export type AttentionMask = Tensor | boolean[] | boolean[][] | boolean[][][];

/** Options of a {@link MultiheadAttention} call (`forward`, `attend`): masks, causality, how weights are returned. */
export interface AttentionOptions {
  /** [L, S] or [N·heads, L, S]: which query may attend to which key (see {@link AttentionMask}). */
  attnMask?: AttentionMask;
  /** Shape [N, S]: keys to ignore for each batch element (true = padding). */
  keyPaddingMask?: AttentionMask;
  /** Query i attends to keys ≤ i only (PyTorch's `is_causal` with its causal mask). */
  causal?: boolean;
  /** Also return the attention weights (averaged over heads unless `averageAttnWeights: false`). */
  averageAttnWeights?: boolean;
}

/** Options of the {@link MultiheadAttention} layer: layout, dropout, bias, initial weights, dtype. */
export interface MultiheadAttentionOptions extends Pick<LayerOptions, "generator" | "seed" | "dtype" | "bias"> {
  /** Input and output layout [batch, seq, embed] (true) or PyTorch's default [seq, batch, embed] (false). */
  batchFirst?: boolean;
  /** Dropout on the attention weights in training mode (default 0). */
  dropout?: number;
}

const ATTENTION_KEYS = optionKeys<AttentionOptions>({ attnMask: true, keyPaddingMask: true, causal: true, averageAttnWeights: true });
const MHA_KEYS = optionKeys<MultiheadAttentionOptions>({ batchFirst: true, dropout: true, generator: true, seed: true, dtype: true, bias: true });

/** A mask as an additive float tensor of `shape` (0 where allowed, −∞ where blocked). */
function additiveMask(mask: AttentionMask, what: string, dtype: Tensor["dtype"]): Tensor {
  if (mask instanceof Tensor) return mask.cast(dtype);
  const shape: number[] = [];
  for (let cur: unknown = mask; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
  const flat = (mask as unknown[]).flat(Infinity as 1);
  const data = new Float64Array(flat.length);
  flat.forEach((v, i) => {
    if (typeof v !== "boolean") throw new InputError(`MultiheadAttention: ${what} must hold booleans or be a float tensor, got ${String(v)}`);
    data[i] = v ? -Infinity : 0;
  });
  if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new ShapeError(`MultiheadAttention: ${what} is ragged`);
  return fromTypedArray(data, shape).cast(dtype);
}

/** The causal mask [L, S]: −∞ above the diagonal. */
function causalMask(l: number, s: number, dtype: Tensor["dtype"]): Tensor {
  const data = new Float64Array(l * s);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) data[i * s + j] = -Infinity;
  return fromTypedArray(data, [l, s]).cast(dtype);
}

/**
 * Multi-head attention: `numHeads` heads of size embedDim/numHeads over query [L, N, E], key and value [S, N, E]
 * ([N, L, E] with `batchFirst`; [L, E] unbatched). `forward(query, key, value, options)` gives the output;
 * {@link attend} also the attention weights.
 *
 * @example
 * const mha = new MultiheadAttention(8, 2, { batchFirst: true, seed: 0 });
 * const x = randn([4, 5, 8]);
 * mha.forward(x, x, x, { causal: true }).shape; // [4, 5, 8]
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Tensor;
  in_proj_bias: Tensor | null;
  out_proj: Linear;
  readonly headDim: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  private readonly generator: Generator;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    expectOptions("MultiheadAttention", options, MHA_KEYS);
    for (const [what, n] of [["embedDim", embedDim], ["numHeads", numHeads]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`MultiheadAttention: ${what} must be a positive integer, got ${n}`);
    }
    if (embedDim % numHeads !== 0) {
      throw new InputError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads} (got remainder ${embedDim % numHeads})`);
    }
    const p = options.dropout ?? 0;
    if (!(p >= 0 && p <= 1)) throw new InputError(`MultiheadAttention: dropout must be in [0, 1], got ${p}`);
    this.headDim = embedDim / numHeads;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = p;
    const dtype = options.dtype ?? "float32";
    const g = generatorFor(options, new.target.name);
    // PyTorch: xavier_uniform_ on in_proj_weight, zeros for both biases, out_proj.weight as a Linear's.
    this.in_proj_weight = new Parameter(xavierUniform([3 * embedDim, embedDim], { generator: g, dtype }));
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? new Parameter(zeros([3 * embedDim], { dtype })) : null;
    this.out_proj = new Linear(embedDim, embedDim, { generator: g, dtype, bias });
    if (this.out_proj.bias !== null) this.out_proj.bias.assign(zeros([embedDim], { dtype }));
    this.generator = g;
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: AttentionOptions = {}): Tensor {
    return this.attend(query, key, value, options).output;
  }

  /** The output and the attention weights ([N, L, S] averaged over heads, or [N, heads, L, S]). */
  attend(query: Tensor, key: Tensor = query, value: Tensor = key, options: AttentionOptions = {}): { output: Tensor; weights: Tensor } {
    expectOptions("MultiheadAttention", options, ATTENTION_KEYS);
    const e = this.embedDim, h = this.numHeads, d = this.headDim;
    const unbatched = query.ndim === 2;
    for (const [what, t] of [["query", query], ["key", key], ["value", value]] as const) {
      if (t.ndim !== query.ndim || (t.ndim !== 2 && t.ndim !== 3) || t.shape[t.ndim - 1] !== e) {
        const layout = this.batchFirst ? "[batch, seq, embed]" : "[seq, batch, embed]";
        throw new ShapeError(`MultiheadAttention(${e}, ${h}): expected ${what} of shape ${layout} or [seq, embed] with embed = ${e}, got ${formatShape(t.shape)}`);
      }
    }
    // To [N, seq, E].
    const toBatchFirst = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.permute(1, 0, 2));
    const q0 = toBatchFirst(query), k0 = toBatchFirst(key), v0 = toBatchFirst(value);
    const [n, l] = q0.shape as [number, number];
    const s = k0.shape[1]!;
    if (k0.shape[0] !== n || v0.shape[0] !== n || v0.shape[1] !== s) {
      throw new ShapeError(`MultiheadAttention: query ${formatShape(query.shape)}, key ${formatShape(key.shape)} and value ${formatShape(value.shape)} do not agree in batch and key length`);
    }
    const w = this.in_proj_weight, b = this.in_proj_bias;
    const project = (x: Tensor, i: number, len: number) => {
      let y = x.matmul(w.slice([i * e, (i + 1) * e]).T);
      if (b !== null) y = y.add(b.slice([i * e, (i + 1) * e]));
      return y.reshape(n, len, h, d).permute(0, 2, 1, 3); // [N, H, len, d]
    };
    const q = project(q0, 0, l).mul(1 / Math.sqrt(d)), k = project(k0, 1, s), v = project(v0, 2, s);
    let scores = q.matmul(k.mT); // [N, H, L, S]
    const dtype = scores.dtype;
    if (options.attnMask !== undefined) {
      const m = additiveMask(options.attnMask, "attnMask", dtype);
      const ok = (m.ndim === 2 && m.shape.join() === [l, s].join()) || (m.ndim === 3 && m.shape.join() === [n * h, l, s].join());
      if (!ok) throw new ShapeError(`MultiheadAttention: expected attnMask of shape [${l}, ${s}] or [${n * h}, ${l}, ${s}], got ${formatShape(m.shape)}`);
      scores = scores.add(m.ndim === 2 ? m : m.reshape(n, h, l, s));
    }
    if (options.keyPaddingMask !== undefined) {
      const m = additiveMask(options.keyPaddingMask, "keyPaddingMask", dtype);
      const want = unbatched ? [s] : [n, s];
      if (m.shape.join() !== want.join()) throw new ShapeError(`MultiheadAttention: expected keyPaddingMask of shape ${formatShape(want)}, got ${formatShape(m.shape)}`);
      scores = scores.add(m.reshape(n, 1, 1, s));
    }
    if (options.causal === true) scores = scores.add(causalMask(l, s, dtype));
    let attn = scores.softmax(-1);
    if (this.training && this.dropout > 0) attn = dropout(attn, this.dropout, this.generator);
    // The weights as PyTorch returns them: after dropout, averaged over heads by default.
    const weights = options.averageAttnWeights === false ? attn : attn.mean(1);
    const merged = attn.matmul(v).permute(0, 2, 1, 3).reshape(n, l, e); // [N, L, E]
    const out = this.out_proj.forward(merged);
    const output = unbatched ? out.reshape(l, e) : this.batchFirst ? out : out.permute(1, 0, 2);
    return { output, weights: unbatched ? weights.squeeze(0) : weights };
  }

  override describe(): string {
    return `MultiheadAttention(embed_dim=${this.embedDim}, num_heads=${this.numHeads}${this.batchFirst ? ", batch_first=true" : ""}${this.dropout > 0 ? `, dropout=${this.dropout}` : ""})`;
  }
}
