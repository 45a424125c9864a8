/**
 * Every primitive's ONNX lowering against gradgraph's eager result, driven by the op database (test/ops/opdb.ts):
 * each sample runs eagerly in float64 and float32, and every op it applies (graph node or not: argmax's result is a
 * constant of the graph) becomes a one-op ONNX model (its inputs' eager values as graph inputs) that
 * onnxruntime-node runs. A new primitive fails the coverage test
 * until it has a lowering and a database entry that reaches it.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, test, vi } from "vitest";
import { ALU_CALLS, opList, schedule, traceAlu, type AluCall, type AluNode, type AnyOp } from "../../packages/gradgraph/src/ops/index.js";
import { aluNumbers } from "../../packages/gradgraph/src/ops/alu.js";
import { Tensor, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { customFunction } from "../../packages/gradgraph/src/autodiff/custom.js";
import { encodeModel, exportOnnx, OnnxError } from "gradgraph-onnx";
import { GraphBuilder, modelOf, type OnnxValue } from "../../packages/onnx/src/builder.js";
import { lowerAlu, lowerOp } from "../../packages/onnx/src/lower.js";
import { opdb, type Sample } from "../ops/opdb.js";

ort.env.logLevel = "error";

type DType = "float32" | "float64";
const DTYPES: readonly DType[] = ["float64", "float32"];

/** One op applied eagerly: the op, its inputs and parameters, its result. */
interface Application {
  op: AnyOp;
  inputs: readonly Tensor[];
  params: unknown;
  out: Tensor;
}

/** Runs one op application as a one-op ONNX model; returns ONNX Runtime's result. */
async function runOne(n: Application): Promise<{ data: Float64Array; dims: readonly number[]; type: string }> {
  const b = new GraphBuilder();
  const xs: OnnxValue[] = n.inputs.map((x, i) => ({ name: b.reserve(`x${i}`), shape: x.shape, dtype: x.dtype }));
  const y = lowerOp(b, n.op.name, n.params, xs, { shape: n.out.shape, dtype: n.out.dtype });
  b.node("Identity", [y], [], b.reserve("y"));
  const used = new Set(b.nodes.flatMap((node) => node.input ?? []));
  expect(b.initializers.map((t) => t.name).filter((name) => !used.has(name!)), "initializers no node reads").toEqual([]);
  const session = await ort.InferenceSession.create(encodeModel(modelOf(b, xs, [{ name: "y", shape: n.out.shape, dtype: n.out.dtype }])));
  const feeds = Object.fromEntries(n.inputs.map((x, i) => [`x${i}`, new ort.Tensor(x.dtype, x.toArray().slice(), [...x.shape])]));
  const out = (await session.run(feeds)).y!;
  return { data: Float64Array.from(out.data as Float32Array | Float64Array), dims: out.dims, type: out.type };
}

/** Every op the sample applies, with its inputs cast to a dtype (and requiring grad, as in a training step). */
function applications(s: Sample, dtype: DType): Application[] {
  const xs = s.inputs.map((x) => tensor(x.toNested(), { dtype, requiresGrad: true }));
  const spy = vi.spyOn(Tensor, "apply");
  try {
    s.f(...xs);
    return spy.mock.calls.map(([op, inputs, params], i) => ({ op, inputs, params, out: spy.mock.results[i]!.value as Tensor }));
  } finally {
    spy.mockRestore();
  }
}

/** Same values: float64 to a few ulps (ORT's transcendental functions are not JavaScript's), float32 to its precision. */
function expectClose(got: Float64Array, want: ArrayLike<number>, dtype: DType, what: string, relative = false): void {
  expect(got.length, what).toBe(want.length);
  const [rtol, atol] = dtype === "float64" ? [1e-13, relative ? 0 : 1e-14] : [2e-6, relative ? 0 : 1e-6];
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) expect(g, `${what}[${i}]`).toBeNaN();
    else if (!Number.isFinite(w)) expect(g, `${what}[${i}]`).toBe(w);
    else if (Math.abs(g - w) > atol + rtol * Math.abs(w)) expect.fail(`${what}[${i}]: ONNX Runtime ${g}, gradgraph ${w}`);
  }
}

const covered = new Set<string>();

describe.each(DTYPES)("every primitive lowered to ONNX agrees with gradgraph (%s)", (dtype) => {
  for (const op of opList) {
    const info = opdb[op.name];
    const samples = [...info.samples(), ...(info.ties?.() ?? [])];
    test.each(samples.map((s) => [s.name, s] as const))(`${op.name}: %s`, async (_name, s) => {
      const applied = applications(s, dtype);
      expect(applied.length).toBeGreaterThan(0);
      for (const n of applied) {
        const got = await runOne(n);
        const what = `${n.op.name}${JSON.stringify(n.inputs.map((x) => x.shape))}`;
        expect(got.type, what).toBe(n.out.dtype);
        expect(got.dims, what).toEqual(n.out.shape);
        expectClose(got.data, n.out.toArray(), dtype, what);
        covered.add(n.op.name);
      }
    });
  }
});

describe("coverage and refusals", () => {
  test("every op of the table was lowered and run by some sample above", () => {
    expect(opList.map((o) => o.name).filter((name) => !covered.has(name))).toEqual([]);
  });

  test("an op without an ONNX form is an OnnxError naming it", () => {
    const b = new GraphBuilder();
    const x: OnnxValue = { name: b.reserve("x"), shape: [2], dtype: "float32" };
    expect(() => lowerOp(b, "myCustomOp", undefined, [x], { shape: [2], dtype: "float32" })).toThrow(OnnxError);
    expect(() => lowerOp(b, "myCustomOp", undefined, [x], { shape: [2], dtype: "float32" })).toThrow(/the op "myCustomOp" has no ONNX form/);
    // a custom function's node carries its own op: the same refusal, by its name
    const softplus = customFunction((t) => t.relu().add(t.abs().neg().exp().add(1).log()), { name: "softplus", vjp: (g, [t]) => [g.mul(t!.sigmoid())] });
    const y = softplus(tensor([1, 2], { requiresGrad: true }));
    expect(y.op?.name).toBe("softplus");
    expect(() => lowerOp(b, y.op!.name, y.params, [x], { shape: y.shape, dtype: y.dtype })).toThrow(/the op "softplus" has no ONNX form/);
  });
});

describe("fused kernels (ALU expressions of several ops) lowered node by node", () => {
  /** The expression evaluated on numbers, elementwise with broadcasting (row-major over `shape`). */
  function evaluate(root: AluNode, xs: readonly { shape: number[]; data: number[] }[], shape: number[]): number[] {
    const size = shape.reduce((a, b) => a * b, 1);
    return Array.from({ length: size }, (_, flat) => {
      const at = (x: { shape: number[]; data: number[] }) => {
        let k = 0, rest = flat, stride = 1;
        for (let a = shape.length - 1; a >= 0; a--) {
          const i = rest % shape[a]!;
          rest = Math.floor(rest / shape[a]!);
          const xa = a - (shape.length - x.shape.length);
          if (xa >= 0) {
            if (x.shape[xa] !== 1) k += i * stride;
            stride *= x.shape[xa]!;
          }
        }
        return x.data[k]!;
      };
      const vals = new Map<AluNode, number>();
      for (const n of schedule(root)) {
        const v = n.op === "input" ? at(xs[n.index]!) : n.op === "const" ? n.value : ALU_CALLS.has(n.op) ? aluNumbers.call(n.op as AluCall, ...n.args.map((a) => vals.get(a)!)) : (aluNumbers as unknown as Record<string, (...a: number[]) => number>)[n.op]!(...n.args.map((a) => vals.get(a)!));
        vals.set(n, v);
      }
      return vals.get(root)!;
    });
  }

  const t = traceAlu();
  const [a, b, c] = [t.input(0), t.input(1), t.input(2)];
  const cases: [string, AluNode, number[][], number[]][] = [
    // relu's backward fused with a product: (a > 0 ? b : 0) · c
    ["select of a comparison, times an input", t.mul(t.select(t.gt(a, t.const(0)), b, t.const(0)), c), [[2, 3], [3], [2, 1]], [2, 3]],
    // a mask used as a number, and a number used as a mask
    ["a mask added, a value selected on", t.add(t.ge(a, b), t.select(c, a, t.call("exp", b))), [[2, 3], [2, 3], [3]], [2, 3]],
    ["the negated mask as 0/1, log1p and expm1", t.add(t.select(t.ne(a, b), t.const(0), t.const(1)), t.mul(t.call("log1p", t.abs(a)), t.call("expm1", b))), [[4], [4], []], [4]],
    // a kernel that reads no input: a constant filling the output
    ["a constant kernel", t.const(2.5), [[2, 2]], [2, 2]],
    ["an input smaller than the output", t.sqrt(t.abs(b)), [[2, 3], [3]], [2, 3]],
  ];
  test.each(cases)("%s", async (_name, root, shapes, outShape) => {
    for (const dtype of DTYPES) {
      const data = shapes.map((s, i) => Array.from({ length: s.reduce((x, y) => x * y, 1) }, (_, k) => (i === 2 && k % 2 === 0 ? 0 : Math.sin(3 * k + i) * 2)));
      const b = new GraphBuilder();
      const xs: OnnxValue[] = shapes.map((shape, i) => ({ name: b.reserve(`x${i}`), shape, dtype }));
      const y = lowerAlu(b, root, xs, { shape: outShape, dtype });
      b.node("Identity", [y], [], b.reserve("y"));
      const session = await ort.InferenceSession.create(encodeModel(modelOf(b, xs, [{ name: "y", shape: outShape, dtype }])));
      const feeds = Object.fromEntries(shapes.map((s, i) => [`x${i}`, new ort.Tensor(dtype, dtype === "float64" ? Float64Array.from(data[i]!) : Float32Array.from(data[i]!), s)]));
      const out = (await session.run(feeds)).y!;
      expect(out.dims).toEqual(outShape);
      const rounded = data.map((d) => (dtype === "float32" ? d.map(Math.fround) : d));
      expectClose(Float64Array.from(out.data as Float32Array), evaluate(root, shapes.map((shape, i) => ({ shape, data: rounded[i]! })), outShape), dtype, dtype);
    }
  });
});

describe("special values: NaN in reductions and positions, tiny and huge arguments of log1p and expm1", () => {
  const cases: [string, number[][], (x: Tensor) => Tensor][] = [
    ["amax with a NaN", [[1, NaN, 2], [3, 1, 2]], (x) => x.amax(1)],
    ["amin with a NaN, everything", [[1, NaN, 2], [3, 1, 2]], (x) => x.amin()],
    ["argmax with NaNs (the first NaN wins)", [[1, NaN, 2, NaN], [3, 1, Infinity, 2]], (x) => x.argmax(1)],
    ["argmin with a NaN", [[1, -Infinity, NaN, 0], [3, 1, 0, 2]], (x) => x.argmin(1)],
    ["log1p", [[0, -0, 1e-10, -1e-10, 1e-30, 0.5, -0.5, -1, 1e30, Infinity, -Infinity, NaN]], (x) => x.log1p()],
    ["expm1", [[0, -0, 1e-10, -1e-10, 1e-30, 0.5, -2, 50, 100, 1000, -1000, Infinity, -Infinity, NaN]], (x) => x.expm1()],
  ];
  for (const dtype of DTYPES) {
    test.each(cases)(`${dtype}: %s`, async (_name, data, f) => {
      const x = tensor(data, { dtype });
      const bytes = exportOnnx(f, x);
      const out = (await (await ort.InferenceSession.create(bytes)).run({ input_0: new ort.Tensor(dtype, x.toArray().slice(), [...x.shape]) })).output_0!;
      // relative only: 1e-10 must not come back as 0
      expectClose(Float64Array.from(out.data as Float32Array), f(x).toArray(), dtype, "", true);
    });
  }
});
