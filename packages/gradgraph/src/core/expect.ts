/**
 * The checks every public API makes of its arguments when it is called, for plain-JavaScript callers whose
 * arguments no compiler saw: a function (grad, customFunction, gradcheck, detectAnomaly, compile, noGrad, fit's
 * callbacks, ...: given 42 or a string, an InputError naming the API and what came, not JavaScript's `f is not a
 * function` later, at the first use); an options object (every API taking one: an unknown key such as PyTorch's
 * `weight_decay` or a misspelt `momentun` is an InputError naming the key, the accepted ones and the likely one,
 * never an option silently ignored); a string from a fixed set (a loss's reduction, a dataset's task). And how a
 * value that came instead is named in messages.
 */
import { InputError } from "./errors.js";
import { suggestions } from "./suggest.js";

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

/**
 * Every key of an options type `T`, each mapped to `true`: `optionKeys<SGDOptions>({ lr: true, ... })` is the
 * accepted keys' list, and tsc rejects the literal when it leaves out a key of the type or names one the type
 * lacks, so the list and the interface cannot drift apart.
 */
export type OptionKeySet<T> = { readonly [K in keyof Required<T>]: true };

/** The accepted keys of an options type, checked against it at compile time (see {@link OptionKeySet}). */
export function optionKeys<T extends object>(keys: OptionKeySet<T>): readonly (keyof T & string)[] {
  return Object.keys(keys) as (keyof T & string)[];
}

/** Names other libraries use for an option, with ours (snake_case ones are turned into camelCase anyway). */
const OPTION_ALIASES: Readonly<Record<string, string>> = { argnum: "argnums", keepdims: "keepdim", axis: "dim", dims: "dim" };

const camelCase = (key: string): string => key.replace(/_+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());

/** ` (did you mean requiresGrad?)` for `requires_grad`, ` (did you mean momentum?)` for `momentun`, or `""`. */
export function optionHint(key: string, allowed: readonly string[]): string {
  const alias = OPTION_ALIASES[key];
  if (alias !== undefined && allowed.includes(alias)) return ` (did you mean ${alias}?)`;
  const camel = camelCase(key);
  if (camel !== key && allowed.includes(camel)) return ` (did you mean ${camel}?)`;
  const near = suggestions(camel, allowed);
  if (near.length > 0) return ` (did you mean ${near.join(" or ")}?)`;
  // A shortening of exactly one key: `pad` for padding, `drop` for dropLast.
  const longer = key.length >= 3 ? allowed.filter((a) => a.toLowerCase().startsWith(camel.toLowerCase())) : [];
  return longer.length === 1 ? ` (did you mean ${longer[0]!}?)` : "";
}

const isTensorLike = (x: object): boolean => Symbol.for("gradgraph.Tensor") in x;

/**
 * Throws an InputError unless `options` is undefined (every option left at its default) or an object whose keys
 * are all in `allowed`: `SGD: unknown option "momentun" (did you mean momentum?); expected lr, momentum, ...`.
 * null, an array, a number, a function or a tensor where the options go is an InputError too:
 * `Linear: options must be an object with bias, generator, seed, dtype, init, got a number (3)`. `what` names
 * the argument when it is not "options" (e.g. fit's `callbacks`).
 */
export function expectOptions(who: string, options: unknown, allowed: readonly string[], what = "options"): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options) || isTensorLike(options)) {
    const got = options !== null && typeof options === "object" && isTensorLike(options) ? "a Tensor" : describe(options);
    throw new InputError(`${who}: ${what} must be an object with ${allowed.join(", ")}, got ${got}`);
  }
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const named = unknown.map((k) => `${JSON.stringify(k)}${optionHint(k, allowed)}`).join(", ");
  const expected = allowed.length === 0 ? "it takes none" : `expected ${allowed.join(", ")}`;
  const label = `${what === "options" ? "option" : `${what} key`}${unknown.length > 1 ? "s" : ""}`;
  throw new InputError(`${who}: unknown ${label} ${named}; ${expected}`);
}

/**
 * Throws an InputError unless `value` is one of `allowed` (a loss's reduction, a dataset's task), naming them and
 * the near one: `mseLoss: reduction must be "mean", "sum" or "none", got "Mean" (did you mean "mean"?)`.
 */
export function expectOneOf<const T extends string>(who: string, what: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return;
  const quoted = allowed.map((a) => JSON.stringify(a));
  const list = quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]!}`;
  const near = typeof value === "string" ? suggestions(value, allowed) : [];
  const got = typeof value === "string" ? JSON.stringify(value) : describe(value);
  throw new InputError(`${who}: ${what} must be ${list}, got ${got}${near.length > 0 ? ` (did you mean ${JSON.stringify(near[0])}?)` : ""}`);
}
