/**
 * The lexer: source text to tokens, each with its position. Operator symbols come from the language table
 * (and so from the op table); the longest symbol wins (`**` before `*`).
 */
import { SourceError } from "../core/errors.js";
import { numberRangeProblem } from "../core/number-range.js";
import { binaryOperators, prefixOperators } from "./table.js";

/** The kinds of token of the expression language. */
export type TokenKind = "number" | "name" | "op" | "(" | ")" | "," | "=" | "eof";

/** A token of the expression language, with where it was in the source. */
export interface Token {
  readonly kind: TokenKind;
  /** The text as written (empty at the end of input). */
  readonly text: string;
  readonly pos: number;
  readonly length: number;
  /** The value of a number token. */
  readonly value?: number;
}

const OPERATOR_SYMBOLS: readonly string[] = [...new Set([...binaryOperators.keys(), ...prefixOperators.keys()])].sort(
  (a, b) => b.length - a.length,
);

const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME_START = /[\p{L}_]/u;
const NAME_PART = /[\p{L}\p{Nd}_]/u;

/** Characters people copy from slides or type by habit, with the spelling the language wants. */
const HINTS: Readonly<Record<string, string>> = {
  "×": "write * for a product",
  "·": "write * for a product",
  "⋅": "write * for a product",
  "∗": "write * for a product",
  "÷": "write / for a quotient",
  "−": "write - for a minus",
  "–": "write - for a minus",
  "²": "write ^2 for a square",
  "³": "write ^3 for a cube",
  "[": "use ( ) for grouping",
  "]": "use ( ) for grouping",
  "{": "use ( ) for grouping",
  "}": "use ( ) for grouping",
  ";": "separate arguments with ,",
};

/** True for a string that is a name of the language (letters, digits, `_`; not starting with a digit). */
export function isName(s: string): boolean {
  if (s.length === 0 || !NAME_START.test(s[0]!)) return false;
  for (const ch of s) if (!NAME_PART.test(ch)) return false;
  return true;
}

/** Splits `source` into tokens, ending with an `eof` token. Throws a {@link SourceError} on a bad character. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  outer: while (i < n) {
    const ch = source[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if ((ch >= "0" && ch <= "9") || (ch === "." && /\d/.test(source[i + 1] ?? ""))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(source)!;
      let end = i + m[0].length;
      if (source[end] === "." || (source[end] === "_" && /\d/.test(source[end + 1] ?? ""))) {
        while (end < n && /[\d._eE]/.test(source[end]!)) end++;
        throw new SourceError(`malformed number ${source.slice(i, end)}`, source, i, end - i);
      }
      const range = numberRangeProblem(m[0], Number(m[0]));
      if (range !== null) throw new SourceError(`${m[0]} ${range}`, source, i, m[0].length);
      tokens.push({ kind: "number", text: m[0], pos: i, length: m[0].length, value: Number(m[0]) });
      i = end;
      continue;
    }
    if (NAME_START.test(ch)) {
      let end = i + 1;
      while (end < n && NAME_PART.test(source[end]!)) end++;
      tokens.push({ kind: "name", text: source.slice(i, end), pos: i, length: end - i });
      i = end;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === "," || ch === "=") {
      tokens.push({ kind: ch, text: ch, pos: i, length: 1 });
      i++;
      continue;
    }
    for (const sym of OPERATOR_SYMBOLS) {
      if (source.startsWith(sym, i)) {
        tokens.push({ kind: "op", text: sym, pos: i, length: sym.length });
        i += sym.length;
        continue outer;
      }
    }
    const cp = String.fromCodePoint(source.codePointAt(i)!);
    const hint = HINTS[cp];
    throw new SourceError(`unexpected character '${cp}'${hint ? ` (${hint})` : ""}`, source, i, cp.length);
  }
  tokens.push({ kind: "eof", text: "", pos: n, length: 1 });
  return tokens;
}

/** A token as a message names it: `end of input`, `number 3`, `name x`, `'+'`. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of input";
    case "number":
      return `number ${t.text}`;
    case "name":
      return `name ${t.text}`;
    default:
      return `'${t.text}'`;
  }
}
