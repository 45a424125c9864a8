/**
 * Export → import → export: a gradgraph model written as ONNX, read back by importOnnx, and written again gives a
 * model with the same outputs (on ONNX Runtime and in gradgraph) and the same parameters by name.
 */
import * as ort from "onnxruntime-node";
import { expect, test } from "vitest";
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tanh } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, randn, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { decodeModel, exportOnnx, importOnnx } from "gradgraph-onnx";

ort.env.logLevel = "error";

const run = async (bytes: Uint8Array, x: Tensor) =>
  (await (await ort.InferenceSession.create(bytes)).run({ input_0: new ort.Tensor("float32", x.toArray().slice(), [...x.shape]) })).output_0!.data as Float32Array;

function close(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)))) expect.fail(`[${i}]: ${a[i]} vs ${b[i]}`);
}

test.each([
  ["an MLP", () => new Sequential(new Linear(6, 16, { generator: new Generator(1) }), new Tanh(), new Linear(16, 3, { generator: new Generator(2) })), [4, 6]],
  ["a CNN", () => new Sequential(new Conv2d(1, 4, 3, { padding: 1, generator: new Generator(3) }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 5, { generator: new Generator(4) })), [2, 1, 8, 8]],
] as const)("%s: export, import, export again", async (_name, make, shape) => {
  const model = make();
  const x = randn([...shape], { generator: new Generator(9) });
  const first = exportOnnx(model, x);
  const imported = importOnnx(first);
  close(imported.forward(x).toArray(), model.forward(x).toArray());
  const second = exportOnnx(imported, x);
  close(await run(second, x), await run(first, x));
  const weights = (bytes: Uint8Array) => decodeModel(bytes).graph!.initializer!.filter((t) => !t.name!.startsWith("const")).map((t) => t.name).sort();
  expect(weights(second)).toEqual(weights(first));
});
