/** The CLI on the tensor engine: array bindings, `@`, tensor functions, seeding with ones, JSON, shape errors. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { run } from "./run.js";

const at = (...xs: string[]) => xs.flatMap((x) => ["--at", x]);

describe("grad with tensors", () => {
  test("the lecture's minibatch df: value, gradients, seeded with ones and said on stderr only", async () => {
    const r = await run(
      "grad",
      "T(X, W, y, z) = (max(X @ W, 0) - y)^2 + z",
      ...at("X=[[1,2],[3,-4]]", "W=[[1,-1],[0.5,2]]", "y=[1,2],z=[0,1]"),
      "--json",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      value: [[1, 2], [0, 5]],
      grad: { X: [[0, 5], [0, 0]], W: [[2, 2], [4, 4]], y: [-2, 2], z: [2, 2] },
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toBe(
      "note: T has shape [2,2], not a single value: the backward pass is seeded with ones (the gradient of sum(T)), as the lecture does\n",
    );
  });

  test("a scalar result needs no seed and prints no note; human output", async () => {
    const r = await run("grad", "sum(max(X @ W, 0))", ...at("X=[[1,2],[3,4]]", "W=[[1,-1],[0,2]]"));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("f = 12\n∂f/∂X = [[0, 2], [0, 2]]\n∂f/∂W = [[4, 4], [6, 6]]\n(reverse mode on the tensor engine: one backward pass)\n");
  });

  test("forward mode gives the same gradients as reverse mode", async () => {
    const args = ["grad", "mean(softmax(X, axis=1) * C) + logsumexp(X, axis=0)", ...at("X=[[1,2,3],[0,-1,4]]", "C=[[1,0,2],[3,1,0]]"), "--json"];
    const rev = JSON.parse((await run(...args)).stdout);
    const fwd = JSON.parse((await run(...args, "--mode", "forward")).stdout);
    expect(fwd.value).toEqual(rev.value);
    const flat = (v: unknown) => [v].flat(Infinity) as number[];
    flat(fwd.grad.X).forEach((g, i) => expect(g).toBeCloseTo(flat(rev.grad.X)[i]!, 12));
  });

  test("forward mode seeds only the input it differentiates: no 0·∞ = NaN from the other inputs", async () => {
    // sqrt'(0) = ∞ on x alone: ∂/∂y must not see it (a zero tangent on x would give 0·∞ = NaN).
    const r = await run("grad", "sum(sqrt(x)+y)", ...at("x=[0,1]", "y=[1,1]"), "--mode", "forward", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.value).toBe(3);
    expect(out.grad.y).toEqual([1, 1]);
    expect(out.grad.x[0]).toBeNull(); // +∞, as in reverse mode
    expect(r.stderr).toContain("∂f/∂x contains Infinity");
    expect(r.stderr).not.toContain("∂f/∂y");
    // x/0 has an infinite derivative with respect to x only.
    const div = await run("grad", "sum(x/0+y)", ...at("x=2,y=1"), "--mode", "forward");
    expect(div.code).toBe(0);
    expect(div.stdout).toBe("f = inf\n∂f/∂x = inf\n∂f/∂y = 1\n(forward mode on the tensor engine: 2 forward passes, one per input element)\n");
    expect((await run("grad", "sum(x/0+y)", ...at("x=2,y=1"))).stdout).toContain("∂f/∂y = 1\n");
  });

  test("the note on a non-scalar output says what each mode differentiates", async () => {
    const args = ["grad", "x*y", ...at("x=[1,2]", "y=[3,4]"), "--json"];
    const fwd = await run(...args, "--mode", "forward");
    expect(JSON.parse(fwd.stdout)).toEqual({ value: [3, 8], grad: { x: [3, 4], y: [1, 2] } });
    expect(fwd.stderr).toBe(
      "note: f has shape [2], not a single value: forward mode gives the derivatives of sum(f) (each pass adds up " +
        "the tangent of f), as the lecture's backward pass seeded with ones does\n",
    );
    expect(fwd.stderr).not.toContain("backward pass is");
    const rev = await run(...args);
    expect(rev.stderr).toBe(
      "note: f has shape [2], not a single value: the backward pass is seeded with ones (the gradient of sum(f)), as the lecture does\n",
    );
  });

  test("max and min: one argument or axis= reduces, two arguments are elementwise", async () => {
    const reduce = JSON.parse((await run("grad", "max(X, axis=1)", ...at("X=[[1,3,3],[2,2,2]]"), "--json")).stdout);
    expect(reduce).toEqual({ value: [3, 2], grad: { X: [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]] } });
    const all = JSON.parse((await run("grad", "min(X)", ...at("X=[[1,3],[0,2]]"), "--json")).stdout);
    expect(all).toEqual({ value: 0, grad: { X: [[0, 0], [1, 0]] } });
    const elementwise = JSON.parse((await run("grad", "max(X, 0)", ...at("X=[-1,2]"), "--json")).stdout);
    expect(elementwise).toEqual({ value: [0, 2], grad: { X: [0, 1] } });
  });

  test("sum(x), sum(x, axis=0), mean, transpose, keepdims", async () => {
    const r = JSON.parse((await run("grad", "sum(transpose(X), axis=0, keepdims=1) * mean(X)", ...at("X=[[1,2],[3,4]]"), "--json")).stdout);
    expect(r.value).toEqual([[7.5, 17.5]]);
    // d/dX of (ΣX)·mean(X) = 2·ΣX/4 = 5 everywhere.
    expect(r.grad.X).toEqual([[5, 5], [5, 5]]);
  });

  test("values from a file (--at X=@file.json), repeated --at, commas inside brackets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-"));
    const file = join(dir, "X.json");
    writeFileSync(file, "[[1, 2], [3, 4]]");
    const r = await run("grad", "sum(X @ v)", "--at", `X=@${file}`, "--at", "v=[1,-1]", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: -2, grad: { X: [[1, -1], [1, -1]], v: [4, 6] } });
  });

  test("--at X=@/dev/zero, a FIFO or a file over 100 MB is refused at once (exit 2), not read without end", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-"));
    execFileSync("mkfifo", [join(dir, "fifo.json")]);
    for (const [file, why] of [
      ["/dev/zero", "a character device, not a regular file; only regular files are read"],
      [join(dir, "fifo.json"), "a pipe (FIFO), not a regular file; only regular files are read"],
    ] as const) {
      const r = await run("grad", "sum(X)", "--at", `X=@${file}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`gradgraph: --at:3: X: cannot read ${file}: ${why}\n`);
    }
    const big = join(dir, "big.json");
    writeFileSync(big, "");
    truncateSync(big, 100_000_001); // sparse: no disk used
    const r = await run("grad", "sum(X)", "--at", `X=@${big}`);
    expect(r.stderr).toContain(`cannot read ${big}: 100 MB, more than the 100 MB allowed for an @file`);
  });

  test("stable at ±1000 and with -inf; non-finite JSON numbers become null with a note", async () => {
    const r = await run("grad", "logsumexp(X, axis=1)", ...at("X=[[1000,1000],[-1000,-1000]]"), "--json");
    const out = JSON.parse(r.stdout);
    expect(out.value[0]).toBeCloseTo(1000 + Math.log(2), 10);
    expect(out.grad.X).toEqual([[0.5, 0.5], [0.5, 0.5]]);
    const minusInf = JSON.parse((await run("grad", "logsumexp(X, axis=1)", "--at", "X=[[1,2],[0,0]]", "--json")).stdout);
    expect(minusInf.value[1]).toBeCloseTo(Math.log(2), 14);
    const neg = await run("grad", "log(X)", "--at", "X=[0,1]", "--json");
    expect(JSON.parse(neg.stdout).value).toEqual([null, 0]);
    expect(neg.stderr).toContain("f contains -Infinity; JSON has no such number, so it is written as null");
    // Every kind of non-finite number is said, not just the first.
    const both = await run("grad", "sqrt(x) * y", ...at("x=[0,1]", "y=[0,1]"), "--json");
    expect(JSON.parse(both.stdout).grad.x).toEqual([null, 0.5]);
    expect(both.stderr).toContain("∂f/∂x contains NaN; JSON has no such number, so it is written as null\n");
    const mixed = await run("grad", "log(x)", ...at("x=[0,-1,1]"), "--json");
    expect(JSON.parse(mixed.stdout).value).toEqual([null, null, 0]);
    expect(mixed.stderr).toContain("f contains -Infinity and NaN; JSON has no such numbers, so they are written as null\n");
  });

  test("a number is a 0-d tensor: axis 0 and -1 name its one value, as in PyTorch (sum(x, axis=0) is x)", async () => {
    const args = ["grad", "sum(x, axis=0) * max(x, axis=-1) + softmax(x, axis=0) + logsumexp(x, axis=-1)", "--at", "x=3", "--json"];
    for (const mode of ["reverse", "forward"]) {
      const r = await run(...args, "--mode", mode);
      expect([r.code, JSON.parse(r.stdout), r.stderr], mode).toEqual([0, { value: 13, grad: { x: 7 } }, ""]);
    }
  });

  test("scalar expressions with numbers stay on the scalar engine", async () => {
    const r = await run("grad", "w(x, y, z) = (x + y)*z", "--at", "1,2,-3");
    expect(r.stdout).toBe("w = -9  at x=1, y=2, z=-3\n∂w/∂x = -3\n∂w/∂y = -3\n∂w/∂z = 3\n(reverse mode: 4 local-derivative multiplications)\n");
  });
});

describe("shape and language errors: exit code 2, the engine's message, a caret, no stack", () => {
  const cases: [string, string[], string][] = [
    [
      "X @ W",
      at("X=[[1,2,3],[3,4,5]]", "W=[[1,-1],[0,2]]"),
      "gradgraph: expression:3: matmul: inner dimensions differ: [2,3] @ [2,2]\n  X @ W\n    ^\n",
    ],
    ["a + b", at("a=[1,2,3],b=[1,2,3,4]"), "gradgraph: expression:3: add: shapes [3] and [4] cannot be broadcast\n  a + b\n    ^\n"],
    ["sum(X, axis=2)", at("X=[[1]]"), "gradgraph: expression:1: sum: axis 2 is out of range for shape [1,1]\n  sum(X, axis=2)\n  ^^^\n"],
    ["mean(x, axis=1)", at("x=3"), "gradgraph: expression:1: mean: axis 1 is out of range for a 0-d tensor (shape []): expected 0 or -1 (the range [-1, 0])\n  mean(x, axis=1)\n  ^^^^\n"],
    [
      "max(X, 0, axis=1)",
      at("X=[[1]]"),
      "gradgraph: expression:11: max(a, b) is elementwise (the larger of a and b) and takes no axis; reduce with max(x, axis=...)\n  max(X, 0, axis=1)\n            ^^^^\n",
    ],
    ["sum(X, axs=1)", at("X=[[1]]"), "gradgraph: expression:8: unknown keyword argument axs for sum (did you mean axis?)\n  sum(X, axs=1)\n         ^^^\n"],
    ["sum(X, axis=X)", at("X=[[1]]"), "gradgraph: expression:13: axis must be a constant integer\n  sum(X, axis=X)\n              ^\n"],
  ];
  for (const [expr, args, stderr] of cases) {
    test(expr, async () => {
      const r = await run("grad", expr, ...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(stderr);
    });
  }

  test("paths is scalar-only, with a message", async () => {
    const p = await run("paths", "sum(X)", "--at", "X=[1,2]", "--wrt", "X");
    expect(p.code).toBe(2);
    expect(p.stderr).toBe("gradgraph: paths: the path-product algorithm runs on scalar expressions, not on tensors\n");
  });

  test("trace --code on tensors writes the vectorised df (NumPy; gradgraph's functional in TypeScript)", async () => {
    const t = await run("trace", "T = X @ W + b", ...at("X=[[1,2],[3,4]]", "W=[[1,0],[0,1]]", "b=[1,2]"), "--code", "py");
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("def df(X, W, b):\n    a = X @ W\n    T = a + b\n");
    expect(t.stdout).toContain("    db = np.sum(dT, axis=0)\n    dW = X.T @ da\n    dX = da @ W.T\n");
    expect(t.stderr).toMatch(/^note: T has shape \[2,2\]/);
    const s = await run("trace", "sum(X)", "--at", "X=[1,2]", "--code", "ts");
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("export function df(X: Tensor): [Tensor, Tensor[]] {");
    expect(s.stdout).toContain("const dX = np.broadcastTo(da, [2]);");
  });

  test("dot of a tensor expression needs its values (shapes come from them)", async () => {
    const r = await run("dot", "sum(X @ W)");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("gradgraph: dot: a tensor expression takes its shapes from its values: bind X, W with --at\n");
  });
});

describe("trace and dot show shapes", () => {
  test("trace: forward and backward tables with a shape column", async () => {
    const r = await run("trace", "L(X, W) = sum(max(X @ W, 0))", ...at("X=[[1,2],[3,-4]]", "W=[[1,-1],[0.5,2]]"));
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("Forward pass");
    expect(lines[1]).toMatch(/^ {2}node {2}shape {2}operation {2}formula +value$/);
    expect(lines.find((l) => l.startsWith("  a "))).toMatch(/^ {2}a +\[2,2\] +matmul +X @ W +\[\[2, 3\], \[1, -11\]\]$/);
    expect(lines.find((l) => l.startsWith("  L "))).toMatch(/^ {2}L +\[\] +sum +sum\(b, axis=\[0, 1\]\) +6$/);
    expect(r.stdout).toContain("Backward pass (∇n = ∂L/∂n)\n  node  shape  rule");
    expect(lines.find((l) => l.startsWith("  W ") && l.includes("[[4, 1], [-2, 2]]"))).toBeDefined();
    // The vector rule of each node, from the ops' own vjp rules.
    const backward = lines.slice(lines.findIndex((l) => l.startsWith("Backward pass")));
    expect(backward.find((l) => l.startsWith("  W "))).toMatch(/ ∇W = Xᵀ @ ∇a /);
    expect(backward.find((l) => l.startsWith("  X "))).toMatch(/ ∇X = ∇a @ Wᵀ /);
    expect(backward.find((l) => l.startsWith("  b "))).toMatch(/ ∇b = broadcastTo\(∇L, \[2, 2\]\) /);
    expect(r.stderr).toBe("");
  });

  test("dot: every edge carries its value's name and shape", async () => {
    const r = await run("dot", "sum(softmax(X, axis=1) * Y)", ...at("X=[[1,2,3],[0,0,1]],Y=[[1,0,0],[0,1,0]]"));
    expect(r.code).toBe(0);
    const edges = r.stdout.split("\n").filter((l) => l.includes("->"));
    expect(edges.length).toBeGreaterThan(5);
    for (const e of edges) expect(e).toMatch(/\[label="[A-Za-z0-9_.-]+ \[[0-9,]*\]( = [^"]+)?"\];$/);
    expect(r.stdout).toContain('[label="X [2,3]"]');
    expect(edges.some((e) => e.includes("-> out") && /\[\] = [0-9.]+ \| ∂ = 1"/.test(e))).toBe(true);
  });
});

describe("keepdims=True and --at numbers on the command line", () => {
  test("sum(x, keepdims=True) works as the printers write it", async () => {
    const r = await run("grad", "sum(X, axis=1, keepdims=True) * 2", ...at("X=[[1,2],[3,4]]"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: [[6], [14]], grad: { X: [[2, 2], [2, 2]] } });
  });

  test("x=1e400 and an empty --at are errors (exit 2); array elements read like scalars", async () => {
    const big = await run("grad", "x*2", "--at", "x=1e400");
    expect(big.code).toBe(2);
    expect(big.stderr).toBe("gradgraph: --at:3: x: 1e400 is too large for a float64 number (it would be Infinity)\n  x=1e400\n    ^^^^^\n");
    const empty = await run("grad", "x*2", "--at", "x=1", "--at", "");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^gradgraph: --at:1: malformed binding: empty --at \(expected name=value\)\n/);
    const arr = await run("grad", "sum(X)", "--at", "X=[+5, .5]", "--json");
    expect(arr.code).toBe(0);
    expect(JSON.parse(arr.stdout)).toEqual({ value: 5.5, grad: { X: [1, 1] } });
  });
});
