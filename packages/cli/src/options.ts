/** Numeric command-line options, checked as typed: a bad one is an InputError naming the option and what it expects. */
import { InputError } from "gradgraph";
import { numberRangeProblem } from "gradgraph/lecture";

/**
 * A number as every numeric option is written: decimal (`3`, `-0.5`, `.5`, `1e-3`), as CSV cells and `--at`
 * values are; not `0x10`, `0b1`, `0o7` (which Number() would read as 16, 1, 7), `Infinity` or `""`.
 */
export const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * A number option (`--lr 1e-3`), or undefined when not given: written as {@link DECIMAL}, within float64's range
 * (1e999 and 1e-999 are refused, not read as Infinity or 0), then `check` says which numbers it takes.
 */
export function number(option: string, value: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!DECIMAL.test(value)) {
    // 0x10 and 0b1 are numbers to Number(), so the rule is said; "abc" or "Infinity" simply is not what is expected
    const radix = value.trim() !== "" && Number.isFinite(x) ? ", written in decimal (e.g. 16, 0.01 or 1e-3; not hexadecimal, binary or octal)" : "";
    throw new InputError(`${option} ${value}: expected ${what}${radix}`);
  }
  const range = numberRangeProblem(value.trim(), x);
  if (range !== null) throw new InputError(`${option} ${value}: ${value.trim()} ${range}; expected ${what}`);
  if (!check(x)) throw new InputError(`${option} ${value}: expected ${what}`);
  return x;
}
/**
 * An integer option: decimal digits only (as GRADGRAPH_NUM_THREADS and --model's sizes; Number() would also read
 * "1e1", "0x10" and "2.0"), then `check`.
 */
export function integer(option: string, value: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (value !== undefined && !/^\s*\d+\s*$/.test(value)) throw new InputError(`${option} ${value}: expected ${what}`);
  // 99999999999999999999 would be read as 100000000000000000000, and steps past 2^53 are not counted exactly
  // (said where `check` alone would let such a number through)
  if (value !== undefined && !Number.isSafeInteger(Number(value))) {
    const exact = !check(Number(value)) || what.includes("2^53") ? what : `${what} (at most 2^53 − 1)`;
    throw new InputError(`${option} ${value}: expected ${exact}`);
  }
  return number(option, value, (x) => Number.isInteger(x) && check(x), what);
}
