/** Conventions at kinks and at NaN, as PyTorch has them, in both engines. */
import { expect, test } from "vitest";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { tensor } from "../../packages/gradgraph/src/tensor/index.js";

test("clamp passes the gradient whole at a bound and blocks it outside (PyTorch)", () => {
  const x = tensor([-2, -1, 0, 1, 2], { dtype: "float64", requiresGrad: true });
  const y = x.clamp(-1, 1);
  expect(Array.from(y.toArray())).toEqual([-1, -1, 0, 1, 1]);
  y.sum().backward();
  expect(Array.from(x.grad!.toArray())).toEqual([0, 1, 1, 1, 0]);
});

test("NaN propagates through relu, max and min, on either side", () => {
  expect(new Value(NaN).relu().data).toBeNaN();
  expect(new Value(NaN).max(1).data).toBeNaN();
  expect(new Value(1).max(NaN).data).toBeNaN();
  expect(new Value(NaN).min(1).data).toBeNaN();
  expect(new Value(1).min(NaN).data).toBeNaN();
  const t = tensor([NaN, -1, 2], { dtype: "float64" });
  expect(Array.from(t.relu().toArray())).toEqual([NaN, 0, 2]);
  expect(Array.from(t.maximum(0).toArray())).toEqual([NaN, 0, 2]);
  expect(Array.from(t.minimum(0).toArray())).toEqual([NaN, -1, 0]);
});
