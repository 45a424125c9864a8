/**
 * Modules: the building blocks of a network (PyTorch's `nn.Module`). A module holds parameters (leaf tensors that
 * require grad) and child modules in its own properties; `namedParameters()` finds them by walking those
 * properties in the order they were set, so a subclass only assigns fields:
 *
 * ```ts
 * class Affine extends Module {
 *   w = randn([3], { requiresGrad: true });
 *   forward(x: Tensor) { return x.mul(this.w); }
 * }
 * ```
 *
 * Names follow PyTorch (`0.weight`, `2.bias` in a `Sequential`), so a state saved by {@link saveSafetensors}
 * reads like a PyTorch `state_dict`.
 */
import { InputError, ShapeError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { rand } from "../tensor/random-tensors.js";
import { noGrad, Tensor } from "../tensor/tensor.js";
import { activationSpec, gelu, leakyRelu, type ActivationName } from "./functional.js";
import { initWeight, uniformFanIn, type InitName } from "./init.js";

/** A parameter: a leaf tensor that requires grad. */
function isParameter(v: unknown): v is Tensor {
  return v instanceof Tensor && v.isLeaf && v.requiresGrad;
}

/**
 * The base class of every layer and network.
 *
 * @example
 * const model = new MLP([2, 16, 2], "relu", { seed: 0 });
 * model.namedParameters().map(([name, p]) => `${name} ${p.shape}`); // ["0.weight 16,2", "0.bias 16", ...]
 * model.eval(); // dropout off
 */
export abstract class Module {
  /** Training mode (true) or evaluation mode (false); {@link Dropout} and friends look at it. */
  training = true;

  /** The module's output for an input batch. */
  abstract forward(x: Tensor): Tensor;

  /** The direct children, named by the property that holds them (`name.i` for arrays). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([key, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${key}.${i}`, m]));
    }
    return out;
  }

  /** The direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Every module of the tree, this one first (depth first). */
  modules(): Module[] {
    return [this, ...this.children().flatMap((c) => c.modules())];
  }

  /** This module's own parameters (not its children's), named by property. */
  protected ownParameters(): [string, Tensor][] {
    return Object.entries(this).filter((e): e is [string, Tensor] => isParameter(e[1]));
  }

  /** Every parameter of the tree with its dotted name (`0.weight`), in a fixed order. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = this.ownParameters().map(([n, p]) => [prefix + n, p]);
    for (const [n, c] of this.namedChildren()) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every parameter of the tree (what an optimizer updates). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Clears `.grad` of every parameter (gradients add up across backward passes until cleared). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Sets training mode (default) or evaluation mode on the whole tree. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode on the whole tree (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Replaces the parameters' values with `state`'s, by name (shapes must match; values are converted to each
   * parameter's dtype). With `strict` (the default) the names must be exactly the model's.
   */
  loadParameters(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, { strict = true } = {}): this {
    const map = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.namedParameters();
    const names = new Set(own.map(([n]) => n));
    if (strict) {
      const missing = own.filter(([n]) => !map.has(n)).map(([n]) => n);
      const extra = [...map.keys()].filter((n) => !names.has(n));
      if (missing.length > 0 || extra.length > 0) {
        const parts = [missing.length > 0 ? `missing ${missing.join(", ")}` : "", extra.length > 0 ? `unexpected ${extra.join(", ")}` : ""];
        throw new InputError(`loadParameters: the parameters do not match the model: ${parts.filter(Boolean).join("; ")}`);
      }
    }
    for (const [n, p] of own) {
      const v = map.get(n);
      if (v === undefined) continue;
      if (v.shape.join() !== p.shape.join()) {
        throw new ShapeError(`loadParameters: ${n} has shape ${formatShape(v.shape)}, the model's is ${formatShape(p.shape)}`);
      }
      noGrad(() => p.assign(v));
    }
    return this;
  }

  /** A one-line description of this module (its class and settings). */
  describe(): string {
    return `${this.constructor.name}()`;
  }

  /** The tree, indented, like PyTorch's repr: `Sequential(\n  (0): Linear(in=2, out=16)\n  …)`. */
  toString(): string {
    const kids = this.namedChildren();
    const head = this.describe();
    if (kids.length === 0) return head;
    const open = head.endsWith("()") ? head.slice(0, -1) : `${head.slice(0, -1)},`;
    const body = kids.map(([n, c]) => `  (${n}): ${c.toString().replace(/\n/g, "\n  ")}`).join("\n");
    return `${open}\n${body}\n)`;
  }
}

export interface LayerOptions {
  /** Initialiser of the weight (default "uniform": PyTorch's U(±1/√in) for weight and bias; see {@link Linear}). */
  init?: InitName;
  /** Gain for the initialiser (see `gainFor`). */
  gain?: number;
  /**
   * Where the initial weights come from: a generator (advanced), or a seed for a fresh one; by default a stream
   * of its own from the global generator (`manualSeed`).
   */
  generator?: Generator;
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Whether the layer adds a bias (default true). */
  bias?: boolean;
}

/**
 * A fully connected layer: y = x Wᵀ + b, with W of shape [out, in] and b of shape [out] (PyTorch's layout).
 *
 * Initialisation: by default PyTorch's (W and b from U(±1/√in)); with `init` a named initialiser for W
 * (Kaiming/He, Xavier/Glorot) and zeros for b.
 *
 * @example
 * const layer = new Linear(3, 2, { seed: 0 });
 * layer.forward(ones([4, 3])).shape; // [4, 2]
 */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    super();
    for (const [what, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`Linear: ${what} must be a positive integer, got ${n}`);
    }
    const g = generatorFor(options);
    const dtype = options.dtype ?? "float32";
    const shape = [outFeatures, inFeatures];
    const init = options.init ?? "uniform";
    this.weight = initWeight(init, shape, { generator: g, dtype, ...(options.gain === undefined ? {} : { gain: options.gain }) });
    this.weight.requiresGrad = true;
    this.weight.label = "weight";
    if (options.bias === false) this.bias = null;
    else {
      this.bias = init === "uniform" ? uniformFanIn([outFeatures], { generator: g, dtype, fanIn: inFeatures }) : initWeight("zeros", [outFeatures], { dtype });
      this.bias.requiresGrad = true;
      this.bias.label = "bias";
    }
  }

  forward(x: Tensor): Tensor {
    const last = x.shape[x.ndim - 1];
    if (last !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): input of shape ${formatShape(x.shape)} does not end in ${this.inFeatures} features`);
    }
    const y = x.matmul(this.weight.T);
    return this.bias === null ? y : y.add(this.bias);
  }

  override describe(): string {
    return `Linear(in=${this.inFeatures}, out=${this.outFeatures}${this.bias === null ? ", bias=false" : ""})`;
  }
}

/**
 * Modules applied one after the other; children are named "0", "1", ….
 *
 * @example
 * const net = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 1));
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = m.forward(h);
    return h;
  }

  override describe(): string {
    return "Sequential()";
  }
}

/** A module that applies a function with no parameters. */
abstract class Elementwise extends Module {
  override describe(): string {
    return `${this.constructor.name}()`;
  }
}

export class ReLU extends Elementwise {
  forward(x: Tensor): Tensor { return x.relu(); }
}
export class Tanh extends Elementwise {
  forward(x: Tensor): Tensor { return x.tanh(); }
}
export class Sigmoid extends Elementwise {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}
/** GELU, the tanh approximation (see `gelu`). */
export class GELU extends Elementwise {
  forward(x: Tensor): Tensor { return gelu(x); }
}
export class LeakyReLU extends Elementwise {
  constructor(readonly slope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.slope); }
  override describe(): string { return `LeakyReLU(slope=${this.slope})`; }
}
export class Softmax extends Elementwise {
  constructor(readonly axis = -1) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.axis); }
}
export class Identity extends Elementwise {
  forward(x: Tensor): Tensor { return x; }
}
/**
 * Flattens axes startDim..endDim into one (PyTorch's `nn.Flatten`: by default all axes but the first, the batch).
 */
export class Flatten extends Elementwise {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor {
    const r = x.ndim;
    const s = this.startDim < 0 ? this.startDim + r : this.startDim, e = this.endDim < 0 ? this.endDim + r : this.endDim;
    if (!(s >= 0 && s < Math.max(r, 1) && e >= s && e < Math.max(r, 1))) {
      throw new ShapeError(`Flatten(start_dim=${this.startDim}, end_dim=${this.endDim}): axes out of range for input of shape ${formatShape(x.shape)}`);
    }
    if (r === 0) return x.reshape(1);
    const mid = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return x.reshape(...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1));
  }
  override describe(): string { return `Flatten(start_dim=${this.startDim}, end_dim=${this.endDim})`; }
}

/**
 * Dropout: in training mode zeroes each element with probability p and scales the rest by 1/(1 − p); in
 * evaluation mode the identity. The masks come from the module's own generator: its `seed`, or by default a
 * stream of its own from the global generator (`manualSeed`), so two Dropouts draw different masks.
 */
export class Dropout extends Module {
  private readonly generator: Generator;
  constructor(readonly p = 0.5, options: { seed?: number; generator?: Generator } = {}) {
    super();
    if (!(p >= 0 && p < 1)) throw new InputError(`Dropout: p must be in [0, 1), got ${p}`);
    this.generator = generatorFor(options);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const keep = rand(x.shape, { generator: this.generator, dtype: x.dtype }).gt(this.p);
    return x.mul(keep).mul(1 / (1 - this.p));
  }
  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

/** The module of each activation, keyed by the names of `ACTIVATIONS`: tsc rejects a name without one. */
const ACTIVATION_MODULES: { readonly [K in ActivationName]: () => Module } = {
  relu: () => new ReLU(),
  tanh: () => new Tanh(),
  sigmoid: () => new Sigmoid(),
  gelu: () => new GELU(),
  leaky_relu: () => new LeakyReLU(),
  identity: () => new Identity(),
};

/** The module for an activation name (an unknown name is an error listing them). */
export function activationModule(name: ActivationName | string): Module {
  return ACTIVATION_MODULES[activationSpec(name).name]();
}

export interface MLPOptions extends Omit<LayerOptions, "bias"> {
  /** An activation after the last layer too (default none: the output is logits or a regression value). */
  outputActivation?: ActivationName;
}

/**
 * A multi-layer perceptron: Linear layers of the given sizes with an activation between them — a
 * `Sequential(Linear, act, Linear, act, …, Linear)`, so parameters are named `0.weight`, `0.bias`,
 * `2.weight`, ….
 *
 * Initialisation (unless `init` says otherwise): Kaiming/He for ReLU-like activations (relu, leaky_relu, gelu),
 * Xavier/Glorot for tanh, sigmoid and identity, with the activation's gain; biases zero. All weights come from
 * one generator seeded by `seed` (by default a stream from the global generator that `manualSeed` sets), layer
 * by layer, so a seed fixes the whole network.
 *
 * @example
 * const model = new MLP([784, 128, 10], "relu", { seed: 0 });
 * model.forward(zeros([64, 784])).shape; // [64, 10]
 */
export class MLP extends Sequential {
  readonly sizes: readonly number[];
  readonly activation: ActivationName;

  constructor(sizes: readonly number[], act: ActivationName = "relu", options: MLPOptions = {}) {
    if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new InputError(`MLP: sizes must be at least two positive integers (inputs, …, outputs), got [${sizes.join(", ")}]`);
    }
    const spec = activationSpec(act);
    const g = generatorFor(options);
    const init: InitName = options.init ?? (spec.reluLike ? "kaiming-uniform" : "xavier-uniform");
    const gain = options.gain ?? spec.gain(0.01);
    const layers: Module[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const last = i + 2 === sizes.length;
      // The output layer feeds no activation: gain 1 (Xavier) keeps logits small at the start.
      const layerInit: InitName = options.init ?? (last ? "xavier-uniform" : init);
      layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { init: layerInit, gain: last && options.gain === undefined ? 1 : gain, generator: g, dtype: options.dtype ?? "float32" }));
      if (!last) layers.push(activationModule(act));
      else if (options.outputActivation !== undefined) layers.push(activationModule(options.outputActivation));
    }
    super(...layers);
    this.sizes = [...sizes];
    this.activation = act;
  }

  override describe(): string {
    return `MLP(${this.sizes.join("-")}, ${this.activation})`;
  }
}
