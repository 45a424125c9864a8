/** The training view's pure parts in Node: settings and their URL form, the training session, the plots' data. */
import { describe, expect, it } from "vitest";
import { nn } from "../../packages/gradgraph/src/index.js";
import { cellColor, divergence, downsample, formatLoss, networkDiagram, WEIGHT_RGB, formatNorm, formatPercent, heatPixels, lossChart, niceCeil, stageText, thin, ticks } from "../../web/src/train-plot.js";
import { boundsOf, STAGES, TrainSession } from "../../web/src/train-session.js";
import {
  cliCommand,
  defaultSettings,
  layerSizes,
  parameterCount,
  parseHidden,
  readTrainParams,
  withDefaults,
  writeTrainParams,
  type TrainSettings,
} from "../../web/src/train-settings.js";
import { decodeState, encodeState } from "../../web/src/url.js";

describe("training settings", () => {
  it("defaults to gradgraph train --data moons: 2-16-16-2, relu, Adam, lr 0.01, batch 32, seed 0", () => {
    const s = defaultSettings();
    expect(layerSizes(s)).toEqual([2, 16, 16, 2]);
    expect(parameterCount(layerSizes(s))).toBe(354);
    expect(cliCommand(s)).toBe("gradgraph train --data moons --model 2-16-16-2 --act relu --opt adam --lr 0.01 --batch 32 --seed 0");
    expect(layerSizes({ data: "spirals", hidden: [] })).toEqual([2, 3]);
  });

  it("reads hidden layers written in several ways, and explains a bad one", () => {
    expect(parseHidden("16-16")).toEqual({ hidden: [16, 16] });
    expect(parseHidden(" 8, 4 ")).toEqual({ hidden: [8, 4] });
    expect(parseHidden("8 8  8")).toEqual({ hidden: [8, 8, 8] });
    expect(parseHidden("8x8")).toEqual({ error: expect.stringContaining('"8x8" is not a layer size') });
    expect(parseHidden("")).toEqual({ hidden: [] });
    expect(parseHidden("none")).toEqual({ hidden: [] });
    expect(parseHidden("16-a")).toEqual({ error: expect.stringContaining('"a" is not a layer size') });
    expect(parseHidden("16--16")).toHaveProperty("error");
    expect(parseHidden("0")).toEqual({ error: "a layer has 1 to 128 units (got 0)" });
    expect(parseHidden("500")).toHaveProperty("error");
    expect(parseHidden("2-2-2-2-2")).toEqual({ error: "at most 4 hidden layers here (got 5)" });
  });

  it("puts only the settings that differ from the defaults in the URL, and reads them back", () => {
    const q = new URLSearchParams();
    writeTrainParams(q, defaultSettings());
    expect(q.toString()).toBe("");
    const s: TrainSettings = { data: "spirals", hidden: [32, 32], act: "tanh", opt: "sgd", lr: 0.1, batch: 16, seed: 3, speed: "slow", noise: 0.3, wd: 0.001 };
    writeTrainParams(q, s);
    expect(q.toString()).toBe("data=spirals&layers=32-32&act=tanh&opt=sgd&lr=0.1&batch=16&seed=3&speed=slow&noise=0.3&wd=0.001");
    expect(withDefaults(readTrainParams(q))).toEqual(s);
    // Noise and regularisation reach the command line as --noise and --weight-decay; out of range is ignored.
    expect(cliCommand(s)).toBe("gradgraph train --data spirals --noise 0.3 --weight-decay 0.001 --model 2-32-32-3 --act tanh --opt sgd --lr 0.1 --batch 16 --seed 3");
    expect(readTrainParams(new URLSearchParams("noise=5&wd=-1"))).toEqual({});
    // No hidden layers is a setting of its own (an empty value), not the default.
    const none = new URLSearchParams();
    writeTrainParams(none, { ...defaultSettings(), hidden: [] });
    expect(none.toString()).toBe("layers=");
    expect(readTrainParams(none)).toEqual({ hidden: [] });
  });

  it("ignores invalid training parameters", () => {
    const q = new URLSearchParams("data=mnist&layers=16-x&act=swish&opt=lbfgs&lr=-1&batch=0&seed=1.5&speed=warp");
    expect(readTrainParams(q)).toEqual({});
    expect(readTrainParams(new URLSearchParams("lr=abc&batch=100000&seed=-3"))).toEqual({});
    expect(readTrainParams(new URLSearchParams("lr=3e-4"))).toEqual({ lr: 0.0003 });
  });

  it("round-trips a training link through the page's URL state (the expression left out)", () => {
    const url = encodeState({ expr: null, point: null, view: "train", step: null, wrt: null, code: "py", train: { data: "xor", hidden: [4], act: "sigmoid" } });
    expect(url).toBe("?view=train&data=xor&layers=4&act=sigmoid");
    expect(decodeState(url)).toEqual({ view: "train", train: { data: "xor", hidden: [4], act: "sigmoid" } });
    // The expression views' links are unchanged by the training settings at their defaults.
    expect(encodeState({ expr: "x", point: "x=1", view: "backprop", step: null, wrt: null, code: "py", train: defaultSettings() })).toBe("?e=x&at=x%3D1");
  });
});

describe("training session (the lecture's loop in the worker)", () => {
  it("computes the same minibatch losses as nn.fit (and so gradgraph train), step for step", async () => {
    const s = await TrainSession.create(defaultSettings());
    for (let i = 0; i < 30; i++) s.step(); // two epochs and a bit (13 minibatches each)
    const { train } = await nn.loadDataset({ name: "moons" });
    const model = new nn.MLP([2, 16, 16, 2], "relu", { seed: 0 });
    const history = await nn.fit(model, train, { loss: "cross_entropy", optimizer: new nn.Adam(model.parameters(), { lr: 0.01 }), epochs: 3, batchSize: 32, seed: 0 });
    expect(s.losses).toEqual(history.stepLosses.slice(0, 30));
    expect(s.epoch).toBe(3);
    expect(s.info).toMatchObject({ sizes: [2, 16, 16, 2], parameters: 354, batches: 13, classes: ["upper", "lower"] });
    expect(s.info.train.labels).toHaveLength(400);
    expect(s.info.test.labels).toHaveLength(100);
  });

  it("with noise and L2 regularisation: the same run as --noise and --weight-decay on the command line", async () => {
    const s = await TrainSession.create({ ...defaultSettings(), opt: "sgd", lr: 0.1, noise: 0.3, wd: 0.1 });
    for (let i = 0; i < 15; i++) s.step();
    const { train } = await nn.loadDataset({ name: "moons", noise: 0.3 });
    const model = new nn.MLP([2, 16, 16, 2], "relu", { seed: 0 });
    const history = await nn.fit(model, train, { loss: "cross_entropy", optimizer: new nn.SGD(model.parameters(), { lr: 0.1, weightDecay: 0.1 }), epochs: 2, batchSize: 32, seed: 0 });
    expect(s.losses).toEqual(history.stepLosses.slice(0, 15));
    // And not the run without them.
    const plain = await TrainSession.create({ ...defaultSettings(), opt: "sgd", lr: 0.1 });
    for (let i = 0; i < 15; i++) plain.step();
    expect(plain.losses[0]).not.toBe(s.losses[0]);
  });

  it("walks one minibatch through Sample, Forward, Backprop, Update; the step counts only after Update", async () => {
    const s = await TrainSession.create({ ...defaultSettings(), opt: "sgd", lr: 0.1 });
    const seen: string[] = [];
    for (const stage of STAGES) {
      expect(s.nextStage).toBe(stage);
      const r = s.stage();
      seen.push(r.stage);
      expect(s.steps).toBe(stage === "update" ? 1 : 0);
      expect(r.step).toBe(1);
    }
    expect(seen).toEqual(["sample", "forward", "backprop", "update"]);
    const r = s.last!;
    expect(r.sample!.size).toBe(32);
    expect(r.sample!.counts.reduce((a, b) => a + b)).toBe(32);
    expect(r.sample!.points).toHaveLength(64);
    expect(r.forward!.loss).toBeGreaterThan(0);
    expect(r.forward!.accuracy).toBeGreaterThanOrEqual(0);
    // Plain SGD moves the parameters by exactly lr times the gradient: ‖Δθ‖ = lr·‖∇‖ (float32 arithmetic).
    expect(r.update!.updateNorm).toBeCloseTo(0.1 * r.backprop!.gradNorm, 5);
    expect(r.update!.lr).toBe(0.1);
    expect(s.losses).toEqual([r.forward!.loss]);
    // A whole step after half a one finishes it first.
    s.stage();
    s.stage();
    expect(s.nextStage).toBe("backprop");
    const done = s.step();
    expect(done).toMatchObject({ step: 2, stage: "update" });
    expect(s.steps).toBe(2);
  });

  it("learns: moons reaches 97% test accuracy within 200 steps; the loss falls", async () => {
    const s = await TrainSession.create(defaultSettings());
    const before = s.evaluate();
    for (let i = 0; i < 200; i++) s.step();
    const after = s.evaluate();
    expect(after.train.loss).toBeLessThan(before.train.loss / 4);
    expect(after.test.accuracy).toBeGreaterThanOrEqual(0.97);
  });

  it("gives class probabilities on the heat map's grid, and a square around the points", async () => {
    const s = await TrainSession.create({ ...defaultSettings(), data: "spirals", hidden: [8] });
    const g = s.boundary(10);
    expect(g).toHaveLength(10 * 10 * 3);
    for (let i = 0; i < 100; i++) expect(g[3 * i]! + g[3 * i + 1]! + g[3 * i + 2]!).toBeCloseTo(1, 5);
    const b = s.info.bounds;
    expect(b.xmax - b.xmin).toBeCloseTo(b.ymax - b.ymin, 9);
    const pts = s.info.train.xy;
    for (let i = 0; i < pts.length; i += 2) {
      expect(pts[i]!).toBeGreaterThan(b.xmin);
      expect(pts[i + 1]!).toBeLessThan(b.ymax);
    }
    expect(boundsOf({ xy: new Float32Array(), labels: new Int32Array() })).toEqual({ xmin: -1, xmax: 1, ymin: -1, ymax: 1 });
  });

  it("trains every dataset, activation and optimizer without an error", async () => {
    for (const data of ["moons", "circles", "spirals", "xor"] as const) {
      for (const [act, opt] of [["tanh", "momentum"], ["sigmoid", "nesterov"], ["gelu", "adamw"], ["leaky_relu", "sgd"], ["identity", "adam"]] as const) {
        const s = await TrainSession.create({ ...defaultSettings(), data, act, opt, hidden: [4], batch: 64 });
        const r = s.step();
        expect(Number.isFinite(r.update!.updateNorm), `${data} ${act} ${opt}`).toBe(true);
      }
    }
  });
});

describe("training plots", () => {
  it("colours a cell by its class probabilities, white where the classes are equally likely", () => {
    expect(cellColor([0.5, 0.5], 0, 2)).toEqual([255, 255, 255]);
    const sure = cellColor([1, 0], 0, 2);
    const unsure = cellColor([0.7, 0.3], 0, 2);
    // Class 0 is blue: more blue than red, and deeper when surer.
    expect(sure[2]).toBeGreaterThan(sure[0]);
    expect(sure[0]).toBeLessThan(unsure[0]);
    expect(cellColor([1 / 3, 1 / 3, 1 / 3], 0, 3)).toEqual([255, 255, 255]);
    const px = heatPixels([1, 0, 0, 1], 1, 2);
    expect(Array.from(px)).toEqual([...sure, 255]);
  });

  it("draws long runs from bucket means and lays out nice ticks", () => {
    expect(downsample([3, 2, 1], 10)).toEqual([[1, 3], [2, 2], [3, 1]]);
    expect(downsample([1, 3, 5, 7], 2)).toEqual([[2, 2], [4, 6]]);
    expect(thin([1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
    expect(niceCeil(0.7)).toBe(1);
    expect(niceCeil(1.2)).toBe(2);
    expect(niceCeil(2.2)).toBe(2.5);
    expect(niceCeil(130)).toBe(200);
    expect(ticks(1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ticks(10, 4, true)).toEqual([0, 5, 10]);
    expect(ticks(200, 4, true)).toEqual([0, 50, 100, 150, 200]);
    expect(ticks(4, 4, true)).toEqual([0, 1, 2, 3, 4]);
    const chart = lossChart([0.9, 0.7, 0.5], [{ step: 0, trainLoss: 0.8, testLoss: 0.85, trainAccuracy: 0.5, testAccuracy: 0.4 }], 420, 220);
    expect(chart.yMax).toBe(1);
    expect(chart.xMax).toBe(10);
    expect(chart.minibatch.startsWith("M")).toBe(true);
    expect(chart.minibatch.match(/L/g)).toHaveLength(2);
    expect(chart.train).toMatch(/^M44\.0,/); // step 0 sits on the y axis
    const big = lossChart(Array.from({ length: 100_000 }, (_, i) => 1 / (1 + i)), [], 420, 220);
    expect(big.minibatch.split("L").length).toBeLessThanOrEqual(182);
  });

  it("draws the loss on a log scale on request: powers of ten around every loss, a spike and a creep both readable", () => {
    const losses = [0.8, 1280, 0.5, 0.01, 0.001];
    const chart = lossChart(losses, [], 420, 220, true);
    // Seven decades, 0.001 to 10,000: a tick every second one.
    expect(chart.yMax).toBe(10000);
    expect(chart.yTicks.map((t) => t.value)).toEqual([0.001, 0.1, 10, 1000]);
    expect(chart.yTicks[0]!.y).toBe(chart.plot.bottom);
    // 0.001 is on the bottom line, 0.01 a seventh of the way up: on a linear axis both would sit on 0.
    const ys = chart.minibatch.split(/[ML]/).filter(Boolean).map((p) => Number(p.split(",")[1]));
    expect(ys[4]).toBeCloseTo(chart.plot.bottom, 5);
    expect(ys[3]).toBeCloseTo(chart.plot.bottom - (chart.plot.bottom - chart.plot.top) / 7, 5);
    expect(lossChart(losses, [], 420, 220).yTicks.map((t) => t.value)).not.toContain(0.001);
  });

  it("warns when a run goes wrong, as gradgraph train does: NaN, a jump, a loss that does not fall", () => {
    expect(divergence([0.8, 0.7, Number.NaN], [], 3)).toBe("The loss became NaN (or infinite) at step 3: the run has diverged. Try a smaller learning rate (now 3).");
    expect(divergence([0.813, 1280, 178, 0.6], [], 3)).toMatch(/^The loss jumped to 1280 at step 2 \(from 0\.813\): learning rate 3 makes the updates overshoot/);
    const flat = (step: number, loss: number) => ({ step, trainLoss: loss, testLoss: loss, trainAccuracy: 0.5, testAccuracy: 0.5 });
    expect(divergence([0.8, 0.7, 0.7], [flat(0, 0.693), flat(250, 0.69)], 3)).toMatch(/^After 250 steps the training loss has not fallen \(0\.693 → 0\.69\)/);
    expect(divergence([0.8, 0.7, 0.3], [flat(0, 0.693), flat(250, 0.2)], 0.01)).toBeNull();
    expect(divergence([0.8, 0.7], [flat(0, 0.693), flat(100, 0.69)], 0.01)).toBeNull(); // too early to tell
    expect(divergence([], [], 0.01)).toBeNull();
  });

  it("formats the figures and the stages as the page shows them", () => {
    expect(formatLoss(0.693147)).toBe("0.6931");
    expect(formatLoss(12.5)).toBe("12.5");
    expect(formatLoss(0.000012345)).toBe("1.23e-5");
    // A positive loss never reads "0", however small.
    for (const tiny of [1e-9, 1e-30, 1e-300, 5e-324]) expect(Number(formatLoss(tiny))).toBeGreaterThan(0);
    expect(formatPercent(0.975)).toBe("97.5%");
    expect(formatNorm(0.0581234)).toBe("0.0581");
    expect(formatNorm(0.00001)).toBe("1.00e-5");
    const info = { classes: ["upper", "lower"], parameters: 354 } as Parameters<typeof stageText>[2];
    const r = {
      step: 7, epoch: 1, batch: 7, batches: 13, stage: "forward" as const,
      sample: { size: 32, counts: [15, 17], points: [] },
      forward: { loss: 0.25, accuracy: 0.875 },
    };
    expect(stageText("sample", r, info)).toBe("32 points (15 upper, 17 lower); minibatch 7 of 13, epoch 1");
    expect(stageText("forward", r, info)).toBe("loss 0.25 · 87.5% of the minibatch right");
    expect(stageText("backprop", r, info)).toBeNull();
    expect(stageText("backprop", { ...r, backprop: { gradNorm: 1.5 } }, info)).toBe("‖∇loss‖ = 1.5 over 354 parameters");
    expect(stageText("update", { ...r, update: { updateNorm: 0.01, lr: 0.01, paramNorm: 10.1 } }, info)).toBe("‖Δθ‖ = 0.01 (lr 0.01; ‖θ‖ = 10.1)");
  });
});

describe("the network diagram", () => {
  it("draws every weight between two columns of units, coloured by sign, stronger ones darker and thicker", () => {
    // 2-3-2: W1 [3,2], W2 [2,3].
    const w1 = Float32Array.from([1, -2, 0.5, 0, -4, 2]);
    const w2 = Float32Array.from([0.1, 0.2, -0.3, 0.4, 0.5, -0.6]);
    const d = networkDiagram([2, 3, 2], [w1, w2], 420, 220);
    expect(d.units).toHaveLength(7);
    expect(new Set(d.units.map((u) => u.x)).size).toBe(3);
    expect(d.edges).toHaveLength(12);
    expect(d.hidden).toBe(0);
    // W1[2][0] = -4 is the largest: orange, fully opaque, thickest; W1[1][1] = 0 is the faintest.
    const strongest = d.edges[4]!;
    expect(strongest).toMatchObject({ color: WEIGHT_RGB.negative, opacity: 1, width: 3 });
    expect(d.edges[0]!.color).toBe(WEIGHT_RGB.positive);
    expect(Math.min(...d.edges.map((e) => e.opacity))).toBe(d.edges[3]!.opacity);
    // Past the cap only the largest are drawn.
    const capped = networkDiagram([2, 3, 2], [w1, w2], 420, 220, 5);
    expect(capped.edges).toHaveLength(5);
    expect(capped.hidden).toBe(7);
    expect(capped.edges[0]).toMatchObject({ color: WEIGHT_RGB.negative, opacity: 1 });
  });
});
