/**
 * Property: for random expression trees at random points away from kinks, reverse mode = forward mode =
 * path-product = central finite differences (float64).
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { differentiate } from "../../packages/gradgraph/src/autodiff/modes.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { compileScalar, parseBindings, parseProgram } from "../../packages/gradgraph/src/lang/index.js";

/**
 * A random program over variables x0..x2, written as straight-line code the way the lecture writes `def f`:
 * each instruction applies an op to earlier values (chosen by index), so values fan out and graphs have
 * diamonds. The last instruction is the output.
 */
type Unary = "neg" | "exp" | "log" | "sqrt" | "abs" | "relu" | "sigmoid" | "tanh" | "sin" | "cos" | "sq" | "const";
type Binary = "add" | "sub" | "mul" | "div" | "pow" | "max" | "min";
interface Instr {
  op: Unary | Binary;
  a: number;
  b: number;
  c: number;
}

const ops: (Unary | Binary)[] = [
  "neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "sin", "cos", "sq", "const",
  "add", "sub", "mul", "div", "pow", "max", "min",
];
const N = 3;

const program: fc.Arbitrary<Instr[]> = fc.array(
  fc.record({
    op: fc.constantFrom(...ops),
    a: fc.nat(),
    b: fc.nat(),
    c: fc.double({ min: -3, max: 3, noNaN: true }),
  }),
  { minLength: 1, maxLength: 12 },
);

/** Positive and smooth: t² + 0.5 keeps log, sqrt, division and pow bases in their domains. */
const positive = (t: Value) => t.mul(t).add(0.5);
/** Bounded and smooth, to keep exp and pow exponents from overflowing. */
const bounded = (t: Value) => t.tanh().mul(2);

/** Runs the program; `kink` is how close any relu/abs/max/min came to its kink. */
function build(prog: readonly Instr[], xs: readonly Value[]): { out: Value; kink: number } {
  const vals: Value[] = [...xs];
  let kink = Infinity;
  for (const { op, a: ia, b: ib, c } of prog) {
    // Prefer recent values so programs are deep, not just wide.
    const a = vals[vals.length - 1 - (ia % Math.min(vals.length, 3))]!;
    const b = vals[ib % vals.length]!;
    const near = (d: number) => (kink = Math.min(kink, Math.abs(d)));
    let v: Value;
    switch (op) {
      case "neg": v = a.neg(); break;
      case "exp": v = bounded(a).exp(); break;
      case "log": v = positive(a).log(); break;
      case "sqrt": v = positive(a).sqrt(); break;
      case "abs": near(a.data); v = a.abs(); break;
      case "relu": near(a.data); v = a.relu(); break;
      case "sigmoid": v = a.sigmoid(); break;
      case "tanh": v = a.tanh(); break;
      case "sin": v = a.sin(); break;
      case "cos": v = a.cos(); break;
      case "sq": v = a.pow(2); break;
      case "const": v = a.mul(Value.constant(c)); break;
      case "add": v = a.add(b); break;
      case "sub": v = a.sub(b); break;
      case "mul": v = a.mul(b); break;
      case "div": v = a.div(positive(b)); break;
      case "pow": v = positive(a).pow(bounded(b)); break;
      case "max": near(a.data - b.data); v = a.max(b); break;
      case "min": near(a.data - b.data); v = a.min(b); break;
    }
    vals.push(v);
  }
  return { out: vals[vals.length - 1]!, kink };
}

const point = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: N, maxLength: N });

let checked = 0;

test("reverse = forward = path-product = central differences on random expressions", () => {
  fc.assert(
    fc.property(program, point, (t, p) => {
      const xs = p.map((v, i) => new Value(v, { label: `x${i}` }));
      const { out, kink } = build(t, xs);
      fc.pre(kink > 1e-3 && Number.isFinite(out.data) && Math.abs(out.data) < 1e6);
      const rev = differentiate(out, xs, "reverse");
      const fwd = differentiate(out, xs, "forward");
      const paths = differentiate(out, xs, "paths");
      const h = 1e-6;
      for (let i = 0; i < N; i++) {
        const at = (d: number) => build(t, p.map((v, j) => new Value(j === i ? v + d : v))).out.data;
        const fd = (at(h) - at(-h)) / (2 * h);
        const scale = Math.max(1, Math.abs(fd), Math.abs(rev.grads[i]!));
        expect(Math.abs(fwd.grads[i]! - rev.grads[i]!)).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(paths.grads[i]! - rev.grads[i]!)).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(fd - rev.grads[i]!)).toBeLessThanOrEqual(2e-5 * scale);
      }
      // Reverse mode multiplies through each edge once; forward mode at least once (once per input reaching it).
      expect(rev.multiplications).toBeLessThanOrEqual(fwd.multiplications);
      checked++;
    }),
    { numRuns: 300, seed: 20261126 },
  );
  // The precondition must not have discarded most cases.
  expect(checked).toBeGreaterThan(200);
});

/** The same program written as text on the board (subexpressions used twice are written twice). */
function boardText(prog: readonly Instr[]): string {
  const vals = Array.from({ length: N }, (_, i) => `x${i}`);
  for (const { op, a: ia, b: ib, c } of prog) {
    const a = `(${vals[vals.length - 1 - (ia % Math.min(vals.length, 3))]!})`;
    const b = `(${vals[ib % vals.length]!})`;
    const positive = (t: string) => `(${t}*${t} + 0.5)`;
    const bounded = (t: string) => `(tanh(${t})*2)`;
    const text: Record<Unary | Binary, () => string> = {
      neg: () => `-${a}`,
      exp: () => `exp(${bounded(a)})`,
      log: () => `log(${positive(a)})`,
      sqrt: () => `sqrt(${positive(a)})`,
      abs: () => `abs(${a})`,
      relu: () => `relu(${a})`,
      sigmoid: () => `sigmoid(${a})`,
      tanh: () => `tanh(${a})`,
      sin: () => `sin(${a})`,
      cos: () => `cos(${a})`,
      sq: () => `${a}^2`,
      const: () => `${a}*(${String(c)})`,
      add: () => `${a} + ${b}`,
      sub: () => `${a} - ${b}`,
      mul: () => `${a}*${b}`,
      div: () => `${a}/${positive(b)}`,
      pow: () => `${positive(a)}^${bounded(b)}`,
      max: () => `max(${a}, ${b})`,
      min: () => `min(${a}, ${b})`,
    };
    vals.push(text[op]());
  }
  return `f(${vals.slice(0, N).join(", ")}) = ${vals[vals.length - 1]!}`;
}

test("through the expression language: the parsed program gives the Value graph's value and gradients, in all three modes", () => {
  let checked = 0;
  fc.assert(
    fc.property(program, point, (prog, p) => {
      const text = boardText(prog);
      fc.pre(text.length < 5000);
      const xs = p.map((v, i) => new Value(v, { label: `x${i}` }));
      const { out, kink } = build(prog, xs);
      fc.pre(kink > 1e-3 && Number.isFinite(out.data) && Math.abs(out.data) < 1e6);
      const expected = differentiate(out, xs, "reverse");
      const program = parseProgram(text);
      for (const mode of ["reverse", "forward", "paths"] as const) {
        const g = compileScalar(program, parseBindings([p.map(String).join(",")], program));
        const r = differentiate(g.root, g.inputs, mode);
        expect(r.value).toBeCloseTo(expected.value, 10);
        r.grads.forEach((d, i) => {
          const scale = Math.max(1, Math.abs(expected.grads[i]!));
          expect(Math.abs(d - expected.grads[i]!)).toBeLessThanOrEqual(1e-10 * scale);
        });
      }
      checked++;
    }),
    { numRuns: 150, seed: 20261127 },
  );
  expect(checked).toBeGreaterThan(80);
});
