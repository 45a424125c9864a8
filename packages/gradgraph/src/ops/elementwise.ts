/**
 * The elementwise primitives: each declared once, with its forward function, local derivatives (from which
 * vjp and jvp follow) and printing. The scalar engine applies them to numbers, the tensor engine to every
 * element (with broadcasting), forward mode to tangents, and the code printer to names.
 *
 * Conventions at kinks (relu'(0) = 0, abs'(0) = 0, ties split evenly, sqrt'(0) = +inf, pow at base 0, ...) are
 * tabled in ARCHITECTURE.md: from the math where it decides, PyTorch's where it leaves a choice.
 */
import { defineElementwise, PREC, type ElementwiseName, type ElementwiseOp, type Target } from "./op.js";

const same = (s: string): Record<Target, string> => ({ board: s, py: s, ts: s });
const infix = (s: string, prec: number, assoc: "left" | "right" = "left") =>
  ({ kind: "infix", symbol: same(s), prec, assoc }) as const;
const fn = (board: string, py: string, ts: string, numpy: { name: string; define?: string }, define?: { py?: string; ts?: string }) =>
  ({ kind: "call", name: { board, py, ts }, numpy, ...(define ? { define } : {}) }) as const;
const np = (name: string) => ({ name: `np.${name}` });

/**
 * A comparison: 1 where it holds, else 0, in the operands' dtype (float32 or float64, like `gt`/`eq`: the tensors
 * have no boolean dtype); not differentiable (zero gradient). A NaN operand makes every comparison 0 except `ne`.
 */
function compare(name: "lt" | "le" | "ge" | "ne", board: string, ts: string, math: string): ElementwiseOp {
  return defineElementwise({
    name, arity: 2, doc: `1 where ${math}, else 0 (not differentiable: zero gradient)`,
    lower: (o, [a, b]) => o.select(o[name](a!, b!), o.const(1), o.const(0)),
    nondiff: true,
    partials: [() => 0, () => 0],
    print: { kind: "compare", symbol: { board, py: board, ts } },
  });
}

/** The elementwise op table. The mapped type makes tsc reject a name without an entry. */
export const elementwiseOps: { readonly [K in ElementwiseName]: ElementwiseOp } = {
  add: defineElementwise({
    name: "add", arity: 2, doc: "a + b",
    lower: (o, [a, b]) => o.add(a!, b!),
    // d(a + b) = da + db
    partials: [() => 1, () => 1],
    print: infix("+", PREC.add),
    identity: { left: 0, right: 0 },
  }),
  sub: defineElementwise({
    name: "sub", arity: 2, doc: "a - b",
    lower: (o, [a, b]) => o.sub(a!, b!),
    // d(a - b) = da - db
    partials: [() => 1, () => -1],
    print: infix("-", PREC.add),
    identity: { right: 0 },
  }),
  mul: defineElementwise({
    name: "mul", arity: 2, doc: "a · b",
    lower: (o, [a, b]) => o.mul(a!, b!),
    // d(ab) = b da + a db
    partials: [(_o, [, b]) => b!, (_o, [a]) => a!],
    print: infix("*", PREC.mul),
    identity: { left: 1, right: 1 },
  }),
  div: defineElementwise({
    name: "div", arity: 2, doc: "a / b",
    lower: (o, [a, b]) => o.div(a!, b!),
    // d(a/b) = da/b - (a/b)/b db; written -(a/b)/b, not -a/b², so it does not overflow (or underflow) where the
    // true value is finite: at a = b = 1e200, -a/b² is 0 (true -1e-200), and x/x at 1e-8 would not cancel to 0
    partials: [(o, [, b]) => o.div(1, b!), (o, [, b], y) => o.div(o.neg(y), b!)],
    print: infix("/", PREC.mul),
    identity: { right: 1 },
  }),
  neg: defineElementwise({
    name: "neg", arity: 1, doc: "-a",
    lower: (o, [a]) => o.neg(a!),
    // d(-a) = -da
    partials: [() => -1],
    print: { kind: "prefix", symbol: "-", prec: PREC.unary },
  }),
  pow: defineElementwise({
    name: "pow", arity: 2, doc: "a ^ b (a constant or a variable exponent)",
    // IEEE 754 / C / NumPy / PyTorch, not JavaScript's **: 1^b = 1 for every b (NaN too), (-1)^±inf = 1
    lower: (o, [a, b]) => {
      const p = o.call("pow", a!, b!);
      const minusOneToInf = o.select(o.eq(o.abs(b!), o.const(Infinity)), o.select(o.eq(a!, o.const(-1)), o.const(1), p), p);
      return o.select(o.eq(a!, o.const(1)), o.const(1), minusOneToInf);
    },
    // d(a^b) = b a^(b-1) da + a^b ln(a) db. At b = 0 the first term is 0 even at a = 0 (PyTorch's rule):
    // the exponent is b - 1 + (b == 0), so 0·a^0 = 0 instead of 0·0^(-1) = NaN; elsewhere it is b - 1.
    // At a = 0 the second term is 0 (0^b is constant 0 for b > 0; PyTorch's 0 at b = 0 too): ln(a + (a == 0))
    // is ln 1 = 0 there, so 0·ln 0 = NaN and 1·ln 0 = -inf do not appear; elsewhere it is ln a.
    partials: [
      (o, [a, b]) => o.mul(b!, o.pow(a!, o.add(o.sub(b!, 1), o.eq(b!, 0)))),
      (o, [a], y) => o.mul(y, o.log(o.add(a!, o.eq(a!, 0)))),
    ],
    print: { kind: "infix", symbol: { board: "^", py: "**", ts: "**" }, prec: PREC.pow, assoc: "right" },
    identity: { right: 1 },
  }),
  exp: defineElementwise({
    name: "exp", arity: 1, doc: "e^a",
    lower: (o, [a]) => o.call("exp", a!),
    // d(e^a) = e^a da
    partials: [(_o, _xs, y) => y],
    print: fn("exp", "math.exp", "Math.exp", np("exp")),
  }),
  log: defineElementwise({
    name: "log", arity: 1, doc: "natural logarithm ln(a)",
    lower: (o, [a]) => o.call("log", a!),
    // d(ln a) = da / a
    partials: [(o, [a]) => o.div(1, a!)],
    print: fn("log", "math.log", "Math.log", np("log")),
  }),
  sqrt: defineElementwise({
    name: "sqrt", arity: 1, doc: "√a",
    lower: (o, [a]) => o.sqrt(a!),
    // d(√a) = da / (2√a); +inf at 0
    partials: [(o, _xs, y) => o.div(0.5, y)],
    print: fn("sqrt", "math.sqrt", "Math.sqrt", np("sqrt")),
  }),
  abs: defineElementwise({
    name: "abs", arity: 1, doc: "|a|",
    lower: (o, [a]) => o.abs(a!),
    // d|a| = sign(a) da; 0 at 0
    partials: [(o, [a]) => o.sign(a!)],
    print: fn("abs", "abs", "Math.abs", np("abs")),
  }),
  relu: defineElementwise({
    name: "relu", arity: 1, doc: "max(a, 0)",
    lower: (o, [a]) => o.select(o.le(a!, o.const(0)), o.const(0), a!), // NaN stays NaN, as in PyTorch
    // d relu(a) = (a > 0) da; 0 at 0
    partials: [(o, [a]) => o.gt(a!, 0)],
    print: fn("relu", "relu", "relu", { name: "relu", define: "def relu(x):\n    return np.maximum(x, 0)" }, {
      py: "def relu(x):\n    return max(x, 0)",
      ts: "const relu = (x: number): number => Math.max(x, 0);",
    }),
  }),
  sigmoid: defineElementwise({
    name: "sigmoid", arity: 1, doc: "σ(a) = 1 / (1 + e^-a)",
    // 1/(1 + e^-a) for a ≥ 0, e^a/(1 + e^a) below (no overflow on either side)
    lower: (o, [a]) => {
      const one = o.const(1), e = o.call("exp", o.neg(o.abs(a!)));
      return o.select(o.ge(a!, o.const(0)), o.div(one, o.add(one, e)), o.div(e, o.add(one, e)));
    },
    // dσ(a) = σ(a)(1 - σ(a)) da
    partials: [(o, _xs, y) => o.mul(y, o.sub(1, y))],
    print: fn("sigmoid", "sigmoid", "sigmoid", { name: "sigmoid", define: "def sigmoid(x):\n    return np.exp(-np.logaddexp(0, -x))" }, {
      py: "def sigmoid(x):\n    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))",
      ts: "const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));",
    }),
  }),
  tanh: defineElementwise({
    name: "tanh", arity: 1, doc: "tanh(a)",
    lower: (o, [a]) => o.call("tanh", a!),
    // d tanh(a) = (1 - tanh²(a)) da
    partials: [(o, _xs, y) => o.sub(1, o.pow(y, 2))],
    print: fn("tanh", "math.tanh", "Math.tanh", np("tanh")),
  }),
  sin: defineElementwise({
    name: "sin", arity: 1, doc: "sin(a)",
    lower: (o, [a]) => o.call("sin", a!),
    // d sin(a) = cos(a) da
    partials: [(o, [a]) => o.cos(a!)],
    print: fn("sin", "math.sin", "Math.sin", np("sin")),
  }),
  cos: defineElementwise({
    name: "cos", arity: 1, doc: "cos(a)",
    lower: (o, [a]) => o.call("cos", a!),
    // d cos(a) = -sin(a) da
    partials: [(o, [a]) => o.neg(o.sin(a!))],
    print: fn("cos", "math.cos", "Math.cos", np("cos")),
  }),
  max: defineElementwise({
    name: "max", arity: 2, doc: "the larger of a and b",
    lower: (o, [a, b]) => o.select(o.gt(a!, b!), a!, o.select(o.ne(a!, a!), a!, b!)), // a NaN on either side gives NaN
    // d max(a, b) = (a > b) da + (b > a) db, split evenly at a tie
    partials: [
      (o, [a, b]) => o.add(o.gt(a!, b!), o.mul(0.5, o.eq(a!, b!))),
      (o, [a, b]) => o.add(o.gt(b!, a!), o.mul(0.5, o.eq(a!, b!))),
    ],
    print: fn("max", "max", "Math.max", np("maximum")),
  }),
  min: defineElementwise({
    name: "min", arity: 2, doc: "the smaller of a and b",
    lower: (o, [a, b]) => o.select(o.lt(a!, b!), a!, o.select(o.ne(a!, a!), a!, b!)), // a NaN on either side gives NaN
    // d min(a, b) = (b > a) da + (a > b) db, split evenly at a tie
    partials: [
      (o, [a, b]) => o.add(o.gt(b!, a!), o.mul(0.5, o.eq(a!, b!))),
      (o, [a, b]) => o.add(o.gt(a!, b!), o.mul(0.5, o.eq(a!, b!))),
    ],
    print: fn("min", "min", "Math.min", np("minimum")),
  }),
  gt: defineElementwise({
    name: "gt", arity: 2, doc: "1 where a > b, else 0 (not differentiable: zero gradient)",
    lower: (o, [a, b]) => o.select(o.gt(a!, b!), o.const(1), o.const(0)),
    nondiff: true,
    partials: [() => 0, () => 0],
    print: { kind: "compare", symbol: { board: ">", py: ">", ts: ">" } },
  }),
  eq: defineElementwise({
    name: "eq", arity: 2, doc: "1 where a == b, else 0 (not differentiable: zero gradient)",
    lower: (o, [a, b]) => o.select(o.eq(a!, b!), o.const(1), o.const(0)),
    nondiff: true,
    partials: [() => 0, () => 0],
    print: { kind: "compare", symbol: { board: "==", py: "==", ts: "===" } },
  }),
  sign: defineElementwise({
    name: "sign", arity: 1, doc: "-1, 0 or 1 by the sign of a (not differentiable: zero gradient)",
    lower: (o, [a]) => o.select(o.gt(a!, o.const(0)), o.const(1), o.select(o.lt(a!, o.const(0)), o.const(-1), a!)),
    nondiff: true,
    partials: [() => 0],
    print: fn("sign", "sign", "Math.sign", np("sign"), { py: "def sign(x):\n    return (x > 0) - (x < 0)" }),
  }),
  lt: compare("lt", "<", "<", "a < b"),
  le: compare("le", "<=", "<=", "a ≤ b"),
  ge: compare("ge", ">=", ">=", "a ≥ b"),
  ne: compare("ne", "!=", "!==", "a ≠ b"),
  log1p: defineElementwise({
    name: "log1p", arity: 1, doc: "ln(1 + a), accurate for small a",
    lower: (o, [a]) => o.call("log1p", a!),
    // d ln(1 + a) = da / (1 + a)
    partials: [(o, [a]) => o.div(1, o.add(1, a!))],
    print: fn("log1p", "math.log1p", "Math.log1p", np("log1p")),
  }),
  expm1: defineElementwise({
    name: "expm1", arity: 1, doc: "e^a − 1, accurate for small a",
    lower: (o, [a]) => o.call("expm1", a!),
    // d(e^a − 1) = e^a da = (y + 1) da
    partials: [(o, _xs, y) => o.add(y, 1)],
    print: fn("expm1", "math.expm1", "Math.expm1", np("expm1")),
  }),
  square: defineElementwise({
    name: "square", arity: 1, doc: "a² (one multiplication; the wasm backend prints it)",
    lower: (o, [a]) => o.mul(a!, a!),
    // d(a²) = 2a da
    partials: [(o, [a]) => o.mul(2, a!)],
    print: fn("square", "square", "square", np("square"), {
      py: "def square(x):\n    return x * x",
      ts: "const square = (x: number): number => x * x;",
    }),
  }),
};

/** All elementwise ops, in table order. */
export const elementwiseList: readonly ElementwiseOp[] = Object.values(elementwiseOps);
