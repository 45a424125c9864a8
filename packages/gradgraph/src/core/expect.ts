/**
 * The check every public API that takes a function makes when it is called (grad, customFunction, gradcheck,
 * detectAnomaly, compile, noGrad, fit's callbacks, ...): given 42 or a string, it throws an InputError naming the
 * API and what came, not JavaScript's `f is not a function` later, at the first use. And how a value that came
 * instead is named in messages.
 */
import { InputError } from "./errors.js";

/** Whether `x` is a plain object (`{ ... }`, or made with a null prototype), not an instance of a class. */
export function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** What a value is, for messages: `a Tensor`, `a number (42)`, `a string`, `undefined`. */
export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === "number") return `a number (${x})`;
  if (typeof x !== "object" && typeof x !== "function") return `a ${typeof x}`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === "function") return "a function";
  if (isPlainObject(x)) return "an object";
  const name = (x as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name}` : "an object";
}

/**
 * Throws an InputError unless `f` is a function: `grad: expected a function, got a number (42)`, or, for one of
 * the API's parameters or options named `what`, `fit: onStep must be a function, got a string`. An optional one
 * left out (undefined) is the caller's to skip.
 */
export function expectFunction(f: unknown, who: string, what?: string): void {
  if (typeof f === "function") return;
  throw new InputError(what === undefined ? `${who}: expected a function, got ${describe(f)}` : `${who}: ${what} must be a function, got ${describe(f)}`);
}
