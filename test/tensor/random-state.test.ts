/** A generator's state: saved as JSON and restored, it replays the same numbers (normals' spare included). */
import { expect, test } from "vitest";
import { Generator } from "../../packages/gradgraph/src/tensor/index.js";

test("getState/setState replay uniforms and normals exactly, through JSON", () => {
  const g = new Generator(7);
  g.normal(); // leaves a spare normal
  const saved = JSON.parse(JSON.stringify(g.getState())) as ReturnType<Generator["getState"]>;
  const ahead = [g.normal(), g.uniform(), g.normal()];
  const h = new Generator(0);
  h.setState(saved);
  expect([h.normal(), h.uniform(), h.normal()]).toEqual(ahead);
  expect(() => h.setState({ state: -1, spare: null })).toThrow("Generator.setState: expected { state: a 32-bit unsigned integer, spare: a number or null }, got");
});
