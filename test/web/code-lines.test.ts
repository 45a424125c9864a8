/** generateCodeLines, the line↔node map the explorer highlights code with: the same program as generateCode, each line tagged with the node it computes or differentiates. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateCode, generateCodeLines } from "../../packages/gradgraph/src/render/code.js";
import { snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { build, recipeArb } from "../render/exprs.js";
import { everyOp, lectureExamples, lectureF, quadratic } from "../render/graphs.js";

describe("generateCodeLines", () => {
  it("joins to exactly generateCode's text, in both languages, with and without values", () => {
    for (const mk of [...lectureExamples, everyOp]) {
      const e = mk();
      for (const s of [snapshot(e.root, e.inputs), snapshot(e.root, e.inputs, { grads: false }), snapshot(e.root, e.inputs, { values: false })]) {
        for (const target of ["py", "ts"] as const) {
          expect(generateCodeLines(s, target).map((l) => l.text).join("\n") + "\n").toBe(generateCode(s, target));
        }
      }
    }
    fc.assert(
      fc.property(recipeArb(2), (recipe) => {
        const { root, inputs } = build(recipe, [0.5, -1.5]);
        const s = snapshot(root, inputs);
        for (const target of ["py", "ts"] as const) {
          expect(generateCodeLines(s, target).map((l) => l.text).join("\n") + "\n").toBe(generateCode(s, target));
        }
      }),
      { numRuns: 100 },
    );
  });

  it("tags the lecture's df(x, y): one forward line per op, gradient lines by the op they differentiate", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs);
    const lines = generateCodeLines(s, "py");
    const id = (name: string) => s.nodes.find((n) => n.name === name)!.id;
    const forward = lines.filter((l) => l.pass === "forward");
    expect(forward.map((l) => s.nodes[l.node!]!.name)).toEqual(["a", "b", "c", "d"]);
    const line = (start: string) => lines.find((l) => l.text.trim().startsWith(start))!;
    expect(line("dd = 1")).toMatchObject({ pass: "backward", node: id("d"), grads: [id("d")] });
    expect(line("dc =")).toMatchObject({ pass: "backward", node: id("d"), grads: [id("c")] });
    expect(line("dy, db =")).toMatchObject({ pass: "backward", node: id("c"), grads: [id("y"), id("b")] });
    expect(line("dx =")).toMatchObject({ pass: "backward", node: id("a"), grads: [id("x")] });
    expect(line("def df")).toMatchObject({ pass: null, node: null, grads: [] });
    expect(line("return")).toMatchObject({ pass: null, node: null, grads: [] });
  });

  it("tags a second contribution (+=) with the node it adds to, and every gradient is assigned somewhere", () => {
    const q = quadratic();
    const s = snapshot(q.root, q.inputs);
    const lines = generateCodeLines(s, "ts");
    const x = s.params[0]!;
    expect(lines.filter((l) => l.grads.includes(x)).map((l) => l.text.trim())).toEqual(["let dx = 3 * db;  // = 3", "dx += 2*x * da;  // += 4 (dx = 7)"]);
    for (const n of s.backwardOrder) expect(lines.some((l) => l.grads.includes(n))).toBe(true);
  });
});
