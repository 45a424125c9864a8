/** The expression language compiled onto the tensor engine (compileTensor) and its function table. */
import { describe, expect, test } from "vitest";
import { SourceError } from "../../src/core/errors.js";
import { compileTensor, parseProgram, tensorFunctions, usesTensorFeatures } from "../../src/lang/index.js";

const parse = (s: string) => parseProgram(s, { functions: tensorFunctions });

describe("compileTensor", () => {
  test("the lecture's df(X, W, y, z) as an expression: float64 inputs, labels, spans, gradients", () => {
    const p = parse("T(X, W, y, z) = (max(X @ W, 0) - y)^2 + z");
    const g = compileTensor(p, { X: [[1, 2], [3, -4]], W: [[1, -1], [0.5, 2]], y: [1, 2], z: [0, 1] });
    expect(g.names).toEqual(["X", "W", "y", "z"]);
    expect(g.inputs.map((x) => [x.label, x.dtype, x.requiresGrad])).toEqual([
      ["X", "float64", true], ["W", "float64", true], ["y", "float64", true], ["z", "float64", true],
    ]);
    expect(g.output).toBe("T");
    expect(g.root.toNested()).toEqual([[1, 2], [0, 5]]);
    expect(g.root.span).toEqual({ pos: 16, length: 25 });
    g.root.backward(1);
    expect(g.inputs[1]!.grad!.toNested()).toEqual([[2, 2], [4, 4]]);
  });

  test("numbers bind 0-d tensors; constants e and pi are labelled", () => {
    const g = compileTensor(parse("x * pi"), { x: 2 });
    expect(g.root.shape).toEqual([]);
    expect(g.root.item()).toBeCloseTo(2 * Math.PI, 15);
    expect(g.root.inputs[1]!.label).toBe("pi");
  });

  test("a shape error becomes a source error at the operator", () => {
    const p = parse("sum(A + B)");
    let e: unknown;
    try {
      compileTensor(p, { A: [1, 2, 3], B: [1, 2] });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(SourceError);
    expect((e as SourceError).message).toBe("add: shapes [3] and [2] cannot be broadcast");
    expect((e as SourceError).pos).toBe(6);
  });

  test("which programs need the tensor engine", () => {
    expect(usesTensorFeatures(parse("x @ y"))).toBe(true);
    expect(usesTensorFeatures(parse("sum(x)"))).toBe(true);
    expect(usesTensorFeatures(parse("max(x)"))).toBe(true);
    expect(usesTensorFeatures(parse("max(x, 0)"))).toBe(false);
    expect(usesTensorFeatures(parse("exp(x) * y"))).toBe(false);
  });
});

describe("function table", () => {
  test("max/min take one or two arguments on tensors, exactly two in the scalar language", () => {
    expect(() => parse("max(x, y, z)")).toThrow("max takes 1 or 2 arguments (max(x, [b], axis=..., keepdims=...)), got 3");
    expect(() => parseProgram("max(x)")).toThrow("max takes 2 arguments (max(a, b)), got 1");
  });

  test("tensor functions with keywords; an unknown keyword is reported", () => {
    expect(parse("softmax(x, axis=1) + logsumexp(x, axis=1, keepdims=1) + mean(x, axis=0)").inputs).toEqual(["x"]);
    expect(() => parse("softmax(x, keepdims=1)")).toThrow("unknown keyword argument keepdims for softmax (it takes axis)");
  });
});
