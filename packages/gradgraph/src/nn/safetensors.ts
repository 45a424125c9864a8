/**
 * The safetensors format (Hugging Face's, https://github.com/huggingface/safetensors), written and read by hand so
 * that other tools (Python's `safetensors`, PyTorch, …) read gradgraph's weights and gradgraph reads theirs:
 *
 *     [8 bytes: N, unsigned little-endian 64-bit] [N bytes: JSON header, UTF-8] [the data bytes]
 *
 * The header maps each tensor name to `{"dtype": "F32", "shape": [out, in], "data_offsets": [begin, end]}`, the
 * offsets counted in bytes from the start of the data; an optional `"__metadata__"` maps strings to strings.
 * Data are row-major and little-endian. As the reference implementation does, the header is padded with spaces
 * to a multiple of 8 bytes, and tensors are laid out in order without gaps. Reading checks every rule (sizes,
 * offsets in bounds, no overlap, no gaps, the whole buffer used) and says which one a file breaks.
 *
 * gradgraph writes a tensor as its dtype (F32, F64), or all tensors as F16, BF16, F32 or F64 on request (rounded
 * to nearest, ties to even; a finite value beyond the format's range is an error, never ±Inf), except tensors that
 * hold integers (counters such as BatchNorm's `num_batches_tracked`), which keep their own dtype. It reads every
 * float and integer dtype of the format up to 64 bits, each exactly (see {@link decodeSafetensors}); PyTorch's
 * `num_batches_tracked`, for one, is an I64. The conversions of 16-bit floats are in `float16.ts`.
 */
import { InputError } from "../core/errors.js";
import { describe, expectOptions, isPlainObject, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { sizeOf } from "../ops/shape.js";
import { fromTypedArray, isTensor, type Tensor } from "../tensor/tensor.js";
import { bfloat16Bits, float16Bits, float16Table } from "./float16.js";

/** The float formats gradgraph writes: a tensor's own dtype (F32, F64), or any of them on request. */
export type SafetensorsFloat = "F64" | "F32" | "F16" | "BF16";

/** Options of {@link encodeSafetensors} (and of `saveSafetensors` in `gradgraph/node`). */
export interface SafetensorsWriteOptions {
  /**
   * Store every tensor in this format instead of its own dtype: `"F16"` and `"BF16"` round each value to the
   * nearest (ties to even), `"F32"` rounds float64 values the same way. A finite value beyond the format's range
   * (F16: ±65504) is an {@link InputError} naming the tensor, not ±Inf (±Inf and NaN are written as they are).
   * Tensors that hold integers keep their own dtype: buffers registered with `{ integer: true }` (BatchNorm's
   * `num_batches_tracked`, as PyTorch's `.half()` keeps that int64) and integer tensors read from a file.
   */
  dtype?: SafetensorsFloat;
}

/** The keys of {@link SafetensorsWriteOptions}. */
export const SAFETENSORS_WRITE_KEYS = optionKeys<SafetensorsWriteOptions>({ dtype: true });

/** Each written format's name and largest finite value, for the error of a value beyond it, and wider formats. */
const RANGE: Record<SafetensorsFloat, { name: string; max: number; wider: string }> = {
  F64: { name: "float64", max: Number.MAX_VALUE, wider: "" },
  F32: { name: "float32", max: 3.4028234663852886e38, wider: "F64" },
  F16: { name: "float16", max: 65504, wider: "BF16, F32 or F64" },
  BF16: { name: "bfloat16", max: 3.3895313892515355e38, wider: "F32 or F64" },
};

/**
 * Tensors that hold integers: buffers registered with `{ integer: true }` (marked whenever the module's state is
 * read) and the integer tensors {@link decodeSafetensors} returns. A requested dtype does not apply to them.
 */
const integerValued = new WeakSet<Tensor>();

/** Marks `t` as holding integers: {@link encodeSafetensors} writes it in its own dtype whatever dtype is asked. */
export function markIntegerValued(t: Tensor): void {
  integerValued.add(t);
}

/** Bytes per value of each format written. */
const WIDTH: Record<SafetensorsFloat, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
const OWN: Record<DType, SafetensorsFloat> = { float32: "F32", float64: "F64" };

/**
 * The dtypes read, each as the narrowest gradgraph dtype that holds all its values exactly: floats and integers
 * of up to 16 bits as float32, wider integers as float64 (an I64 or U64 beyond ±2^53 is refused); BOOL as 0 and 1.
 */
const READ: Record<string, { bytes: number; dtype: DType }> = {
  F64: { bytes: 8, dtype: "float64" },
  F32: { bytes: 4, dtype: "float32" },
  F16: { bytes: 2, dtype: "float32" },
  BF16: { bytes: 2, dtype: "float32" },
  I64: { bytes: 8, dtype: "float64" },
  U64: { bytes: 8, dtype: "float64" },
  I32: { bytes: 4, dtype: "float64" },
  U32: { bytes: 4, dtype: "float64" },
  I16: { bytes: 2, dtype: "float32" },
  U16: { bytes: 2, dtype: "float32" },
  I8: { bytes: 1, dtype: "float32" },
  U8: { bytes: 1, dtype: "float32" },
  BOOL: { bytes: 1, dtype: "float32" },
};
/** The format's other dtypes (8-, 6- and 4-bit floats, complex), which gradgraph does not read. */
const NOT_READ = new Set(["F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"]);

/** The largest header accepted (the reference implementation's limit, 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A corrupt safetensors file. */
function corrupt(why: string, where = "safetensors"): InputError {
  return new InputError(`${where}: not a valid safetensors file: ${why}`);
}

/**
 * Refuses metadata the format cannot hold (an InputError, before anything is written): the header's
 * `__metadata__` maps strings to strings, and {@link decodeSafetensors} (as Python's `safetensors`) refuses a
 * file with any other value, so `{ epochs: 5 }` must be given as `{ epochs: "5" }`.
 */
function checkMetadata(metadata: unknown): void {
  if (metadata === undefined) return;
  if (typeof metadata !== "object" || metadata === null || !isPlainObject(metadata)) {
    throw new InputError(`safetensors: metadata must be a plain object of strings ({ key: "value" }), got ${describe(metadata)}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      const shown = typeof v === "number" || typeof v === "boolean" ? ` (write it as ${JSON.stringify(String(v))})` : "";
      throw new InputError(`safetensors: metadata values must be strings (the format maps strings to strings), but ${JSON.stringify(k)} is ${describe(v)}${shown}`);
    }
  }
}

/**
 * Encodes named tensors (and optional string metadata) as safetensors bytes, each tensor in its own dtype (F32,
 * F64) or all in `options.dtype` (but those that hold integers; a value beyond its range is an error).
 *
 * @example
 * const bytes = encodeSafetensors(model.namedParameters(), { format: "pt" });
 * const half = encodeSafetensors(model.namedParameters(), {}, { dtype: "BF16" }); // half the size of F32
 */
export function encodeSafetensors(
  tensors: Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  expectOptions("encodeSafetensors", options, SAFETENSORS_WRITE_KEYS);
  if (typeof tensors !== "object" || tensors === null || !(Symbol.iterator in tensors)) {
    const got = tensors === null ? "null" : typeof tensors === "object" ? "an object" : typeof tensors;
    throw new InputError(`safetensors: expected the tensors as a Map or [name, tensor] pairs (such as model.stateDict(), or new Map(Object.entries(record))), got ${got}`);
  }
  const entries = [...tensors];
  const as = options.dtype;
  if (as !== undefined && !Object.hasOwn(WIDTH, as)) {
    throw new InputError(`safetensors: dtype ${JSON.stringify(as)} is not one gradgraph writes; expected one of ${Object.keys(WIDTH).join(", ")}`);
  }
  checkMetadata(metadata);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = new Set<string>();
  const codes: SafetensorsFloat[] = [];
  for (const [name, t] of entries) {
    if (name === "__metadata__" || names.has(name)) throw new InputError(`safetensors: tensor name ${JSON.stringify(name)} is reserved or repeated`);
    if (!isTensor(t)) throw new InputError(`safetensors: ${JSON.stringify(name)} is not a tensor (got ${JSON.stringify(t) ?? String(t)})`);
    names.add(name);
    const code = as !== undefined && !integerValued.has(t) ? as : OWN[t.dtype];
    codes.push(code);
    const end = offset + t.size * WIDTH[code];
    header[name] = { dtype: code, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  entries.forEach(([name, t], k) => {
    const data = t.toArray();
    const code = codes[k]!;
    if (littleEndian && code === OWN[t.dtype]) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else writeValues(view, at, data, code, name);
    at += data.length * WIDTH[code];
  });
  return out;
}

/**
 * Writes `data` (tensor `name`'s values) at byte `at` of `view` as `code`, rounded to nearest; a finite value that
 * would round to ±Inf is an {@link InputError} (the caller writes no file then).
 */
function writeValues(view: DataView, at: number, data: Float32Array | Float64Array, code: SafetensorsFloat, name: string): void {
  const n = data.length;
  const beyond = (i: number) => {
    const { name: format, max, wider } = RANGE[code];
    const where = n === 1 ? "" : ` (element ${i} of ${n})`;
    return new InputError(
      `safetensors: tensor ${JSON.stringify(name)} holds ${data[i]}${where}, beyond ${format}'s range (±${max}), so as ${code} it would be ${data[i]! < 0 ? "-" : ""}Infinity; ` +
        `store it as ${wider}, or scale it into range`,
    );
  };
  if (code === "F64") for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, data[i]!, true);
  else if (code === "F32") {
    for (let i = 0; i < n; i++) {
      const f = Math.fround(data[i]!);
      if (!Number.isFinite(f) && Number.isFinite(data[i]!)) throw beyond(i);
      view.setFloat32(at + 4 * i, f, true);
    }
  } else {
    const [bits, inf] = code === "F16" ? [float16Bits, 0x7c00] : [bfloat16Bits, 0x7f80];
    for (let i = 0; i < n; i++) {
      const h = bits(data[i]!);
      if ((h & 0x7fff) === inf && Number.isFinite(data[i]!)) throw beyond(i);
      view.setUint16(at + 2 * i, h, true);
    }
  }
}

/** What {@link decodeSafetensors} returns: the tensors by name, and the file's metadata. */
export interface Safetensors {
  /** The tensors by name, in the order of their data. */
  tensors: Map<string, Tensor>;
  /** The header's `__metadata__` strings ({} when there are none). */
  metadata: Record<string, string>;
}

/**
 * Decodes safetensors bytes, checking the format; a broken file gets an {@link InputError} that says what is
 * wrong (`where` names it in the message, e.g. the file's path).
 *
 * Reads F64, F32, F16, BF16, I64, U64, I32, U32, I16, U16, I8, U8 and BOOL tensors, each as the narrowest
 * gradgraph dtype that holds its values exactly: F64 and 32- and 64-bit integers as float64 (an I64 or U64 beyond
 * ±2^53 is refused), the rest as float32 (F16 and BF16 widened exactly, bit for bit as PyTorch widens them; BOOL
 * as 0 and 1). The format's 8-, 6- and 4-bit floats and complex numbers are refused with a message naming the
 * tensor, its dtype and the dtypes read. The integer tensors are known as such to {@link encodeSafetensors}: a
 * write with a `dtype` keeps them in their own.
 */
export function decodeSafetensors(bytes: Uint8Array, where = "safetensors"): Safetensors {
  if (bytes.length < 8) throw corrupt(`${bytes.length} bytes, shorter than the 8-byte header length`, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_SAFETENSORS_HEADER)) throw corrupt(`the header length ${n64} is over the ${MAX_SAFETENSORS_HEADER}-byte limit`, where);
  if (n64 > BigInt(bytes.length - 8)) {
    throw corrupt(`the header length ${n64} runs past the end of the ${bytes.length}-byte file (the file is truncated)`, where);
  }
  const n = Number(n64);
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith("{")) throw new Error("the header does not start with '{'");
    header = JSON.parse(text);
  } catch (e) {
    throw corrupt(`the header is not UTF-8 JSON (${(e as Error).message})`, where);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw corrupt("the header is not a JSON object", where);
  const dataStart = 8 + n, dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; code: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw corrupt("__metadata__ is not an object", where);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") throw corrupt(`__metadata__.${k} is not a string`, where);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) throw corrupt(`entry ${name} is not an object`, where);
    const code = e.dtype;
    const read = typeof code === "string" && Object.hasOwn(READ, code) ? READ[code] : undefined;
    if (read === undefined) {
      const supported = `gradgraph reads ${Object.keys(READ).join(", ")}`;
      if (typeof code === "string" && NOT_READ.has(code)) throw new InputError(`${where}: tensor ${name} has dtype ${code}, which gradgraph does not read; ${supported}`);
      throw corrupt(`tensor ${name} has dtype ${JSON.stringify(code)}, not a safetensors dtype; ${supported}`, where);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(`tensor ${name} has no valid shape`, where);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw corrupt(`tensor ${name} has no valid data_offsets (${JSON.stringify(off)}; expected [begin, end] with 0 <= begin <= end)`, where);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLength) throw corrupt(`tensor ${name} ends at byte ${end} of a ${dataLength}-byte data section (the file is truncated)`, where);
    const want = sizeOf(shape as number[]) * read.bytes;
    if (end - begin !== want) throw corrupt(`tensor ${name} of shape [${shape.join(",")}] and dtype ${code} needs ${want} bytes, its offsets give ${end - begin}`, where);
    spans.push({ name, code: code as string, shape: shape as number[], begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let before = "";
  for (const s of spans) {
    if (s.begin !== at) {
      throw corrupt(s.begin < at ? `tensor ${s.name} (bytes ${s.begin}–${s.end}) overlaps tensor ${before}, which ends at byte ${at}` : `a gap of ${s.begin - at} bytes before tensor ${s.name}`, where);
    }
    at = s.end;
    before = s.name;
  }
  if (at !== dataLength) throw corrupt(`${dataLength - at} bytes after the last tensor`, where);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    const t = fromTypedArray(readValues(view, dataStart + s.begin, s, where), s.shape);
    if (!s.code.startsWith("F") && s.code !== "BF16") integerValued.add(t); // I*, U*, BOOL: kept as they are on a write
    tensors.set(s.name, t);
  }
  return { tensors, metadata };
}

/** The values of one tensor, `code` its safetensors dtype (checked), its data at `base` in `view`. */
function readValues(view: DataView, base: number, s: { name: string; code: string; shape: number[] }, where: string): Float32Array | Float64Array {
  const { bytes, dtype } = READ[s.code]!;
  const count = sizeOf(s.shape);
  const data = dtype === "float64" ? new Float64Array(count) : new Float32Array(count);
  const code = s.code;
  if (code === "F64" || code === "F32") {
    if (littleEndian) new Uint8Array(data.buffer).set(new Uint8Array(view.buffer, view.byteOffset + base, count * bytes));
    else for (let i = 0; i < count; i++) data[i] = code === "F64" ? view.getFloat64(base + 8 * i, true) : view.getFloat32(base + 4 * i, true);
  } else if (code === "F16" || code === "BF16") {
    // Bit patterns, so that a NaN keeps its payload.
    const bits = new Uint32Array(data.buffer);
    if (code === "BF16") for (let i = 0; i < count; i++) bits[i] = view.getUint16(base + 2 * i, true) << 16;
    else {
      const table = float16Table();
      for (let i = 0; i < count; i++) bits[i] = table[view.getUint16(base + 2 * i, true)]!;
    }
  } else if (code === "I64" || code === "U64") {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < count; i++) {
      const v = code === "I64" ? view.getBigInt64(base + 8 * i, true) : view.getBigUint64(base + 8 * i, true);
      if (v > max || v < -max) {
        throw new InputError(`${where}: tensor ${s.name} holds the integer ${v}, beyond what float64 holds exactly (±2^53)`);
      }
      data[i] = Number(v);
    }
  } else {
    const get: (at: number) => number =
      code === "I32" ? (at) => view.getInt32(at, true)
      : code === "U32" ? (at) => view.getUint32(at, true)
      : code === "I16" ? (at) => view.getInt16(at, true)
      : code === "U16" ? (at) => view.getUint16(at, true)
      : code === "I8" ? (at) => view.getInt8(at)
      : code === "U8" ? (at) => view.getUint8(at)
      : (at) => (view.getUint8(at) === 0 ? 0 : 1); // BOOL
    for (let i = 0; i < count; i++) data[i] = get(base + bytes * i);
  }
  return data;
}
