/**
 * A subclass of Module may name its fields as it likes: the base class's own helpers are truly private (`#`), so
 * a field called `hidden` (the docs' examples have one) neither breaks the subclass's type nor replaces a helper
 * that the base class calls.
 */
import { expect, test } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { Linear, Module } from "../../packages/gradgraph/src/nn/index.js";
import type { Tensor } from "../../packages/gradgraph/src/tensor/index.js";

class Net extends Module {
  hidden = new Linear(2, 3, { seed: 0 });
  ownState = new Linear(3, 3, { seed: 1 });
  walkState = new Linear(3, 3, { seed: 2 });
  stateEntries = new Linear(3, 1, { seed: 3 });
  undeclared = 1;
  forward(x: Tensor): Tensor {
    return this.stateEntries.forward(this.walkState.forward(this.ownState.forward(this.hidden.forward(x).relu())));
  }
}

test("fields named like the base class's helpers are ordinary children", () => {
  const net = new Net();
  expect([...net.stateDict().keys()]).toEqual(["hidden.weight", "hidden.bias", "ownState.weight", "ownState.bias", "walkState.weight", "walkState.bias", "stateEntries.weight", "stateEntries.bias"]);
  expect(net.parameters()).toHaveLength(8);
  const copy = new Net();
  copy.loadStateDict(net.stateDict());
  expect(copy.hidden.weight.toNested()).toEqual(net.hidden.weight.toNested());
});

test("the base class's errors still come out with such fields", () => {
  class Hiding extends Net {
    lookup = { a: new Linear(1, 1) };
  }
  expect(() => new Hiding().parameters()).toThrow(InputError);
  expect(() => new Hiding().parameters()).toThrow("Hiding: field lookup is a plain object holding modules or tensors");
});
