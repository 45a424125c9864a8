/**
 * The ONNX Runtime target: every op-database entry compiled on it agrees with eager (forward values and gradients,
 * float64, to ONNX Runtime's transcendental functions' accuracy); compiled training steps on onnxruntime-node agree
 * with eager training step by step (float32 tolerance), write the new parameters and gradients back into the tensors without copying them
 * (two arrays per tensor, alternating), and a missing onnxruntime-node is a clear error.
 */
import { describe, expect, test, vi } from "vitest";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { Adam, crossEntropy, Linear, ReLU, Sequential, SGD } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { OnnxError, onnxRuntime } from "gradgraph-onnx";
import { compositeDb, opdb, type OpInfo } from "../ops/opdb.js";
import { perturbed, trainingStepOf, valueAndGrads } from "../compile/samples.js";

const net = () => new Sequential(new Linear(6, 16, { generator: new Generator(1) }), new ReLU(), new Linear(16, 3, { generator: new Generator(2) }));
const stepOf = (m: Sequential, opt: SGD | Adam) => trainingStepOf((x) => m.forward(x), opt, crossEntropy);
const batch = (k: number) => [randn([8, 6], { generator: new Generator(100 + k) }), tensor([0, 1, 2, 1, 0, 2, 2, 1])] as const;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const same = Number.isNaN(b[i]!) ? Number.isNaN(a[i]!) : a[i] === b[i] || Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!));
    if (!same) expect.fail(`[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

const target = await onnxRuntime({ threads: 1 });

describe("compiled on ONNX Runtime = eager on the op database (float64, forward and gradients)", () => {
  const entries = [...Object.entries(opdb as Record<string, OpInfo>), ...Object.entries(compositeDb).map(([n, i]) => [`composite ${n}`, i] as const)];
  for (const [name, info] of entries) {
    for (const s of info.samples()) {
      test(`${name}: ${s.name}`, () => {
        const f = valueAndGrads(s.f);
        const c = compile(f, { target });
        c(...s.inputs); // traced
        const xs = s.inputs.map((x, i) => perturbed(x, i + 1));
        const want = f(...xs);
        const got = c(...xs);
        expect(c.stats.replayed, c.explain()).toBe(1);
        expect(c.explain()).toMatch(/^on onnxruntime/);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => {
          expect(g.shape).toEqual(want[i]!.shape);
          close(g.toArray(), want[i]!.toArray(), 1e-12);
        });
      });
    }
  }
});

describe("compile(step, { target: onnxRuntime() })", () => {
  for (const [name, makeOpt] of [
    ["SGD with momentum", (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
    ["Adam", (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })],
  ] as const) {
    test(`${name}: 20 compiled steps equal 20 eager steps (losses, parameters, gradients)`, async () => {
      const [a, b] = [net(), net()];
      const [optA, optB] = [makeOpt(a.parameters()), makeOpt(b.parameters())];
      const compiled = compile(stepOf(a, optA), { target });
      const eager = stepOf(b, optB);
      for (let k = 0; k < 20; k++) {
        const [x, y] = batch(k);
        close(compiled(x, y).toArray(), eager(x, y).toArray());
      }
      expect(compiled.stats.replayed).toBeGreaterThanOrEqual(17);
      expect(compiled.explain()).toContain("on onnxruntime");
      a.parameters().forEach((p, i) => {
        close(p.toArray(), b.parameters()[i]!.toArray());
        close(p.grad!.toArray(), b.parameters()[i]!.grad!.toArray());
      });
    });
  }

  test("the weights stay where ONNX Runtime wrote them: two arrays per parameter, alternating, no copies", async () => {
    const m = net();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const step = compile(stepOf(m, opt), { target: await onnxRuntime({ threads: 1 }) });
    const w = m.parameters()[0]!;
    const seen: unknown[] = [];
    for (let k = 0; k < 6; k++) {
      step(...batch(k));
      seen.push(w.value.data);
    }
    // the trace (eager) and the first replays settle into two arrays that alternate
    expect(seen[2]).toBe(seen[4]);
    expect(seen[3]).toBe(seen[5]);
    expect(seen[4]).not.toBe(seen[5]);
  });

  test("parameters the built-in target moved into its shared WebAssembly heap train on ONNX Runtime next (fed as a copy)", async () => {
    const [a, b] = [net(), net()];
    const [optA, optB] = [new SGD(a.parameters(), { lr: 0.1 }), new SGD(b.parameters(), { lr: 0.1 })];
    const onCpu = compile(stepOf(a, optA)), onOrt = compile(stepOf(a, optA), { target }), eager = stepOf(b, optB);
    for (let k = 0; k < 8; k++) {
      const [x, y] = batch(k);
      close((k < 4 ? onCpu : onOrt)(x, y).toArray(), eager(x, y).toArray());
    }
    a.parameters().forEach((p, i) => close(p.toArray(), b.parameters()[i]!.toArray()));
  });

  test("100 steps of an MNIST-sized classifier (784-128-10, Adam, batch 64) compiled on ONNX Runtime follow eager training", async () => {
    const make = () => new Sequential(new Linear(784, 128, { generator: new Generator(3) }), new ReLU(), new Linear(128, 10, { generator: new Generator(4) }));
    const [a, b] = [make(), make()];
    const [optA, optB] = [new Adam(a.parameters(), { lr: 1e-3 }), new Adam(b.parameters(), { lr: 1e-3 })];
    const compiled = compile(stepOf(a, optA), { target });
    const eager = stepOf(b, optB);
    // four fixed batches, their labels a function of the inputs (learnable), taken in turn
    const g = new Generator(7);
    const batches = Array.from({ length: 4 }, () => {
      const x = randn([64, 784], { generator: g }).mul(0.5);
      return [x, x.slice([0, 64], [0, 10]).argmax(1)] as const;
    });
    const losses: [number, number][] = [];
    for (let k = 0; k < 100; k++) {
      const [x, y] = batches[k % 4]!;
      losses.push([compiled(x, y).item(), eager(x, y).item()]);
    }
    expect(compiled.stats.replayed).toBeGreaterThanOrEqual(98);
    for (const [c, e] of losses) expect(Math.abs(c - e)).toBeLessThan(1e-4 * (1 + Math.abs(e)));
    expect(losses[96]![0]).toBeLessThan(losses[0]![0] / 2);
    a.parameters().forEach((p, i) => close(p.toArray(), b.parameters()[i]!.toArray(), 1e-4));
  });

  test("sort and topk of an argument: the order is each call's (computed in JavaScript and fed), values and gradients", async () => {
    const f = (x: Tensor) => x.sort().values.mul(tensor([1, 10, 100])).sum().add(x.topk(1).values.sum());
    const g = compile(valueAndGrads(f), { target, strict: true });
    for (const v of [[3, 1, 2], [10, 30, 20], [-5, -6, -4]]) {
      const x = tensor(v, { dtype: "float64" });
      const [got, want] = [await g(x), valueAndGrads(f)(x)];
      expect(got.map((t) => t.toNested())).toEqual(want.map((t) => t.toNested()));
    }
    expect(g.stats).toEqual({ traced: 1, replayed: 2, eager: 0 });
  });

  test("a step ONNX cannot express (JavaScript reading a value the graph computes) is refused naming why", () => {
    const m = net();
    // the labels are computed in the step (an argmax), and crossEntropy checks labels in JavaScript
    const f = (x: Tensor) => crossEntropy(m.forward(x), m.forward(x).detach().argmax(1));
    const c = compile(f, { target, strict: true });
    expect(() => c(batch(0)[0])).toThrow(/the target onnxruntime cannot run this step: the step computes .* in JavaScript from %\d+, a value of the graph/);
  });

  test("threads: a count that is not an integer from 1 to 256 is an OnnxError at once, not ONNX Runtime's refusal at the first call blamed on the export", async () => {
    for (const [bad, shown] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], [NaN, "NaN"], ["2", '"2"'], [10000, "10000"], [2n, "2n"]] as const) {
      const made = onnxRuntime({ threads: bad as number });
      await expect(made, shown).rejects.toThrow(`onnxRuntime: threads: expected an integer from 1 to 256, got ${shown}`);
      await expect(made, shown).rejects.toBeInstanceOf(OnnxError);
    }
  });

  test("without onnxruntime-node: an OnnxError naming the package and how to install it", async () => {
    vi.resetModules();
    vi.doMock("onnxruntime-node", () => {
      throw new Error("Cannot find package 'onnxruntime-node'");
    });
    try {
      const fresh = (await import("../../packages/onnx/src/target.js")) as typeof import("../../packages/onnx/src/target.js");
      await expect(fresh.onnxRuntime()).rejects.toThrow(/the package onnxruntime-node could not be loaded \(.*\)\. It is an optional peer dependency of gradgraph-onnx: npm install onnxruntime-node/);
      await expect(fresh.onnxRuntime()).rejects.toBeInstanceOf((await import("../../packages/onnx/src/errors.js")).OnnxError);
    } finally {
      vi.doUnmock("onnxruntime-node");
      vi.resetModules();
    }
    expect(OnnxError).toBeDefined();
  });
});
