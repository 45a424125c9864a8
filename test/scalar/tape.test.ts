/**
 * The tape under `Value`: graphs that live on several tapes, the compiled sweep against the plain one, and the
 * rule that a backward touches only the graph it starts from.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { numberAlgebra } from "../../packages/gradgraph/src/ops/algebras.js";
import { elementwiseList, elementwiseOps } from "../../packages/gradgraph/src/ops/elementwise.js";
import { codeOf, compiledKernels, partialSource, plainKernels, type Kernels, type Storage } from "../../packages/gradgraph/src/scalar/kernels.js";
import { backwardFrom, RETIRE_AT, recordLeaf, StaleValueError, Tape, tapes, type Sweeps } from "../../packages/gradgraph/src/scalar/tape.js";
import { specializedStorages, Value } from "../../packages/gradgraph/src/scalar/value.js";

/** A random graph over three leaves: each step applies an op of the table to two earlier nodes. */
function build(xs: readonly number[], steps: readonly [number, number, number][], c = 0.5): { leaves: Value[]; nodes: Value[]; root: Value } {
  const leaves = xs.map((v) => new Value(v));
  const nodes: Value[] = [...leaves, Value.constant(c)];
  for (const [k, i, j] of steps) {
    const op = elementwiseList[k % elementwiseList.length]!;
    const a = nodes[i % nodes.length]!, b = nodes[j % nodes.length]!;
    nodes.push(Value.apply(op, op.arity === 1 ? [a] : [a, b]));
  }
  return { leaves, nodes, root: nodes[nodes.length - 1]! };
}

const graphArb = fc.tuple(
  fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
  fc.array(fc.tuple(fc.nat(100), fc.nat(100), fc.nat(100)), { minLength: 1, maxLength: 30 }),
);

describe("the tape", () => {
  test("the compiled sweeps and the plain ones give the same gradients and counts on every op", () => {
    const env = { make: Value, imp: () => { throw new Error("not used by the sweep"); } };
    const compiled = compiledKernels(env), plain = plainKernels(env);
    fc.assert(
      fc.property(graphArb, ([xs, steps]) => {
        const run = (sweeps: Sweeps) => {
          const { leaves, root } = build(xs, steps);
          const m = backwardFrom(root.t, root.i, sweeps);
          return { m, grads: leaves.map((x) => x.grad) };
        };
        const want = run({ sweep: plain.sweep });
        expect(run(compiled)).toEqual(want);
        expect(run(plain)).toEqual(want);
        expect(run({ sweep: compiled.sweep })).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  test("the root sweep and the general sweep agree on every node, with constants, and another graph on the tape", () => {
    const env = { make: Value, imp: () => { throw new Error("not used by the sweep"); } };
    const { sweep, rootSweep } = compiledKernels(env), plain = plainKernels(env);
    fc.assert(
      fc.property(graphArb, fc.nat(40), ([xs, steps], cut) => {
        const run = (sweeps: Sweeps) => {
          // A tape on recycled storage (old gradients everywhere): the first backward takes the root sweep's single pass.
          const used = new Tape();
          used.grad.fill(3);
          used.n = used.cap;
          tapes.current = new Tape(0, used);
          const leaves = xs.map((v) => new Value(v));
          const c = Value.constant(0.25);
          const nodes: Value[] = [...leaves, c, c.exp()]; // a constant and an op on constants only
          for (const [k, i, j] of steps) {
            const op = elementwiseList[k % elementwiseList.length]!;
            const a = nodes[i % nodes.length]!, b = nodes[j % nodes.length]!;
            nodes.push(Value.apply(op, op.arity === 1 ? [a] : [a, b]));
          }
          // A first backward from an inner node, then one from the last: the second sets the gradients of the
          // nodes it reaches afresh and leaves the others as the first left them.
          const inner = nodes[Math.min(nodes.length - 1, 4 + (cut % Math.max(1, steps.length)))]!;
          if (cut % 3 === 0) for (const n of nodes) n.grad = 7; // a gradient set by hand is no fresh 0
          const m1 = inner.isLeaf ? 0 : backwardFrom(inner.t, inner.i, sweeps);
          const root = nodes[nodes.length - 1]!;
          const m2 = root.isLeaf ? 0 : backwardFrom(root.t, root.i, sweeps);
          return { m1, m2, grads: nodes.map((x) => x.grad + 0) }; // + 0: -0 and 0 alike
        };
        const want = run({ sweep });
        expect(run({ sweep, rootSweep })).toEqual(want);
        expect(run(plain)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  test("a root that every op node leads to takes the pass without reach marks, and agrees with the general sweep", () => {
    const env = { make: Value, imp: () => { throw new Error("not used by the sweep"); } };
    const { sweep, rootSweep } = compiledKernels(env), plain = plainKernels(env);
    fc.assert(
      fc.property(graphArb, fc.boolean(), ([xs, steps], dangling) => {
        const run = (sweeps: Sweeps) => {
          tapes.current = new Tape();
          const { nodes } = build(xs, steps, 0.25);
          if (dangling) nodes[0]!.mul(2); // an op node nothing takes: the root sweep must mark what it reaches
          // A sum of every node: every op node leads to the root.
          let root = nodes[0]!.add(0);
          for (const n of nodes) root = root.add(n.mul(0.5));
          const T = root.t;
          const unmarked = root.i === T.n - 1 && T.unused === 1;
          const m = backwardFrom(root.t, root.i, sweeps);
          return { unmarked, m, grads: nodes.map((x) => x.grad + 0) };
        };
        const want = run({ sweep });
        expect(want.unmarked).toBe(!dangling);
        expect(run({ sweep, rootSweep })).toEqual(want);
        expect(run(plain)).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  test("the compiled methods and the plain ones make the same nodes, numbers as constants", () => {
    const env = { make: Value, imp: () => { throw new Error("one tape"); }, constant: (c: number) => Value.constant(c) };
    const compiled = compiledKernels(env).methods, plain = plainKernels(env).methods;
    for (const op of elementwiseList) {
      const x = Value.constant(0.7), y = Value.constant(1.3);
      const [c, p] = [compiled, plain].map((m) => (op.arity === 2 ? [m[op.name].call(x, y), m[op.name].call(x, 2)] : [m[op.name].call(x)]));
      expect(c!.map((v) => [v.data, v.op, v.inputs.length]), op.name).toEqual(p!.map((v) => [v.data, v.op, v.inputs.length]));
      expect(c![0]!.inputs[0]).toBe(x);
      if (op.arity === 2) expect([c![0]!.inputs[1], c![1]!.inputs[1]!.data]).toEqual([y, 2]);
    }
    expect(() => plainKernels({ make: Value, imp: env.imp }).methods.add.call(Value.constant(1), 2)).toThrow("without a constant maker");
  });

  test("kernels specialized to storages record and sweep as the general ones, on tapes of those storages and on others", () => {
    const env = { make: Value, imp: () => { throw new Error("one tape"); }, constant: (c: number) => Value.constant(c) };
    const storageOf = (T: Tape): Storage => ({ op: T.op, a: T.a, b: T.b, val: T.val, grad: T.grad, rg: T.rg, seen: T.seen, use: T.use });
    const plain = plainKernels(env);
    const other = storageOf(new Tape());
    // Specialized to the tape's storage (first branch, second branch), to another storage only (general branch), or to none.
    const choices: ((T: Tape) => Kernels<Value>)[] = [
      (T) => compiledKernels(env, [storageOf(T)]),
      (T) => compiledKernels(env, [other, storageOf(T)]),
      () => compiledKernels(env, [other]),
      () => compiledKernels(env),
    ];
    fc.assert(
      fc.property(graphArb, fc.boolean(), ([xs, steps], dangling) => {
        const run = (kernelsFor: (T: Tape) => Kernels<Value>) => {
          const T = (tapes.current = new Tape());
          const K = kernelsFor(T);
          // Leaves that take gradients, on the tape itself (no imports), and a constant.
          const nodes = [...xs.map((x) => new Value(T, recordLeaf(T, x, true), null, null)), Value.constant(0.5)];
          for (const [k, i, j] of steps) {
            const op = elementwiseList[k % elementwiseList.length]!;
            const a = nodes[i % nodes.length]!, b = nodes[j % nodes.length]!;
            nodes.push(K.record[codeOf.get(op)!]!(a, op.arity === 1 ? null : b));
          }
          if (dangling) K.methods.mul.call(nodes[0]!, 2); // an op node nothing takes: the root sweep keeps reach marks
          const root = K.methods.add.call(nodes[nodes.length - 1]!, nodes[0]!);
          const m = backwardFrom(root.t, root.i, K);
          return { m, data: nodes.map((x) => x.data), grads: nodes.map((x) => x.grad + 0), unused: T.unused };
        };
        const want = run(() => plain);
        for (const kernelsFor of choices) expect(run(kernelsFor)).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  test("a training loop's two tapes get kernels specialized to their storages at the first retirements, then keep them", () => {
    tapes.current = new Tape();
    tapes.retired = null;
    const w = new Value(0.5);
    const step = () => {
      let s = Value.constant(0);
      for (let k = 0; k < RETIRE_AT / 2; k++) s = s.add(w.mul(k % 7));
      w.grad = 0;
      s.backward();
      return s.data;
    };
    const first = step();
    step();
    const specialized = specializedStorages();
    expect(specialized.map((s) => s.op)).toEqual(expect.arrayContaining([tapes.current.op, tapes.retired!.op]));
    for (let k = 0; k < 3; k++) expect(step()).toBe(first);
    expect(specializedStorages()).toBe(specialized); // the same kernels: the tapes took turns with the same two storages
    expect(w.grad).toBe(Array.from({ length: RETIRE_AT / 2 }, (_, k) => k % 7).reduce((t, c) => t + c, 0));
  });

  test("the sweep's local derivatives are the table's partials, printed", () => {
    expect(partialSource(elementwiseOps.mul, 0)).toBe("x1");
    expect(partialSource(elementwiseOps.add, 1)).toBe("(1)");
    expect(partialSource(elementwiseOps.gt, 0)).toBe("0");
    // Every printed partial, evaluated, is the table's partial on numbers.
    const names = elementwiseList.map((op) => `f${codeOf.get(op)}`);
    const evaluate = (src: string, x0: number, x1: number, y: number) =>
      (new Function(...names, "x0", "x1", "y", `return ${src};`) as (...a: unknown[]) => number)(
        ...elementwiseList.map((op) => op.forward), x0, x1, y);
    for (const op of elementwiseList) {
      for (const [x0, x1] of [[0.7, 1.3], [-2, 0.5], [3, 3]] as const) {
        const y = op.forward(x0, op.arity === 2 ? x1 : NaN);
        const xs = op.arity === 2 ? [x0, x1] : [x0, NaN];
        op.partials.forEach((p, i) => {
          const want = op.nondiff ? 0 : (p(numberAlgebra, xs, y) as number);
          expect(evaluate(partialSource(op, i), xs[0]!, xs[1]!, y), `${op.name} input ${i}`).toBe(want);
        });
      }
    }
  });

  test("training steps: parameters made once, each step's graph on a later tape, gradients as on one tape", () => {
    const w = new Value(0.7), b = new Value(-0.2);
    const step = (x: number) => {
      const loss = w.mul(x).add(b).tanh().sub(1).pow(2);
      w.grad = 0;
      b.grad = 0;
      loss.backward();
      return [loss.data, w.grad, b.grad];
    };
    const first = step(0.3);
    // Enough steps to retire the tape the parameters live on: later graphs import them.
    for (let k = 0; k * 8 < RETIRE_AT + 100; k++) step(0.3);
    expect(w.t).not.toBe(tapes.current);
    expect(step(0.3)).toEqual(first);
  });

  test("a training step's tape takes every parameter at once; values set before or during the step and parameters made later are used", () => {
    const ws = [0.1, 0.2, 0.3].map((v) => new Value(v));
    const cs = Array.from({ length: RETIRE_AT / 2 }, (_, k) => 1e-3 * (k % 7)); // a step retires its tape
    // s = Σ_k ws[k % 3]·cs[k] (+ late·2), in two halves with `between` run in the middle.
    const step = (between: () => Value | undefined = () => undefined) => {
      let s = Value.constant(0);
      cs.forEach((c, k) => {
        if (k === cs.length / 2) {
          const late = between();
          if (late !== undefined) s = s.add(late.mul(2));
        }
        s = s.add(ws[k % 3]!.mul(c));
      });
      for (const w of ws) w.grad = 0;
      s.backward();
      return s;
    };
    const sums = (from: number, to: number) => [0, 1, 2].map((j) => cs.slice(from, to).reduce((t, c, k) => t + ((from + k) % 3 === j ? c : 0), 0));
    const [all, first, second] = [sums(0, cs.length), sums(0, cs.length / 2), sums(cs.length / 2, cs.length)];
    step(); // retires its tape: the next step's tape imports the leaves all at once
    ws[0]!.data = 5; // after the tape was made, before the step
    let late: Value | undefined;
    const s = step(() => {
      ws[1]!.data = 7; // during the step, after the import
      ws[2]!.requiresGrad = false;
      return (late = new Value(3)); // a leaf made after the import
    });
    expect(s.t.leafSrc).toBe(ws[0]!.t);
    expect(ws[2]!.i).toBeLessThan(s.t.leafN);
    expect(late!.i).toBeGreaterThanOrEqual(s.t.leafN);
    expect(s.data).toBeCloseTo(5 * all[0]! + 0.2 * first[1]! + 7 * second[1]! + 0.3 * all[2]! + 6, 8);
    expect(ws.map((w) => w.grad)).toEqual([all[0], all[1], 0].map((g) => expect.closeTo(g!, 9)));
    expect(late!.grad).toBe(2);
  });

  test("a retired tape's storage is reused once the next one retires; its Values then throw instead of reading another node", () => {
    const w = new Value(0.5);
    // A step big enough to retire its tape: a sum of RETIRE_AT products.
    const step = () => {
      let s = Value.constant(0);
      for (let k = 0; k < RETIRE_AT / 2; k++) s = s.add(w.mul(1e-3));
      w.grad = 0;
      s.backward();
      return s;
    };
    const first = step();
    const firstData = first.data, firstStorage = first.t.val;
    const second = step();
    // The first step's nodes were valid until the second step's backward retired its tape: now they are stale.
    expect(second.data).toBeCloseTo(firstData, 9);
    expect(() => first.data).toThrow(StaleValueError);
    expect(() => first.grad).toThrow("recycled");
    expect(() => first.add(1)).toThrow(StaleValueError);
    expect(() => first.backward()).toThrow(StaleValueError);
    const third = step();
    expect(third.t.val).toBe(firstStorage); // the third step wrote the first step's storage
    expect(() => second.data).toThrow(StaleValueError);
    // Parameters (the leaf tape) never go stale, and their gradients are right on reused storage.
    expect(w.grad).toBeCloseTo(RETIRE_AT / 2 * 1e-3, 9);
    expect(third.data).toBeCloseTo(firstData, 9);
  });

  test("a backward touches only its own graph: another graph's gradients on the same tape stay", () => {
    const x = new Value(2), y = new Value(3);
    const f = x.mul(y);
    const s = f.sin();
    s.backward();
    const fGrad = f.grad;
    const g = x.add(y).exp();
    expect(g.backward()).toBe(3);
    expect(f.grad).toBe(fGrad);
    expect(s.grad).toBe(1);
  });

  test("a node made with the public constructor and an op differentiates like one made by the method", () => {
    const a = new Value(2), b = new Value(5);
    const p = new Value(10, {}, elementwiseOps.mul, [a, b]);
    expect(p.op).toBe(elementwiseOps.mul);
    expect(p.inputs).toEqual([a, b]);
    p.backward();
    expect([a.grad, b.grad]).toEqual([5, 2]);
    expect(() => new Value(1, {}, elementwiseOps.mul, [a])).toThrow("mul: expected 2 inputs, got 1");
  });

  test("zeroGrad reaches across tapes", () => {
    const w = new Value(1.5);
    let v = w;
    for (let k = 0; k < 600_000; k++) v = v.add(1e-6); // 1.2 million entries: more than one tape
    expect(v.t).not.toBe(w.t);
    v.backward();
    expect(w.grad).toBe(1);
    v.zeroGrad();
    expect(w.grad).toBe(0);
    expect(v.grad).toBe(0);
  }, 60_000);
});

test("a node made with the public constructor is swept like any op node, also on a second backward", () => {
  const a = new Value(3);
  const p = new Value(9, {}, elementwiseOps.mul, [a, a]);
  const q = p.sin();
  q.backward();
  const first = a.grad;
  expect(p.grad).toBeCloseTo(Math.cos(9), 14);
  a.grad = 0;
  q.backward();
  expect(a.grad).toBe(first);
  expect(first).toBeCloseTo(6 * Math.cos(9), 14);
});

test("an op object that is not the table's is refused with its name", () => {
  const alien = { ...elementwiseOps.add, name: "add" as const };
  expect(() => Value.apply(alien, [1, 2])).toThrow("add: not an op of the table");
  expect(() => new Value(3, {}, alien, [new Value(1), new Value(2)])).toThrow("add: not an op of the table");
});

// A non-number used to be taken for the kernels' internal form (a tape and an index): no error at `new Value("3")`,
// then a TypeError from inside the tape at the first op or read.
test("new Value with anything but a number is an InputError saying what came", () => {
  for (const [x, got] of [["3", 'a string ("3")'], [undefined, "undefined"], [null, "null"], [{}, "an object"], [3n, "a bigint"], [[1], "an array of 1"], [true, "a boolean"]] as const) {
    expect(() => new Value(x as unknown as number), got).toThrow(`Value: expected a number, got ${got}`);
  }
  expect(new Value(NaN).data).toBeNaN();
});

describe("Value's op methods", () => {
  test("are the class's methods as far as a user can see: on the prototype, not enumerable, the same results", () => {
    const x = new Value(2), y = x.mul(3).add(1).relu();
    const keys: string[] = [];
    for (const k in y) keys.push(k);
    expect(keys.filter((k) => k in elementwiseOps)).toEqual([]);
    expect(Object.prototype.hasOwnProperty.call(y, "mul")).toBe(false);
    expect(y.data).toBe(7);
    y.backward();
    expect(x.grad).toBe(3);
  });
});
