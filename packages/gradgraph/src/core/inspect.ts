/**
 * The key under which Node's `util.inspect` (so `console.log`) looks for an object's own rendering. It is a
 * registered symbol, not an import of `node:util`, so the library stays free of Node modules; browsers ignore it.
 */
export const inspectSymbol: unique symbol = Symbol.for("nodejs.util.inspect.custom");
