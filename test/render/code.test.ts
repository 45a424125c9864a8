import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { elementwiseOps } from "../../packages/gradgraph/src/ops/elementwise.js";
import { generateCode, generateCodeLines } from "../../packages/gradgraph/src/render/code.js";
import { snapshot, type Snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { build, close, recipeArb } from "./exprs.js";
import { expectGolden } from "./golden.js";
import { everyOp, lectureExamples, lectureF, lectureFxyz, quadratic, square, type Example } from "./graphs.js";
import { hasPython, importTs, runPython, typeErrors, type Result } from "./run-code.js";

const engine = (s: Snapshot): Result => [s.nodes[s.root]!.value!, s.params.map((p) => s.nodes[p]!.grad!)];
const args = (e: Example) => e.inputs.map((x) => x.data);

describe("generateCode: golden files", () => {
  for (const mk of lectureExamples) {
    const e = mk();
    it(`${e.id} (${e.expr}) in Python and TypeScript`, () => {
      const s = snapshot(e.root, e.inputs);
      expectGolden(`code/${e.id}.py`, generateCode(s, "py"));
      expectGolden(`code/${e.id}.ts.txt`, generateCode(s, "ts"));
    });
  }
});

describe("generateCode: the lecture's style", () => {
  const lines = (code: string) => code.split("\n").map((l) => l.trim());

  it("writes the lecture's df(x, y) for f(x, y) = 1/(y + e^-x)", () => {
    const e = lectureF();
    const code = lines(generateCode(snapshot(e.root, e.inputs), "py"));
    expect(code).toContain("def df(x, y):  # x=0, y=1");
    expect(code).toContain("d = 1 / c  # d = 0.5");
    // No gradient line for the constant 1: dd is followed by dc.
    expect(code.slice(code.indexOf("dd = 1"), code.indexOf("dd = 1") + 2)).toEqual(["dd = 1", "dc = -d/c * dd  # = -0.25"]);
    expect(code).toContain("dy, db = 1 * dc, 1 * dc  # = -0.25, -0.25");
    expect(code).toContain("da = b * db  # = -0.25");
    expect(code).toContain("dx = -1 * da  # = 0.25");
    expect(code).toContain("return d, (dx, dy)");
  });

  it("adds a second contribution with += (x*x, x^2 + 3x)", () => {
    const sq = square();
    const py = lines(generateCode(snapshot(sq.root, sq.inputs), "py"));
    expect(py).toContain("dx = x * da  # = 3");
    expect(py).toContain("dx += x * da  # += 3 (dx = 6)");
    const ts = lines(generateCode(snapshot(sq.root, sq.inputs), "ts"));
    expect(ts).toContain("let dx = x * da;  // = 3");
    expect(ts).toContain("dx += x * da;  // += 3 (dx = 6)");
    const q = quadratic();
    const qpy = lines(generateCode(snapshot(q.root, q.inputs), "py"));
    expect(qpy).toContain("dx = 3 * db  # = 3");
    expect(qpy).toContain("dx += 2*x * da  # += 4 (dx = 7)");
  });

  it("declares helpers and imports math only when used", () => {
    const f = lectureF();
    const fpy = generateCode(snapshot(f.root, f.inputs), "py");
    expect(fpy.startsWith("import math\n")).toBe(true);
    expect(fpy).not.toMatch(/def (relu|sigmoid|sign)/);
    const sq = square();
    expect(generateCode(snapshot(sq.root, sq.inputs), "py")).not.toContain("import math");
    const all = everyOp();
    const s = snapshot(all.root, all.inputs);
    const py = generateCode(s, "py");
    for (const helper of ["def relu(x):", "def sigmoid(x):", "def sign(x):"]) expect(py.split(helper).length).toBe(2);
    const ts = generateCode(s, "ts");
    expect(ts).toContain("const relu = (x: number): number =>");
    expect(ts).toContain("const sigmoid = (x: number): number =>");
    expect(ts).not.toContain("const sign"); // TypeScript has Math.sign
    // abs is only used in the forward pass here; sign only in the derivative of abs.
    const x = new Value(-2, { label: "x" });
    const onlyAbs = generateCode(snapshot(x.abs(), [x], { grads: false, values: false }), "py");
    expect(onlyAbs).toContain("def sign(x):");
  });

  it("prints comparisons as numbers in TypeScript", () => {
    const e = lectureFxyz();
    const ts = generateCode(snapshot(e.root, e.inputs), "ts");
    expect(ts).toContain("const da = (Number(a>0) + 0.5*Number(a===0)) * db;  // = 6");
    expect(ts).toContain("const b = Math.max(a, 0);  // b = 3");
  });

  it("spells e and pi as math.e / Math.E, math.pi / Math.PI", async () => {
    const x = new Value(0.5, { label: "x" });
    const root = Value.constant(Math.E, "e").pow(x).mul(Value.constant(Math.PI, "pi"));
    const s = snapshot(root, [x]);
    const py = generateCode(s, "py");
    expect(py).toContain("a = math.e**x");
    expect(py).toContain("b = a * math.pi");
    const ts = generateCode(s, "ts");
    expect(ts).toContain("const a = Math.E**x;");
    const [value, grads] = (await importTs(ts)).df(0.5);
    expect(value).toBe(root.data);
    expect(close(grads[0]!, Math.PI * Math.exp(0.5))).toBe(true);
  });

  it("returns 0 for a parameter the output does not depend on", () => {
    const x = new Value(1, { label: "x" }), y = new Value(2, { label: "y" });
    const s = snapshot(x.sin(), [x, y]);
    const py = lines(generateCode(s, "py"));
    expect(py).toContain("dy = 0  # a does not depend on y");
    expect(py).toContain("return a, (dx, dy)");
  });

  it("writes a one-element tuple in Python for one parameter, and handles an output that is an input", async () => {
    const x = new Value(3, { label: "x" });
    const s = snapshot(x, [x]);
    const py = generateCode(s, "py");
    expect(py).toContain("return x, (dx,)");
    expect((await importTs(generateCode(s, "ts"))).df(3)).toEqual([3, [1]]);
  });

  it("leaves out value comments when the snapshot has no values", () => {
    const e = lectureF();
    const py = generateCode(snapshot(e.root, e.inputs, { values: false }), "py");
    expect(py).not.toContain("#");
    expect(py).toContain("dc = -d/c * dd\n");
  });

  it("renames labels that are not identifiers, and moves gradient names off taken names", async () => {
    const lam = new Value(2, { label: "lambda" }), xp = new Value(3, { label: "x'" });
    const s = snapshot(lam.mul(xp), [lam, xp]);
    const ts = generateCode(s, "ts");
    expect(ts).toContain("export function df(lambda_: number, x_: number)");
    expect((await importTs(ts)).df(2, 3)).toEqual([6, [3, 2]]);
    // An input called da would clash with the gradient of a.
    const x = new Value(1, { label: "x" }), da = new Value(2, { label: "da" });
    const s2 = snapshot(x.exp().mul(da), [x, da]);
    const py = generateCode(s2, "py");
    expect(py).toContain("d_da");
    expect(py).not.toMatch(/^\s*da = /m);
    const [value, grads] = (await importTs(generateCode(s2, "ts"))).df(1, 2);
    expect(value).toBe(2 * Math.E);
    expect(grads).toEqual([2 * Math.E, Math.E]);
  });

  it("gives ops with zero derivative (comparisons, sign) a 0 local derivative", async () => {
    const x = new Value(1.5, { label: "x" });
    const root = x.gt(1).add(x.sign()).mul(x);
    const s = snapshot(root, [x]);
    const ts = generateCode(s, "ts");
    expect(ts).toMatch(/0 \* d[a-z]/);
    const [value, grads] = (await importTs(ts)).df(1.5);
    expect(value).toBe(3);
    expect(grads).toEqual([2]);
  });
});

describe("generateCodeLines", () => {
  it("is generateCode line by line, each line tied to its node", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs);
    for (const target of ["py", "ts"] as const) {
      const lines = generateCodeLines(s, target);
      expect(lines.map((l) => l.text).join("\n") + "\n").toBe(generateCode(s, target));
    }
    const dc = generateCodeLines(s, "py").find((l) => l.text.trim().startsWith("dc ="))!;
    expect(dc).toEqual({ text: "    dc = -d/c * dd  # = -0.25", pass: "backward", node: 6, grads: [5] });
    const b = generateCodeLines(s, "py").find((l) => l.text.trim().startsWith("b ="))!;
    expect([b.pass, b.node]).toEqual(["forward", 4]);
  });
});

describe("generated TypeScript", () => {
  it("is checked by a type checker that does report errors", () => {
    expect(typeErrors("export const x: number = 'a';\n").join()).toMatch(/not assignable/);
  });

  for (const mk of [...lectureExamples, everyOp]) {
    const e = mk();
    it(`${e.id}: type-checks strictly and reproduces the engine's value and gradients`, async () => {
      const s = snapshot(e.root, e.inputs);
      const code = generateCode(s, "ts");
      expect(typeErrors(code)).toEqual([]);
      const [value, grads] = (await importTs(code)).df(...args(e));
      if (mk === everyOp) {
        expect(close(value, e.root.data)).toBe(true);
        grads.forEach((g, i) => expect(close(g, s.nodes[s.params[i]!]!.grad!)).toBe(true));
        grads.forEach((g, i) => expect(Math.abs(g - e.grads[i]!)).toBeLessThan(1e-6));
      } else {
        expect([value, grads]).toEqual(engine(s));
        expect([value, grads]).toEqual([e.value, e.grads]);
      }
    });
  }

  it("reproduces the engine on random expressions over the whole op table", async () => {
    await fc.assert(
      fc.asyncProperty(recipeArb(3), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }), async (recipe, point) => {
        const { root, inputs } = build(recipe, point);
        const s = snapshot(root, inputs);
        // Generated max/min/relu use the language's max, whose NaN and -0 conventions differ from the engine's.
        fc.pre(s.nodes.every((n) => n.value === null || Number.isFinite(n.value)));
        const [value, grads] = (await importTs(generateCode(s, "ts"))).df(...point);
        expect(close(value, root.data)).toBe(true);
        grads.forEach((g, i) => expect(close(g, s.nodes[s.params[i]!]!.grad!), `∂x${i}: ${g}`).toBe(true));
      }),
      { numRuns: 60, seed: 20240601 },
    );
  });
});

describe.skipIf(!hasPython)("generated Python (python3)", () => {
  it("reproduces the lecture's answers and the engine's values and gradients", () => {
    const examples = [...lectureExamples, everyOp].map((mk) => mk());
    const snaps = examples.map((e) => snapshot(e.root, e.inputs));
    const results = runPython(examples.map((e, i) => ({ code: generateCode(snaps[i]!, "py"), args: args(e) })));
    examples.forEach((e, i) => {
      const [value, grads] = results[i]!;
      const [ev, eg] = engine(snaps[i]!);
      expect(close(value, ev), `${e.id} value`).toBe(true);
      grads.forEach((g, k) => expect(close(g, eg[k]!), `${e.id} ∂${e.inputs[k]!.label}`).toBe(true));
      if (e.id !== "every-op") expect([value, grads]).toEqual([e.value, e.grads]);
    });
    // The lecture's table, exactly.
    expect(results[0]).toEqual([0.5, [0.25, -0.25]]);
    expect(results[1]).toEqual([7, [18, -6, 1]]);
    expect(results[2]).toEqual([9, [18, 6, -36, -18, -12, -6]]);
  });

  it("reproduces the engine on random expressions", () => {
    // Python raises where JavaScript returns inf or NaN (math.log(0), 1/0, overflow): only finite graphs here.
    const ops = Object.keys(elementwiseOps);
    const samples = fc.sample(
      fc.tuple(recipeArb(2, ops), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 2 })),
      { numRuns: 400, seed: 7 },
    );
    const cases = samples
      .map(([recipe, point]) => ({ ...build(recipe, point), point }))
      .map((c) => ({ ...c, snap: snapshot(c.root, c.inputs) }))
      .filter((c) => c.snap.nodes.every((n) => Number.isFinite(n.value!) && (n.grad === null || Number.isFinite(n.grad))))
      .filter((c) => !c.snap.nodes.some((n) => n.op === "pow" && c.snap.nodes[n.inputs[0]!]!.value! < 0))
      .slice(0, 80);
    expect(cases.length).toBeGreaterThan(50);
    const results = runPython(cases.map((c) => ({ code: generateCode(c.snap, "py"), args: c.point })));
    cases.forEach((c, i) => {
      const [value, grads] = results[i]!;
      expect(close(value, c.root.data, 1e-9), generateCode(c.snap, "py")).toBe(true);
      grads.forEach((g, k) => expect(close(g, c.snap.nodes[c.snap.params[k]!]!.grad!, 1e-9), generateCode(c.snap, "py")).toBe(true));
    });
  });
});

describe.skipIf(!hasPython)("generated Python far out on sigmoid's tails", () => {
  it("uses the stable sigmoid, as the engine does (no OverflowError at x = -800)", () => {
    const results = [-800, 800].map((x0) => {
      const x = new Value(x0, { label: "x" });
      const s = snapshot(x.sigmoid(), [x]);
      return runPython([{ code: generateCode(s, "py"), args: [x0] }])[0]!;
    });
    expect(results).toEqual([
      [0, [0]],
      [1, [0]],
    ]);
  });
});
