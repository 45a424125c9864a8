/**
 * The micrograd layer of `nn`: the same network as {@link MLP}, built from scalar {@link Value}s — one node per
 * multiplication, addition and activation — for the lecture's 1-D view ("1D backpropagation implementations can
 * easily be extended to vectorized and mini-batch implementations"). Same names as the tensor modules:
 * `Linear`, `MLP`, `parameters()`, `namedParameters()`, `zeroGrad()`, `forward()`, and the losses `mseLoss` and
 * `crossEntropy`, and an `SGD` optimizer.
 *
 * Given the same weights (`copyFrom` a tensor MLP) and data, it computes the same losses and gradients as the
 * tensor engine (a test checks it step for step in float64).
 *
 * @example
 * const net = new scalar.MLP([2, 4, 1], "tanh", { seed: 0 });
 * const loss = scalar.mseLoss(net.forward([[1, 2]]), [[0.5]]);
 * loss.backward();
 * new scalar.SGD(net.parameters(), { lr: 0.1 }).step();
 */
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { Value } from "../scalar/value.js";
import { scalarRecording } from "../scalar/recording.js";
import { checkLayerSizes, describe } from "../tensor/args.js";
import { checkSeed, Generator } from "../tensor/random.js";
import { activationSpec, type ActivationName } from "./functional.js";
import type { MLP as TensorMLP } from "./mlp.js";

/** The keys of the scalar layers' options: where the initial weights come from. */
const SCALAR_KEYS = optionKeys<{ generator?: Generator; seed?: number }>({ generator: true, seed: true });

type Row = readonly (Value | number)[];


/** A fully connected layer of scalar neurons: out_j = Σ_i x_i·w_ji + b_j. */
export class Linear {
  /** weight[j][i]: from input i to output j (the tensor Linear's [out, in] layout). */
  readonly weight: Value[][];
  readonly bias: Value[];

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { generator?: Generator; seed?: number } = {}) {
    for (const [name, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`scalar Linear: ${name} must be a positive integer, got ${describe(n)}`);
    }
    expectOptions("scalar Linear", options, SCALAR_KEYS);
    const g = options.generator ?? new Generator(checkSeed(options.seed ?? 0, "scalar Linear"));
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = Array.from({ length: outFeatures }, (_, j) =>
      Array.from({ length: inFeatures }, (_, i) => new Value(-bound + 2 * bound * g.uniform(), { label: `w${j}_${i}` })),
    );
    this.bias = Array.from({ length: outFeatures }, (_, j) => new Value(0, { label: `b${j}` }));
  }

  /** One sample (a row of inputs) to a row of outputs. */
  forward(x: Row): Value[] {
    if (x.length !== this.inFeatures) throw new InputError(`Linear(${this.inFeatures}, ${this.outFeatures}): got ${x.length} inputs`);
    return this.weight.map((w, j) => {
      let s: Value = this.bias[j]!;
      for (let i = 0; i < w.length; i++) s = s.add(w[i]!.mul(x[i]!));
      return s;
    });
  }

  /** Every weight and bias with its name, element by element: `weight[j,i]`, `bias[j]`. */
  namedParameters(prefix = ""): [string, Value][] {
    return [
      ...this.weight.flatMap((row, j) => row.map((w, i): [string, Value] => [`${prefix}weight[${j},${i}]`, w])),
      ...this.bias.map((b, j): [string, Value] => [`${prefix}bias[${j}]`, b]),
    ];
  }

  /** Every weight and bias (what an optimizer updates). */
  parameters(): Value[] {
    return this.namedParameters().map(([, p]) => p);
  }
}

/** A scalar MLP: Linear layers with an activation between them, parameters named as the tensor MLP's. */
export class MLP {
  readonly layers: Linear[];
  private readonly act: (v: Value) => Value;

  constructor(readonly sizes: readonly number[], readonly activation: ActivationName = "relu", options: { seed?: number; generator?: Generator } = {}) {
    checkLayerSizes("scalar MLP", sizes);
    expectOptions("scalar MLP", options, SCALAR_KEYS);
    const f = activationSpec(activation).scalar;
    this.act = f;
    const g = options.generator ?? new Generator(checkSeed(options.seed ?? 0, "scalar MLP"));
    this.layers = sizes.slice(1).map((n, i) => new Linear(sizes[i]!, n, { generator: g }));
  }

  /** A batch of samples (rows) to a batch of output rows. */
  forward(xs: readonly Row[]): Value[][] {
    return xs.map((x) => {
      let h: Row = x;
      this.layers.forEach((l, k) => {
        const out = l.forward(h);
        h = k + 1 < this.layers.length ? out.map(this.act) : out;
      });
      return h as Value[];
    });
  }

  /** Parameters named like the tensor MLP's, element by element: `0.weight[j,i]`, `0.bias[j]`, `2.weight[…]`, …. */
  namedParameters(): [string, Value][] {
    return this.layers.flatMap((l, k) => l.namedParameters(`${2 * k}.`));
  }

  /** Every parameter of every layer. */
  parameters(): Value[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sets every parameter's gradient to 0 (gradients add up across backward passes until cleared). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }

  /** Takes the weights of a tensor MLP of the same sizes (so both engines start from the same point). */
  copyFrom(model: TensorMLP): this {
    if (model.sizes.join() !== this.sizes.join()) {
      throw new InputError(`copyFrom: sizes ${model.sizes.join("-")} differ from ${this.sizes.join("-")}`);
    }
    const params = new Map(model.namedParameters());
    this.layers.forEach((l, k) => {
      const W = params.get(`${2 * k}.weight`)!.toArray(), b = params.get(`${2 * k}.bias`)?.toArray();
      l.weight.forEach((row, j) => row.forEach((w, i) => (w.data = W[j * l.inFeatures + i]!)));
      l.bias.forEach((v, j) => (v.data = b?.[j] ?? 0));
    });
    return this;
  }
}

/** mean over all elements of (pred − target)². */
export function mseLoss(preds: readonly (readonly Value[])[], targets: readonly (readonly number[])[]): Value {
  let s: Value = Value.constant(0);
  let n = 0;
  preds.forEach((row, r) => row.forEach((p, j) => {
    s = s.add(p.sub(targets[r]![j]!).pow(2));
    n++;
  }));
  return s.div(n);
}

/**
 * Cross-entropy from logits rows and integer labels: mean of logsumexp(row) − row[label], with the row's max (a
 * constant) subtracted first for stability, as the tensor version does.
 */
export function crossEntropy(logits: readonly (readonly Value[])[], labels: readonly number[]): Value {
  let s: Value = Value.constant(0);
  logits.forEach((row, r) => {
    const m = Math.max(...row.map((v) => v.data));
    let z: Value = Value.constant(0);
    for (const v of row) z = z.add(v.sub(m).exp());
    s = s.add(z.log().add(m).sub(row[labels[r]!]!));
  });
  return s.div(logits.length);
}

/** Plain gradient descent on scalar parameters: p ← p − lr·∂L/∂p. */
export class SGD {
  lr: number;
  constructor(readonly params: readonly Value[], { lr = 0.01 } = {}) {
    this.lr = lr;
  }
  /** Moves every parameter against its gradient: p ← p − lr · ∂loss/∂p. */
  step(): void {
    const run = () => {
      for (const p of this.params) p.data -= this.lr * p.grad;
    };
    // In a compiled step the update is recorded as one (with the learning rate read again at each call).
    if (scalarRecording.current !== null) scalarRecording.current.update(this.params, () => this.lr, run);
    else run();
  }
  /** Sets the gradient of every parameter it updates to 0. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = 0;
  }
}
