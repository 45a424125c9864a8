/**
 * Debug aids: detectAnomaly names the first op that made a NaN/Inf (forward, backward, forward mode), and for a
 * graph compiled from an expression points at it with a caret; scans of recorded graphs; traceProgram prints the
 * program a function records.
 */
import { describe, expect, test } from "vitest";
import { customVjp } from "../../packages/gradgraph/src/autodiff/custom.js";
import { AnomalyError, detectAnomaly, findForwardAnomaly, findScalarAnomaly, traceProgram } from "../../packages/gradgraph/src/autodiff/debug.js";
import { grad, hessian, jvp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { sweepHooks } from "../../packages/gradgraph/src/ops/sweep.js";
import { describeError, GradgraphError } from "../../packages/gradgraph/src/core/errors.js";
import { compileScalar, compileTensor, parseProgram, tensorFunctions } from "../../packages/gradgraph/src/lang/index.js";
import { randn, tensor, tensorHooks, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { t64 } from "./helpers.js";

function caught(fn: () => unknown): AnomalyError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AnomalyError) return e;
    throw e;
  }
  throw new Error("expected an AnomalyError");
}

describe("detectAnomaly", () => {
  test("forward: the first op that makes a non-finite value from finite inputs", () => {
    const x = t64([2, 1]);
    const e = caught(() => detectAnomaly(() => x.sub(1).log().mul(3).exp()));
    expect(e.phase).toBe("forward");
    expect(e.op).toBe("log");
    expect(e.message).toBe("forward pass: log(f64[2]) gave -Infinity at [1] from finite inputs");
    expect(e).toBeInstanceOf(GradgraphError); // the CLI's exit code 2
    expect(describeError(e)).toBe(e.message); // no source: no caret
  });

  test("backward: the op whose vjp turns a finite gradient into an infinite one", () => {
    const x = tensor([4, 0], { dtype: "float64", requiresGrad: true });
    const y = x.sqrt().add(x).sum(); // finite forward pass
    expect(Number.isFinite(y.item())).toBe(true);
    const e = caught(() => detectAnomaly(() => y.backward()));
    expect(e.phase).toBe("backward");
    expect(e.op).toBe("sqrt");
    expect(e.input).toBe(0);
    expect(e.message).toBe("backward pass: the gradient that sqrt(f64[2]) gives its input 0 is Infinity at [1] (from a finite incoming gradient)");
    // the same through the functional API (createGraph or not)
    expect(caught(() => detectAnomaly(() => grad((x: Tensor) => x.sqrt().sum())(t64([0])))).op).toBe("sqrt");
  });

  test("forward mode: the op whose jvp makes a non-finite tangent", () => {
    const e = caught(() => detectAnomaly(() => jvp((x: Tensor) => x.sqrt().mul(2), [t64([1, 0])], [t64([1, 1])])));
    expect(e.phase).toBe("tangent");
    expect(e.op).toBe("sqrt");
    expect(e.message).toBe("forward mode: the tangent of sqrt(f64[2]) is Infinity at [1] (from finite input tangents)");
  });

  test("inside a rule run on tensors (a custom rule, or any rule with createGraph): the rule's node is named", () => {
    const bad = customVjp((x) => x.mul(1), (g, [x]) => [g.div(x!)], { name: "my_rule" });
    const e = caught(() => detectAnomaly(() => grad((x: Tensor) => bad(x).sum())(t64([1, 0]))));
    expect(e.phase).toBe("backward");
    expect(e.op).toBe("my_rule");
    expect(e.message).toBe("backward pass, in the vjp rule of my_rule(f64[2]): div(f64[2], f64[2]) gave Infinity at [1] from finite inputs");
    // A Hessian records the backward pass as a graph: sqrt's rule divides by sqrt(0) there.
    const h = caught(() => detectAnomaly(() => hessian((x: Tensor) => x.sqrt().sum())(t64([1, 0]))));
    expect(h.phase).toBe("backward");
    expect(h.op).toBe("sqrt");
    expect(h.message).toBe("backward pass, in the vjp rule of sqrt(f64[2]): div(f64[], f64[2]) gave Infinity at [1] from finite inputs");
  });

  test("finite computations pass untouched, values that come in non-finite are not flagged, hooks are restored", () => {
    const X = randn([4, 3], { seed: 2, dtype: "float64" });
    const W = randn([3, 2], { seed: 3, dtype: "float64", requiresGrad: true });
    const loss = detectAnomaly(() => {
      const l = X.matmul(W).relu().logSoftmax(1).mean().add(t64([[-1000, 1000]]).logsumexp(1).sum());
      l.backward();
      return l;
    });
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(detectAnomaly(() => t64([Infinity, 1]).exp().toNested())).toEqual([Infinity, Math.E]);
    caught(() => detectAnomaly(() => t64([0]).log()));
    expect(tensorHooks.afterApply).toBeNull();
    expect(sweepHooks.vjp).toBeNull();
    expect(sweepHooks.jvp).toBeNull();
    expect(sweepHooks.at).toBeNull();
    expect(t64([0]).log().item()).toBe(-Infinity); // no detection outside
  });
});

describe("located in an expression", () => {
  const tensorProgram = (src: string) => parseProgram(src, { functions: tensorFunctions });

  test("backward: a caret under the node, through detectAnomaly's source option", () => {
    const p = tensorProgram("f(X) = sum(sqrt(X - 1) * 2)");
    const g = compileTensor(p, { X: [[1, 2]] });
    const e = caught(() => detectAnomaly(() => g.root.backward(), { source: p.source }));
    expect(e.format()).toBe(
      "expression:12: backward pass: the gradient that sqrt(f64[1,2]) gives its input 0 is Infinity at [0,0] (from a finite incoming gradient)\n" +
        "  f(X) = sum(sqrt(X - 1) * 2)\n" +
        "             ^^^^^^^^^^^",
    );
    // With createGraph the rule's own steps are checked, and the caret is still under the node whose rule it is.
    const e2 = caught(() => detectAnomaly(() => g.root.backward({ createGraph: true }), { source: p.source }));
    expect(e2.format()).toBe(
      "expression:12: backward pass, in the vjp rule of sqrt(f64[1,2]): div(f64[], f64[1,2]) gave Infinity at [0,0] from finite inputs\n" +
        "  f(X) = sum(sqrt(X - 1) * 2)\n" +
        "             ^^^^^^^^^^^",
    );
  });

  test("forward, in a recorded graph; a step inside a composite is shown at the composite's call", () => {
    const p = tensorProgram("mean(log(X)) + 1");
    const e = findForwardAnomaly(compileTensor(p, { X: [0, 1] }).root, { source: p.source })!;
    expect(e.format()).toBe("expression:6: forward pass: log(f64[2]) gave -Infinity at [0] from finite inputs\n  mean(log(X)) + 1\n       ^^^^^^");
    // mean = sum / n: the sum overflows, and the sum has no span of its own.
    const q = tensorProgram("mean(X * 1e300) - 1");
    const e2 = findForwardAnomaly(compileTensor(q, { X: [1e10, 1e10] }).root, { source: q.source })!;
    expect(e2.op).toBe("mul");
    const q2 = tensorProgram("mean(X) - 1");
    const e3 = findForwardAnomaly(compileTensor(q2, { X: [1e308, 1e308] }).root, { source: q2.source })!;
    expect(e3.op).toBe("sum");
    expect(e3.format()).toBe("expression:1: forward pass: sum(f64[2]) gave Infinity from finite inputs\n  mean(X) - 1\n  ^^^^^^^");
    expect(findForwardAnomaly(compileTensor(q2, { X: [1, 2] }).root)).toBeNull();
  });

  test("scalar graphs: forward and backward, with the caret", () => {
    const p = parseProgram("f(x) = log(x - 1) * 2");
    const e = findScalarAnomaly(compileScalar(p, { x: 1 }).root, { source: p.source })!;
    expect(e.format()).toBe("expression:8: forward pass: log(0) gave -Infinity from finite inputs\n  f(x) = log(x - 1) * 2\n         ^^^^^^^^^^");
    const q = parseProgram("f(x, y) = sqrt(x) * y + x");
    const g = compileScalar(q, { x: 0, y: 3 });
    const b = findScalarAnomaly(g.root, { source: q.source })!;
    expect(b.phase).toBe("backward");
    expect(b.format()).toBe(
      "expression:11: backward pass: the local derivative of sqrt(0) with respect to its input 0 is Infinity; times the incoming gradient 3 that gives Infinity\n" +
        "  f(x, y) = sqrt(x) * y + x\n" +
        "            ^^^^^^^",
    );
    expect(g.inputs[0]!.grad).toBe(0); // the scan computes its own gradients
    expect(findScalarAnomaly(compileScalar(q, { x: 1, y: 3 }).root)).toBeNull();
  });
});

describe("traceProgram", () => {
  test("one line per op, with dtypes and shapes", () => {
    const f = (x: Tensor, W: Tensor) => x.matmul(W).tanh().sum();
    const p = traceProgram(f, t64([1, 2], "x"), t64([[1, 0, 2], [0, 1, 1]], "W"));
    expect(p.toString()).toBe(
      ["trace(x: f64[2], W: f64[2,3]) {", "  a: f64[3] = matmul(x, W)", "  b: f64[3] = tanh(a)", "  c: f64[] = sum(b, axis=0)", "  return c", "}"].join("\n"),
    );
    expect(p.equations.map((e) => e.op)).toEqual(["matmul", "tanh", "sum"]);
  });

  test("trees, closed-over constants, literals, custom functions, several outputs", () => {
    const c = t64([1, 2]);
    const sp = customVjp((x) => x.exp().add(1).log(), (g, [x]) => [g.mul(x!.sigmoid())], { name: "softplus" });
    const p = traceProgram((p: { w: Tensor; b: Tensor }) => [sp(p.w.mul(c).add(p.b)), p.w.mul(2)], { w: t64([1, 1]), b: t64([0, 0]) });
    expect(p.toString()).toBe(
      [
        "trace(x0.w: f64[2], x0.b: f64[2]) {",
        "  c0: f64[2] = constant",
        "  a: f64[2] = mul(x0.w, c0)",
        "  b: f64[2] = add(a, x0.b)",
        "  c: f64[2] = softplus(b)",
        "  d: f64[2] = mul(x0.w, 2)",
        "  return c, d",
        "}",
      ].join("\n"),
    );
  });

  test("a transform inside shows the graph it records: grad, and grad of grad", () => {
    const f = (x: Tensor) => x.pow(3).sum();
    const first = traceProgram(grad(f), t64([2], "x"));
    const second = traceProgram((x: Tensor) => grad((y: Tensor) => grad(f)(y).sum())(x), t64([2], "x"));
    // The ops the result depends on: the backward pass of pow (3·x², times the seed c0), then its own backward pass
    // (2·x¹, times the constant that 3 and the seeds fold into); the identity input nodes of the transforms are not shown.
    expect(first.toString()).toBe(
      ["trace(x: f64[1]) {", "  c0: f64[1] = constant", "  a: f64[1] = pow(x, 2)", "  b: f64[1] = mul(3, a)", "  c: f64[1] = mul(b, c0)", "  return c", "}"].join("\n"),
    );
    expect(second.toString()).toBe(
      ["trace(x: f64[1]) {", "  c0: f64[1] = constant", "  a: f64[1] = pow(x, 1)", "  b: f64[1] = mul(2, a)", "  c: f64[1] = mul(b, c0)", "  return c", "}"].join("\n"),
    );
    expect(grad((y: Tensor) => grad(f)(y).sum())(t64([2])).item()).toBe(12);
  });
});
