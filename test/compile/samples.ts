/**
 * Helpers for running the op database's samples compiled (test/compile, and test/onnx on the ONNX Runtime target):
 * a sample's function as forward values and gradients, and fresh inputs for a replay; a small MLP's training step.
 */
import { engine, ones, tensor, Tensor, noGrad } from "../../packages/gradgraph/src/tensor/index.js";
import { Linear, ReLU, Sequential, SGD, mseLoss } from "../../packages/gradgraph/src/nn/index.js";

/** A copy of a float64 tensor with fresh values of the same shape (so a replay cannot pass by reusing the trace's). */
export function perturbed(x: Tensor, k: number): Tensor {
  const a = x.toArray().map((v, i) => v + 0.01 * Math.sin(i + k));
  return new Tensor(x.value.constructor === Float64Array ? tensor([...a], { dtype: "float64" }).reshape(x.shape).value : x.value, { requiresGrad: x.requiresGrad });
}

/** Forward values and gradients (seeded with a fixed cotangent) of a sample's function. */
export function valueAndGrads(f: (...xs: Tensor[]) => Tensor) {
  return (...xs: Tensor[]) => {
    const ins = xs.map((x) => new Tensor(x.value, { requiresGrad: true }));
    const y = f(...ins);
    const seed = noGrad(() => ones(y.shape, { dtype: y.dtype }).mul(0.5));
    return [y.detach(), ...engine.gradients([y], ins, [seed])];
  };
}

/** The ordinary training step: zero the gradients, the loss of `forward(x)` against `y`, backward, update; returns the loss. */
export function trainingStepOf(forward: (x: Tensor) => Tensor, opt: { zeroGrad(): void; step(): void }, lossOf: (out: Tensor, y: Tensor) => Tensor) {
  return (x: Tensor, y: Tensor): Tensor => {
    opt.zeroGrad();
    const loss = lossOf(forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
}

/** An MLP inputs-hidden-1 (seeded) and its SGD training step on the mean squared error, returning the loss. */
export function mlpStep(inputs: number, hidden: number, seed: number) {
  const model = new Sequential(new Linear(inputs, hidden, { seed }), new ReLU(), new Linear(hidden, 1, { seed: seed + 1 }));
  const opt = new SGD(model.parameters(), { lr: 0.05 });
  return { model, step: trainingStepOf((x) => model.forward(x), opt, mseLoss) };
}
