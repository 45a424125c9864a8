/**
 * Helpers for running the op database's samples compiled (test/compile, and test/onnx on the ONNX Runtime target):
 * a sample's function as forward values and gradients, and fresh inputs for a replay.
 */
import { engine, ones, tensor, Tensor, noGrad } from "../../packages/gradgraph/src/tensor/index.js";

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
