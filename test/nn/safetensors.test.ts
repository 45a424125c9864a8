/** safetensors: the bytes checked by hand against the format, round trips, broken files, saved models. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { decodeSafetensors, encodeSafetensors, MLP, moons, predict } from "../../packages/gradgraph/src/nn/index.js";
import { loadModel, loadSafetensors, saveModel, saveSafetensors } from "gradgraph/node";
import { tensor } from "../../packages/gradgraph/src/tensor/index.js";

describe("the format, byte by byte", () => {
  test("8-byte little-endian header length, JSON header (dtype, shape, data_offsets), raw little-endian data", () => {
    const w = tensor([[1, -2, 3.5], [0.25, 5, -6]]); // float32
    const b = tensor([1.5, -0.125], { dtype: "float64" });
    const bytes = encodeSafetensors([["w", w], ["b", b]], { note: "test" });

    // Header length: bytes 0..7, unsigned little-endian.
    let n = 0;
    for (let i = 7; i >= 0; i--) n = n * 256 + bytes[i]!;
    expect(n % 8).toBe(0); // padded with spaces to 8 bytes, as the reference writer does
    const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8");
    expect(headerText.trimEnd().endsWith("}")).toBe(true);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    const header = JSON.parse(headerText);
    expect(header).toEqual({
      __metadata__: { note: "test" },
      w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      b: { dtype: "F64", shape: [2], data_offsets: [24, 40] },
    });
    const data = bytes.subarray(8 + n);
    expect(data.length).toBe(40);
    // float32 1 is 0x3f800000, stored little-endian: 00 00 80 3f; -2 is 0xc0000000.
    expect(Array.from(data.subarray(0, 8))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    // float64 1.5 is 0x3ff8000000000000.
    expect(Array.from(data.subarray(24, 32))).toEqual([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expect([0, 1, 2, 3, 4, 5].map((i) => dv.getFloat32(4 * i, true))).toEqual([1, -2, 3.5, 0.25, 5, -6]);
    expect([dv.getFloat64(24, true), dv.getFloat64(32, true)]).toEqual([1.5, -0.125]);
  });

  test("reads a file written by another tool (the header unpadded, tensors out of name order)", () => {
    const header = JSON.stringify({ z: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, a: { dtype: "F32", shape: [2, 1], data_offsets: [4, 12] } });
    const bytes = new Uint8Array(8 + header.length + 12);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    const dv = new DataView(bytes.buffer, 8 + header.length);
    [7, 8, 9].forEach((v, i) => dv.setFloat32(4 * i, v, true));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.get("z")!.toNested()).toEqual([7]);
    expect(tensors.get("a")!.toNested()).toEqual([[8], [9]]);
  });

  test("integer tensors (PyTorch's int64 num_batches_tracked, int32) read as float64, exactly", () => {
    const header = JSON.stringify({ n: { dtype: "I64", shape: [], data_offsets: [0, 8] }, i: { dtype: "I32", shape: [2], data_offsets: [8, 16] } });
    const bytes = new Uint8Array(8 + header.length + 16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    const dv = new DataView(bytes.buffer, 8 + header.length);
    dv.setBigInt64(0, 2n ** 53n - 1n, true);
    dv.setInt32(8, -7, true);
    dv.setInt32(12, 2 ** 31 - 1, true);
    const { tensors } = decodeSafetensors(bytes);
    expect([tensors.get("n")!.dtype, tensors.get("n")!.item()]).toEqual(["float64", 2 ** 53 - 1]);
    expect(tensors.get("i")!.toNested()).toEqual([-7, 2 ** 31 - 1]);
    dv.setBigInt64(0, 2n ** 53n, true);
    expect(() => decodeSafetensors(bytes)).toThrow("tensor n holds the integer 9007199254740992, beyond what float64 holds exactly (±2^53)");
  });

  test("round trip: names, shapes, dtypes and values exactly", () => {
    const t = new Map([["x", tensor([Math.PI, -0, 1e-300], { dtype: "float64" })], ["y", tensor([[1, 2], [3, 4]])], ["empty", tensor([])]]);
    const back = decodeSafetensors(encodeSafetensors(t)).tensors;
    expect([...back.keys()].sort()).toEqual(["empty", "x", "y"]);
    expect(Array.from(back.get("x")!.toArray())).toEqual([Math.PI, -0, 1e-300]);
    expect(back.get("x")!.dtype).toBe("float64");
    expect(back.get("y")!.toNested()).toEqual([[1, 2], [3, 4]]);
    expect(back.get("y")!.dtype).toBe("float32");
  });
});

describe("broken files are input errors that say what is wrong", () => {
  const good = encodeSafetensors([["w", tensor([1, 2, 3])]]);
  const withHeader = (h: unknown, dataBytes: number) => {
    const text = typeof h === "string" ? h : JSON.stringify(h);
    const b = new Uint8Array(8 + text.length + dataBytes);
    new DataView(b.buffer).setBigUint64(0, BigInt(text.length), true);
    b.set(Buffer.from(text), 8);
    return b;
  };
  test.each([
    ["too short", good.subarray(0, 5), "shorter than the 8-byte header length"],
    ["truncated data", good.subarray(0, good.length - 4), "ends at byte 12 of a 8-byte data section (the file is truncated)"],
    ["header past the end", (() => { const b = good.slice(); b[0] = 255; b[1] = 255; return b; })(), "runs past the end"],
    ["not JSON", withHeader("{nope", 0), "the header is not UTF-8 JSON"],
    ["unsupported dtype", withHeader({ w: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, 2), 'dtype "BF16"; gradgraph reads F32, F64, I64 and I32'],
    ["wrong size", withHeader({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4), "needs 8 bytes, its offsets give 4"],
    ["overlap", withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8), "overlaps"],
    ["trailing bytes", withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, 8), "4 bytes after the last tensor"],
  ])("%s", (_name, bytes, message) => {
    expect(() => decodeSafetensors(bytes as Uint8Array, "m.safetensors")).toThrow(message);
    expect(() => decodeSafetensors(bytes as Uint8Array, "m.safetensors")).toThrow("m.safetensors: not a valid safetensors file");
  });
});

describe("files and saved models", () => {
  const dir = mkdtempSync(join(tmpdir(), "gradgraph-st-"));

  test("save, load: the same predictions", async () => {
    const model = new MLP([2, 8, 8, 2], "tanh", { seed: 5 });
    await saveModel(join(dir, "run"), model, { data: { name: "moons" } });
    const { model: again, config } = await loadModel(join(dir, "run"));
    expect(config.model).toEqual({ type: "MLP", sizes: [2, 8, 8, 2], activation: "tanh", dtype: "float32" });
    const x = moons(50).x;
    expect(predict(again, x).toNested()).toEqual(predict(model, x).toNested());
    // The weights file is plain safetensors, named like a PyTorch state_dict.
    const { tensors, metadata } = await loadSafetensors(join(dir, "run", "model.safetensors"));
    expect([...tensors.keys()]).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
    expect(metadata.model).toBe("MLP 2-8-8-2 tanh");
  });

  test("missing or corrupt files get clear errors", async () => {
    await expect(loadModel(join(dir, "nothing"))).rejects.toThrow("no model there (config.json not found)");
    await expect(loadSafetensors(join(dir, "nothing.safetensors"))).rejects.toThrow("cannot read the weights (no such file)");
    const run = join(dir, "broken");
    await saveModel(run, new MLP([2, 3, 2]));
    const file = join(run, "model.safetensors");
    writeFileSync(file, readFileSync(file).subarray(0, 40));
    await expect(loadModel(run)).rejects.toThrow(`${file}: not a valid safetensors file`);
    await saveSafetensors(file, [["0.weight", tensor([[1, 2]])]]);
    await expect(loadModel(run)).rejects.toThrow("the weights do not fit the model in config.json");
    writeFileSync(join(run, "config.json"), "{ not json");
    await expect(loadModel(run)).rejects.toThrow("config.json: not valid JSON");
    writeFileSync(join(run, "config.json"), JSON.stringify({ format: "gradgraph-mlp", version: 1, model: { type: "MLP", sizes: [2], activation: "relu", dtype: "float32" } }));
    await expect(loadModel(run)).rejects.toThrow("model.sizes must be at least two positive integers");
  });
});
