/** The training view's compiled step in Node: the step the view trains, traced, simplified pass by pass and drawn. */
import { describe, expect, it } from "vitest";
import { optimize } from "../../packages/gradgraph/src/compile/index.js";
import { compiledStep, explain, passCounts } from "../../web/src/compiled-step.js";
import { defaultSettings } from "../../web/src/train-settings.js";
import { renderSvg } from "../../web/src/graphviz.js";

describe("the compiled training step", () => {
  it("the default run (2-16-16-2, Adam): counts of every pass, one cluster per kernel, every update in place", async () => {
    const c = await compiledStep(defaultSettings());
    const k = c.counts;
    // The passes one by one give what compile runs.
    expect(c.program.steps.length).toBe(optimize(c.traced).steps.length);
    expect(k.traced).toBe(c.traced.steps.length);
    expect(k.kernels).toBe(c.program.steps.filter((s) => s.kind === "fused" || s.kind === "kernel").length);
    expect(k.kernels).toBeLessThan(k.fusedFrom);
    expect(k.steps).toBe(k.kernels + k.ops + k.host + c.program.steps.filter((s) => s.kind === "copy").length);
    // Adam updates the 6 parameters and their 12 moment buffers in place.
    expect(k.inPlace).toBe(18);
    expect(c.dot.match(/subgraph cluster_/g)?.length).toBe(k.kernels);
    for (const n of ["0.weight", "4.bias", "0.weight.exp_avg", "4.bias.exp_avg_sq"]) expect(c.dot).toContain(`label="${n}", shape=box`);
    expect(c.text).toContain("state 0.weight.exp_avg");
    expect(c.explanation).toContain(`became ${k.kernels} kernels`);
    const svg = await renderSvg(c.dot);
    expect(svg.match(/class="cluster"/g)?.length).toBe(k.kernels);
  });

  it("SGD without hidden layers: a smaller program, two updates in place", async () => {
    const c = await compiledStep({ ...defaultSettings(), hidden: [], opt: "sgd" });
    expect(c.counts.inPlace).toBe(2);
    expect(c.explanation).toContain("the SGD update");
    expect(passCounts(c.traced).counts).toEqual(c.counts);
  });

  it("explains zero counts in words", () => {
    const zero = { traced: 1, elementwise: 0, constants: 0, dead: 0, common: 0, fusedFrom: 0, kernels: 0, inPlace: 0, sums: 0, multi: 0, steps: 1, ops: 1, views: 0, host: 0, buffers: 1, bytes: 4 };
    const text = explain(zero, "SGD");
    expect(text).toContain("no step was dropped");
    expect(text).toContain("no step repeated an earlier one");
    expect(text).toContain("no update writes over");
    expect(text).toContain("no sum was computed inside a kernel");
    expect(text).not.toContain("JavaScript");
    expect(text).toContain("1 operation,");
  });
});
