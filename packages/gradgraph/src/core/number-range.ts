/**
 * The one rule for numbers written as text (expression literals, `--at` values, `@file.json` numbers, CSV cells):
 * a number outside float64's range is refused both ways, not read as ±Infinity or silently as 0.
 */

/**
 * Why the number written `text`, read as `n` (`Number(text)`), is refused, or null when it is fine: too large
 * (it would be ±Infinity) or too small (a non-zero number read as 0). The message follows the number:
 * `1e999 is too large for a float64 number (it would be Infinity)`.
 */
export function numberRangeProblem(text: string, n: number): string | null {
  if (Number.isNaN(n)) return null;
  if (!Number.isFinite(n)) return `is too large for a float64 number (it would be ${n > 0 ? "Infinity" : "-Infinity"})`;
  if (n === 0 && /[1-9]/.test(text.split(/[eE]/)[0]!)) return "is too small for a float64 number (it would be 0; the smallest is about 5e-324)";
  return null;
}
