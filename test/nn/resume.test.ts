/** Saving any module and resuming a training run exactly (float64, dropout and shuffling included). */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Adam, cosineLR, Dropout, fit, Linear, MLP, Module, moons, ReLU, Sequential, type History } from "../../packages/gradgraph/src/nn/index.js";
import { loadModuleState, loadTrainingState, saveModel, saveModule, saveTrainingState } from "gradgraph/node";
import { manualSeed, zeros, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "gradgraph-resume-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A user's module: Linear, ReLU, Dropout (its own generator), a buffer. */
class Net extends Module {
  body: Sequential;
  declare seen: Tensor;
  constructor() {
    super();
    this.body = new Sequential(new Linear(2, 16, { dtype: "float64" }), new ReLU(), new Dropout(0.3), new Linear(16, 2, { dtype: "float64" }));
    this.registerBuffer("seen", zeros([1], { dtype: "float64" }));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.seen = this.seen.add(x.shape[0]!);
    return this.body.forward(x);
  }
}

const data = moons(200, { seed: 0, dtype: "float64" });
const EPOCHS = 4;

async function run(net: Net, opt: Adam, epochs: number, extra: { signal?: AbortSignal; resume?: History } = {}): Promise<History> {
  return fit(net, data, { loss: "cross_entropy", optimizer: opt, epochs, batchSize: 32, seed: 3, schedule: cosineLR(EPOCHS * 7), yieldMs: 0, ...extra });
}

/** A fresh model and optimizer, as a new process would build them. */
function fresh(seed: number): { net: Net; opt: Adam } {
  manualSeed(seed);
  const net = new Net();
  return { net, opt: new Adam(net.parameters(), { lr: 0.01 }) };
}

const bits = (m: Module) => [...m.stateDict()].map(([n, t]) => [n, Array.from(t.toArray())]);

describe("resume", () => {
  test.each([
    ["after 2 epochs", (h: { signal?: AbortSignal }) => h, 2],
    ["stopped by a signal in the middle of epoch 2", (h: { signal?: AbortSignal }) => h, 9],
  ] as const)("stop %s, save, load into a new model and optimizer, continue = an uninterrupted run, bit for bit", async (_, __, stopAt) => {
    const ref = fresh(1);
    const refHistory = await run(ref.net, ref.opt, EPOCHS);

    const a = fresh(1);
    let history: History;
    if (stopAt === 2) history = await run(a.net, a.opt, 2);
    else {
      const ctl = new AbortController();
      let steps = 0;
      history = await fit(a.net, data, {
        loss: "cross_entropy", optimizer: a.opt, epochs: EPOCHS, batchSize: 32, seed: 3, schedule: cosineLR(EPOCHS * 7), yieldMs: 0,
        signal: ctl.signal, onStep: () => ++steps === stopAt && ctl.abort(),
      });
      expect(history.stopped).toBe(true);
      expect(history.state).toMatchObject({ epoch: 2, batch: 2 });
    }
    const dir = tmp();
    await saveModule(dir, a.net);
    await saveTrainingState(dir, { model: a.net, optimizer: a.opt, history });

    const b = fresh(99); // other initial weights and dropout streams: all must come from the files
    await loadModuleState(dir, b.net);
    const previous = await loadTrainingState(dir, { model: b.net, optimizer: b.opt });
    const rest = await run(b.net, b.opt, EPOCHS, { resume: previous });

    expect(bits(b.net)).toEqual(bits(ref.net));
    expect(rest.stepLosses).toEqual(refHistory.stepLosses);
    expect(rest.epochs.map((e) => [e.epoch, e.step, e.train, e.lr, e.complete])).toEqual(refHistory.epochs.map((e) => [e.epoch, e.step, e.train, e.lr, e.complete]));
  });

  test("a history without state, or one of another run, is refused", async () => {
    const a = fresh(1);
    await expect(run(a.net, a.opt, 1, { resume: { epochs: [], stepLosses: [], stopped: false, seconds: 0 } })).rejects.toThrow("fit: cannot resume: the history has no state");
    const h = await run(a.net, a.opt, 1);
    await expect(fit(a.net, data, { loss: "cross_entropy", optimizer: a.opt, epochs: 2, batchSize: 32, resume: h })).rejects.toThrow(
      "fit: cannot resume: the run had a schedule, this one has none",
    );
  });
});

describe("save and load any module", () => {
  test("a config for another class, missing keys and wrong shapes are clear errors", async () => {
    const dir = tmp();
    await saveModule(dir, new Net(), { model: { hidden: 16 } });
    await expect(loadModuleState(dir, new MLP([2, 16, 2]))).rejects.toThrow('config.json: the saved model is a "Net", not a MLP; build a Net to load it into');
    const mlpDir = tmp();
    await saveModel(mlpDir, new MLP([2, 3, 2]));
    class MLP2 extends MLP {}
    await expect(loadModuleState(mlpDir, new MLP2([2, 3, 2]))).rejects.toThrow('the saved model is a "MLP", not a MLP2');
    const wider = new MLP([2, 4, 2]);
    await expect(loadModuleState(mlpDir, wider)).rejects.toThrow("model.safetensors: the weights do not fit the model in config.json (loadStateDict: the state does not fit MLP: 0.weight: shape [3,2], the model's is [4,2]");
    await expect(loadModuleState(tmp(), new Net())).rejects.toThrow("no model there (config.json not found)");
  });

  test("optimizer.safetensors of another save than training-state.json (a save stopped between the two) is refused", async () => {
    const a = fresh(1);
    const h1 = await run(a.net, a.opt, 1);
    const dir = tmp(), later = tmp();
    await saveTrainingState(dir, { model: a.net, optimizer: a.opt, history: h1 });
    const h2 = await run(a.net, a.opt, 2, { resume: h1 });
    await saveTrainingState(later, { model: a.net, optimizer: a.opt, history: h2 });
    // The later save got as far as its first file: new moment buffers beside the old step count.
    copyFileSync(join(later, "optimizer.safetensors"), join(dir, "optimizer.safetensors"));
    const b = fresh(2);
    await expect(loadTrainingState(dir, { model: b.net, optimizer: b.opt })).rejects.toThrow(
      "optimizer.safetensors is not the one saved with training-state.json (was a save interrupted between the two files?)",
    );
    expect(b.opt.steps).toBe(0);
    copyFileSync(join(later, "training-state.json"), join(dir, "training-state.json"));
    await loadTrainingState(dir, { model: b.net, optimizer: b.opt });
    expect(b.opt.steps).toBe(a.opt.steps);
  });

  test("a folder that is not a run cannot be resumed", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "training-state.json"), JSON.stringify({ format: "other" }));
    const a = fresh(1);
    await expect(loadTrainingState(dir, { model: a.net, optimizer: a.opt })).rejects.toThrow('training-state.json: not a gradgraph training state (expected format "gradgraph-training-state", version 1)');
    await expect(loadTrainingState(tmp(), { model: a.net, optimizer: a.opt })).rejects.toThrow("no training state to resume from (training-state.json not found)");
  });
});
