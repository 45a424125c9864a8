/**
 * A trained MNIST model round trip: a 784-128-10 MLP trained on MNIST digits with its steps compiled on ONNX
 * Runtime, then exported, gives on onnxruntime-node the logits gradgraph gives (and so the same predictions).
 */
import * as ort from "onnxruntime-node";
import { expect, test } from "vitest";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { Adam, crossEntropy, MLP } from "../../packages/gradgraph/src/nn/index.js";
import { loadMnist } from "../../packages/gradgraph/src/node/index.js";
import type { Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { exportOnnx, onnxRuntime } from "gradgraph-onnx";

test("an MLP trained on 600 digits (compiled on ONNX Runtime), exported: ONNX Runtime's logits are gradgraph's", async () => {
  const { train, test: held } = await loadMnist({ trainLimit: 600, testLimit: 200, normalize: true });
  const model = new MLP([784, 128, 10], "relu", { seed: 0 });
  const optimizer = new Adam(model.parameters(), { lr: 2e-3 });
  const step = compile((x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  }, { target: await onnxRuntime({ threads: 1 }) });
  const losses: number[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let i = 0; i < 600; i += 60) losses.push(step(train.x.slice([i, i + 60]), train.y.slice([i, i + 60])).item());
  }
  expect(step.explain()).toMatch(/^on onnxruntime/);
  expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2);

  const bytes = exportOnnx(model, held.x);
  const session = await ort.InferenceSession.create(bytes);
  const out = (await session.run({ input_0: new ort.Tensor("float32", held.x.toArray().slice(), [...held.x.shape]) })).output_0!;
  const ours = model.forward(held.x).toArray();
  const theirs = out.data as Float32Array;
  for (let i = 0; i < ours.length; i++) if (!(Math.abs(theirs[i]! - ours[i]!) <= 1e-4 * (1 + Math.abs(ours[i]!)))) expect.fail(`logit ${i}: ${theirs[i]} vs ${ours[i]}`);
  const argmax = (a: ArrayLike<number>, r: number) => { let k = 0; for (let j = 1; j < 10; j++) if (a[r * 10 + j]! > a[r * 10 + k]!) k = j; return k; };
  const labels = held.y.toArray();
  let agree = 0, right = 0;
  for (let r = 0; r < 200; r++) {
    if (argmax(theirs, r) === argmax(ours, r)) agree++;
    if (argmax(theirs, r) === labels[r]) right++;
  }
  expect(agree).toBe(200);
  expect(right / 200).toBeGreaterThan(0.7);
});
