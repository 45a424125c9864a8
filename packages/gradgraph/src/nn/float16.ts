/**
 * 16-bit floats as bit patterns, for safetensors' F16 (IEEE 754 binary16: 1 sign, 5 exponent, 10 mantissa bits)
 * and BF16 (bfloat16: the top 16 bits of a float32, 1 sign, 8 exponent, 7 mantissa bits). JavaScript has no
 * 16-bit float type before Float16Array (not in Node 20), so both directions are done here by hand: widening to
 * float32 is exact for every pattern; narrowing rounds to nearest, ties to even, as IEEE 754 and PyTorch do.
 */

/**
 * The float32 bit pattern of an F16 bit pattern: the same number (subnormals, ±0, ±Inf); a NaN keeps its sign and
 * payload and is quiet, as IEEE 754's conversion and the hardware's (x86 F16C, which PyTorch uses) make it.
 */
export function float16ToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13) | (mant === 0 ? 0 : 0x400000)) >>> 0; // ±Inf, NaN
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // 2^(exp-15) (1 + mant/1024): rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // A subnormal, mant·2^-24: normal in float32; shift the mantissa up to its leading 1.
  let e = 113;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;

/** float32 bit patterns of all 65,536 F16 patterns (256 kB, built on first use). */
export function float16Table(): Uint32Array {
  if (f16Table === undefined) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = float16ToFloat32Bits(h);
  }
  return f16Table;
}

/** A 16-bit float format: mantissa bits, smallest normal exponent, the patterns of +Inf and of the NaN written. */
interface Format {
  readonly mantissa: number;
  readonly minExp: number;
  readonly inf: number;
  readonly nan: number;
  /** 2^(mantissa − e) for each exponent e from minExp to 1023, at index e − minExp. */
  readonly scale: Float64Array;
}

function format(mantissa: number, minExp: number, inf: number, nan: number): Format {
  const scale = new Float64Array(1024 - minExp);
  for (let i = 0; i < scale.length; i++) scale[i] = 2 ** (mantissa - minExp - i);
  return { mantissa, minExp, inf, nan, scale };
}

const scratch = new Float64Array(1);
const scratchHigh = new Uint32Array(scratch.buffer);
/** Which 32-bit half of a float64 holds its sign and exponent. */
const highWord = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

const F16 = format(10, -14, 0x7c00, 0x7e00);
const BF16 = format(7, -126, 0x7f80, 0x7fc0);

/**
 * The 16-bit pattern nearest `x` (ties to even); beyond the largest finite value it is ±Inf, as IEEE 754 says
 * (F16: from 65520 on; BF16: from 2^128 − 2^119 on). NaN becomes the format's quiet NaN, with sign 0.
 * Works on the float64 value directly, so a float64 is rounded once (never first to float32).
 */
function narrow(x: number, f: Format): number {
  if (Number.isNaN(x)) return f.nan;
  const sign = x < 0 || (x === 0 && 1 / x < 0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | f.inf;
  if (a === 0) return sign;
  // e = floor(log2 a), from the float64's exponent field (a float64 subnormal is far below every minExp here).
  scratch[0] = a;
  let e = (scratchHigh[highWord]! >>> 20) - 1023;
  if (e < f.minExp) e = f.minExp; // the subnormal range has the smallest normal exponent's spacing
  const q = a * f.scale[e - f.minExp]!; // a·2^(mantissa − e): exact; in [2^m, 2^(m+1)) for normals
  let r = Math.floor(q);
  const d = q - r;
  if (d > 0.5 || (d === 0.5 && r % 2 === 1)) r++;
  // (e - minExp)·2^m + r: the biased exponent and mantissa in one sum, so a carry out of the mantissa (r = 2^(m+1))
  // moves to the next exponent, and past the largest one to the Inf pattern.
  return sign | Math.min((e - f.minExp) * 2 ** f.mantissa + r, f.inf);
}

/** The F16 bit pattern nearest `x` (ties to even; overflow is ±Inf). */
export function float16Bits(x: number): number {
  return narrow(x, F16);
}

/** The BF16 bit pattern nearest `x` (ties to even; overflow is ±Inf). */
export function bfloat16Bits(x: number): number {
  return narrow(x, BF16);
}
