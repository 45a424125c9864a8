import { describe, expect, it } from "vitest";
import { snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { backwardRows, formatTrace, forwardRows } from "../../packages/gradgraph/src/render/trace.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { expectGolden } from "./golden.js";
import { lectureExamples, lectureF, quadratic, square } from "./graphs.js";

describe("trace tables: golden files", () => {
  for (const mk of lectureExamples) {
    const e = mk();
    it(`${e.id} (${e.expr})`, () => expectGolden(`trace/${e.id}.txt`, formatTrace(snapshot(e.root, e.inputs))));
  }
});

describe("trace tables", () => {
  it("walks the forward pass of f(x, y) = 1/(y + e^-x) at (0, 1)", () => {
    const e = lectureF();
    const rows = forwardRows(snapshot(e.root, e.inputs));
    expect(rows.map((r) => [r.node, r.operation, r.formula, r.inputs, r.value])).toEqual([
      ["x", "input", "", "", "0"],
      ["y", "input", "", "", "1"],
      ["a", "neg", "-x", "x = 0", "0"],
      ["b", "exp", "exp(a)", "a = 0", "1"],
      ["c", "add", "y + b", "y = 1, b = 1", "2"],
      ["d", "div", "1 / c", "1, c = 2", "0.5"],
    ]);
  });

  it("walks the backward pass with symbolic and numeric local derivatives", () => {
    const e = lectureF();
    const rows = backwardRows(snapshot(e.root, e.inputs));
    expect(rows.map((r) => r.node)).toEqual(["d", "c", "y", "b", "a", "x"]);
    expect(rows[1]).toEqual({ node: "c", local: "∂d/∂c = -d/c = -0.25", incoming: "∇d = 1", contribution: "-0.25", gradient: "-0.25" });
    expect(rows[4]!.local).toBe("∂b/∂a = b = 1");
    expect(rows[5]).toEqual({ node: "x", local: "∂a/∂x = -1", incoming: "∇a = -0.25", contribution: "0.25", gradient: "0.25" });
  });

  it("shows each contribution of a fan-out node and their sum", () => {
    const sq = square();
    const rows = backwardRows(snapshot(sq.root, sq.inputs));
    expect(rows.slice(1).map((r) => [r.node, r.contribution, r.gradient])).toEqual([["x", "3", ""], ["x", "3", "3 + 3 = 6"]]);
    const q = quadratic();
    const qrows = backwardRows(snapshot(q.root, q.inputs)).filter((r) => r.node === "x");
    expect(qrows.map((r) => [r.local, r.gradient])).toEqual([["∂b/∂x = 3", ""], ["∂a/∂x = 2*x = 4", "3 + 4 = 7"]]);
  });

  it("writes negative terms of a sum with a minus sign", () => {
    const x = new Value(2, { label: "x" });
    const rows = backwardRows(snapshot(x.mul(3).sub(x.mul(5)), [x])).filter((r) => r.node === "x");
    expect(rows.at(-1)!.gradient).toBe("-5 + 3 = -2");
  });

  it("says when the output does not depend on an input", () => {
    const x = new Value(1, { label: "x" }), y = new Value(2, { label: "y" });
    const rows = backwardRows(snapshot(x.cos(), [x, y]));
    expect(rows.at(-1)).toEqual({ node: "y", local: "a does not depend on y", incoming: "", contribution: "", gradient: "0" });
  });

  it("aligns columns and leaves no trailing spaces", () => {
    const e = lectureF();
    const text = formatTrace(snapshot(e.root, e.inputs));
    const lines = text.split("\n");
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
    const header = lines.find((l) => l.includes("local derivative"))!;
    const seed = lines.find((l) => l.includes("(seed)"))!;
    // The gradient column starts at the same place in the header and in every row.
    expect(seed.lastIndexOf("1")).toBe(header.lastIndexOf("gradient"));
  });

  it("prints only the forward pass without gradients, and numbers without float noise", () => {
    const x = new Value(0.1, { label: "x" });
    const text = formatTrace(snapshot(x.add(0.2), [x], { grads: false }));
    expect(text).not.toContain("Backward");
    expect(text).toContain("0.3");
    expect(text).not.toContain("0.30000000000000004");
  });
});
