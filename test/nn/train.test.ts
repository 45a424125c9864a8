/** The training loop: seeded convergence, the scalar and tensor engines step for step, evaluate, stopping. */
import { describe, expect, test } from "vitest";
import { Adam, crossEntropy, DataLoader, evaluate, fit, MLP, moons, mseLoss, predict, scalar, SGD, spirals, xor } from "../../packages/gradgraph/src/nn/index.js";
import { loadMnist } from "gradgraph/node";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";

describe("seeded convergence", () => {
  test("moons: a 2-16-16-2 MLP reaches ≥ 99% training accuracy", async () => {
    const train = moons(200, { noise: 0.1, seed: 0 });
    const model = new MLP([2, 16, 16, 2], "relu", { seed: 0 });
    const history = await fit(model, train, {
      loss: "cross_entropy",
      optimizer: new Adam(model.parameters(), { lr: 0.02 }),
      epochs: 60,
      batchSize: 20,
      seed: 0,
      metrics: ["accuracy"],
    });
    const final = evaluate(model, train, { loss: "cross_entropy", metrics: ["accuracy"] });
    expect(final.accuracy).toBeGreaterThanOrEqual(0.99);
    expect(history.epochs).toHaveLength(60);
    expect(history.stepLosses).toHaveLength(600);
    expect(history.epochs[59]!.train.loss).toBeLessThan(history.epochs[0]!.train.loss! / 10);
    // The same seed, the same run.
    const again = new MLP([2, 16, 16, 2], "relu", { seed: 0 });
    const h2 = await fit(again, train, { loss: "cross_entropy", optimizer: new Adam(again.parameters(), { lr: 0.02 }), epochs: 2, batchSize: 20, seed: 0 });
    expect(h2.stepLosses).toEqual(history.stepLosses.slice(0, 20));
  });

  test("xor is solved: the four points of the truth table, by a 2-4-1 tanh MLP with binary cross-entropy", async () => {
    const data = xor(4, { noise: 0, dtype: "float64" });
    const model = new MLP([2, 4, 1], "tanh", { seed: 1, dtype: "float64" });
    await fit(model, data, { loss: "bce", optimizer: new Adam(model.parameters(), { lr: 0.1 }), epochs: 300, batchSize: 4, metrics: ["accuracy"] });
    const p = Array.from(predict(model, data.x).sigmoid().toArray());
    expect(p.map((v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    expect(Math.max(...p.map((v, i) => Math.abs(v - [0, 1, 1, 0][i]!)))).toBeLessThan(0.1);
    expect(evaluate(model, data, { metrics: ["accuracy"] }).accuracy).toBe(1);
  });

  test("spirals (3 classes) are learned by a wider MLP", async () => {
    const train = spirals(150, { seed: 0 });
    const model = new MLP([2, 32, 32, 3], "relu", { seed: 0 });
    await fit(model, train, { loss: "cross_entropy", optimizer: new Adam(model.parameters(), { lr: 0.02 }), epochs: 100, batchSize: 30 });
    expect(evaluate(model, train, { metrics: ["accuracy"] }).accuracy).toBeGreaterThanOrEqual(0.95);
  });
});

describe("the scalar MLP and the tensor MLP", () => {
  test("same weights, same data: the same losses step for step (float64, 1e-9), MSE with tanh", () => {
    const data = moons(12, { seed: 3, dtype: "float64" });
    const xs = data.x.toNested() as number[][];
    const targets = (data.y.toNested() as number[]).map((v) => [2 * v - 1]);
    const tensorNet = new MLP([2, 5, 4, 1], "tanh", { seed: 7, dtype: "float64", init: "xavier-normal" });
    const scalarNet = new scalar.MLP([2, 5, 4, 1], "tanh").copyFrom(tensorNet);
    const tOpt = new SGD(tensorNet.parameters(), { lr: 0.1 }), sOpt = new scalar.SGD(scalarNet.parameters(), { lr: 0.1 });
    const t = data.y.mul(2).sub(1).reshape(-1, 1);
    for (let step = 0; step < 25; step++) {
      const lt = mseLoss(tensorNet.forward(data.x), t);
      tOpt.zeroGrad();
      lt.backward();
      tOpt.step();
      const ls = scalar.mseLoss(scalarNet.forward(xs), targets);
      sOpt.zeroGrad();
      ls.backward();
      sOpt.step();
      expect(Math.abs(lt.item() - ls.data)).toBeLessThan(1e-9);
    }
    // And the weights they end with.
    const W = tensorNet.parameters()[0]!.toArray();
    scalarNet.layers[0]!.weight.forEach((row, j) => row.forEach((w, i) => expect(Math.abs(w.data - W[j * 2 + i]!)).toBeLessThan(1e-9)));
  });

  test("cross-entropy with ReLU on minibatches, too", () => {
    const data = spirals(24, { seed: 1, dtype: "float64" });
    const tensorNet = new MLP([2, 6, 3], "relu", { seed: 2, dtype: "float64" });
    const scalarNet = new scalar.MLP([2, 6, 3], "relu").copyFrom(tensorNet);
    const tOpt = new SGD(tensorNet.parameters(), { lr: 0.2 }), sOpt = new scalar.SGD(scalarNet.parameters(), { lr: 0.2 });
    const loader = new DataLoader(data, { batchSize: 8, shuffle: true, seed: 4 });
    for (let epoch = 0; epoch < 4; epoch++) {
      for (const { x, y } of loader) {
        const lt = crossEntropy(tensorNet.forward(x), y);
        tOpt.zeroGrad();
        lt.backward();
        tOpt.step();
        const ls = scalar.crossEntropy(scalarNet.forward(x.toNested() as number[][]), y.toNested() as number[]);
        sOpt.zeroGrad();
        ls.backward();
        sOpt.step();
        expect(Math.abs(lt.item() - ls.data)).toBeLessThan(1e-9);
      }
    }
  });

  test("the scalar MLP names its parameters as the tensor MLP does, element by element", () => {
    const net = new scalar.MLP([2, 3, 1], "relu");
    expect(net.namedParameters().map(([n]) => n).slice(0, 3)).toEqual(["0.weight[0,0]", "0.weight[0,1]", "0.weight[1,0]"]);
    expect(net.parameters()).toHaveLength(9 + 4);
    expect(() => net.copyFrom(new MLP([2, 4, 1]))).toThrow("copyFrom: sizes 2-4-1 differ from 2-3-1");
  });
});

describe("fit and evaluate", () => {
  test("validation each epoch, onStep and onEpoch, a schedule, clipping", async () => {
    const data = moons(100, { seed: 0 });
    const model = new MLP([2, 8, 2], "relu", { seed: 0 });
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const steps: number[] = [], lrs: number[] = [];
    let epochsSeen = 0;
    const h = await fit(model, data, {
      loss: "cross_entropy", optimizer: opt, epochs: 3, batchSize: 25, metrics: ["accuracy"], validation: data,
      schedule: (t) => 1 / (1 + t), clipNorm: 1,
      onStep: (s) => (steps.push(s.step), lrs.push(s.lr)),
      onEpoch: () => epochsSeen++,
    });
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(0.1 / (1 + i), 12));
    expect(epochsSeen).toBe(3);
    expect(Object.keys(h.epochs[0]!.validation!)).toEqual(["loss", "accuracy"]);
    expect(h.epochs.every((e) => e.complete)).toBe(true);
  });

  test("an aborted signal stops after the current batch", async () => {
    const data = moons(100, { seed: 0 });
    const model = new MLP([2, 8, 2], "relu", { seed: 0 });
    const controller = new AbortController();
    const h = await fit(model, data, {
      loss: "cross_entropy", optimizer: new Adam(model.parameters()), epochs: 50, batchSize: 10,
      signal: controller.signal,
      onStep: (s) => s.step === 13 && controller.abort(),
    });
    expect(h.stopped).toBe(true);
    expect(h.stepLosses).toHaveLength(13);
    expect(h.epochs).toHaveLength(2);
    expect(h.epochs[1]!.complete).toBe(false);
  });

  test("a signal aborted before fit starts trains nothing: not one batch, and the history a mid-run stop gives", async () => {
    const data = moons(100, { seed: 0 });
    const options = { loss: "cross_entropy", epochs: 50, batchSize: 10, metrics: ["accuracy"], validation: data } as const;
    const weights = (m: MLP) => m.parameters().map((p) => Array.from(p.toArray()));
    const model = new MLP([2, 8, 2], "relu", { seed: 0 });
    const opt = new Adam(model.parameters());
    const before = weights(model);
    let calls = 0;
    const h = await fit(model, data, { ...options, optimizer: opt, signal: AbortSignal.abort(), onStep: () => calls++, onEpoch: () => calls++ });
    expect(weights(model)).toEqual(before);
    expect([opt.steps, calls]).toEqual([0, 0]);
    expect(model.training).toBe(true);
    expect(h).toMatchObject({ epochs: [], stepLosses: [], stopped: true, state: { epoch: 1, batch: 0, step: 0, samples: 0, seen: 0 } });

    // Stopped mid-run (after step 13, in epoch 2), then resumed with a signal already aborted: nothing more is
    // trained, and the history comes back as the stopped run left it, so it resumes (or is saved) the same way.
    const controller = new AbortController();
    const stopped = await fit(model, data, { ...options, optimizer: opt, signal: controller.signal, onStep: (s) => s.step === 13 && controller.abort() });
    expect(Object.keys(h).sort()).toEqual(Object.keys(stopped).sort());
    const at = weights(model);
    const again = await fit(model, data, { ...options, optimizer: opt, signal: controller.signal, resume: stopped, onStep: () => calls++ });
    expect([weights(model), opt.steps, calls]).toEqual([at, 13, 0]);
    expect(again).toEqual({ ...stopped, seconds: again.seconds });
    expect(again.epochs.map((e) => [e.epoch, e.complete])).toEqual([[1, true], [2, false]]);
  });

  test("a signal aborted before fit starts, with no epoch left to train: training has ended, not stopped", async () => {
    const data = moons(40, { seed: 0 });
    const options = { loss: "cross_entropy", batchSize: 10, validation: data } as const;
    const model = new MLP([2, 4, 2], "relu", { seed: 0 });
    const opt = new Adam(model.parameters());
    // epochs: 0 asks for nothing: the same history as without a signal.
    const none = await fit(model, data, { ...options, optimizer: opt, epochs: 0, signal: AbortSignal.abort() });
    expect(none).toMatchObject({ epochs: [], stepLosses: [], stopped: false, state: { epoch: 1, batch: 0, step: 0 } });
    // A finished run resumed with its own number of epochs: nothing left, so it comes back finished (stopped: false).
    const done = await fit(model, data, { ...options, optimizer: opt, epochs: 2 });
    let calls = 0;
    const again = await fit(model, data, { ...options, optimizer: opt, epochs: 2, resume: done, signal: AbortSignal.abort(), onStep: () => calls++ });
    expect([again.stopped, calls, opt.steps]).toEqual([false, 0, 8]);
    expect(again).toEqual({ ...done, seconds: again.seconds });
    // A run that stopped at its very last batch was complete too: resumed aborted, it is finished.
    const controller = new AbortController();
    const m2 = new MLP([2, 4, 2], "relu", { seed: 0 }), opt2 = new Adam(m2.parameters());
    const last = await fit(m2, data, { ...options, optimizer: opt2, epochs: 1, signal: controller.signal, onStep: (s) => s.batch === 4 && controller.abort() });
    expect([last.stopped, last.state!.epoch]).toEqual([true, 2]);
    expect((await fit(m2, data, { ...options, optimizer: opt2, epochs: 1, resume: last, signal: controller.signal })).stopped).toBe(false);
  });

  test("evaluate restores the mode and records no graph", () => {
    const model = new MLP([2, 4, 2], "relu").train();
    const data = moons(10);
    evaluate(model, data, { loss: "cross_entropy" });
    expect(model.training).toBe(true);
    expect(predict(model, data.x).requiresGrad).toBe(false);
    expect(() => evaluate(model, data, { metrics: ["f1"] })).toThrow("metric f1: expected one of accuracy");
  });

  test("evaluate and predict restore each module's own mode (a submodule left in eval stays in eval)", () => {
    const model = new MLP([2, 4, 2], "relu").train();
    model.layers[1]!.eval(); // e.g. a frozen BatchNorm while fine-tuning
    const data = moons(10);
    evaluate(model, data, { loss: "cross_entropy" });
    expect(model.modules().map((m) => m.training)).toEqual([true, true, false, true]);
    predict(model, data.x);
    expect(model.modules().map((m) => m.training)).toEqual([true, true, false, true]);
  });

  test("fit without an optimizer object: an InputError saying what to pass", async () => {
    const model = new MLP([2, 4, 2], "relu");
    const data = moons(10);
    // loss is a name, the optimizer is not: a string (or none) is said so, not "opt.zeroGrad is not a function"
    await expect(fit(model, data, { loss: "cross_entropy", optimizer: "adam" as never, epochs: 1 })).rejects.toThrow(
      'fit: optimizer must be an optimizer made for the model\'s parameters, e.g. new nn.Adam(model.parameters(), { lr: 0.01 }); got the string "adam"',
    );
    await expect(fit(model, data, { loss: "cross_entropy", epochs: 1 } as never)).rejects.toThrow("fit: optimizer must be an optimizer made for the model's parameters, e.g. new nn.Adam(model.parameters(), { lr: 0.01 }); got none");
  });

  // It ran every epoch with nothing trained, recorded them complete with a NaN loss, and said nothing.
  test("data that gives no batch is an InputError (dropLast with a batch beyond the data, an empty set)", async () => {
    const model = new MLP([2, 4, 2], "relu", { seed: 0 });
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    await expect(fit(model, moons(10), { loss: "cross_entropy", optimizer, batchSize: 16, dropLast: true })).rejects.toThrow(
      "fit: the data gives no batch to train on (10 samples, batches of 16, the last partial one dropped)",
    );
    await expect(fit(model, new DataLoader(moons(10), { batchSize: 16, dropLast: true }), { loss: "cross_entropy", optimizer })).rejects.toThrow(InputError);
    expect((await fit(model, moons(10), { loss: "cross_entropy", optimizer, batchSize: 16, dropLast: true, epochs: 0 })).epochs).toEqual([]);
  });
});

describe("MNIST smoke test", () => {
  test("a 784-128-10 MLP on 300 digits for one epoch: the loss goes down", async () => {
    const { train, test } = await loadMnist({ trainLimit: 300, testLimit: 200, normalize: true });
    const model = new MLP([784, 128, 10], "relu", { seed: 0 });
    const before = evaluate(model, test, { loss: "cross_entropy" }).loss!;
    const h = await fit(model, train, { loss: "cross_entropy", optimizer: new Adam(model.parameters(), { lr: 2e-3 }), epochs: 1, batchSize: 30 });
    const after = evaluate(model, test, { loss: "cross_entropy", metrics: ["accuracy"] });
    const l = h.stepLosses;
    expect(l[l.length - 1]).toBeLessThan(l[0]! / 2);
    expect(after.loss).toBeLessThan(before / 2);
    expect(after.accuracy).toBeGreaterThan(0.6);
  });
});

describe("fit refuses an optimizer that would train nothing of the model", () => {
  const data = moons(32, { seed: 0 });
  const options = { loss: "cross_entropy" as const, epochs: 2, batchSize: 16 };

  test("one made for another model's parameters (it 'trained' all epochs, the weights never changed)", async () => {
    const model = new MLP([2, 4, 2], "relu", { seed: 0 });
    const other = new MLP([2, 4, 2], "relu", { seed: 1 });
    const before = model.parameters().map((p) => p.toNested());
    await expect(fit(model, data, { ...options, optimizer: new Adam(other.parameters(), { lr: 0.1 }) })).rejects.toThrow(InputError);
    await expect(fit(model, data, { ...options, optimizer: new Adam(other.parameters(), { lr: 0.1 }) })).rejects.toThrow(
      "fit: 4 of the optimizer's 4 parameters are not the model's (it has 4), so fit would not train it as asked; make it for this model, e.g. new nn.Adam(model.parameters(), { lr: 0.01 })",
    );
    // One stray parameter among the model's is counted too.
    await expect(fit(model, data, { ...options, optimizer: new SGD([...model.parameters(), other.parameters()[0]!], { lr: 0.1 }) })).rejects.toThrow(
      "fit: 1 of the optimizer's 5 parameters is not the model's",
    );
    await expect(fit(model, data, { ...options, optimizer: { params: [], zeroGrad() {}, step() {} } as never })).rejects.toThrow("fit: the optimizer has no parameters, so it would train nothing");
    expect(model.parameters().map((p) => p.toNested())).toEqual(before); // nothing trained
  });

  test("an optimizer over part of the model (a sub-module, the unfrozen layers) is fine and trains that part", async () => {
    const model = new MLP([2, 4, 2], "relu", { seed: 0 });
    const [first, last] = [model.layers[0]!, model.layers[2]!];
    const firstBefore = first.parameters().map((p) => p.toNested());
    const lastBefore = last.parameters().map((p) => p.toNested());
    await fit(model, data, { ...options, optimizer: new SGD(last.parameters(), { lr: 0.1 }) });
    expect(first.parameters().map((p) => p.toNested())).toEqual(firstBefore);
    expect(last.parameters().map((p) => p.toNested())).not.toEqual(lastBefore);
    // Frozen parameters (requiresGrad false) left out of the optimizer, or in it: both accepted.
    for (const p of first.parameters()) p.requiresGrad = false;
    await fit(model, data, { ...options, optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
    expect(first.parameters().map((p) => p.toNested())).toEqual(firstBefore);
  });
});
