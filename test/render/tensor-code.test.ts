/**
 * The vectorised `df` programs of `trace --code` for tensor expressions, run against the engine: the TypeScript
 * program (on gradgraph's `functional`) always; the Python one when NumPy is installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compileTensor, parseBindings, parseProgram, tensorFunctions } from "../../packages/gradgraph/src/lang/index.js";
import { generateTensorCode } from "../../packages/gradgraph/src/render/tensor-code.js";
import { engine, ones, type Tensor } from "../../packages/gradgraph/src/tensor/tensor.js";

const cases: [expr: string, ...at: string[]][] = [
  ["T = (max(X @ W, 0) - y)^2 + z", "X=[[1,2],[3,-4]]", "W=[[0.5,1],[-1,2]]", "y=[1,2]", "z=[0.5,1]"],
  ["L = sum(tanh(W @ x + b))", "W=[[1,2,3],[4,5,6]]", "x=[1,0,-1]", "b=[0.5,1]"],
  ["L = mean(sigmoid(X @ W + b))", "X=[[1,2],[3,4],[5,6]]", "W=[[1,0,1],[0,-1,1]]", "b=[1,2,3]"],
  ["L = sum(x @ W * x @ W)", "x=[1,2]", "W=[[1,2],[3,4]]"],
  ["L = sum(transpose(X) @ Y, axis=0)", "X=[[1,2],[3,4]]", "Y=[[1,0],[2,1]]"],
  ["L = sum(log_softmax(X, axis=1) * Y)", "X=[[1,2,3],[1,0,-1]]", "Y=[[0,0,1],[1,0,0]]"],
  ["L = sum(max(exp(X), axis=1) / sqrt(abs(X) + 1))", "X=[[1,2],[3,-1]]"],
  // Inputs named like what the programs refer to (NumPy as np; functional as np, tensor, onesLike, ...): renamed.
  ["T = exp(np * tensor) + onesLike - zerosLike * Tensor", "np=[1,2]", "tensor=[0.5,-1]", "onesLike=[3,4]", "zerosLike=[2,1]", "Tensor=[1,-1]"],
];

function problem(expr: string, at: readonly string[]) {
  const program = parseProgram(expr, { functions: tensorFunctions });
  const g = compileTensor(program, parseBindings(at, program), { dtype: "float64" });
  const grads = engine.gradients([g.root], g.inputs, [ones(g.root.shape, { dtype: "float64" })]);
  return { g, grads, options: g.output === undefined ? {} : { rootName: g.output } };
}

const INDEX = pathToFileURL(resolve("packages/gradgraph/src/index.ts")).href;

async function runTs(code: string, inputs: readonly Tensor[]): Promise<[Tensor, Tensor[]]> {
  const js = ts.transpileModule(code.replace('from "gradgraph"', `from ${JSON.stringify(INDEX)}`), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const file = join(mkdtempSync(join(tmpdir(), "gradgraph-tcode-")), "df.mjs");
  writeFileSync(file, js);
  const mod = (await import(pathToFileURL(file).href)) as { df: (...xs: Tensor[]) => [Tensor, Tensor[]] };
  return mod.df(...inputs.map((x) => x.detach()));
}

describe("trace --code ts on tensors: the program's gradients are the engine's", () => {
  for (const [expr, ...at] of cases) {
    it(expr, async () => {
      const { g, grads, options } = problem(expr, at);
      const code = generateTensorCode(g.root, g.inputs, "ts", options);
      const [value, got] = await runTs(code, g.inputs);
      expect(value.toArray()).toEqual(g.root.toArray());
      got.forEach((t, i) => {
        expect(t.shape, g.names[i]).toEqual(grads[i]!.shape);
        [...t.toArray()].forEach((v, j) => expect(v).toBeCloseTo(grads[i]!.toArray()[j]!, 12));
      });
    });
  }
});

const hasNumpy = spawnSync("python3", ["-c", "import numpy"]).status === 0;

describe("trace --code python on tensors: the program's gradients are the engine's", () => {
  if (!hasNumpy) {
    it.skip("skipped: python3 with numpy is not installed (the TypeScript programs above still ran)", () => {});
    return;
  }
  it("every case, in one python3 process", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-npcode-"));
    const problems = cases.map(([expr, ...at]) => problem(expr, at));
    const calls = problems.map((p, i) => {
      writeFileSync(join(dir, `prog${i}.py`), generateTensorCode(p.g.root, p.g.inputs, "py", p.options));
      const args = p.g.inputs.map((x) => `np.array(${JSON.stringify(x.toNested())}, dtype=float)`);
      return `import prog${i}\nv, gs = prog${i}.df(${args.join(", ")})\nout.append([np.asarray(v).tolist(), [np.asarray(g, dtype=float).tolist() for g in gs]])`;
    });
    const driver = ["import json, sys", "import numpy as np", `sys.path.insert(0, ${JSON.stringify(dir)})`, "out = []", ...calls, "print(json.dumps(out))"].join("\n");
    const r = spawnSync("python3", ["-c", driver], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const results = JSON.parse(r.stdout) as [unknown, unknown[]][];
    problems.forEach((p, i) => {
      const [value, gs] = results[i]!;
      expect([value].flat(Infinity)).toEqual([...p.g.root.toArray()].map((v) => expect.closeTo(v, 12)));
      gs.forEach((gr, j) => {
        const want = [...p.grads[j]!.toArray()];
        expect([gr].flat(Infinity) as number[], `${cases[i]![0]}: ${p.g.names[j]}`).toEqual(want.map((v) => expect.closeTo(v, 12)));
      });
    });
  });
});
