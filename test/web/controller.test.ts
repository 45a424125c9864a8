/** The explorer's state (controller.ts) and the model's NaN/∞ explanations, in Node. */
import { describe, expect, it } from "vitest";
import { Explorer } from "../../web/src/controller.js";
import { analyse, drawing, type Problem } from "../../web/src/model.js";
import { layoutFor } from "../../packages/gradgraph/src/lecture.js";

function problem(expr: string, point: string): Problem {
  const a = analyse(expr, point);
  if (!a.ok || a.problem === undefined) throw new Error(`${expr}: not a scalar problem`);
  return a.problem;
}

describe("Explorer (the page's state)", () => {
  it("builds a view's stepper once: stepping on a 2,000-term graph asks it for one frame, nothing more", () => {
    const terms = Array.from({ length: 2000 }, (_, k) => `${k + 1}*x`).join(" + ");
    const p = problem(`f(x) = ${terms}`, "2");
    const ex = new Explorer({});
    expect(ex.setProblem(p, false, false)).toEqual({ change: "graph", notice: null });
    const stepper = ex.stepper()!;
    expect(stepper.length).toBeGreaterThan(6000);
    ex.go(10);
    ex.go(ex.currentStep() + 1);
    expect(ex.currentStep()).toBe(11);
    expect(ex.stepper()).toBe(stepper);
    // Another view or input builds another; back again, a fresh one for the view.
    ex.view = "forward";
    expect(ex.stepper()).not.toBe(stepper);
    expect(ex.setProblem(p, false, false).change).toBe("same");
  });

  it("keeps the steps of a link (restore), restarts them otherwise, and says when a tensor problem cannot show a view", () => {
    const ex = new Explorer({ view: "forward", step: 1, wrt: "y" });
    ex.setProblem(problem("f(x, y) = x*y", "1, 2"), false, true);
    expect(ex.currentStep()).toBe(1);
    expect(ex.wrt).toBe("y");
    ex.setProblem(problem("f(x, y) = x*y + y", "1, 2"), false, false);
    expect(ex.steps.forward).toBeNull();
    const t = analyse("f(x) = x^2", "[1, 2]");
    if (!t.ok || t.tensor === undefined) throw new Error("not a tensor problem");
    expect(ex.setProblem(t.tensor, true, false)).toEqual({ change: "graph", notice: "forward" });
    expect(ex.view).toBe("backprop");
  });

  it("a click on a node steps to it (backprop) or picks the input (forward mode)", () => {
    const ex = new Explorer({});
    const p = problem("w(x, y, z) = (x + y)*z", "1, 2, -3");
    ex.setProblem(p, false, false);
    const a = p.snap.nodes.find((n) => n.name === "a")!.id;
    ex.go(0);
    expect(ex.clickNode(a)).toBe(true);
    expect(ex.stepper()!.frame(ex.currentStep()).current).toEqual([a]);
    ex.view = "forward";
    expect(ex.clickNode(p.snap.nodes.find((n) => n.name === "z")!.id)).toBe(true);
    expect(ex.wrt).toBe("z");
  });
});

describe("wide graphs and non-finite values", () => {
  it("asks for the compact layout for a wide sum, the full one for the lecture's graphs", () => {
    const wide = drawing(problem(`f(x) = ${Array.from({ length: 100 }, (_, k) => `${k + 1}*x`).join(" + ")}`, "2"));
    expect(layoutFor(wide.nodes)).toBe("compact");
    expect(wide.dot("compact")).toContain("n0_100 -> ");
    expect(layoutFor(drawing(problem("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2", "2, 10, -1, 4, 3, 1")).nodes)).toBe("full");
  });

  it("says where and why the function is undefined (NaN), infinite, or not differentiable", () => {
    const log = problem("f(x) = log(x)", "-1").anomaly!;
    expect(log.report).toBe("expression:8: forward pass: log(-1) gave NaN from finite inputs\n  f(x) = log(x)\n         ^^^^^^");
    expect(log.meaning).toMatch(/^log has no real value here \(NaN, "not a number"\): the point is outside its domain/);
    expect(problem("f(x) = 1/x", "0").anomaly!.meaning).toMatch(/^div is infinite here/);
    const sqrt = problem("f(x) = sqrt(x)", "0").anomaly!;
    expect(sqrt.report).toContain("backward pass: the local derivative of sqrt(0)");
    expect(sqrt.meaning).toContain("not differentiable at this point");
    expect(problem("f(x) = x^2", "3").anomaly).toBeNull();
    const t = analyse("f(x) = sum(log(x))", "[1, -1]");
    expect(t.ok && t.tensor?.anomaly?.report).toContain("log(f64[2]) gave NaN at [1]");
  });
});
