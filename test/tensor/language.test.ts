/** The expression language compiled onto the tensor engine (compileTensor) and its function table. */
import { describe, expect, test, vi } from "vitest";
import { SourceError } from "../../packages/gradgraph/src/core/errors.js";
import { binaryOperators, compileTensor, parseProgram, tensorFunctions, usesTensorFeatures } from "../../packages/gradgraph/src/lang/index.js";
import { tensorFunctionList } from "../../packages/gradgraph/src/ops/functions.js";
import { PREC, type TensorFunction } from "../../packages/gradgraph/src/ops/op.js";
import { graphAlgebra, tensor } from "../../packages/gradgraph/src/tensor/tensor.js";

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

describe("the tensor functions come from the op table (src/ops/functions.ts), none from the language", () => {
  const sample = [[1, -2, 3], [0.5, 4, -1]];

  test("every tensor function of the table is a function of the language, with its keywords and flags", () => {
    const byName = new Map(tensorFunctions.map((f) => [f.name, f]));
    for (const f of tensorFunctionList) {
      const spec = byName.get(f.name);
      expect(spec, f.name).toBeDefined();
      expect(spec!.keywords ?? []).toEqual(Object.keys(f.keywords));
      expect(spec!.flags ?? []).toEqual(Object.keys(f.keywords).filter((k) => f.keywords[k] === "bool"));
      expect(spec!.minArity ?? spec!.arity).toBe(f.arity);
    }
    // Primitives by their board names (amax prints as max), matmul by its op name; composites by theirs.
    expect(tensorFunctionList.map((f) => f.name)).toEqual(["sum", "max", "min", "matmul", "mean", "logsumexp", "softmax", "log_softmax", "transpose"]);
  });

  test("a call in the language gives what the table's function gives, keywords included", () => {
    for (const f of tensorFunctionList) {
      const args = f.arity === 1 ? ["X"] : ["X", "transpose(X)"];
      const kws = Object.keys(f.keywords).map((k) => `${k}=1`); // axis=1; keepdims=1 is True
      const g = compileTensor(parse(`${f.name}(${[...args, ...kws].join(", ")})`), { X: sample });
      const x = tensor(sample, { dtype: "float64" });
      const kw = Object.fromEntries(Object.entries(f.keywords).map(([k, kind]) => [k, kind === "int" ? 1 : true]));
      const direct = f.apply(graphAlgebra, f.arity === 1 ? [x] : [x, x.transpose()], kw);
      expect(g.root.toNested(), f.name).toEqual(direct.toNested());
    }
  });

  test("a composite added to the table's registry is callable without touching src/lang", async () => {
    vi.resetModules();
    vi.doMock("../../packages/gradgraph/src/ops/composite.js", async (original) => {
      const mod = await original<typeof import("../../packages/gradgraph/src/ops/composite.js")>();
      const cube: TensorFunction = {
        name: "cube", arity: 1, params: ["x"], keywords: { axis: "int" }, doc: "x³ (a test composite)",
        apply: (o, [x]) => o.mul(x!, o.mul(x!, x!)),
      };
      return { ...mod, compositeFunctions: [...mod.compositeFunctions, cube] };
    });
    try {
      const lang = await import("../../packages/gradgraph/src/lang/index.js");
      const p = lang.parseProgram("sum(cube(x))", { functions: lang.tensorFunctions });
      expect(lang.usesTensorFeatures(p)).toBe(true);
      const g = lang.compileTensor(p, { x: [1, 2] });
      expect(g.root.item()).toBe(9);
      g.root.backward();
      expect(g.inputs[0]!.grad!.toNested()).toEqual([3, 12]);
      expect(() => lang.parseProgram("cube(x, axs=0)", { functions: lang.tensorFunctions })).toThrow(
        "unknown keyword argument axs for cube (did you mean axis?)",
      );
    } finally {
      vi.doUnmock("../../packages/gradgraph/src/ops/composite.js");
      vi.resetModules();
    }
  });

  test("@ is read from matmul's print spec; matmul(a, b) is the same op", () => {
    expect(binaryOperators.get("@")).toEqual({ symbol: "@", op: "matmul", board: "@", prec: PREC.mul, assoc: "left" });
    const a = compileTensor(parse("sum(X @ transpose(X))"), { X: sample }).root.item();
    const b = compileTensor(parse("sum(matmul(X, transpose(X)))"), { X: sample }).root.item();
    expect(a).toBe(b);
    expect(usesTensorFeatures(parse("matmul(x, y)"))).toBe(true);
  });
});

describe("flags: keepdims=True as the printers write it", () => {
  const X = [[1, 2], [3, 4]];

  test("True/False and true/false are the values of a bool keyword, as 1 and 0 are", () => {
    for (const [flag, shape] of [["True", [2, 1]], ["true", [2, 1]], ["1", [2, 1]], ["False", [2]], ["false", [2]], ["0", [2]]] as const) {
      const p = parse(`sum(X, axis=1, keepdims=${flag})`);
      expect(p.inputs).toEqual(["X"]);
      expect(compileTensor(p, { X }).root.shape, flag).toEqual(shape);
    }
    expect(compileTensor(parse("max(X, keepdims=True) + mean(X, axis=0, keepdims=true)"), { X }).root.toNested()).toEqual([[6, 7]]);
  });

  test("another name for a flag, or a flag for an integer keyword, is a clear error at the caret", () => {
    const e = (() => {
      try {
        parse("sum(X, keepdims=yes)");
      } catch (err) {
        return err as SourceError;
      }
      throw new Error("no error");
    })();
    expect(e).toBeInstanceOf(SourceError);
    expect(e.message).toBe("keepdims takes True or False (or 1 or 0), got yes");
    expect([e.pos, e.length]).toEqual([16, 3]);
    expect(() => parse("sum(X, axis=True)")).toThrow("axis takes an integer, got True");
    // Outside a keyword, True is a name like any other.
    expect(parse("x * True").inputs).toEqual(["x", "True"]);
  });
});
