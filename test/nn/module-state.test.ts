/** Module state: parameters, buffers, children, state dicts, and discovery without instanceof. */
import { describe, expect, test } from "vitest";
import { InputError, ShapeError } from "../../packages/gradgraph/src/core/errors.js";
import { crossEntropy, isModule, isParameter, Linear, MLP, Module, Parameter, parameter, Sequential, SGD } from "../../packages/gradgraph/src/nn/index.js";
import { isTensor, ones, randn, tensor, zeros, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/** A BatchNorm-like module: a weight and bias, three persistent buffers and one that is not saved. */
class Norm extends Module {
  weight = new Parameter(ones([3]));
  bias: Tensor | null;
  declare running_mean: Tensor;
  declare running_var: Tensor;
  declare num_batches_tracked: Tensor;
  scratch = this.registerBuffer("scratch", zeros([3]), { persistent: false });
  constructor(bias = true) {
    super();
    this.bias = this.registerParameter("bias", bias ? zeros([3]) : null);
    this.registerBuffer("running_mean", zeros([3]));
    this.registerBuffer("running_var", ones([3]));
    this.registerBuffer("num_batches_tracked", tensor(0));
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.weight);
  }
}

class Net extends Module {
  fc = new Linear(3, 3, { seed: 0 });
  norm = new Norm();
  head: Module;
  constructor() {
    super();
    this.head = this.registerModule("head", new Linear(3, 2, { seed: 1, bias: false }));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.norm.forward(this.fc.forward(x)));
  }
}

describe("declaring state", () => {
  test("Parameter marks a leaf that requires grad (or is frozen); registerParameter wraps a plain tensor", () => {
    const p = new Parameter(randn([2, 2], { seed: 0 }));
    expect([isParameter(p), isTensor(p), p.isLeaf, p.requiresGrad]).toEqual([true, true, true, true]);
    expect(parameter(ones([2]), { requiresGrad: false }).requiresGrad).toBe(false);
    expect(isParameter(ones([2]))).toBe(false);
    const n = new Norm();
    expect(isParameter(n.bias)).toBe(true);
  });

  test("a frozen Parameter is saved and handed to the optimizer, which leaves it alone", () => {
    const l = new Linear(2, 2, { seed: 0, dtype: "float64" });
    l.weight.requiresGrad = false;
    expect(l.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
    const opt = new SGD(l.parameters(), { lr: 0.1 });
    const before = Array.from(l.weight.toArray()), bias = Array.from(l.bias!.toArray());
    l.forward(ones([1, 2], { dtype: "float64" })).sum().backward();
    opt.step();
    expect(Array.from(l.weight.toArray())).toEqual(before);
    expect(Array.from(l.bias!.toArray())).not.toEqual(bias);
    expect(() => new SGD([ones([2])])).toThrow("SGD: every parameter must be a leaf tensor with requiresGrad (or a frozen Parameter), got a leaf without requiresGrad at 0");
  });

  test("stateDict has PyTorch's keys: per module its parameters, then persistent buffers, then children", () => {
    const net = new Net();
    expect([...net.stateDict().keys()]).toEqual([
      "fc.weight", "fc.bias", "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked", "head.weight",
    ]);
    expect(net.namedParameters().map(([n]) => n)).toEqual(["fc.weight", "fc.bias", "norm.weight", "norm.bias", "head.weight"]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(["norm.scratch", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]);
    expect(net.buffers()).toHaveLength(4);
    expect([...new Norm(false).stateDict().keys()]).toEqual(["weight", "running_mean", "running_var", "num_batches_tracked"]);
  });

  test("assigning a new tensor to a buffer's field replaces the buffer", () => {
    const n = new Norm();
    n.running_mean = ones([3]);
    expect(n.stateDict().get("running_mean")).toBe(n.running_mean);
  });

  test("a tensor field that is neither a parameter nor a buffer is an error saying how to declare it", () => {
    class Bad extends Module {
      w = new Parameter(ones([2]));
      table = ones([2]);
      forward(x: Tensor) { return x; }
    }
    expect(() => new Bad().parameters()).toThrow(InputError);
    expect(() => new Bad().stateDict()).toThrow(
      'Bad: field table holds a tensor that is neither a parameter nor a buffer (a leaf without requiresGrad); declare it: new Parameter(t) or this.registerParameter("table", t)',
    );
  });

  test("a leaf with requiresGrad in a field is a parameter (the shortcut)", () => {
    class Affine extends Module {
      w = randn([3], { seed: 0, requiresGrad: true });
      forward(x: Tensor) { return x.mul(this.w); }
    }
    expect(new Affine().namedParameters().map(([n]) => n)).toEqual(["w"]);
  });

  test("an array of parameters is PyTorch's ParameterList (field.0, …); tensors or modules hidden in objects, Maps or nested arrays are errors", () => {
    class List extends Module {
      ws = [new Parameter(ones([2])), new Parameter(zeros([3]))];
      sizes = [[2, 3], [4]]; // plain data is left alone
      options = { scale: 2 };
      forward(x: Tensor) { return x.mul(this.ws[0]!); }
    }
    const l = new List();
    expect([...l.stateDict().keys()]).toEqual(["ws.0", "ws.1"]);
    expect(l.parameters()).toEqual(l.ws);
    class Frozen extends Module {
      ts = [ones([2])];
      forward(x: Tensor) { return x; }
    }
    expect(() => new Frozen().parameters()).toThrow("Frozen: field ts.0 holds a tensor that is neither a parameter nor a buffer");
    class Dict extends Module {
      layers: Record<string, Module> = { a: new Linear(2, 2) };
      forward(x: Tensor) { return x; }
    }
    expect(() => new Dict().parameters()).toThrow("Dict: field layers is a plain object holding modules or tensors, where their state would not be found");
    class InMap extends Module {
      layers = new Map([["a", new Linear(2, 2)]]);
      forward(x: Tensor) { return x; }
    }
    expect(() => new InMap().stateDict()).toThrow("InMap: field layers is a Map holding modules or tensors");
    class Nested extends Module {
      blocks = [[new Linear(2, 2)]];
      forward(x: Tensor) { return x; }
    }
    expect(() => new Nested().stateDict()).toThrow("Nested: field blocks.0 is an array holding modules or tensors");
  });

  test("bad names are refused", () => {
    const n = new Norm();
    expect(() => n.registerBuffer("a.b", zeros([1]))).toThrow('registerBuffer: a name must be a non-empty string without ".", got "a.b"');
    expect(() => n.registerModule("m", {} as Module)).toThrow("registerModule: m must be a Module");
  });

  test("a tied parameter is trained once but saved under both names", () => {
    const a = new Linear(2, 2, { seed: 0 }), b = new Linear(2, 2, { seed: 1 });
    b.weight = a.weight;
    const s = new Sequential(a, b);
    expect(s.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "1.bias"]);
    expect([...s.stateDict().keys()]).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
  });

  test("namedModules: the tree with PyTorch's names, depth first; a shared module under each name", () => {
    const shared = new Linear(2, 2, { seed: 0 });
    const s = new Sequential(shared, new Sequential(shared, new Norm()));
    expect(s.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([":Sequential", "0:Linear", "1:Sequential", "1.0:Linear", "1.1:Norm"]);
    expect(s.namedModules("net").map(([n]) => n)).toEqual(["net", "net.0", "net.1", "net.1.0", "net.1.1"]);
    expect(s.modules().length).toBe(5);
  });

  // A module in its own tree used to overflow the stack (RangeError) in parameters(), stateDict(), train()…
  test("a module that contains itself is an InputError naming the field and the cycle; printing shows the cycle once", () => {
    class Looped extends Module {
      l = new Linear(2, 3, { seed: 0 });
      self: Module = this;
      forward(x: Tensor) { return this.l.forward(x); }
    }
    const n = new Looped();
    const cycle = "Looped: field self holds a module that contains it (a cycle: Looped → Looped)";
    for (const f of [() => n.parameters(), () => n.stateDict(), () => n.train(), () => n.modules(), () => n.namedBuffers(), () => n.loadStateDict(new Map())]) {
      expect(f).toThrow(InputError);
      expect(f).toThrow(cycle);
    }
    expect(String(n)).toBe("Looped(\n  (l): Linear(in=2, out=3)\n  (self): <cycle: Looped()>\n)");
    // Deeper: a child that holds its parent.
    class Kid extends Module { parent: Module | null = null; forward(x: Tensor) { return x; } }
    class Holder extends Module { kid = new Kid(); forward(x: Tensor) { return x; } }
    const p = new Holder();
    p.kid.parent = p;
    expect(() => p.parameters()).toThrow("Holder: field kid.parent holds a module that contains it (a cycle: Holder → Kid → Holder)");
  });
});

describe("loadStateDict", () => {
  test("copies parameters and buffers by name", () => {
    const a = new Net(), b = new Net();
    a.norm.running_mean = tensor([1, 2, 3]);
    a.fc.weight.assign(randn([3, 3], { seed: 5 }));
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [n, t] of b.stateDict()) expect(Array.from(t.toArray()), n).toEqual(Array.from(a.stateDict().get(n)!.toArray()));
  });

  test("strict: one error lists missing keys, unexpected keys and shapes (expected vs got); nothing changes", () => {
    const net = new Net();
    const sd = new Map(net.stateDict());
    sd.delete("norm.running_var");
    sd.set("norm.extra", zeros([1]));
    sd.set("fc.weight", zeros([3, 4]));
    const before = Array.from(net.fc.bias!.toArray());
    sd.set("fc.bias", ones([3]));
    expect(() => net.loadStateDict(sd)).toThrow(
      "loadStateDict: the state does not fit Net: missing keys: norm.running_var; unexpected keys: norm.extra; fc.weight: shape [3,4], the model's is [3,3]",
    );
    expect(Array.from(net.fc.bias!.toArray())).toEqual(before);
  });

  test("non-strict: returns what did not match; shapes are still checked", () => {
    const net = new Net();
    expect(net.loadStateDict({ "fc.bias": ones([3]), other: ones([1]) }, { strict: false })).toEqual({
      missingKeys: ["fc.weight", "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked", "head.weight"],
      unexpectedKeys: ["other"],
    });
    expect(Array.from(net.fc.bias!.toArray())).toEqual([1, 1, 1]);
    expect(() => net.loadStateDict({ "fc.bias": ones([2]) }, { strict: false })).toThrow(ShapeError);
  });

  test("the loaded values are a copy: training the source model afterwards leaves the loaded one as it was", () => {
    const a = new Linear(2, 1, { seed: 0, dtype: "float64" }), b = new Linear(2, 1, { seed: 1, dtype: "float64" });
    const step = () => {
      a.zeroGrad();
      a.forward(tensor([[1, 2]], { dtype: "float64" })).sum().backward();
      opt.step();
    };
    const opt = new SGD(a.parameters(), { lr: 1 });
    step(); // a's weights now live in storage the optimizer writes in place
    b.loadStateDict(a.stateDict());
    const loaded = Array.from(b.weight.toArray());
    step();
    expect(Array.from(b.weight.toArray())).toEqual(loaded);
    expect(Array.from(a.weight.toArray())).not.toEqual(loaded);
  });
});

/** Gives `x` a prototype of its own that has its class's methods but none of our classes: what an object made by another copy of the package looks like here. */
function asForeign<T extends object>(x: T): T {
  const proto: object = {};
  for (let p = Object.getPrototypeOf(x) as object; p !== Object.prototype; p = Object.getPrototypeOf(p) as object) {
    for (const k of Reflect.ownKeys(p)) if (!Object.hasOwn(proto, k)) Object.defineProperty(proto, k, Object.getOwnPropertyDescriptor(p, k)!);
  }
  Object.setPrototypeOf(x, proto);
  return x;
}

describe("discovery without instanceof", () => {
  test("a module and parameter from another copy of the package are recognised by their brands", () => {
    const foreign = new Linear(2, 2, { seed: 0 });
    asForeign(foreign.weight);
    asForeign(foreign);
    expect([foreign instanceof Module, foreign.weight instanceof Parameter]).toEqual([false, false]);
    expect([isModule(foreign), isParameter(foreign.weight), isTensor(foreign.weight)]).toEqual([true, true, true]);
    const net = new Sequential(foreign);
    expect(net.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias"]);
    class Holder extends Module {
      inner = foreign;
      forward(x: Tensor) { return x; }
    }
    expect([...new Holder().stateDict().keys()]).toEqual(["inner.weight", "inner.bias"]);
  });

  test("a tensor of another copy in an op is an error naming it (it read as NaN); labels of another copy load", () => {
    const foreign = asForeign(tensor([3, 4]));
    expect(() => tensor([1, 2]).add(foreign)).toThrow("expected a tensor or a number, got a tensor from another copy of gradgraph");
    expect(() => tensor([1, 2]).mul(foreign)).toThrow(InputError);
    const logits = tensor([[2, 0], [0, 2]], { dtype: "float64" });
    expect(crossEntropy(logits, asForeign(tensor([0, 1]))).item()).toBeCloseTo(Math.log(1 + Math.exp(-2)), 12);
  });

  test("MLP's state dict is its parameters", () => {
    expect([...new MLP([2, 3, 1], "relu").stateDict().keys()]).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
  });
});
