/**
 * The two sweeps on tensor graphs, with the one choice between raw arrays (the ordinary pass: nothing recorded)
 * and graph tensors (`createGraph`: the pass is itself a differentiable graph), and the engine API on top of
 * them (`engine.gradients`, `engine.tangents`; `Tensor.backward` uses {@link reverse} too).
 */
import { ShapeError } from "../core/errors.js";
import { formatShape, sameShape } from "../ops/shape.js";
import { forwardSweep, reverseSweep, type ReverseOptions } from "../ops/sweep.js";
import { rawAlgebra } from "./backend.js";
import { ones, zerosLike } from "./creation.js";
import { batching, enableGrad, noGrad } from "./grad-mode.js";
import type { NDArray } from "./ndarray.js";
import { graphAlgebra, Tensor } from "./tensor.js";

/** Reverse sweep from `roots` seeded with `seeds`: cotangents as tensors (graph tensors with `graph`). */
export function reverse(roots: readonly Tensor[], seeds: readonly Tensor[], graph: boolean, options: ReverseOptions<Tensor>): Map<Tensor, Tensor> {
  if (graph) return enableGrad(() => reverseSweep<Tensor, Tensor>(graphAlgebra, roots, seeds, (n) => n, options));
  // Inside vmap the values may be batched tensors: the rules run on tensors (through the batching rules), unrecorded.
  if (batching.apply !== null) return noGrad(() => reverseSweep<Tensor, Tensor>(graphAlgebra, roots, seeds, (n) => n, options));
  const cts = reverseSweep<Tensor, NDArray>(rawAlgebra, roots, seeds.map((t) => t.value), (n) => n.value, options);
  return new Map([...cts].map(([n, ct]) => [n, new Tensor(ct)]));
}

/** Forward sweep over the graph ending at `roots` from tangents of some nodes: tangents as tensors. */
export function forward(roots: readonly Tensor[], tangents: ReadonlyMap<Tensor, Tensor>, graph: boolean): Map<Tensor, Tensor> {
  if (graph) return enableGrad(() => forwardSweep<Tensor, Tensor>(graphAlgebra, roots, tangents, (n) => n));
  if (batching.apply !== null) return noGrad(() => forwardSweep<Tensor, Tensor>(graphAlgebra, roots, tangents, (n) => n));
  const seeds = new Map<Tensor, NDArray>([...tangents].map(([x, t]) => [x, t.value]));
  const out = forwardSweep<Tensor, NDArray>(rawAlgebra, roots, seeds, (n) => n.value);
  return new Map([...out].map(([n, t]) => [n, new Tensor(t)]));
}

/** Forward-mode and reverse-mode derivatives of graphs already built (the engine under `backward`). */
export const engine = {
  /**
   * Gradients of `outputs` (seeded with `seeds`, default ones) with respect to `inputs`, without touching
   * `.grad` (like `torch.autograd.grad`). With `createGraph` the results are graph tensors that can be
   * differentiated again. An input that the outputs do not depend on gets zeros.
   */
  gradients(outputs: readonly Tensor[], inputs: readonly Tensor[], seeds?: readonly Tensor[], options: { createGraph?: boolean } = {}): Tensor[] {
    const s = outputs.map((y, i) => {
      const seed = seeds?.[i] ?? ones(y.shape, { dtype: y.dtype });
      if (!sameShape(seed.shape, y.shape)) {
        throw new ShapeError(`gradients: seed of shape ${formatShape(seed.shape)} does not fit output of shape ${formatShape(y.shape)}`);
      }
      return seed;
    });
    const cts = reverse(outputs, s, options.createGraph === true, { wanted: inputs });
    return inputs.map((x) => cts.get(x) ?? zerosLike(x));
  },

  /**
   * Forward mode over a graph already built: the tangents of `outputs` given tangents of `inputs` (same shapes),
   * pushed through each op's jvp rule. With `createGraph`, the tangents are graph tensors.
   */
  tangents(outputs: readonly Tensor[], inputs: readonly Tensor[], tangents: readonly Tensor[], options: { createGraph?: boolean } = {}): Tensor[] {
    inputs.forEach((x, i) => {
      if (!sameShape(x.shape, tangents[i]!.shape)) {
        throw new ShapeError(`tangents: tangent of shape ${formatShape(tangents[i]!.shape)} does not fit input of shape ${formatShape(x.shape)}`);
      }
    });
    const out = forward(outputs, new Map(inputs.map((x, i) => [x, tangents[i]!])), options.createGraph === true);
    return outputs.map((y) => out.get(y) ?? zerosLike(y));
  },
};
