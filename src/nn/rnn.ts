/**
 * LSTM (PyTorch's `nn.LSTM`), a composite of matmul, sigmoid, tanh and movement ops: no rule of its own. The
 * input projection of every time step is one matmul per layer; the recurrence is a loop over time steps of
 * [N, H] × [H, 4H] products. Parameters carry PyTorch's names per layer k — `weight_ih_lk` [4H, in],
 * `weight_hh_lk` [4H, H], `bias_ih_lk`, `bias_hh_lk` [4H], gates in PyTorch's order (input, forget, cell,
 * output) — so a PyTorch `state_dict` loads as it is:
 *
 *   i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ;  c' = f·c + i·g;  h' = o·tanh(c')
 */
import { InputError, ShapeError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { stack, Tensor, zeros } from "../tensor/tensor.js";
import { dropout } from "./functional.js";
import { uniformFanIn } from "./init.js";
import { Module } from "./module.js";

export interface LSTMOptions {
  /** Stacked layers (default 1): layer k + 1 reads layer k's outputs. */
  numLayers?: number;
  /** Input and output layout [batch, seq, feature] (true) or PyTorch's default [seq, batch, feature] (false). */
  batchFirst?: boolean;
  /** Whether the layers add biases (default true). */
  bias?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  generator?: Generator;
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/** The recurrent state: h and c, each [numLayers, N, H] ([numLayers, H] unbatched). */
export interface LSTMState {
  h: Tensor;
  c: Tensor;
}

/**
 * A long short-term memory network over sequences [L, N, inputSize] ([N, L, inputSize] with `batchFirst`;
 * [L, inputSize] unbatched). `forward(x, state?)` gives the outputs of the last layer at every step
 * ([L, N, hiddenSize]); {@link run} also the final state (h, c) of every layer. Weights start from
 * U(±1/√hiddenSize), as in PyTorch.
 *
 * @example
 * const lstm = new LSTM(3, 5, { numLayers: 2, batchFirst: true, seed: 0 });
 * const { output, h, c } = lstm.run(randn([4, 7, 3]));
 * output.shape; // [4, 7, 5];  h.shape, c.shape: [2, 4, 5]
 */
export class LSTM extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  private readonly bias: boolean;
  private readonly generator: Generator;

  constructor(readonly inputSize: number, readonly hiddenSize: number, options: LSTMOptions = {}) {
    super();
    this.numLayers = options.numLayers ?? 1;
    for (const [what, n] of [["inputSize", inputSize], ["hiddenSize", hiddenSize], ["numLayers", this.numLayers]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`LSTM: ${what} must be a positive integer, got ${n}`);
    }
    const p = options.dropout ?? 0;
    if (!(p >= 0 && p <= 1)) throw new InputError(`LSTM: dropout must be in [0, 1], got ${p}`);
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = p;
    const g = generatorFor(options);
    this.generator = g;
    const dtype = options.dtype ?? "float32";
    const h = hiddenSize;
    this.bias = options.bias ?? true;
    // Each parameter is a field named as PyTorch names it (weight_ih_l0, …), so it is found and saved so.
    const make = (name: string, shape: number[]) => this.registerParameter(name, uniformFanIn(shape, { generator: g, dtype, fanIn: h }));
    for (let k = 0; k < this.numLayers; k++) {
      make(`weight_ih_l${k}`, [4 * h, k === 0 ? inputSize : h]);
      make(`weight_hh_l${k}`, [4 * h, h]);
      if (this.bias) make(`bias_ih_l${k}`, [4 * h]), make(`bias_hh_l${k}`, [4 * h]);
    }
  }

  /** Layer k's parameters, read from their fields (so a field set anew is the one used). */
  private layer(k: number): { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null } {
    const self = this as unknown as Record<string, Tensor>;
    const get = (name: string) => self[`${name}_l${k}`]!;
    return { wih: get("weight_ih"), whh: get("weight_hh"), bih: this.bias ? get("bias_ih") : null, bhh: this.bias ? get("bias_hh") : null };
  }

  forward(x: Tensor, state?: LSTMState): Tensor {
    return this.run(x, state).output;
  }

  /** The last layer's output at every step and the final (h, c) of every layer. */
  run(x: Tensor, state?: LSTMState): { output: Tensor; h: Tensor; c: Tensor } {
    const H = this.hiddenSize, layers = this.numLayers;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== this.inputSize) {
      const layout = this.batchFirst ? "[batch, seq, input]" : "[seq, batch, input]";
      throw new ShapeError(`LSTM(${this.inputSize}, ${H}): expected input of shape ${layout} or [seq, input] with input = ${this.inputSize}, got ${formatShape(x.shape)}`);
    }
    const unbatched = x.ndim === 2;
    // To [N, L, in].
    const xs = unbatched ? x.unsqueeze(0) : this.batchFirst ? x : x.permute(1, 0, 2);
    const [n, L] = xs.shape as [number, number];
    let h0: Tensor | null = null, c0: Tensor | null = null;
    if (state !== undefined) {
      const want = unbatched ? [layers, H] : [layers, n, H];
      for (const [what, t] of [["h", state.h], ["c", state.c]] as const) {
        if (t.shape.join() !== want.join()) throw new ShapeError(`LSTM: expected initial ${what} of shape ${formatShape(want)}, got ${formatShape(t.shape)}`);
      }
      h0 = unbatched ? state.h.unsqueeze(1) : state.h;
      c0 = unbatched ? state.c.unsqueeze(1) : state.c;
    }
    let seq = xs;
    const hs: Tensor[] = [], cs: Tensor[] = [];
    for (let k = 0; k < layers; k++) {
      const w = this.layer(k);
      // The input's part of every step at once: [N, L, 4H].
      let pre = seq.matmul(w.wih.T);
      if (w.bih !== null) pre = pre.add(w.bih);
      if (w.bhh !== null) pre = pre.add(w.bhh);
      let h = h0 === null ? zeros([n, H], { dtype: x.dtype }) : h0.slice(k);
      let c = c0 === null ? zeros([n, H], { dtype: x.dtype }) : c0.slice(k);
      const whhT = w.whh.T;
      const outs: Tensor[] = [];
      for (let t = 0; t < L; t++) {
        const gates = pre.slice(null, t).add(h.matmul(whhT)); // [N, 4H]
        const i = gates.slice(null, [0, H]).sigmoid();
        const f = gates.slice(null, [H, 2 * H]).sigmoid();
        const g = gates.slice(null, [2 * H, 3 * H]).tanh();
        const o = gates.slice(null, [3 * H, 4 * H]).sigmoid();
        c = f.mul(c).add(i.mul(g));
        h = o.mul(c.tanh());
        outs.push(h);
      }
      hs.push(h), cs.push(c);
      seq = stack(outs, 1); // [N, L, H]
      if (this.training && this.dropout > 0 && k + 1 < layers) {
        seq = dropout(seq, this.dropout, this.generator);
      }
    }
    const output = unbatched ? seq.squeeze(0) : this.batchFirst ? seq : seq.permute(1, 0, 2);
    const hn = stack(hs, 0), cn = stack(cs, 0);
    return { output, h: unbatched ? hn.squeeze(1) : hn, c: unbatched ? cn.squeeze(1) : cn };
  }

  override describe(): string {
    const extras = [this.numLayers > 1 ? `num_layers=${this.numLayers}` : "", this.batchFirst ? "batch_first=true" : "", this.dropout > 0 ? `dropout=${this.dropout}` : ""];
    return `LSTM(${this.inputSize}, ${this.hiddenSize}${extras.filter(Boolean).map((e) => `, ${e}`).join("")})`;
  }
}
