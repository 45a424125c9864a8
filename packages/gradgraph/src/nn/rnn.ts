/**
 * Recurrent layers: LSTM and GRU (PyTorch's `nn.LSTM`, `nn.GRU`), composites of matmul, sigmoid, tanh and
 * movement ops: no rule of their own. The input projection of every time step is one matmul per layer; the
 * recurrence is a loop over time steps of [N, H] × [H, G·H] products (G gates). Parameters carry PyTorch's names
 * per layer k — `weight_ih_lk` [G·H, in], `weight_hh_lk` [G·H, H], `bias_ih_lk`, `bias_hh_lk` [G·H], gates in
 * PyTorch's order — so a PyTorch `state_dict` loads as it is:
 *
 *   LSTM: i, f, g, o = σ, σ, tanh, σ of x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ;  c' = f·c + i·g;  h' = o·tanh(c')
 *   GRU:  r, z = σ(x Wᵢᵣᵀ + bᵢᵣ + h Wₕᵣᵀ + bₕᵣ), σ(…);  n = tanh(x Wᵢₙᵀ + bᵢₙ + r·(h Wₕₙᵀ + bₕₙ));  h' = (1 − z)·n + z·h
 */
import { InputError, ShapeError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { stack, Tensor, zeros } from "../tensor/tensor.js";
import { dropout } from "./functional.js";
import { uniformFanIn } from "./init.js";
import { Module } from "./module.js";

/** Options of the recurrent layers ({@link LSTM}, {@link GRU}): layers, layout, bias, initial weights, dtype. */
export interface RNNOptions {
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
/** Options of {@link LSTM}. */
export type LSTMOptions = RNNOptions;
/** Options of {@link GRU}. */
export type GRUOptions = RNNOptions;

const RNN_KEYS = optionKeys<RNNOptions>({ numLayers: true, batchFirst: true, bias: true, dropout: true, generator: true, seed: true, dtype: true });

/** LSTM's recurrent state: h and c, each [numLayers, N, H] ([numLayers, H] unbatched). */
export interface LSTMState {
  h: Tensor;
  c: Tensor;
}

/** One layer's weights; `pre` is the input's part of a step ([N, G·H]), `state` the layer's (h first). */
interface Layer {
  whhT: Tensor;
  bhh: Tensor | null;
}

/** What LSTM and GRU share: parameters, layouts, the loops over layers and time steps. */
abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  private readonly bias: boolean;
  private readonly generator: Generator;

  /** `gates`: G; `states`: tensors of state per layer (LSTM's h and c, GRU's h). */
  constructor(private readonly gates: number, private readonly states: readonly string[], readonly inputSize: number, readonly hiddenSize: number, options: RNNOptions) {
    super();
    const kind = new.target.name;
    expectOptions(kind, options, RNN_KEYS);
    this.numLayers = options.numLayers ?? 1;
    for (const [what, n] of [["inputSize", inputSize], ["hiddenSize", hiddenSize], ["numLayers", this.numLayers]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`${kind}: ${what} must be a positive integer, got ${n}`);
    }
    const p = options.dropout ?? 0;
    if (!(p >= 0 && p <= 1)) throw new InputError(`${kind}: dropout must be in [0, 1], got ${p}`);
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = p;
    const g = generatorFor(options, new.target.name);
    this.generator = g;
    const dtype = options.dtype ?? "float32";
    const h = hiddenSize, gh = gates * hiddenSize;
    this.bias = options.bias ?? true;
    // Each parameter is a field named as PyTorch names it (weight_ih_l0, …), so it is found and saved so.
    const make = (name: string, shape: number[]) => this.registerParameter(name, uniformFanIn(shape, { generator: g, dtype, fanIn: h }));
    for (let k = 0; k < this.numLayers; k++) {
      make(`weight_ih_l${k}`, [gh, k === 0 ? inputSize : h]);
      make(`weight_hh_l${k}`, [gh, h]);
      if (this.bias) make(`bias_ih_l${k}`, [gh]), make(`bias_hh_l${k}`, [gh]);
    }
  }

  /** Layer k's parameters, read from their fields (so a field set anew is the one used). */
  private layer(k: number): { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null } {
    const self = this as unknown as Record<string, Tensor>;
    const get = (name: string) => self[`${name}_l${k}`]!;
    return { wih: get("weight_ih"), whh: get("weight_hh"), bih: this.bias ? get("bias_ih") : null, bhh: this.bias ? get("bias_hh") : null };
  }

  /** Whether the hidden bias may be added to the input's part once (LSTM) or must stay in the step (GRU). */
  protected abstract readonly foldHiddenBias: boolean;

  /** One time step of one layer: the new state (h first) from the input's part and the old state. */
  protected abstract step(pre: Tensor, state: Tensor[], w: Layer): Tensor[];

  /** The last layer's output at every step and the final states ([numLayers, N, H] each, h first). */
  protected runLayers(x: Tensor, initial: readonly Tensor[] | undefined): { output: Tensor; finals: Tensor[] } {
    const kind = this.constructor.name, H = this.hiddenSize, layers = this.numLayers;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== this.inputSize) {
      const layout = this.batchFirst ? "[batch, seq, input]" : "[seq, batch, input]";
      throw new ShapeError(`${kind}(${this.inputSize}, ${H}): expected input of shape ${layout} or [seq, input] with input = ${this.inputSize}, got ${formatShape(x.shape)}`);
    }
    const unbatched = x.ndim === 2;
    const xs = unbatched ? x.unsqueeze(0) : this.batchFirst ? x : x.permute(1, 0, 2); // [N, L, in]
    const [n, L] = xs.shape as [number, number];
    if (L === 0) throw new ShapeError(`${kind}(${this.inputSize}, ${H}): the sequence is empty (input of shape ${formatShape(x.shape)}, length 0): expected at least one step`);
    const init = initial?.map((t, i) => {
      const want = unbatched ? [layers, H] : [layers, n, H];
      if (t.shape.join() !== want.join()) throw new ShapeError(`${kind}: expected initial ${this.states[i]} of shape ${formatShape(want)}, got ${formatShape(t.shape)}`);
      return unbatched ? t.unsqueeze(1) : t;
    });
    let seq = xs;
    const finals: Tensor[][] = this.states.map(() => []);
    for (let k = 0; k < layers; k++) {
      const w = this.layer(k);
      // The input's part of every step at once: [N, L, G·H].
      let pre = seq.matmul(w.wih.T);
      if (w.bih !== null) pre = pre.add(w.bih);
      if (w.bhh !== null && this.foldHiddenBias) pre = pre.add(w.bhh);
      const lw: Layer = { whhT: w.whh.T, bhh: this.foldHiddenBias ? null : w.bhh };
      let state = this.states.map((_, i) => (init === undefined ? zeros([n, H], { dtype: x.dtype }) : init[i]!.slice(k)));
      const outs: Tensor[] = [];
      for (let t = 0; t < L; t++) {
        state = this.step(pre.slice(null, t), state, lw);
        outs.push(state[0]!);
      }
      state.forEach((s, i) => finals[i]!.push(s));
      seq = stack(outs, 1); // [N, L, H]
      if (this.training && this.dropout > 0 && k + 1 < layers) seq = dropout(seq, this.dropout, this.generator);
    }
    const output = unbatched ? seq.squeeze(0) : this.batchFirst ? seq : seq.permute(1, 0, 2);
    return { output, finals: finals.map((f) => (unbatched ? stack(f, 0).squeeze(1) : stack(f, 0))) };
  }

  /** The gate slices of a [N, G·H] tensor. */
  protected split(t: Tensor): Tensor[] {
    const H = this.hiddenSize;
    return Array.from({ length: this.gates }, (_, i) => t.slice(null, [i * H, (i + 1) * H]));
  }

  override describe(): string {
    const extras = [this.numLayers > 1 ? `num_layers=${this.numLayers}` : "", this.batchFirst ? "batch_first=true" : "", this.dropout > 0 ? `dropout=${this.dropout}` : ""];
    return `${this.constructor.name}(${this.inputSize}, ${this.hiddenSize}${extras.filter(Boolean).map((e) => `, ${e}`).join("")})`;
  }
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
export class LSTM extends RecurrentBase {
  protected readonly foldHiddenBias = true;

  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super(4, ["h", "c"], inputSize, hiddenSize, options);
  }

  forward(x: Tensor, state?: LSTMState): Tensor {
    return this.run(x, state).output;
  }

  /** The last layer's output at every step and the final (h, c) of every layer. */
  run(x: Tensor, state?: LSTMState): { output: Tensor; h: Tensor; c: Tensor } {
    const { output, finals } = this.runLayers(x, state === undefined ? undefined : [state.h, state.c]);
    return { output, h: finals[0]!, c: finals[1]! };
  }

  // i, f, g, o from x Wᵢₕᵀ + bᵢₕ + bₕₕ (pre) + h Wₕₕᵀ; c' = f·c + i·g; h' = o·tanh(c')
  protected step(pre: Tensor, [h, c]: Tensor[], w: Layer): Tensor[] {
    const [i, f, g, o] = this.split(pre.add(h!.matmul(w.whhT)));
    const c2 = f!.sigmoid().mul(c!).add(i!.sigmoid().mul(g!.tanh()));
    return [o!.sigmoid().mul(c2.tanh()), c2];
  }
}

/**
 * A gated recurrent unit network (PyTorch's `nn.GRU`), laid out as {@link LSTM}; the state is h alone.
 *
 * @example
 * const gru = new GRU(3, 5, { batchFirst: true, seed: 0 });
 * const { output, h } = gru.run(randn([4, 7, 3]));
 * output.shape; // [4, 7, 5];  h.shape: [1, 4, 5]
 */
export class GRU extends RecurrentBase {
  protected readonly foldHiddenBias = false;

  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    super(3, ["h"], inputSize, hiddenSize, options);
  }

  forward(x: Tensor, h0?: Tensor): Tensor {
    return this.run(x, h0).output;
  }

  /** The last layer's output at every step and the final h of every layer. */
  run(x: Tensor, h0?: Tensor): { output: Tensor; h: Tensor } {
    const { output, finals } = this.runLayers(x, h0 === undefined ? undefined : [h0]);
    return { output, h: finals[0]! };
  }

  // r, z = σ(pre + h Wₕₕᵀ + bₕₕ); n = tanh(pre_n + r·(h Wₕₙᵀ + bₕₙ)); h' = n + z·(h − n)
  protected step(pre: Tensor, [h]: Tensor[], w: Layer): Tensor[] {
    let hh = h!.matmul(w.whhT);
    if (w.bhh !== null) hh = hh.add(w.bhh);
    const [xr, xz, xn] = this.split(pre), [hr, hz, hn] = this.split(hh);
    const r = xr!.add(hr!).sigmoid(), z = xz!.add(hz!).sigmoid();
    const nn = xn!.add(r.mul(hn!)).tanh();
    return [nn.add(z.mul(h!.sub(nn)))];
  }
}
