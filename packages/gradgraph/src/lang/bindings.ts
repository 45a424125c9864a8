/**
 * The CLI's `--at` bindings: `x=0,y=1` by name; `2,10,-1,4,3,1` by position when the program has a header
 * listing its parameters; values may be numbers, nested arrays (`X=[[1,2],[3,.5]]`: elements are written as
 * numbers are; commas inside brackets do not split bindings) or `@file.json`. `--at` may be repeated: the texts
 * are merged; an empty one is an error. A number out of float64's range is an error, both ways: one that overflows
 * (`1e400`) would be Infinity, one that underflows (`1e-400`, not 0 as written) would be 0 — the same rule, since
 * either way the value used is not the value written. Subnormals (`1e-310`) are numbers and pass. Numbers in a
 * JSON file are read by JSON.parse, which shows overflow (Infinity: refused) but not underflow.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { InputError, SourceError } from "../core/errors.js";
import { numberRangeProblem } from "../core/number-range.js";
import { readFileLimited } from "../core/read-file.js";
import type { Program } from "./ast.js";
import { throwIfAny } from "./check.js";
import { isName } from "./lexer.js";
import { didYouMean } from "../core/suggest.js";
import { callSignature, constants } from "./table.js";

/** A rectangular nested array of numbers (validated by {@link parseBindings}). */
export type NestedArray = number[] | NestedArray[];

/** What a name is bound to: a number, or a nested array for the tensor engine. */
export type BindingValue = number | NestedArray;

/** Options of {@link parseBindings}: what the texts are called, how files are read, whether every input must be bound. */
export interface BindingOptions {
  /** What the texts are called in messages (default `--at`). */
  where?: string;
  /** Reads a file for `@file.json` (default: Node's `fs.readFileSync`, where available). */
  readFile?: (path: string) => string;
  /** Leave inputs unbound without an error (default false: every input must be bound). */
  partial?: boolean;
  /**
   * Filled with where each bound value stands in its text (for errors found later, e.g. a value of the wrong
   * shape, to point at it with a caret).
   */
  positions?: Map<string, BindingPosition>;
}

/** Where a bound value stands: its text (one `--at` argument) and the value's offset and length in it. */
export interface BindingPosition {
  readonly source: string;
  readonly pos: number;
  readonly length: number;
}

/** One comma-separated item of a binding text. */
interface Item {
  readonly source: string;
  /** Offset of the trimmed item in `source`. */
  readonly pos: number;
  readonly text: string;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_DEPTH = 32;

/**
 * Parses `--at` texts against a program. Returns the bound values in the program's input order.
 * Every problem in the texts is a {@link SourceError} pointing into the text (all are reported at once, as
 * {@link gradgraph!SourceErrors} when there are several); inputs left unbound are one {@link InputError} naming all.
 *
 * @example
 * const p = parseProgram("L(x, y) = (x - y)^2");
 * parseBindings(["x=2", "y=10"], p); // Map { x => 2, y => 10 }
 * parseBindings(["2,10"], p);        // the same, by position
 */
export function parseBindings(
  texts: readonly string[],
  program: Program,
  options: BindingOptions = {},
): Map<string, BindingValue> {
  expectOptions("parseBindings", options, optionKeys<BindingOptions>({ where: true, readFile: true, partial: true, positions: true }));
  const where = options.where ?? "--at";
  const readFile = options.readFile ?? defaultReadFile;
  const errors: SourceError[] = [];
  const fail = (message: string, source: string, pos: number, length: number) => {
    errors.push(new SourceError(message, source, pos, Math.max(1, length), where));
  };

  const items: Item[] = [];
  for (const text of texts) for (const item of splitItems(text, where, fail)) items.push(item);

  const params = program.header?.params ?? null;
  const fname = program.header?.names[program.header.names.length - 1]?.name ?? "the expression";
  const named: { item: Item; name: string; nameLength: number; value: BindingValue | undefined; at: BindingPosition }[] = [];
  const positional: { item: Item; value: BindingValue }[] = [];
  let form: "named" | "positional" | null = null;
  let mixReported = false;
  let headerReported = false;
  for (const item of items) {
    const eq = item.text.indexOf("=");
    const bracket = item.text.indexOf("[");
    const isNamed = eq >= 0 && !item.text.startsWith("@") && (bracket < 0 || eq < bracket);
    const thisForm = isNamed ? "named" : "positional";
    form ??= thisForm;
    if (thisForm !== form) {
      if (!mixReported) fail("cannot mix positional values and name=value bindings", item.source, item.pos, item.text.length);
      mixReported = true;
      continue;
    }
    if (isNamed) {
      const rawName = item.text.slice(0, eq);
      const name = rawName.trim();
      const namePos = item.pos + rawName.indexOf(name);
      if (name === "") {
        fail("malformed binding: missing name before '='", item.source, item.pos + eq, 1);
        continue;
      }
      if (!isName(name)) {
        fail(`malformed binding: ${name} is not a name (expected name=value)`, item.source, namePos, name.length);
        continue;
      }
      const rawValue = item.text.slice(eq + 1);
      const valueText = rawValue.trim();
      const valuePos = item.pos + eq + 1 + (valueText === "" ? 0 : rawValue.indexOf(valueText));
      if (valueText === "") {
        fail(`malformed binding: missing value for ${name} after '='`, item.source, valuePos, 1);
        continue;
      }
      const value = parseValue(valueText, name, { source: item.source, pos: valuePos, text: valueText }, readFile, fail);
      named.push({ item: { ...item, pos: namePos }, name, nameLength: name.length, value, at: { source: item.source, pos: valuePos, length: valueText.length } });
    } else {
      if (params === null) {
        if (headerReported) continue;
        headerReported = true;
        const first = program.inputs[0] ?? "x";
        fail(
          `positional value ${item.text} needs a header that orders the parameters, as in f(${program.inputs.join(", ") || "x"}) = ...; or bind by name: ${first}=${item.text}`,
          item.source,
          item.pos,
          item.text.length,
        );
        continue;
      }
      const label = `value ${positional.length + 1}${positional.length < params.length ? ` (${params[positional.length]!.name})` : ""}`;
      const value = parseValue(item.text, label, item, readFile, fail);
      if (value !== undefined) positional.push({ item, value });
    }
  }

  const out = new Map<string, BindingValue>();
  if (errors.length === 0 && form === "positional" && params !== null) {
    const names = params.map((p) => p.name);
    if (positional.length !== names.length) {
      const message = `${fname} takes ${names.length} value${names.length === 1 ? "" : "s"} (${names.join(", ")}), got ${positional.length}`;
      if (positional.length > names.length) {
        const extra = positional[names.length]!.item;
        fail(message, extra.source, extra.pos, extra.text.length);
      } else {
        const last = positional[positional.length - 1]?.item;
        const source = last?.source ?? "";
        fail(`${message}: missing ${names.slice(positional.length).join(", ")}`, source, source.length, 1);
      }
    } else {
      names.forEach((n, i) => {
        const { item, value } = positional[i]!;
        out.set(n, value);
        options.positions?.set(n, { source: item.source, pos: item.pos, length: item.text.length });
      });
    }
  } else if (form === "named") {
    const inputs = new Set(program.inputs);
    const firstAt = new Map<string, Item>();
    for (const { item, name, nameLength, value, at } of named) {
      const fn = program.functions.get(name);
      if (constants.has(name)) {
        fail(`${name} is a constant and cannot be bound`, item.source, item.pos, nameLength);
      } else if (fn !== undefined) {
        fail(`${name} is the function ${callSignature(fn)} and cannot be bound`, item.source, item.pos, nameLength);
      } else if (!inputs.has(name)) {
        const owner = params !== null ? `${fname} has no parameter` : "the expression has no input";
        const hint = didYouMean(name, program.inputs) || ` (its ${params !== null ? "parameters" : "inputs"}: ${program.inputs.join(", ") || "none"})`;
        fail(`${owner} ${name}${hint}`, item.source, item.pos, nameLength);
      } else if (firstAt.has(name)) {
        fail(`${name} is bound twice`, item.source, item.pos, nameLength);
      } else {
        firstAt.set(name, item);
        if (value !== undefined) out.set(name, value);
        options.positions?.set(name, at);
      }
    }
  }
  throwIfAny(errors);

  if (!options.partial) {
    const missing = program.inputs.filter((n) => !out.has(n));
    if (missing.length > 0) {
      throw missingValues(missing, ` (bind ${missing.length > 1 ? "them" : "it"} with ${where} ${missing.map((n) => `${n}=...`).join(",")})`);
    }
  }
  const ordered = new Map<string, BindingValue>();
  for (const n of program.inputs) if (out.has(n)) ordered.set(n, out.get(n)!);
  return ordered;
}

/** `missing value for y` or `missing values for y, z`, and a hint. */
export function missingValues(names: readonly string[], hint = ""): InputError {
  const s = names.length > 1 ? "s" : "";
  return new InputError(`missing value${s} for ${names.join(", ")}${hint}`);
}

/** The shape of a binding value: `[]` for a number, `[2, 3]` for a 2×3 nested array. */
export function shapeOf(v: BindingValue): number[] {
  const shape: number[] = [];
  let x: BindingValue = v;
  while (Array.isArray(x)) {
    shape.push(x.length);
    if (x.length === 0) break;
    x = x[0]!;
  }
  return shape;
}

/** Splits a text at the commas outside brackets; reports unbalanced brackets and empty items (or texts). */
function splitItems(source: string, where: string, fail: (m: string, s: string, p: number, l: number) => void): Item[] {
  if (source.trim() === "") {
    // As an empty item between commas is: an empty text binds nothing, and is most likely a mistake.
    fail(`malformed binding: empty ${where} (expected name=value)`, source, 0, source.length);
    return [];
  }
  const items: Item[] = [];
  const opens: number[] = [];
  let start = 0;
  const push = (end: number) => {
    const raw = source.slice(start, end);
    const text = raw.trim();
    if (text === "") {
      fail("malformed binding: empty (a stray comma?)", source, Math.min(end, source.length), 1);
    } else {
      items.push({ source, pos: start + raw.indexOf(text), text });
    }
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "[") opens.push(i);
    else if (ch === "]") {
      if (opens.length === 0) {
        fail("unbalanced brackets: this ']' has no matching '['", source, i, 1);
        return [];
      }
      opens.pop();
    } else if (ch === "," && opens.length === 0) {
      push(i);
      start = i + 1;
    }
  }
  if (opens.length > 0) {
    fail("unbalanced brackets: this '[' is never closed", source, opens[opens.length - 1]!, 1);
    return [];
  }
  push(source.length);
  return items;
}

/** A value: a number, a JSON nested array, or `@file.json`. Undefined after reporting a problem. */
function parseValue(
  text: string,
  label: string,
  at: Item,
  readFile: (path: string) => string,
  fail: (m: string, s: string, p: number, l: number) => void,
): BindingValue | undefined {
  const report = (m: string) => {
    fail(m, at.source, at.pos, at.text.length);
    return undefined;
  };
  if (text.startsWith("@")) {
    const path = text.slice(1).trim();
    if (path === "") return report(`${label}: missing file name after '@'`);
    let content: string;
    try {
      content = readFile(path);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (e instanceof InputError) return report(`${label}: cannot read ${e.message}`);
      const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
      return report(`${label}: cannot read ${path}: ${why}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(content);
    } catch (e) {
      return report(`${label}: ${path} is not valid JSON (${(e as Error).message})`);
    }
    const problem = checkNested(json, 0, "") ?? underflowIn(content, json as BindingValue);
    return problem === null ? (json as BindingValue) : report(`${label}: in ${path}: ${problem}`);
  }
  if (text.startsWith("[")) {
    const value = parseArray(text, label, at, fail);
    if (value === undefined) return undefined;
    const problem = checkNested(value, 0, "");
    return problem === null ? value : report(`${label}: ${problem}`);
  }
  if (!NUMBER.test(text)) return report(`${label}: ${text} is not a number`);
  const n = Number(text);
  const problem = numberRangeProblem(text, n);
  return problem === null ? n : report(`${label}: ${text} ${problem}`);
}


/** A number as a scalar is written (`+5`, `.5`, `5.`, `1e3`), at a position (sticky). */
const NUMBER_AT = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
/** What ends a token in an array: space, a comma, a bracket. */
const DELIMITER = /[\s,[\]]/;

/**
 * An inline array (`X=[[1, .5], [+2, 3e-1]]`): nested brackets of numbers written with the scalars' syntax (JSON's
 * stricter numbers are not required). A number that overflows, a token that is not a number and a misplaced
 * comma or bracket are reported at the caret; a JSON value of another type (`"a"`, `true`, `null`) as
 * {@link checkNested} says it. Undefined after reporting a problem.
 */
function parseArray(
  text: string,
  label: string,
  at: Item,
  fail: (m: string, s: string, p: number, l: number) => void,
): BindingValue | undefined {
  let i = 0;
  let failed = false;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  /** The token at i: a run up to a delimiter, or the delimiter itself. */
  const tokenAt = (): string => {
    if (i >= text.length) return "";
    if (DELIMITER.test(text[i]!)) return text[i]!;
    let j = i;
    while (j < text.length && !DELIMITER.test(text[j]!)) j++;
    return text.slice(i, j);
  };
  const syntax = (expected: string): undefined => {
    const token = tokenAt();
    const got = token === "" ? "the end" : `'${token}'`;
    fail(`${label}: ${text} is not a valid array (expected ${expected}, got ${got})`, at.source, at.pos + i, Math.max(1, token.length));
    failed = true;
    return undefined;
  };
  const whole = (problem: string): undefined => {
    fail(`${label}: ${problem}`, at.source, at.pos, at.text.length);
    failed = true;
    return undefined;
  };
  const value = (path: string, depth: number): BindingValue | undefined => {
    skipSpace();
    if (text[i] === "[") {
      if (depth >= MAX_DEPTH) return whole(`array nested more than ${MAX_DEPTH} deep`);
      i++;
      const out: BindingValue[] = [];
      skipSpace();
      if (text[i] === "]") {
        i++;
        return out as NestedArray;
      }
      for (;;) {
        const v = value(`${path}[${out.length}]`, depth + 1);
        if (failed) return undefined;
        out.push(v!);
        skipSpace();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return out as NestedArray;
        } else return syntax("',' or ']'");
      }
    }
    NUMBER_AT.lastIndex = i;
    const m = NUMBER_AT.exec(text);
    if (m !== null && (i + m[0].length >= text.length || DELIMITER.test(text[i + m[0].length]!))) {
      const n = Number(m[0]);
      const problem = numberRangeProblem(m[0], n);
      if (problem !== null) {
        fail(`${label}: ${m[0]} at ${path} ${problem}`, at.source, at.pos + i, m[0].length);
        failed = true;
        return undefined;
      }
      i += m[0].length;
      return n;
    }
    const other = jsonValueAt(text, i);
    if (other !== undefined) return whole(`expected a number or a nested array of numbers at ${path}, got ${other}`);
    return syntax("a number or '['");
  };
  const v = value("", 0);
  if (failed) return undefined;
  skipSpace();
  if (i < text.length) return syntax("the end of the array");
  return v;
}

/** What JSON value of another type than a number starts at i (`the string "a"`, `boolean`, `null`, `object`). */
function jsonValueAt(text: string, i: number): string | undefined {
  const rest = text.slice(i);
  const str = /^"(?:[^"\\]|\\.)*"/.exec(rest);
  if (str !== null) {
    try {
      return `the string ${JSON.stringify(JSON.parse(str[0]))}`;
    } catch {
      return undefined;
    }
  }
  if (/^(?:true|false)(?![\w])/.test(rest)) return "boolean";
  if (/^null(?![\w])/.test(rest)) return "null";
  if (rest.startsWith("{")) return "object";
  return undefined;
}

/**
 * JSON.parse reads a number too small for float64 (`1e-999`) as 0, silently: when the value checked by
 * {@link checkNested} (numbers and brackets only) holds a 0, the file's numbers are read again as written, and
 * the first that {@link numberRangeProblem} refuses is named with its line and column. Null when none is.
 */
function underflowIn(content: string, v: BindingValue): string | null {
  const hasZero = (x: BindingValue): boolean => (typeof x === "number" ? x === 0 : x.some(hasZero));
  if (!hasZero(v)) return null;
  const token = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g;
  for (let m = token.exec(content); m !== null; m = token.exec(content)) {
    const problem = numberRangeProblem(m[0], Number(m[0]));
    if (problem === null) continue;
    const before = content.slice(0, m.index), line = before.split("\n").length;
    return `line ${line}, column ${m.index - before.lastIndexOf("\n")}: the number ${m[0]} ${problem}`;
  }
  return null;
}

/** Null when `v` is a number or a rectangular nested array of numbers; otherwise what is wrong with it. */
function checkNested(v: unknown, depth: number, path: string): string | null {
  // JSON.parse reads 1e400 as Infinity: refused, as in a scalar.
  if (typeof v === "number") return Number.isFinite(v) ? null : `the number${path ? ` at ${path}` : ""} ${numberRangeProblem(String(v), v)!}`;
  if (!Array.isArray(v)) {
    const got = v === null ? "null" : typeof v === "string" ? `the string ${JSON.stringify(v)}` : typeof v;
    return `expected a number or a nested array of numbers${path ? ` at ${path}` : ""}, got ${got}`;
  }
  if (depth >= MAX_DEPTH) return `array nested more than ${MAX_DEPTH} deep`;
  let shape0: string | null = null;
  for (let i = 0; i < v.length; i++) {
    const problem = checkNested(v[i], depth + 1, `${path}[${i}]`);
    if (problem !== null) return problem;
    const shape = JSON.stringify(shapeOf(v[i] as BindingValue));
    if (shape0 === null) shape0 = shape;
    else if (shape !== shape0) {
      return `ragged array: ${path}[${i}] has shape ${shape}, but ${path}[0] has shape ${shape0}`;
    }
  }
  return null;
}

/** The largest `@file.json` read (100 MB: about ten million numbers). */
export const MAX_BINDING_FILE_BYTES = 100_000_000;

/** Node's synchronous file read, with a size limit; a device, FIFO or directory is refused before reading. */
function defaultReadFile(path: string): string {
  return new TextDecoder().decode(readFileLimited(path, MAX_BINDING_FILE_BYTES, "an @file"));
}
