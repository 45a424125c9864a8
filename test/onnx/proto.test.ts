/**
 * The ONNX protobuf layer: a hand-built one-node model encodes to bytes that onnxruntime-node loads and runs, the
 * bytes decode back to the same model, malformed bytes are an OnnxError, and src/schema.ts embeds onnx.proto as it is.
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { DataType, decodeModel, encodeModel, OnnxError, type ModelProto } from "gradgraph-onnx";
// @ts-expect-error: a plain .mjs script without types
import { schemaModule } from "../../packages/onnx/scripts/embed-proto.mjs";

const floatInput = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } },
});

const addModel: ModelProto = {
  irVersion: 8,
  opsetImport: [{ domain: "", version: 17 }],
  producerName: "gradgraph-onnx test",
  graph: {
    name: "add",
    node: [{ opType: "Add", input: ["a", "b"], output: ["c"], name: "add0" }],
    input: [floatInput("a", [2, 3]), floatInput("b", [3])],
    output: [floatInput("c", [2, 3])],
    initializer: [],
  },
};

describe("encodeModel / decodeModel", () => {
  test("a one-node Add model runs on onnxruntime-node with broadcasting", async () => {
    const session = await ort.InferenceSession.create(encodeModel(addModel));
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([10, 20, 30]);
    const out = await session.run({ a: new ort.Tensor("float32", a, [2, 3]), b: new ort.Tensor("float32", b, [3]) });
    expect(out.c!.dims).toEqual([2, 3]);
    expect(Array.from(out.c!.data as Float32Array)).toEqual([11, 22, 33, 14, 25, 36]);
  });

  test("an initializer's raw data reaches the runtime", async () => {
    const w = new Float32Array([0.5, -1, 2]);
    const m: ModelProto = {
      ...addModel,
      graph: {
        ...addModel.graph,
        input: [floatInput("a", [2, 3])],
        initializer: [{ name: "b", dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(w.buffer) }],
      },
    };
    const session = await ort.InferenceSession.create(encodeModel(m));
    const out = await session.run({ a: new ort.Tensor("float32", new Float32Array(6), [2, 3]) });
    expect(Array.from(out.c!.data as Float32Array)).toEqual([0.5, -1, 2, 0.5, -1, 2]);
  });

  test("decoding the bytes gives the model back", () => {
    const back = decodeModel(encodeModel(addModel));
    expect(back.irVersion).toBe(8);
    expect(back.opsetImport).toEqual([{ domain: "", version: 17 }]);
    expect(back.graph!.node).toEqual([{ opType: "Add", input: ["a", "b"], output: ["c"], name: "add0" }]);
    expect(back.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimValue: 2 }, { dimValue: 3 }]);
  });

  test("malformed bytes are an OnnxError, never a crash", () => {
    const good = encodeModel(addModel);
    const cases: Uint8Array[] = [
      good.subarray(0, good.length - 5), // truncated
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a varint that never ends
      new TextEncoder().encode("this is not an onnx file"),
      new Uint8Array(0), // no graph
    ];
    for (const bytes of cases) expect(() => decodeModel(bytes)).toThrow(OnnxError);
    expect(() => decodeModel(new Uint8Array(0))).toThrow(/not an ONNX model \(0 bytes\): it has no graph/);
    expect(() => decodeModel("model.onnx" as unknown as Uint8Array)).toThrow(/expected the bytes of an ONNX file \(a Uint8Array\), got string/);
  });

  test("an object that does not fit the schema is an OnnxError naming the field", () => {
    expect(() => encodeModel({ irVersion: "eight" as unknown as number })).toThrow(OnnxError);
    expect(() => encodeModel({ irVersion: "eight" as unknown as number })).toThrow(/irVersion/);
  });

  test("src/schema.ts embeds src/onnx.proto as it is (run packages/onnx/scripts/embed-proto.mjs after editing it)", () => {
    const dir = new URL("../../packages/onnx/src/", import.meta.url);
    expect(readFileSync(new URL("schema.ts", dir), "utf8")).toBe(schemaModule(readFileSync(new URL("onnx.proto", dir), "utf8")));
  });
});
