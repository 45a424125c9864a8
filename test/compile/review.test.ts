/**
 * compile(): a compiled step gives what the same step gives eagerly — cases found by trying to break it (static
 * numbers in the arguments, `.grad` kept across calls, a module's training mode, gradient accumulation, a schedule).
 */
import { describe, expect, test } from "vitest";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { rand } from "../../packages/gradgraph/src/tensor/random-tensors.js";
import { BatchNorm1d, Dropout, Linear, Parameter, Sequential, SGD, LRScheduler, stepLR, crossEntropy, Embedding } from "../../packages/gradgraph/src/nn/index.js";

const values = (t: Tensor) => Array.from(t.toArray());

describe("static numbers in the arguments are part of the signature", () => {
  test("Infinity, -Infinity and NaN are told apart", () => {
    const f = compile((x: Tensor, s: number) => x.mul(s));
    const x = tensor([1, 2]);
    f(x, Infinity);
    f(x, Infinity);
    expect(values(f(x, -Infinity))).toEqual([-Infinity, -Infinity]);
    expect(values(f(x, NaN))).toEqual([NaN, NaN]);
  });
  test("0 and -0 are told apart", () => {
    const f = compile((x: Tensor, s: number) => x.div(s));
    const x = tensor([1, 2]);
    f(x, 0);
    f(x, 0);
    expect(values(f(x, -0))).toEqual([-Infinity, -Infinity]);
  });
});

describe(".grad across calls", () => {
  test("a gradient that is a view of an array the step computes is not written over by a later step", () => {
    const run = (step: (x: Tensor) => Tensor, w: Tensor) =>
      [0, 1, 2, 3].map((i) => {
        step(rand([6], { seed: i, dtype: "float64" }));
        return values(w.grad!);
      });
    const make = () => new Parameter(tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" }));
    const body = (w: Tensor) => (x: Tensor) => {
      w.grad = null;
      w.reshape([6]).mul(x).sum().backward();
      return x.mul(3).add(1).exp().sum();
    };
    const we = make(), wc = make();
    expect(run(compile(body(wc)), wc)).toEqual(run(body(we), we));
  });
  test("the previous .grad read after an accumulating backward keeps its values", () => {
    const make = () => {
      const w = new Parameter(tensor([1, 2, 3], { dtype: "float64" }));
      w.mul(tensor([1, 1, 1], { dtype: "float64" })).sum().backward();
      return w;
    };
    const body = (w: Tensor) => (x: Tensor) => {
      const old = w.grad!;
      w.mul(x).sum().backward();
      return old.mul(1);
    };
    const we = make(), wc = make();
    const fe = body(we), fc = compile(body(wc));
    for (let i = 0; i < 4; i++) {
      const x = rand([3], { seed: i, dtype: "float64" });
      expect(values(fc(x))).toEqual(values(fe(x)));
      expect(values(wc.grad!)).toEqual(values(we.grad!));
    }
  });
});

describe("a module's training mode", () => {
  test("Dropout switched to eval after compiled calls in training mode", () => {
    const m = new Sequential(new Linear(4, 4, { seed: 1 }), new Dropout(0.5, { seed: 3 }));
    const f = compile((x: Tensor) => m.forward(x));
    const x = rand([2, 4], { seed: 2 });
    f(x);
    f(x);
    m.eval();
    expect(values(f(x))).toEqual(values(m.forward(x)));
  });
  test("BatchNorm switched to eval uses (and keeps) its running statistics", () => {
    const bn = new BatchNorm1d(3);
    const f = compile((x: Tensor) => bn.forward(x));
    const x = rand([4, 3], { seed: 2 });
    f(x);
    f(x);
    bn.eval();
    const running = values(bn.running_mean!);
    expect(values(f(x))).toEqual(values(bn.forward(x)));
    expect(values(bn.running_mean!)).toEqual(running);
  });
});

describe("gradient accumulation", () => {
  const run = (compiled: boolean) => {
    const m = new Linear(2, 1, { seed: 1, dtype: "float64" });
    const body = (x: Tensor) => {
      const loss = m.forward(x).sum();
      loss.backward(); // adds to .grad where there is one
      return loss;
    };
    const step = compiled ? compile(body) : body;
    return [0, 1, 2, 3, 4].map((i) => {
      if (i % 2 === 0) m.zeroGrad();
      step(rand([3, 2], { seed: i, dtype: "float64" }));
      return [...values(m.weight.grad!), ...values(m.bias!.grad!)];
    });
  };
  test("a step without zeroGrad adds to a .grad that is there at the call, as eagerly", () => {
    expect(run(true)).toEqual(run(false));
  });
  // The momentum buffer was the first gradient's storage (a detached view): a step traced again then took the
  // buffer and .grad for one state, and from the 4th call computed the buffer from the old .grad (wrong losses).
  test("SGD with momentum and a .grad kept across calls (no zeroGrad): the compiled losses are the eager ones", () => {
    const losses = (compiled: boolean, dampening: number) => {
      const m = new Linear(3, 2, { seed: 0, dtype: "float64" });
      const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, dampening });
      const x = rand([8, 3], { seed: 1, dtype: "float64" }), y = rand([8, 2], { seed: 2, dtype: "float64" });
      const body = () => {
        const loss = m.forward(x).sub(y).square().mean();
        loss.backward();
        opt.step();
        return loss;
      };
      const step = compiled ? compile(body) : body;
      return [0, 1, 2, 3, 4, 5].map(() => step().item());
    };
    for (const dampening of [0, 0.5]) expect(losses(true, dampening), `dampening ${dampening}`).toEqual(losses(false, dampening));
    expect(() => new SGD(new Linear(1, 1).parameters(), { momentum: 0.9, dampening: -5 })).toThrow("SGD: dampening must be a number in [0, 1], got -5");
  });
  test("a step that clears .grad itself is traced once", () => {
    const m = new Linear(2, 1, { seed: 1 });
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const step = compile((x: Tensor) => {
      opt.zeroGrad();
      m.forward(x).sum().backward();
      opt.step();
      return m.weight;
    });
    for (let i = 0; i < 3; i++) step(rand([3, 2], { seed: i }));
    expect(step.stats).toEqual({ traced: 1, replayed: 2, eager: 0 });
  });
});

test("an LRScheduler stepped inside the compiled step moves the learning rate at every call", () => {
  const run = (compiled: boolean) => {
    const m = new Linear(2, 1, { seed: 1, dtype: "float64" });
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const sched = new LRScheduler(opt, stepLR(1, 0.5));
    const body = (x: Tensor) => {
      opt.zeroGrad();
      m.forward(x).sum().backward();
      opt.step();
      sched.step();
      return m.weight.mul(1);
    };
    const step = compiled ? compile(body) : body;
    return [0, 1, 2, 3].map((i) => [...values(step(rand([3, 2], { seed: i, dtype: "float64" }))), opt.lr]);
  };
  expect(run(true)).toEqual(run(false));
});

describe("tensors made before the trace that only a host step or an index reads are state, not constants", () => {
  test("crossEntropy's labels closed over, given new values with assign", () => {
    const logits = rand([2, 3], { seed: 1, dtype: "float64" });
    const y = tensor([0, 1]);
    const f = compile(() => crossEntropy(logits, y, "none"));
    for (const labels of [[0, 1], [0, 1], [2, 2]]) {
      y.assign(tensor(labels));
      expect(values(f())).toEqual(values(crossEntropy(logits, y, "none")));
    }
  });
  test("gather's indices closed over, given new values with assign", () => {
    const w = rand([4, 2], { seed: 1, dtype: "float64" });
    const idx = tensor([[0, 0]]);
    const f = compile(() => w.gather(0, idx));
    for (const i of [[[0, 0]], [[0, 0]], [[3, 2]]]) {
      idx.assign(tensor(i));
      expect(values(f())).toEqual(values(w.gather(0, idx)));
    }
  });
  test("an Embedding's ids closed over, given new values with assign", () => {
    const emb = new Embedding(5, 2, { seed: 1 });
    const ids = tensor([0, 1]);
    const f = compile(() => emb.forward(ids));
    for (const i of [[0, 1], [0, 1], [4, 3]]) {
      ids.assign(tensor(i));
      expect(values(f())).toEqual(values(emb.forward(ids)));
    }
  });
  test("BatchNorm's count of batches (and a cumulative average's running statistics)", () => {
    const eager = new BatchNorm1d(2, { momentum: null }), compiled = new BatchNorm1d(2, { momentum: null });
    const f = compile((x: Tensor) => compiled.forward(x));
    for (let i = 0; i < 4; i++) {
      const x = rand([4, 2], { seed: i });
      eager.forward(x);
      f(x);
    }
    expect(values(compiled.num_batches_tracked!)).toEqual([4]);
    expect(values(compiled.running_mean!)).toEqual(values(eager.running_mean!));
  });
});

describe("a .grad the step reads, set or cleared between calls", () => {
  const run = (step: (x: Tensor) => Tensor, w: Tensor) =>
    [null, null, [10, 10, 10], [20, 20, 20], null].map((g) => {
      w.grad = g === null ? null : tensor(g);
      return values(step(tensor([1, 1, 1])));
    });
  const body = (w: Tensor) => (x: Tensor) => (w.grad !== null ? x.add(w.grad) : x.mul(1));
  test("a gradient read while null (JavaScript branches on it) is a guard; one read is read again at each call", () => {
    const w = new Parameter(tensor([1, 2, 3]));
    expect(run(compile(body(w)), w)).toEqual(run(body(w), w));
  });
  test("starting with a gradient: a new one, or none, is seen", () => {
    const w = new Parameter(tensor([1, 2, 3]));
    const order = (step: (x: Tensor) => Tensor) =>
      [[10, 10, 10], [10, 10, 10], [20, 20, 20], null, [30, 30, 30]].map((g) => {
        w.grad = g === null ? null : tensor(g);
        return values(step(tensor([1, 1, 1])));
      });
    expect(order(compile(body(w)))).toEqual(order(body(w)));
  });
});
