import { describe, expect, it } from "vitest";
import { GradgraphError } from "../../packages/gradgraph/src/core/errors.js";
import { elementwiseOps } from "../../packages/gradgraph/src/ops/elementwise.js";
import { snapshot, snapshotToJson } from "../../packages/gradgraph/src/render/snapshot.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";
import { everyOp, lectureExamples, lectureF, lectureFxyz, quadratic, square } from "./graphs.js";

const names = (s: ReturnType<typeof snapshot>) => s.nodes.map((n) => n.name);

describe("snapshot", () => {
  it("names the lecture's f(x, y) as the lecture does: a = -x, b = e^a, c = y + b, d = 1 / c", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs);
    expect(names(s)).toEqual(["x", "y", "1", "a", "b", "c", "d"]);
    expect(s.nodes.map((n) => n.kind)).toEqual(["input", "input", "const", "op", "op", "op", "op"]);
    expect(s.nodes.map((n) => n.op)).toEqual([null, null, null, "neg", "exp", "add", "div"]);
    expect(s.nodes[6]!.inputs).toEqual([2, 5]);
    expect(s.root).toBe(6);
    expect(s.params).toEqual([0, 1]);
    expect(s.nodes.map((n) => n.value)).toEqual([0, 1, 1, -0, 1, 2, 0.5]);
  });

  it("records local derivatives as numbers and on the board, and none into constants", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs);
    const d = s.nodes[6]!;
    expect(d.locals).toEqual([null, -0.25]);
    expect(d.localsText).toEqual([null, "-d/c"]);
    expect(s.nodes[4]!.localsText).toEqual(["b"]);
    expect(s.nodes[3]!.localsText).toEqual(["-1"]);
  });

  it("computes the lecture's gradients without touching the graph's own grad fields", () => {
    for (const mk of [...lectureExamples, everyOp]) {
      const e = mk();
      const s = snapshot(e.root, e.inputs);
      for (const x of e.inputs) expect(x.grad).toBe(0);
      const grads = s.params.map((p) => s.nodes[p]!.grad);
      // Same float64 results as Value.backward (same order of additions).
      e.root.backward();
      expect(grads).toEqual(e.inputs.map((x) => x.grad));
      expect(s.nodes[s.root]!.grad).toBe(1);
      if (mk !== everyOp) expect(grads).toEqual(e.grads);
    }
  });

  it("records each contribution of a fan-out node: x*x", () => {
    const e = square();
    const s = snapshot(e.root, e.inputs);
    const x = s.nodes[0]!;
    expect(x.fanOut).toBe(true);
    expect(x.uses).toEqual([{ node: 1, input: 0 }, { node: 1, input: 1 }]);
    expect(x.contributions).toEqual([
      { from: 1, input: 0, local: 3, incoming: 1, value: 3 },
      { from: 1, input: 1, local: 3, incoming: 1, value: 3 },
    ]);
    expect(x.grad).toBe(6);
  });

  it("records contributions from different consumers: x^2 + 3x", () => {
    const e = quadratic();
    const s = snapshot(e.root, e.inputs);
    const x = s.nodes[0]!;
    expect(names(s)).toEqual(["x", "2", "a", "3", "b", "c"]);
    expect(x.contributions.map((c) => [s.nodes[c.from]!.name, c.value])).toEqual([["b", 3], ["a", 4]]);
    expect(x.grad).toBe(7);
    expect(s.nodes.filter((n) => n.fanOut).map((n) => n.name)).toEqual(["x"]);
  });

  it("orders the backward pass as gradients become final", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs);
    expect(s.backwardOrder.map((i) => s.nodes[i]!.name)).toEqual(["d", "c", "y", "b", "a", "x"]);
    const q = quadratic();
    const sq = snapshot(q.root, q.inputs);
    expect(sq.backwardOrder.map((i) => sq.nodes[i]!.name)).toEqual(["c", "a", "b", "x"]);
  });

  it("skips e, f, names taken by inputs and keywords, and goes on with a1, b1 after z", () => {
    const e = lectureFxyz();
    const fxyz = snapshot(e.root, e.inputs);
    expect(fxyz.nodes.filter((n) => n.kind === "op").map((n) => n.name)).toEqual(["a", "b", "c", "d", "g"]);
    const a = new Value(1, { label: "a" }), c = new Value(2, { label: "c" });
    let v = a.add(c);
    for (let i = 0; i < 30; i++) v = v.add(1);
    const s = snapshot(v, [a, c]);
    const ops = s.nodes.filter((n) => n.kind === "op").map((n) => n.name);
    expect(ops.slice(0, 4)).toEqual(["b", "d", "g", "h"]);
    expect(ops).not.toContain("e");
    expect(ops).not.toContain("f");
    expect(ops).not.toContain("o");
    expect(ops).toContain("a1");
    expect(new Set(ops).size).toBe(ops.length);
  });

  it("makes duplicate and missing input labels unique", () => {
    const x1 = new Value(1, { label: "x" }), x2 = new Value(2, { label: "x" }), u = new Value(3);
    const s = snapshot(x1.mul(x2).add(u), [x1, x2, u]);
    expect(names(s).slice(0, 3)).toEqual(["x", "x_2", "a"]);
    expect(new Set(names(s).filter((n) => !/^\d/.test(n))).size).toBe(names(s).length);
  });

  it("keeps an op's label when it is a usable identifier", () => {
    const x = new Value(2, { label: "x" });
    const L = Value.apply(elementwiseOps.mul, [x, 3], { label: "L" });
    const s = snapshot(L, [x]);
    expect(names(s)).toEqual(["x", "3", "L"]);
  });

  it("treats leaves that need a gradient but were not listed as parameters", () => {
    const x = new Value(1, { label: "x" }), w = new Value(2, { label: "w" });
    const s = snapshot(x.mul(w), [x]);
    expect(s.params.map((p) => s.nodes[p]!.name)).toEqual(["x", "w"]);
    expect(s.nodes[1]!.grad).toBe(1);
  });

  it("keeps unused inputs, with gradient 0, last in the backward order", () => {
    const x = new Value(1, { label: "x" }), y = new Value(2, { label: "y" });
    const s = snapshot(x.exp(), [x, y]);
    expect(s.nodes[1]!.name).toBe("y");
    expect(s.nodes[1]!.grad).toBe(0);
    expect(s.nodes[1]!.uses).toEqual([]);
    expect(s.backwardOrder.map((i) => s.nodes[i]!.name)).toEqual(["a", "x", "y"]);
  });

  it("names e and pi, and prints other constants as literals", () => {
    const x = new Value(1, { label: "x" });
    const s = snapshot(Value.constant(Math.E, "e").pow(x).mul(Value.constant(Math.PI, "pi")).add(0.5), [x]);
    expect(names(s)).toEqual(["x", "e", "a", "pi", "b", "0.5", "c"]);
    expect(s.nodes[1]!.namedConstant).toBe("e");
    expect(s.nodes[3]!.namedConstant).toBe("pi");
    // A constant called e that is not e is just a number.
    expect(snapshot(Value.constant(2, "e").mul(x), [x]).nodes[1]!.name).toBe("2");
  });

  it("can leave values out (structure and names only)", () => {
    const e = lectureF();
    const s = snapshot(e.root, e.inputs, { values: false });
    expect(s.hasValues).toBe(false);
    expect(s.hasGrads).toBe(false);
    expect(s.nodes.map((n) => n.value)).toEqual([null, null, 1, null, null, null, null]);
    expect(s.nodes.every((n) => n.grad === null && n.contributions.length === 0)).toBe(true);
    expect(s.nodes[6]!.localsText).toEqual([null, "-d/c"]);
  });

  it("records spans", () => {
    const x = new Value(4, { label: "x", span: { pos: 5, length: 1 } });
    const s = snapshot(Value.apply(elementwiseOps.sqrt, [x], { span: { pos: 0, length: 7 } }), [x]);
    expect(s.nodes.map((n) => n.span)).toEqual([{ pos: 5, length: 1 }, { pos: 0, length: 7 }]);
  });

  it("rejects an input that is computed by an op", () => {
    const x = new Value(1, { label: "x" });
    const a = x.exp();
    expect(() => snapshot(a.sin(), [a])).toThrow(GradgraphError);
    expect(() => snapshot(a.sin(), [a])).toThrow(/input 1 .* is computed by exp/);
  });

  it("is plain JSON, non-finite numbers included", () => {
    const x = new Value(0, { label: "x" });
    const s = snapshot(x.sqrt(), [x]); // sqrt'(0) = +inf
    expect(s.nodes[1]!.locals).toEqual([Infinity]);
    const back = JSON.parse(snapshotToJson(s)) as typeof s;
    expect(back.nodes[1]!.locals).toEqual(["Infinity"]);
    expect(back.nodes[0]!.grad).toBe("Infinity");
    const e = lectureF();
    const plain = snapshot(e.root, e.inputs);
    expect(JSON.parse(snapshotToJson(plain))).toEqual(JSON.parse(JSON.stringify(plain)));
  });
});
