import { describe, expect, it } from "vitest";
import { GradgraphError } from "../../src/core/errors.js";
import { pathsData, pathsReport } from "../../src/render/paths.js";
import { Value } from "../../src/scalar/value.js";
import { expectGolden } from "./golden.js";
import { lectureExamples, lectureF, lectureMlp, square } from "./graphs.js";

describe("paths report: golden files", () => {
  for (const mk of lectureExamples) {
    const e = mk();
    it(`${e.id} (${e.expr}), with respect to ${e.inputs[0]!.label}`, () =>
      expectGolden(`paths/${e.id}.txt`, pathsReport(e.root, e.inputs, e.inputs[0]!)));
  }
});

describe("paths report", () => {
  it("walks the one path from x to d in f(x, y) = 1/(y + e^-x)", () => {
    const e = lectureF();
    const data = pathsData(e.root, e.inputs, e.inputs[0]!);
    expect(data.paths).toHaveLength(1);
    expect(data.paths[0]!.nodes).toEqual(["x", "a", "b", "c", "d"]);
    expect(data.paths[0]!.steps.map((s) => [`∂${s.to}/∂${s.from}`, s.localText, s.local])).toEqual([
      ["∂a/∂x", "-1", -1],
      ["∂b/∂a", "b", 1],
      ["∂c/∂b", "1", 1],
      ["∂d/∂c", "-1/c^2", -0.25],
    ]);
    expect(data.derivative).toBe(0.25);
    expect(pathsReport(e.root, e.inputs, e.inputs[0]!)).toContain("product = -1 × 1 × 1 × (-0.25) = 0.25");
  });

  it("compares the three methods: reverse mode does one multiplication per edge", () => {
    const e = lectureMlp();
    const w1 = e.inputs[2]!;
    const data = pathsData(e.root, e.inputs, w1);
    expect(data.derivative).toBe(-36);
    expect(data.edges).toBe(13);
    const byMethod = Object.fromEntries(data.methods.map((m) => [m.method, m]));
    expect(byMethod.reverse).toEqual({ method: "reverse", passes: 1, multiplications: 13, derivative: -36 });
    expect(byMethod.forward!.passes).toBe(6);
    expect(byMethod.forward!.derivative).toBe(-36);
    expect(byMethod.paths!.derivative).toBe(-36);
    expect(byMethod.paths!.multiplications).toBeGreaterThan(byMethod.reverse!.multiplications);
  });

  it("counts both edges of x*x as separate paths", () => {
    const sq = square();
    const data = pathsData(sq.root, sq.inputs, sq.inputs[0]!);
    expect(data.paths.map((p) => p.product)).toEqual([3, 3]);
    expect(data.derivative).toBe(6);
    expect(pathsReport(sq.root, sq.inputs, sq.inputs[0]!)).toContain("∂a/∂x (input 2 of a) = x = 3");
  });

  it("reports no path for an input the output does not depend on", () => {
    const x = new Value(1, { label: "x" }), y = new Value(2, { label: "y" });
    const text = pathsReport(x.exp(), [x, y], y);
    expect(text).toContain("No path from y to a: ∂a/∂y = 0");
  });

  it("stops when there are too many paths", () => {
    const x = new Value(1, { label: "x" });
    let v = x;
    for (let i = 0; i < 12; i++) v = v.add(v); // 2^12 paths
    expect(() => pathsData(v, [x], x, 1000)).toThrow(GradgraphError);
  });
});
