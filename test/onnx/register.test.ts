/**
 * onnxRuntime() as compile's automatic choice (registerTarget): steps it can run go to ONNX Runtime, a step it
 * cannot express falls back to the built-in CPU target. (A file of its own: the registry is global.)
 */
import { expect, test } from "vitest";
import { compile, registerTarget } from "../../packages/gradgraph/src/compile/index.js";
import { crossEntropy, Linear } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { onnxRuntime } from "gradgraph-onnx";

test("registered, ONNX Runtime runs what it can; the rest stays on the CPU", async () => {
  registerTarget(await onnxRuntime({ threads: 1 }));
  const layer = new Linear(4, 3, { generator: new Generator(1) });
  const x = randn([5, 4], { generator: new Generator(2) });
  const plain = compile((v: Tensor, y: Tensor) => crossEntropy(layer.forward(v), y));
  plain(x, tensor([0, 1, 2, 0, 1]));
  expect(plain.explain()).toMatch(/^on onnxruntime/);
  // labels computed in the step, checked in JavaScript: ONNX cannot, the CPU target can
  const computed = compile((v: Tensor) => crossEntropy(layer.forward(v), layer.forward(v).detach().argmax(1)));
  const want = crossEntropy(layer.forward(x), layer.forward(x).detach().argmax(1)).item();
  expect(computed(x).item()).toBeCloseTo(want, 6);
  expect(computed(x).item()).toBeCloseTo(want, 6);
  expect(computed.explain()).toMatch(/^on cpu/);
});
