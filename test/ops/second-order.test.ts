/**
 * Second order: every op's rules are written against the algebra, so a backward pass run on graph tensors
 * (createGraph) is itself differentiable. For each sample of the op database, h(x) = Σ_i <∂<f(x), v>/∂x_i, w_i>
 * (a gradient, projected) is gradchecked in reverse mode (reverse over reverse) and forward mode (forward over
 * reverse).
 */
import { describe, expect, test } from "vitest";
import { engine, Generator, NDArray, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { compositeDb, opdb } from "./opdb.js";
import { forEachBackend } from "../backends.js";

function randomLike(g: Generator, x: Tensor): Tensor {
  return new Tensor(new NDArray(Float64Array.from({ length: x.size }, () => g.uniform() - 0.5), x.shape));
}

forEachBackend(() => {
  describe("gradients of gradients (createGraph), every op and composite", () => {
    for (const [name, info] of [...Object.entries(opdb), ...Object.entries(compositeDb)]) {
      test(name, () => {
        for (const s of info.samples()) {
          const g = new Generator(3);
          const v = randomLike(g, s.f(...s.inputs));
          const ws = s.inputs.map((x) => randomLike(g, x));
          const h = (...xs: Tensor[]) => {
            const grads = engine.gradients([s.f(...xs)], xs, [v], { createGraph: true });
            return grads.map((gi, i) => gi.mul(ws[i]!).sum()).reduce((a, b) => a.add(b));
          };
          const r = gradcheck(h, s.inputs, { eps: info.eps ?? 1e-5, atol: info.atol ?? 1e-5 });
          expect(r.message, `${name}: ${s.name}`).toBe("gradcheck: ok");
        }
      });
    }
  });
});
