/**
 * compile(): a compiled function gives what the same function gives run eagerly — return values, gradients,
 * parameters and optimizer state, over several calls — in the cases a review found it did not: `.grad` of an
 * argument, requiresGrad changed between calls, optimizer state loaded after the trace, arguments sharing storage
 * with what the step updates, grad mode at the call, `grad` through a compiled function, `compileAsync` starting a
 * call at once, the passes and views of storage written in place.
 */
import { describe, expect, test } from "vitest";
import { compile, compileAsync, CompileError, cpuTarget, eliminateCommon, fuseElementwise, lowerElementwise, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { trace } from "../../packages/gradgraph/src/compile/trace.js";
import { grad, valueAndGrad, vjp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { noGrad, tensor, Tensor, zeros } from "../../packages/gradgraph/src/tensor/index.js";
import { copied } from "../../packages/gradgraph/src/tensor/storage.js";
import { rand } from "../../packages/gradgraph/src/tensor/random-tensors.js";
import { Adam, AdamW, crossEntropy, DataLoader, Dataset, MLP, Parameter, SGD, type Optimizer } from "../../packages/gradgraph/src/nn/index.js";

const values = (t: Tensor | null) => (t === null ? null : Array.from(t.toArray()));
const f64 = (a: number[], requiresGrad = false) => tensor(a, { dtype: "float64", requiresGrad });


/**
 * A step on a closed-over parameter w (its .grad cleared, backward when the loss requires grad), made twice: eager
 * (`we`, `fe`) and compiled (`wc`, `fc`).
 */
function parameterStep() {
  const make = () => new Parameter(f64([1, 2]));
  const body = (w: Tensor) => (x: Tensor) => {
    w.grad = null;
    const l = w.mul(x).sum();
    if (l.requiresGrad) l.backward();
    return l.mul(1);
  };
  const we = make(), wc = make();
  return { we, wc, fe: body(we), fc: compile(body(wc)) };
}

describe("an argument's .grad", () => {
  test("a step that clears its argument's .grad, backpropagates into it and returns it: .grad as eagerly at every call", () => {
    const body = (x: Tensor) => {
      x.grad = null;
      x.mul(x).sum().backward();
      return x.grad!.mul(1);
    };
    const c = compile(body);
    for (let i = 0; i < 4; i++) {
      const xe = f64([i, 2, 3], true), xc = f64([i, 2, 3], true);
      expect(values(c(xc))).toEqual(values(body(xe)));
      expect(values(xc.grad)).toEqual(values(xe.grad));
    }
    expect(c.stats.eager).toBe(3);
    expect(c.explain()).toMatch(/runs eagerly: .*\.grad of its argument/);
  });

  test("a step that reads its argument's .grad reads this call's, not the trace's", () => {
    const body = (x: Tensor) => x.grad!.mul(2);
    const c = compile(body);
    for (let i = 0; i < 4; i++) {
      const x = f64([1, 2]);
      x.grad = f64([i, -i]);
      expect(values(c(x))).toEqual(values(body(x)));
    }
  });

  test("strict: a step that sets its argument's .grad throws CompileError", () => {
    const c = compile((x: Tensor) => (x.mul(3).sum().backward(), x.mul(1)), { strict: true });
    expect(() => c(f64([1], true))).toThrow(CompileError);
  });

  test("requiresGrad of an argument changed between calls: traced anew, .grad and results as eagerly", () => {
    const body = (x: Tensor) => {
      const l = x.mul(x).sum();
      if (l.requiresGrad) l.backward();
      return l.mul(1);
    };
    const c = compile(body);
    const xe = f64([1, 2]), xc = f64([1, 2]);
    for (let i = 0; i < 5; i++) {
      if (i === 2) (xe.requiresGrad = true), (xc.requiresGrad = true);
      if (i === 4) (xe.requiresGrad = false), (xc.requiresGrad = false);
      expect(values(c(xc))).toEqual(values(body(xe)));
      expect(values(xc.grad)).toEqual(values(xe.grad));
    }
  });

  test("requiresGrad of a tensor the step closes over, changed between calls (a parameter frozen): not replayed stale", () => {
    const { we, wc, fe, fc } = parameterStep();
    for (let i = 0; i < 6; i++) {
      if (i === 2) (we.requiresGrad = false), (wc.requiresGrad = false);
      if (i === 4) (we.requiresGrad = true), (wc.requiresGrad = true);
      const x = f64([1, i]);
      expect(values(fc(x))).toEqual(values(fe(x)));
      expect(values(wc.grad)).toEqual(values(we.grad));
    }
    expect(fc.stats.replayed).toBeGreaterThanOrEqual(2);
  });
});

describe("optimizer state loaded after the trace", () => {
  const optimizers: [string, (ps: Tensor[]) => Optimizer][] = [
    ["Adam", (ps) => new Adam(ps, { lr: 0.1 })],
    ["AdamW", (ps) => new AdamW(ps, { lr: 0.1 })],
    ["SGD with momentum", (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ];
  for (const [name, makeOpt] of optimizers) {
    test(`${name}: loadStateDict replaces the moment buffers; later calls update the new ones, as eagerly`, () => {
      const make = () => {
        const w = new Parameter(f64([1, -2, 3]));
        const opt = makeOpt([w]);
        const step = (x: Tensor) => {
          opt.zeroGrad();
          const loss = w.mul(w).mul(x).sum();
          loss.backward();
          opt.step();
          return loss;
        };
        return { w, opt, step };
      };
      const e = make(), c = make();
      const f = compile(c.step);
      // a state saved after two steps, loaded into both after four
      let saved: { e: ReturnType<Optimizer["stateDict"]>; c: ReturnType<Optimizer["stateDict"]> } | null = null;
      const copy = (sd: ReturnType<Optimizer["stateDict"]>) => ({ ...sd, tensors: new Map([...sd.tensors].map(([k, t]) => [k, t.mul(1)])) });
      for (let i = 0; i < 8; i++) {
        if (i === 2) saved = { e: copy(e.opt.stateDict()), c: copy(c.opt.stateDict()) };
        if (i === 4) e.opt.loadStateDict(saved!.e), c.opt.loadStateDict(saved!.c);
        const x = f64([1, 0.5 + i, 2]);
        expect(values(f(x))).toEqual(values(e.step(x)));
        expect(values(c.w)).toEqual(values(e.w));
        const se = e.opt.stateDict(), sc = c.opt.stateDict();
        expect([...sc.tensors.keys()]).toEqual([...se.tensors.keys()]);
        for (const [k, t] of se.tensors) expect(values(sc.tensors.get(k)!), `${k} after call ${i}`).toEqual(values(t));
      }
      expect(f.stats.eager).toBe(0);
      expect(f.stats.replayed).toBeGreaterThanOrEqual(4);
    });
  }
});

describe("arguments that share storage with what the step updates in place", () => {
  /** A parameter with storage of its own (updated in place from the start), its SGD, and a step given `x`. */
  const make = () => {
    const w = new Parameter(f64([1, 2, 3, 4]));
    noGrad(() => w.update((o, [a]) => o.mul(a!, 1)));
    const opt = new SGD([w], { lr: 0.1 });
    const step = (arg: Tensor) => {
      const x = arg.detach(); // no graph to the argument in the results (that alone would run eagerly)
      const before = x.exp();
      opt.zeroGrad();
      w.mul(w).sum().backward();
      opt.step();
      return [before, x.exp()];
    };
    return { w, step };
  };

  test("a view of the parameter the optimizer updates: the reads before and after the update differ, as eagerly", () => {
    const e = make(), c = make();
    const f = compile(c.step);
    for (let i = 0; i < 4; i++) {
      expect(f(c.w.reshape([2, 2])).map(values)).toEqual(e.step(e.w.reshape([2, 2])).map(values));
      expect(values(c.w)).toEqual(values(e.w));
    }
    expect(f.stats.eager).toBeGreaterThanOrEqual(2);
    expect(f.explain()).toMatch(/some calls ran eagerly: an argument shares storage with a tensor the step touches/);
  });

  test("other tensors, then the parameter itself, then others again: each call as eagerly, the others replayed", () => {
    const e = make(), c = make();
    const f = compile(c.step);
    for (let i = 0; i < 8; i++) {
      // the others require grad too (a Parameter does): the same signature
      const own = i >= 3 && i < 5;
      const xe = own ? e.w : f64([i, 1, 2, 3], true), xc = own ? c.w : f64([i, 1, 2, 3], true);
      expect(f(xc).map(values)).toEqual(e.step(xe).map(values));
      expect(values(c.w)).toEqual(values(e.w));
    }
    expect(f.stats).toEqual({ traced: 1, replayed: 5, eager: 2 });
  });

  test("strict: a call whose argument is a view of a parameter the step updates in place throws CompileError", () => {
    const c = make();
    const f = compile(c.step, { strict: true });
    f(f64([1, 2, 3, 4]));
    f(f64([1, 2, 3, 4]));
    expect(() => f(c.w.detach().reshape([2, 2]))).toThrow(CompileError);
    const d = make();
    const g = compile(d.step, { strict: true });
    expect(() => g(d.w.detach())).toThrow(CompileError); // sharing at the trace
  });

  test("the gradient the previous call left in .grad, given back as the argument: kept as it was, as eagerly", () => {
    const run = (compiled: boolean) => {
      const w = new Parameter(f64([1, 2, 3]));
      const opt = new SGD([w], { lr: 0.1 });
      const body = (previous: Tensor) => {
        opt.zeroGrad();
        w.mul(w).mul(w).sum().backward();
        opt.step();
        return previous.mul(1);
      };
      const step = compiled ? compile(body) : body;
      const out: (number[] | null)[] = [];
      let g = f64([0, 0, 0]);
      for (let i = 0; i < 5; i++) {
        out.push(values(step(g)));
        g = w.grad!;
      }
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe("grad mode at the call", () => {
  test("a step called under noGrad after compiled calls with grad on: as eagerly (no gradient taken)", () => {
    const { we, wc, fe, fc } = parameterStep();
    for (let i = 0; i < 6; i++) {
      const x = f64([1, i]);
      const run = <R>(g: () => R): R => (i >= 2 && i < 4 ? noGrad(g) : g());
      expect(values(run(() => fc(x)))).toEqual(values(run(() => fe(x))));
      expect(values(wc.grad)).toEqual(values(we.grad));
    }
    expect(fc.stats.replayed).toBeGreaterThanOrEqual(3);
  });
});

describe("functional transforms through a compiled function", () => {
  test("grad of a compiled function is the eager gradient at every call", () => {
    const body = (x: Tensor) => x.mul(x).sin().sum();
    const f = compile(body);
    for (let i = 0; i < 4; i++) {
      const x = f64([1, i + 1, -i]);
      expect(values(grad(f)(x))).toEqual(values(grad(body)(x)));
    }
    expect(f.explain()).toMatch(/runs eagerly/);
  });

  test("vjp through a compiled function of two arguments, and the compiled function called plainly in between", () => {
    const body = (x: Tensor, y: Tensor) => x.mul(y).exp();
    const f = compile(body);
    for (let i = 0; i < 4; i++) {
      const x = f64([1, i]), y = f64([0.5, -i]), ct = f64([1, 2]);
      expect(vjp(f, x, y)[1](ct).map(values)).toEqual(vjp(body, x, y)[1](ct).map(values));
      expect(values(f(x, y))).toEqual(values(body(x, y)));
    }
    expect(f.stats.replayed).toBeGreaterThanOrEqual(3); // the plain calls
  });

  test("outside a transform, a functional step given parameters that require grad is still replayed", () => {
    const update = (ps: Tensor[], x: Tensor): [Tensor, Tensor[]] => {
      const [l, g] = valueAndGrad((q: Tensor[]) => x.matmul(q[0]!).add(q[1]!).square().mean())(ps);
      return [l, ps.map((p, i) => p.sub(g[i]!.mul(0.1)))];
    };
    const step = compile(update);
    for (let i = 0; i < 4; i++) {
      const ps = [f64([0.5, -1 + i], true).reshape([2, 1]), f64([0.25], true)], x = f64([1, 2, 3, i], false).reshape([2, 2]);
      const [le, pe] = update(ps, x), [lc, pc] = step(ps, x);
      expect(values(lc)).toEqual(values(le));
      expect(pc.map(values)).toEqual(pe.map(values));
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 3, eager: 0 });
  });
});

describe("compileAsync starts a call's work when it is called", () => {
  /** A parameter, its SGD, and a training step (twins: one run eagerly, one compiled). */
  const make = () => {
    const w = new Parameter(f64([1, -2, 3]));
    const opt = new SGD([w], { lr: 0.1 });
    const step = (x: Tensor) => {
      opt.zeroGrad();
      w.mul(x).square().sum().backward();
      opt.step();
      return w.mul(1);
    };
    return { w, opt, step };
  };

  for (const [name, options] of [["the CPU target", { target: cpuTarget }], ["the default target", {}]] as const) {
    test(`${name}: the update is done before the promise is awaited, as with an async function run eagerly`, async () => {
      const e = make(), c = make();
      const eager = async (x: Tensor) => e.step(x);
      const f = compileAsync(c.step, options);
      for (let i = 0; i < 4; i++) {
        const x = f64([1, i, 2]);
        const pe = eager(x), pc = f(x);
        expect(c.opt.steps).toBe(e.opt.steps);
        expect(values(c.w)).toEqual(values(e.w));
        expect(values(await pc)).toEqual(values(await pe));
      }
      expect(f.stats).toEqual({ traced: 1, replayed: 3, eager: 0 });
    });
  }

  test("a step that runs eagerly (it reads a value) runs when called too", async () => {
    let calls = 0;
    const f = compileAsync((x: Tensor) => (calls++, x.sum().item()));
    for (let i = 0; i < 3; i++) {
      const p = f(f64([i, 1]));
      expect(calls).toBe(i + 1);
      expect(await p).toBe(i + 1);
    }
  });

  test("a call made while an earlier one is pending still runs after it (in order)", async () => {
    const e = make(), c = make();
    const f = compileAsync(c.step, { target: cpuTarget });
    const xs = [0, 1, 2, 3].map((i) => f64([1, i, 2]));
    const want = xs.map((x) => values(e.step(x)));
    const got = await Promise.all(xs.map((x) => f(x)));
    expect(got.map(values)).toEqual(want);
  });
});

describe("the passes and a view of storage written in place", () => {
  /** A float64 parameter with storage of its own (so `update` writes it in place from the first call on). */
  const owned = () => {
    const w = new Parameter(f64([0.1, 0.2, 0.3, 0.4]));
    noGrad(() => w.update((o, [a]) => o.mul(a!, 1)));
    return w;
  };
  const double = (w: Tensor) => w.update((o, [a]) => o.add(a!, a!));
  const kinds = (p: Program) => p.steps.map((s) => (s.kind === "op" ? s.op.name : s.kind));
  const check = (body: (w: Tensor) => () => Tensor[]) => {
    const we = owned(), wc = owned();
    const fe = body(we), fc = compile(body(wc));
    for (let i = 0; i < 4; i++) {
      expect(fc().map(values), `call ${i}`).toEqual(fe().map(values));
      expect(values(wc)).toEqual(values(we));
    }
    expect(fc.stats).toEqual({ traced: 1, replayed: 3, eager: 0 });
  };

  test("common subexpressions: the same read of a view before and after a write in place are two values", () => {
    const body = (w: Tensor) => () =>
      noGrad(() => {
        const v = w.reshape([2, 2]);
        const before = v.exp();
        double(w);
        return [before, v.exp()];
      });
    check(body);
    const p = eliminateCommon(lowerElementwise(trace(body(owned()), []).program!));
    expect(kinds(p).filter((k) => k === "fused").length).toBe(3); // two exps and the write
  });

  test("elementwise fusion: a chain reading a view is not moved past a write in place into its storage", () => {
    const body = (w: Tensor) => () =>
      noGrad(() => {
        const v = w.reshape([2, 2]);
        const sq = v.mul(v);
        double(w);
        return [sq.add(1)];
      });
    check(body);
    const p = fuseElementwise(eliminateCommon(lowerElementwise(trace(body(owned()), []).program!)));
    expect(kinds(p)).toEqual(["reshape", "fused", "fused", "fused"]);
  });

  test("transposed products: a product is not moved to its transposed copy past a write in place into its operand", () => {
    const a = f64([1, 2, 3, 4, 5, 6]).reshape([3, 2]);
    // copy(permute(matmul)) as backward's store makes it (here by hand, so that a write comes between)
    const body = (w: Tensor) => () =>
      noGrad(() => {
        const t = a.matmul(w.reshape([2, 2])).T;
        double(w);
        return [new Tensor(copied(t.value, t.dtype))];
      });
    check(body);
  });

  test("still fused and merged where no write comes between (an ordinary training step keeps its kernels)", () => {
    const body = (w: Tensor) => () =>
      noGrad(() => {
        const v = w.reshape([2, 2]);
        const out = [v.exp(), v.exp().mul(v).add(1)];
        double(w);
        return out;
      });
    check(body);
    const p = fuseElementwise(eliminateCommon(lowerElementwise(trace(body(owned()), []).program!)));
    expect(kinds(p)).toEqual(["reshape", "fused", "fused", "fused"]); // one exp, the chain fused into one, the write
  });
});

describe("update() into a tensor the step made, after it took a view of it", () => {
  const twice = (t: Tensor) => t.update((o, [a]) => o.add(a!, a!));

  test("a tensor computed from the argument: the view sees the second update, as eagerly", () => {
    const body = (x: Tensor) =>
      noGrad(() => {
        const a = x.mul(1);
        twice(a); // the first update gives `a` storage of its own
        const v = a.reshape([2, 2]);
        twice(a); // written in place: `v` sees it
        return [v.mul(1), a];
      });
    const f = compile(body);
    for (let i = 0; i < 4; i++) {
      const x = f64([1, 2, 3, i]);
      expect(f(x).map(values)).toEqual(body(x).map(values));
    }
    expect(f.explain()).toMatch(/runs eagerly: .*took a view of/);
  });

  test("a tensor made from constants in the step (zeros, then updates with the argument)", () => {
    const body = (x: Tensor) =>
      noGrad(() => {
        const z = zeros([4], { dtype: "float64" });
        z.update((o, [a, b]) => o.add(a!, b!), x);
        const v = z.reshape([2, 2]).T;
        z.update((o, [a, b]) => o.mul(a!, b!), x);
        return [v.add(0)];
      });
    const f = compile(body);
    for (let i = 0; i < 4; i++) {
      const x = f64([1, 2, 3, i]);
      expect(f(x).map(values)).toEqual(body(x).map(values));
    }
  });

  test("no view taken before the update (or a parameter's, updated in place at every call): still replayed", () => {
    const w = new Parameter(f64([1, 2, 3, 4]));
    const body = (x: Tensor) =>
      noGrad(() => {
        const a = x.mul(1);
        twice(a);
        twice(a);
        const v = w.reshape([2, 2]);
        twice(w);
        return [a.reshape([2, 2]).mul(1), v.mul(1)];
      });
    const f = compile(body);
    const we = new Parameter(f64([1, 2, 3, 4]));
    const eager = (x: Tensor) =>
      noGrad(() => {
        const a = x.mul(1);
        twice(a);
        twice(a);
        const v = we.reshape([2, 2]);
        twice(we);
        return [a.reshape([2, 2]).mul(1), v.mul(1)];
      });
    for (let i = 0; i < 4; i++) {
      const x = f64([1, 2, 3, i]);
      expect(f(x).map(values)).toEqual(eager(x).map(values));
    }
    expect(f.stats).toEqual({ traced: 1, replayed: 3, eager: 0 });
  });
});

describe("ordinary steps still replay (none of the above sends them eagerly)", () => {
  test("W4's step (gradients of relu(x·y + z).sum() into closed-over tensors, .grad cleared in the step)", () => {
    const n = 1000;
    const [x, y, z] = [1, 2, 3].map((seed) => rand([n], { seed }).sub(0.5)); // leaves (no graph)
    for (const t of [x, y, z]) t!.requiresGrad = true;
    const step = () => {
      x!.grad = y!.grad = z!.grad = null;
      const s = x!.mul(y!).add(z!).relu().sum();
      s.backward();
      return s;
    };
    const f = compile(step);
    for (let i = 0; i < 4; i++) f();
    expect(f.stats).toEqual({ traced: 1, replayed: 3, eager: 0 });
  });

  test("a GAN-style step that freezes the discriminator for the generator's update and unfreezes it, inside the step: replayed, = eager", () => {
    const make = () => {
      const G = new MLP([4, 8, 4], "relu", { seed: 0 }), D = new MLP([4, 8, 1], "relu", { seed: 1 });
      const optG = new Adam(G.parameters(), { lr: 1e-2 }), optD = new Adam(D.parameters(), { lr: 1e-2 });
      const step = (z: Tensor, real: Tensor) => {
        for (const p of D.parameters()) p.requiresGrad = false;
        optG.zeroGrad();
        const gl = D.forward(G.forward(z)).mean().neg();
        gl.backward();
        optG.step();
        for (const p of D.parameters()) p.requiresGrad = true;
        optD.zeroGrad();
        const dl = D.forward(G.forward(z).detach()).mean().sub(D.forward(real).mean());
        dl.backward();
        optD.step();
        return [gl, dl];
      };
      return { G, D, step };
    };
    const e = make(), c = make();
    const f = compile(c.step);
    for (let i = 0; i < 6; i++) {
      const z = rand([16, 4], { seed: 10 + i }), real = rand([16, 4], { seed: 100 + i });
      expect(f(z, real).map((t) => t.item())).toEqual(e.step(z, real).map((t) => t.item()));
    }
    expect(f.stats).toEqual({ traced: 2, replayed: 4, eager: 0 });
    [...c.G.parameters(), ...c.D.parameters()].forEach((p, i) => expect(values(p)).toEqual(values([...e.G.parameters(), ...e.D.parameters()][i]!)));
  });

  test("a step that changes a tensor's requiresGrad and leaves it changed runs eagerly (a replay would not change it) = eager", () => {
    const make = () => {
      const w = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
      return { w, step: (x: Tensor) => {
        w.requiresGrad = !w.requiresGrad; // a toggle the step leaves in place
        return w.mul(x).sum();
      } };
    };
    const e = make(), c = make();
    const f = compile(c.step);
    for (let i = 0; i < 5; i++) {
      const x = tensor([i, 1, 2], { dtype: "float64" });
      expect(f(x).item()).toBe(e.step(x).item());
      expect(c.w.requiresGrad, `after call ${i + 1}`).toBe(e.w.requiresGrad);
    }
    expect(f.stats.replayed).toBe(0);
    expect(f.explain()).toContain("changes requiresGrad of a tensor from before the call and leaves it changed");
  });

  test("an MNIST-style epoch (MLP, Adam, batches from a DataLoader as arguments) = eager, all replayed after the buffers exist", () => {
    const data = new Dataset(rand([96, 12], { seed: 4 }), tensor(Array.from({ length: 96 }, (_, i) => i % 3)));
    const make = () => {
      const model = new MLP([12, 16, 3], "relu", { seed: 0 });
      const opt = new Adam(model.parameters(), { lr: 1e-2 });
      const step = (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss;
      };
      return { model, step };
    };
    const e = make(), c = make();
    const f = compile(c.step);
    for (const { x, y } of new DataLoader(data, { batchSize: 16, shuffle: true, seed: 1 })) {
      expect(f(x, y).item()).toBeCloseTo(e.step(x, y).item(), 5);
    }
    expect(f.stats).toEqual({ traced: 2, replayed: 4, eager: 0 });
    c.model.parameters().forEach((p, i) => {
      const q = e.model.parameters()[i]!.toArray(), r = p.toArray();
      for (let j = 0; j < q.length; j++) expect(Math.abs(q[j]! - r[j]!)).toBeLessThanOrEqual(1e-5);
    });
  });
});
