/**
 * Forward or reverse? The work each mode does for a whole Jacobian, counted on the tensor engine: kernel calls
 * and the elements they compute (`stats`), for the passes through a recorded graph — the recording itself, one
 * forward evaluation, is the same for both and is not counted. Reverse mode: one pullback per output; forward mode:
 * one push forward per input. Many inputs and one output: reverse wins; one input and many outputs: forward wins.
 * The README's "Forward or reverse?" table quotes these numbers; this test checks that it does.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { linearize, vjp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { arange, NDArray, stats, Tensor } from "../../packages/gradgraph/src/tensor/index.js";

interface Cost {
  passes: number;
  kernels: number;
  elements: number;
}

function oneHot(shape: readonly number[], k: number): Tensor {
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  data[k] = 1;
  return new Tensor(new NDArray(data, [...shape]));
}

/** Kernel calls and elements of `passes` calls of `pass`. */
function count(passes: number, pass: (k: number) => unknown): Cost {
  const k0 = stats.kernelCalls, e0 = stats.elements;
  for (let k = 0; k < passes; k++) pass(k);
  return { passes, kernels: stats.kernelCalls - k0, elements: stats.elements - e0 };
}

/** The full Jacobian by reverse mode (one pullback per output element) and by forward mode (one push per input element). */
function costs(f: (x: Tensor) => Tensor, x: Tensor): { reverse: Cost; forward: Cost; jr: Tensor[]; jf: Tensor[] } {
  const [y, pullback] = vjp(f, x);
  const seeds = Array.from({ length: y.size }, (_, k) => oneHot(y.shape, k));
  const jr: Tensor[] = [];
  const reverse = count(y.size, (k) => jr.push(pullback(seeds[k]!)[0]));
  const [, push] = linearize(f, x);
  const tangents = Array.from({ length: x.size }, (_, k) => oneHot(x.shape, k));
  const jf: Tensor[] = [];
  const forward = count(x.size, (k) => jf.push(push(tangents[k]!)));
  return { reverse, forward, jr, jf };
}

const n = 100;
/** Many inputs, one output: f(x) = Σ sin(xᵢ)·xᵢ. */
const f = (x: Tensor) => x.sin().mul(x).sum();
const x = arange(n, undefined, 1, { dtype: "float64" }).mul(0.01);
/** One input, many outputs: g(t) = sin(t·c), c = (1, …, 100). */
const c = arange(1, n + 1, 1, { dtype: "float64" });
const g = (t: Tensor) => t.mul(c).sin();
const t = new Tensor(new NDArray(Float64Array.from([0.5]), []));

const fmt = (k: Cost) => `${k.passes} pass${k.passes === 1 ? "" : "es"}: ${k.kernels.toLocaleString("en-US")} kernel calls, ${k.elements.toLocaleString("en-US")} elements`;

describe("forward or reverse: the cost of a whole Jacobian", () => {
  const many = costs(f, x);
  const wide = costs(g, t);

  test("both modes give the same Jacobian", () => {
    // f: one output, so one row (the gradient); forward mode gives its 100 entries one per pass.
    const grad = Array.from(many.jr[0]!.toArray());
    expect(many.jf.map((d) => d.item())).toEqual(grad.map((v) => expect.closeTo(v, 12) as unknown as number));
    grad.forEach((v, i) => expect(v).toBeCloseTo(Math.sin(i * 0.01) + i * 0.01 * Math.cos(i * 0.01), 12));
    // g: one input, so one column; reverse mode gives its 100 entries one per pass.
    const col = Array.from(wide.jf[0]!.toArray());
    expect(wide.jr.map((d) => d.item())).toEqual(col.map((v) => expect.closeTo(v, 12) as unknown as number));
  });

  test("many inputs, one output: reverse mode wins, by about the number of inputs", () => {
    expect(many.reverse.passes).toBe(1);
    expect(many.forward.passes).toBe(n);
    expect(many.reverse.kernels * 40).toBeLessThan(many.forward.kernels);
    expect(many.reverse.elements * 40).toBeLessThan(many.forward.elements);
    // Each elementwise rule's partial · dx (or partial · g) is one fused kernel.
    expect(many.reverse).toEqual({ passes: 1, kernels: 6, elements: 501 });
    expect(many.forward).toEqual({ passes: 100, kernels: 300, elements: 20_100 });
  });

  test("one input, many outputs: forward mode wins, by about the number of outputs", () => {
    expect(wide.forward.passes).toBe(1);
    expect(wide.reverse.passes).toBe(n);
    expect(wide.forward.kernels * 50).toBeLessThan(wide.reverse.kernels);
    expect(wide.forward.elements * 50).toBeLessThan(wide.reverse.elements);
    expect(wide.reverse).toEqual({ passes: 100, kernels: 400, elements: 20_200 });
    expect(wide.forward).toEqual({ passes: 1, kernels: 2, elements: 200 });
  });

  test("the README quotes these numbers", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
    const section = readme.slice(readme.indexOf("## Forward or reverse?"));
    expect(section.length).toBeLessThan(readme.length);
    expect(section).toContain(`| ${fmt(many.reverse)} | ${fmt(many.forward)} |`);
    expect(section).toContain(`| ${fmt(wide.reverse)} | ${fmt(wide.forward)} |`);
  });
});
