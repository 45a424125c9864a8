/**
 * How a compiled function's cache tells apart the plain values in its arguments (everything that is not a
 * tensor or a `Value`: the trace bakes them into the program, so two calls may share a program only when these
 * are the same). One string per value, different for values a function could tell apart: `-0` from `0`, `NaN`,
 * `null` from `undefined`, a string from the number it spells, `2n` from `2`, and symbols by identity (two
 * symbols with the same description are different arguments).
 */

/** Unregistered symbols met so far, numbered (held weakly where symbols can be WeakMap keys). */
let symbolIds: { get(s: symbol): number | undefined; set(s: symbol, id: number): unknown };
try {
  // (TypeScript's library before ES2023 types WeakMap keys as objects only.)
  const probe = new WeakMap() as unknown as typeof symbolIds;
  probe.set(Symbol("probe"), 0);
  symbolIds = probe;
} catch {
  symbolIds = new Map<symbol, number>(); // an engine without symbols as WeakMap keys: kept for good (symbols passed to compiled functions are few)
}
let nextSymbol = 0;

/** The cache's string for a plain value (not an object or a function). */
export function staticKey(x: unknown): string {
  switch (typeof x) {
    case "string":
      return JSON.stringify(x);
    case "number":
      return Object.is(x, -0) ? "-0" : String(x);
    case "bigint":
      return `${x}n`;
    case "symbol": {
      const registered = Symbol.keyFor(x);
      if (registered !== undefined) return `Symbol.for(${JSON.stringify(registered)})`;
      let id = symbolIds.get(x);
      if (id === undefined) symbolIds.set(x, (id = nextSymbol++));
      return `Symbol#${id}`;
    }
    default:
      return String(x); // undefined, null, true, false
  }
}
