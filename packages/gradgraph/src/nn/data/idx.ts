/**
 * The IDX file format of MNIST (Yann LeCun's page): a 4-byte magic number — two zero bytes, a type code and the
 * number of dimensions — then each dimension's size as a big-endian 32-bit unsigned integer, then the data, row
 * major, big-endian. Only the type MNIST uses matters here, but every type of the format is read.
 *
 * A file that is truncated, longer than its header says, or has a wrong magic number is refused with an
 * {@link InputError} that names what was expected and what came.
 */
import { InputError } from "../../core/errors.js";

/** The IDX type codes, each with its element size and the typed array that holds it. */
const IDX_TYPES = {
  0x08: { name: "unsigned byte", bytes: 1 },
  0x09: { name: "signed byte", bytes: 1 },
  0x0b: { name: "short", bytes: 2 },
  0x0c: { name: "int", bytes: 4 },
  0x0d: { name: "float", bytes: 4 },
  0x0e: { name: "double", bytes: 8 },
} as const;
/** An IDX type code: 0x08 unsigned byte, 0x09 signed byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double. */
export type IdxTypeCode = keyof typeof IDX_TYPES;

/** A parsed IDX file: its type code, its dimensions, and the elements in row-major order. */
export interface Idx {
  type: IdxTypeCode;
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** What a caller expects of a file (checked against its magic number). */
export interface IdxExpect {
  /** The type code (0x08 for MNIST's unsigned bytes). */
  type?: IdxTypeCode;
  /** The number of dimensions (3 for images, 1 for labels). */
  ndim?: number;
}

const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(8, "0");
const count = (n: number) => n.toLocaleString("en-US");

/** The magic number of an IDX file of this type and number of dimensions (e.g. 0x00000803 for MNIST images). */
export function idxMagic(type: IdxTypeCode, ndim: number): number {
  return (type << 8) | ndim;
}

function describeMagic(type: number, ndim: number): string {
  const t = IDX_TYPES[type as IdxTypeCode];
  return `${hex(idxMagic(type as IdxTypeCode, ndim))} (${t ? t.name : `type 0x${type.toString(16)}`}, ${ndim} dimension${ndim === 1 ? "" : "s"})`;
}

/**
 * Parses an IDX file's bytes. `where` names the file in errors; `expect` checks the magic number's type and
 * number of dimensions.
 *
 * @example
 * const { dims, data } = parseIdx(bytes, "train-images-idx3-ubyte", { type: 0x08, ndim: 3 }); // dims [60000, 28, 28]
 */
export function parseIdx(bytes: Uint8Array, where: string, expect: IdxExpect = {}): Idx {
  const bad = (why: string) => new InputError(`${where}: not an IDX file as expected: ${why}`);
  const wanted = expect.type !== undefined && expect.ndim !== undefined ? describeMagic(expect.type, expect.ndim) : "0x00000TNN (two zero bytes, a type code T, the number of dimensions N)";
  if (bytes.length < 4) throw bad(`truncated: ${count(bytes.length)} bytes, not even the 4 of the magic number ${wanted}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2]!, ndim = bytes[3]!;
  const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? " (a gzip file: decompress it first)" : "";
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in IDX_TYPES)) throw bad(`wrong magic number: expected ${wanted}, got ${hex(magic)}${gz}`);
  if ((expect.type !== undefined && type !== expect.type) || (expect.ndim !== undefined && ndim !== expect.ndim)) {
    throw bad(`wrong magic number: expected ${wanted}, got ${describeMagic(type, ndim)}`);
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw bad(`truncated: ${count(bytes.length)} bytes, but the header of ${ndim} dimensions takes ${count(header)}`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const t = IDX_TYPES[type as IdxTypeCode];
  const elements = dims.reduce((a, b) => a * b, 1);
  const expected = header + elements * t.bytes;
  const shape = dims.join("×") || "1";
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "truncated" : "longer than its header says";
    throw bad(`${what}: dimensions ${shape} of ${t.name}s take ${count(header)} + ${count(elements * t.bytes)} = ${count(expected)} bytes, got ${count(bytes.length)}`);
  }
  return { type: type as IdxTypeCode, dims, data: readElements(bytes, header, elements, type as IdxTypeCode) };
}

/** The elements after the header, as a typed array of their type (big-endian values converted). */
function readElements(bytes: Uint8Array, at: number, n: number, type: IdxTypeCode): Idx["data"] {
  if (type === 0x08) return bytes.subarray(at, at + n);
  if (type === 0x09) return new Int8Array(bytes.buffer, bytes.byteOffset + at, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, n * IDX_TYPES[type].bytes);
  switch (type) {
    case 0x0b:
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(2 * i, false));
    case 0x0c:
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, false));
    case 0x0d:
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, false));
    case 0x0e:
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, false));
    default: {
      const never: never = type;
      throw new InputError(`IDX type ${String(never)} unknown`);
    }
  }
}

/**
 * Encodes an IDX file (the inverse of {@link parseIdx}; for tests and for writing small MNIST-like files).
 *
 * @example
 * encodeIdx(0x08, [2, 2], Uint8Array.of(0, 1, 2, 3)); // 16 bytes: magic 0x00000802, sizes 2 and 2, the data
 */
export function encodeIdx(type: IdxTypeCode, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const t = IDX_TYPES[type];
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new InputError(`encodeIdx: dimensions ${dims.join("×")} hold ${n} elements, got ${data.length}`);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + n * t.bytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, idxMagic(type, dims.length), false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const set = { 0x08: view.setUint8, 0x09: view.setInt8, 0x0b: view.setInt16, 0x0c: view.setInt32, 0x0d: view.setFloat32, 0x0e: view.setFloat64 }[type];
  for (let i = 0; i < n; i++) set.call(view, header + i * t.bytes, data[i]!, false);
  return out;
}
