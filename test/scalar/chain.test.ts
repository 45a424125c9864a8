import { expect, test } from "vitest";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { forwardMode } from "../../packages/gradgraph/src/autodiff/modes.js";

test("backward through a 1,000,000-node chain: iterative, no stack overflow", () => {
  const x = new Value(0.5, { label: "x" });
  let v = x;
  // y_{k+1} = y_k * 1 + 0: a million mul nodes, each with local derivative 1 on the chain.
  for (let k = 0; k < 1_000_000; k++) v = v.mul(1);
  expect(v.backward()).toBe(1_000_000);
  expect(x.grad).toBe(1);
  // Forward mode walks the same chain without recursion too.
  expect(forwardMode(v, [x]).grads).toEqual([1]);
}, 120_000);

test("a chain whose local derivatives multiply up: d/dx of sin(sin(...sin(x)))", () => {
  const x = new Value(0.3);
  let v = x;
  let expected = 1;
  let value = 0.3;
  for (let k = 0; k < 1000; k++) {
    expected *= Math.cos(value);
    value = Math.sin(value);
    v = v.sin();
  }
  v.backward();
  expect(v.data).toBe(value);
  expect(x.grad).toBeCloseTo(expected, 14);
});
