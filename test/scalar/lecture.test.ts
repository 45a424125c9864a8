/**
 * The lecture's worked examples (the table at the end of the lecture file), through the library API,
 * in all three modes. The same examples run through the CLI in test/cli.
 */
import { describe, expect, test } from "vitest";
import { differentiate, MODES } from "../../packages/gradgraph/src/autodiff/modes.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";

const vars = (point: Record<string, number>) =>
  Object.fromEntries(Object.entries(point).map(([k, v]) => [k, new Value(v, { label: k })])) as Record<string, Value>;

interface Example {
  name: string;
  point: Record<string, number>;
  build: (v: Record<string, Value>) => Value;
  value: number;
  grad: Record<string, number>;
}

const examples: Example[] = [
  {
    name: "f(x, y) = 1/(y + e^-x) at (0, 1)",
    point: { x: 0, y: 1 },
    build: ({ x, y }) => Value.constant(1).div(y!.add(x!.neg().exp())),
    value: 0.5,
    grad: { x: 0.25, y: -0.25 },
  },
  {
    name: "f(x, y, z) = [max(3x, 0) - y]^2 + z at (1, 0, -2)",
    point: { x: 1, y: 0, z: -2 },
    build: ({ x, y, z }) => Value.constant(3).mul(x!).max(0).sub(y!).pow(2).add(z!),
    value: 7,
    grad: { x: 18, y: -6, z: 1 },
  },
  {
    name: "L_MLP at (2, 10, -1, 4, 3, 1)",
    point: { x: 2, y: 10, w1: -1, b1: 4, w2: 3, b2: 1 },
    build: ({ x, y, w1, b1, w2, b2 }) => w1!.mul(x!).add(b1!).max(0).mul(w2!).add(b2!).max(0).sub(y!).pow(2),
    value: 9,
    grad: { x: 18, y: 6, w1: -36, b1: -18, w2: -12, b2: -6 },
  },
  {
    name: "w = 1/e^-x at 0",
    point: { x: 0 },
    build: ({ x }) => Value.constant(1).div(x!.neg().exp()),
    value: 1,
    grad: { x: 1 },
  },
  {
    name: "w = log([e^x]^2) at 0",
    point: { x: 0 },
    build: ({ x }) => x!.exp().pow(2).log(),
    value: 0,
    grad: { x: 2 },
  },
  {
    name: "w = (x + y) z at (1, 2, -3)",
    point: { x: 1, y: 2, z: -3 },
    build: ({ x, y, z }) => x!.add(y!).mul(z!),
    value: -9,
    grad: { x: -3, y: -3, z: 3 },
  },
  ...[-2, 0, 0.5, 3].map((x0) => ({
    name: `w = x^2 + 3x at ${x0} (gradients add up)`,
    point: { x: x0 },
    build: ({ x }: Record<string, Value>) => x!.pow(2).add(Value.constant(3).mul(x!)),
    value: x0 * x0 + 3 * x0,
    grad: { x: 2 * x0 + 3 },
  })),
];

describe.each(MODES)("the lecture's worked examples, %s mode", (mode) => {
  test.each(examples)("$name", ({ point, build, value, grad }) => {
    const v = vars(point);
    const names = Object.keys(grad);
    const out = differentiate(build(v), names.map((n) => v[n]!), mode);
    expect(out.value).toBe(value);
    expect(Object.fromEntries(names.map((n, i) => [n, out.grads[i]]))).toEqual(grad);
  });
});

describe("the scalar engine", () => {
  test("gradients add up where a value fans out: x*x and a diamond", () => {
    const x = new Value(3, { label: "x" });
    x.mul(x).backward();
    expect(x.grad).toBe(6);
    const y = new Value(2);
    const a = y.mul(2);
    const b = y.exp();
    const d = a.mul(b); // d = 2y e^y, dd/dy = 2e^y + 2y e^y
    d.backward();
    expect(y.grad).toBeCloseTo(2 * Math.exp(2) + 4 * Math.exp(2), 12);
  });

  test("a second backward adds into the leaves; after zeroGrad it gives the same result", () => {
    const x = new Value(1.5);
    const f = x.sin().mul(x.exp());
    f.backward();
    const first = x.grad;
    f.backward();
    expect(x.grad).toBeCloseTo(2 * first, 14);
    f.zeroGrad();
    f.backward();
    expect(x.grad).toBe(first);
  });

  test("conventions at kinks follow PyTorch", () => {
    const grad = (f: (x: Value) => Value, at: number) => {
      const x = new Value(at);
      f(x).backward();
      return x.grad;
    };
    expect(grad((x) => x.relu(), 0)).toBe(0);
    expect(grad((x) => x.abs(), 0)).toBe(0);
    expect(grad((x) => x.sqrt(), 0)).toBe(Infinity);
    expect(grad((x) => x.max(0), 0)).toBe(0.5);
    expect(grad((x) => x.min(0), 0)).toBe(0.5);
    const a = new Value(2), b = new Value(2);
    a.max(b).backward();
    expect([a.grad, b.grad]).toEqual([0.5, 0.5]);
  });

  test("pow with a variable exponent differentiates both sides", () => {
    const a = new Value(2), b = new Value(3);
    a.pow(b).backward();
    expect(a.grad).toBe(12); // b a^(b-1)
    expect(b.grad).toBeCloseTo(8 * Math.log(2), 14); // a^b ln a
  });

  test("constants take no gradient and cost no multiplication", () => {
    const x = new Value(1);
    const c = Value.constant(3);
    const f = c.mul(x);
    expect(f.backward()).toBe(1);
    expect(c.grad).toBe(0);
    expect(x.grad).toBe(3);
  });
});

describe("operation counts: O(m) against O(nm)", () => {
  test("reverse mode does one multiplication per edge; forward and paths repeat work per input", () => {
    const v = vars({ x: 2, y: 10, w1: -1, b1: 4, w2: 3, b2: 1 });
    const L = v.w1!.mul(v.x!).add(v.b1!).max(0).mul(v.w2!).add(v.b2!).max(0).sub(v.y!).pow(2);
    const inputs = ["x", "y", "w1", "b1", "w2", "b2"].map((n) => v[n]!);
    // 13 edges carry a gradient: mul 2, add 2, max 1, mul 2, add 2, max 1, sub 2, pow 1.
    expect(differentiate(L, inputs, "reverse").multiplications).toBe(13);
    // Each input walks its own path to the output: x and w1 through 8 edges, b1 7, w2 5, b2 4, y 2.
    expect(differentiate(L, inputs, "paths").multiplications).toBe(8 + 2 + 8 + 7 + 5 + 4);
    expect(differentiate(L, inputs, "forward").multiplications).toBe(
      differentiate(L, inputs, "paths").multiplications,
    );
  });
});

test("x^0 has derivative 0 at x = 0 (PyTorch's rule), and x^b keeps b·x^(b-1) elsewhere", () => {
  const x = new Value(0);
  x.pow(0).backward();
  expect(x.grad).toBe(0);
  const y = new Value(0), b = new Value(0);
  y.pow(b).backward();
  expect(y.grad).toBe(0);
  const z = new Value(2);
  z.pow(3).backward();
  expect(z.grad).toBe(12);
});
