/** Numeric command-line options, checked as typed: a bad one is an InputError naming the option and what it expects. */
import { InputError } from "gradgraph";

/** A number option (`--lr 1e-3`), or undefined when not given; `check` says which numbers it takes. */
export function number(option: string, value: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || !check(x)) throw new InputError(`${option} ${value}: expected ${what}`);
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
