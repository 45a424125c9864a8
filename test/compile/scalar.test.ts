/**
 * compile() of Value programs (src/compile/scalar.ts): a traced step replays bit for bit what the eager step
 * computes — values, gradients and updated parameters — as generated code and as the interpreted tape; what a
 * trace cannot see runs eagerly (or throws with `strict`); a changed signature, optimizer or flag traces again.
 */
import { describe, expect, test } from "vitest";
import { compile, CompileError } from "../../packages/gradgraph/src/compile/index.js";
import { specializedStorages, Value } from "../../packages/gradgraph/src/scalar/value.js";
import { tapes } from "../../packages/gradgraph/src/scalar/tape.js";
import { SGD, MLP, mseLoss } from "../../packages/gradgraph/src/nn/scalar.js";

// The W1 model of the benchmarks (bench/gradgraph/w1.mjs, on the peer benchmarks' data), on the sources.
const { w1Setup } = (await import(new URL("../../bench/gradgraph/w1.mjs", import.meta.url).href)) as {
  w1Setup: (gg: unknown, o: { n: number; update: "raw" | "sgd" }) => { params: Value[]; step: () => Value; opt: SGD | null };
};
const w1 = (n: number, update: "raw" | "sgd") => w1Setup({ Value, nn: { scalar: { SGD } } }, { n, update });

const bits = (xs: readonly number[]) => Array.from(new Float64Array(xs), (x) => (Object.is(x, -0) ? "-0" : x.toString()));

describe("a compiled W1 step equals the eager one bit for bit", () => {
  for (const [replay, n] of [["auto", 100], ["interpreted", 100], ["generated", 10]] as const) {
    test(`50 steps, replayed ${replay === "auto" ? "on the flat tape" : replay}, ${n} points`, () => {
      const eager = w1(n, "raw"), traced = w1(n, "sgd");
      const step = compile(traced.step, { replay, strict: true });
      for (let k = 0; k < 50; k++) {
        const a = eager.step().data;
        const b = step().data;
        expect(bits([b])).toEqual(bits([a]));
        expect(bits(traced.params.map((p) => p.grad))).toEqual(bits(eager.params.map((p) => p.grad)));
        expect(bits(traced.params.map((p) => p.data))).toEqual(bits(eager.params.map((p) => p.data)));
      }
      expect(step.stats).toEqual({ traced: 1, replayed: 49, eager: 0 });
      expect(step.explain()).toContain({ auto: "a flat tape", interpreted: "an interpreted tape", generated: "straight-line" }[replay]);
    });
  }
  test("the first call's loss is the peers' reference", () => {
    const { step } = w1(100, "sgd");
    expect(compile(step)().data).toBe(1.865453195760891);
  });
  test("tracing a step that retires its tape leaves the eager loop's specialized kernels as they were", () => {
    // The trace's tape and the fresh one its retirement makes are not the training loop's: kernels specialized to
    // them would keep their storage alive (nothing else does once the trace is over) and send the loop's next
    // step down the general branch.
    const eager = w1(100, "raw");
    for (let k = 0; k < 3; k++) eager.step();
    const before = specializedStorages();
    expect(before.map((s) => s.op)).toEqual(expect.arrayContaining([tapes.current.op, tapes.retired!.op]));
    const step = compile(w1(100, "sgd").step, { strict: true });
    for (let k = 0; k < 3; k++) step();
    expect(step.stats.traced).toBe(1);
    expect(specializedStorages()).toBe(before);
  });
});

describe("pieces (superinstructions chosen from the program) replay bit for bit", () => {
  // Every op, values used twice and far away, values the backward reads (x0, x1, y), -0 and a fixed input the
  // step gives no gradient: the same expression for 8 rows, so its pieces repeat and get cases of their own.
  const setup = () => {
    const w = [0.3, -0.7, 1.1, 0.45].map((x) => new Value(x));
    const opt = new SGD(w, { lr: 0.01 });
    const rows = Array.from({ length: 8 }, (_, r) => [0.1 * r - 0.35, 1 - 0.2 * r]);
    const step = () => {
      const outs = rows.map(([a, b]) => {
        const x = Value.constant(a!), z = Value.constant(-0);
        const s = w[0]!.mul(x).add(w[1]!.mul(b!)).add(w[2]!);
        const t = s.tanh().mul(s.sigmoid()).sub(s.exp().div(s.square().add(1)));
        const u = t.abs().sqrt().add(t.relu()).add(x.mul(z)).neg();
        const v = u.pow(2).add(s.sin().mul(w[3]!.cos())).add(u.max(s).min(t.add(0.5)));
        return v.add(v.mul(w[3]!)).add(s.mul(-0)).log().add(x.gt(t).mul(u));
      });
      let loss = Value.constant(0);
      for (const o of outs) loss = loss.add(o);
      for (const p of w) p.grad = 0;
      loss.backward();
      opt.step();
      return { loss, first: outs[0]! };
    };
    return { w, step };
  };
  test("20 steps equal the eager ones, and the replay runs pieces", () => {
    const eager = setup(), traced = setup();
    const step = compile(traced.step, { strict: true });
    for (let k = 0; k < 20; k++) {
      const a = eager.step(), b = step();
      expect(bits([b.loss.data, b.first.data])).toEqual(bits([a.loss.data, a.first.data]));
      expect(bits(traced.w.map((p) => p.grad))).toEqual(bits(eager.w.map((p) => p.grad)));
      expect(bits(traced.w.map((p) => p.data))).toEqual(bits(eager.w.map((p) => p.data)));
    }
    expect(step.explain()).toMatch(/a flat tape \(generated loop; [1-9]\d* pieces of [1-9]\d* shapes\)/);
  });
  test("two backward() calls in one step, over the same pieces' entries, equal the eager ones", () => {
    const setup = () => {
      const w = [0.5, -1.25, 2].map((x) => new Value(x));
      const opt = new SGD(w, { lr: 0.05 });
      const step = () => {
        const hs = Array.from({ length: 6 }, (_, r) => w[0]!.mul(r - 2.5).add(w[1]!.mul(0.5 * r)).add(w[2]!).tanh());
        let a = Value.constant(0), b = Value.constant(0);
        for (const h of hs) a = a.add(h.mul(h));
        for (const h of hs) b = b.add(h.sigmoid());
        for (const p of w) p.grad = 0;
        a.backward();
        b.backward(); // adds into the parameters' gradients, through the same hs
        opt.step();
        return [a, b];
      };
      return { w, step };
    };
    const eager = setup(), traced = setup();
    const step = compile(traced.step, { strict: true });
    for (let k = 0; k < 5; k++) {
      const x = eager.step(), y = step();
      expect(bits(y.map((v) => v.data))).toEqual(bits(x.map((v) => v.data)));
      expect(bits(traced.w.flatMap((p) => [p.data, p.grad]))).toEqual(bits(eager.w.flatMap((p) => [p.data, p.grad])));
    }
    expect(step.explain()).toMatch(/[1-9]\d* pieces/);
  });
  test("random programs: 12 seeds, 3 steps each, equal the eager ones", () => {
    const unary = ["neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "sin", "cos", "sign", "square"] as const;
    const binary = ["add", "sub", "mul", "div", "pow", "max", "min", "gt", "lt"] as const;
    for (let seed = 1; seed <= 12; seed++) {
      let r = seed * 7919;
      const rnd = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
      // One random straight-line program (each line reads earlier ones: values used once, often, or never), per row.
      const lines = Array.from({ length: 24 }, (_, k) => {
        const two = rnd() < 0.6;
        // 0-1: parameters, 2-3: the row's constants, then lines; `a` is mostly the line before (chains, as in a neuron)
        const pick = () => Math.floor(rnd() * (k + 4));
        return { op: two ? binary[Math.floor(rnd() * binary.length)]! : unary[Math.floor(rnd() * unary.length)]!, a: rnd() < 0.75 ? k + 3 : pick(), b: pick() };
      });
      const setup = () => {
        const w = [0.8, -0.6].map((x) => new Value(x));
        const opt = new SGD(w, { lr: 0.001 });
        const step = () => {
          let loss = Value.constant(0);
          for (let row = 0; row < 6; row++) {
            const vs: Value[] = [...w, Value.constant(row / 5 - 0.4), Value.constant(row === 3 ? -0 : 1.5 - row / 4)];
            for (const l of lines) {
              const a = vs[l.a]!, b = vs[l.b]!;
              vs.push((unary as readonly string[]).includes(l.op) ? (a[l.op as (typeof unary)[number]]() as Value) : a[l.op as (typeof binary)[number]](b));
            }
            loss = loss.add(vs[vs.length - 1]!).add(vs[vs.length - 5]!.mul(0.5));
          }
          for (const p of w) p.grad = 0;
          loss.backward();
          opt.step();
          return loss;
        };
        return { w, step };
      };
      const eager = setup(), traced = setup();
      const step = compile(traced.step, { strict: true });
      for (let k = 0; k < 3; k++) {
        const a = eager.step(), b = step();
        expect(bits([b.data, ...traced.w.flatMap((p) => [p.data, p.grad])])).toEqual(bits([a.data, ...eager.w.flatMap((p) => [p.data, p.grad])]));
      }
      expect(step.explain()).toMatch(/[1-9]\d* pieces/);
    }
  });
});

describe("a lecture example: the scalar MLP, mseLoss and SGD, with the batch as arguments", () => {
  const setup = () => {
    const net = new MLP([2, 4, 1], "tanh", { seed: 3 });
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const step = (xs: Value[][], ys: number[][]) => {
      net.zeroGrad();
      const loss = mseLoss(net.forward(xs), ys);
      loss.backward();
      opt.step();
      return { loss, out: 7 };
    };
    return { net, opt, step };
  };
  const batch = (k: number) => [[new Value(k * 0.1), new Value(1 - k * 0.05)], [new Value(-0.5), new Value(k * 0.01)]];
  const ys = [[0.5], [-0.25]];

  test("compiled = eager over 30 steps, new argument Values each call", () => {
    const eager = setup(), traced = setup();
    const step = compile(traced.step, { strict: true });
    for (let k = 0; k < 30; k++) {
      const a = eager.step(batch(k), ys), b = step(batch(k), ys);
      expect(b.out).toBe(7);
      expect(bits([b.loss.data])).toEqual(bits([a.loss.data]));
      expect(bits(traced.net.parameters().map((p) => p.data))).toEqual(bits(eager.net.parameters().map((p) => p.data)));
      expect(bits(traced.net.parameters().map((p) => p.grad))).toEqual(bits(eager.net.parameters().map((p) => p.grad)));
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 29, eager: 0 });
  });

  test("an argument's gradient is written back as eagerly", () => {
    const eager = setup(), traced = setup();
    const step = compile(traced.step);
    for (let k = 0; k < 3; k++) {
      const xa = batch(k), xb = batch(k);
      eager.step(xa, ys);
      step(xb, ys);
      expect(bits(xb.flat().map((v) => v.grad))).toEqual(bits(xa.flat().map((v) => v.grad)));
    }
  });

  test("a learning rate changed between calls is read at each call", () => {
    const { opt, net, step: raw } = setup();
    const step = compile(raw);
    step(batch(0), ys);
    step(batch(1), ys);
    opt.lr = 0;
    const before = net.parameters().map((p) => p.data);
    step(batch(2), ys);
    expect(net.parameters().map((p) => p.data)).toEqual(before);
    expect(step.stats.traced).toBe(1);
  });
});

describe("guards: what changed traces again", () => {
  test("an optimizer given a new parameter (a Value replaced) traces again", () => {
    const w = new Value(2), opt = new SGD([w], { lr: 0.1 });
    let p = w;
    const step = compile(() => {
      p.grad = 0;
      const loss = p.mul(p);
      loss.backward();
      opt.step();
      return loss;
    });
    step();
    step();
    expect(w.data).toBeCloseTo(2 * 0.8 * 0.8, 12);
    const q = new Value(5);
    p = q;
    (opt.params as Value[])[0] = q;
    expect(step().data).toBe(25);
    expect(q.data).toBe(5 - 0.1 * 10);
    expect(step.stats).toEqual({ traced: 2, replayed: 1, eager: 0 });
  });

  test("the guard option: a parameter replaced in a model the step closes over", () => {
    const model = { w: new Value(3) };
    let version = 0;
    const step = compile(() => model.w.mul(2), { guard: () => String(version) });
    expect(step().data).toBe(6);
    model.w = new Value(10);
    version++;
    expect(step().data).toBe(20);
    expect(step.stats.traced).toBe(2);
  });

  test("a requires-grad flag changed, and an argument that aliases a closed-over Value, trace again", () => {
    const w = new Value(3);
    const f = compile((x: Value) => {
      w.grad = 0;
      x.grad = 0;
      const y = x.mul(w);
      y.backward();
      return y;
    });
    const x = new Value(2);
    f(x);
    expect([x.grad, w.grad]).toEqual([3, 2]);
    x.requiresGrad = false;
    x.data = 4;
    expect(f(x).data).toBe(12);
    expect([x.grad, w.grad]).toEqual([0, 4]);
    expect(f.stats.traced).toBe(2);
    expect(f(w).data).toBe(9); // x is w: one import, both gradients into it
    expect(w.grad).toBe(6);
    expect(f.stats.traced).toBe(3);
  });

  test("the signature: a Value passed twice, the numbers and keys in the arguments; what it cannot read", () => {
    const f = compile((a: Value, b: Value, o: { k: number }) => a.mul(b).add(o.k));
    const x = new Value(3), y = new Value(4);
    expect(f(x, y, { k: 1 }).data).toBe(13);
    expect(f(x, x, { k: 1 }).data).toBe(10); // one leaf twice: another program
    expect(f(y, x, { k: 1 }).data).toBe(13);
    expect(f(x, y, { k: -0 }).data).toBe(12); // a number is a constant of the program: another signature
    expect(f(x, y, { k: 0 }).data).toBe(12);
    expect(f.stats).toEqual({ traced: 4, replayed: 1, eager: 0 });
    expect(f(x, y, { k: 1 }).data).toBe(13);
    expect(f.stats.replayed).toBe(2);
    // Symbols by identity: two with one description are two arguments.
    const A = Symbol("mode"), B = Symbol("mode");
    const h = compile((a: Value, mode: symbol) => (mode === A ? a.mul(2) : a.mul(3)));
    expect([h(x, A).data, h(x, B).data, h(x, A).data]).toEqual([6, 9, 6]);
    expect(h.stats).toEqual({ traced: 2, replayed: 1, eager: 0 });
    const g = compile((a: Value, o: unknown) => a.mul(2) ?? o);
    expect(() => g(x, { m: new Map() })).toThrow(/the arguments: cannot look inside a Map at \[1\]\.m/);
    const loop: unknown[] = [x];
    loop.push(loop);
    expect(() => g(x, loop)).toThrow(/the tree contains itself at \[1\]\[1\]/);
  });

  test("results are plain Values holding the replay's numbers; numbers pass through", () => {
    const w = new Value(1.5);
    const f = compile((x: Value) => [x.mul(w), 42, { w }]);
    f(new Value(2));
    const [y, n, o] = f(new Value(4)) as [Value, number, { w: Value }];
    expect([y.data, y.isLeaf, n, o.w]).toEqual([6, true, 42, w]);
  });
});

describe("what a trace cannot see runs eagerly (strict: throws)", () => {
  const rawStep = () => {
    const w = new Value(1);
    const fn = () => {
      w.grad = 0;
      const loss = w.mul(w);
      loss.backward();
      w.data -= 0.1 * w.grad; // JavaScript arithmetic on numbers: invisible to the trace
      return loss;
    };
    return { w, fn };
  };

  test("p.data -= lr * p.grad runs eagerly, and explain() says why", () => {
    const { w, fn } = rawStep();
    const step = compile(fn);
    for (let k = 0; k < 3; k++) step();
    expect(w.data).toBeCloseTo(0.8 ** 3, 12);
    expect(step.stats).toEqual({ traced: 1, replayed: 0, eager: 2 });
    expect(step.explain()).toContain("reads .grad of a Value");
  });

  test("strict: a CompileError that names the read", () => {
    const { fn } = rawStep();
    expect(() => compile(fn, { strict: true })()).toThrow(CompileError);
    expect(() => compile(rawStep().fn, { strict: true })()).toThrow(/reads \.(data|grad) of a Value/);
  });

  test("a Value computed before the step, a result that is not Values, mixing with tensors", () => {
    const before = new Value(2).mul(3);
    expect(() => compile(() => before.add(1), { strict: true })()).toThrow(/computed before it/);
    expect(() => compile(() => new Map([[1, new Value(1).add(1)]]), { strict: true })()).toThrow(/not a tree of Values/);
    const f = compile(() => before.add(1));
    expect(f().data).toBe(7);
    expect(f().data).toBe(7);
    expect(f.stats.eager).toBe(1);
  });

  test("a compiled Value step called inside another one's trace runs inline", () => {
    const w = new Value(2);
    const inner = compile((x: Value) => x.mul(w));
    const outer = compile((x: Value) => inner(x).add(1));
    expect(outer(new Value(3)).data).toBe(7);
    expect(outer(new Value(4)).data).toBe(9);
    expect(outer.stats).toEqual({ traced: 1, replayed: 1, eager: 0 });
  });
});
