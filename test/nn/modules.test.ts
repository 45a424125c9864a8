/** Modules, layers, activations, losses and initialisers. */
import { describe, expect, test } from "vitest";
import { bceWithLogits, crossEntropy, Dropout, gelu, kaimingNormal, l1Loss, leakyRelu, Linear, MLP, Module, mseLoss, ReLU, scalar, Sequential, xavierUniform } from "../../packages/gradgraph/src/nn/index.js";
import { initWeight } from "../../packages/gradgraph/src/nn/init.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { Generator, ones, randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";

const f64 = (x: Parameters<typeof tensor>[0], requiresGrad = false) => tensor(x, { dtype: "float64", requiresGrad });

describe("Module", () => {
  test("parameters are found in the order they were set, with PyTorch's dotted names", () => {
    const model = new MLP([2, 3, 4, 1], "relu", { seed: 0 });
    expect(model.namedParameters().map(([n, p]) => `${n} ${p.shape.join("x")}`)).toEqual([
      "0.weight 3x2", "0.bias 3", "2.weight 4x3", "2.bias 4", "4.weight 1x4", "4.bias 1",
    ]);
    expect(model.numParameters()).toBe(9 + 16 + 5);
    expect(model.children().map((c) => c.constructor.name)).toEqual(["Linear", "ReLU", "Linear", "ReLU", "Linear"]);
    expect(String(model)).toBe(
      "MLP(2-3-4-1, relu,\n  (0): Linear(in=2, out=3)\n  (1): ReLU()\n  (2): Linear(in=3, out=4)\n  (3): ReLU()\n  (4): Linear(in=4, out=1)\n)",
    );
  });

  test("a subclass only assigns fields: parameters, child modules and arrays of them", () => {
    class Net extends Module {
      scale = tensor([2], { requiresGrad: true });
      constant = this.registerBuffer("constant", tensor([5]), { persistent: false }); // not trained, not saved
      blocks = [new Linear(2, 2), new Linear(2, 2)];
      head = new Linear(2, 1, { bias: false });
      forward(x: Tensor) {
        let h = x;
        for (const b of this.blocks) h = b.forward(h).relu();
        return this.head.forward(h).mul(this.scale);
      }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(["scale", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "head.weight"]);
    net.forward(ones([3, 2])).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test("train() and eval() set the mode of the whole tree; dropout only acts in training", () => {
    const drop = new Dropout(0.5, { seed: 1 });
    const model = new Sequential(new Linear(4, 4), drop);
    expect(model.eval().modules().every((m) => !m.training)).toBe(true);
    const x = ones([2, 4]);
    expect(drop.forward(x)).toBe(x);
    model.train();
    const y = Array.from(drop.forward(ones([1000])).toArray());
    expect(y.every((v) => v === 0 || v === 2)).toBe(true);
    const kept = y.filter((v) => v === 2).length;
    expect(kept).toBeGreaterThan(430);
    expect(kept).toBeLessThan(570);
  });

  test("loadParameters checks names and shapes", () => {
    const a = new MLP([2, 3, 1], "tanh", { seed: 0 }), b = new MLP([2, 3, 1], "tanh", { seed: 1 });
    b.loadParameters(new Map(a.namedParameters()));
    expect(b.parameters().map((p) => Array.from(p.toArray()))).toEqual(a.parameters().map((p) => Array.from(p.toArray())));
    const c = new MLP([2, 4, 1], "tanh");
    expect(() => c.loadParameters(new Map(a.namedParameters()))).toThrow("loadParameters: the state does not fit MLP: 0.weight: shape [3,2], the model's is [4,2]");
    expect(() => c.loadParameters({ "0.weight": ones([4, 2]) })).toThrow("missing keys: 0.bias, 2.weight, 2.bias");
  });
});

describe("Linear and MLP", () => {
  test("Linear computes x Wᵀ + b with W of shape [out, in]", () => {
    const l = new Linear(3, 2, { dtype: "float64" });
    l.loadParameters({ weight: f64([[1, 0, -1], [2, 1, 0]]), bias: f64([0.5, -1]) });
    expect(l.forward(f64([[1, 2, 3], [0, 1, 0]])).toNested()).toEqual([[-1.5, 3], [0.5, 0]]);
    expect(() => l.forward(f64([[1, 2]]))).toThrow("Linear(3, 2): input of shape [1,2] does not end in 3 features");
  });

  test("the same seed gives the same network; another seed another", () => {
    const w = (seed: number) => Array.from(new MLP([4, 8, 2], "relu", { seed }).parameters()[0]!.toArray());
    expect(w(3)).toEqual(w(3));
    expect(w(3)).not.toEqual(w(4));
  });

  test("MLP picks He init for ReLU and Xavier for tanh; biases start at zero", () => {
    const relu = new MLP([400, 300, 10], "relu", { seed: 0, init: "kaiming-normal" });
    const W = relu.parameters()[0]!.toArray();
    const std = Math.sqrt(Array.from(W).reduce((s, v) => s + v * v, 0) / W.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 400), 2);
    expect(Array.from(relu.parameters()[1]!.toArray()).every((v) => v === 0)).toBe(true);
    const tanh = new MLP([400, 300, 10], "tanh", { seed: 0 });
    const V = tanh.parameters()[0]!.toArray();
    expect(Math.max(...Array.from(V, Math.abs))).toBeLessThanOrEqual((5 / 3) * Math.sqrt(6 / 700) + 1e-6);
  });

  test("bad sizes and activations are input errors", () => {
    expect(() => new MLP([2], "relu")).toThrow("MLP: sizes must be at least two positive integers");
    // plain-JS callers: no sizes, or sizes that are not numbers, are said as they came (not a TypeError)
    expect(() => new (MLP as unknown as new () => MLP)()).toThrow(new InputError("MLP: sizes must be at least two positive integers (inputs, …, outputs), got undefined"));
    expect(() => new MLP([2, "8" as never, 1])).toThrow('got [2, "8", 1]');
    expect(() => new scalar.MLP([2, 0, 1])).toThrow("scalar MLP: sizes must be at least two positive integers (inputs, …, outputs), got [2, 0, 1]");
    expect(() => new scalar.Linear(2.5, 1)).toThrow(new InputError("scalar Linear: inFeatures must be a positive integer, got 2.5"));
    expect(() => new MLP([2, 2], "swish" as never)).toThrow("activation swish: expected one of");
  });
});

describe("initialisers", () => {
  test("Kaiming normal and Xavier uniform have the variance they promise; seeded", () => {
    const g = new Generator(0);
    const k = kaimingNormal([200, 500], { generator: g }).toArray();
    const kv = Array.from(k).reduce((s, v) => s + v * v, 0) / k.length;
    expect(kv).toBeCloseTo(2 / 500, 4);
    const x = xavierUniform([200, 500], { seed: 1 }).toArray();
    const bound = Math.sqrt(6 / 700);
    expect(Math.max(...x)).toBeLessThanOrEqual(bound);
    expect(Array.from(x).reduce((s, v) => s + v * v, 0) / x.length).toBeCloseTo(bound ** 2 / 3, 4);
    expect(Array.from(initWeight("xavier-normal", [3, 3], { seed: 5 }).toArray())).toEqual(Array.from(initWeight("xavier-normal", [3, 3], { seed: 5 }).toArray()));
  });
});

describe("activations", () => {
  test("leaky ReLU, GELU (tanh approximation) values", () => {
    expect(leakyRelu(f64([-2, 0, 3]), 0.1).toNested()).toEqual([-0.2, 0, 3]);
    const x = [-3, -1, 0, 0.5, 2];
    const want = x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    (gelu(f64(x)).toNested() as number[]).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    // Within 1e-3 of the exact GELU x·Φ(x): Φ(1) = 0.8413447460685429.
    expect(gelu(f64([1])).item()).toBeCloseTo(0.8413447460685429, 3);
  });

  test("gradients of the composites agree with finite differences", () => {
    const x = f64([-1.3, -0.2, 0.4, 1.7], true);
    expect(gradcheck((a) => gelu(a).sum(), [x]).ok).toBe(true);
    expect(gradcheck((a) => leakyRelu(a, 0.2).mul(a).sum(), [x]).ok).toBe(true);
    // leaky ReLU's gradient at 0 is the slope (as PyTorch).
    const z = f64([0], true);
    leakyRelu(z, 0.2).sum().backward();
    expect(z.grad!.item()).toBe(0.2);
  });
});

describe("losses", () => {
  test("MSE and L1", () => {
    expect(mseLoss(f64([1, 2, 3]), f64([1, 4, 0])).item()).toBeCloseTo(13 / 3, 14);
    expect(l1Loss(f64([1, 2, 3]), f64([1, 4, 0])).item()).toBeCloseTo(5 / 3, 14);
    expect(mseLoss(f64([[1], [2]]), f64([0, 0])).item()).toBe(2.5); // [n] targets for [n, 1] predictions
    expect(() => mseLoss(f64([1, 2]), f64([1, 2, 3]))).toThrow("mseLoss: target of shape [3] does not match predictions of shape [2]");
  });

  test("binary cross-entropy with logits: values, stability at ±1000, exact gradient σ(x) − t at 0", () => {
    const x = [-2, 0, 3], t = [0, 1, 1];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const want = x.reduce((s, v, i) => s - (t[i]! * Math.log(sig(v)) + (1 - t[i]!) * Math.log(1 - sig(v))), 0) / 3;
    expect(bceWithLogits(f64(x), f64(t)).item()).toBeCloseTo(want, 14);
    const big = bceWithLogits(f64([1000, -1000, 1000]), f64([1, 0, 0]), "none").toNested() as number[];
    expect(big).toEqual([0, 0, 1000]);
    const z = f64([0, 0], true);
    bceWithLogits(z, f64([1, 0]), "sum").backward();
    expect(z.grad!.toNested()).toEqual([-0.5, 0.5]);
    const w = f64([-1.5, 0.3, 2.2], true);
    expect(gradcheck((a) => bceWithLogits(a, f64([0, 1, 0.3])), [w]).ok).toBe(true);
  });

  test("cross-entropy from logits and integer labels: value, stability, gradient softmax − onehot", () => {
    expect(crossEntropy(f64([[2, 0], [0, 2]]), [0, 1]).item()).toBeCloseTo(Math.log(1 + Math.exp(-2)), 14);
    expect(crossEntropy(f64([[1000, -1000], [-1000, 1000]]), [0, 1]).item()).toBe(0);
    expect(crossEntropy(f64([[1000, -1000]]), [1]).item()).toBe(2000);
    const logits = f64([[1, 2, 3], [0, 0, 0]], true);
    crossEntropy(logits, f64([2, 0])).backward();
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)], s = e[0]! + e[1]! + e[2]!;
    const g = logits.grad!.toNested() as number[][];
    [e[0]! / s, e[1]! / s, e[2]! / s - 1].forEach((v, j) => expect(g[0]![j]).toBeCloseTo(v / 2, 14));
    [1 / 3 - 1, 1 / 3, 1 / 3].forEach((v, j) => expect(g[1]![j]).toBeCloseTo(v / 2, 14));
    const r = randn([4, 5], { seed: 2, dtype: "float64", requiresGrad: true });
    expect(gradcheck((a) => crossEntropy(a, [0, 4, 2, 2]), [r]).ok).toBe(true);
  });

  test("cross-entropy checks its labels", () => {
    expect(() => crossEntropy(f64([[1, 2]]), [2])).toThrow("crossEntropy: label 2 at row 0 is not a class index in [0, 2)");
    expect(() => crossEntropy(f64([[1, 2]]), [0, 1])).toThrow("crossEntropy: 2 labels for 1 rows of logits");
    expect(() => crossEntropy(f64([1, 2]), [0])).toThrow("expected logits of shape [batch, classes], got [2]");
  });

  test("a ReLU module is the relu op", () => {
    expect(new ReLU().forward(f64([-1, 2])).toNested()).toEqual([0, 2]);
  });
});

describe("the activation table", () => {
  test("every activation of ACTIVATIONS builds its own module in an MLP (none silently the identity)", async () => {
    const { ACTIVATIONS } = await import("../../packages/gradgraph/src/nn/functional.js");
    const { activationModule } = await import("../../packages/gradgraph/src/nn/module.js");
    const expected: Record<string, string> = {
      relu: "ReLU()", tanh: "Tanh()", sigmoid: "Sigmoid()", gelu: "GELU()", leaky_relu: "LeakyReLU(slope=0.01)", identity: "Identity()",
    };
    for (const name of Object.keys(ACTIVATIONS)) {
      expect(activationModule(name).describe(), name).toBe(expected[name]);
      const mlp = new MLP([2, 3, 1], name as keyof typeof ACTIVATIONS, { seed: 0 });
      expect(mlp.activation).toBe(name);
    }
    expect(() => activationModule("softplus")).toThrow("activation softplus: expected one of relu, tanh, sigmoid, gelu, leaky_relu, identity");
    expect(() => new MLP([2, 3, 1], "softplus" as "relu")).toThrow("activation softplus");
  });
});

describe("containers refuse what is not a module when built, not at forward (a raw TypeError there)", () => {
  test("Sequential names the position and what came, with a hint for a class without new", () => {
    const lin = new Linear(2, 2, { seed: 0 });
    const bad: [unknown, string][] = [
      [ReLU, "Sequential: layer 1 is the class ReLU, not a module (did you forget `new`? new ReLU())"],
      [(x: Tensor) => x.relu(), "Sequential: layer 1 is a function, not a module (wrap it in a Module subclass whose forward calls it)"],
      [class Foo {}, "Sequential: layer 1 is the class Foo, which is not a Module subclass"],
      [42, "Sequential: layer 1 is a number (42), not a module"],
      [null, "Sequential: layer 1 is null, not a module"],
      [undefined, "Sequential: layer 1 is undefined, not a module"],
      [tensor([1]), "Sequential: layer 1 is a tensor, not a module"],
      [[new ReLU()], "Sequential: layer 1 is an array of 1, not a module (spread a list of layers: new Sequential(...layers))"],
      [{ forward: (x: Tensor) => x }, "Sequential: layer 1 is an object, not a module"],
    ];
    for (const [b, message] of bad) {
      expect(() => new Sequential(lin, b as never), message).toThrow(InputError);
      expect(() => new Sequential(lin, b as never)).toThrow(message);
    }
    // A subclass's name is the one in the message.
    class Stack extends Sequential {}
    expect(() => new Stack(lin, ReLU as never)).toThrow("Stack: layer 1 is the class ReLU");
    expect(new Sequential(lin, new ReLU()).forward(ones([1, 2])).shape).toEqual([1, 2]);
  });

  test("registerModule says what came the same way", () => {
    class Holder extends Module {
      forward(x: Tensor): Tensor { return x; }
    }
    expect(() => new Holder().registerModule("act", ReLU as never)).toThrow("registerModule: act must be a Module, got the class ReLU, not a module (did you forget `new`? new ReLU())");
    expect(() => new Holder().registerModule("act", 1 as never)).toThrow(InputError);
  });
});
