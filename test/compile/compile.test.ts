/**
 * compile(): compiled and eager agree — on every op-database entry (forward and gradients, float64, exactly),
 * and over training runs (float32, within rounding) — on every CPU backend; the passes do what they say; guards,
 * host steps and the eager fallback behave.
 */
import { describe, expect, test } from "vitest";
import { compile, CompileError, programString, stepProgram, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { valueAndGrad } from "../../packages/gradgraph/src/autodiff/functional.js";
import { engine, fromTypedArray, Generator, ones, randn, tensor, Tensor, noGrad } from "../../packages/gradgraph/src/tensor/index.js";
import { rand } from "../../packages/gradgraph/src/tensor/random-tensors.js";
import { Linear, ReLU, Sequential, SGD, Adam, AdamW, crossEntropy, mseLoss, dropout, Embedding, randomShift, Conv2d } from "../../packages/gradgraph/src/nn/index.js";
import { forEachBackend } from "../backends.js";
import { withBackend } from "../../packages/gradgraph/src/backend/backend.js";
import { wasmHeap } from "../../packages/gradgraph/src/backend/heap.js";
import { compositeDb, opdb, type OpInfo } from "../ops/opdb.js";
import { perturbed, trainingStepOf, valueAndGrads } from "./samples.js";

function checkDb(name: string, info: OpInfo) {
  for (const s of info.samples()) {
    test(`${name}: ${s.name}`, () => {
      const f = valueAndGrads(s.f);
      const c = compile(f);
      c(...s.inputs); // traced
      const xs = s.inputs.map((x, i) => perturbed(x, i + 1));
      const want = f(...xs);
      const got = c(...xs);
      expect(c.stats.replayed + c.stats.eager).toBe(1);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        expect(g.shape).toEqual(want[i]!.shape);
        expect(Array.from(g.toArray())).toEqual(Array.from(want[i]!.toArray()));
      });
    });
  }
}

forEachBackend(() => {
  describe("compiled = eager on the op database (float64, forward and gradients)", () => {
    for (const [name, info] of Object.entries(opdb)) checkDb(name, info as OpInfo);
    for (const [name, info] of Object.entries(compositeDb)) checkDb(`composite ${name}`, info);
  });

  describe("compiled training = eager training", () => {
    /** Two copies of one small classifier, its optimizer, and a step that calls it. */
    function setup(makeOpt: (ps: Tensor[]) => SGD | Adam) {
      const net = new Sequential(new Linear(6, 16, { generator: new Generator(1) }), new ReLU(), new Linear(16, 4, { generator: new Generator(2) }));
      const opt = makeOpt(net.parameters());
      return { net, opt, step: trainingStepOf((x) => net.forward(x), opt, crossEntropy) };
    }
    const batches = Array.from({ length: 100 }, (_, i) => ({
      x: randn([8, 6], { seed: 100 + i }),
      y: tensor(Array.from({ length: 8 }, (_, j) => (i * 7 + j * 3) % 4), { dtype: "float32" }),
    }));
    for (const [name, make] of [
      ["SGD", (ps: Tensor[]) => new SGD(ps, { lr: 0.1 })],
      ["SGD with momentum and weight decay", (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 })],
      ["Adam", (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })],
      ["AdamW", (ps: Tensor[]) => new AdamW(ps, { lr: 0.01 })],
    ] as const) {
      test(`${name}: 100 steps, labels changing every step`, () => {
        const eager = setup(make), comp = setup(make);
        const step = compile(comp.step);
        for (const { x, y } of batches) {
          const a = eager.step(x, y).item(), b = step(x, y).item();
          expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a)));
        }
        // The first call traces; an optimizer with buffers traces once more when they exist; the rest replay.
        expect(step.stats.traced).toBeLessThanOrEqual(2);
        expect(step.stats.replayed).toBeGreaterThanOrEqual(98);
        expect(comp.opt.steps).toBe(100);
        const pa = eager.net.parameters(), pb = comp.net.parameters();
        pa.forEach((p, i) => {
          const u = p.toArray(), v = pb[i]!.toArray();
          for (let j = 0; j < u.length; j++) expect(Math.abs(u[j]! - v[j]!)).toBeLessThanOrEqual(1e-4);
          // .grad holds the last call's gradient, as after an eager step.
          const gu = p.grad!.toArray(), gv = pb[i]!.grad!.toArray();
          for (let j = 0; j < gu.length; j++) expect(Math.abs(gu[j]! - gv[j]!)).toBeLessThanOrEqual(1e-4);
        });
      });
    }
  });
});

describe("what a compiled step reads at each call", () => {
  test("a learning rate changed between calls is used (optimizer scalars are a host step)", () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const step = compile(() => {
      opt.zeroGrad();
      w.mul(w).sum().backward();
      opt.step();
      return w.sum();
    });
    step();
    step();
    opt.lr = 0;
    const before = w.toArray().slice();
    step();
    expect(Array.from(w.toArray())).toEqual(Array.from(before));
    expect(step.stats.traced).toBe(1);
  });

  test("a parameter given new values (assign) is read from the tensor, not from the trace", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const f = compile((x: Tensor) => x.mul(w).sum());
    expect(f(tensor([1, 1])).item()).toBe(3);
    w.assign(tensor([10, 20]));
    expect(f(tensor([1, 1])).item()).toBe(30);
    expect(f.stats).toEqual({ traced: 1, replayed: 1, eager: 0 });
  });

  test("a new shape traces again", () => {
    const f = compile((x: Tensor) => x.mul(2).sum());
    expect(f(tensor([1, 2])).item()).toBe(6);
    expect(f(tensor([1, 2, 3])).item()).toBe(12);
    expect(f(tensor([4, 5])).item()).toBe(18);
    expect(f.stats).toEqual({ traced: 2, replayed: 1, eager: 0 });
  });

  test("random draws differ from call to call, as eagerly (a host step), and dropout trains", () => {
    const f = compile((x: Tensor) => x.add(rand([4])));
    const a = f(tensor([0, 0, 0, 0])).toArray().slice(), b = f(tensor([0, 0, 0, 0])).toArray().slice();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const gen = new Generator(5);
    const g = compile((x: Tensor) => dropout(x, 0.5, gen).sum());
    const sums = new Set(Array.from({ length: 8 }, () => g(ones([64])).item()));
    expect(sums.size).toBeGreaterThan(1);
  });

  test("a step that reads values into JavaScript runs eagerly, and says why; strict throws", () => {
    const f = compile((x: Tensor) => (x.sum().item() > 0 ? x.mul(2) : x.mul(3)));
    expect(f(tensor([1, 2])).toNested()).toEqual([2, 4]);
    expect(f(tensor([-1, -2])).toNested()).toEqual([-3, -6]);
    expect(f.stats.eager).toBe(1);
    expect(f.explain()).toMatch(/runs eagerly: the step reads values with item\(\)/);
    const s = compile((x: Tensor) => x.mul(x.sum().item()), { strict: true });
    expect(() => s(tensor([1, 2]))).toThrow(CompileError);
  });

  test("a function that is not one is refused", () => {
    expect(() => compile(3 as never)).toThrow("compile: expected a function, got a number (3)");
  });
});

describe("the passes", () => {
  const count = (p: Program, kind: string) => p.steps.filter((s) => s.kind === kind || (s.kind === "op" && s.op.name === kind)).length;

  test("an elementwise chain is one fused kernel", () => {
    const p = stepProgram((x: Tensor, y: Tensor) => x.mul(y).add(1).relu().exp(), randn([8]), randn([8]));
    expect(p.steps.length).toBe(1);
    expect(count(p, "fused")).toBe(1);
  });

  test("dead code is dropped, common subexpressions computed once, constants folded", () => {
    const p = stepProgram((x: Tensor) => {
      const c = tensor([1, 2, 3]); // made inside the step: a constant (a tensor made outside is state, read each call)
      x.exp(); // dead
      const a = x.matmul(c), b = x.matmul(c); // the same product twice
      return a.add(b).add(c.mul(2).sum()); // c·2 summed is a constant
    }, randn([3]));
    expect(count(p, "exp")).toBe(0);
    expect(count(p, "matmul")).toBe(1);
    expect(count(p, "sum")).toBe(0);
    expect(programString(p)).toMatch(/constant 12/);
  });

  test("an SGD step writes parameters in place and allocates only its output", () => {
    const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 1));
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const x = randn([16, 4]), y = randn([16, 1]);
    const p = stepProgram(() => {
      opt.zeroGrad();
      const loss = mseLoss(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    const inPlace = p.steps.filter((s) => s.kind === "fused" && s.into !== undefined).length;
    expect(inPlace).toBe(4);
    expect(p.effects.filter((e) => e.field === "value")).toEqual([]);
    expect(p.effects.filter((e) => e.field === "grad").length).toBe(4);
    expect(p.steps.some((s) => s.kind === "host")).toBe(true); // the optimizer's learning rate and step count
    // A Linear weight's gradient, (xᵀg)ᵀ, is computed as gᵀx, contiguous: no strided copy.
    expect(p.steps.filter((s) => s.kind === "copy")).toEqual([]);
  });
});

describe("W2 (784-256-256-10, batch 128, SGD, float32): 100 steps compiled = eager", () => {
  test("losses and weights agree within float32 rounding", async () => {
    const { w2Data, W2 } = (await import(new URL("../../bench/lib/common.mjs", import.meta.url).href)) as {
      w2Data: () => { X: Float32Array; labels: Int32Array; Ws: Float32Array[]; bs: Float32Array[] };
      W2: { batch: number; sizes: number[]; lr: number };
    };
    const make = () => {
      const { X, labels, Ws, bs } = w2Data();
      const { batch, sizes, lr } = W2;
      const x = fromTypedArray(X, [batch, sizes[0]!]);
      const y = fromTypedArray(Float32Array.from(labels), [batch]);
      const params = Ws.flatMap((W, l) => [
        fromTypedArray(W.slice(), [sizes[l]!, sizes[l + 1]!], { requiresGrad: true }),
        fromTypedArray(bs[l]!.slice(), [sizes[l + 1]!], { requiresGrad: true }),
      ]);
      const opt = new SGD(params, { lr });
      const step = () => {
        opt.zeroGrad();
        let h = x;
        for (let l = 0; l < 3; l++) {
          h = h.matmul(params[2 * l]!).add(params[2 * l + 1]!);
          if (l < 2) h = h.relu();
        }
        const loss = crossEntropy(h, y);
        loss.backward();
        opt.step();
        return loss;
      };
      return { step, params };
    };
    const a = make(), b = make();
    const step = compile(b.step);
    for (let i = 0; i < 100; i++) {
      const u = a.step().item(), v = step().item();
      if (i === 0) expect(Math.abs(u - 2.304687)).toBeLessThan(2e-5);
      expect(Math.abs(u - v)).toBeLessThanOrEqual(1e-5 * Math.abs(u));
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 99, eager: 0 });
    a.params.forEach((p, i) => {
      const u = p.toArray(), v = b.params[i]!.toArray();
      let worst = 0;
      for (let j = 0; j < u.length; j++) worst = Math.max(worst, Math.abs(u[j]! - v[j]!));
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  });
});

describe("the functional style", () => {
  test("compile((params, batch) => …) with valueAndGrad: new parameters returned, equal to eager", () => {
    const loss = (ps: Tensor[], x: Tensor, y: Tensor) => x.matmul(ps[0]!).add(ps[1]!).sub(y).square().mean();
    const update = (ps: Tensor[], x: Tensor, y: Tensor): [Tensor, Tensor[]] => {
      const [l, g] = valueAndGrad((q: Tensor[]) => loss(q, x, y))(ps);
      return [l, ps.map((p, i) => p.sub(g[i]!.mul(0.1)))];
    };
    const step = compile(update);
    let ea = [randn([3, 1], { seed: 1 }), randn([1], { seed: 2 })], ca = ea;
    for (let i = 0; i < 20; i++) {
      const x = randn([8, 3], { seed: 10 + i }), y = randn([8, 1], { seed: 40 + i });
      const [le, pe] = update(ea, x, y);
      const [lc, pc] = step(ca, x, y);
      expect(lc.item()).toBe(le.item());
      ea = pe;
      ca = pc;
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 19, eager: 0 });
    expect(Array.from(ca[0]!.toArray())).toEqual(Array.from(ea[0]!.toArray()));
  });
});

describe("signatures", () => {
  test("the same tensor given twice is a signature of its own: another call with two tensors is traced anew", () => {
    const f = compile((a: Tensor, b: Tensor) => a.add(b.mul(2)));
    const x = tensor([1, 2]);
    expect(f(x, x).toNested()).toEqual([3, 6]);
    expect(f(tensor([1, 1]), tensor([5, 5])).toNested()).toEqual([11, 11]);
    expect(f.stats.traced).toBe(2);
  });

  test("a signature per number in the arguments: the least recently used are dropped past 64", () => {
    const f = compile((x: Tensor, k: number) => x.mul(k));
    const x = tensor([1]);
    for (let k = 0; k < 100; k++) expect(f(x, k).item()).toBe(k);
    expect(f.programs().length).toBe(64);
    expect(f(x, 99).item()).toBe(99); // kept: replayed
    expect(f.stats).toEqual({ traced: 100, replayed: 1, eager: 0 });
  });

  test("plain values a function can tell apart are other signatures: symbols by identity, BigInts, null and undefined", () => {
    const A = Symbol("mode"), B = Symbol("mode"); // one description, two symbols
    const f = compile((x: Tensor, mode: unknown) => (mode === A || mode === 2n || mode === null ? x.mul(2) : x.mul(3)));
    const x = tensor([1, 2]);
    const calls: [unknown, number[]][] = [[A, [2, 4]], [B, [3, 6]], [Symbol.for("mode"), [3, 6]], [2n, [2, 4]], [3n, [3, 6]], [null, [2, 4]], [undefined, [3, 6]], [A, [2, 4]]];
    for (const [mode, want] of calls) expect(f(x, mode).toNested(), String(mode)).toEqual(want);
    expect(f.stats).toEqual({ traced: 7, replayed: 1, eager: 0 });
  });

  test("stepProgram inside a traced step is a CompileError", () => {
    const f = compile((x: Tensor) => (stepProgram((y: Tensor) => y.mul(2), x), x.mul(3)));
    expect(() => f(tensor([1]))).toThrow(CompileError);
  });
});

describe("the arena (a compiled step's arrays in WebAssembly memory)", () => {
  test("large float32 steps read and write it in place and give eager's numbers exactly", () => {
    const n = 100_003; // several chunks and a tail
    const x = randn([n], { seed: 3, requiresGrad: true }), y = randn([n], { seed: 4 });
    const step = (a: Tensor) => {
      x.grad = null;
      const s = x.mul(a).add(y).relu().sum();
      s.backward();
      return [s, x.grad!.mul(1)] as const;
    };
    const f = compile(step);
    const a = randn([n], { seed: 5 });
    f(a);
    const [s1, g1] = f(a);
    const [s0, g0] = step(a);
    expect(s1.item()).toBe(s0.item());
    expect(Array.from(g1.toArray())).toEqual(Array.from(g0.toArray()));
    expect(f.stats.replayed).toBe(1);
  });
});

describe.runIf(wasmHeap() !== null)("the shared heap (the arena and the matrix product in one memory)", () => {
  /** A float32 weight and an SGD step of relu(x·W).sum() on it (the same seeds each time: eager and compiled twins). */
  const make = () => {
    const W = randn([64, 96], { seed: 7, dtype: "float32", requiresGrad: true }), x = randn([32, 64], { seed: 8, dtype: "float32" });
    const opt = new SGD([W], { lr: 0.1 });
    const step = () => {
      opt.zeroGrad();
      const loss = x.matmul(W).relu().sum();
      loss.backward();
      opt.step();
      return loss;
    };
    return { W, step };
  };

  test("parameters updated in place move into it once; products read them there; numbers equal eager's", () => {
    withBackend("wasm", () => {
      const eager = make(), compiled = make();
      const before = compiled.W.toArray();
      const f = compile(compiled.step);
      const heap = wasmHeap()!;
      for (let i = 0; i < 4; i++) expect(f().item()).toBe(eager.step().item());
      expect(heap.owns(compiled.W.toArray())).toBe(true);
      expect(heap.owns(compiled.W.grad!.toArray())).toBe(true);
      expect(heap.owns(before)).toBe(false); // the user's array from before is left as it was
      expect(Array.from(compiled.W.toArray())).toEqual(Array.from(eager.W.toArray()));
      // eagerly afterwards, from the heap, the same numbers again
      expect(compiled.step().item()).toBe(eager.step().item());
      expect(Array.from(compiled.W.toArray())).toEqual(Array.from(eager.W.toArray()));
      // new values given to the parameter (restoring weights) move into the heap at the next compiled call
      const restart = randn([64, 96], { seed: 11, dtype: "float32" });
      noGrad(() => (compiled.W.assign(restart), eager.W.assign(restart)));
      expect(heap.owns(compiled.W.toArray())).toBe(false);
      expect(f().item()).toBe(eager.step().item());
      expect(heap.owns(compiled.W.toArray())).toBe(true);
      expect(Array.from(compiled.W.toArray())).toEqual(Array.from(eager.W.toArray()));
    });
  });

  test("past the heap's budget for arrays, arenas have memories of their own and state stays where it is", () => {
    const heap = wasmHeap()!;
    const budget = heap.arraysBudget;
    heap.arraysBudget = 0;
    try {
      withBackend("wasm", () => {
        const eager = make(), compiled = make();
        const f = compile(compiled.step);
        for (let i = 0; i < 3; i++) expect(f().item()).toBe(eager.step().item());
        expect(heap.owns(compiled.W.toArray())).toBe(false);
        expect(heap.owns(compiled.W.grad!.toArray())).toBe(false);
        expect(Array.from(compiled.W.toArray())).toEqual(Array.from(eager.W.toArray()));
      });
    } finally {
      heap.arraysBudget = budget;
    }
  });

  test("a program without products keeps an arena of its own, not shared (copies into it are faster)", () => {
    withBackend("wasm", () => {
      const x = randn([5000], { seed: 9, requiresGrad: true }), y = randn([5000], { seed: 10 });
      const f = compile(() => {
        x.grad = null;
        const s = x.mul(y).relu().sum();
        s.backward();
        return s;
      });
      f();
      f();
      const g = x.grad!.toArray();
      expect(wasmHeap()!.owns(g)).toBe(false);
      expect(g.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(g.buffer).not.toBe(x.toArray().buffer);
    });
  });
});

describe("the memory plan", () => {
  test("an elementwise step never writes over an input it reads through a view (a transpose)", () => {
    const f = compile((x: Tensor) => {
      const a = x.mul(2); // a buffer of its own
      return a.T.add(1).sum(0); // reads a transposed: its result must not take a's buffer
    });
    const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const want = x.mul(2).T.add(1).sum(0).toNested();
    f(x);
    expect(f(x).toNested()).toEqual(want);
    expect(f.stats.replayed).toBe(1);
  });
});

describe("updates in place", () => {
  test("a new value computed from the old one transposed is not written over it", () => {
    const w = tensor([[1, 2], [3, 4]]);
    const f = compile(() => {
      noGrad(() => w.assign(w.T.mul(10).add(w)));
      return w.sum();
    });
    const ref = tensor([[1, 2], [3, 4]]);
    for (let i = 0; i < 3; i++) {
      ref.assign(ref.T.mul(10).add(ref));
      f();
      expect(w.toNested()).toEqual(ref.toNested());
    }
    expect(f.stats.replayed).toBe(2);
  });
});

describe("indices and augmentation read at each call", () => {
  test("gather with indices from an argument: new indices used, out-of-range ones an error as eagerly", () => {
    const f = compile((x: Tensor, i: Tensor) => x.gather(1, i).sum());
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(f(x, tensor([[0], [1]])).item()).toBe(6);
    expect(f(x, tensor([[2], [2]])).item()).toBe(9);
    expect(f.stats.replayed).toBe(1);
    expect(() => f(x, tensor([[3], [0]]))).toThrow(/gather/);
  });

  test("an Embedding's ids and randomShift's shifts come from each call", () => {
    const emb = new Embedding(5, 2, { seed: 0 });
    const f = compile((ids: Tensor) => emb.forward(ids).sum(1));
    const ids = tensor([0, 1, 4]);
    f(ids);
    const other = tensor([3, 3, 2]);
    expect(f(other).toNested()).toEqual(emb.forward(other).sum(1).toNested());
    expect(f.stats).toEqual({ traced: 1, replayed: 1, eager: 0 });
    const g1 = new Generator(7), g2 = new Generator(7);
    const img = rand([4, 16], { seed: 1 });
    const s = compile((x: Tensor) => randomShift(x, { height: 4, width: 4, generator: g1 }));
    for (let i = 0; i < 3; i++) expect(s(img).toNested()).toEqual(randomShift(img, { height: 4, width: 4, generator: g2 }).toNested());
    expect(s.stats.eager).toBe(0);
  });

  test("sort and topk order each call's values (their order is not the first call's), forward and backward", () => {
    // Each: the compiled function gives what the eager one gives on every input, replaying after the first call.
    const fns: ((x: Tensor) => Tensor)[] = [
      (x) => x.sort().values,
      (x) => x.sort(-1, true).indices,
      (x) => x.topk(2).values,
      (x) => x.topk(1, -1, false).indices,
      (x) => valueAndGrad((v: Tensor) => v.sort(1).values.slice(null, [0, 1]).mul(tensor([[1], [10]])).sum())(x)[1],
    ];
    const inputs = [tensor([[3, 1, 2], [5, 6, 4]]), tensor([[10, 30, 20], [-1, -3, -2]]), tensor([[-5, -6, -4], [0, 2, 1]])];
    for (const fn of fns) {
      const c = compile(fn);
      for (const x of inputs) expect(c(x).toNested()).toEqual(fn(x).toNested());
      expect(c.stats).toEqual({ traced: 1, replayed: 2, eager: 0 });
    }
  });
});

describe("views of a product read by an elementwise step", () => {
  test("a Conv2d with bias on a batch of 2 (the product reshaped and permuted, then the bias added)", () => {
    const conv = new Conv2d(1, 2, 3, { seed: 1 });
    const x = randn([2, 1, 4, 4], { seed: 3 });
    const g = compile(() => conv.forward(x).sum());
    const want = conv.forward(x).sum().item();
    for (let i = 0; i < 3; i++) expect(g().item()).toBe(want);
    expect(g.stats.replayed).toBe(2);
  });
});
