/**
 * Second order for every op of the op database, the other half: test/ops/second-order.test.ts gradchecks the
 * gradient (reverse mode inside, createGraph) in reverse and forward mode — reverse-over-reverse and
 * forward-over-reverse. Here the inside is forward mode through the functional `jvp` (tangents recorded as a
 * graph): h(x) = <J(x)·u, v> is gradchecked in reverse and forward mode — reverse-over-forward and
 * forward-over-forward. Together every op passes second-order checks with both modes at both levels (JAX's
 * check_grads(order=2), PyTorch's gradgradcheck), in float64.
 */
import { describe, expect, test } from "vitest";
import { jvp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { Generator, NDArray, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { compositeDb, opdb } from "../ops/opdb.js";

function randomLike(g: Generator, x: Tensor): Tensor {
  return new Tensor(new NDArray(Float64Array.from({ length: x.size }, () => g.uniform() - 0.5), x.shape));
}

describe("gradients of forward-mode tangents, every op and composite", () => {
  for (const [name, info] of [...Object.entries(opdb), ...Object.entries(compositeDb)]) {
    test(name, () => {
      for (const s of info.samples()) {
        const g = new Generator(5);
        const v = randomLike(g, s.f(...s.inputs));
        const us = s.inputs.map((x) => randomLike(g, x));
        const h = (...xs: Tensor[]) => {
          const [, ty] = jvp((...a: Tensor[]) => s.f(...a), xs, us);
          return ty.mul(v).sum();
        };
        const r = gradcheck(h, s.inputs, { eps: info.eps ?? 1e-5, atol: info.atol ?? 1e-5 });
        expect(r.message, `${name}: ${s.name}`).toBe("gradcheck: ok");
      }
    });
  }
});
