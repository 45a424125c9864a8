/**
 * A tensor's printed form, `tensor([[1, 2], [3, 4]], dtype=float64)`. float32 elements print with float32 digits:
 * the shortest decimal that reads back to the same float32 (`-0.40345752`, not the float64 expansion
 * `-0.40345752239227295` of that float32), as PyTorch and NumPy print them; float64 elements print as JavaScript
 * does (the shortest decimal that reads back to the same float64). Large tensors print summarised, as PyTorch's.
 */
import type { DType } from "../ops/op.js";

/** The shortest decimal string that `Math.fround` reads back to the float32 `x` (at most 9 significant digits). */
export function float32String(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  for (let p = 1; p < 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return String(s);
  }
  return String(Number(x.toPrecision(9)));
}

type Nested = number | Nested[];

/** Tensors with more elements than this print summarised, as PyTorch's (its `threshold`). */
export const PRINT_THRESHOLD = 1000;
/** How many entries a summarised axis shows at each end (PyTorch's `edgeitems`). */
export const PRINT_EDGE_ITEMS = 3;

/**
 * Nested elements as `[[1, 2], [3, 4]]`, each number in its dtype's digits; with `edge`, an axis longer than
 * 2·edge shows its first and last `edge` entries around `...`.
 */
export function formatElements(v: Nested, dtype: DType, edge?: number): string {
  if (typeof v === "number") return dtype === "float32" ? float32String(v) : String(v);
  const parts = edge !== undefined && v.length > 2 * edge
    ? [...v.slice(0, edge).map((e) => formatElements(e, dtype, edge)), "...", ...v.slice(-edge).map((e) => formatElements(e, dtype, edge))]
    : v.map((e) => formatElements(e, dtype, edge));
  return `[${parts.join(", ")}]`;
}

/** A tensor's printed form: `tensor([...])`, with `dtype=float64` and `requiresGrad=true` when they hold. */
export function tensorString(values: Nested, dtype: DType, size: number, requiresGrad: boolean): string {
  const body = formatElements(values, dtype, size > PRINT_THRESHOLD ? PRINT_EDGE_ITEMS : undefined);
  const extras = [dtype === "float64" ? "dtype=float64" : "", requiresGrad ? "requiresGrad=true" : ""].filter(Boolean);
  return `tensor(${body}${extras.length > 0 ? `, ${extras.join(", ")}` : ""})`;
}
