/**
 * Small text helpers shared by the renderers: compact numbers for people, aligned plain-text tables, and the
 * words a generated program must not use as variable names.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { elementwiseList } from "../ops/elementwise.js";

/** Significant digits shown at most; a number that needs more is rounded to this many. */
export const DISPLAY_DIGITS = 12;

/**
 * A number for people: the shortest text that reads back as the same float64 when that takes at most
 * {@link DISPLAY_DIGITS} significant digits (`0.25`, `-36`, `1e-7`), otherwise the number rounded to that many
 * (`0.1 + 0.2` shows as `0.3`, `1/3` as `0.333333333333`). `-0` shows as `0`; non-finite numbers as `inf`,
 * `-inf`, `nan`.
 *
 * @example
 * formatValue(0.1 + 0.2); // "0.3"
 * formatValue(-36);       // "-36"
 */
export function formatValue(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const shortest = String(x);
  if (significantDigits(shortest) <= DISPLAY_DIGITS) return shortest;
  return String(Number(x.toPrecision(DISPLAY_DIGITS)));
}

/** Significant digits of a JavaScript number literal such as `-0.00125` or `1.5e-7`. */
function significantDigits(literal: string): number {
  const mantissa = literal.replace(/^-/, "").split("e")[0]!.replace(".", "");
  return mantissa.replace(/^0+/, "").length;
}

/** Options of {@link formatTable}. */
export interface TableOptions {
  /** Put before every line (default two spaces). */
  indent?: string;
  /** Between columns (default two spaces). */
  gap?: string;
}

/**
 * Plain-text table with left-aligned columns, a dashed rule under the header and no trailing spaces.
 *
 * @example
 * formatTable(["node", "value"], [["a", "0"], ["b", "1"]]);
 * // "  node  value\n  ----  -----\n  a     0\n  b     1"
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  expectOptions("formatTable", options, optionKeys<TableOptions>({ indent: true, gap: true }));
  const indent = options.indent ?? "  ";
  const gap = options.gap ?? "  ";
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, width(r[i] ?? "")), width(h)));
  const last = headers.length - 1;
  const line = (cells: readonly string[]) =>
    (indent + cells.map((c, i) => (i === last ? c : c + " ".repeat(widths[i]! - width(c)))).join(gap)).trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Display width in a terminal: one column per code point (the renderers use no wide characters). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python keywords (soft ones included) and builtins a generated program relies on. */
const PYTHON_WORDS = [
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
  "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
  "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type", "_",
  "math", "print", "float", "int", "bool",
];

/** TypeScript and JavaScript reserved and contextual words, and globals a generated program relies on. */
const TS_WORDS = [
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "as", "any",
  "boolean", "constructor", "declare", "get", "module", "require", "number", "set", "string", "symbol", "type",
  "from", "of", "async", "arguments", "eval", "undefined", "NaN", "Infinity", "Math", "Number", "never",
  "unknown", "object", "readonly", "keyof", "infer", "is", "asserts", "abstract", "override", "satisfies",
];

/**
 * Names a generated variable must not take: keywords of Python and TypeScript, the globals and helpers a
 * generated program uses (every op's printed function name: `relu`, `max`, `sigmoid`, ...), the constants
 * `e` and `pi`, and `df`, the generated function itself.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...PYTHON_WORDS,
  ...TS_WORDS,
  "e", "pi", "df",
  ...elementwiseList.flatMap((op) =>
    op.print.kind === "call" ? [op.print.name.board, op.print.name.py, op.print.name.ts] : [],
  ),
]);

/**
 * The lecture's names for intermediate values, in order: `a, b, c, …, z, a1, b1, …`, skipping names in `taken`
 * (which it extends), reserved words, names whose gradient `d<name>` would be reserved, and `f` (`df` is the
 * generated function; `o` would make `do`, a keyword).
 */
export function freshNames(taken: Set<string>): () => string {
  let counter = 0;
  return () => {
    for (;;) {
      const round = Math.floor(counter / 26);
      const name = String.fromCharCode(97 + (counter % 26)) + (round === 0 ? "" : String(round));
      counter++;
      if (!taken.has(name) && !RESERVED_NAMES.has(name) && !RESERVED_NAMES.has(`d${name}`) && name !== "f") {
        taken.add(name);
        return name;
      }
    }
  };
}

/** Whether `name` is an identifier in both Python and TypeScript (ASCII letters, digits, `_`). */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
