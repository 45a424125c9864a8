import { describe, expect, it } from "vitest";
import { PATH_STEP_LIMIT } from "../../packages/gradgraph/src/autodiff/modes.js";
import { GradgraphError } from "../../packages/gradgraph/src/core/errors.js";
import { pathsData, pathsReport } from "../../packages/gradgraph/src/render/paths.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
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
      ["∂d/∂c", "-d/c", -0.25],
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

  it("walks the 1000 paths of x + x + … + x (500,499 steps) in time linear in the steps", () => {
    // The report used to look up, for every step, every step of every path: 1000 terms took minutes.
    const x = new Value(1, { label: "x" });
    let v = x;
    for (let i = 1; i < 1000; i++) v = v.add(x);
    const data = pathsData(v, [x], x);
    expect(data.paths).toHaveLength(1000);
    expect(data.derivative).toBe(1000);
    expect(data.methods.find((m) => m.method === "paths")!.multiplications).toBe(500_499);
    const text = pathsReport(v, [x], x);
    expect(text).toContain(`∂${data.output}/∂x = the sum of the 1000 products = 1000`);
    // Only the first sum takes x twice.
    expect(text.match(/\(input \d of a\)/g)).toHaveLength(2);
    expect(text.match(/\(input/g)).toHaveLength(2);
  });

  it("refuses more than PATH_STEP_LIMIT steps before walking any path, with the counts", () => {
    const x = new Value(1, { label: "x" });
    let v = x;
    for (let i = 1; i < 15000; i++) v = v.add(x);
    // 15000 paths with 1 + 2 + … + 14999 + 14999 steps: counted, not walked.
    expect(() => pathsData(v, [x], x)).toThrow(
      new GradgraphError(
        "paths: 15,000 paths from x to the output, 112,507,499 steps in all: more than the 2,000,000 steps the " +
          "path-product algorithm walks at most (it multiplies along every step of every path); use reverse mode, " +
          "which multiplies once per edge",
      ),
    );
    expect(PATH_STEP_LIMIT).toBe(2_000_000);
  });

  it("counts the paths of a graph whose paths double at every level without walking them", () => {
    const x = new Value(1, { label: "x" });
    let v = x;
    for (let i = 0; i < 200; i++) v = v.add(v); // 2^200 paths
    expect(() => pathsData(v, [x], x)).toThrow(/^paths: 1\.60e60 paths from x to the output, 3\.21e62 steps in all/);
  });

  it("stops when there are too many paths", () => {
    const x = new Value(1, { label: "x" });
    let v = x;
    for (let i = 0; i < 12; i++) v = v.add(v); // 2^12 paths
    expect(() => pathsData(v, [x], x, 1000)).toThrow(GradgraphError);
  });
});
