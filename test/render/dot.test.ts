import { describe, expect, it } from "vitest";
import { quote, toDot } from "../../src/render/dot.js";
import { snapshot } from "../../src/render/snapshot.js";
import { Value } from "../../src/scalar/value.js";
import { expectGolden } from "./golden.js";
import { lectureExamples, lectureF, square } from "./graphs.js";

describe("DOT: golden files", () => {
  for (const mk of lectureExamples) {
    const e = mk();
    it(`${e.id} (${e.expr})`, () => expectGolden(`dot/${e.id}.dot`, toDot(snapshot(e.root, e.inputs))));
  }
});

describe("DOT", () => {
  it("draws ops as nodes and values as labelled edges, left to right, ending in an output marker", () => {
    const e = lectureF();
    const dot = toDot(snapshot(e.root, e.inputs));
    expect(dot).toMatch(/^digraph "gradgraph" \{\n {2}graph \[rankdir=LR/);
    expect(dot).toContain('n6 [label="/", shape=circle, tooltip="d = 1 / c"];');
    expect(dot).toContain('n4 [label="exp", shape=ellipse, tooltip="b = exp(a)"];');
    expect(dot).toContain('n0 [label="x", shape=plaintext');
    expect(dot).toContain('n5 -> n6 [label="c = 2 | ∂ = -0.25"];');
    expect(dot).toContain('n6 -> out [label="d = 0.5 | ∂ = 1"];');
    expect(dot).toContain("  n2 -> n6;\n"); // the constant 1: no label
    // Operands in order, the numerator first.
    expect(dot.indexOf("n2 -> n6")).toBeLessThan(dot.indexOf("n5 -> n6"));
  });

  it("labels each use of a fan-out value with its share and the total", () => {
    const sq = square();
    const dot = toDot(snapshot(sq.root, sq.inputs));
    expect(dot.match(/n0 -> n1 \[label="x = 3 \| ∂ \+= 3 \(sum 6\)"\];/g)).toHaveLength(2);
  });

  it("leaves gradients out when asked or when there are none, and values when there are none", () => {
    const e = lectureF();
    expect(toDot(snapshot(e.root, e.inputs), { grads: false })).toContain('n5 -> n6 [label="c = 2"];');
    expect(toDot(snapshot(e.root, e.inputs, { grads: false }))).not.toContain("∂");
    expect(toDot(snapshot(e.root, e.inputs, { values: false }))).toContain('n5 -> n6 [label="c"];');
  });

  it("escapes labels", () => {
    expect(quote('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    const x = new Value(1, { label: 'x"1' });
    const dot = toDot(snapshot(x.gt(0).add(x), [x]));
    expect(dot).toContain('[label="x\\"1", shape=plaintext');
    expect(dot).toContain('[label=">", shape=circle');
  });

  it("is deterministic", () => {
    expect(toDot(snapshot(lectureF().root, lectureF().inputs))).toBe(toDot(snapshot(lectureF().root, lectureF().inputs)));
  });
});
