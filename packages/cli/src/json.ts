/**
 * JSON has no Infinity or NaN: the CLI writes such numbers as null and says so on stderr (never in the JSON on
 * stdout). One place for the rule, used by `grad --json` (scalars, tensors, Hessians) and `jvp --json`.
 */
import type { Io } from "./io.js";

/** A number for JSON: itself, or null with a note naming `what` and its value. */
export function jsonNumber(x: number, what: string, io: Io): number | null {
  if (Number.isFinite(x)) return x;
  io.err(`note: ${what} is ${x}; JSON has no such number, so it is written as null\n`);
  return null;
}

/** A nested array for JSON: non-finite entries become null, with one note naming every kind met. */
export function jsonValue(v: unknown, what: string, io: Io): unknown {
  const bad = new Set<string>();
  const walk = (x: unknown): unknown => {
    if (typeof x === "number") {
      if (Number.isFinite(x)) return x;
      bad.add(String(x));
      return null;
    }
    return (x as unknown[]).map(walk);
  };
  const out = walk(v);
  if (bad.size > 0) {
    const kinds = [...bad].join(" and ");
    io.err(`note: ${what} contains ${kinds}; JSON has no such number${bad.size > 1 ? "s" : ""}, so ${bad.size > 1 ? "they are" : "it is"} written as null\n`);
  }
  return out;
}
