/**
 * Initialisation and Dropout draw from the global generator that `manualSeed` sets, as in PyTorch: each unseeded
 * layer or Dropout gets a stream of its own; an explicit seed or generator still wins.
 */
import { describe, expect, test } from "vitest";
import { Dropout, Linear, MLP, moons, Sequential, ReLU, SGD, fit, crossEntropy } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, manualSeed } from "../../packages/gradgraph/src/tensor/random.js";
import { ones } from "../../packages/gradgraph/src/tensor/index.js";

const values = (t: { toArray(): ArrayLike<number> }) => Array.from(t.toArray());

describe("the global generator", () => {
  test("two unseeded layers have different weights; manualSeed reproduces them", () => {
    manualSeed(123);
    const a = new Linear(4, 4), b = new Linear(4, 4);
    expect(values(a.weight)).not.toEqual(values(b.weight));
    manualSeed(123);
    const a2 = new Linear(4, 4);
    expect(values(a2.weight)).toEqual(values(a.weight));
    manualSeed(7);
    expect(values(new Linear(4, 4).weight)).not.toEqual(values(a.weight));
  });

  test("an explicit seed or generator wins over the global generator", () => {
    manualSeed(1);
    const a = new Linear(3, 2, { seed: 5 });
    manualSeed(2);
    const b = new Linear(3, 2, { seed: 5 });
    expect(values(a.weight)).toEqual(values(b.weight));
    expect(values(new MLP([2, 3, 1], "tanh", { generator: new Generator(9) }).parameters()[0]!))
      .toEqual(values(new MLP([2, 3, 1], "tanh", { seed: 9 }).parameters()[0]!));
  });

  test("Dropout masks differ between instances and between steps, and manualSeed reproduces them", () => {
    const x = ones([64]);
    manualSeed(0);
    const d1 = new Dropout(0.5), d2 = new Dropout(0.5);
    const m1 = values(d1.forward(x)), m1b = values(d1.forward(x)), m2 = values(d2.forward(x));
    expect(m1).not.toEqual(m2);
    expect(m1).not.toEqual(m1b);
    manualSeed(0);
    expect(values(new Dropout(0.5).forward(x))).toEqual(m1);
  });

  test("the same manualSeed reproduces a whole run (model, Dropout, training) bit for bit", async () => {
    const run = async () => {
      manualSeed(42);
      const model = new Sequential(new Linear(2, 8), new ReLU(), new Dropout(0.2), new Linear(8, 2));
      const data = moons(64, { seed: 0 });
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      const h = await fit(model, data, { optimizer: opt, loss: crossEntropy, epochs: 2, batchSize: 16 });
      return [h.stepLosses, model.parameters().map(values)];
    };
    const first = await run();
    expect(await run()).toEqual(first);
  });
});
