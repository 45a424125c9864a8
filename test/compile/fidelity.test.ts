/**
 * compile(): a compiled function gives what the same function gives run eagerly — return values, gradients,
 * parameters and optimizer state, over several calls — in the cases a review found it did not: `.grad` of an
 * argument, requiresGrad changed between calls, optimizer state loaded after the trace, arguments sharing storage
 * with what the step updates, grad mode at the call, `grad` through a compiled function, `compileAsync` starting a
 * call at once, the passes and views of storage written in place.
 */
import { describe, expect, test } from "vitest";
import { compile, CompileError } from "../../packages/gradgraph/src/compile/index.js";
import { grad } from "../../packages/gradgraph/src/autodiff/functional.js";
import { noGrad, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { rand } from "../../packages/gradgraph/src/tensor/random-tensors.js";
import { Adam, AdamW, Parameter, SGD, type Optimizer } from "../../packages/gradgraph/src/nn/index.js";

const values = (t: Tensor | null) => (t === null ? null : Array.from(t.toArray()));
const f64 = (a: number[], requiresGrad = false) => tensor(a, { dtype: "float64", requiresGrad });

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
    const make = () => new Parameter(f64([1, 2]));
    const body = (w: Tensor) => (x: Tensor) => {
      w.grad = null;
      const l = w.mul(x).sum();
      if (l.requiresGrad) l.backward();
      return l.mul(1);
    };
    const we = make(), wc = make();
    const fe = body(we), fc = compile(body(wc));
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
