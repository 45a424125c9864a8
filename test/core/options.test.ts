/**
 * Every public API that takes an options object checks its keys when it is called (core/expect.ts's
 * expectOptions): an unknown key — PyTorch's snake_case `weight_decay`, JAX's `argnum`, a misspelt `momentun` — is
 * an InputError naming the API, the key, the likely key and the accepted ones, never an option silently ignored
 * (`grad(f, { argnum: 1 })` used to differentiate argument 0). Options that are not an object are refused too. A
 * loss's unknown reduction and a dataset's unknown task are InputErrors listing the accepted values.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { expectOneOf, expectOptions, optionHint, optionKeys } from "../../packages/gradgraph/src/core/expect.js";
import {
  compile,
  customVjp,
  gradcheck,
  grad,
  hessian,
  jacrev,
  randn,
  tensor,
  valueAndGrad,
  zeros,
  arange,
  type Tensor,
} from "../../packages/gradgraph/src/index.js";
import * as nn from "../../packages/gradgraph/src/nn/index.js";
import { loadMnist, loadSafetensors, saveSafetensors, saveTrainingState } from "gradgraph/node";

/** Runs `f` (awaiting what it returns) and expects an InputError whose message contains each of `parts`. */
async function refuses(f: () => unknown, ...parts: string[]): Promise<string> {
  let error: unknown = null;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  expect(error, parts[0]).toBeInstanceOf(InputError);
  const message = (error as Error).message;
  for (const p of parts) expect(message).toContain(p);
  return message;
}

describe("expectOptions", () => {
  const keys = ["lr", "momentum", "weightDecay", "batchSize", "requiresGrad", "argnums", "strict", "bias", "padding"];

  test("known keys and undefined pass; an unknown key names the API, the key and the accepted keys", () => {
    expect(() => expectOptions("SGD", { lr: 0.1, momentum: undefined }, keys)).not.toThrow();
    expect(() => expectOptions("SGD", undefined, keys)).not.toThrow();
    expect(() => expectOptions("SGD", {}, [])).not.toThrow();
    expect(() => expectOptions("SGD", { nope: 1 }, ["lr", "momentum"])).toThrow(new InputError('SGD: unknown option "nope"; expected lr, momentum'));
    expect(() => expectOptions("f", { a: 1, b: 2 }, ["c"])).toThrow(new InputError('f: unknown options "a", "b"; expected c'));
    expect(() => expectOptions("f", { a: 1 }, [])).toThrow(new InputError('f: unknown option "a"; it takes none'));
  });

  test("snake_case and other libraries' names hint at ours", () => {
    expect(optionHint("requires_grad", keys)).toBe(" (did you mean requiresGrad?)");
    expect(optionHint("batch_size", keys)).toBe(" (did you mean batchSize?)");
    expect(optionHint("weight_decay", keys)).toBe(" (did you mean weightDecay?)");
    expect(optionHint("argnum", keys)).toBe(" (did you mean argnums?)");
    expect(() => expectOptions("Adam", { weight_decay: 0.1 }, ["lr", "weightDecay"])).toThrow(
      new InputError('Adam: unknown option "weight_decay" (did you mean weightDecay?); expected lr, weightDecay'),
    );
  });

  test("near misses (edit distance ≤ 2) and shortenings hint at the key", () => {
    expect(optionHint("momentun", keys)).toBe(" (did you mean momentum?)");
    expect(optionHint("bais", keys)).toBe(" (did you mean bias?)");
    expect(optionHint("stric", keys)).toBe(" (did you mean strict?)");
    expect(optionHint("pad", keys)).toBe(" (did you mean padding?)");
    expect(optionHint("ceilMode", keys)).toBe("");
  });

  test("options that are not an object are refused, saying what came", () => {
    for (const [bad, got] of [
      [null, "null"],
      [[1, 2], "an array of 2"],
      [3, "a number (3)"],
      ["mean", "a string"],
      [() => 0, "a function"],
      [tensor([1]), "a Tensor"],
    ] as const) {
      expect(() => expectOptions("Linear", bad, ["bias", "seed"])).toThrow(new InputError(`Linear: options must be an object with bias, seed, got ${got}`));
    }
  });

  test("optionKeys lists the keys of a type (tsc checks the literal against it)", () => {
    expect(optionKeys<{ a?: number; b: string }>({ a: true, b: true })).toEqual(["a", "b"]);
    // @ts-expect-error a key the type lacks
    optionKeys<{ a?: number }>({ a: true, c: true });
    // @ts-expect-error a key of the type left out
    optionKeys<{ a?: number; b?: number }>({ a: true });
  });

  test("expectOneOf lists the accepted values and hints at a near one", () => {
    expect(() => expectOneOf("mseLoss", "reduction", "sum", ["mean", "sum", "none"])).not.toThrow();
    expect(() => expectOneOf("mseLoss", "reduction", "Mean", ["mean", "sum", "none"])).toThrow(
      new InputError('mseLoss: reduction must be "mean", "sum" or "none", got "Mean" (did you mean "mean"?)'),
    );
    expect(() => expectOneOf("f", "task", 3, ["a", "b"])).toThrow(new InputError('f: task must be "a" or "b", got a number (3)'));
  });
});

describe("every API family checks its options", () => {
  const f = (a: Tensor, b: Tensor) => a.mul(b).sum();

  test("autodiff transforms: grad's argnum (JAX's spelling) no longer differentiates argument 0", async () => {
    await refuses(() => grad(f, { argnum: 1 } as never), 'grad: unknown option "argnum" (did you mean argnums?); expected argnums, hasAux');
    await refuses(() => valueAndGrad(f, { has_aux: true } as never), 'valueAndGrad: unknown option "has_aux" (did you mean hasAux?)');
    await refuses(() => jacrev(f, 1 as never), "jacrev: options must be an object with argnums, got a number (1)");
    await refuses(() => hessian((x: Tensor) => x.sum(), { argnum: 0 } as never), "hessian: unknown option");
    await refuses(() => customVjp((x) => x, (g) => [g], { nmae: "id" } as never), 'customVjp: unknown option "nmae" (did you mean name?)');
    await refuses(() => gradcheck((x) => x.sum(), [randn([2], { dtype: "float64" })], { tol: 1e-3 } as never), 'gradcheck: unknown option "tol"');
    await refuses(() => compile((x: Tensor) => x, { stric: true } as never), 'compile: unknown option "stric" (did you mean strict?)');
    expect(grad(f, { argnums: 1 })(tensor([1, 2]), tensor([3, 4])).toNested()).toEqual([1, 2]);
  });

  test("tensor creation and reductions", async () => {
    await refuses(() => tensor([1], { requires_grad: true } as never), 'tensor: unknown option "requires_grad" (did you mean requiresGrad?); expected dtype, requiresGrad, label');
    await refuses(() => zeros([2], { dtpye: "float64" } as never), 'full: unknown option "dtpye" (did you mean dtype?)');
    await refuses(() => arange(0, 3, 1, { dtype: "float64", grad: true } as never), 'arange: unknown option "grad"');
    await refuses(() => randn([2], { seeed: 1 } as never), 'randn: unknown option "seeed" (did you mean seed?)');
    await refuses(() => tensor([[1, 2]]).var({ ddof: 1 } as never), 'var: unknown option "ddof"');
    const x = tensor([1, 2], { requiresGrad: true });
    await refuses(() => x.sum().backward({ create_graph: true } as never), 'backward: unknown option "create_graph" (did you mean createGraph?)');
  });

  test("nn layers", async () => {
    await refuses(() => new nn.Linear(2, 2, { bais: false } as never), 'Linear: unknown option "bais" (did you mean bias?)');
    await refuses(() => new nn.Linear(2, 2, 3 as never), "Linear: options must be an object");
    await refuses(() => new nn.Conv2d(1, 2, 3, { pad: 1 } as never), 'Conv2d: unknown option "pad" (did you mean padding?)');
    await refuses(() => new nn.MaxPool2d(2, { ceilMode: true } as never), 'MaxPool2d: unknown option "ceilMode"; expected stride, padding, dilation');
    await refuses(() => new nn.BatchNorm1d(3, { track_running_stats: false } as never), 'BatchNorm1d: unknown option "track_running_stats" (did you mean trackRunningStats?)');
    await refuses(() => new nn.LSTM(2, 3, { num_layers: 2 } as never), 'LSTM: unknown option "num_layers" (did you mean numLayers?)');
    await refuses(() => new nn.MLP([2, 3], "relu", { bias: false } as never), 'MLP: unknown option "bias"');
    await refuses(() => new nn.Embedding(3, 2, { padding_idx: 0 } as never), 'Embedding: unknown option "padding_idx" (did you mean paddingIdx?)');
    await refuses(() => nn.kaimingUniform([2, 2], { mode: "fan_out" } as never), 'kaimingUniform: unknown option "mode"');
    const mha = new nn.MultiheadAttention(4, 2, { seed: 0 });
    await refuses(() => mha.forward(zeros([1, 2, 4]), undefined, undefined, { is_causal: true } as never), 'MultiheadAttention: unknown option "is_causal"');
  });

  test("losses: unknown options and reductions", async () => {
    const logits = tensor([[2, 0, 0], [0, 2, 0]]), y = tensor([0, 2]);
    await refuses(() => nn.crossEntropy(logits, y, { label_smoothing: 0.1 } as never), 'crossEntropy: unknown option "label_smoothing" (did you mean labelSmoothing?); expected reduction, weight, ignoreIndex, labelSmoothing');
    await refuses(() => nn.crossEntropy(logits, y, "avg" as never), 'crossEntropy: reduction must be "mean", "sum" or "none", got "avg"');
    await refuses(() => nn.crossEntropy(logits, y, { reduction: "avg" } as never), 'crossEntropy: reduction must be "mean", "sum" or "none", got "avg"');
    await refuses(() => nn.mseLoss(tensor([1, 2]), tensor([0, 0]), "Mean" as never), 'mseLoss: reduction must be "mean", "sum" or "none", got "Mean" (did you mean "mean"?)');
    await refuses(() => nn.l1Loss(tensor([1, 2]), tensor([0, 0]), "avg" as never), "l1Loss: reduction must be");
    await refuses(() => nn.bceWithLogits(tensor([1, 2]), tensor([0, 1]), "avg" as never), "bceWithLogits: reduction must be");
    expect(nn.mseLoss(tensor([1, 2]), tensor([0, 0]), "none").toNested()).toEqual([1, 4]);
  });

  test("optimizers and schedules", async () => {
    const p = new nn.Linear(2, 2, { seed: 0 }).parameters();
    await refuses(() => new nn.SGD(p, { lr: 0.1, momentun: 0.9 } as never), 'SGD: unknown option "momentun" (did you mean momentum?); expected lr, momentum, dampening, nesterov, weightDecay');
    await refuses(() => new nn.Adam(p, { lr: 0.1, weight_decay: 0.1 } as never), 'Adam: unknown option "weight_decay" (did you mean weightDecay?)');
    await refuses(() => new nn.AdamW(p, { betas: [0.9, 0.99], amsgrad: true } as never), 'AdamW: unknown option "amsgrad"');
    // LRScheduler takes a schedule function, no options: a wrong schedule is refused (expectFunction).
    await refuses(() => new nn.LRScheduler(new nn.SGD(p), { gamma: 0.1 } as never), "LRScheduler: schedule must be a function");
  });

  test("data: DataLoader, trainTestSplit, Dataset's info and task, toy sets", async () => {
    const ds = nn.moons(10, { seed: 0 });
    await refuses(() => new nn.DataLoader(ds, { batch_size: 3 } as never), 'DataLoader: unknown option "batch_size" (did you mean batchSize?)');
    await refuses(() => nn.trainTestSplit(ds, { test_size: 2 } as never), 'trainTestSplit: unknown option "test_size" (did you mean testSize?)');
    await refuses(() => new nn.Dataset(tensor([[1]]), tensor([0]), { task: "classify" as never }), 'Dataset: task must be "classification" or "regression", got "classify"');
    await refuses(() => new nn.Dataset(tensor([[1]]), tensor([0]), { clases: ["a"] } as never), 'Dataset: unknown info key "clases" (did you mean classes?)');
    await refuses(() => nn.moons(10, { random_state: 0 } as never), 'moons: unknown option "random_state"');
    expect(new nn.Dataset(tensor([[1]]), tensor([0]), { task: undefined }).info.task).toBe("classification");
  });

  test("fit and evaluate", async () => {
    const m = new nn.MLP([2, 4, 2], "relu", { seed: 0 });
    const data = nn.moons(16, { seed: 0 });
    const optimizer = new nn.SGD(m.parameters(), { lr: 0.1 });
    await refuses(() => nn.fit(m, data, { loss: "cross_entropy", optimizer, batch_size: 8 } as never), 'fit: unknown option "batch_size" (did you mean batchSize?)');
    await refuses(() => nn.fit(m, data, { loss: "cross_entropy", optimizer, on_epoch: () => {} } as never), 'fit: unknown option "on_epoch" (did you mean onEpoch?)');
    await refuses(() => nn.fit(m, data, undefined as never), "fit: options must be an object with loss, optimizer");
    await refuses(() => nn.evaluate(m, data, { metric: ["accuracy"] } as never), 'evaluate: unknown option "metric" (did you mean metrics?)');
  });

  test("state dicts and safetensors", async () => {
    const m = new nn.MLP([2, 3, 1], "relu", { seed: 0 });
    await refuses(() => m.loadStateDict(m.stateDict(), { stric: false } as never), 'loadStateDict: unknown option "stric" (did you mean strict?); expected strict');
    await refuses(() => m.loadParameters(m.stateDict(), { strict: false, x: 1 } as never), 'loadParameters: unknown option "x"');
    await refuses(() => nn.encodeSafetensors([["w", tensor([1])]], {}, { dtyp: "F16" } as never), 'encodeSafetensors: unknown option "dtyp" (did you mean dtype?)');
    expect(m.loadStateDict(m.stateDict(), { strict: false }).missingKeys).toEqual([]);
  });

  test("gradgraph/node: save and load files, training state, MNIST", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-options-"));
    const path = join(dir, "w.safetensors");
    await refuses(() => saveSafetensors(path, [["w", tensor([1])]], {}, { d_type: "F16" } as never), 'saveSafetensors: unknown option "d_type" (did you mean dtype?)');
    await saveSafetensors(path, [["w", tensor([1])]]);
    await refuses(() => loadSafetensors(path, { max_bytes: 10 } as never), 'loadSafetensors: unknown option "max_bytes" (did you mean maxBytes?)');
    const m = new nn.Linear(1, 1, { seed: 0 });
    const run = { model: m, optimizer: new nn.SGD(m.parameters()), history: { epochs: [], stepLosses: [], stopped: false, seconds: 0 }, generator: {} };
    await refuses(() => saveTrainingState(dir, run as never), 'saveTrainingState: unknown run key "generator" (did you mean generators?)');
    await refuses(() => loadMnist({ train_limit: 10 } as never), 'loadMnist: unknown option "train_limit" (did you mean trainLimit?)');
  });
});
