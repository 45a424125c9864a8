/** safetensors: the bytes checked by hand against the format, round trips, broken files, saved models. */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { BatchNorm1d, decodeSafetensors, encodeSafetensors, Linear, MLP, Module, moons, predict, Sequential } from "../../packages/gradgraph/src/nn/index.js";
import { bfloat16Bits, float16Bits } from "../../packages/gradgraph/src/nn/float16.js";
import { loadModel, loadSafetensors, saveModel, saveSafetensors } from "gradgraph/node";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { randn, tensor, zeros, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/** Written by test/fixtures/gen_float16_fixtures.py with PyTorch. */
const torchFile = new URL("../fixtures/float16_torch.safetensors", import.meta.url);

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

describe("16-bit floats (F16, BF16) and the integer dtypes", () => {
  /** The data section of safetensors bytes. */
  const dataOf = (bytes: Uint8Array) => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return new DataView(bytes.buffer, bytes.byteOffset + 8 + n);
  };
  /** A safetensors file of one tensor `w` of the given dtype holding these 16-bit patterns. */
  const file16 = (dtype: string, patterns: ArrayLike<number>) => {
    const header = JSON.stringify({ w: { dtype, shape: [patterns.length], data_offsets: [0, 2 * patterns.length] } });
    const bytes = new Uint8Array(8 + header.length + 2 * patterns.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    const dv = dataOf(bytes);
    Array.from(patterns).forEach((p, i) => dv.setUint16(2 * i, p, true));
    return bytes;
  };
  /** The bit patterns written for `values` (float64) as `dtype`. */
  const written = (dtype: "F16" | "BF16", values: number[]) => {
    const bytes = encodeSafetensors([["w", tensor(values, { dtype: "float64" })]], {}, { dtype });
    expect(JSON.parse(Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toString()).w.dtype).toBe(dtype);
    const dv = dataOf(bytes);
    return values.map((_, i) => dv.getUint16(2 * i, true));
  };
  const read = (dtype: string, patterns: number[]) => Array.from(decodeSafetensors(file16(dtype, patterns)).tensors.get("w")!.toArray());

  test("F16 reads exactly: normals, subnormals, ±0, ±Inf, NaN", () => {
    const got = read("F16", [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00]);
    expect(got).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 0.333251953125, -0, Infinity, -Infinity, NaN]);
    expect(Object.is(got[7], -0)).toBe(true);
    expect(decodeSafetensors(file16("F16", [1])).tensors.get("w")!.dtype).toBe("float32");
  });

  test("BF16 reads as the top 16 bits of a float32", () => {
    expect(read("BF16", [0x3f80, 0x4049, 0x7f7f, 0x0001, 0xff80, 0x8000, 0x7fc0])).toEqual([1, 3.140625, 3.3895313892515355e38, 2 ** -133, -Infinity, -0, NaN]);
  });

  test("F16 writes round to nearest, ties to even; a float64 is rounded once", () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65519, 0x7bff], [-65519, 0xfbff],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -25 + 2 ** -60, 0x0001], [3 * 2 ** -25, 0x0002], [3 * 2 ** -26, 0x0001], [-(2 ** -26), 0x8000],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2 ** -14 - 2 ** -25, 0x0400], [-0, 0x8000], [0, 0],
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [NaN, 0x7e00],
      [1 + 2 ** -11 + 2 ** -40, 0x3c01], // via float32 it would be 1 + 2^-11, a tie, and round to 0x3c00
    ];
    expect(written("F16", cases.map((c) => c[0])).map((b) => b.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
    // The conversion itself rounds past the largest finite value to ±Inf, as IEEE 754 says; the writer refuses those.
    expect([65520, 1e6, -1e6].map((x) => float16Bits(x).toString(16))).toEqual(["7c00", "7c00", "fc00"]);
  });

  test("BF16 writes round to nearest, ties to even", () => {
    const cases: [number, number][] = [
      [1, 0x3f80], [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -30, 0x3f81], [-3.140625, 0xc049],
      [3.3895313892515355e38, 0x7f7f], [2 ** -133, 0x0001], [2 ** -134, 0x0000], [1e-50, 0], [NaN, 0x7fc0], [-Infinity, 0xff80],
    ];
    expect(written("BF16", cases.map((c) => c[0])).map((b) => b.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
    expect(bfloat16Bits(3.4028234663852886e38).toString(16)).toBe("7f80");
  });

  test("a finite value beyond the format's range is an InputError naming the tensor, the value and the range, not ±Inf", () => {
    const at = (dtype: "F16" | "BF16" | "F32", values: number[], name = "fc.weight") => () =>
      encodeSafetensors([["ok", tensor([1])], [name, tensor(values, { dtype: "float64" })]], {}, { dtype });
    expect(at("F16", [0.5, 65519, 70001])).toThrow(InputError);
    expect(at("F16", [0.5, 65519, 70001])).toThrow(
      'safetensors: tensor "fc.weight" holds 70001 (element 2 of 3), beyond float16\'s range (±65504), so as F16 it would be Infinity; store it as BF16, F32 or F64, or scale it into range',
    );
    expect(at("F16", [-65520], "b")).toThrow('tensor "b" holds -65520, beyond float16\'s range (±65504), so as F16 it would be -Infinity;');
    expect(at("BF16", [1, 3.4e38])).toThrow('holds 3.4e+38 (element 1 of 2), beyond bfloat16\'s range (±3.3895313892515355e+38), so as BF16 it would be Infinity; store it as F32 or F64');
    expect(at("F32", [1e300])).toThrow('holds 1e+300, beyond float32\'s range (±3.4028234663852886e+38), so as F32 it would be Infinity; store it as F64');
    // Values that are already ±Inf or NaN are written as they are.
    const back = decodeSafetensors(at("F16", [Infinity, -Infinity, NaN, 65519])()).tensors.get("fc.weight")!;
    expect(Array.from(back.toArray())).toEqual([Infinity, -Infinity, NaN, 65504]);
  });

  test("tensors that hold integers keep their own dtype when the rest is narrowed: integer buffers, integer tensors read", () => {
    class Counting extends Module {
      declare seen: Tensor;
      declare scale: Tensor;
      w = new Linear(2, 2, { seed: 0 });
      constructor() {
        super();
        this.registerBuffer("seen", zeros([], { dtype: "float64" }), { integer: true });
        this.registerBuffer("scale", tensor([70000.5, 2]));
      }
      forward(x: Tensor) { return this.w.forward(x); }
    }
    const m = new Counting();
    m.seen = tensor(2 ** 40 + 1, { dtype: "float64" }); // a new tensor in the field: still the integer buffer
    const header = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toString());
    expect(() => encodeSafetensors(m.stateDict(), {}, { dtype: "F16" })).toThrow('tensor "scale" holds 70000.5 (element 0 of 2)'); // a plain buffer is narrowed
    m.scale = tensor([1, 2]);
    for (const dtype of ["F16", "BF16", "F32"] as const) {
      const bytes = encodeSafetensors(m.stateDict(), {}, { dtype });
      expect(Object.fromEntries(Object.entries(header(bytes)).map(([k, v]) => [k, (v as { dtype: string }).dtype]))).toEqual({ seen: "F64", scale: dtype, "w.weight": dtype, "w.bias": dtype });
      expect(decodeSafetensors(bytes).tensors.get("seen")!.item()).toBe(2 ** 40 + 1);
    }
    // PyTorch's int64 num_batches_tracked, read and written again as F16 (a conversion): it stays exact, as F64.
    const text = JSON.stringify({ "bn.num_batches_tracked": { dtype: "I64", shape: [], data_offsets: [0, 8] } });
    const file = new Uint8Array(8 + text.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
    file.set(Buffer.from(text), 8);
    new DataView(file.buffer).setBigInt64(8 + text.length, 70001n, true);
    const half = encodeSafetensors([...decodeSafetensors(file).tensors, ["w", tensor([0.1])]], {}, { dtype: "F16" });
    expect(header(half)["bn.num_batches_tracked"].dtype).toBe("F64");
    expect(header(half).w.dtype).toBe("F16");
    expect(decodeSafetensors(half).tensors.get("bn.num_batches_tracked")!.item()).toBe(70001);
  });

  test("every F16 pattern reads as PyTorch reads it, bit for bit, and writes back to itself (NaN to the quiet NaN)", () => {
    const { metadata } = decodeSafetensors(readFileSync(torchFile));
    const all = Array.from({ length: 65536 }, (_, h) => h);
    for (const [dtype, hash] of [["F16", metadata.f16_all_sha256], ["BF16", metadata.bf16_all_sha256]] as const) {
      const values = decodeSafetensors(file16(dtype, all)).tensors.get("w")!;
      const f32 = values.toArray() as Float32Array;
      expect(createHash("sha256").update(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength)).digest("hex")).toBe(hash);
      const back = dataOf(encodeSafetensors([["w", values]], {}, { dtype }));
      const nan = dtype === "F16" ? 0x7e00 : 0x7fc0;
      const wrong = all.filter((h) => back.getUint16(2 * h, true) !== (Number.isNaN(f32[h]) ? nan : h));
      expect(wrong).toEqual([]);
    }
  });

  test("PyTorch's conversions of 3,476 float32 edge cases, midpoints and random patterns: read and converted bit for bit", () => {
    const { tensors: t } = decodeSafetensors(readFileSync(torchFile));
    const x = t.get("x")!;
    const bits = (name: string) => new Uint32Array((t.get(name)!.toArray() as Float32Array).slice().buffer);
    for (const [dtype, name] of [["F16", "x_f16"], ["BF16", "x_bf16"]] as const) {
      // Reading: the 16-bit tensor widens to what PyTorch's .to(torch.float32) gives.
      expect(t.get(name)!.dtype).toBe("float32");
      expect(bits(name)).toEqual(bits(`${name}_f32`));
      // Converting: x rounds to the 16-bit patterns PyTorch's .to() gives (its NaNs stay NaN; past the range ±Inf,
      // which the writer refuses, so the conversion is compared here).
      const convert = dtype === "F16" ? float16Bits : bfloat16Bits;
      const theirs = dataOf(encodeSafetensors([["x", t.get(name)!]], {}, { dtype }));
      const xs = x.toArray();
      const wrong = Array.from(xs.keys()).filter((i) => !Number.isNaN(xs[i]!) && convert(xs[i]!) !== theirs.getUint16(2 * i, true));
      expect(wrong.map((i) => `${xs[i]}: ${convert(xs[i]!).toString(16)}`)).toEqual([]);
      expect(xs.length).toBe(3476);
    }
  });

  test("PyTorch's integer tensors read exactly: I64, I32 as float64; I16, I8, U8, BOOL as float32", () => {
    const { tensors: t } = decodeSafetensors(readFileSync(torchFile));
    const got = (name: string) => [t.get(name)!.dtype, t.get(name)!.toNested()];
    expect(got("i64")).toEqual(["float64", [-(2 ** 53 - 1), -1, 0, 2 ** 53 - 1]]);
    expect(got("i32")).toEqual(["float64", [[-(2 ** 31), 7], [0, 2 ** 31 - 1]]]);
    expect(got("i16")).toEqual(["float32", [-32768, -1, 32767]]);
    expect(got("i8")).toEqual(["float32", [-128, 0, 127]]);
    expect(got("u8")).toEqual(["float32", [0, 1, 255]]);
    expect(got("bool")).toEqual(["float32", [1, 0, 1]]);
  });

  test("U16, U32, U64 read exactly; a U64 beyond 2^53 is refused", () => {
    const header = JSON.stringify({ a: { dtype: "U16", shape: [1], data_offsets: [0, 2] }, b: { dtype: "U32", shape: [1], data_offsets: [2, 6] }, c: { dtype: "U64", shape: [1], data_offsets: [6, 14] } });
    const bytes = new Uint8Array(8 + header.length + 14);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    const dv = dataOf(bytes);
    dv.setUint16(0, 65535, true);
    dv.setUint32(2, 2 ** 32 - 1, true);
    dv.setBigUint64(6, 2n ** 53n - 1n, true);
    const { tensors: t } = decodeSafetensors(bytes);
    expect(["a", "b", "c"].map((n) => [t.get(n)!.dtype, t.get(n)!.item()])).toEqual([["float32", 65535], ["float64", 2 ** 32 - 1], ["float64", 2 ** 53 - 1]]);
    dv.setBigUint64(6, 2n ** 64n - 1n, true);
    expect(() => decodeSafetensors(bytes, "u.safetensors")).toThrow("u.safetensors: tensor c holds the integer 18446744073709551615, beyond what float64 holds exactly (±2^53)");
  });

  test("a valid file with a dtype gradgraph does not read says which came and which are read, not that the file is invalid", () => {
    const header = JSON.stringify({ w: { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] } });
    const bytes = new Uint8Array(8 + header.length + 2);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(Buffer.from(header), 8);
    const attempt = () => decodeSafetensors(bytes, "fp8.safetensors");
    expect(attempt).toThrow("fp8.safetensors: tensor w has dtype F8_E4M3, which gradgraph does not read; gradgraph reads F64, F32, F16, BF16, I64, U64, I32, U32, I16, U16, I8, U8, BOOL");
    expect(attempt).not.toThrow("not a valid");
  });

  test("a dtype gradgraph does not write is refused, naming those it writes", () => {
    expect(() => encodeSafetensors([["w", tensor([1])]], {}, { dtype: "float16" as "F16" })).toThrow('safetensors: dtype "float16" is not one gradgraph writes; expected one of F64, F32, F16, BF16');
  });

  test("a module loads half-precision weights (F16, BF16) into its float32 or float64 parameters, within half an ulp", () => {
    const model = new MLP([2, 5, 2], "tanh", { seed: 1, dtype: "float64" });
    for (const [dtype, ulp] of [["F16", 2 ** -10], ["BF16", 2 ** -7]] as const) {
      for (const into of ["float32", "float64"] as const) {
        const again = new MLP([2, 5, 2], "tanh", { seed: 2, dtype: into });
        again.loadStateDict(decodeSafetensors(encodeSafetensors(model.stateDict(), {}, { dtype })).tensors);
        for (const [name, t] of model.stateDict()) {
          const got = again.stateDict().get(name)!;
          expect(got.dtype).toBe(into);
          t.toArray().forEach((v, i) => expect(Math.abs(got.toArray()[i]! - v)).toBeLessThanOrEqual((ulp / 2) * 2 ** Math.floor(Math.log2(Math.abs(v)))));
        }
      }
    }
  });

  test("all tensors as F32 or F64 on request; F16 and BF16 halve the size of F32", () => {
    const w = tensor([[0.1, 1e38]], { dtype: "float64" });
    const as32 = decodeSafetensors(encodeSafetensors([["w", w]], {}, { dtype: "F32" })).tensors.get("w")!;
    expect([as32.dtype, ...as32.toArray()]).toEqual(["float32", Math.fround(0.1), Math.fround(1e38)]);
    const as64 = decodeSafetensors(encodeSafetensors([["w", tensor([0.1])]], {}, { dtype: "F64" })).tensors.get("w")!;
    expect([as64.dtype, ...as64.toArray()]).toEqual(["float64", Math.fround(0.1)]);
    const big = [["w", tensor(Array.from({ length: 1000 }, (_, i) => i))]] as const;
    const [f32, f16, bf16] = [undefined, "F16", "BF16"].map((dtype) => encodeSafetensors(big, {}, { dtype: dtype as "F16" | undefined }).length);
    expect([f32! - f16!, f32! - bf16!]).toEqual([2000, 2000]);
  });
});

describe("what to write is checked for plain-JS callers", () => {
  test("a plain object (PyTorch's save_file takes a dict) or a non-tensor value is an InputError saying what is expected", async () => {
    const expected = "safetensors: expected the tensors as a Map or [name, tensor] pairs (such as model.stateDict(), or new Map(Object.entries(record)))";
    expect(() => encodeSafetensors({ w: tensor([1]) } as never)).toThrow(`${expected}, got an object`);
    await expect(saveSafetensors(join(mkdtempSync(join(tmpdir(), "gradgraph-st-")), "w.safetensors"), { w: tensor([1]) } as never)).rejects.toThrow(expected);
    expect(() => encodeSafetensors([["w", [1, 2]]] as never)).toThrow('safetensors: "w" is not a tensor (got [1,2])');
  });

  test("metadata values must be strings (the format's rule, which decode checks): a number was written, and the file refused on reading", async () => {
    const w: [string, Tensor][] = [["w", tensor([1])]];
    expect(() => encodeSafetensors(w, { epochs: 5 } as never)).toThrow(InputError);
    expect(() => encodeSafetensors(w, { epochs: 5 } as never)).toThrow(
      'safetensors: metadata values must be strings (the format maps strings to strings), but "epochs" is a number (5) (write it as "5")',
    );
    for (const [bad, got] of [[{ ok: "yes", nested: { a: "b" } }, '"nested" is an object'], [{ flag: true }, '"flag" is a boolean (write it as "true")'], [{ gone: undefined }, '"gone" is undefined'], [{ n: null }, '"n" is null']] as const) {
      expect(() => encodeSafetensors(w, bad as never)).toThrow(got);
    }
    expect(() => encodeSafetensors(w, new Map([["a", "b"]]) as never)).toThrow("safetensors: metadata must be a plain object of strings ({ key: \"value\" }), got a Map");
    expect(() => encodeSafetensors(w, "note" as never)).toThrow("safetensors: metadata must be a plain object of strings");
    expect(decodeSafetensors(encodeSafetensors(w, { epochs: "5" })).metadata).toEqual({ epochs: "5" });
    // The file path: nothing is written when the metadata is refused.
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-st-"));
    await expect(saveSafetensors(join(dir, "w.safetensors"), w, { epochs: 5 } as never)).rejects.toThrow(InputError);
    expect(readdirSync(dir)).toEqual([]);
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
    ["not a dtype", withHeader({ w: { dtype: "float16", shape: [1], data_offsets: [0, 2] } }, 2), 'tensor w has dtype "float16", not a safetensors dtype; gradgraph reads F64, F32, F16, BF16, I64, U64, I32, U32, I16, U16, I8, U8, BOOL'],
    ["wrong size", withHeader({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4), "needs 8 bytes, its offsets give 4"],
    ["overlap", withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8), "overlaps"],
    ["trailing bytes", withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, 8), "4 bytes after the last tensor"],
    ["header cut off", good.subarray(0, 20), "the header length 56 runs past the end of the 20-byte file (the file is truncated)"],
    ["header over the limit", (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true); return b; })(), "the header length 1099511627776 is over the 100000000-byte limit"],
    ["header an array", withHeader([1, 2], 0), "the header is not UTF-8 JSON (the header does not start with '{')"],
    ["header not UTF-8", withHeader('{"~":1}', 0).map((b, i) => (i === 10 ? 0xff : b)), "the header is not UTF-8 JSON"],
    ["metadata not strings", withHeader({ __metadata__: { epochs: 3 } }, 0), "__metadata__.epochs is not a string"],
    ["entry not an object", withHeader({ w: 5 }, 0), "entry w is not an object"],
    ["bad shape", withHeader({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), "tensor w has no valid shape"],
    ["offsets reversed", withHeader({ w: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, 4), "tensor w has no valid data_offsets ([4,0]; expected [begin, end] with 0 <= begin <= end)"],
    ["offsets out of range", withHeader({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 12), "tensor w ends at byte 16 of a 12-byte data section (the file is truncated)"],
    ["shape × dtype size mismatch", withHeader({ w: { dtype: "F16", shape: [2, 3], data_offsets: [0, 24] } }, 24), "tensor w of shape [2,3] and dtype F16 needs 12 bytes, its offsets give 24"],
    ["overlap named", withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8), "tensor b (bytes 4–8) overlaps tensor a, which ends at byte 8"],
    ["gap", withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } }, 12), "a gap of 4 bytes before tensor b"],
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

  // The config used to be serialised after the weights were written: a BigInt in it threw a raw TypeError with
  // the old config.json beside the new weights (loadModel then refused the folder), and a function vanished.
  test("a config JSON cannot hold is an InputError naming the field, before anything is written: the earlier save stays whole", async () => {
    const run = join(dir, "keep");
    const model = new MLP([2, 3, 2], "relu", { seed: 0 });
    await saveModel(run, model, { data: { name: "moons" } });
    const before = [readFileSync(join(run, "model.safetensors")), readFileSync(join(run, "config.json"))];
    const loop: Record<string, unknown> = { name: "moons" };
    loop.self = loop;
    const bad = new MLP([2, 5, 2], "relu", { seed: 0 });
    for (const [data, message] of [
      [{ name: "moons", rows: 10n }, "config.data.rows is a bigint, which JSON cannot hold"],
      [{ name: "moons", fn: Math.sin }, "config.data.fn is a function, which JSON cannot hold"],
      [{ name: "moons", sizes: [1, Symbol("s")] }, "config.data.sizes[1] is a symbol, which JSON cannot hold"],
      [loop, "config.data.self contains itself (a cycle)"],
      [{ name: "moons", classes: new Map([["a", 1]]) }, "config.data.classes is a Map, which JSON would save as {}"],
    ] as const) {
      const e = await saveModel(run, bad, { data: data as Record<string, unknown> }).then(() => null, (x: unknown) => x as Error);
      expect(e).toBeInstanceOf(Error);
      expect(e!.name, message).toBe("InputError");
      expect(e!.message).toContain(`${join(run, "config.json")}: ${message}`);
      expect([readFileSync(join(run, "model.safetensors")), readFileSync(join(run, "config.json"))]).toEqual(before);
    }
    expect((await loadModel(run)).config.model).toMatchObject({ sizes: [2, 3, 2] });
    // A date says how it is saved (toJSON); NaN is JSON's null, as a diverged run's loss.
    await saveModel(run, bad, { data: { name: "moons" }, results: { at: new Date(0), loss: NaN } });
    expect(JSON.parse(readFileSync(join(run, "config.json"), "utf8")).results).toEqual({ at: "1970-01-01T00:00:00.000Z", loss: null });
  });

  test("saveSafetensors creates missing folders; a failure names the file asked for, not a temporary one", async () => {
    const file = join(dir, "runs", "x", "half.safetensors");
    await saveSafetensors(file, [["w", tensor([0.1, 70000])]], { note: "bf16" }, { dtype: "BF16" });
    const { tensors, metadata } = await loadSafetensors(file);
    expect([metadata.note, ...tensors.get("w")!.toArray()]).toEqual(["bf16", 0.10009765625, 70144]);
    writeFileSync(join(dir, "plain"), "");
    await expect(saveSafetensors(join(dir, "plain", "w.safetensors"), [])).rejects.toThrow(
      `${join(dir, "plain", "w.safetensors")}: cannot write the file (${join(dir, "plain")} exists and is not a folder)`,
    );
  });

  test("a BatchNorm model saved as F16 loads back: num_batches_tracked exactly (beyond F16's 65504), the rest within F16 rounding", async () => {
    const build = (seed: number) => new Sequential(new Linear(3, 4, { seed }), new BatchNorm1d(4), new Linear(4, 2, { seed: seed + 1 }));
    const model = build(0);
    model.forward(randn([8, 3], { seed: 1 })); // training mode: the running statistics move
    const bn = model.layers[1] as BatchNorm1d;
    bn.num_batches_tracked!.assign(tensor(70001, { dtype: "float64" }));
    const file = join(dir, "half", "bn.safetensors");
    await saveSafetensors(file, model.stateDict(), {}, { dtype: "F16" });
    const { tensors } = await loadSafetensors(file);
    expect(tensors.get("1.num_batches_tracked")!.dtype).toBe("float64");
    const again = build(7);
    again.loadStateDict(tensors);
    expect((again.layers[1] as BatchNorm1d).num_batches_tracked!.item()).toBe(70001);
    for (const [name, t] of model.stateDict()) {
      if (name.endsWith("num_batches_tracked")) continue;
      const got = again.stateDict().get(name)!.toArray();
      // Half an F16 ulp: 2^-11 relative for normals; 2^-25 absolute below 2^-14.
      t.toArray().forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(Math.max(2 ** -11 * 2 ** Math.floor(Math.log2(Math.abs(v))), 2 ** -25)));
    }
  });

  test("a weight beyond F16's range: the save is refused with an InputError, and nothing is written", async () => {
    const folder = join(dir, "refused");
    const file = join(folder, "w.safetensors");
    const model = new Sequential(new Linear(2, 2, { seed: 0 }), new BatchNorm1d(2));
    await saveSafetensors(file, model.stateDict(), {}, { dtype: "F16" });
    const before = readFileSync(file);
    (model.layers[0] as Linear).weight.assign(tensor([[1, 2], [3, -1e5]]));
    const attempt = saveSafetensors(file, model.stateDict(), {}, { dtype: "F16" });
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow('safetensors: tensor "0.weight" holds -100000 (element 3 of 4), beyond float16\'s range (±65504), so as F16 it would be -Infinity');
    expect(readFileSync(file).equals(before)).toBe(true); // the previous file as it was
    expect(readdirSync(folder)).toEqual(["w.safetensors"]); // no temporary file left beside it
    await expect(saveSafetensors(join(folder, "new.safetensors"), model.stateDict(), {}, { dtype: "F16" })).rejects.toThrow("beyond float16's range");
    expect(existsSync(join(folder, "new.safetensors"))).toBe(false);
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
