import { describe, expect, it } from "vitest";
import { generateCode } from "../../packages/gradgraph/src/render/code.js";
import { toDot } from "../../packages/gradgraph/src/render/dot.js";
import { snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { formatTrace } from "../../packages/gradgraph/src/render/trace.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";

// Every renderer is linear in the graph: a quadratic step (a lookup per contribution, padding every row to the
// widest cell) takes minutes here and fails by timeout.
describe("renderers on a large graph", () => {
  it("render a 50,001-node graph whose input is used 10,001 times", () => {
    const x = new Value(0.5, { label: "x" });
    let v = x;
    for (let i = 0; i < 10_000; i++) v = v.mul(1.0001).add(x.mul(1e-6));
    const s = snapshot(v, [x]);
    expect(s.nodes).toHaveLength(1 + 5 * 10_000); // per step: two constants, two products, one sum
    v.backward();
    expect(s.nodes[0]!.grad).toBe(x.grad);
    expect(s.nodes[0]!.contributions).toHaveLength(10_001);

    const py = generateCode(s, "py");
    expect(py.split("\n").filter((l) => l.trim().startsWith("dx += "))).toHaveLength(10_000);
    const trace = formatTrace(s);
    expect(trace).toContain("sum of 10001 contributions");
    expect(trace.split("\n").every((l) => l.length < 200)).toBe(true);
    const dot = toDot(s);
    expect(dot.match(/ -> /g)).toHaveLength(6 * 10_000 + 1); // two edges into each op, and the output
  });
});
