/**
 * A tensor's printed form, `tensor([[1, 2], [3, 4]], dtype=float64)`. float32 elements print with float32 digits:
 * the shortest decimal that reads back to the same float32 (`-0.40345752`, not the float64 expansion
 * `-0.40345752239227295` of that float32), as PyTorch and NumPy print them; float64 elements print as JavaScript
 * does (the shortest decimal that reads back to the same float64).
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

/** Nested elements as `[[1, 2], [3, 4]]`, each number in its dtype's digits. */
export function formatElements(v: Nested, dtype: DType): string {
  if (typeof v === "number") return dtype === "float32" ? float32String(v) : String(v);
  return `[${v.map((e) => formatElements(e, dtype)).join(", ")}]`;
}
