/**
 * The passes that make multi-output kernels, each alone on a traced program (after the passes before it), and the
 * compiled results against eager: fuseReductions (a float32 sum of a fused elementwise step, one kernel: its sums
 * within a stated bound of eager's, whose order of addition differs) and fuseKernels (sibling elementwise steps
 * sharing inputs, one pass: results equal to eager's, bit for bit, float32 and float64).
 */
import { describe, expect, test } from "vitest";
import { KERNEL_LIMITS } from "../../packages/gradgraph/src/compile/passes.js";
import { compile, eliminateCommon, eliminateDead, fuseElementwise, fuseKernels, fuseReductions, inPlaceUpdates, lowerElementwise, planMemory, stepProgram, sumMode, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { trace } from "../../packages/gradgraph/src/compile/trace.js";
import { full, randn, tensor, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { forEachBackend } from "../backends.js";

/** The program of `fn` after the passes that run before the two tested here. */
function before(fn: (...xs: never[]) => unknown, ...args: unknown[]): Program {
  const p = trace(fn as (...a: never[]) => unknown, args).program!;
  return inPlaceUpdates(fuseElementwise(eliminateCommon(eliminateDead(lowerElementwise(p)))));
}
const kinds = (p: Program) => p.steps.map((s) => (s.kind === "op" ? s.op.name : s.kind));

/**
 * Float32 sums, fused and not: each the float32 rounding of a float64 sum within n·2⁻⁵³·Σ|x| of the exact one
 * (different orders of addition), so they differ by at most one float32 rounding (2⁻²³·|sum|) and twice that
 * float64 error — here under 1e-9 (n ≤ 2,100 terms of size ~1).
 */
function expectSumsClose(got: Tensor, want: Tensor): void {
  const g = got.toArray(), w = want.toArray();
  expect(got.shape).toEqual(want.shape);
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `sum ${i}`).toBeLessThanOrEqual(2 ** -23 * Math.abs(w[i]!) + 1e-9);
}

describe("sumMode", () => {
  test("all axes and the trailing ones walk rows, the leading ones columns, others are not fused", () => {
    expect(sumMode([2, 3, 4], [0, 1, 2])).toBe("rows");
    expect(sumMode([2, 3, 4], [1, 2])).toBe("rows");
    expect(sumMode([2, 3, 4], [0])).toBe("cols");
    expect(sumMode([2, 3, 4], [0, 1])).toBe("cols");
    expect(sumMode([2, 3, 4], [1])).toBeNull();
    expect(sumMode([2, 3, 4], [0, 2])).toBeNull();
  });
});

describe("fuseReductions", () => {
  const x = randn([6, 7], { seed: 1 }), y = randn([6, 7], { seed: 2 });
  test("a float32 sum of a fused chain becomes one kernel step that sums it (all, rows, columns)", () => {
    for (const [axes, f] of [
      [[0, 1], (a: Tensor, b: Tensor) => a.mul(b).relu().sum()],
      [[1], (a: Tensor, b: Tensor) => a.mul(b).relu().sum(1)],
      [[0], (a: Tensor, b: Tensor) => a.mul(b).relu().sum(0, true)],
    ] as const) {
      const p = before(f, x, y);
      expect(kinds(p)).toEqual(["fused", "sum"]);
      const q = fuseReductions(p);
      expect(kinds(q)).toEqual(["kernel"]);
      const k = q.steps[0]!;
      if (k.kind !== "kernel") throw new Error("not a kernel");
      expect(k.shape).toEqual([6, 7]);
      expect(k.outs.map((o) => o.sum)).toEqual([axes]);
      expect(k.outs[0]!.out).toBe(q.outputs[0]);
    }
  });

  test("left alone: a middle axis, float64, a chain whose result is read elsewhere too, a sum of no chain", () => {
    const z = randn([2, 3, 4], { seed: 3 });
    expect(kinds(fuseReductions(before((a: Tensor) => a.exp().sum(1), z)))).toEqual(["fused", "sum"]);
    expect(kinds(fuseReductions(before((a: Tensor) => a.exp().sum(), x.cast("float64"))))).toEqual(["fused", "sum"]);
    expect(kinds(fuseReductions(before((a: Tensor) => {
      const e = a.exp();
      return [e, e.sum()];
    }, x)))).toEqual(["fused", "sum"]);
    expect(kinds(fuseReductions(before((a: Tensor) => a.sum(), x)))).toEqual(["sum"]);
  });

  test("not moved past a write in place into the storage its chain reads through a view (it would read the new values)", () => {
    const make = () => randn([30, 7], { seed: 9 });
    const step = (w: Tensor) => () => {
      const v = w.transpose(0, 1).mul(2); // reads w's storage through a view
      w.assign(w.mul(0.5)); // written in place: nothing after reads w's old value
      return v.sum();
    };
    const w = make();
    const c = compile(step(w));
    c();
    expect(kinds(c.programs()[0]!)).toEqual(["permute", "fused", "fused", "sum"]);
    w.assign(make());
    const got = c() as Tensor;
    const want = step(make())() as Tensor;
    expectSumsClose(got, want);
  });
});

describe("fuseKernels", () => {
  const x = randn([5, 9], { seed: 4 }), y = randn([5, 9], { seed: 5 });
  test("siblings reading the same inputs: one kernel writing each result", () => {
    const p = before((a: Tensor, b: Tensor) => [a.mul(b), a.add(b), a.sub(b).relu()], x, y);
    expect(kinds(p)).toEqual(["fused", "fused", "fused"]);
    const q = fuseKernels(p);
    expect(kinds(q)).toEqual(["kernel"]);
    const k = q.steps[0]!;
    if (k.kind !== "kernel") throw new Error("not a kernel");
    expect(k.inputs.length).toBe(2);
    expect(k.outs.map((o) => o.out)).toEqual(q.outputs);
  });

  test("W4: the forward's sum, the mask and the three gradients are one pass; x·y + z stays in registers", () => {
    const [a, b, c] = [1, 2, 3].map((seed) => randn([40], { seed, requiresGrad: true })) as [Tensor, Tensor, Tensor];
    const step = () => {
      a.grad = b.grad = c.grad = null;
      const s = a.mul(b).add(c).relu().sum();
      s.backward();
      return s;
    };
    const p = fuseReductions(before(step));
    expect(kinds(p)).toEqual(["fused", "kernel", "fused", "fused", "fused"]);
    const q = fuseKernels(p);
    expect(kinds(q)).toEqual(["kernel"]);
    const k = q.steps[0]!;
    if (k.kind !== "kernel") throw new Error("not a kernel");
    // the sum, and the three gradients the call leaves in .grad — not x·y + z
    expect(k.outs.map((o) => o.out.id).sort()).toEqual([...q.outputs, ...q.effects.map((e) => e.var!)].map((v) => v.id).sort());
    expect(k.outs.filter((o) => o.sum !== undefined).length).toBe(1);
    // buffers: the three gradients (their own, kept across calls); the sum is handed out fresh
    expect(planMemory(q).sizes.length).toBe(3);
  });

  test("not merged across a step that reads the group's result, nor into a step that reads its sum", () => {
    const w = randn([9, 3], { seed: 6 });
    const p = before((a: Tensor) => {
      const m = a.mul(2);
      const r = m.matmul(w); // reads m between the two siblings
      return [r, a.add(1).mul(m)];
    }, x);
    expect(kinds(fuseKernels(p))).toEqual(["fused", "matmul", "fused"]);
    const q = fuseKernels(fuseReductions(before((a: Tensor) => a.mul(a).sum().mul(a), x)));
    expect(kinds(q)).toEqual(["kernel", "fused"]);
  });

  test("a group stays within what the wasm backend runs (6 inputs, 7 arrays read or written)", () => {
    const xs = [20, 21, 22, 23, 24, 25, 26, 27].map((seed) => randn([5, 9], { seed }));
    const q = fuseKernels(before((...v: Tensor[]) => v.slice(1).map((w) => v[0]!.mul(w)), ...xs));
    const ks = q.steps.filter((s) => s.kind === "kernel");
    expect(q.steps.length).toBeGreaterThan(1);
    for (const k of ks) {
      if (k.kind !== "kernel") continue;
      expect(k.inputs.length).toBeLessThanOrEqual(KERNEL_LIMITS.inputs);
      expect(k.inputs.length + k.outs.length).toBeLessThanOrEqual(KERNEL_LIMITS.arrays);
    }
    expect(q.steps.reduce((n, s) => n + (s.kind === "kernel" ? s.outs.length : 1), 0)).toBe(7);
    // sums into several elements need an array each too
    const r = fuseKernels(fuseReductions(before((...v: Tensor[]) => v.slice(1, 6).map((w) => v[0]!.mul(w).sum(0)), ...xs)));
    for (const k of r.steps) if (k.kind === "kernel") expect(k.inputs.length + k.outs.length).toBeLessThanOrEqual(KERNEL_LIMITS.arrays);
  });

  test("updates in place are not merged (an SGD step keeps its four writes in place)", () => {
    const ps = [randn([4, 3], { seed: 7, requiresGrad: true }), randn([4, 3], { seed: 8, requiresGrad: true })];
    const p = stepProgram(() => {
      for (const q of ps) q.grad = null;
      const loss = ps[0]!.mul(ps[1]!).relu().sum();
      loss.backward();
      for (const q of ps) q.assign(q.sub(q.grad!.mul(0.1)));
      return loss;
    });
    expect(p.steps.filter((s) => s.kind === "fused" && s.into !== undefined).length).toBe(2);
  });
});

forEachBackend(() => {
  describe("compiled = eager", () => {
    const cases: [string, (a: Tensor, b: Tensor) => Tensor[]][] = [
      ["siblings", (a, b) => [a.mul(b), a.add(b).div(b.abs().add(1)), a.sub(b).relu()]],
      ["a chain, its sums (all, rows, columns) and a sibling", (a, b) => {
        const v = a.mul(b).add(1);
        return [v.relu().sum(), v.abs().sum(1), v.neg().sum(0, true), v.mul(a)];
      }],
      ["broadcast inputs (a row, one value)", (a, b) => {
        const row = b.sum(0);
        return [a.mul(row).add(2), a.sub(row).relu().sum(1)];
      }],
      ["chains reading views (transposed, strided); keepdim and negative axes", (a, b) => {
        const t = a.transpose(0, 1);
        return [t.mul(2).sum(0), t.abs().sum(-1, true), a.slice([0, 300, 2]).mul(b.slice([1, 300, 2])).relu().sum(-1), a.add(b).sum(0, true), t.neg(), t.mul(3)];
      }],
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [name, f] of cases) {
        test(`${name}, ${dtype}: stored results equal; float32 sums within the bound, float64 sums equal`, () => {
          const a = randn([300, 7], { seed: 11, dtype }), b = randn([300, 7], { seed: 12, dtype });
          const c = compile(f);
          c(a, b); // traced
          const a2 = randn([300, 7], { seed: 13, dtype }), b2 = randn([300, 7], { seed: 14, dtype });
          const got = c(a2, b2), want = f(a2, b2);
          expect(c.stats.replayed).toBe(1);
          expect(c.programs()[0]!.steps.filter((s) => s.kind === "kernel").length).toBeGreaterThan(0);
          const sums = new Set<number>();
          for (const p of c.programs()) for (const s of p.steps) if (s.kind === "kernel") s.outs.forEach((o) => o.sum !== undefined && sums.add(p.outputs.indexOf(o.out)));
          if (dtype === "float64") expect(sums.size).toBe(0); // float64 sums are not fused
          got.forEach((g, i) => {
            if (sums.has(i)) expectSumsClose(g, want[i]!);
            else expect(Array.from(g.toArray()), `result ${i}`).toEqual(Array.from(want[i]!.toArray()));
          });
        });
      }
    }
    const f = (a: Tensor, b: Tensor) => {
      const v = a.mul(b).add(1);
      return [v.relu().sum(), v.abs().sum(1), v.neg().sum(0, true), v.mul(a)];
    };
    /** Equal, NaN to NaN; finite float32 sums within the bound of {@link expectSumsClose}. */
    const expectSame = (got: Tensor[], want: Tensor[]) =>
      got.forEach((g, i) => {
        expect(g.shape).toEqual(want[i]!.shape);
        const x = g.toArray(), w = want[i]!.toArray();
        for (let k = 0; k < w.length; k++) {
          if (Number.isFinite(w[k]!)) expect(Math.abs(x[k]! - w[k]!), `result ${i}[${k}]`).toBeLessThanOrEqual(2 ** -23 * Math.abs(w[k]!) + 1e-9);
          else expect(x[k], `result ${i}[${k}]`).toBe(w[k]);
        }
      });
    test("NaN and ±Infinity inside fused sums propagate as eager; sums of -0 as eager", () => {
      const vals = Array.from({ length: 700 }, (_, i) => (i === 3 ? NaN : i === 401 ? Infinity : i === 402 ? -Infinity : i === 699 ? NaN : (i % 13) - 6));
      const a = tensor(vals).reshape([100, 7]), b = randn([100, 7], { seed: 3 });
      const c = compile(f);
      c(b, b);
      expect(c.programs()[0]!.steps.some((s) => s.kind === "kernel" && s.outs.some((o) => o.sum !== undefined))).toBe(true);
      expectSame(c(a, b), f(a, b));
      const g = (x: Tensor, y: Tensor) => [x.mul(y).sum(), x.div(y).sum(1), x.abs().neg().sum(0)];
      const cg = compile(g), z = full([100, 7], -0), one = full([100, 7], 1);
      cg(b, b);
      expect(cg.programs()[0]!.steps.flatMap((s) => (s.kind === "kernel" ? s.outs.filter((o) => o.sum !== undefined) : [])).length).toBe(3);
      const got = cg(z, one), want = g(z, one);
      got.forEach((t, i) => expect(Array.from(t.toArray()).map((v) => Object.is(v, -0)), `result ${i}`).toEqual(Array.from(want[i]!.toArray()).map((v) => Object.is(v, -0))));
    });
    test("sizes: empty, one element, not a multiple of the vector width, across chunks of 16384", () => {
      for (const n of [0, 1, 3, 2341]) {
        const c = compile(f);
        c(randn([n, 7], { seed: 1 }), randn([n, 7], { seed: 2 }));
        const a = randn([n, 7], { seed: 3 }), b = randn([n, 7], { seed: 4 });
        expectSame(c(a, b), f(a, b));
      }
    });
  });
});
