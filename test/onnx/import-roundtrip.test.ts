/**
 * Export then import: every sample of the op database (test/ops/opdb.ts) exported with exportOnnx and read back
 * with importOnnx computes what gradgraph computes eagerly — values, and gradients of the sum with respect to
 * every input — so importOnnx reads everything the exporter writes. With `constants`, the exporter's constant
 * initializers stay out of the imported module's state, which is then the original's (roundtrip.test.ts: export →
 * import → export).
 */
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { engine, nn, randn, type Tensor, tensor, zerosLike } from "gradgraph";
import { exportOnnx, importOnnx } from "gradgraph-onnx";
import { opdb } from "../ops/opdb.js";

ort.env.logLevel = "error";

/** Same shape and values: float64 within a few ulps of the value scale, float32 within its rounding. */
function expectClose(got: Tensor, want: Tensor, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  const tol = want.dtype === "float64" ? 1e-12 : 2e-6;
  const g = got.toArray(), w = want.toArray();
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (Number.isNaN(b)) expect(a, `${what}[${i}]`).toBeNaN();
    else if (!Number.isFinite(b)) expect(a, `${what}[${i}]`).toBe(b);
    else if (Math.abs(a - b) > tol * (1 + Math.abs(b))) expect.fail(`${what}[${i}]: imported ${a}, eager ${b}`);
  }
}

describe("exportOnnx → importOnnx gives gradgraph's values and gradients, for every op-database sample", () => {
  for (const [name, info] of Object.entries(opdb)) {
    test.each(info.samples().map((s) => [s.name, s] as const))(`${name}: %s`, (_, s) => {
      const xs = s.inputs.map((x) => tensor(x.toNested(), { dtype: "float64" }));
      const want = s.f(...xs);
      const model = importOnnx(exportOnnx(s.f, xs));
      const leaves = xs.map((x) => tensor(x.toNested(), { dtype: "float64", requiresGrad: true }));
      const got = model.forward(...leaves);
      expectClose(got, want, "value");
      const eagerLeaves = xs.map((x) => tensor(x.toNested(), { dtype: "float64", requiresGrad: true }));
      const eager = s.f(...eagerLeaves);
      if (!eager.requiresGrad) return;
      const seed = (t: Tensor) => [randn([...t.shape], { seed: 1, dtype: "float64" })];
      const gWant = engine.gradients([eager], eagerLeaves, seed(eager));
      const gGot = got.requiresGrad ? engine.gradients([got], leaves, seed(got)) : leaves.map(() => null);
      // A comparison's result carries no gradient once imported (ONNX booleans); eagerly its gradient is zero.
      gWant.forEach((g, i) => (g === null ? undefined : expectClose(gGot[i] ?? zerosLike(g), g, `∂/∂x${i}`)));
    });
  }
});

describe("export → import with options.constants", () => {
  test("a CNN: the imported module's state dict is the network's and loads strictly; re-exported, it runs to the same outputs", async () => {
    const net = new nn.Sequential(new nn.Conv2d(1, 3, 3, { padding: 1, seed: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(48, 4, { seed: 2 }), new nn.Softmax());
    const x = randn([2, 1, 8, 8], { seed: 3 });
    const first = exportOnnx(net, x);
    // gradgraph's exporter stores its constants as initializers named const_<k>: kept out of the parameters, the
    // imported module's state dict is the network's, and loads strictly.
    expect(importOnnx(first).namedParameters().map(([n]) => n)).toEqual(expect.arrayContaining(["const_1", "0.weight"]));
    const imported = importOnnx(first, { constants: (name) => name.startsWith("const_") });
    expect([...imported.stateDict().keys()]).toEqual([...net.stateDict().keys()]);
    imported.loadStateDict(net.stateDict());
    const second = exportOnnx(imported, x);
    const feeds = { input_0: new ort.Tensor("float32", x.toArray().slice(), [2, 1, 8, 8]) };
    const [a, b] = await Promise.all([first, second].map(async (bytes) => (await (await ort.InferenceSession.create(bytes)).run(feeds)).output_0!));
    expect(b!.dims).toEqual(a!.dims);
    const da = a!.data as Float32Array, db = b!.data as Float32Array;
    for (let i = 0; i < da.length; i++) expect(Math.abs(da[i]! - db[i]!)).toBeLessThan(1e-6);
    expectClose(imported.forward(x), net.forward(x), "imported");
  });
});
