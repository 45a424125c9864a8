/**
 * `compile(fn)` for `Value` programs (the scalar engine): per signature of the arguments, the first call is traced
 * (./scalar-trace.ts) and later ones replay the program (./scalar-replay.ts); a step the trace cannot repeat runs
 * eagerly, or throws a {@link CompileError} with `strict`.
 */
import { Value } from "../scalar/value.js";
import { CompileError } from "./errors.js";
import { ScalarReplay, type ReplayMode } from "./scalar-replay.js";
import { flattenValues, ScalarTrace } from "./scalar-trace.js";
import { staticKey } from "./static-key.js";

export { holdsValue, ScalarTrace } from "./scalar-trace.js";
export type { ReplayMode } from "./scalar-replay.js";

/** A compiled Value program's cache entry: per signature, a replay (or null: it runs eagerly, for `reasons`). */
interface Entry {
  readonly guard: { key: () => string; value: string } | null;
  readonly replay: ScalarReplay | null;
  readonly reasons: readonly string[];
}

/** What `compile` passes on: its options and its counters. */
export interface ScalarCompileOptions {
  strict?: boolean;
  guard?: () => string;
  replay?: ReplayMode;
}

/**
 * The arguments' Value leaves and the call's signature, in one walk: the structure (arrays, plain objects' keys),
 * the other values in it, and per Value leaf its first place (when repeated) and requires-grad flag. Null where
 * the arguments hold what `flattenValues` refuses (a function, a class instance, a cycle): it says why.
 */
function leavesAndKey(args: unknown): { leaves: Value[]; key: string } | null {
  const leaves: Value[] = [];
  const first = new Map<Value, number>();
  const parts: string[] = [];
  const open = new Set<object>();
  const walk = (x: unknown): boolean => {
    if (x instanceof Value) {
      const f = first.get(x);
      if (f === undefined) first.set(x, leaves.length);
      leaves.push(x);
      parts.push(`V${f ?? ""}${x.t.rg[x.i] === 1 ? "g" : ""}`);
      return true;
    }
    if (typeof x === "function") return false;
    if (x === null || typeof x !== "object") {
      parts.push(staticKey(x));
      return true;
    }
    const proto = Object.getPrototypeOf(x) as unknown;
    const array = Array.isArray(x);
    if ((!array && proto !== Object.prototype && proto !== null) || open.has(x)) return false;
    open.add(x);
    parts.push(array ? "[" : "{");
    for (const k of array ? x.keys() : Object.keys(x)) {
      if (!array) parts.push(JSON.stringify(k), ":");
      if (!walk((x as Record<string | number, unknown>)[k])) return false;
      parts.push(",");
    }
    parts.push(array ? "]" : "}");
    open.delete(x);
    return true;
  };
  return walk(args) ? { leaves, key: parts.join("") } : null;
}

/** `compile` for a Value program: a cache of traced programs per signature. */
export class ScalarCompiled {
  private readonly cache = new Map<string, Entry[]>();

  constructor(
    private readonly fn: (...args: never[]) => unknown,
    private readonly options: ScalarCompileOptions,
    private readonly stats: { traced: number; replayed: number; eager: number },
  ) {}

  call(args: readonly unknown[]): unknown {
    const flat = leavesAndKey(args);
    if (flat === null) {
      flattenValues(args, "compile: the arguments"); // throws, saying why
      throw new Error("compile: the arguments cannot be read");
    }
    const key = flat.key;
    const entries = this.cache.get(key) ?? [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.guard !== null && e.guard.key() !== e.guard.value) continue;
      if (e.replay === null) {
        this.stats.eager++;
        return (this.fn as (...a: unknown[]) => unknown)(...args);
      }
      const out = e.replay.run(flat.leaves);
      if (out === null) {
        entries.splice(i--, 1);
        continue;
      }
      this.stats.replayed++;
      return out;
    }
    const t = new ScalarTrace(flat.leaves);
    let result: unknown;
    try {
      result = (this.fn as (...a: unknown[]) => unknown)(...args);
    } finally {
      t.end();
    }
    return this.adopt(t, key, entries, result);
  }

  /** Takes a finished trace (made by `call`, or by `compile` for a function of no arguments) into the cache. */
  adopt(t: ScalarTrace, key: string, entries: Entry[], result: unknown, mixed = false): unknown {
    this.stats.traced++;
    if (mixed) t.reasons.push("the step computes with both Values and tensors");
    const program = t.program(result);
    if (program === null && this.options.strict === true) throw new CompileError(`compile: this step cannot be compiled: ${[...new Set(t.reasons)].join("; ")}`);
    const guard = this.options.guard === undefined ? null : { key: this.options.guard, value: this.options.guard() };
    const replay = program === null ? null : new ScalarReplay(program, this.options.replay);
    this.cache.set(key, [...entries, { guard, replay, reasons: [...new Set(t.reasons)] }].slice(-8));
    return result;
  }

  /** The key of a call of no arguments (for `adopt`). */
  static emptyKey(): string {
    return leavesAndKey([])!.key;
  }

  explain(): string {
    return [...this.cache.values()]
      .flat()
      .map((e) =>
        e.replay === null
          ? `runs eagerly: ${e.reasons.join("; ")}`
          : `Value program: ${e.replay.program.entries} entries, ${e.replay.program.instrs.length} instructions, ` +
            `${e.replay.program.externals.length} Values read from outside, replayed as ${e.replay.how}`,
      )
      .join("\n\n");
  }
}
