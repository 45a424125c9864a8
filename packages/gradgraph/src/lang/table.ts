/**
 * The expression language's view of the op table: its operators, functions and their arities are read from
 * the table (print specs, precedences, arities), not listed a second time here — the infix operators from every
 * primitive that prints as one (`@` is matmul's), the scalar functions from the elementwise entries. Only what
 * the table does not hold is declared here: unary plus, `pow(a, b)` as a call, and the constants `e` and `pi`.
 * (The tensor functions, `sum(x, axis=0)` and the composites, are read from the table by ./tensor.ts.)
 */
import { elementwiseList } from "../ops/elementwise.js";
import { PREC } from "../ops/op.js";
import { opList } from "../ops/registry.js";

/** A binary operator of the language. */
export interface BinaryOperator {
  /** As written: `+`, `^`, `**`, `@`. */
  readonly symbol: string;
  /** The algebra method it applies (an op-table name, or `matmul`). */
  readonly op: string;
  /** How it prints on the board (`**` prints as `^`). */
  readonly board: string;
  readonly prec: number;
  readonly assoc: "left" | "right";
}

/** A prefix operator: `-` (the table's `neg`) and `+` (the identity, `pos`). */
export interface PrefixOperator {
  readonly symbol: string;
  readonly op: "neg" | "pos";
  readonly prec: number;
}

/** A function callable in the language. */
export interface FunctionSpec {
  /** The name written on the board. */
  readonly name: string;
  /** The algebra method it applies. */
  readonly op: string;
  /** Number of positional arguments (the most it takes, when `minArity` is given). */
  readonly arity: number;
  /** The fewest positional arguments it takes, when some are optional (`max(x)` reduces, `max(a, b)` does not). */
  readonly minArity?: number;
  /** Names of the positional arguments, for messages (`max(a, b)`). */
  readonly params?: readonly string[];
  /** Keyword arguments it accepts (`axis`, `keepdims`); none for the elementwise functions. */
  readonly keywords?: readonly string[];
  /** Those of its keywords that are flags: they take `True` or `False` (`keepdims=True`), or 1 or 0. */
  readonly flags?: readonly string[];
}

/**
 * The binary operators by symbol: the table's infix ops (board and Python spellings), elementwise and tensor
 * (`@`, matmul: the tensor engine provides it; the scalar engine says it needs tensors).
 */
export const binaryOperators: ReadonlyMap<string, BinaryOperator> = (() => {
  const m = new Map<string, BinaryOperator>();
  for (const op of opList) {
    const p = op.print;
    if (p.kind !== "infix") continue;
    for (const symbol of new Set([p.symbol.board, p.symbol.py])) {
      m.set(symbol, { symbol, op: op.name, board: p.symbol.board, prec: p.prec, assoc: p.assoc });
    }
  }
  return m;
})();

/** The board symbol of a binary op name (`pow` -> `^`), for printers. */
export const boardSymbolOf: ReadonlyMap<string, BinaryOperator> = new Map(
  [...binaryOperators.values()].filter((b) => b.symbol === b.board).map((b) => [b.op, b]),
);

/** The prefix operators by symbol. */
export const prefixOperators: ReadonlyMap<string, PrefixOperator> = (() => {
  const m = new Map<string, PrefixOperator>();
  for (const op of elementwiseList) {
    const p = op.print;
    if (p.kind === "prefix" && op.name === "neg") m.set(p.symbol, { symbol: p.symbol, op: "neg", prec: p.prec });
  }
  m.set("+", { symbol: "+", op: "pos", prec: PREC.unary });
  return m;
})();

/** Ops of the table that may also be called by name although they print as operators. */
const CALLABLE_INFIX = new Set(["pow"]);

/**
 * The functions of the scalar language, from the op table: every op that prints as a call (its board name and
 * arity), and `pow(a, b)`.
 */
export const scalarFunctions: readonly FunctionSpec[] = elementwiseList.flatMap((op): FunctionSpec[] => {
  const params = op.arity === 1 ? ["x"] : ["a", "b"];
  if (op.print.kind === "call") return [{ name: op.print.name.board, op: op.name, arity: op.arity, params }];
  if (CALLABLE_INFIX.has(op.name)) return [{ name: op.name, op: op.name, arity: op.arity, params }];
  return [];
});

/** The named constants. */
export const constants: ReadonlyMap<string, number> = new Map([
  ["e", Math.E],
  ["pi", Math.PI],
]);

/**
 * The values a flag keyword takes besides 1 and 0 (`keepdims=True`, as the Python printer writes it). They are
 * values only there: elsewhere `True` is a name like any other.
 */
export const flagValues: ReadonlyMap<string, number> = new Map([
  ["True", 1],
  ["False", 0],
  ["true", 1],
  ["false", 0],
]);

/** Functions by name. */
export function functionTable(fs: Iterable<FunctionSpec>): ReadonlyMap<string, FunctionSpec> {
  return new Map([...fs].map((f) => [f.name, f]));
}

/** How a function is called, for messages: `max(a, b)`. */
export function callSignature(f: FunctionSpec): string {
  const min = f.minArity ?? f.arity;
  const ps = (f.params ?? Array.from({ length: f.arity }, (_, i) => `x${i + 1}`)).map((p, i) => (i < min ? p : `[${p}]`));
  const kws = (f.keywords ?? []).map((k) => `${k}=...`);
  return `${f.name}(${[...ps, ...kws].join(", ")})`;
}
