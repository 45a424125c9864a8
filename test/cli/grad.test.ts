/** The lecture's worked examples through the CLI (`grad --json`), in all three modes, and bad input. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { run } from "./run.js";

const examples = [
  { expr: "f(x, y) = 1/(y + exp(-x))", at: ["0,1"], value: 0.5, grad: { x: 0.25, y: -0.25 } },
  { expr: "f(x, y, z) = (max(3*x, 0) - y)^2 + z", at: ["1,0,-2"], value: 7, grad: { x: 18, y: -6, z: 1 } },
  {
    expr: "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2",
    at: ["2,10,-1,4,3,1"],
    value: 9,
    grad: { x: 18, y: 6, w1: -36, b1: -18, w2: -12, b2: -6 },
  },
  { expr: "w = 1/exp(-x)", at: ["x=0"], value: 1, grad: { x: 1 } },
  { expr: "w = log(exp(x)^2)", at: ["x=0"], value: 0, grad: { x: 2 } },
  { expr: "w = (x + y)*z", at: ["x=1", "y=2", "z=-3"], value: -9, grad: { x: -3, y: -3, z: 3 } },
  { expr: "w = x^2 + 3*x", at: ["x=5"], value: 40, grad: { x: 13 } },
  { expr: "w = x**2 + 3*x", at: ["x=-1.5"], value: -2.25, grad: { x: 0 } },
];

describe.each(["reverse", "forward", "paths"])("grad --json --mode %s", (mode) => {
  test.each(examples)("$expr", async ({ expr, at, value, grad }) => {
    const r = await run("grad", expr, ...at.flatMap((a) => ["--at", a]), "--mode", mode, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Exactly one JSON document, with exactly these keys.
    expect(JSON.parse(r.stdout)).toEqual({ value, grad });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
  });
});

describe("path products on a long sum", () => {
  const sum = (n: number) => Array.from({ length: n }, () => "x").join("+");

  test("x + x + … + x, 1000 terms: grad --mode paths and the paths report", async () => {
    const g = await run("grad", sum(1000), "--at", "x=1", "--mode", "paths", "--json");
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout)).toEqual({ value: 1000, grad: { x: 1000 } });
    const p = await run("paths", sum(1000), "--at", "x=1", "--wrt", "x");
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^Paths from x to \w+: 1000\n/);
  });

  test("15000 terms: a clear error, exit 2, instead of exhausting the memory", async () => {
    for (const args of [["grad", sum(15000), "--at", "x=1", "--mode", "paths"], ["paths", sum(15000), "--at", "x=1", "--wrt", "x"]]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^gradgraph: paths: 15,000 paths from x to the output, 112,507,499 steps in all: more than the 2,000,000 steps .*use reverse mode/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("grad, human output", () => {
  test("prints the value, each partial and the cost", async () => {
    const r = await run("grad", "w = (x + y)*z", "--at", "1,2,-3");
    expect(r.code).toBe(2); // positional values need a header listing the parameters
    const ok = await run("grad", "w(x, y, z) = (x + y)*z", "--at", "1,2,-3");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("w = -9  at x=1, y=2, z=-3\n∂w/∂x = -3\n∂w/∂y = -3\n∂w/∂z = 3\n(reverse mode: 4 local-derivative multiplications)\n");
    const one = await run("grad", "x^2", "--at", "x=3");
    expect(one.stdout).toBe("f = 9  at x=3\n∂f/∂x = 6\n(reverse mode: 1 local-derivative multiplication)\n");
  });

  test("an expression that starts with a minus is not taken for an option", async () => {
    const r = await run("grad", "-x^2", "--at", "x=3", "--json");
    expect(JSON.parse(r.stdout)).toEqual({ value: -9, grad: { x: -6 } });
  });

  test.each([
    ["first, before the options", ["grad", "--x", "--at", "x=3", "--json"]],
    ["after the options", ["grad", "--at", "x=3", "--json", "--x"]],
    ["last, after --", ["grad", "--at", "x=3", "--json", "--", "--x"]],
    ["with = in an option", ["grad", "--at=x=3", "--x", "--json"]],
  ])("an expression that starts with two minus signs (--x) is the expression: %s", async (_where, argv) => {
    const r = await run(...argv);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ value: 3, grad: { x: 1 } });
  });

  test("-V and -h after a command that takes an expression: -V is an expression, -h is help", async () => {
    expect(JSON.parse((await run("grad", "-V", "--at", "V=3", "--json")).stdout)).toEqual({ value: -3, grad: { V: -1 } });
    expect((await run("grad", "-h")).stdout).toContain("Usage: gradgraph grad");
    const { version } = JSON.parse(readFileSync(new URL("../../packages/cli/package.json", import.meta.url), "utf8")) as { version: string };
    expect((await run("-V")).stdout).toBe(`${version}\n`);
  });

  test("a non-finite gradient is null in JSON and said on stderr", async () => {
    const r = await run("grad", "sqrt(x)", "--at", "x=0", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ value: 0, grad: { x: null } });
    expect(r.stderr).toContain("∂f/∂x is Infinity");
  });
});

describe("bad input: exit code 2, a message on stderr, no stack trace", () => {
  const cases: [string, string[], RegExp][] = [
    ["syntax error with a caret", ["grad", "x*+", "--at", "x=1"], /expression:4: expected an expression, got end of input\n {2}x\*\+\n {5}\^/],
    ["implicit multiplication", ["grad", "3x", "--at", "x=1"], /3\*x/],
    ["unknown names, all at once", ["grad", "f(x, b1) = w1*x + bb1 + c2", "--at", "1,2"], /w1[\s\S]*bb1[\s\S]*did you mean b1[\s\S]*c2/],
    ["missing binding", ["grad", "x*y", "--at", "x=1"], /missing value for y/],
    ["malformed binding", ["grad", "x*y", "--at", "x=1,y=abc"], /--at/],
    ["wrong number of positional values", ["grad", "f(x, y) = x*y", "--at", "1,2,3"], /2[\s\S]*3/],
    ["a binding that shadows a constant", ["grad", "x*e", "--at", "x=1,e=3"], /e/],
    ["unknown mode", ["grad", "x", "--at", "x=1", "--mode", "sideways"], /--mode sideways: expected one of reverse, forward, paths/],
    ["unknown option", ["grad", "x", "--at", "x=1", "--frob"], /unknown option '--frob'/],
    ["unknown command", ["frob"], /unknown command 'frob'/],
    ["missing expression", ["grad"], /missing required argument 'expr'/],
    ["--wrt that is not an input", ["paths", "x^2", "--at", "x=1", "--wrt", "xx"], /--wrt xx: not an input of the expression \(did you mean x\?\)/],
    ["--code in an unknown language", ["trace", "x", "--at", "x=1", "--code", "cobol"], /--code cobol: expected python \(py\) or ts/],
  ];
  test.each([
    [["frob", "x"], "gradgraph: unknown command 'frob'\n(run gradgraph --help for usage)\n"],
    // `help NAME` names the unknown command as `NAME` alone does (it printed the general help, naming nothing)
    [["help", "frob"], "gradgraph: unknown command 'frob'\n(run gradgraph --help for usage)\n"],
    [["help", "grda"], "gradgraph: unknown command 'grda'\n(Did you mean grad?)\n(run gradgraph --help for usage)\n"],
    [["--frob"], "gradgraph: unknown option '--frob'\n(run gradgraph --help for usage)\n"],
    [["grad"], "gradgraph: missing required argument 'expr'\n(run gradgraph grad --help for usage)\n"],
    [["grad", "x", "--at", "x=1", "--frob"], "gradgraph: unknown option '--frob'\n(an expression that starts with - goes first, or last after --: gradgraph grad [options] -- '--x')\n(run gradgraph grad --help for usage)\n"],
    [["eval", "--frob"], "gradgraph: unknown option '--frob'\n(run gradgraph eval --help for usage)\n"],
  ])("the parser's errors read as gradgraph's: %j", async (argv, stderr) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(stderr);
  });

  test.each(cases)("%s", async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
  });
});

describe("--help", () => {
  test.each(["grad", "trace", "dot", "paths", "lecture"])("%s --help", async (cmd) => {
    const r = await run(cmd, "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: gradgraph ${cmd}`);
  });
  test("help NAME of a command is that command's help", async () => {
    const r = await run("help", "paths");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: gradgraph paths");
  });
  test("a required option is marked required in the help: paths --wrt (required even with one input), export --onnx, onnx -o", async () => {
    const paths = (await run("paths", "--help")).stdout.replace(/\s+/g, " ");
    expect(paths).toContain("--wrt <name> the input to differentiate with respect to, even when the expression has only one (required)");
    expect((await run("export", "--help")).stdout.replace(/\s+/g, " ")).toContain("(opset 17, the weights inside) (required)");
    expect((await run("onnx", "--help")).stdout.replace(/\s+/g, " ")).toContain("-o, --output <file> the .onnx file to write (required)");
    expect((await run("grad", "--help")).stdout).not.toContain("(required)");
  });
  test("gradgraph --help lists the commands", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    for (const c of ["grad", "trace", "dot", "paths", "lecture"]) expect(r.stdout).toContain(c);
  });
});

describe("dot --svg", () => {
  test("writes an SVG file and still prints the DOT", async () => {
    const { mkdtempSync, readFileSync, readdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-"));
    const file = join(dir, "sub", "graph.svg");
    const r = await run("dot", "w = (x + y)*z", "--at", "x=1,y=2,z=-3", "--svg", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph/);
    expect(r.stderr).toBe(`note: wrote ${file}\n`);
    const svg = readFileSync(file, "utf8");
    expect(svg).toContain("<svg");
    expect(svg).toContain("a = 3 | ∂ = "); // the minus is written as an entity in SVG
    expect(readdirSync(join(dir, "sub"))).toEqual(["graph.svg"]); // no temporary file left behind
  });

  test("a file that cannot be written is a clear error with exit code 2", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const notADir = join(mkdtempSync(join(tmpdir(), "gradgraph-")), "file");
    writeFileSync(notADir, "");
    const r = await run("dot", "x*y", "--at", "x=1,y=2", "--svg", join(notADir, "graph.svg"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--svg ${join(notADir, "graph.svg")}: cannot write the file`);
  });

  // `--svg -` wrote a file named "-"; `--svg ''` printed the DOT, then "--svg no file name given".
  test("--svg with an empty name or -: exit 2 before the DOT is printed", async () => {
    const { existsSync } = await import("node:fs");
    for (const [name, message] of [["", "gradgraph: --svg: no file name given\n"], ["-", "gradgraph: --svg -: give a file name (this command writes it to a file; its standard output is for what it prints)\n"]] as const) {
      const r = await run("dot", "x*y", "--at", "x=1,y=2", "--svg", name);
      expect(r.stderr).toBe(message);
      expect(r.stdout).toBe("");
      expect(r.code).toBe(2);
    }
    expect(existsSync("-")).toBe(false);
  });

  test("a wide graph (a sum of 200 terms in x) is drawn compact, in good time, and says so", async () => {
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "gradgraph-")), "wide.svg");
    const terms = Array.from({ length: 200 }, (_, k) => `${k + 1}*x`).join(" + ");
    // Its full layout takes Graphviz minutes; the compact one, about a second.
    const r = await run("dot", `f(x) = ${terms}`, "--at", "x=2", "--svg", file, "--svg-timeout", "60");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^note: --svg: the graph is wide \(its edges span \d+ ranks.*each input and constant is drawn once per use instead\n/);
    expect(r.stdout).toContain("  n0 -> n2 ["); // stdout keeps the full DOT
    expect(readFileSync(file, "utf8")).toContain("n0_200");
  }, 90_000);

  test("a layout over --svg-timeout stops with a clear message (exit code 2) after the DOT", async () => {
    const { mkdtempSync, existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "gradgraph-")), "g.svg");
    const r = await run("dot", "f(x, y) = x*y + y", "--at", "x=1,y=2", "--svg", file, "--svg-timeout", "0.001");
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^digraph/);
    expect(r.stderr).toContain("note: --svg: Graphviz did not finish in 0.001 s; drawing each input and constant once per use instead\n");
    expect(r.stderr).toContain("--svg: Graphviz did not finish laying out the graph (4 nodes) in 0.001 s; the DOT on stdout is complete");
    expect(existsSync(file)).toBe(false);
    expect((await run("dot", "x", "--svg-timeout", "soon")).stderr).toContain('--svg-timeout: expected a positive number of seconds, at most 2,147,483 (about 24 days), got "soon"');
    // past setTimeout's 2^31 − 1 ms the timer fired at once: "did not finish in 10000000000 s"
    for (const t of ["1e10", "Infinity"]) {
      const long = await run("dot", "x", "--svg", file, "--svg-timeout", t);
      expect([long.code, long.stderr]).toEqual([2, `gradgraph: --svg-timeout: expected a positive number of seconds, at most 2,147,483 (about 24 days), got "${t}"\n`]);
    }
  });

  test("without --at, the graph's structure alone", async () => {
    const r = await run("dot", "f(x, y) = x*y + y");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[label="*", shape=circle');
    expect(r.stdout).not.toContain("∂");
  });
});

test("after the command, -V is an expression, not the version flag", async () => {
  const r = await run("grad", "-V", "--at", "V=2", "--json");
  expect(JSON.parse(r.stdout)).toEqual({ value: -2, grad: { V: -1 } });
  const v = await run("-V");
  expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
});

test("--version prints the CLI package's version", async () => {
  const { version } = JSON.parse(readFileSync(new URL("../../packages/cli/package.json", import.meta.url), "utf8")) as { version: string };
  const r = await run("--version");
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(version);
});

test("a constant expression has no point to show", async () => {
  const r = await run("grad", "2*pi");
  expect(r.code).toBe(0);
  expect(r.stdout.split("\n")[0]).toBe("f = 6.28318530718");
});

test("a number outside float64's range is refused wherever it is written: an expression literal, --at, an @file.json (with its line and column)", async () => {
  for (const [literal, what] of [["1e999", "is too large for a float64 number (it would be Infinity)"], ["1e-999", "is too small for a float64 number (it would be 0; the smallest is about 5e-324)"]] as const) {
    const e = await run("grad", `${literal} + x`, "--at", "x=1");
    expect(e.stderr).toBe(`gradgraph: expression:1: ${literal} ${what}\n  ${literal} + x\n  ${"^".repeat(literal.length)}\n`);
    expect([e.code, e.stdout]).toEqual([2, ""]);
    const o = await run("onnx", `${literal}*x`, "--at", "x=1", "-o", join(tmpdir(), "never.onnx"));
    expect([o.code, o.stderr.split("\n")[0]]).toEqual([2, `gradgraph: expression:1: ${literal} ${what}`]);
  }
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-range-"));
  const file = join(dir, "under.json");
  writeFileSync(file, "[[1, 2],\n [0, 1e-999]]");
  const f = await run("grad", "sum(X)", "--at", `X=@${file}`);
  expect(f.stderr.split("\n")[0]).toBe(`gradgraph: --at:3: X: in ${file}: line 2, column 6: the number 1e-999 is too small for a float64 number (it would be 0; the smallest is about 5e-324)`);
  expect(f.code).toBe(2);
  writeFileSync(file, "[0, 0.0, -0e5, 2]"); // zeros written as zeros are numbers like any other
  expect((await run("grad", "sum(X)", "--at", `X=@${file}`)).code).toBe(0);
});

test("a function name before its argument (`sin x`): the hint is the call, sin(x), which works; a product's hint stays", async () => {
  for (const [expr, fn, arg] of [["sin x", "sin", "x"], ["exp 2 + x", "exp", "2"]] as const) {
    const r = await run("grad", expr, "--at", "x=2");
    expect(r.stderr.split("\n")[0]).toBe(`gradgraph: expression:5: expected an operator between ${fn} and ${arg} (write ${fn}(${arg}) to call ${fn})`);
    expect(r.code).toBe(2);
    expect((await run("grad", `${fn}(${arg}) + x`, "--at", "x=2")).code).toBe(0);
  }
  expect((await run("grad", "3x", "--at", "x=2")).stderr).toContain("(write 3*x for a product)");
});
