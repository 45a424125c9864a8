import { describe, expect, it } from "vitest";
import { COMPACT_SPAN, layoutFor, layoutSpan, quote, toDot } from "../../packages/gradgraph/src/render/dot.js";
import { snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
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

describe("DOT: wide graphs (layout span and the compact layout)", () => {
  /** f(x) = 1*x + 2*x + ... + n*x at x = 2: x's edges reach across the whole graph. */
  const wideSum = (n: number) => {
    const x = new Value(2, { label: "x" });
    let f = Value.constant(1).mul(x);
    for (let k = 2; k <= n; k++) f = f.add(Value.constant(k).mul(x));
    return snapshot(f, [x]);
  };

  it("measures the span that makes Graphviz slow: quadratic in a wide sum, linear in a chain", () => {
    const s100 = wideSum(100);
    expect(layoutSpan(wideSum(10).nodes)).toBeLessThan(100);
    expect(layoutSpan(s100.nodes)).toBeGreaterThan(COMPACT_SPAN * 4);
    expect(layoutFor(s100.nodes)).toBe("compact");
    const e = lectureF();
    expect(layoutFor(snapshot(e.root, e.inputs).nodes)).toBe("full");
  });

  it("draws each use of an input or constant as a node of its own, no inputs column, cheap placement", () => {
    const snap = wideSum(3);
    const full = toDot(snap);
    const dot = toDot(snap, { layout: "compact" });
    expect(dot).toContain("graph [rankdir=LR, ordering=in, nslimit=0, splines=line];");
    expect(dot).not.toContain("n0 [");
    expect(dot).toContain('  n0_1 [label="x", shape=plaintext, fontsize=14];\n  n0_1 -> n2 [label="x = 2 | ∂ += 1 (sum 6)"];');
    expect(dot).toContain("n0_3 -> ");
    expect(dot).not.toContain("n0_4");
    // The same edges in the same order, so the SVG's edge k is still edge k.
    const edges = (d: string) => [...d.matchAll(/^ {2}(n\d+)(?:_\d+)? -> (\S+)/gm)].map((m) => `${m[1]}->${m[2]}`);
    expect(edges(dot)).toEqual(edges(full));
    expect(full).not.toContain("_1");
  });
});
