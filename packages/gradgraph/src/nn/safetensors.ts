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
 * gradgraph stores float32 (F32) and float64 (F64) tensors; reading accepts those, and integer tensors (I64, I32:
 * PyTorch's `num_batches_tracked` is an int64) as float64, exactly (an I64 beyond ±2^53 is refused).
 */
import { InputError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { sizeOf } from "../ops/shape.js";
import { fromTypedArray, type Tensor } from "../tensor/tensor.js";

const DTYPES: Record<DType, { code: string; bytes: number }> = {
  float32: { code: "F32", bytes: 4 },
  float64: { code: "F64", bytes: 8 },
};
const FROM_CODE: Record<string, DType> = { F32: "float32", F64: "float64" };
/** Integer dtypes read as float64: their width in bytes. */
const INT_CODES: Record<string, number> = { I64: 8, I32: 4 };

/** The largest header accepted (the reference implementation's limit, 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A corrupt or unsupported safetensors file. */
function corrupt(why: string, where = "safetensors"): InputError {
  return new InputError(`${where}: not a valid safetensors file: ${why}`);
}

/**
 * Encodes named tensors (and optional string metadata) as safetensors bytes.
 *
 * @example
 * const bytes = encodeSafetensors(model.namedParameters(), { format: "pt" });
 */
export function encodeSafetensors(tensors: Iterable<readonly [string, Tensor]>, metadata?: Record<string, string>): Uint8Array {
  const entries = [...tensors];
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = new Set<string>();
  for (const [name, t] of entries) {
    if (name === "__metadata__" || names.has(name)) throw new InputError(`safetensors: tensor name ${JSON.stringify(name)} is reserved or repeated`);
    names.add(name);
    const { code, bytes } = DTYPES[t.dtype];
    const end = offset + t.size * bytes;
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
  for (const [, t] of entries) {
    const data = t.toArray();
    if (littleEndian) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else {
      const f64 = data instanceof Float64Array;
      for (let i = 0; i < data.length; i++) {
        if (f64) view.setFloat64(at + 8 * i, data[i]!, true);
        else view.setFloat32(at + 4 * i, data[i]!, true);
      }
    }
    at += data.byteLength;
  }
  return out;
}

/** What {@link decodeSafetensors} returns: the tensors by name, and the file's metadata. */
export interface Safetensors {
  /** The tensors by name, in the order of their data. */
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes safetensors bytes, checking the format; a broken file gets an {@link InputError} that says what is
 * wrong (`where` names it in the message, e.g. the file's path).
 */
export function decodeSafetensors(bytes: Uint8Array, where = "safetensors"): Safetensors {
  if (bytes.length < 8) throw corrupt(`${bytes.length} bytes, shorter than the 8-byte header length`, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_SAFETENSORS_HEADER, bytes.length - 8))) {
    throw corrupt(`the header length ${n64} runs past the end of the ${bytes.length}-byte file`, where);
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
  const spans: { name: string; dtype: DType; int: number; shape: number[]; begin: number; end: number }[] = [];
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
    const int = typeof e.dtype === "string" ? (INT_CODES[e.dtype] ?? 0) : 0;
    const dtype = int > 0 ? "float64" : typeof e.dtype === "string" ? FROM_CODE[e.dtype] : undefined;
    if (dtype === undefined) throw corrupt(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}; gradgraph reads F32, F64, I64 and I32`, where);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(`tensor ${name} has no valid shape`, where);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw corrupt(`tensor ${name} has no valid data_offsets`, where);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLength) throw corrupt(`tensor ${name} ends at byte ${end} of a ${dataLength}-byte data section (the file is truncated)`, where);
    const want = sizeOf(shape as number[]) * (int > 0 ? int : DTYPES[dtype].bytes);
    if (end - begin !== want) throw corrupt(`tensor ${name} of shape [${shape.join(",")}] needs ${want} bytes, its offsets give ${end - begin}`, where);
    spans.push({ name, dtype, int, shape: shape as number[], begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin !== at) throw corrupt(s.begin < at ? `tensor ${s.name} overlaps the one before it` : `a gap before tensor ${s.name}`, where);
    at = s.end;
  }
  if (at !== dataLength) throw corrupt(`${dataLength - at} bytes after the last tensor`, where);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    const T = s.dtype === "float64" ? Float64Array : Float32Array;
    const count = sizeOf(s.shape);
    const data = new T(count);
    const base = dataStart + s.begin;
    if (s.int > 0) {
      for (let i = 0; i < count; i++) {
        const v = s.int === 8 ? view.getBigInt64(base + 8 * i, true) : view.getInt32(base + 4 * i, true);
        if (typeof v === "bigint" && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))) {
          throw corrupt(`tensor ${s.name} holds the integer ${v}, beyond what float64 holds exactly (±2^53)`, where);
        }
        data[i] = Number(v);
      }
    } else if (littleEndian) new Uint8Array(data.buffer).set(bytes.subarray(base, base + s.end - s.begin));
    else for (let i = 0; i < count; i++) data[i] = s.dtype === "float64" ? view.getFloat64(base + 8 * i, true) : view.getFloat32(base + 4 * i, true);
    tensors.set(s.name, fromTypedArray(data, s.shape));
  }
  return { tensors, metadata };
}
