/** A generator's state: saved as JSON and restored, it replays the same numbers (normals' spare included). */
import { expect, test } from "vitest";
import { Generator, manualSeed, MAX_SEED, randn } from "../../packages/gradgraph/src/tensor/index.js";
import { Conv2d, DataLoader, MLP, moons } from "../../packages/gradgraph/src/nn/index.js";

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

// The state is 32 bits: a seed past it, or a fraction, NaN or a negative number, used to wrap onto another seed's
// stream without a word (2^32 gave seed 0's numbers, -1 gave 2^32 − 1's, 0.5 gave 0's). Each is refused now.
test("a seed is a whole number from 0 to 2^32 − 1: each gives its own stream, anything else is refused", () => {
  expect(MAX_SEED).toBe(2 ** 32 - 1);
  const first = (seed: number) => new Generator(seed).nextUint32();
  expect(new Set([0, 1, MAX_SEED - 1, MAX_SEED].map(first)).size).toBe(4);
  expect(randn([3], { seed: MAX_SEED }).toArray()).not.toEqual(randn([3], { seed: 0 }).toArray());
  for (const bad of [2 ** 32, -1, 0.5, NaN, Infinity, 1e300, 2 ** 53]) {
    const shown = String(bad);
    expect(() => new Generator(bad), shown).toThrow(`Generator: a seed must be a whole number from 0 to 4294967295 (2^32 − 1), got ${shown}`);
    expect(() => new Generator(0).seed(bad), shown).toThrow(`Generator.seed: a seed must be a whole number`);
    expect(() => manualSeed(bad), shown).toThrow(`manualSeed: a seed must be a whole number`);
    expect(() => randn([3], { seed: bad }), shown).toThrow("a seed must be a whole number from 0 to 4294967295");
  }
  expect(() => new Generator("3" as unknown as number)).toThrow('got "3"');
  // named by what took the seed
  for (const [f, who] of [[() => new MLP([2, 3, 1], "relu", { seed: -1 }), "MLP"], [() => new Conv2d(1, 2, 3, { seed: -1 }), "Conv2d"], [() => moons(10, { seed: -1 }), "moons"], [() => new DataLoader(moons(10), { seed: -1 }), "DataLoader"], [() => randn([2], { seed: -1 }), "random tensor"]] as const) {
    expect(f).toThrow(`${who}: a seed must be a whole number from 0 to 4294967295 (2^32 − 1), got -1`);
  }
});
