/**
 * exportOnnx round trips: gradgraph → ONNX → onnxruntime-node gives gradgraph's outputs, for a module's forward
 * pass (weights as initializers named after the parameters), functions, and whole training steps (SGD and Adam:
 * the new parameters and gradients as outputs named after the parameters, the JavaScript-side values as inputs),
 * on fresh inputs after the trace.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { customFunction } from "../../packages/gradgraph/src/autodiff/custom.js";
import { Adam, crossEntropy, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, SGD, Tanh } from "../../packages/gradgraph/src/nn/index.js";
import { Generator, randn, tensor, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { stepProgram, type Program } from "../../packages/gradgraph/src/compile/index.js";
import { tensorOps, traceAlu } from "../../packages/gradgraph/src/ops/index.js";
import { decodeModel, encodeModel, exportOnnx, programToOnnx } from "gradgraph-onnx";

ort.env.logLevel = "error";

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const feed = (t: Tensor) => new ort.Tensor(t.dtype, t.toArray().slice(), [...t.shape]);

function expectClose(got: ort.Tensor, want: Tensor, tol = 1e-5): void {
  expect(got.dims).toEqual(want.shape);
  const g = got.data as Float32Array, w = want.toArray();
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= tol * (1 + Math.abs(w[i]!)))) expect.fail(`[${i}]: ONNX Runtime ${g[i]}, gradgraph ${w[i]}`);
  }
}

const mlp = () => new Sequential(new Linear(6, 16, { generator: new Generator(1) }), new ReLU(), new Linear(16, 16, { generator: new Generator(2) }), new Tanh(), new Linear(16, 3, { generator: new Generator(3) }));

describe("forward models", () => {
  test("an MLP module: weights are initializers named after its parameters; outputs equal on a fresh batch", async () => {
    const net = mlp();
    const bytes = exportOnnx(net, randn([4, 6], { generator: new Generator(4) }));
    const m = decodeModel(bytes);
    expect(m.opsetImport).toEqual([{ domain: "", version: 17 }]);
    expect(m.graph!.initializer!.map((t) => t.name)).toEqual(expect.arrayContaining(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]));
    expect(m.graph!.input!.map((v) => v.name)).toEqual(["input_0"]);
    expect(m.graph!.output!.map((v) => v.name)).toEqual(["output_0"]);
    const x = randn([4, 6], { generator: new Generator(5) });
    const out = await (await session(bytes)).run({ input_0: feed(x) });
    expectClose(out.output_0!, net.forward(x));
  });

  test("a small CNN (conv, max pool, flatten, linear) in float64", async () => {
    const net = new Sequential(new Conv2d(1, 3, 3, { padding: 1, generator: new Generator(6) }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(3 * 4 * 4, 5, { generator: new Generator(7) }));
    for (const p of net.parameters()) p.assign(p.cast("float64"));
    const x = randn([2, 1, 8, 8], { generator: new Generator(8), dtype: "float64" });
    const bytes = exportOnnx(net, x);
    const out = await (await session(bytes)).run({ input_0: feed(x) });
    expect(out.output_0!.type).toBe("float64");
    expectClose(out.output_0!, net.forward(x), 1e-12);
  });

  test("a function of two tensors, with input and output names", async () => {
    const f = (a: Tensor, b: Tensor) => [a.matmul(b).softmax(1), a.sum(1).sigmoid()];
    const a = randn([3, 4], { generator: new Generator(9) }), b = randn([4, 5], { generator: new Generator(10) });
    const bytes = exportOnnx(f, [a, b], { inputNames: ["a", "b"], outputNames: ["probs", "gate"] });
    const out = await (await session(bytes)).run({ a: feed(a), b: feed(b) });
    const [probs, gate] = f(a, b) as [Tensor, Tensor];
    expectClose(out.probs!, probs);
    expectClose(out.gate!, gate);
  });

  test("a custom function exports as the primitives its forward pass runs", async () => {
    const softplus = customFunction((t) => t.relu().add(t.abs().neg().exp().add(1).log()), { name: "softplus", vjp: (g, [t]) => [g.mul(t!.sigmoid())] });
    const x = randn([5], { generator: new Generator(11) });
    const out = await (await session(exportOnnx((v: Tensor) => softplus(v).mul(2), x))).run({ input_0: feed(x) });
    expectClose(out.output_0!, softplus(x).mul(2));
  });

  test("not a function or a module: an OnnxError", () => {
    expect(() => exportOnnx(42 as never, randn([2]))).toThrow(/exportOnnx: expected a function or a module, got number/);
  });

  test("example inputs that are neither a tensor nor an array: an OnnxError", () => {
    expect(() => exportOnnx((x: Tensor) => x.mul(2), 3 as never)).toThrow(/exportOnnx: expected the example inputs as a tensor or an array of them, got number/);
  });
});

describe("training steps", () => {
  for (const [name, makeOpt] of [
    ["SGD", (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0 })],
    ["Adam", (ps: Tensor[]) => new Adam(ps, { lr: 0.01 })],
  ] as const) {
    test(`${name}: the exported step computes the loss, the gradients and the new parameters`, async () => {
      // two copies of one network: one is traced (taking one step), the other runs eagerly beside the model
      const a = mlp(), b = mlp();
      const [optA, optB] = [makeOpt(a.parameters()), makeOpt(b.parameters())];
      const stepOf = (net: Sequential, opt: SGD | Adam) => (x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = crossEntropy(net.forward(x), y);
        loss.backward();
        opt.step();
        return loss;
      };
      const data = (k: number) => [randn([8, 6], { generator: new Generator(20 + k) }), tensor([0, 1, 2, 1, 0, 2, 2, 1]).reshape([8])] as const;
      // Adam's first step makes its moment buffers: trace the second, when they are state
      stepOf(a, optA)(...data(0));
      stepOf(b, optB)(...data(0));
      const program = stepProgram(stepOf(a, optA), ...data(1));
      stepOf(b, optB)(...data(1));
      const { model, inputs } = programToOnnx(program, { names: new Map(a.namedParameters().map(([n, t]) => [t, n])) });
      const outputs = model.graph!.output!.map((v) => v.name);
      expect(outputs).toEqual(expect.arrayContaining(["output_0", "0.weight.updated", "4.bias.updated", "0.weight.grad", "4.bias.grad"]));
      expect(inputs.map((i) => i.name)).toEqual(expect.arrayContaining(["input_0", "input_1", "0.weight", "4.bias"]));
      expect(inputs.some((i) => i.feed.kind === "host")).toBe(true); // the learning rate (and Adam's bias corrections), the labels as indices
      // the third step: the model fed a's state (equal to b's), and the host steps run in JavaScript
      const [x, y] = data(2);
      const hostOuts = new Map<number, Tensor["value"][]>();
      const feeds: Record<string, ort.Tensor> = {};
      for (const i of inputs) {
        const f = i.feed;
        if (f.kind === "input") feeds[i.name] = feed([x, y][f.index]!);
        else if (f.kind === "state") feeds[i.name] = feed(f.field === "grad" ? f.tensor.grad! : f.tensor);
        else {
          const s = program.steps[f.step]! as Extract<(typeof program.steps)[number], { kind: "host" }>;
          if (!hostOuts.has(f.step)) hostOuts.set(f.step, s.fn(s.inputs.map((v) => { const src = program.sources.get(v); return src?.kind === "input" ? [x, y][src.index]!.value : (src as { value: Tensor["value"] }).value; })));
          feeds[i.name] = feed(new Tensor(hostOuts.get(f.step)![f.out]!).reshape([...i.var.shape]));
        }
      }
      const out = await (await session(encodeModel(model))).run(feeds);
      const loss = stepOf(b, optB)(x, y);
      expectClose(out.output_0!, loss);
      for (const [pname, p] of b.namedParameters()) {
        expectClose(out[`${pname}.updated`]!, p);
        expectClose(out[`${pname}.grad`]!, p.grad!);
      }
    });
  }
});

describe("outputs that no step computes", () => {
  test("an input returned as it is, twice, beside a constant and a tensor the function reads", async () => {
    const w = randn([2, 3], { generator: new Generator(30) });
    const f = (x: Tensor) => [x, x, tensor([1, 2, 3]), w, x.add(w)];
    const x = randn([2, 3], { generator: new Generator(31) });
    const bytes = exportOnnx(f, x, { outputNames: ["a", "b", "c", "d", "e"] });
    const out = await (await session(bytes)).run({ input_0: feed(x) });
    const want = f(x) as Tensor[];
    ["a", "b", "c", "d", "e"].forEach((n, i) => expectClose(out[n]!, want[i]!));
  });

  test("float64 inputs meeting float32 weights (gradgraph's dtype rule: float64 wins)", async () => {
    const w = randn([3, 2], { generator: new Generator(32) });
    const x = randn([4, 3], { generator: new Generator(33), dtype: "float64" });
    const f = (v: Tensor) => v.matmul(w).relu().sum(1);
    const out = await (await session(exportOnnx(f, x))).run({ input_0: feed(x) });
    expect(out.output_0!.type).toBe("float64");
    expectClose(out.output_0!, f(x), 1e-6);
  });
});

describe("multi-output kernels", () => {
  test("a kernel step with stored results and sums (rows, columns, all): each result is an output, equal", async () => {
    const f = (x: Tensor, y: Tensor) => {
      const v = x.mul(y).add(1);
      return [v.relu().sum(1), v.abs().sum(0, true), v.mul(x), v.neg().sum()];
    };
    const x = randn([5, 7], { generator: new Generator(40) }), y = randn([5, 7], { generator: new Generator(41) });
    expect(stepProgram(f, x, y).steps.map((s) => s.kind)).toEqual(["kernel"]);
    const out = await (await session(exportOnnx(f, [x, y]))).run({ input_0: feed(x), input_1: feed(y) });
    const want = f(x, y);
    ["output_0", "output_1", "output_2", "output_3"].forEach((n, i) => expectClose(out[n]!, want[i]!));
  });
});

describe("programToOnnx on a program written by hand", () => {
  test("a kernel that passes its input through names its own output (the step before keeps its name)", async () => {
    const t = traceAlu();
    const v = (id: number, shape: number[]) => ({ id, shape, dtype: "float32" as const });
    const [x, xt, same] = [v(0, [2, 3]), v(1, [3, 2]), v(2, [3, 2])];
    const program = {
      inputs: [x], sources: new Map([[x, { kind: "input", index: 0 }]]),
      steps: [
        { kind: "op", op: tensorOps.permute, params: { perm: [1, 0] }, inputs: [x], out: xt, view: true },
        { kind: "fused", expr: t.input(0), inputs: [xt], out: same },
      ],
      outputs: [xt, same], effects: [], guards: [],
    } as unknown as Program;
    const { model } = programToOnnx(program);
    const data = Float32Array.of(1, 2, 3, 4, 5, 6);
    const out = await (await session(encodeModel(model))).run({ input_0: new ort.Tensor("float32", data, [2, 3]) });
    for (const name of ["output_0", "output_1"]) expect(Array.from(out[name]!.data as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
