/**
 * Creating tensors: from nested arrays or typed arrays, filled, ranges, the identity.
 */
import { InputError, ShapeError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { checkedSize, formatShape, sizeOf, stridesOf } from "../ops/shape.js";
import { describe as kindOf, expectOptions, optionKeys } from "../core/expect.js";
import { describe } from "./args.js";
import { arrayType, NDArray, type TypedArray } from "./ndarray.js";
import { Tensor, type NestedArray, type TensorOptions } from "./tensor.js";

/** Options of the tensor constructors (`tensor`, `zeros`, `arange`, …): dtype, requiresGrad, label. */
export interface CreateOptions extends TensorOptions {
  /** Element type (default float32). */
  dtype?: DType;
}

/** The keys of {@link CreateOptions}, and of {@link TensorOptions} (fromTypedArray's, whose dtype is its array's). */
const CREATE_KEYS = optionKeys<CreateOptions>({ dtype: true, requiresGrad: true, label: true });
const TENSOR_KEYS = optionKeys<TensorOptions>({ requiresGrad: true, label: true });

function leaf(value: NDArray, options: CreateOptions): Tensor {
  return new Tensor(value, options);
}

/** The most levels of nesting a nested array may have (NumPy's limit on axes): deeper is a mistake, or a cycle. */
const MAX_NESTING = 64;

/** The shape of a nested array, checking that it is rectangular and holds numbers. */
function nestedShape(x: unknown, op: string): number[] {
  const shape: number[] = [];
  let cur = x;
  while (Array.isArray(cur)) {
    // an array that contains itself would go on for ever, and one nested thousands deep overflow the check's stack
    if (shape.length === MAX_NESTING) throw new InputError(`${op}: nested arrays more than ${MAX_NESTING} levels deep (a tensor has at most ${MAX_NESTING} axes); is an array inside itself?`);
    shape.push(cur.length);
    cur = cur[0];
  }
  const check = (v: unknown, d: number): void => {
    if (d === shape.length) {
      // an array or object is described, not printed (it may be huge, nested deep, or contain itself)
      if (typeof v !== "number") throw new InputError(`${op}: expected a number, got ${typeof v === "object" && v !== null ? kindOf(v) : (JSON.stringify(v) ?? String(v))}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) {
      throw new InputError(`${op}: ragged nested array: expected ${shape[d]} elements at depth ${d}`);
    }
    for (const e of v) check(e, d + 1);
  };
  check(x, 0);
  return shape;
}

/**
 * A tensor from a number or nested arrays of numbers (float32 unless `dtype: "float64"`).
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64", requiresGrad: true });
 * x.shape; // [2, 3]
 */
export function tensor(data: NestedArray | TypedArray, options: CreateOptions = {}): Tensor {
  expectOptions("tensor", options, CREATE_KEYS);
  const T = arrayType(options.dtype ?? (data instanceof Float64Array ? "float64" : "float32"));
  if (data instanceof Float32Array || data instanceof Float64Array) {
    // A typed array of the dtype asked for is shared (fromTypedArray); of another, converted.
    const { dtype: _, ...rest } = options;
    return fromTypedArray(data instanceof T ? data : T.from(data), [data.length], rest);
  }
  if (ArrayBuffer.isView(data)) {
    throw new InputError(`tensor: a ${data.constructor.name} cannot hold a tensor (float32 or float64); convert it, e.g. Float32Array.from(data)`);
  }
  const shape = nestedShape(data, "tensor");
  const out = new T(checkedSize(shape, "tensor"));
  let i = 0;
  const fill = (v: NestedArray): void => {
    if (typeof v === "number") out[i++] = v;
    else for (const e of v) fill(e);
  };
  fill(data);
  return leaf(new NDArray(out, shape), options);
}

/**
 * A tensor over an existing typed array (shared, not copied), row-major in `shape` (default 1-D). The dtype is
 * the array's.
 */
export function fromTypedArray(data: TypedArray, shape: readonly number[] = [data.length], options: TensorOptions = {}): Tensor {
  expectOptions("fromTypedArray", options, TENSOR_KEYS);
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    const x: unknown = data;
    const got = ArrayBuffer.isView(x) ? `a ${x.constructor.name}` : Array.isArray(x) ? "an Array (use tensor() for plain arrays)" : typeof x;
    throw new InputError(`fromTypedArray: expected a Float32Array or Float64Array, got ${got}`);
  }
  if (sizeOf(shape) !== data.length) {
    throw new ShapeError(`fromTypedArray: ${data.length} elements do not fill shape ${formatShape(shape)}`);
  }
  return leaf(new NDArray(data, shape, stridesOf(shape)), options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const size = checkedSize(shape, "full"); // first: zeros(2, 3) is a shape mistake, not an options one
  expectOptions("full", options, CREATE_KEYS);
  const out = new (arrayType(options.dtype ?? "float32"))(size);
  if (value !== 0) out.fill(value);
  return leaf(new NDArray(out, [...shape]), options);
}

/** Zeros of `shape`. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** Ones of `shape`. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros shaped (and typed) like `x`. */
export function zerosLike(x: Tensor, options: CreateOptions = {}): Tensor {
  expectOptions("zerosLike", options, CREATE_KEYS);
  return zeros(x.shape, { dtype: x.dtype, ...options });
}

/** Ones shaped (and typed) like `x`. */
export function onesLike(x: Tensor, options: CreateOptions = {}): Tensor {
  expectOptions("onesLike", options, CREATE_KEYS);
  return ones(x.shape, { dtype: x.dtype, ...options });
}

/**
 * `start, start + step, …` below `end` (one argument: `0 … end-1`), like NumPy's arange.
 *
 * @example
 * arange(4).toNested();        // [0, 1, 2, 3]
 * arange(1, 2, 0.25).toNested(); // [1, 1.25, 1.5, 1.75]
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  // Checked for plain-JS callers: `arange(5, { dtype })` made a tensor of shape [NaN], `arange(NaN)` too.
  for (const [what, v] of [["start", start], ["end", end], ["step", step]] as const) {
    if (v === undefined && what === "end") continue;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      const hint = typeof v === "object" && v !== null ? " (options come fourth: arange(start, end, step, options))" : "";
      throw new InputError(`arange: ${what} must be a finite number, got ${describe(v)}${hint}`);
    }
  }
  expectOptions("arange", options, CREATE_KEYS);
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new InputError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = checkedSize([Math.max(0, Math.ceil((end - start) / step))], "arange");
  const out = new (arrayType(options.dtype ?? "float32"))(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return leaf(new NDArray(out, [n]), options);
}

/** `n` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, n: number, options: CreateOptions = {}): Tensor {
  expectOptions("linspace", options, CREATE_KEYS);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`linspace: count must be a non-negative integer, got ${n}`);
  checkedSize([n], "linspace");
  const out = new (arrayType(options.dtype ?? "float32"))(n);
  const step = n > 1 ? (end - start) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = i === n - 1 && n > 1 ? end : start + i * step;
  return leaf(new NDArray(out, [n]), options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  for (const v of [n, m]) {
    if (!Number.isInteger(v) || v < 0) throw new InputError(`eye: sizes must be whole numbers ≥ 0, got ${describe(v)}`);
  }
  expectOptions("eye", options, CREATE_KEYS);
  const out = new (arrayType(options.dtype ?? "float32"))(checkedSize([n, m], "eye"));
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return leaf(new NDArray(out, [n, m]), options);
}
