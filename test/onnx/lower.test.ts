/**
 * Every primitive's ONNX lowering against gradgraph's eager result, driven by the op database (test/ops/opdb.ts):
 * each sample runs eagerly in float64 and float32, and every op it applies (graph node or not: argmax's result is a
 * constant of the graph) becomes a one-op ONNX model (its inputs' eager values as graph inputs) that
 * onnxruntime-node runs. A new primitive fails the coverage test
 * until it has a lowering and a database entry that reaches it.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, test, vi } from "vitest";
import { opList, type AnyOp } from "../../packages/gradgraph/src/ops/index.js";
import { Tensor, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { customFunction } from "../../packages/gradgraph/src/autodiff/custom.js";
import { encodeModel, OnnxError } from "gradgraph-onnx";
import { GraphBuilder, modelOf, type OnnxValue } from "../../packages/onnx/src/builder.js";
import { lowerOp } from "../../packages/onnx/src/lower.js";
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
function expectClose(got: Float64Array, want: ArrayLike<number>, dtype: DType, what: string): void {
  expect(got.length, what).toBe(want.length);
  const [rtol, atol] = dtype === "float64" ? [1e-13, 1e-14] : [2e-6, 1e-6];
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
