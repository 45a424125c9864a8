/**
 * The CLI's functional side: grad --order 2 (the Hessian), jvp (the directional derivative by forward mode),
 * trace/dot --order 2 (the graph of a first derivative), --detect-anomaly; their errors (exit code 2, a message,
 * a caret into the expression or the --tangent text) and --help.
 */
import { describe, expect, test } from "vitest";
import { run } from "../cli/run.js";

const LMLP = "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2";

describe("grad --order 2", () => {
  test("the Hessian as JSON, rows first; forward-over-forward gives the same", async () => {
    const args = ["grad", "f(x, y, z) = (max(3*x, 0) - y)^2 + z", "--at", "1,0,-2", "--order", "2", "--json"];
    const r = await run(...args);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      value: 7,
      grad: { x: 18, y: -6, z: 1 },
      // (3x - y)² + z: ∂²/∂x² = 18, ∂²/∂x∂y = -6, ∂²/∂y² = 2
      hessian: { x: { x: 18, y: -6, z: 0 }, y: { x: -6, y: 2, z: 0 }, z: { x: 0, y: 0, z: 0 } },
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const fwd = await run(...args, "--mode", "forward");
    expect(JSON.parse(fwd.stdout)).toEqual(JSON.parse(r.stdout));
  });

  test("L_MLP: the gradient of the lecture, a symmetric 6×6 Hessian", async () => {
    const r = await run("grad", LMLP, "--at", "2,10,-1,4,3,1", "--order", "2", "--json");
    const { value, grad, hessian } = JSON.parse(r.stdout) as { value: number; grad: Record<string, number>; hessian: Record<string, Record<string, number>> };
    expect(value).toBe(9);
    expect(grad).toEqual({ x: 18, y: 6, w1: -36, b1: -18, w2: -12, b2: -6 });
    const names = Object.keys(grad);
    for (const a of names) for (const b of names) expect(hessian[a]![b]).toBe(hessian[b]![a]);
    // L = (w2·h + b2 - y)², h = w1·x + b1 = 2 > 0 and the outer max is active: ∂²L/∂b2² = 2, ∂²L/∂y² = 2.
    expect(hessian.b2!.b2).toBe(2);
    expect(hessian.y!.b2).toBe(-2);
    expect(hessian.w2!.w2).toBe(2 * 2 * 2);
  });

  test("human output: value, gradient, the Hessian table and how it was computed", async () => {
    const r = await run("grad", "f(x) = x^3", "--at", "x=2", "--order", "2", "--mode", "forward");
    expect(r.stdout).toBe(
      "f = 8  at x=2\n∂f/∂x = 12\n\nHessian (row i, column j: ∂²f/∂i∂j)\n  ∂²f  x\n  ---  --\n  x    12\n" +
        "(forward-over-forward: 1 forward pass recorded as graphs, then 1 forward pass through each)\n",
    );
  });

  test("non-finite entries are null in JSON and said on stderr", async () => {
    const r = await run("grad", "f(x) = sqrt(x)", "--at", "x=0", "--order", "2", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: 0, grad: { x: null }, hessian: { x: { x: null } } });
    expect(r.stderr).toContain("note: ∂²f/∂x∂x is -Infinity; JSON has no such number, so it is written as null\n");
    expect(r.stderr).not.toContain("gradgraph:");
  });

  test.each([
    ["--order 3", ["grad", "x^2", "--at", "x=1", "--order", "3"], "gradgraph: --order 3: expected 1 or 2\n"],
    ["arrays", ["grad", "sum(X)", "--at", "X=[1,2]", "--order", "2"], "gradgraph: grad --order 2 prints the Hessian of an expression of numbers; X is bound to an array of shape [2]\n"],
    ["--mode paths", ["grad", "x*y", "--at", "x=1,y=2", "--order", "2", "--mode", "paths"], /--order 2 --mode paths: the path-product algorithm gives first derivatives only/],
    ["a syntax error keeps its caret", ["grad", "x*+", "--at", "x=1", "--order", "2"], /expression:4: expected an expression, got end of input\n {2}x\*\+\n {5}\^/],
    ["a missing value", ["grad", "x*y", "--at", "x=1", "--order", "2"], /missing value for y/],
  ] as const)("%s: exit 2 and a message", async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    if (typeof message === "string") expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe("jvp", () => {
  test("the directional derivative equals Σ ∂f/∂xᵢ·tᵢ from grad (L_MLP, positional tangent)", async () => {
    const t = [0.5, -1, 2, 0.25, -0.5, 3];
    const r = await run("jvp", LMLP, "--at", "2,10,-1,4,3,1", "--tangent", t.join(","), "--json");
    expect(r.code).toBe(0);
    const grad = [18, 6, -36, -18, -12, -6];
    const out = JSON.parse(r.stdout) as { value: number; tangent: Record<string, number>; jvp: number };
    expect(out.value).toBe(9);
    expect(out.tangent).toEqual({ x: 0.5, y: -1, w1: 2, b1: 0.25, w2: -0.5, b2: 3 });
    expect(out.jvp).toBeCloseTo(grad.reduce((s, g, i) => s + g * t[i]!, 0), 12);
  });

  test("human output; inputs left out get 0", async () => {
    const r = await run("jvp", "f(x, y) = x*y^2", "--at", "x=3,y=2", "--tangent", "y=1");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("f = 12  at x=3, y=2\nt: x=0, y=1\n∂f/∂t = 12\n(forward mode: one pass through the jvp rules, Σᵢ ∂f/∂xᵢ·tᵢ)\n");
  });

  test("tensors: an array output gets one directional derivative per element, in one pass", async () => {
    const r = await run("jvp", "P(X, W) = max(X @ W, 0)", "--at", "X=[[1,2],[3,-4]]", "--at", "W=[[0.5],[-1]]", "--tangent", "W=[[1],[0]]", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: [[0], [5.5]], tangent: { X: [[0, 0], [0, 0]], W: [[1], [0]] }, jvp: [[0], [3]] });
    const text = await run("jvp", "P(X, W) = max(X @ W, 0)", "--at", "X=[[1,2],[3,-4]]", "--at", "W=[[0.5],[-1]]", "--tangent", "W=[[1],[0]]");
    expect(text.stdout).toBe(
      "P = [[0], [5.5]]  (shape [2,1])  at X=[[1, 2], [3, -4]], W=[[0.5], [-1]]\nt: X=[[0, 0], [0, 0]], W=[[1], [0]]\n∂P/∂t = [[0], [3]]\n" +
        "(forward mode: one pass through the jvp rules, Σᵢ ∂P/∂xᵢ·tᵢ)\n",
    );
  });

  test.each([
    [
      "a tangent of the wrong shape: a caret into --tangent",
      ["jvp", "f(x, y) = x*y", "--at", "1,2", "--tangent", "x=1,y=[1,2]"],
      "gradgraph: --tangent:7: y is a number, so its tangent is a number; got shape [2]\n  x=1,y=[1,2]\n        ^^^^^\n",
    ],
    [
      "an array input needs an array tangent of its shape",
      ["jvp", "sum(X)", "--at", "X=[[1,2]]", "--tangent", "X=[1,2]"],
      "gradgraph: --tangent:3: X has shape [1,2], so its tangent must too; got shape [2]\n  X=[1,2]\n    ^^^^^\n",
    ],
    [
      "several wrong shapes at once",
      ["jvp", "f(x, y) = x*y", "--at", "1,2", "--tangent", "x=[1],y=[1,2]"],
      /--tangent:3: x is a number[\s\S]*\^\^\^\n--tangent:9: y is a number[\s\S]*\^\^\^\^\^\n$/,
    ],
    ["an unknown name, with a suggestion", ["jvp", "f(x, y) = x*y", "--at", "1,2", "--tangent", "xx=1"], "gradgraph: --tangent:1: f has no parameter xx (did you mean x?)\n  xx=1\n  ^^\n"],
    ["not a number", ["jvp", "x*y", "--at", "x=1,y=2", "--tangent", "x=abc"], "gradgraph: --tangent:3: x: abc is not a number\n  x=abc\n    ^^^\n"],
    ["a malformed binding", ["jvp", "x*y", "--at", "x=1,y=2", "--tangent", "x=1,,y=2"], /--tangent:5: malformed binding: empty/],
    ["an empty tangent", ["jvp", "x*y", "--at", "x=1,y=2", "--tangent", ""], "gradgraph: --tangent: bind the direction for at least one input, e.g. --tangent x=1 (unbound inputs get 0)\n"],
    ["no --tangent", ["jvp", "x*y", "--at", "x=1,y=2"], /required option '--tangent <bindings>' not specified/],
    ["no inputs", ["jvp", "2*3", "--tangent", "x=1"], /jvp: the expression has no inputs/],
    ["a bad point", ["jvp", "x*y", "--at", "x=1", "--tangent", "x=1"], /missing value for y/],
  ] as const)("%s", async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    if (typeof message === "string") expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
  });
});

describe("trace and dot --order 2: the graph of a first derivative", () => {
  test("trace: the derivative's forward pass, and its backward pass giving second derivatives", async () => {
    const r = await run("trace", "f(x, y) = x*y^2", "--at", "1,2", "--order", "2", "--wrt", "y");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("dy = ∂f/∂y as the graph that the backward pass records (createGraph); its own backward pass gives ∂²f/∂y∂n");
    // dy = 2xy = 4; ∂dy/∂x = 2y = 4, ∂dy/∂y = 2x = 2
    expect(r.stdout).toMatch(/\n {2}dy {4}\[\] {5}mul {8}b \* c {4}4\n/);
    // each gradient with the rule that made it (the derivative graph's own backward pass)
    expect(r.stdout).toMatch(/\n {2}y {5}\[\] {5}∇y = y\^0\*∇a {2}2\n {2}x {5}\[\] {5}∇x = ∇c {6}4\n$/);
  });

  test("dot: DOT on stdout, the note on stderr; without --at the inputs are 0", async () => {
    const r = await run("dot", "f(x) = sin(x)*x", "--at", "x=1", "--order", "2");
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('digraph "gradgraph" {')).toBe(true);
    expect(r.stdout).toContain('tooltip="dx = b + g"');
    // ∂dx/∂x on the edge out of x: d²(x sin x)/dx² = 2cos 1 - sin 1
    expect(r.stdout).toContain(`x [] = 1 | ∂ = ${(2 * Math.cos(1) - Math.sin(1)).toPrecision(12)}`);
    expect(r.stderr).toBe("note: dx = ∂f/∂x as the graph that the backward pass records (createGraph); its own backward pass gives ∂²f/∂x∂n\n");
    const bare = await run("dot", "f(x) = x^2", "--order", "2");
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('tooltip="dx = b * 1"');
  });

  test.each([
    ["several inputs need --wrt", ["trace", "x*y", "--at", "x=1,y=2", "--order", "2"], "gradgraph: trace --order 2: the expression has 2 inputs (x, y); pick the first derivative to show with --wrt\n"],
    ["--wrt must be an input", ["dot", "f(x, y) = x*y", "--at", "1,2", "--order", "2", "--wrt", "yy"], "gradgraph: --wrt yy: not an input of the expression (did you mean y?) (its inputs: x, y)\n"],
    ["--wrt goes with --order 2", ["trace", "x*y", "--at", "x=1,y=2", "--wrt", "x"], "gradgraph: --wrt picks the first derivative whose graph is shown: it goes with --order 2\n"],
    ["--code is first order", ["trace", "x^2", "--at", "x=1", "--order", "2", "--code", "py"], /--code writes first-order scalar programs only/],
  ] as const)("%s", async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    if (typeof message === "string") expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
  });
});

describe("--detect-anomaly", () => {
  test.each([
    [
      "scalar engine, forward pass",
      ["grad", "f(x) = log(x - 1) * 2", "--at", "x=1", "--detect-anomaly"],
      "gradgraph: expression:8: forward pass: log(0) gave -Infinity from finite inputs\n  f(x) = log(x - 1) * 2\n         ^^^^^^^^^^\n",
    ],
    [
      "tensor engine, backward pass",
      ["grad", "sum(sqrt(X) * 2)", "--at", "X=[0,1]", "--detect-anomaly"],
      "gradgraph: expression:5: backward pass: the gradient that sqrt(f64[2]) gives its input 0 is Infinity at [0] (from a finite incoming gradient)\n  sum(sqrt(X) * 2)\n      ^^^^^^^\n",
    ],
    [
      "a step inside a composite is shown at the call",
      ["grad", "mean(X) * 2", "--at", "X=[1e308,1e308]", "--detect-anomaly"],
      "gradgraph: expression:1: forward pass: sum(f64[2]) gave Infinity from finite inputs\n  mean(X) * 2\n  ^^^^^^^\n",
    ],
    [
      "jvp: forward mode",
      ["jvp", "f(x) = sqrt(x) * 2", "--at", "x=0", "--tangent", "x=1", "--detect-anomaly"],
      "gradgraph: expression:8: forward mode: the tangent of sqrt(f64[]) is Infinity (from finite input tangents)\n  f(x) = sqrt(x) * 2\n         ^^^^^^^\n",
    ],
    [
      "grad --order 2",
      ["grad", "f(x) = sqrt(x)^3", "--at", "x=0", "--order", "2", "--detect-anomaly"],
      "gradgraph: expression:8: backward pass: the gradient that sqrt(f64[]) gives its input 0 is NaN (from a finite incoming gradient)\n  f(x) = sqrt(x)^3\n         ^^^^^^^\n",
    ],
    [
      "grad --order 2: forward mode through the backward pass is shown at the node whose derivative it is",
      ["grad", "f(x) = x^1.5", "--at", "0", "--order", "2", "--detect-anomaly"],
      "gradgraph: expression:8: forward mode, in the derivative of pow(0, 1.5): the tangent of pow(0, 0.5) is Infinity (from finite input tangents)\n  f(x) = x^1.5\n         ^^^^^\n",
    ],
    [
      "grad --order 2: forward pass",
      ["grad", "f(x) = log(x)", "--at", "0", "--order", "2", "--detect-anomaly"],
      "gradgraph: expression:8: forward pass: log(f64[]) gave -Infinity from finite inputs\n  f(x) = log(x)\n         ^^^^^^\n",
    ],
  ] as const)("%s", async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(message);
  });

  test("without an anomaly the output is what it is without the flag", async () => {
    for (const argv of [
      ["grad", LMLP, "--at", "2,10,-1,4,3,1"],
      ["grad", "sum(max(X @ W, 0))", "--at", "X=[[1,2],[3,4]]", "--at", "W=[[1,-1],[0,2]]", "--json"],
      ["grad", "f(x, y) = 1/(y + exp(-x))", "--at", "0,1", "--order", "2"],
      ["jvp", "f(x, y) = 1/(y + exp(-x))", "--at", "0,1", "--tangent", "x=1"],
    ]) {
      const plain = await run(...argv);
      const checked = await run(...argv, "--detect-anomaly");
      expect(plain.code).toBe(0);
      expect(checked.combined).toBe(plain.combined);
    }
    // and without the flag, a NaN is printed, not stopped at
    const r = await run("grad", "f(x) = sqrt(x)", "--at", "x=0");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("∂f/∂x = inf");
  });
});

describe("--help", () => {
  test.each([
    ["grad", ["--order <n>", "--detect-anomaly", "--order 2"]],
    ["jvp", ["--tangent <bindings>", "--detect-anomaly", "∂f/∂t = Σᵢ ∂f/∂xᵢ·tᵢ", "gradgraph jvp 'f(x, y) = 1/(y + exp(-x))' --at 0,1 --tangent x=1"]],
    ["trace", ["--order <n>", "--wrt <name>"]],
    ["dot", ["--order <n>", "--wrt <name>"]],
  ] as const)("%s --help", async (command, words) => {
    const r = await run(command, "--help");
    expect(r.code).toBe(0);
    for (const w of words) expect(r.stdout).toContain(w);
  });

  test("jvp is listed in the top-level help", async () => {
    const r = await run("--help");
    expect(r.stdout).toMatch(/jvp \[options\] <expr> +the directional derivative along a tangent/);
  });
});
