/** The IDX reader: round trips of every type (property tests), MNIST's files, and the errors for bad files. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeIdx, parseIdx, type IdxTypeCode } from "../../packages/gradgraph/src/nn/data/idx.js";

/** Values each IDX type holds exactly. */
const values: Record<IdxTypeCode, fc.Arbitrary<number>> = {
  0x08: fc.integer({ min: 0, max: 255 }),
  0x09: fc.integer({ min: -128, max: 127 }),
  0x0b: fc.integer({ min: -32768, max: 32767 }),
  0x0c: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  0x0d: fc.float({ noNaN: true }).map(Math.fround),
  0x0e: fc.double({ noNaN: true }),
};

describe("IDX", () => {
  test("encode → parse gives back the dimensions and the elements, for every type and 0–3 dimensions", () => {
    const sample = fc.constantFrom(...([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e] as IdxTypeCode[])).chain((type) =>
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((dims) => {
        const n = dims.reduce((a, b) => a * b, 1);
        return fc.record({ type: fc.constant(type), dims: fc.constant(dims), data: fc.array(values[type], { minLength: n, maxLength: n }) });
      }),
    );
    fc.assert(
      fc.property(sample, ({ type, dims, data }) => {
        const bytes = encodeIdx(type, dims, data);
        // Big-endian sizes after the magic number 0x0000TTNN.
        expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([0, 0, type, dims.length]);
        const back = parseIdx(bytes, "x.idx", { type, ndim: dims.length });
        expect(back.dims).toEqual(dims);
        expect(Array.from(back.data)).toEqual(data.map((v) => (Object.is(v, -0) && type < 0x0d ? 0 : v)));
      }),
    );
  });

  test("sizes are read big-endian: 60000 is 00 00 EA 60", () => {
    const bytes = encodeIdx(0x08, [60000, 0, 28], []);
    expect(Array.from(bytes.subarray(4, 8))).toEqual([0x00, 0x00, 0xea, 0x60]);
    expect(parseIdx(bytes, "f").dims).toEqual([60000, 0, 28]);
    const shorts = encodeIdx(0x0b, [2], [0x0102, -2]);
    expect(Array.from(shorts.subarray(8))).toEqual([0x01, 0x02, 0xff, 0xfe]);
  });

  test("any truncation of a valid file is refused, naming the bytes expected and got", () => {
    const bytes = encodeIdx(0x08, [3, 2, 2], Array.from({ length: 12 }, (_, i) => i));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (n) => {
        expect(() => parseIdx(bytes.subarray(0, n), "cut.idx", { type: 0x08, ndim: 3 })).toThrow(/^cut\.idx: not an IDX file as expected: truncated: /);
      }),
    );
    expect(() => parseIdx(bytes.subarray(0, 20), "cut.idx")).toThrow("cut.idx: not an IDX file as expected: truncated: dimensions 3×2×2 of unsigned bytes take 16 + 12 = 28 bytes, got 20");
    expect(() => parseIdx(bytes.subarray(0, 9), "cut.idx")).toThrow("truncated: 9 bytes, but the header of 3 dimensions takes 16");
    expect(() => parseIdx(Uint8Array.of(0, 0), "cut.idx", { type: 0x08, ndim: 3 })).toThrow("truncated: 2 bytes, not even the 4 of the magic number 0x00000803 (unsigned byte, 3 dimensions)");
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => parseIdx(longer, "long.idx")).toThrow("long.idx: not an IDX file as expected: longer than its header says: dimensions 3×2×2 of unsigned bytes take 16 + 12 = 28 bytes, got 29");
  });

  test("a wrong magic number names the expected one and the one found", () => {
    const labels = encodeIdx(0x08, [2], [3, 4]);
    expect(() => parseIdx(labels, "labels", { type: 0x08, ndim: 3 })).toThrow(
      "labels: not an IDX file as expected: wrong magic number: expected 0x00000803 (unsigned byte, 3 dimensions), got 0x00000801 (unsigned byte, 1 dimension)",
    );
    expect(() => parseIdx(encodeIdx(0x0d, [1], [1]), "f", { type: 0x08, ndim: 1 })).toThrow("expected 0x00000801 (unsigned byte, 1 dimension), got 0x00000d01 (float, 1 dimension)");
    const gz = Uint8Array.of(0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0);
    expect(() => parseIdx(gz, "train.gz", { type: 0x08, ndim: 3 })).toThrow("wrong magic number: expected 0x00000803 (unsigned byte, 3 dimensions), got 0x1f8b0808 (a gzip file: decompress it first)");
    expect(() => parseIdx(new TextEncoder().encode("label,x\n1,2\n"), "data.csv")).toThrow("data.csv: not an IDX file as expected: wrong magic number: expected 0x00000TNN (two zero bytes, a type code T, the number of dimensions N), got 0x6c616265");
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x07, 1, 0, 0, 0, 0), "t")).toThrow("got 0x00000701");
  });
});
