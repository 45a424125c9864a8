/**
 * The ONNX Runtime target: compiled training steps on onnxruntime-node agree with eager training step by step
 * (float32 tolerance), write the new parameters and gradients back into the tensors without copying them
 * (two arrays per tensor, alternating), and a missing onnxruntime-node is a clear error.
 */
import { describe, expect, test, vi } from "vitest";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { Adam, crossEntropy, Linear, ReLU, Sequential, SGD } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { OnnxError, onnxRuntime } from "gradgraph-onnx";

const net = () => new Sequential(new Linear(6, 16, { generator: new Generator(1) }), new ReLU(), new Linear(16, 3, { generator: new Generator(2) }));
const stepOf = (m: Sequential, opt: SGD | Adam) => (x: Tensor, y: Tensor) => {
  opt.zeroGrad();
  const loss = crossEntropy(m.forward(x), y);
  loss.backward();
  opt.step();
  return loss;
};
const batch = (k: number) => [randn([8, 6], { generator: new Generator(100 + k) }), tensor([0, 1, 2, 1, 0, 2, 2, 1])] as const;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > tol * (1 + Math.abs(b[i]!))) expect.fail(`[${i}]: ${a[i]} vs ${b[i]}`);
}

describe("compile(step, { target: onnxRuntime() })", () => {
  for (const [name, makeOpt] of [
    ["SGD with momentum", (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
    ["Adam", (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })],
  ] as const) {
    test(`${name}: 20 compiled steps equal 20 eager steps (losses, parameters, gradients)`, async () => {
      const target = await onnxRuntime({ threads: 1 });
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
