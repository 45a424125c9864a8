import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { numberAlgebra } from "../../packages/gradgraph/src/ops/algebras.js";
import type { Algebra } from "../../packages/gradgraph/src/ops/op.js";
import { symbolicAlgebra, type Sym } from "../../packages/gradgraph/src/render/symbolic.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import {
  compileScalar,
  evaluate,
  freeNames,
  parseBindings,
  parseProgram,
  printExpr,
  scalarFunctions,
  type Expr,
  type FunctionSpec,
} from "../../packages/gradgraph/src/lang/index.js";
import { expectAt, sexpr, sourceError, thrown, tree } from "./helpers.js";

/** The lecture's worked examples: source, --at text, value, gradients by input name. */
const LECTURE: [string, string, number, Record<string, number>][] = [
  ["f(x, y) = 1/(y + exp(-x))", "0,1", 0.5, { x: 0.25, y: -0.25 }],
  ["f(x, y, z) = (max(3*x, 0) - y)^2 + z", "1,0,-2", 7, { x: 18, y: -6, z: 1 }],
  [
    "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2",
    "2,10,-1,4,3,1",
    9,
    { x: 18, y: 6, w1: -36, b1: -18, w2: -12, b2: -6 },
  ],
  ["w = 1/exp(-x)", "x=0", 1, { x: 1 }],
  ["w = log(exp(x)^2)", "x=0", 0, { x: 2 }],
  ["w = (x + y)*z", "x=1,y=2,z=-3", -9, { x: -3, y: -3, z: 3 }],
  ["w = x^2 + 3*x", "x=1.5", 6.75, { x: 6 }],
];

describe("the lecture's worked examples through compileScalar", () => {
  it.each(LECTURE)("%s at %s", (src, at, value, grads) => {
    const program = parseProgram(src);
    const g = compileScalar(program, parseBindings([at], program));
    expect(g.root.data).toBe(value);
    g.root.backward();
    const got = Object.fromEntries(g.names.map((n, i) => [n, g.inputs[i]!.grad]));
    expect(got).toEqual(grads);
  });

  it("the same values by name and without a header", () => {
    const p = parseProgram("1/(y + exp(-x))");
    expect(compileScalar(p, parseBindings(["x=0,y=1"], p)).root.data).toBe(0.5);
    const q = parseProgram("(max(3*x, 0) - y)^2 + z");
    expect(compileScalar(q, { x: 1, y: 0, z: -2 }).root.data).toBe(7);
  });
});

describe("compileScalar", () => {
  it("inputs are leaf Values labelled with their names, in header order", () => {
    const p = parseProgram("f(z, y, x) = x*y");
    const g = compileScalar(p, { x: 2, y: 3, z: 4 });
    expect(g.names).toEqual(["z", "y", "x"]);
    expect(g.inputs.map((v) => [v.label, v.data, v.isLeaf, v.requiresGrad])).toEqual([
      ["z", 4, true, true],
      ["y", 3, true, true],
      ["x", 2, true, true],
    ]);
    expect(g.root.inputs).toEqual([g.inputs[2], g.inputs[1]]);
    g.root.backward();
    expect(g.inputs.map((v) => v.grad)).toEqual([0, 2, 3]);
    expect(g.output).toBe("f");
  });

  it("without a header, inputs are in order of first appearance; one leaf per name (fan-out)", () => {
    const g = compileScalar(parseProgram("y*x + x*x"), { x: 3, y: 5 });
    expect(g.names).toEqual(["y", "x"]);
    expect(g.output).toBeUndefined();
    g.root.backward();
    expect(g.inputs[1]!.grad).toBe(5 + 6);
  });

  it("each op node carries its span; literals are constants; e and pi are labelled constants", () => {
    const src = "f(x) = 2*x + e^x - pi";
    const g = compileScalar(parseProgram(src), { x: 1 });
    const text = (v: Value) => (v.span ? src.slice(v.span.pos, v.span.pos + v.span.length) : undefined);
    const sub = g.root;
    expect(sub.op!.name).toBe("sub");
    expect(text(sub)).toBe("2*x + e^x - pi");
    const [add, pi] = sub.inputs as [Value, Value];
    expect(text(add)).toBe("2*x + e^x");
    expect([pi.label, pi.data, pi.requiresGrad, pi.isLeaf, text(pi)]).toEqual(["pi", Math.PI, false, true, "pi"]);
    const [mul, pow] = add.inputs as [Value, Value];
    expect(text(mul)).toBe("2*x");
    expect(text(pow)).toBe("e^x");
    const two = mul.inputs[0]!;
    expect([two.label, two.data, two.requiresGrad, text(two)]).toEqual([undefined, 2, false, "2"]);
    const e = pow.inputs[0]!;
    expect([e.label, e.data, e.requiresGrad]).toEqual(["e", Math.E, false]);
    // The input leaf is shared, not given the span of one occurrence.
    expect(mul.inputs[1]).toBe(g.inputs[0]);
    expect(g.inputs[0]!.span).toBeUndefined();
    expect(sub.data).toBeCloseTo(2 + Math.E - Math.PI, 15);
  });

  it("unary minus is a neg node; unary plus adds no node", () => {
    const g = compileScalar(parseProgram("-x + +y"), { x: 1, y: 2 });
    expect(g.root.op!.name).toBe("add");
    expect(g.root.inputs[0]!.op!.name).toBe("neg");
    expect(g.root.inputs[1]).toBe(g.inputs[1]);
  });

  it("computes in float64", () => {
    const g = compileScalar(parseProgram("x + 1e-12"), { x: 1 });
    expect(g.root.data).toBe(1 + 1e-12);
  });

  it("an array binding is an InputError: the scalar engine takes numbers", () => {
    const p = parseProgram("f(X, y) = X*y");
    const e = thrown(() => compileScalar(p, parseBindings(["X=[[1,2],[3,4]],y=1"], p)));
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe("the scalar engine takes numbers: X is an array of shape [2, 2]");
  });

  it("missing and unknown bindings are InputErrors", () => {
    const p = parseProgram("x*y + z");
    expect((thrown(() => compileScalar(p, { y: 1 })) as InputError).message).toBe("missing values for x, z");
    const extra = thrown(() => compileScalar(p, { x: 1, y: 1, z: 1, w: 2 }));
    expect(extra).toBeInstanceOf(InputError);
    expect((extra as Error).message).toBe("the expression has no input w (its inputs: x, y, z)");
  });

  it("@ is refused with a position: matmul needs the tensor engine", () => {
    const p = parseProgram("x @ y");
    expectAt(sourceError(() => compileScalar(p, { x: 1, y: 2 })), "'@' (matmul) needs the tensor engine: write * for a product of numbers", 2, 1);
  });

  it("a long left-nested chain compiles without recursion", () => {
    const n = 100_000;
    const src = Array.from({ length: n }, () => "x").join(" + ");
    const g = compileScalar(parseProgram(src), { x: 1 });
    expect(g.root.data).toBe(n);
    expect(printExpr(parseProgram("x + x + x"))).toBe("x + x + x");
  });
});

describe("evaluate on other algebras", () => {
  it("maps operators and functions to the algebra's methods", () => {
    const calls: string[] = [];
    const logging = new Proxy(numberAlgebra, {
      get(target, key: string) {
        const f = (target as unknown as Record<string, unknown>)[key];
        if (typeof f !== "function") return f;
        return (...xs: number[]) => {
          calls.push(key);
          return (f as (...a: number[]) => number)(...xs);
        };
      },
    }) as Algebra<number>;
    const p = parseProgram("-(a - b)^2 / max(c, 1) + pow(a, 2) * +exp(b)");
    const v = evaluate(p, logging, new Map([["a", 3], ["b", 1], ["c", 2]]));
    expect(v).toBeCloseTo(-(2 ** 2) / 2 + 9 * Math.exp(1), 14);
    expect(calls).toEqual(["sub", "lift", "pow", "neg", "lift", "max", "div", "lift", "pow", "exp", "mul", "add"]);
  });

  it("runs on the symbolic algebra (printed code)", () => {
    const p = parseProgram("f(x, y) = 1/(y + exp(-x))");
    const sym = symbolicAlgebra("py");
    const env = new Map<string, Sym>([["x", { text: "x", prec: 100 }], ["y", { text: "y", prec: 100 }]]);
    expect(evaluate(p, sym, env).text).toBe("1 / (y + math.exp(-x))");
  });

  it("the node hook sees every node in post-order and may replace results", () => {
    const p = parseProgram("2*x + 1");
    const seen: string[] = [];
    const v = evaluate(p, numberAlgebra, new Map([["x", 5]]), {
      node: (r, n) => {
        seen.push(`${n.kind}=${r}`);
        return n.kind === "number" && n.value === 1 ? 100 : undefined;
      },
    });
    expect(seen).toEqual(["number=2", "name=5", "binary=10", "number=1", "binary=110"]);
    expect(v).toBe(110);
  });

  it("operations the algebra lacks (matmul, keyword calls) go to the apply hook", () => {
    const functions: FunctionSpec[] = [...scalarFunctions, { name: "sum", op: "sum", arity: 1, keywords: ["axis"] }];
    const p = parseProgram("sum(a @ b, axis=1 + 1)", { functions });
    const got: unknown[] = [];
    const v = evaluate(p, numberAlgebra, new Map([["a", 2], ["b", 3]]), {
      apply: (op, args, kws, node) => {
        got.push([op, args, [...kws], node.kind]);
        return op === "matmul" ? args[0]! * args[1]! : args[0]! + kws.get("axis")!;
      },
    });
    expect(v).toBe(8);
    expect(got).toEqual([
      ["matmul", [2, 3], [], "binary"],
      ["sum", [6], [["axis", 2]], "call"],
    ]);
    expectAt(
      sourceError(() => evaluate(p, numberAlgebra, new Map([["a", 2], ["b", 3]]))),
      "'@' (matmul) is not available in this engine",
      6,
      1,
    );
  });

  it("names missing from env are reported together", () => {
    const e = thrown(() => evaluate(parseProgram("x + y*z"), numberAlgebra, new Map([["y", 1]])));
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe("missing values for x, z");
  });
});

describe("freeNames", () => {
  it("free variables in order of first appearance, without constants and functions", () => {
    expect(freeNames(parseProgram("exp(b*e) + a*pi + b + max(c, a)"))).toEqual(["b", "a", "c"]);
    expect(freeNames(parseProgram("f(x, y, z) = z*x"))).toEqual(["z", "x"]);
    expect(freeNames(parseProgram("2 + pi"))).toEqual([]);
  });
});

describe("printExpr", () => {
  it.each([
    ["((x*3))+ -(y)", "x*3 + -y"],
    ["(a - b) - c", "a - b - c"],
    ["a - (b - c)", "a - (b - c)"],
    ["a / (b * c)", "a/(b*c)"],
    ["(a / b) * c", "a/b*c"],
    ["2^(3^2)", "2^3^2"],
    ["(2^3)^2", "(2^3)^2"],
    ["-(x^2)", "-x^2"],
    ["(-x)^2", "(-x)^2"],
    ["2**(-1)", "2^-1"],
    ["-(a + b)", "-(a + b)"],
    ["-(a*b)", "-(a*b)"],
    ["(-a)*b", "-a*b"],
    ["- -a", "--a"],
    ["max(max(w1 * x + b1, 0) * w2 + b2, 0)", "max(max(w1*x + b1, 0)*w2 + b2, 0)"],
    ["a @ (b @ c)", "a @ (b @ c)"],
    [".5 + 2E+4", "0.5 + 20000"],
    ["e*pi", "e*pi"],
  ])("%s prints as %s", (src, printed) => {
    expect(printExpr(parseProgram(src).body)).toBe(printed);
    expect(tree(printed)).toBe(tree(src));
  });

  it("prints headers", () => {
    expect(printExpr(parseProgram("L( x,y )=x+y"))).toBe("L(x, y) = x + y");
    expect(printExpr(parseProgram("w=f(x)=x"))).toBe("w = f(x) = x");
    expect(printExpr(parseProgram("w = x"))).toBe("w = x");
  });

  it("prints keyword arguments", () => {
    const functions: FunctionSpec[] = [{ name: "sum", op: "sum", arity: 1, keywords: ["axis"] }];
    expect(printExpr(parseProgram("sum(x,axis=-1)", { functions }).body)).toBe("sum(x, axis=-1)");
  });

  it("round-trips random trees: parse(printExpr(t)) is t", () => {
    const leaf: fc.Arbitrary<string> = fc.oneof(
      fc.constantFrom("x", "y", "w1", "e", "pi"),
      fc.constantFrom("0", "1", "2", "0.5", "3", "1e-7", "1e+21"),
    );
    const { expr } = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.tuple(fc.constantFrom("+", "-", "*", "/", "^", "@"), tie("expr"), tie("expr")).map(([op, a, b]) => `(${a} ${op} ${b})`),
        fc.tuple(fc.constantFrom("-", "+"), tie("expr")).map(([op, a]) => `(${op}${a})`),
        fc.tuple(fc.constantFrom(...scalarFunctions.map((f) => f.name)), tie("expr"), tie("expr")).map(([f, a, b]) => {
          const arity = scalarFunctions.find((s) => s.name === f)!.arity;
          return `${f}(${arity === 1 ? a : `${a}, ${b}`})`;
        }),
      ),
    }));
    fc.assert(
      fc.property(expr, (src) => {
        const t: Expr = parseProgram(src).body;
        const printed = printExpr(t);
        const again = parseProgram(printed).body;
        expect(sexpr(again)).toBe(sexpr(t));
        expect(printExpr(again)).toBe(printed);
        // Printing never adds parentheses the fully parenthesised source did not need: it is never longer.
        expect(printed.replace(/\s/g, "").length).toBeLessThanOrEqual(src.replace(/\s/g, "").length);
      }),
      { numRuns: 1000, seed: 42 },
    );
  });
});
