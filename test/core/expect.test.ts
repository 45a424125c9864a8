/**
 * Every public API that takes a function checks it when it is called (core/expect.ts's expectFunction): given 42
 * or a string it throws an InputError naming the API, the parameter and what came, before doing anything, not
 * JavaScript's `f is not a function` later at the first use (or never, where the function is not reached). The
 * functional transforms' own check is in test/functional/transforms.test.ts.
 */
import { describe, expect, test } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { describe as describeValue, expectFunction } from "../../packages/gradgraph/src/core/expect.js";
import {
  compile,
  compileAsync,
  customFunction,
  customJvp,
  customVjp,
  detectAnomaly,
  enableGrad,
  gradcheck,
  mapTree,
  noGrad,
  registerTarget,
  stepProgram,
  tensor,
  traceProgram,
  withBackend,
  type Tensor,
} from "../../packages/gradgraph/src/index.js";
import { Dataset, evaluate, fit, Linear, linearWarmup, LRScheduler, regression1d, SGD } from "../../packages/gradgraph/src/nn/index.js";

const x = () => tensor([1, 2], { dtype: "float64", requiresGrad: true });
const double = (t: Tensor) => t.mul(2);
const NOT_FUNCTIONS: [unknown, string][] = [
  [42, "a number (42)"],
  ["f", "a string"],
];

/** Runs `f` (awaiting what it returns) and expects an InputError with exactly this message. */
async function refuses(f: () => unknown, message: string, what = message): Promise<void> {
  let error: unknown = null;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  expect(error, what).toBeInstanceOf(InputError);
  expect((error as Error).message, what).toBe(message);
}

test("describe names what came; expectFunction names the API, and the parameter when one is given", () => {
  expect([42, "f", undefined, null, [1, 2], {}, tensor(1), () => 1].map(describeValue)).toEqual([
    "a number (42)", "a string", "undefined", "null", "an array of 2", "an object", "a Tensor", "a function",
  ]);
  expect(() => expectFunction(42, "api")).toThrow(InputError);
  expect(() => expectFunction(42, "api")).toThrow("api: expected a function, got a number (42)");
  expect(() => expectFunction("f", "api", "onStep")).toThrow("api: onStep must be a function, got a string");
  expect(() => expectFunction(() => 1, "api")).not.toThrow();
});

describe("an API given something other than a function throws an InputError when it is called", () => {
  // API: [the call with the bad value, the message's start]
  const calls: Record<string, [(bad: never) => unknown, string]> = {
    gradcheck: [(b) => gradcheck(b, [x()]), "gradcheck: expected a function"],
    customFunction: [(b) => customFunction(b, { vjp: (g) => [g] }), "customFunction: expected a function"],
    "customFunction's vjp rule": [(b) => customFunction(double, { vjp: b }), "customFunction: vjp must be a function"],
    "customFunction's jvp rule": [(b) => customFunction(double, { jvp: b }), "customFunction: jvp must be a function"],
    customVjp: [(b) => customVjp(b, (g) => [g]), "customVjp: expected a function"],
    "customVjp's rule": [(b) => customVjp(double, b), "customVjp: vjp must be a function"],
    "customVjp's options.jvp": [(b) => customVjp(double, (g) => [g], { jvp: b }), "customVjp: jvp must be a function"],
    customJvp: [(b) => customJvp(b, (dxs) => dxs[0]!), "customJvp: expected a function"],
    "customJvp's rule": [(b) => customJvp(double, b), "customJvp: jvp must be a function"],
    detectAnomaly: [(b) => detectAnomaly(b), "detectAnomaly: expected a function"],
    traceProgram: [(b) => traceProgram(b, x()), "traceProgram: expected a function"],
    compile: [(b) => compile(b), "compile: expected a function"],
    "compile's guard": [(b) => compile(double, { guard: b }), "compile: guard must be a function"],
    compileAsync: [(b) => compileAsync(b), "compileAsync: expected a function"],
    "compileAsync's guard": [(b) => compileAsync(double, { guard: b }), "compileAsync: guard must be a function"],
    stepProgram: [(b) => stepProgram(b, x()), "stepProgram: expected a function"],
    mapTree: [(b) => mapTree({ w: x() }, b), "mapTree: expected a function"],
    noGrad: [(b) => noGrad(b), "noGrad: expected a function"],
    enableGrad: [(b) => enableGrad(b), "enableGrad: expected a function"],
    withBackend: [(b) => withBackend("js", b), "withBackend: expected a function"],
    LRScheduler: [(b) => new LRScheduler(new SGD([x()], { lr: 0.1 }), b), "LRScheduler: schedule must be a function"],
    linearWarmup: [(b) => linearWarmup(2, b), "linearWarmup: after must be a function"],
    regression1d: [(b) => regression1d(10, { fn: b }), "regression1d: fn must be a function"],
    "evaluate's metric": [(b) => evaluate(new Linear(2, 1), data(), { metrics: [{ name: "m", fn: b }] }), 'evaluate: fn of metric "m" must be a function'],
  };
  for (const [name, [call, message]] of Object.entries(calls)) {
    test(name, () => {
      // A required function left out is said so too.
      const bad = message.endsWith("expected a function") ? [...NOT_FUNCTIONS, [undefined, "undefined"] as const] : NOT_FUNCTIONS;
      for (const [b, got] of bad) {
        let error: unknown = null;
        try {
          call(b as never); // synchronously, when the API is called
        } catch (e) {
          error = e;
        }
        expect(error, `${name}(${String(b)})`).toBeInstanceOf(InputError);
        expect((error as Error).message).toBe(`${message}, got ${got}`);
      }
    });
  }

  test("customFunction's rules must be an object with a rule; a target must have its methods", async () => {
    await refuses(() => customFunction(double, 42 as never), "customFunction: rules must be an object { name?, vjp?, jvp? }, got a number (42)");
    await refuses(() => customFunction(double, null as never), "customFunction: rules must be an object { name?, vjp?, jvp? }, got null");
    await refuses(() => customVjp(double, undefined as never), "customVjp: give a vjp rule, a jvp rule, or both");
    for (const [bad, got] of [...NOT_FUNCTIONS, [null, "null"] as const]) {
      await refuses(() => registerTarget(bad as never), `registerTarget: target must be an object with name, unsupported and prepare (a Target), got ${got}`);
      await refuses(() => compile(double, { target: bad as never }), `compile: target must be an object with name, unsupported and prepare (a Target), got ${got}`);
    }
    await refuses(() => registerTarget({ name: "t", unsupported: () => null } as never), "registerTarget: target.prepare must be a function, got undefined");
    // Nothing was registered: compile still runs on the built-in target.
    expect(compile(double)(tensor([1, 2])).toNested()).toEqual([2, 4]);
  });
});

const data = () => new Dataset(tensor([[1, 2], [3, 4]]), tensor([[1], [2]]));

describe("fit refuses a callback or a loss that is not a function before the first batch", () => {
  const options = (m: Linear) => ({ loss: "mse" as const, optimizer: new SGD(m.parameters(), { lr: 0.1 }), epochs: 2 });
  for (const k of ["onStep", "onEpoch", "augment", "schedule"] as const) {
    test(k, async () => {
      for (const [bad, got] of NOT_FUNCTIONS.slice(0, 2)) {
        const m = new Linear(2, 1, { seed: 0 });
        const before = m.weight.toNested();
        await refuses(() => fit(m, data(), { ...options(m), [k]: bad as never }), `fit: ${k} must be a function, got ${got}`);
        expect(m.weight.toNested()).toEqual(before); // nothing trained
      }
    });
  }

  test("a loss that is neither a function nor a name, a metric without a function", async () => {
    const m = new Linear(2, 1, { seed: 0 });
    await refuses(() => fit(m, data(), { ...options(m), loss: 42 as never }), "fit: loss must be a function or a name (mse, l1, bce, cross_entropy), got a number (42)");
    await refuses(() => fit(m, data(), { ...options(m), metrics: [{ name: "m", fn: "f" as never }] }), 'fit: fn of metric "m" must be a function, got a string');
    await refuses(() => fit(m, data(), { ...options(m), metrics: [42 as never] }), "fit: a metric is a name (accuracy) or { name, fn }, got a number (42)");
    await refuses(() => evaluate(m, data(), { loss: {} as never }), "evaluate: loss must be a function or a name (mse, l1, bce, cross_entropy), got an object");
  });
});
