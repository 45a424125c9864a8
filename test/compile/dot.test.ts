/**
 * programDot: a compiled program as Graphviz DOT — valid (laid out by the WebAssembly Graphviz the explorer and
 * the CLI use), one cluster per fused kernel with one node per ALU instruction, sources and effects drawn, an
 * optimizer's writes in place visible.
 */
import { describe, expect, test } from "vitest";
import { programDot, stepProgram, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { ones, randn, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { Linear, ReLU, Sequential, SGD, Adam, crossEntropy } from "../../packages/gradgraph/src/nn/index.js";
import { Generator } from "../../packages/gradgraph/src/tensor/index.js";
import { renderSvg } from "../../web/src/graphviz.js";
import { trainingStepOf } from "./samples.js";

/** The kernels: fused steps and multi-output kernel steps, each one cluster. */
const fusedSteps = (p: Program) => p.steps.filter((s) => s.kind === "fused" || s.kind === "kernel");
const clusters = (dot: string) => dot.match(/subgraph cluster_/g)?.length ?? 0;

/** A small classifier's training step, and the names of its parameters. */
function trainingStep(opt: "sgd" | "adam") {
  const net = new Sequential(new Linear(3, 5, { generator: new Generator(1) }), new ReLU(), new Linear(5, 2, { generator: new Generator(2) }));
  const o = opt === "sgd" ? new SGD(net.parameters(), { lr: 0.1 }) : new Adam(net.parameters(), { lr: 0.01 });
  const step = trainingStepOf((x) => net.forward(x), o, crossEntropy);
  const names = new Map<Tensor, string>(net.namedParameters().map(([n, p]) => [p, n]));
  return { step, names: (t: Tensor) => names.get(t) ?? t.label ?? `tensor#${t.id}`, x: randn([4, 3], { seed: 3 }), y: tensor([0, 1, 1, 0]) };
}

describe("programDot", () => {
  test("a chain of elementwise ops and its sum: one cluster with its instructions, the sum inside it", async () => {
    const p = stepProgram((x: Tensor) => x.mul(2).add(1).relu().sum(), ones([3]));
    expect(fusedSteps(p).length).toBe(1);
    const dot = programDot(p, { inputNames: ["x"] });
    expect(clusters(dot)).toBe(1);
    // mul, add, then relu's le and select (the rounds between ops are not drawn), then the sum
    for (const op of ["mul", "add", "le", "select", "sum"]) expect(dot).toMatch(new RegExp(`label="${op}", shape=ellipse, fontsize=10`));
    expect(dot).not.toContain('label="round"');
    expect(dot).toContain('v0 [label="x", shape=plaintext');
    expect(dot).toMatch(/label="kernel %\d+ · 5 instructions"/);
    expect(dot).toMatch(/s0_sum0 -> out0/);
    // The input enters the kernel at the instruction that reads it (mul), labelled with its var and type.
    expect(dot).toMatch(/v0 -> s0_0 \[label="%0 f32\[3\]"\]/);
    const svg = await renderSvg(dot);
    expect(svg).toContain("<svg");
    expect(svg.match(/class="cluster"/g)?.length).toBe(1);
  });

  test("an SGD step: one cluster per fused step, each parameter written in place, the gradients left in .grad", async () => {
    const { step, names, x, y } = trainingStep("sgd");
    const p = stepProgram(step, x, y);
    const dot = programDot(p, { names, inputNames: ["x", "y"] });
    expect(clusters(dot)).toBe(fusedSteps(p).length);
    expect(fusedSteps(p).length).toBeGreaterThan(4);
    for (const n of ["0.weight", "0.bias", "2.weight", "2.bias"]) {
      expect(dot).toContain(`label="${n}", shape=box, style=rounded`); // read as state
      expect(dot).toContain(`label="${n} ← (in place)"`); // updated over its own storage
      expect(dot).toContain(`in place → ${n}`); // the kernel that does it, orange
      expect(dot).toContain(`label="${n}.grad ←"`); // the gradient the call leaves
    }
    expect(dot).toContain('label="JavaScript: labels"'); // the labels checked and made indices
    expect(dot).toContain('label="JavaScript: optimizer"'); // the learning rate
    expect(dot).toContain('label="matmul"');
    expect(dot).toMatch(/label="permute", shape=ellipse, style=dashed, tooltip="%\d+ f32\[\d+,\d+\] = permute\(%\d+\): a view of its input's storage"/);
    expect(dot).toMatch(/s\d+ -> s\d+ \[label="%\d+ f64\[4,1\]", style=dotted, headlabel="indices"\]/); // crossEntropy's gather
    const svg = await renderSvg(dot);
    expect(svg.match(/class="cluster"/g)?.length).toBe(fusedSteps(p).length);
    expect(svg).toContain("0.weight ← (in place)");
  });

  test("an Adam step after its first (moment buffers are state) renders; scalar constants are drawn at each use", async () => {
    const { step, names, x, y } = trainingStep("adam");
    step(x, y);
    const p = stepProgram(step, x, y);
    const dot = programDot(p, { names, direction: "TB" });
    expect(dot).toContain("rankdir=TB");
    expect(clusters(dot)).toBe(fusedSteps(p).length);
    expect(dot).toMatch(/label="sqrt", shape=ellipse/);
    expect(dot).toMatch(/s\d+_\d+_c\d+ \[label="0\.9", shape=plaintext/); // β₁, inside the kernel that reads it
    expect(await renderSvg(dot)).toContain("<svg");
  });

  test("W4 (relu(x·y + z).sum() and its gradients): one cluster for the whole step, its four results leaving it", async () => {
    const [x, y, z] = [1, 2, 3].map((seed) => randn([8], { seed, requiresGrad: true })) as [Tensor, Tensor, Tensor];
    const p = stepProgram(() => {
      x.grad = y.grad = z.grad = null;
      const s = x.mul(y).add(z).relu().sum();
      s.backward();
      return s;
    });
    expect(p.steps.map((s) => s.kind)).toEqual(["kernel"]);
    const dot = programDot(p);
    expect(clusters(dot)).toBe(1);
    expect(dot).toMatch(/label="kernel %\d+, %\d+, %\d+, %\d+ · \d+ instructions"/);
    expect(dot).toMatch(/s0_sum0 -> out0/);
    expect(dot.match(/s0_\d+ -> w\d+ \[label=/g)?.length).toBe(3); // the three gradients, from the instructions that give them
    expect(await renderSvg(dot)).toContain("<svg");
  });

  test("names are quoted for DOT", () => {
    const p = stepProgram((x: Tensor) => x.exp(), ones([2]));
    expect(programDot(p, { name: 'a "b"', inputNames: ['x\\"y'] })).toContain('digraph "a \\"b\\"" {');
    expect(programDot(p, { inputNames: ['x"y'] })).toContain('label="x\\"y"');
  });
});

test("a .grad cleared by the step is a sink with no edge", () => {
  const w = randn([3], { seed: 1 });
  w.requiresGrad = true;
  w.label = "w";
  w.grad = ones([3]);
  const p = stepProgram((x: Tensor) => {
    const y = x.mul(w).sum().detach();
    w.grad = null; // as zeroGrad() does
    return y;
  }, ones([3]));
  expect(p.effects.some((e) => e.var === null)).toBe(true);
  const dot = programDot(p);
  expect(dot).toMatch(/(w\d+) \[label="w\.grad ← null", shape=box/);
  const sink = /(w\d+) \[label="w\.grad ← null"/.exec(dot)![1]!;
  expect(dot).not.toContain(`-> ${sink}`);
});
