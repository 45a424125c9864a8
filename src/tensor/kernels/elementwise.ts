/**
 * Elementwise kernels compiled from the op table. For each op (and each combination of input/output dtypes) a
 * loop is generated with the table's own `forward` function pasted in as a local constant, so V8 inlines it: the
 * table stays the single source of truth, and the loop has no per-element closure call or allocation.
 *
 * Three loop shapes: same-shape contiguous inputs (a flat loop), one input a single value (scalar broadcast),
 * and the general strided/broadcast loop over collapsed axes. Where `new Function` is unavailable (a strict
 * content security policy) or the pasted source does not behave like the function, the same loops are built
 * around a call of the function instead.
 */
import type { DType, ElementwiseOp } from "../../ops/op.js";
import type { Shape } from "../../ops/shape.js";
import { arrayType, broadcastStrides, collapse, NDArray, type TypedArray } from "../ndarray.js";

type Unary = {
  flat(out: TypedArray, a: TypedArray, ao: number, n: number): void;
  strided(out: TypedArray, a: TypedArray, ao: number, as: number[], shape: number[]): void;
};
type Binary = {
  flat(out: TypedArray, a: TypedArray, ao: number, b: TypedArray, bo: number, n: number): void;
  scalarA(out: TypedArray, av: number, b: TypedArray, bo: number, n: number): void;
  scalarB(out: TypedArray, a: TypedArray, ao: number, bv: number, n: number): void;
  strided(out: TypedArray, a: TypedArray, ao: number, as: number[], b: TypedArray, bo: number, bs: number[], shape: number[]): void;
};

/** Source of the strided loop: rows over all axes but the last, a tight loop along the last. */
function stridedSource(args: string, reads: string[], names: string[]): string {
  const inits = names.map((x) => `let p${x} = ${x}o; const s${x} = ${x}s[r - 1];`).join(" ");
  const rows = names.map((x) => `let i${x} = p${x};`).join(" ");
  const steps = names.map((x) => `i${x} += s${x};`).join(" ");
  const adv = names.map((x) => `p${x} += ${x}s[d];`).join(" ");
  const back = names.map((x) => `p${x} -= ${x}s[d] * (shape[d] - 1);`).join(" ");
  return `function strided(${args}) {
    const r = shape.length, n0 = shape[r - 1];
    let rows = 1; for (let d = 0; d < r - 1; d++) rows *= shape[d];
    const idx = new Int32Array(r); ${inits} let o = 0;
    for (let row = 0; row < rows; row++) {
      ${rows}
      for (let j = 0; j < n0; j++) { out[o++] = f(${reads.join(", ")}); ${steps} }
      for (let d = r - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) { ${adv} break; }
        idx[d] = 0; ${back}
      }
    }
  }`;
}

const UNARY_BODY = `return {
  flat: function flat(out, a, ao, n) { for (let i = 0; i < n; i++) out[i] = f(a[ao + i]); },
  strided: ${stridedSource("out, a, ao, as, shape", ["a[ia]"], ["a"])},
};`;

const BINARY_BODY = `return {
  flat: function flat(out, a, ao, b, bo, n) { for (let i = 0; i < n; i++) out[i] = f(a[ao + i], b[bo + i]); },
  scalarA: function scalarA(out, av, b, bo, n) { for (let i = 0; i < n; i++) out[i] = f(av, b[bo + i]); },
  scalarB: function scalarB(out, a, ao, bv, n) { for (let i = 0; i < n; i++) out[i] = f(a[ao + i], bv); },
  strided: ${stridedSource("out, a, ao, as, b, bo, bs, shape", ["a[ia]", "b[ib]"], ["a", "b"])},
};`;

/** Inputs on which a compiled copy of `forward` must agree with the original. */
const PROBES = [-2.5, -1, -0.5, 0, 0.5, 1, 3, Infinity, -Infinity, NaN];

function agrees(f: (a: number, b: number) => number, g: (a: number, b: number) => number): boolean {
  for (const a of PROBES) {
    for (const b of PROBES) {
      const x = f(a, b), y = g(a, b);
      if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) return false;
    }
  }
  return true;
}

/** Builds the loops around `forward`: pasted in as source when possible, else called through a parameter. */
function build<K>(op: ElementwiseOp, body: string): K {
  const src = op.forward.toString();
  try {
    const make = new Function(`"use strict"; const f = (${src});\nreturn [f, (function () { ${body} })()];`) as () => [
      (a: number, b: number) => number,
      K,
    ];
    const [f, kernels] = make();
    if (agrees(f, op.forward)) return kernels;
  } catch {
    // fall through: no eval allowed, or the source text is not a standalone function
  }
  try {
    return (new Function("f", `"use strict"; ${body}`) as (f: unknown) => K)(op.forward);
  } catch {
    return fallback(op) as K;
  }
}

/** Plain closures, for environments that forbid `new Function` (exported for tests). */
export function fallback(op: ElementwiseOp): Unary | Binary {
  const f = op.forward;
  const strided = (out: TypedArray, arrays: TypedArray[], offs: number[], strides: number[][], shape: number[]) => {
    const r = shape.length, n0 = shape[r - 1]!;
    let rows = 1;
    for (let d = 0; d < r - 1; d++) rows *= shape[d]!;
    const idx = new Int32Array(r);
    const p = offs.slice();
    const two = arrays.length === 2;
    const a = arrays[0]!, b = arrays[1] ?? arrays[0]!;
    const sa = strides[0]![r - 1]!, sb = (strides[1] ?? strides[0]!)[r - 1]!;
    let o = 0;
    for (let row = 0; row < rows; row++) {
      let ia = p[0]!, ib = p[1] ?? 0;
      for (let j = 0; j < n0; j++) {
        out[o++] = f(a[ia]!, two ? b[ib]! : NaN);
        ia += sa;
        ib += sb;
      }
      for (let d = r - 2; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) {
          for (let k = 0; k < p.length; k++) p[k]! += strides[k]![d]!;
          break;
        }
        idx[d] = 0;
        for (let k = 0; k < p.length; k++) p[k]! -= strides[k]![d]! * (shape[d]! - 1);
      }
    }
  };
  return {
    flat: (out: TypedArray, a: TypedArray, ao: number, b: TypedArray | number, bo?: number | undefined, n?: number) => {
      if (typeof b === "number") {
        for (let i = 0; i < b; i++) out[i] = f(a[ao + i]!, NaN);
      } else for (let i = 0; i < n!; i++) out[i] = f(a[ao + i]!, b[bo! + i]!);
    },
    scalarA: (out: TypedArray, av: number, b: TypedArray, bo: number, n: number) => {
      for (let i = 0; i < n; i++) out[i] = f(av, b[bo + i]!);
    },
    scalarB: (out: TypedArray, a: TypedArray, ao: number, bv: number, n: number) => {
      for (let i = 0; i < n; i++) out[i] = f(a[ao + i]!, bv);
    },
    strided: (out: TypedArray, a: TypedArray, ao: number, as: number[], b: TypedArray | number[], bo?: unknown, bs?: unknown, shape?: unknown) => {
      if (Array.isArray(b)) strided(out, [a], [ao], [as], b);
      else strided(out, [a, b as TypedArray], [ao, bo as number], [as, bs as number[]], shape as number[]);
    },
  } as unknown as Unary | Binary;
}

const cache = new Map<string, Unary | Binary>();

function kernelsFor<K extends Unary | Binary>(op: ElementwiseOp, dtypes: string): K {
  const key = `${op.name}:${dtypes}`;
  let k = cache.get(key);
  if (!k) {
    k = build<K>(op, op.arity === 1 ? UNARY_BODY : BINARY_BODY);
    cache.set(key, k);
  }
  return k as K;
}

/** True if the array is one value (a 0-d array or all axes of size 1). */
function isSingle(a: NDArray): boolean {
  return a.size === 1;
}

/** Applies an elementwise op to arrays already checked against its shape rule, into a fresh array. */
export function elementwiseKernel(op: ElementwiseOp, xs: readonly NDArray[], outShape: Shape, dtype: DType): NDArray {
  let n = 1;
  for (const d of outShape) n *= d;
  const out = new (arrayType(dtype))(n);
  const result = new NDArray(out, outShape);
  if (n === 0) return result;
  const a = xs[0]!;
  if (op.arity === 1) {
    const k = kernelsFor<Unary>(op, `${a.dtype}>${dtype}`);
    if (a.contiguous) k.flat(out, a.data, a.offset, n);
    else {
      const c = collapse(outShape, [a.strides]);
      k.strided(out, a.data, a.offset, c.strides[0]!, c.shape);
    }
    return result;
  }
  const b = xs[1]!;
  const k = kernelsFor<Binary>(op, `${a.dtype},${b.dtype}>${dtype}`);
  const aFull = a.size === n, bFull = b.size === n;
  if (aFull && bFull && a.contiguous && b.contiguous) k.flat(out, a.data, a.offset, b.data, b.offset, n);
  else if (isSingle(b) && aFull && a.contiguous) k.scalarB(out, a.data, a.offset, b.data[b.offset]!, n);
  else if (isSingle(a) && bFull && b.contiguous) k.scalarA(out, a.data[a.offset]!, b.data, b.offset, n);
  else {
    const c = collapse(outShape, [broadcastStrides(a, outShape), broadcastStrides(b, outShape)]);
    k.strided(out, a.data, a.offset, c.strides[0]!, b.data, b.offset, c.strides[1]!, c.shape);
  }
  return result;
}

/** `where(c, a, b)` with broadcasting (one loop; the selection is inline). */
export function whereKernel(xs: readonly NDArray[], outShape: Shape, dtype: DType): NDArray {
  let n = 1;
  for (const d of outShape) n *= d;
  const out = new (arrayType(dtype))(n);
  if (n === 0) return new NDArray(out, outShape);
  const [c, a, b] = xs as [NDArray, NDArray, NDArray];
  const col = collapse(outShape, [broadcastStrides(c, outShape), broadcastStrides(a, outShape), broadcastStrides(b, outShape)]);
  const shape = col.shape, [cs, as, bs] = col.strides as [number[], number[], number[]];
  const r = shape.length, n0 = shape[r - 1]!;
  let rows = 1;
  for (let d = 0; d < r - 1; d++) rows *= shape[d]!;
  const cd = c.data, ad = a.data, bd = b.data;
  const sc = cs[r - 1]!, sa = as[r - 1]!, sb = bs[r - 1]!;
  const idx = new Int32Array(r);
  let pc = c.offset, pa = a.offset, pb = b.offset, o = 0;
  for (let row = 0; row < rows; row++) {
    let ic = pc, ia = pa, ib = pb;
    for (let j = 0; j < n0; j++) {
      out[o++] = cd[ic] !== 0 ? ad[ia]! : bd[ib]!;
      ic += sc;
      ia += sa;
      ib += sb;
    }
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        pc += cs[d]!;
        pa += as[d]!;
        pb += bs[d]!;
        break;
      }
      idx[d] = 0;
      pc -= cs[d]! * (shape[d]! - 1);
      pa -= as[d]! * (shape[d]! - 1);
      pb -= bs[d]! * (shape[d]! - 1);
    }
  }
  return new NDArray(out, outShape);
}
