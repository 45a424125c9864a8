/** The explorer's model, steppers, practice rules and URL state, in Node (no browser needed). */
import { describe, expect, it } from "vitest";
import { parseProgram } from "../../packages/gradgraph/src/lecture.js";
import type { SourceError } from "../../packages/gradgraph/src/index.js";
import { analyse, codeLines, EXAMPLES, type Problem } from "../../web/src/model.js";
import { check, close, parseAnswer } from "../../web/src/practice.js";
import { backpropStepper, dotted, forwardModeStepper, hintLines, pathsStepper, practiceFrame, practiceOrder, tensorStepper } from "../../web/src/steps.js";
import { decodeState, encodeState } from "../../web/src/url.js";

const L_MLP = "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2";

function problem(expr: string, point: string): Problem {
  const a = analyse(expr, point);
  if (!a.ok) throw new Error(a.errors.map((e) => e.text).join("\n"));
  if (a.problem === undefined) throw new Error(`${expr} compiled on the tensor engine`);
  return a.problem;
}

const idOf = (p: Problem, name: string) => p.snap.nodes.find((n) => n.name === name)!.id;
const text = (lines: { text: string }[]) => lines.map((l) => l.text).join("\n");

describe("analyse", () => {
  it("computes the lecture's L_MLP: value 9, gradients -36, -18, -12, -6 for w1, b1, w2, b2", () => {
    const p = problem(L_MLP, "2, 10, -1, 4, 3, 1");
    expect(p.output).toBe("L");
    expect(p.snap.nodes[p.snap.root]!.value).toBe(9);
    expect(p.snap.params.map((i) => p.snap.nodes[i]!.grad)).toEqual([18, 6, -36, -18, -12, -6]);
    expect(p.edges).toHaveLength(17);
    expect(p.edges.at(-1)).toMatchObject({ from: p.snap.root, to: null });
  });

  it("runs every lecture example in the menu", () => {
    for (const ex of EXAMPLES) expect(analyse(ex.expr, ex.point).ok, ex.expr).toBe(true);
    const f = problem("f(x, y) = 1/(y + e^(-x))", "0, 1");
    expect(f.snap.params.map((i) => f.snap.nodes[i]!.grad)).toEqual([0.25, -0.25]);
  });

  it("reports a syntax error against the expression exactly as the CLI formats it", () => {
    const a = analyse("f(x, y) = (x + * y", "1, 2");
    expect(a.ok).toBe(false);
    if (a.ok) return;
    let expected = "";
    try {
      parseProgram("f(x, y) = (x + * y");
    } catch (e) {
      expected = (e as SourceError).format();
    }
    expect(a.errors).toEqual([{ field: "expr", message: expect.any(String), text: expected, pos: 15, length: 1 }]);
    expect(a.errors[0]!.text.split("\n")[2]).toBe(`  ${" ".repeat(15)}^`);
  });

  it("reports point problems against the point, and engine problems against the expression", () => {
    const short = analyse(L_MLP, "2, 10");
    expect(!short.ok && short.errors[0]!.field).toBe("point");
    expect(!short.ok && short.errors[0]!.text).toMatch(/^point:\d+: L takes 6 values/);
    const missing = analyse("x * y", "x=1");
    expect(!missing.ok && missing.errors[0]).toMatchObject({ field: "point", pos: null });
    const tensor = analyse("f(x, y) = x @ y", "1, 2");
    expect(!tensor.ok && tensor.errors[0]!.field).toBe("expr");
    const file = analyse("f(x) = x", "x=@data.json");
    expect(!file.ok && file.errors[0]!.text).toContain("cannot read files");
  });
});

describe("backprop stepper", () => {
  const p = problem(L_MLP, "2, 10, -1, 4, 3, 1");
  const s = backpropStepper(p);

  it("has the inputs, one step per op, then one per gradient in backward order", () => {
    expect(s.length).toBe(1 + 8 + 14);
    expect(s.backwardStart).toBe(9);
    expect(s.frame(9).current).toEqual([p.snap.root]);
    expect(text(s.frame(9).lines)).toContain("∂L/∂j = 1");
  });

  it("shows ∂f/∂i = ∂j/∂i · ∂f/∂j with numbers, and reveals gradients on edges as they become final", () => {
    const f = s.frame(10);
    expect(f.current).toEqual([idOf(p, "i")]);
    expect(text(f.lines)).toContain("∂j/∂i = 2*i = -6");
    expect(text(f.lines)).toContain("∂L/∂i = ∂j/∂i · ∂L/∂j = -6 · 1 = -6");
    expect(f.labels).toContain("i = -3 | ∂ = -6");
    expect(f.labels).toContain("a = -2");
    expect(f.code).toEqual({ pass: "backward", node: idOf(p, "i") });
    const lines = codeLines(p, "py").filter((l) => l.pass === "backward" && l.grads.includes(idOf(p, "i")));
    expect(lines.map((l) => l.text.trim())).toEqual(["di = 2*i * dj  # = -6"]);
  });

  it("hides values not yet computed in the forward pass", () => {
    const f = s.frame(1);
    expect(f.current).toEqual([idOf(p, "a")]);
    expect(f.labels).toContain("a = -2");
    expect(f.labels).toContain("b = ?");
    expect(text(f.lines)).toContain("a = w1 * x");
  });

  it("finds each node's step", () => {
    expect(s.frame(s.stepOf(idOf(p, "w1"), "backward")).current).toEqual([idOf(p, "w1")]);
    expect(s.frame(s.stepOf(idOf(p, "c"), "forward")).code).toEqual({ pass: "forward", node: idOf(p, "c") });
  });

  it("sums a fan-out node's contributions", () => {
    const q = problem("w(x) = x^2 + 3*x", "2");
    const f = backpropStepper(q).frame(backpropStepper(q).length - 1);
    expect(text(f.lines)).toContain("x is used 2 times");
    expect(text(f.lines)).toContain("∂w/∂x = ∂b/∂x · ∂w/∂b + ∂a/∂x · ∂w/∂a = 3 + 4 = 7");
    expect(f.labels.filter((l) => l.startsWith("x ="))).toEqual(["x = 2 | ∂ += 4 (sum 7)", "x = 2 | ∂ += 3 (sum 7)"]);
  });

  it("says when the output does not depend on an input", () => {
    const q = problem("f(x, y) = x * 2", "1, 5");
    const s2 = backpropStepper(q);
    expect(text(s2.frame(s2.length - 1).lines)).toContain("f does not depend on y: ∂f/∂y = 0");
  });
});

describe("forward-mode stepper", () => {
  it("ends with every input's gradient, for every lecture example", () => {
    const scalar = EXAMPLES.filter((e) => {
      const a = analyse(e.expr, e.point);
      return a.ok && a.problem !== undefined;
    });
    for (const ex of scalar) {
      const p = problem(ex.expr, ex.point);
      for (const wrt of p.snap.params) {
        const s = forwardModeStepper(p, wrt);
        expect(s.tangents[p.snap.root], `${ex.expr} wrt ${p.snap.nodes[wrt]!.name}`).toBeCloseTo(p.snap.nodes[wrt]!.grad!, 12);
        expect(() => s.frame(s.length - 1)).not.toThrow();
      }
    }
  });

  it("pushes tangents left to right with their local derivatives", () => {
    const p = problem(L_MLP, "2, 10, -1, 4, 3, 1");
    const s = forwardModeStepper(p, idOf(p, "w1"));
    expect(s.length).toBe(9);
    expect(text(s.frame(0).lines)).toContain(`${dotted("w1")} = ∂w1/∂w1 = 1`);
    expect(text(s.frame(1).lines)).toContain(`${dotted("a")} = ∂a/∂w1 · ${dotted("w1")} = 2 · 1 = 2`);
    expect(text(s.frame(8).lines)).toContain("∂L/∂w1 = -36");
    const y = forwardModeStepper(p, idOf(p, "y"));
    expect(y.length).toBe(3);
  });

  it("says when no tangent reaches the output", () => {
    const p = problem("f(x, y) = x * 2", "1, 5");
    const s = forwardModeStepper(p, idOf(p, "y"));
    expect(text(s.frame(s.length - 1).lines)).toContain("f does not depend on y");
  });
});

describe("paths stepper", () => {
  it("shows L_MLP's one path from w1 with its product", () => {
    const p = problem(L_MLP, "2, 10, -1, 4, 3, 1");
    const s = pathsStepper(p, "w1");
    expect(s.length).toBe(1);
    const f = s.frame(0);
    expect(text(f.lines)).toContain("w1 → a → b → c → d → g → h → i → j");
    expect(text(f.lines)).toContain("2 × 1 × 1 × 3 × 1 × 1 × 1 × (-6) = -36");
    expect(f.edges).toHaveLength(8);
    expect(f.labels).toContain("w1 = -1 | ∂a/∂w1 = 2");
    expect(s.data!.methods.map((m) => m.multiplications)).toEqual([13, 34, 34]);
  });

  it("lists two paths for x in x^2 + 3x, then their sum", () => {
    const p = problem("w(x) = x^2 + 3*x", "2");
    const s = pathsStepper(p, "x");
    expect(s.length).toBe(3);
    expect(text(s.frame(2).lines)).toContain("∂w/∂x = 4 + 3 = 7");
    expect(s.frame(2).edges).toHaveLength(4);
  });

  it("refuses to list an exponential number of paths", () => {
    // Each level doubles the uses of x, so the paths: 2^10 > 500.
    let e = "x";
    for (let k = 0; k < 10; k++) e = `sin(${e}) * cos(${e})`;
    const p = problem(`f(x) = ${e}`, "0.5");
    const s = pathsStepper(p, "x");
    expect(s.error).toMatch(/more than 500 paths/);
    expect(s.length).toBe(1);
  });
});

describe("practice", () => {
  const p = problem(L_MLP, "2, 10, -1, 4, 3, 1");

  it("reads numbers and constant expressions", () => {
    expect(parseAnswer("-6")).toEqual({ value: -6 });
    expect(parseAnswer(" -1/4 ")).toEqual({ value: -0.25 });
    expect(parseAnswer("2*(-3)")).toEqual({ value: -6 });
    expect(parseAnswer("")).toHaveProperty("error");
    expect(parseAnswer("x + 1")).toHaveProperty("error");
    expect(parseAnswer("1 +")).toHaveProperty("error");
    // Non-finite values are invalid input (a hint, not a wrong answer), as "abc" is.
    expect(parseAnswer("1/0")).toEqual({ error: "Not a number: 1/0 is infinite; type a finite number." });
    expect(parseAnswer("-1/0")).toEqual({ error: "Not a number: -1/0 is minus infinity; type a finite number." });
    expect(parseAnswer("0/0")).toEqual({ error: "Not a number: 0/0 is undefined (NaN); type a finite number." });
    expect(parseAnswer("1e999")).toHaveProperty("error");
    // ...unless the gradient asked for is itself not finite (√x at 0): then 1/0 is the answer the learner types.
    const sqrt0 = problem("f(x) = sqrt(x)", "0");
    const x = sqrt0.snap.params[0]!;
    expect(sqrt0.snap.nodes[x]!.grad).toBe(Infinity);
    const typed = parseAnswer("1/0", { nonFinite: true });
    expect(typed).toEqual({ value: Infinity });
    expect(check(sqrt0, x, (typed as { value: number }).value).correct).toBe(true);
    expect(check(sqrt0, x, -Infinity).correct).toBe(false);
    expect(parseAnswer("0/0", { nonFinite: true })).toEqual({ value: NaN });
    expect(close(0.333333333, 1 / 3)).toBe(true);
    expect(close(0.33, 1 / 3)).toBe(false);
  });

  it("asks for every gradient but the seed, in backward order", () => {
    expect(practiceOrder(p).map((i) => p.snap.nodes[i]!.name)).toEqual(["i", "h", "y", "g", "d", "b2", "c", "w2", "b", "a", "b1", "w1", "x"]);
  });

  it("tells a wrong answer without revealing the value; the hint gives the factors in symbols", () => {
    const wrong = check(p, idOf(p, "i"), 5);
    expect(wrong.correct).toBe(false);
    expect(text(wrong.lines)).toBe("5 is not ∂L/∂i. Try again, or ask for a hint.");
    expect(check(p, idOf(p, "i"), -6).correct).toBe(true);
    const hint = text(hintLines(p, idOf(p, "i")));
    expect(hint).toContain("∂j/∂i = 2*i = -6");
    expect(hint).toContain("∂L/∂i = ∂j/∂i · ∂L/∂j");
    expect(hint).not.toContain("-6 · 1");
    // A fan-out node: one term per use.
    const w = problem("w(x) = x^2 + 3*x", "2");
    expect(text(hintLines(w, idOf(w, "x")))).toContain("x is used 2 times: add one contribution per use.");
    expect(text(hintLines(w, idOf(w, "x")))).toContain("∂w/∂x = ∂b/∂x · ∂w/∂b + ∂a/∂x · ∂w/∂a");
  });

  it("shows only the gradients found so far", () => {
    const f = practiceFrame(p, new Set([idOf(p, "i")]), idOf(p, "h"));
    expect(f.labels.filter((l) => l.includes("∂"))).toEqual(["i = -3 | ∂ = -6", "j = 9 | ∂ = 1"]);
    expect(f.current).toEqual([idOf(p, "h")]);
    expect(codeLines(p, "py", false).some((l) => l.text.includes("-36"))).toBe(false);
  });
});

describe("tensor expressions", () => {
  const MINIBATCH = EXAMPLES.find((e) => e.expr.startsWith("T(X, W, y, z)"))!;

  it("go to the tensor engine for array values, @ or tensor functions, with shapes on the edges", () => {
    const a = analyse(MINIBATCH.expr, MINIBATCH.point);
    expect(a.ok && a.tensor !== undefined).toBe(true);
    if (!a.ok || a.tensor === undefined) return;
    const t = a.tensor;
    expect(t.dot).toContain('label="X [2,2]"');
    expect(t.dot).toContain('label="y [2]"');
    expect(t.view.seededWithOnes).toBe(true);
    const grad = (name: string) => t.view.nodes.find((n) => n.name === name)!.grad;
    // The lecture's dW = Xᵀ dP and dz = Σ-rows of dT.
    expect(grad("W")).toEqual([[11, 6], [1, 12]]);
    expect(grad("z")).toEqual([2, 2]);
    expect(t.edges).toHaveLength(t.view.nodes.reduce((k, n) => k + n.inputs.length, 0) + 1);
    const sum = analyse("f(x) = sum(x, axis=0)", "x=[1, 2, 3]");
    expect(sum.ok && sum.tensor?.view.nodes[sum.tensor.view.root]!.value).toBe(6);
    const bad = analyse("f(x) = sum(x, axs=0)", "x=[1, 2]");
    expect(!bad.ok && bad.errors[0]!.text).toMatch(/^expression:\d+: unknown keyword argument axs/);
    expect(analyse("f(x) = x * 2", "x=[1, 2]").ok).toBe(true);
  });

  it("step forward with values, then backward with gradients (seeded with ones)", () => {
    const a = analyse(MINIBATCH.expr, MINIBATCH.point);
    if (!a.ok || a.tensor === undefined) throw new Error("not a tensor problem");
    const s = tensorStepper(a.tensor);
    expect(s.length).toBe(1 + 5 + 9);
    expect(text(s.frame(1).lines)).toContain("a = X @ W");
    expect(text(s.frame(1).lines)).toContain("a = [[2, 3], [2.5, -5]]");
    expect(text(s.frame(s.backwardStart).lines)).toContain("∇T = ones[2,2]");
    expect(text(s.frame(s.length - 1).lines)).toContain("∇X = [[-4, 13], [3, 1.5]]");
  });
});

describe("URL state", () => {
  it("round-trips", () => {
    const s = { expr: L_MLP, point: "2, 10, -1, 4, 3, 1", view: "paths" as const, step: 3, wrt: "w1", code: "ts" as const };
    expect(decodeState(encodeState(s))).toEqual(s);
    const d = { expr: "x", point: "x=1", view: "backprop" as const, step: null, wrt: null, code: "py" as const };
    expect(encodeState(d)).toBe("?e=x&at=x%3D1");
  });

  it("ignores what it does not understand", () => {
    expect(decodeState("?view=nope&step=-1&code=rust&wrt=")).toEqual({});
  });
});
