/**
 * importOnnx: PyTorch-exported models (test/fixtures/onnx, written by scripts/onnx-fixtures.py) give PyTorch's
 * outputs; one-node models of every supported op give onnxruntime-node's outputs; an imported MLP fine-tunes with
 * gradgraph's SGD; and every kind of bad file or bad input is an OnnxError naming what was expected — never a
 * crash or a hang, also on random bytes and truncated files.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { compile, fromTypedArray, nn, randn, type Tensor, tensor } from "gradgraph";
import { AttributeType, DataType, decodeModel, encodeModel, importOnnx, OnnxError, type AttributeProto, type ModelProto, type TensorProto } from "gradgraph-onnx";

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);

interface Fixture {
  inputs: { name: string; shape: number[]; data: number[] }[];
  outputs: { name: string; shape: number[]; data: number[] }[];
}

const fixtureBytes = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.onnx`, FIXTURES)));
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8")) as Fixture;
const f32 = (shape: number[], data: number[]) => fromTypedArray(Float32Array.from(data), shape);

/** Largest |a - b| / (1 + |b|). */
function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

describe("PyTorch-exported fixtures", () => {
  test.each(["mlp", "cnn", "ops", "bn", "act"])("%s: the output is PyTorch's within float32 rounding", (name) => {
    const model = importOnnx(fixtureBytes(name));
    const fx = fixture(name);
    const y = model.forward(...fx.inputs.map((i) => f32(i.shape, i.data)));
    expect(y.shape).toEqual(fx.outputs[0]!.shape);
    expect(y.dtype).toBe("float32");
    expect(maxRelError(y.toArray(), fx.outputs[0]!.data)).toBeLessThan(2e-6);
  });

  test("the batch axis is dynamic: the MLP runs on another batch size, row by row the same", () => {
    const model = importOnnx(fixtureBytes("mlp"));
    const fx = fixture("mlp");
    const y = model.forward(f32([1, 4], fx.inputs[0]!.data.slice(4, 8)));
    expect(maxRelError(y.toArray(), fx.outputs[0]!.data.slice(3, 6))).toBeLessThan(2e-6);
  });

  test("initializers become parameters named as in PyTorch's state dict; the graph's inputs and outputs are described", () => {
    const model = importOnnx(fixtureBytes("cnn"));
    expect([...model.stateDict().keys()]).toEqual(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]);
    expect(model.parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true);
    expect(model.inputInfo).toEqual([{ name: "input", kind: "float32", shape: ["batch", 1, 8, 8] }]);
    expect(model.outputInfo.map((o) => o.name)).toEqual(["output"]);
    expect(model.opset).toBe(17);
    expect(model.toString()).toMatch(/^OnnxModule\(inputs=\[input\], outputs=\[output\], nodes=\d+, opset=17, producer=pytorch 1\.13/);
  });

  test("dotted names are a tree of modules, as in PyTorch; a BatchNormalization's running statistics are buffers", () => {
    const model = importOnnx(fixtureBytes("bn"));
    expect(model.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(["1.running_mean", "1.running_var"]);
    expect([...model.stateDict().keys()]).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "3.weight", "3.bias"]);
    expect(model.namedChildren().map(([n, c]) => `${n} ${c.constructor.name}`)).toEqual(["0 OnnxScope", "1 OnnxScope", "3 OnnxScope"]);
    expect(() => model.children()[0]!.forward(randn([1]))).toThrow(/a scope of an imported model holds its parameters only; call the OnnxModule/);
    // Fine-tuning trains the parameters and leaves the statistics alone.
    const mean = model.stateDict().get("1.running_mean")!.toArray().slice();
    const optimizer = new nn.SGD(model.parameters(), { lr: 0.1 });
    nn.mseLoss(model.forward(randn([8, 4], { seed: 1 })), randn([8, 2], { seed: 2 })).backward();
    optimizer.step();
    expect(model.stateDict().get("1.running_mean")!.toArray()).toEqual(mean);
  });

  test("names that are not dotted paths stay whole; a name clashing with a module property is an error", () => {
    const base = decodeModel(oneNode({ op: "Add", inputs: [[2], [2]] }, 0).bytes);
    const withInits = (names: string[]) => {
      const g = base.graph!;
      const inits: TensorProto[] = names.map((name) => ({ name, dataType: DataType.FLOAT, dims: [2], floatData: [1, 2] }));
      return encodeModel({ ...base, graph: { ...g, input: [g.input![0]!], initializer: inits, node: [{ ...g.node![0]!, input: ["in0", names[names.length - 1]!] }] } });
    };
    const m = importOnnx(withInits(["a", "a.b", "x..y", "/fc/Constant_output_0", "onnx::MatMul_7"]));
    expect(m.namedParameters().map(([n]) => n)).toEqual(["a", "a.b", "x..y", "/fc/Constant_output_0", "onnx::MatMul_7"]);
    expect(Array.from(m.forward(tensor([1, 1])).toArray())).toEqual([2, 3]);
    expect(() => importOnnx(withInits(["training"]))).toThrow(/initializer "training" clashes with a property of the module/);
    expect(importOnnx(withInits(["training.x", "forward.y"])).namedParameters().map(([n]) => n)).toEqual(["training.x", "forward.y"]);
  });

  test("options.constants keeps named float initializers out of the parameters; the outputs do not change", () => {
    const fx = fixture("mlp");
    const x = f32(fx.inputs[0]!.shape, fx.inputs[0]!.data);
    const model = importOnnx(fixtureBytes("mlp"), { constants: ["fc2.bias"] });
    expect(model.namedParameters().map(([n]) => n)).toEqual(["fc1.weight", "fc1.bias", "fc2.weight"]);
    expect(maxRelError(model.forward(x).toArray(), fx.outputs[0]!.data)).toBeLessThan(2e-6);
    expect(importOnnx(fixtureBytes("mlp"), { constants: (n) => n.endsWith("weight") }).namedParameters().map(([n]) => n)).toEqual(["fc1.bias", "fc2.bias"]);
  });

  test("the ops and act fixtures use the ops PyTorch emits for views, elementwise code and activations", () => {
    const ops = new Set(decodeModel(fixtureBytes("ops")).graph!.node!.map((n) => n.opType));
    for (const op of ["Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Softmax", "LogSoftmax", "ReduceMean", "Pow", "Clip", "Where", "Slice", "MatMul", "Transpose"]) expect(ops).toContain(op);
    expect(new Set(decodeModel(fixtureBytes("cnn")).graph!.node!.map((n) => n.opType))).toEqual(new Set(["Conv", "Relu", "MaxPool", "Constant", "Pad", "AveragePool", "Flatten", "Gemm"]));
    const act = new Set(decodeModel(fixtureBytes("act")).graph!.node!.map((n) => n.opType));
    for (const op of ["LayerNormalization", "Erf", "Elu", "HardSwish", "Softplus"]) expect(act).toContain(op);
  });
});

describe("fine-tuning an imported model", () => {
  test("a few SGD steps on the imported MLP lower its loss, and the trained weights are in its state dict", () => {
    const model = importOnnx(fixtureBytes("mlp"));
    const before = model.stateDict().get("fc1.weight")!.toArray().slice();
    const x = randn([16, 4], { seed: 1 });
    const target = randn([16, 3], { seed: 2 });
    const optimizer = new nn.SGD(model.parameters(), { lr: 0.2 });
    const loss = () => nn.mseLoss(model.forward(x), target);
    const first = loss().item();
    for (let step = 0; step < 30; step++) {
      optimizer.zeroGrad();
      loss().backward();
      optimizer.step();
    }
    const last = loss().item();
    expect(last).toBeLessThan(first * 0.9);
    expect(maxRelError(model.stateDict().get("fc1.weight")!.toArray(), before)).toBeGreaterThan(1e-4);
  });

  test.each(["mlp", "bn", "ops"])("%s: a training step compiled with compile() gives the eager step's losses", (name) => {
    const fx = fixture(name);
    const x = randn(fx.inputs[0]!.shape, { seed: 1 }), y = randn(fx.outputs[0]!.shape, { seed: 2 });
    const losses = (compiled: boolean) => {
      const model = importOnnx(fixtureBytes(name));
      const optimizer = new nn.SGD(model.parameters(), { lr: 0.05 });
      const step = () => {
        optimizer.zeroGrad();
        const loss = nn.mseLoss(model.forward(x), y);
        loss.backward();
        optimizer.step();
        return loss;
      };
      const run = compiled ? compile(step) : step;
      return Array.from({ length: 4 }, () => run().item());
    };
    const eager = losses(false), compiled = losses(true);
    compiled.forEach((l, i) => expect(Math.abs(l - eager[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(eager[i]!))));
  });

  test("an embedding: integer ids as input (given as whole numbers), Gather on a weight; its gradient adds up repeated ids", async () => {
    const weight = Array.from({ length: 15 }, (_, i) => i / 10);
    const bytes = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "embedding",
        input: [{ name: "ids", type: { tensorType: { elemType: DataType.INT64, shape: { dim: [{ dimValue: 2 }, { dimValue: 2 }] } } } }],
        initializer: [{ name: "emb.weight", dataType: DataType.FLOAT, dims: [5, 3], floatData: weight }],
        node: [{ opType: "Gather", input: ["emb.weight", "ids"], output: ["y"], name: "lookup" }],
        output: [{ name: "y", type: { tensorType: { elemType: DataType.FLOAT } } }],
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ ids: new ort.Tensor("int64", BigInt64Array.of(0n, 4n, 2n, 2n), [2, 2]) })).y!;
    const model = importOnnx(bytes);
    expect(model.inputInfo[0]!.kind).toBe("int");
    const y = model.forward(tensor([[0, 4], [2, 2]]));
    expect(y.shape).toEqual([...want.dims]);
    expect(Array.from(y.toArray())).toEqual(Array.from(want.data as Float32Array));
    y.sum().backward();
    expect(Array.from(model.stateDict().get("emb.weight")!.grad!.toArray())).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0, 1, 1, 1]);
    expect(() => model.forward(tensor([[0, 5], [1, 1]]))).toThrow(/node "lookup" \(Gather\): index 5 is out of range for axis 0 of size 5/);
  });

  test("gradients reach the input through a conv net (a gradient check against central differences)", () => {
    const model = importOnnx(fixtureBytes("cnn"));
    const x = randn([1, 1, 8, 8], { seed: 3, dtype: "float64", requiresGrad: true });
    model.forward(x).sum().backward();
    const g = x.grad!.toArray();
    const h = 1e-3;
    const at = (i: number, d: number) => {
      const v = x.toArray().slice();
      v[i]! += d;
      return model.forward(fromTypedArray(v, [1, 1, 8, 8])).sum().item();
    };
    for (const i of [0, 9, 27, 63]) expect(Math.abs(g[i]! - (at(i, h) - at(i, -h)) / (2 * h))).toBeLessThan(1e-3);
  });

  test("a PyTorch state dict loads by the ONNX names (loadStateDict), and a wrong shape is refused", () => {
    const model = importOnnx(fixtureBytes("mlp"));
    const state = new Map([...model.stateDict()].map(([k, v]): [string, Tensor] => [k, v.mul(0)]));
    model.loadStateDict(state);
    expect(model.forward(f32([1, 4], [1, 2, 3, 4])).toArray()).toEqual(new Float32Array(3));
    expect(() => model.loadStateDict({ ...Object.fromEntries(state), "fc1.bias": tensor([1, 2]) })).toThrow(/fc1\.bias: shape \[2\]/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// One-node models, compared with onnxruntime-node
// ---------------------------------------------------------------------------------------------------------------

type Attr = number | number[] | string | { floats: number[] } | { float: number } | { tensor: TensorProto };
interface Case {
  op: string;
  /** Float inputs (graph inputs, random data of these shapes), or constants (initializers), or none (null). */
  inputs: (number[] | { ints: number[]; shape?: number[] } | { scalar: number } | { bool: number[]; shape: number[] } | null)[];
  attrs?: Record<string, Attr>;
  outputs?: number;
  /** The outputs' element type (default float). */
  outType?: number;
  opset?: number;
}

function attribute(name: string, v: Attr): AttributeProto {
  if (typeof v === "number") return { name, type: AttributeType.INT, i: v };
  if (typeof v === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ("floats" in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if ("float" in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.TENSOR, t: v.tensor };
}

/** A model of one node, its float inputs as graph inputs (with their data) and its int inputs as initializers. */
function oneNode(c: Case, seed: number): { bytes: Uint8Array; feeds: Float32Array[]; shapes: number[][] } {
  const input: ModelProto["graph"] = { input: [], initializer: [], node: [], output: [], name: c.op };
  const names: string[] = [];
  const feeds: Float32Array[] = [], shapes: number[][] = [];
  c.inputs.forEach((spec, i) => {
    const name = `in${i}`;
    if (spec === null) return names.push("");
    names.push(name);
    if (Array.isArray(spec)) {
      const data = randn(spec, { seed: seed + i }).toArray() as Float32Array;
      feeds.push(data), shapes.push(spec);
      input.input!.push({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: spec.map((dimValue) => ({ dimValue })) } } } });
    } else if ("scalar" in spec) {
      input.initializer!.push({ name, dataType: DataType.FLOAT, dims: [], floatData: [spec.scalar] });
    } else if ("ints" in spec) {
      input.initializer!.push({ name, dataType: DataType.INT64, dims: spec.shape ?? [spec.ints.length], int64Data: spec.ints });
    } else {
      input.initializer!.push({ name, dataType: DataType.BOOL, dims: spec.shape, int32Data: spec.bool });
    }
  });
  const outs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `out${i}`);
  input.node!.push({ opType: c.op, name: `${c.op.toLowerCase()}0`, input: names, output: outs, attribute: Object.entries(c.attrs ?? {}).map(([k, v]) => attribute(k, v)) });
  input.output = outs.map((name) => ({ name, type: { tensorType: { elemType: c.outType ?? DataType.FLOAT } } }));
  const bytes = encodeModel({ irVersion: 8, opsetImport: [{ domain: "", version: c.opset ?? 17 }], graph: input });
  return { bytes, feeds, shapes };
}

const x4 = [2, 3, 6, 6];
const CASES: [string, Case][] = [
  ["Gemm transA transB alpha beta", { op: "Gemm", inputs: [[4, 3], [5, 4], [5]], attrs: { transA: 1, transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } } }],
  ["MatMul batched", { op: "MatMul", inputs: [[2, 3, 4], [4, 5]] }],
  ["Add broadcasting", { op: "Add", inputs: [[2, 3], [3]] }],
  ["Sub", { op: "Sub", inputs: [[2, 3], [2, 1]] }],
  ["Mul", { op: "Mul", inputs: [[2, 3], [2, 3]] }],
  ["Div", { op: "Div", inputs: [[2, 3], [3]] }],
  ["Pow", { op: "Pow", inputs: [[2, 3], [2, 3]] }],
  ["Neg", { op: "Neg", inputs: [[3, 2]] }],
  ["Abs", { op: "Abs", inputs: [[3, 2]] }],
  ["Relu", { op: "Relu", inputs: [[3, 2]] }],
  ["Sigmoid", { op: "Sigmoid", inputs: [[3, 2]] }],
  ["Tanh", { op: "Tanh", inputs: [[3, 2]] }],
  ["Exp", { op: "Exp", inputs: [[3, 2]] }],
  ["Log", { op: "Log", inputs: [[3, 2]] }],
  ["Sqrt", { op: "Sqrt", inputs: [[3, 2]] }],
  ["Reciprocal", { op: "Reciprocal", inputs: [[3, 2]] }],
  ["LeakyRelu", { op: "LeakyRelu", inputs: [[3, 2]], attrs: { alpha: { float: 0.2 } } }],
  ["Max of three", { op: "Max", inputs: [[2, 3], [3], [2, 1]] }],
  ["Min", { op: "Min", inputs: [[2, 3], [2, 3]] }],
  ["Sum", { op: "Sum", inputs: [[2, 3], [3]] }],
  ["Mean", { op: "Mean", inputs: [[2, 3], [3], [1]] }],
  ["Where(Greater)", { op: "Where", inputs: [{ bool: [1, 0, 1, 0, 0, 1], shape: [2, 3] }, [2, 3], [3]] }],
  ["Clip", { op: "Clip", inputs: [[3, 4], { scalar: -0.5 }, { scalar: 0.5 }] }],
  ["Clip with only a max", { op: "Clip", inputs: [[3, 4], null, { scalar: 0.5 }] }],
  ["Reshape with 0 and -1", { op: "Reshape", inputs: [[2, 3, 4], { ints: [0, -1, 2] }] }],
  ["Transpose", { op: "Transpose", inputs: [[2, 3, 4]], attrs: { perm: [2, 0, 1] } }],
  ["Transpose reversed", { op: "Transpose", inputs: [[2, 3, 4]] }],
  ["Flatten axis 2", { op: "Flatten", inputs: [[2, 3, 4, 5]], attrs: { axis: 2 } }],
  ["Flatten axis 0", { op: "Flatten", inputs: [[2, 3]], attrs: { axis: 0 } }],
  ["Expand", { op: "Expand", inputs: [[3, 1], { ints: [2, 1, 4] }] }],
  ["Slice with steps", { op: "Slice", inputs: [[5, 7], { ints: [1, -6] }, { ints: [100, 7] }, { ints: [0, 1] }, { ints: [2, 3] }] }],
  ["Slice with a negative step", { op: "Slice", inputs: [[5, 7], { ints: [-1] }, { ints: [-100] }, { ints: [1] }, { ints: [-2] }] }],
  ["Concat", { op: "Concat", inputs: [[2, 3], [2, 1], [2, 2]], attrs: { axis: -1 } }],
  ["Gather axis 1 with a 2-D index", { op: "Gather", inputs: [[3, 4, 2], { ints: [3, -1, 0, 0] }], attrs: { axis: 1 } }],
  ["Squeeze", { op: "Squeeze", inputs: [[2, 1, 3, 1], { ints: [-1] }] }],
  ["Squeeze all", { op: "Squeeze", inputs: [[2, 1, 3, 1]] }],
  ["Unsqueeze", { op: "Unsqueeze", inputs: [[2, 3], { ints: [0, 3] }] }],
  ["Split", { op: "Split", inputs: [[5, 2], { ints: [2, 3] }], outputs: 2 }],
  ["ReduceSum", { op: "ReduceSum", inputs: [[2, 3, 4], { ints: [0, 2] }] }],
  ["ReduceSum all, keepdims 0", { op: "ReduceSum", inputs: [[2, 3, 4]], attrs: { keepdims: 0 } }],
  ["ReduceMean (opset 17: axes attribute)", { op: "ReduceMean", inputs: [[2, 3, 4]], attrs: { axes: [-1], keepdims: 0 } }],
  ["ReduceMax", { op: "ReduceMax", inputs: [[2, 3, 4]], attrs: { axes: [1] } }],
  ["ReduceMean (opset 18: axes input)", { op: "ReduceMean", inputs: [[2, 3, 4], { ints: [1] }], opset: 18 }],
  ["Softmax", { op: "Softmax", inputs: [[2, 3, 4]], attrs: { axis: 1 } }],
  ["LogSoftmax", { op: "LogSoftmax", inputs: [[2, 5]] }],
  ["Softmax opset 11 (flattened from axis)", { op: "Softmax", inputs: [[2, 3, 4]], attrs: { axis: 1 }, opset: 11 }],
  ["Conv with bias, stride, dilation", { op: "Conv", inputs: [x4, [4, 3, 3, 3], [4]], attrs: { strides: [2, 1], dilations: [1, 2], pads: [1, 1, 1, 1] } }],
  ["Conv with asymmetric pads and groups", { op: "Conv", inputs: [[1, 4, 5, 5], [6, 2, 2, 3]], attrs: { pads: [0, 1, 1, 2], group: 2 } }],
  ["Conv SAME_UPPER", { op: "Conv", inputs: [[1, 2, 5, 6], [3, 2, 2, 2]], attrs: { auto_pad: "SAME_UPPER", strides: [2, 2] } }],
  ["Conv 1-D", { op: "Conv", inputs: [[2, 3, 9], [4, 3, 3], [4]], attrs: { pads: [1, 1], strides: [2] } }],
  ["MaxPool with pads", { op: "MaxPool", inputs: [x4], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
  ["MaxPool stride 1 (ONNX's default)", { op: "MaxPool", inputs: [x4], attrs: { kernel_shape: [2, 2] } }],
  ["AveragePool without counting pads", { op: "AveragePool", inputs: [x4], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
  ["AveragePool counting pads", { op: "AveragePool", inputs: [x4], attrs: { kernel_shape: [3, 2], pads: [1, 0, 0, 1], count_include_pad: 1 } }],
  ["GlobalAveragePool", { op: "GlobalAveragePool", inputs: [x4] }],
  ["GlobalMaxPool", { op: "GlobalMaxPool", inputs: [x4] }],
  ["Pad", { op: "Pad", inputs: [[2, 3], { ints: [0, 1, 2, -1] }] }],
  ["Pad with -inf on one axis", { op: "Pad", inputs: [[2, 3], { ints: [1, 1] }, { scalar: -Infinity }, { ints: [1] }], opset: 18 }],
  ["Identity", { op: "Identity", inputs: [[2, 3]] }],
  ["Erf", { op: "Erf", inputs: [[4, 5]] }],
  ["Gelu (erf, opset 20)", { op: "Gelu", inputs: [[4, 5]], opset: 20 }],
  ["Gelu tanh (opset 20)", { op: "Gelu", inputs: [[4, 5]], attrs: { approximate: "tanh" }, opset: 20 }],
  ["Sign", { op: "Sign", inputs: [[3, 2]] }],
  ["Softplus", { op: "Softplus", inputs: [[3, 2]] }],
  ["Softsign", { op: "Softsign", inputs: [[3, 2]] }],
  ["Elu", { op: "Elu", inputs: [[3, 2]], attrs: { alpha: { float: 0.7 } } }],
  ["Selu", { op: "Selu", inputs: [[3, 2]] }],
  ["HardSigmoid", { op: "HardSigmoid", inputs: [[3, 4]], attrs: { alpha: { float: 0.4 } } }],
  ["HardSwish", { op: "HardSwish", inputs: [[3, 4]] }],
  ["LayerNormalization", { op: "LayerNormalization", inputs: [[2, 3, 4], [4], [4]] }],
  ["LayerNormalization over two axes, no bias", { op: "LayerNormalization", inputs: [[2, 3, 4], [3, 4]], attrs: { axis: 1, epsilon: { float: 1e-3 } } }],
  ["Einsum", { op: "Einsum", inputs: [[2, 3, 4], [2, 4, 5]], attrs: { equation: "bij,bjk->bik" } }],
  ["ArgMax", { op: "ArgMax", inputs: [[3, 4]], attrs: { axis: 1 }, outType: DataType.INT64 }],
  ["ArgMin without keepdims", { op: "ArgMin", inputs: [[3, 4]], attrs: { keepdims: 0 }, outType: DataType.INT64 }],
  ["CumSum", { op: "CumSum", inputs: [[3, 4], { ints: [1] }] }],
  ["CumSum exclusive reverse", { op: "CumSum", inputs: [[3, 4], { ints: [-2] }], attrs: { exclusive: 1, reverse: 1 } }],
  ["CumSum exclusive", { op: "CumSum", inputs: [[5], { ints: [0] }], attrs: { exclusive: 1 } }],
  ["GatherElements", { op: "GatherElements", inputs: [[3, 4], { ints: [0, 3, -1, 1, 2, 2], shape: [3, 2] }], attrs: { axis: 1 } }],
  ["ScatterElements add", { op: "ScatterElements", inputs: [[3, 4], { ints: [0, 3, 1, 1, 2, 2], shape: [3, 2] }, [3, 2]], attrs: { axis: 1, reduction: "add" } }],
  ["ScatterElements", { op: "ScatterElements", inputs: [[3, 4], { ints: [0, 3, 1, 2, -1, 0], shape: [3, 2] }, [3, 2]], attrs: { axis: 1 } }],
];

describe("one-node models give onnxruntime-node's outputs", () => {
  test.each(CASES)("%s", async (_, c) => {
    const { bytes, feeds, shapes } = oneNode(c, 7);
    const session = await ort.InferenceSession.create(bytes);
    const input = Object.fromEntries(feeds.map((d, i) => [session.inputNames[i]!, new ort.Tensor("float32", d, shapes[i]!)]));
    const expected = await session.run(input);
    const model = importOnnx(bytes);
    const got = model.run(...feeds.map((d, i) => fromTypedArray(d, shapes[i]!)));
    session.outputNames.forEach((name, i) => {
      const want = expected[name]!;
      expect(got[i]!.shape, name).toEqual([...want.dims]);
      const w = Float64Array.from(want.data as ArrayLike<number | bigint>, Number), g = got[i]!.toArray();
      for (let k = 0; k < w.length; k++) expect(Number.isNaN(g[k]!)).toBe(Number.isNaN(w[k]!));
      expect(maxRelError(g.map((v) => (Number.isNaN(v) ? 0 : v)), w.map((v) => (Number.isNaN(v) ? 0 : v)))).toBeLessThan(2e-6);
    });
    await session.release();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

describe("errors: OnnxError naming the node, the op, and expected against got", () => {
  const fails = (bytes: Uint8Array, message: RegExp) => {
    expect(() => importOnnx(bytes)).toThrow(OnnxError);
    expect(() => importOnnx(bytes)).toThrow(message);
  };

  test("an unsupported op", () => {
    fails(oneNode({ op: "Det", inputs: [[2, 2]] }, 0).bytes, /node "det0" \(Det\): op Det is not supported by importOnnx \(opset 17\); supported: Add, /);
  });

  test("an unsupported or unknown attribute, or one of the wrong type", () => {
    fails(oneNode({ op: "MaxPool", inputs: [x4], attrs: { kernel_shape: [2, 2], storage_order: 1 } }, 0).bytes, /node "maxpool0" \(MaxPool\): attribute storage_order=1 is not supported \(supported: 0\)/);
    fails(oneNode({ op: "Relu", inputs: [[2]], attrs: { alpha: 1 } }, 0).bytes, /\(Relu\): attribute alpha is not supported \(supported: none\)/);
    fails(oneNode({ op: "Concat", inputs: [[2]], attrs: { axis: "one" } }, 0).bytes, /\(Concat\): attribute axis: expected an int, got string/);
    fails(oneNode({ op: "LeakyRelu", inputs: [[2]], attrs: { alpha: 1 } }, 0).bytes, /\(LeakyRelu\): attribute alpha: expected a float, got int/);
    fails(oneNode({ op: "Conv", inputs: [x4, [2, 3, 1, 1]], attrs: { auto_pad: "WRAP" } }, 0).bytes, /attribute auto_pad=WRAP is not supported/);
    fails(oneNode({ op: "Cast", inputs: [[2]], attrs: { to: DataType.STRING } }, 0).bytes, /\(Cast\): attribute to=8: casting to this element type is not supported/);
  });

  test("an op from another domain, a missing opset, an opset out of range", () => {
    const m = decodeModel(oneNode({ op: "Relu", inputs: [[2]] }, 0).bytes);
    m.graph!.node![0]!.domain = "com.microsoft";
    fails(encodeModel(m), /node "relu0" \(Relu\): ops of domain "com.microsoft" are not supported/);
    fails(encodeModel({ ...m, opsetImport: [] }), /imports no opset of the default ONNX domain/);
    fails(oneNode({ op: "Relu", inputs: [[2]], opset: 5 }, 0).bytes, /opset 5 of the default domain is not supported \(supported: 7 to 22\)/);
  });

  test("a graph that uses a value before defining it, or outputs one nobody computes", () => {
    const m = decodeModel(oneNode({ op: "Relu", inputs: [[2]] }, 0).bytes);
    m.graph!.node![0]!.input = ["nowhere"];
    fails(encodeModel(m), /node "relu0" \(Relu\): input "nowhere" is not defined before the node/);
    const n = decodeModel(oneNode({ op: "Relu", inputs: [[2]] }, 0).bytes);
    n.graph!.output![0]!.name = "ghost";
    fails(encodeModel(n), /graph output "ghost" is computed by no node/);
  });

  test("malformed initializers: data that does not fit the dims, external data, absurd sizes", () => {
    const base = decodeModel(fixtureBytes("mlp"));
    const withInit = (t: TensorProto) => encodeModel({ ...base, graph: { ...base.graph!, initializer: [t] } });
    fails(withInit({ name: "w", dataType: DataType.FLOAT, dims: [2, 2], floatData: [1, 2, 3] }), /initializer "w": 3 values for dims \[2,2\], expected 4/);
    fails(withInit({ name: "w", dataType: DataType.FLOAT, dims: [3], rawData: new Uint8Array(5) }), /initializer "w": raw data of 5 bytes for dims \[3\], expected 12/);
    fails(withInit({ name: "w", dataType: DataType.FLOAT, dims: [1e6, 1e6], rawData: new Uint8Array(4) }), /elements \(dims \[1000000,1000000\]\) are more than/);
    fails(withInit({ name: "w", dataType: DataType.FLOAT, dims: [1], dataLocation: 1 }), /external data is not supported/);
    fails(withInit({ name: "w", dataType: DataType.STRING, dims: [1] }), /element type 8 is not supported/);
  });

  test("wrong inputs at run time: count, type, shape, a shape a node cannot take", () => {
    const model = importOnnx(fixtureBytes("cnn"));
    expect(() => model.forward()).toThrow(/OnnxModule: expected 1 input \(input\), got 0/);
    expect(() => model.forward(randn([2, 1, 8, 8]), randn([1]))).toThrow(/expected 1 input \(input\), got 2/);
    expect(() => model.forward([1, 2] as unknown as Tensor)).toThrow(/input input: expected a Tensor, got object/);
    expect(() => model.forward(randn([2, 3, 8, 8]))).toThrow(/input input: expected shape \[batch,1,8,8\], got \[2,3,8,8\]/);
    expect(() => model.forward(randn([2, 3, 8, 8]))).toThrow(OnnxError);
    const mm = importOnnx(oneNode({ op: "MatMul", inputs: [[2, 3], [3, 4]] }, 0).bytes);
    const noShapes = decodeModel(oneNode({ op: "MatMul", inputs: [[2, 3], [3, 4]] }, 0).bytes);
    for (const i of noShapes.graph!.input!) delete i.type!.tensorType!.shape;
    expect(() => mm.forward(randn([2, 3]), randn([3, 4]))).not.toThrow();
    expect(() => importOnnx(encodeModel(noShapes)).forward(randn([2, 3]), randn([4, 4]))).toThrow(/node "matmul0" \(MatMul\): matmul: inner dimensions differ: \[2,3\] @ \[4,4\] \(inputs \[2,3\], \[4,4\]\)/);
  });

  test("sizes read from the model's data are capped: a Pad or ConstantOfShape asking for gigabytes is refused at once", () => {
    const pad = importOnnx(oneNode({ op: "Pad", inputs: [[2, 3], { ints: [2 ** 25, 0, 0, 0] }] }, 0).bytes);
    expect(() => pad.forward(randn([2, 3]))).toThrow(/node "pad0" \(Pad\): the output of shape \[33554434,3\] would have 100663302 elements, more than the 67108864/);
    const make = importOnnx(oneNode({ op: "ConstantOfShape", inputs: [{ ints: [100000, 100000] }] }, 0).bytes);
    expect(() => make.forward()).toThrow(/node "constantofshape0" \(ConstantOfShape\): the output of shape \[100000,100000\] would have 10000000000 elements, more than the 67108864 importOnnx makes/);
  });

  test("nodes no output depends on are not run (a dead node that would fail is never reached)", () => {
    const m = decodeModel(oneNode({ op: "Relu", inputs: [[2, 3]] }, 0).bytes);
    m.graph!.node!.unshift({ opType: "MatMul", name: "dead", input: ["in0", "in0"], output: ["unused"] });
    const model = importOnnx(encodeModel(m));
    expect(model.toString()).toContain("nodes=1");
    expect(Array.from(model.forward(tensor([[1, -2, 3], [-4, 5, -6]])).toArray())).toEqual([1, 0, 3, 0, 5, 0]);
  });

  test("a model with two outputs: forward says to use run", () => {
    const model = importOnnx(oneNode({ op: "Split", inputs: [[4, 2], { ints: [2, 2] }], outputs: 2 }, 0).bytes);
    expect(() => model.forward(randn([4, 2]))).toThrow(/the model has 2 outputs \(out0, out1\); use run\(\)/);
    expect(model.run(randn([4, 2])).map((t) => t.shape)).toEqual([[2, 2], [2, 2]]);
  });

  test("not an ONNX file: bytes of other kinds, wrong types", () => {
    fails(new TextEncoder().encode("hello, I am not a model"), /not an ONNX/);
    fails(new Uint8Array(), /not an ONNX model/);
    expect(() => importOnnx("mlp.onnx" as unknown as Uint8Array)).toThrow(/expected the bytes of an ONNX file \(a Uint8Array\), got string/);
  });

  test("every truncation of a real model, and random bytes, are an OnnxError or a working model (fast-check)", () => {
    const bytes = fixtureBytes("cnn");
    const x = randn([1, 1, 8, 8], { seed: 0 });
    const check = (b: Uint8Array) => {
      try {
        const model = importOnnx(b);
        model.forward(x); // a cut that still parses (it dropped whole fields) must run or fail with an OnnxError
      } catch (e) {
        if (!(e instanceof OnnxError)) throw e;
      }
    };
    fc.assert(fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (n) => check(bytes.subarray(0, n))), { numRuns: 150 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1000 }), check), { numRuns: 150 });
    // Random single-byte corruptions of the real file (a pad of 2^23 rows once took 20 s: sizes read from the
    // model's data are capped, MAX_MADE_ELEMENTS).
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
        const b = bytes.slice();
        b[at] = v;
        check(b);
      }),
      { numRuns: 300 },
    );
  });
});
