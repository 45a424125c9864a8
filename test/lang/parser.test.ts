import { describe, expect, it } from "vitest";
import { elementwiseList } from "../../packages/gradgraph/src/ops/elementwise.js";
import {
  constants,
  parseProgram,
  postOrder,
  scalarFunctions,
  tokenize,
  type Binary,
  type Call,
  type FunctionSpec,
} from "../../packages/gradgraph/src/lang/index.js";
import { ev, tree } from "./helpers.js";

describe("numbers and names", () => {
  it.each([
    ["2", 2],
    ["0.5", 0.5],
    [".5", 0.5],
    ["5.", 5],
    ["1e-3", 0.001],
    ["2E+4", 20000],
    ["1.5e2", 150],
    ["007", 7],
  ])("%s is %d", (src, value) => {
    expect(ev(src)).toBe(value);
    const body = parseProgram(src).body;
    expect(body.kind).toBe("number");
    expect(body.kind === "number" && body.text).toBe(src);
  });

  it.each(["x", "w1", "b_2", "_t", "θ", "learning_rate2"])("%s is a name", (name) => {
    const p = parseProgram(`${name} + 1`);
    expect(p.inputs).toEqual([name]);
    expect(ev(`${name} + 1`, { [name]: 41 })).toBe(42);
  });

  it("e and pi are constants, not inputs", () => {
    const p = parseProgram("e * pi + x");
    expect(p.inputs).toEqual(["x"]);
    expect(ev("e")).toBe(Math.E);
    expect(ev("pi")).toBe(Math.PI);
    expect(tree("e*pi")).toBe("(mul e pi)");
    expect(constants.get("e")).toBe(Math.E);
  });

  it("names that start like constants or functions are ordinary names", () => {
    expect(parseProgram("ex + pie + exp2").inputs).toEqual(["ex", "pie", "exp2"]);
  });

  it("whitespace (spaces, tabs, newlines) is ignored", () => {
    expect(ev(" 1 +\t2 *\n3 ")).toBe(7);
  });

  it("the lexer takes the longest operator: ** before *", () => {
    expect(tokenize("a**b").map((t) => t.text)).toEqual(["a", "**", "b", ""]);
    expect(tokenize("a* *b").map((t) => t.text)).toEqual(["a", "*", "*", "b", ""]);
  });
});

describe("precedence and associativity, as in Python", () => {
  it.each([
    // [source, expected value, expected tree]
    ["-x^2", { x: 3 }, -9, "(neg (pow x 2))"],
    ["-x**2", { x: 3 }, -9, "(neg (pow x 2))"],
    ["2^3^2", {}, 512, "(pow 2 (pow 3 2))"],
    ["2**3**2", {}, 512, "(pow 2 (pow 3 2))"],
    ["(2^3)^2", {}, 64, "(pow (pow 2 3) 2)"],
    ["2^-1", {}, 0.5, "(pow 2 (neg 1))"],
    ["2**-1", {}, 0.5, "(pow 2 (neg 1))"],
    ["2^-1^2", {}, 0.5, "(pow 2 (neg (pow 1 2)))"],
    ["2^-x*3", { x: 1 }, 1.5, "(mul (pow 2 (neg x)) 3)"],
    ["a-b-c", { a: 10, b: 3, c: 2 }, 5, "(sub (sub a b) c)"],
    ["a/b/c", { a: 12, b: 3, c: 2 }, 2, "(div (div a b) c)"],
    ["a-b+c", { a: 10, b: 3, c: 2 }, 9, "(add (sub a b) c)"],
    ["a/b*c", { a: 12, b: 3, c: 2 }, 8, "(mul (div a b) c)"],
    ["-2^2", {}, -4, "(neg (pow 2 2))"],
    ["(-2)^2", {}, 4, "(pow (neg 2) 2)"],
    ["1 + 2*3", {}, 7, "(add 1 (mul 2 3))"],
    ["(1 + 2)*3", {}, 9, "(mul (add 1 2) 3)"],
    ["2*3^2", {}, 18, "(mul 2 (pow 3 2))"],
    ["-a*b", { a: 2, b: 3 }, -6, "(mul (neg a) b)"],
    ["a*-b", { a: 2, b: 3 }, -6, "(mul a (neg b))"],
    ["a - -b", { a: 2, b: 3 }, 5, "(sub a (neg b))"],
    ["--a", { a: 2 }, 2, "(neg (neg a))"],
    ["+a", { a: 2 }, 2, "(pos a)"],
    ["-+a", { a: 2 }, -2, "(neg (pos a))"],
    ["+-a^2", { a: 3 }, -9, "(pos (neg (pow a 2)))"],
    ["1 - 2^2*3", {}, -11, "(sub 1 (mul (pow 2 2) 3))"],
    ["2*3 @ 4", {}, NaN, "(matmul (mul 2 3) 4)"],
    ["a @ b @ c", {}, NaN, "(matmul (matmul a b) c)"],
    ["a + b @ c", {}, NaN, "(add a (matmul b c))"],
    ["a @ b^2", {}, NaN, "(matmul a (pow b 2))"],
  ] as const)("%s", (src, env, value, shape) => {
    expect(tree(src)).toBe(shape);
    if (!Number.isNaN(value)) expect(ev(src, env)).toBe(value);
  });

  it("the binding strengths come from the op table", () => {
    const byName = new Map(elementwiseList.map((op) => [op.name, op.print]));
    const pow = byName.get("pow")!;
    const mul = byName.get("mul")!;
    const add = byName.get("add")!;
    expect(pow.kind === "infix" && pow.assoc).toBe("right");
    expect(pow.kind === "infix" && mul.kind === "infix" && add.kind === "infix" && pow.prec > mul.prec && mul.prec > add.prec).toBe(true);
  });
});

describe("calls", () => {
  it("every function derives from the op table, with its arity and op", () => {
    const names = scalarFunctions.map((f) => f.name).sort();
    expect(names).toEqual(
      ["abs", "cos", "exp", "expm1", "log", "log1p", "square", "max", "min", "pow", "relu", "sigmoid", "sign", "sin", "sqrt", "tanh"].sort(),
    );
    for (const op of elementwiseList) {
      if (op.print.kind !== "call") continue;
      const f = scalarFunctions.find((s) => s.name === (op.print.kind === "call" ? op.print.name.board : ""));
      expect(f, op.name).toBeDefined();
      expect(f!.arity).toBe(op.arity);
      expect(f!.op).toBe(op.name);
    }
  });

  it.each(scalarFunctions.map((f) => [f.name, f] as const))("%s(...) applies its op's forward function", (_name, f) => {
    const byName = new Map(elementwiseList.map((op) => [op.name, op]));
    const op = byName.get(f.op as never)!;
    const args = f.arity === 1 ? [0.7] : [0.7, 1.3];
    const src = `${f.name}(${args.join(", ")})`;
    expect(ev(src)).toBe(op.forward(args[0]!, args[1] ?? NaN));
  });

  it.each([
    ["exp(0)", 1],
    ["log(e)", 1],
    ["sqrt(16)", 4],
    ["abs(-3)", 3],
    ["relu(-3) + relu(2)", 2],
    ["sigmoid(0)", 0.5],
    ["tanh(0)", 0],
    ["sin(0) + cos(0)", 1],
    ["sign(-7)", -1],
    ["pow(2, 10)", 1024],
    ["max(3, 7) - min(3, 7)", 4],
    ["max(max(2, 5), 3)", 5],
    ["-exp(0)^2", -1],
    ["exp(1)^2", Math.exp(1) ** 2],
  ])("%s = %d", (src, value) => {
    expect(ev(src)).toBeCloseTo(value, 14);
  });

  it("parses arguments as full expressions", () => {
    expect(tree("max(a + b*c, -d)")).toBe("(max (add a (mul b c)) (neg d))");
    expect(tree("exp((x))")).toBe("(exp x)");
  });

  it("parses keyword arguments generally (values are expressions)", () => {
    const functions: FunctionSpec[] = [
      ...scalarFunctions,
      { name: "sum", op: "sum", arity: 1, keywords: ["axis", "keepdims"] },
    ];
    const src = "sum(x, axis=0) + sum(x*2, axis=1 - 1, keepdims=1)";
    const p = parseProgram(src, { functions });
    expect(p.inputs).toEqual(["x"]);
    expect(
      postOrder(p.body).filter((n): n is Call => n.kind === "call").map((c) => c.keywords.map((k) => k.name)),
    ).toEqual([["axis"], ["axis", "keepdims"]]);
    const call = p.body.kind === "binary" ? (p.body.right as Call) : undefined;
    expect(call?.keywords[0]!.value.kind).toBe("binary");
    expect(call?.keywords[0]!.nameSpan).toEqual({ pos: src.indexOf("axis", 20), length: 4 });
  });
});

describe("header", () => {
  it("names the function and orders its parameters", () => {
    const p = parseProgram("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2");
    expect(p.header!.names.map((n) => n.name)).toEqual(["L"]);
    expect(p.header!.params!.map((n) => n.name)).toEqual(["x", "y", "w1", "b1", "w2", "b2"]);
    expect(p.inputs).toEqual(["x", "y", "w1", "b1", "w2", "b2"]);
    expect(tree("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2")).toBe(
      "(pow (sub (max (add (mul (max (add (mul w1 x) b1) 0) w2) b2) 0) y) 2)",
    );
  });

  it("orders the inputs by the header, not by appearance; unused parameters stay inputs", () => {
    expect(parseProgram("f(z, y, x) = x + y").inputs).toEqual(["z", "y", "x"]);
    expect(parseProgram("f() = 3").inputs).toEqual([]);
  });

  it("without a header the inputs are the free names in order of first appearance", () => {
    expect(parseProgram("(y + x)*z + y").inputs).toEqual(["y", "x", "z"]);
    expect(parseProgram("max(b, a) + exp(c)").inputs).toEqual(["b", "a", "c"]);
  });

  it("accepts `w = ...` (names the output only) and the lecture's `w = f(x) = ...`", () => {
    const w = parseProgram("w = 1/exp(-x)");
    expect(w.header!.names.map((n) => n.name)).toEqual(["w"]);
    expect(w.header!.params).toBeNull();
    expect(w.inputs).toEqual(["x"]);
    const wf = parseProgram("w = f(x, y) = (x + y)*2");
    expect(wf.header!.names.map((n) => n.name)).toEqual(["w", "f"]);
    expect(wf.header!.params!.map((p) => p.name)).toEqual(["x", "y"]);
    expect(ev("w = f(x, y) = (x + y)*2", { x: 1, y: 2 })).toBe(6);
  });

  it("keyword arguments in the body are not mistaken for a header", () => {
    const functions: FunctionSpec[] = [{ name: "sum", op: "sum", arity: 1, keywords: ["axis"] }];
    expect(parseProgram("sum(x, axis=0)", { functions }).header).toBeNull();
  });
});

describe("spans", () => {
  it("every node carries its 0-based span in the source", () => {
    const src = "L(x, y) = (x + 1)*exp(-y)";
    const p = parseProgram(src);
    const text = (n: { span: { pos: number; length: number } }) => src.slice(n.span.pos, n.span.pos + n.span.length);
    const spans = postOrder(p.body).map(text);
    expect(spans).toEqual(["x", "1", "x + 1", "y", "-y", "exp(-y)", "(x + 1)*exp(-y)"]);
    const mul = p.body as Binary;
    expect(mul.opSpan).toEqual({ pos: 17, length: 1 });
    expect(p.header!.span).toEqual({ pos: 0, length: 9 });
    expect(p.header!.params![1]!.span).toEqual({ pos: 5, length: 1 });
  });

  it("a power written ** keeps its symbol and a 2-character operator span", () => {
    const b = parseProgram("x ** 2").body as Binary;
    expect(b.op).toBe("pow");
    expect(b.symbol).toBe("**");
    expect(b.opSpan).toEqual({ pos: 2, length: 2 });
  });
});
