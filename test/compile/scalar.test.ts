/**
 * compile() of Value programs (src/compile/scalar.ts): a traced step replays bit for bit what the eager step
 * computes — values, gradients and updated parameters — as generated code and as the interpreted tape; what a
 * trace cannot see runs eagerly (or throws with `strict`); a changed signature, optimizer or flag traces again.
 */
import { describe, expect, test } from "vitest";
import { compile, CompileError } from "../../packages/gradgraph/src/compile/index.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { SGD, MLP, mseLoss } from "../../packages/gradgraph/src/nn/scalar.js";

// The W1 setup of the peer benchmarks (shared/peer-bench/lib/common.mjs), copied: a 32-bit LCG, moons, 2-16-16-1.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (1664525 * s + 1013904223) % 4294967296;
    return s / 4294967296;
  };
}
function moons(n: number, rnd: () => number): { X: number[][]; y: number[] } {
  const X: number[][] = [], y: number[] = [];
  const half = n / 2;
  for (let i = 0; i < n; i++) {
    const k = i % half, t = (Math.PI * k) / (half - 1), outer = i < half;
    const x0 = outer ? Math.cos(t) : 1 - Math.cos(t), x1 = outer ? Math.sin(t) : 0.5 - Math.sin(t);
    X.push([x0 + 0.2 * (rnd() - 0.5), x1 + 0.2 * (rnd() - 0.5)]);
    y.push(outer ? -1 : 1);
  }
  return { X, y };
}

/** W1: micrograd's demo step on `n` moons points; `update` is how the parameters move. */
function w1(n: number, update: "raw" | "sgd") {
  const rnd = lcg(1337);
  const { X, y } = moons(n, rnd);
  const sizes = [2, 16, 16, 1];
  const layers = sizes.slice(1).map((out, l) =>
    Array.from({ length: out }, () => ({ w: Array.from({ length: sizes[l]! }, () => new Value(rnd() * 2 - 1)), b: new Value(0), nonlin: l !== sizes.length - 2 })),
  );
  const params = layers.flatMap((L) => L.flatMap((u) => [...u.w, u.b]));
  const lr = 0.05, alpha = 1e-4;
  const opt = new SGD(params, { lr });
  const forward = (x: Value[]): Value => {
    let h = x;
    for (const layer of layers) {
      h = layer.map((u) => {
        let act = u.b;
        for (let i = 0; i < u.w.length; i++) act = act.add(u.w[i]!.mul(h[i]!));
        return u.nonlin ? act.relu() : act;
      });
    }
    return h[0]!;
  };
  const step = (): Value => {
    const losses = X.map((row, i) => forward(row.map((v) => Value.constant(v))).mul(-y[i]!).add(1).relu());
    let data = Value.constant(0);
    for (const l of losses) data = data.add(l);
    data = data.mul(1 / losses.length);
    let reg = Value.constant(0);
    for (const p of params) reg = reg.add(p.mul(p));
    const total = data.add(reg.mul(alpha));
    for (const p of params) p.grad = 0;
    total.backward();
    if (update === "raw") for (const p of params) p.data -= lr * p.grad;
    else opt.step();
    return total;
  };
  return { params, step, opt };
}

const bits = (xs: readonly number[]) => Array.from(new Float64Array(xs), (x) => (Object.is(x, -0) ? "-0" : x.toString()));

describe("a compiled W1 step equals the eager one bit for bit", () => {
  for (const replay of ["generated", "interpreted"] as const) {
    test(`50 steps, ${replay}`, () => {
      const eager = w1(100, "raw"), traced = w1(100, "sgd");
      const step = compile(traced.step, { replay, strict: true });
      for (let k = 0; k < 50; k++) {
        const a = eager.step().data;
        const b = step().data;
        expect(bits([b])).toEqual(bits([a]));
        expect(bits(traced.params.map((p) => p.grad))).toEqual(bits(eager.params.map((p) => p.grad)));
        expect(bits(traced.params.map((p) => p.data))).toEqual(bits(eager.params.map((p) => p.data)));
      }
      expect(step.stats).toEqual({ traced: 1, replayed: 49, eager: 0 });
      expect(step.explain()).toContain(replay === "generated" ? "generated JavaScript" : "interpreted tape");
    });
  }
  test("the first call's loss is the peers' reference", () => {
    const { step } = w1(100, "sgd");
    expect(compile(step)().data).toBe(1.865453195760891);
  });
});
