/**
 * compileAsync(): the same mechanism as compile (traces once per signature, replays after), with a target whose
 * runs are asynchronous — here a fake one that runs the CPU target's executable after a timer tick and counts.
 */
import { describe, expect, test } from "vitest";
import { compileAsync, CompileError, cpuTarget, type AsyncTarget, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { randn, tensor, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { mlpStep } from "./samples.js";

/** The CPU target behind a timer: every run resolves later; `refuse` makes the next runs resolve to null. */
function fakeAsync() {
  const log = { prepared: 0, runs: 0, refuse: 0, unsupported: null as string | null };
  const target: AsyncTarget = {
    name: "fake-async",
    unsupported: (p: Program) => log.unsupported ?? cpuTarget.unsupported(p),
    prepare: (p: Program) => {
      log.prepared++;
      const run = cpuTarget.prepare(p);
      return (inputs) =>
        new Promise((ok) =>
          setTimeout(() => {
            log.runs++;
            if (log.refuse > 0) return void (log.refuse--, ok(null));
            ok(run(inputs));
          }, 1),
        );
    },
  };
  return { target, log };
}

const mlp = (seed: number) => mlpStep(3, 8, seed);

describe("compileAsync", () => {
  test("an SGD training step on an asynchronous target gives the eager losses, traced once", async () => {
    const x = randn([16, 3], { seed: 1 }), y = randn([16, 1], { seed: 2 });
    const eager = mlp(7), compiled = mlp(7);
    const { target, log } = fakeAsync();
    const step = compileAsync(compiled.step, { target });
    const want: number[] = [], got: number[] = [];
    for (let i = 0; i < 10; i++) {
      want.push(eager.step(x, y).item());
      got.push((await step(x, y)).item());
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 9, eager: 0 });
    expect(log).toMatchObject({ prepared: 1, runs: 9 });
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
    expect(compiled.model.parameters()[0]!.toArray()).toEqual(eager.model.parameters()[0]!.toArray());
    expect(step.explain()).toContain("on fake-async:");
  });

  test("calls made without awaiting run in order (each replay sees the previous one's update)", async () => {
    const x = randn([8, 3], { seed: 3 }), y = randn([8, 1], { seed: 4 });
    const eager = mlp(11), compiled = mlp(11);
    const step = compileAsync(compiled.step, { target: fakeAsync().target });
    const want = Array.from({ length: 6 }, () => eager.step(x, y).item());
    const got = await Promise.all(Array.from({ length: 6 }, () => step(x, y)));
    got.forEach((g, i) => expect(g.item()).toBeCloseTo(want[i]!, 12));
  });

  test("a run that resolves to null (state changed) traces again; a new signature traces again", async () => {
    const { target, log } = fakeAsync();
    const f = compileAsync((a: Tensor) => a.mul(2).add(1), { target });
    expect((await f(tensor([1, 2]))).toArray()).toEqual(new Float32Array([3, 5]));
    log.refuse = 1;
    expect((await f(tensor([3, 4]))).toArray()).toEqual(new Float32Array([7, 9])); // refused: traced again, eagerly
    expect((await f(tensor([5, 6]))).toArray()).toEqual(new Float32Array([11, 13]));
    expect((await f(tensor([1, 2, 3]))).toArray()).toEqual(new Float32Array([3, 5, 7]));
    expect(f.stats).toEqual({ traced: 3, replayed: 1, eager: 0 });
    expect(log.prepared).toBe(3);
  });

  test("a synchronous target works; the default target is compile's", async () => {
    for (const options of [{ target: cpuTarget }, {}]) {
      const f = compileAsync((a: Tensor, b: Tensor) => ({ s: a.add(b).sum(), p: [a.mul(b)] }), options);
      await f(tensor([1, 2]), tensor([3, 4]));
      const r = await f(tensor([2, 3]), tensor([4, 5]));
      expect(r.s.item()).toBe(14);
      expect(r.p[0]!.toArray()).toEqual(new Float32Array([8, 15]));
      expect(f.stats.replayed).toBe(1);
      expect(f.explain()).toContain(`on ${cpuTarget.name}:`);
    }
  });

  test("a step that cannot be compiled runs eagerly; strict and unsupported targets reject the call", async () => {
    const f = compileAsync((a: Tensor) => a.sum().item() + 1);
    expect(await f(tensor([1, 2]))).toBe(4);
    expect(await f(tensor([2, 2]))).toBe(5);
    expect(f.stats).toEqual({ traced: 1, replayed: 0, eager: 1 });
    const strict = compileAsync((a: Tensor) => a.sum().item(), { strict: true });
    await expect(strict(tensor([1]))).rejects.toThrow(CompileError);
    const { target, log } = fakeAsync();
    log.unsupported = "no kernels here";
    const g = compileAsync((a: Tensor) => a.exp(), { target });
    await expect(g(tensor([1]))).rejects.toThrow("compileAsync: the target fake-async cannot run this step: no kernels here");
    log.unsupported = null;
    expect((await g(tensor([0]))).toArray()).toEqual(new Float32Array([1])); // a failed call does not block the next
    expect(() => compileAsync(null as never)).toThrow("compileAsync: expected a function, got null");
  });
});
