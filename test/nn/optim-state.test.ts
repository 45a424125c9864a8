/** Optimizer and schedule state: saved, reloaded, and continuing exactly. */
import { describe, expect, test } from "vitest";
import { Adam, AdamW, cosineLR, decodeSafetensors, encodeSafetensors, LRScheduler, MLP, SGD, type Optimizer, type OptimizerStateDict } from "../../packages/gradgraph/src/nn/index.js";
import { randn, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const x = randn([8, 3], { seed: 1, dtype: "float64" });
const loss = (m: MLP) => m.forward(x).pow(2).mean();

/** A copy through bytes, as a file would hold it. */
function roundTrip(sd: OptimizerStateDict): OptimizerStateDict {
  const { tensors } = decodeSafetensors(encodeSafetensors(sd.tensors));
  return { ...JSON.parse(JSON.stringify({ ...sd, tensors: undefined })), tensors };
}

function steps(m: MLP, opt: Optimizer, n: number, sched?: LRScheduler): void {
  for (let i = 0; i < n; i++) {
    opt.zeroGrad();
    loss(m).backward();
    opt.step();
    sched?.step();
  }
}

const bits = (ts: Tensor[]) => ts.map((t) => Array.from(t.toArray()));

describe.each([
  ["SGD momentum", (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 })],
  ["SGD nesterov", (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })],
  ["Adam", (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })],
  ["AdamW", (ps: Tensor[]) => new AdamW(ps, { lr: 0.01 })],
] as const)("%s", (_, make) => {
  test("stop, save, load into a fresh optimizer, continue = never stopped (bit for bit, float64)", () => {
    const ref = new MLP([3, 5, 2], "tanh", { seed: 0, dtype: "float64" });
    const refOpt = make(ref.parameters());
    const refSched = new LRScheduler(refOpt, cosineLR(7));
    steps(ref, refOpt, 7, refSched);

    const a = new MLP([3, 5, 2], "tanh", { seed: 0, dtype: "float64" });
    const aOpt = make(a.parameters());
    const aSched = new LRScheduler(aOpt, cosineLR(7));
    steps(a, aOpt, 3, aSched);
    const saved = { model: decodeSafetensors(encodeSafetensors(a.stateDict())).tensors, opt: roundTrip(aOpt.stateDict()), sched: aSched.stateDict() };

    const b = new MLP([3, 5, 2], "tanh", { seed: 9, dtype: "float64" });
    b.loadStateDict(saved.model);
    const bOpt = make(b.parameters());
    const bSched = new LRScheduler(bOpt, cosineLR(7));
    bOpt.loadStateDict(saved.opt);
    bSched.loadStateDict(saved.sched);
    expect(bOpt.lr).toBe(aOpt.lr);
    steps(b, bOpt, 4, bSched);
    expect(bits(b.parameters())).toEqual(bits(ref.parameters()));
  });

  test("loading a live stateDict() (no file between) copies it: both optimizers then continue alike", () => {
    const a = new MLP([3, 5, 2], "tanh", { seed: 0, dtype: "float64" });
    const aOpt = make(a.parameters());
    steps(a, aOpt, 2);
    const b = new MLP([3, 5, 2], "tanh", { seed: 9, dtype: "float64" });
    b.loadStateDict(a.stateDict());
    const bOpt = make(b.parameters());
    bOpt.loadStateDict(aOpt.stateDict());
    const aState = bits([...aOpt.stateDict().tensors.values()]);
    steps(b, bOpt, 1);
    expect(bits([...aOpt.stateDict().tensors.values()])).toEqual(aState);
    steps(a, aOpt, 1);
    expect(bits(b.parameters())).toEqual(bits(a.parameters()));
  });
});

describe("bad optimizer state", () => {
  test("another optimizer, other hyperparameters, unknown keys, wrong shapes: one error naming each; nothing changes", () => {
    const m = new MLP([3, 5, 2], "tanh", { seed: 0, dtype: "float64" });
    const adam = new Adam(m.parameters(), { lr: 0.01 });
    steps(m, adam, 1);
    const sd = adam.stateDict();
    expect(() => new SGD(m.parameters(), { lr: 0.1 }).loadStateDict(sd)).toThrow("SGD.loadStateDict: the state does not fit: the state is of a Adam optimizer, not SGD");
    const other = new Adam(m.parameters(), { lr: 0.01, betas: [0.8, 0.999] });
    const tensors = new Map(sd.tensors);
    tensors.set("9.exp_avg", randn([2]));
    tensors.set("0.exp_avg", randn([2, 2]));
    tensors.delete("1.exp_avg_sq");
    expect(() => other.loadStateDict({ ...sd, tensors })).toThrow(
      "Adam.loadStateDict: the state does not fit: beta1 is 0.9 in the state, 0.8 here; 0.exp_avg: shape [2,2], parameter 0's is [5,3]; unexpected key 9.exp_avg (expected index.name with an index below 4 and a name among exp_avg, exp_avg_sq); parameter 1 lacks exp_avg_sq",
    );
    expect(other.steps).toBe(0);
  });
});
