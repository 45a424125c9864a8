/**
 * `compile(fn)` for `Value` programs (the scalar engine). The first call with a new signature runs `fn` eagerly on
 * a tape of its own while the scalar engine reports what the tape does not hold (scalar/recording.ts): entries
 * imported from other tapes (parameters closed over, arguments), gradients and values written from JavaScript,
 * each `backward()` and an optimizer's update. What it records — forward entries, the reverse sweep each backward
 * did, and those effects, in order — becomes a straight list of instructions over two float64 arrays (values and
 * gradients of the step's entries), run as generated JavaScript (`new Function`, in chunks small enough for V8 to
 * optimize) or, where `new Function` is forbidden, by a loop over the same instructions. Each replay reads the
 * parameters' current `data` and writes back `data` and `grad` as the eager step would: the same float64
 * operations in the same order, so the numbers are identical bit for bit.
 *
 * What a trace cannot see, it refuses (the step then runs eagerly, or `strict` throws): JavaScript arithmetic on
 * numbers read from `Value`s (`p.data -= lr * p.grad` reads `.data` and `.grad`: update with an optimizer's
 * `step()`, e.g. `nn.scalar.SGD`, which the trace records), nodes made before the step and used in it, and a step
 * larger than one tape. Numbers written into `.data` or `.grad` (`p.grad = 0`) are constants, as numbers in the
 * code are; JavaScript control flow is fixed at the first call.
 */
import { InputError } from "../core/errors.js";
import { describe } from "../core/expect.js";
import type { TreeSpec } from "../autodiff/tree.js";
import { opOfCode } from "../scalar/kernels.js";
import { scalarRecording, type ScalarNode, type ScalarRecorder } from "../scalar/recording.js";
import { FIRST_OP, IMPORT, LEAF, StaleValueError, Tape, tapes } from "../scalar/tape.js";
import { Value } from "../scalar/value.js";

/** A `Value` the step reads or writes that lives outside it: argument leaf `arg`, or `value`, closed over. */
export interface External {
  readonly value: Value;
  /** The argument leaf it is (its first place), or -1 when the step closes over it. */
  readonly arg: number;
  /** Its requires-grad flag when traced (a change traces again). */
  readonly rg: number;
  /** Which pair of arrays (`PV<slot>`, `PG<slot>`) holds its value and gradient at a replay. */
  slot: number;
}

/** One instruction of a replay, in order. */
export type Instr =
  | { readonly k: "op"; readonly i: number; readonly code: number; readonly a: number; readonly b: number }
  | { readonly k: "load"; readonly i: number; readonly e: number }
  | { readonly k: "set"; readonly field: "data" | "grad"; readonly e: number; readonly value: number; readonly refresh: number }
  | { readonly k: "seed" | "zero"; readonly i: number }
  | { readonly k: "back"; readonly i: number; readonly code: number; readonly a: number; readonly b: number; readonly ma: number; readonly mb: number }
  | { readonly k: "flush"; readonly i: number; readonly e: number }
  | { readonly k: "sgd"; readonly m: number; readonly es: readonly number[]; readonly refresh: readonly number[] };

/** An output leaf: entry `i` of the step, external `e`, or a constant. */
export type Out = { readonly entry: number } | { readonly ext: number } | { readonly value: number };

/** An optimizer's update the step made: its list (read at each replay), the Values it held, its learning rate. */
export interface Update {
  readonly list: readonly ScalarNode[];
  readonly values: readonly ScalarNode[];
  readonly lr: () => number;
}

/** A traced `Value` program. */
export interface ScalarProgram {
  /** Entries of the step (nodes, constants, imports). */
  readonly entries: number;
  /** The values array as it starts: the constants in place. */
  readonly start: Float64Array;
  readonly instrs: readonly Instr[];
  readonly externals: readonly External[];
  /** The tape of each slot of a Value closed over (slots of arguments come after, one per argument external). */
  readonly slotTapes: readonly Tape[];
  readonly updates: readonly Update[];
  /** Externals whose gradient the step sets (their tape's `swept` mark must cover them). */
  readonly gradSet: readonly number[];
  readonly outputs: readonly Out[];
  readonly outputSpec: TreeSpec;
}

type Event =
  | { readonly kind: "set"; readonly at: number; readonly field: "data" | "grad"; readonly e: number; readonly value: number }
  | { readonly kind: "backward"; readonly at: number; readonly root: number }
  | { readonly kind: "update"; readonly at: number; readonly es: readonly number[]; readonly m: number };

/** Flattens a tree of Values (arrays and plain objects of them; other non-objects are static). */
export function flattenValues(tree: unknown, where: string): { leaves: Value[]; spec: TreeSpec } {
  const leaves: Value[] = [];
  const seen = new Set<object>();
  const walk = (x: unknown, path: string): TreeSpec => {
    if (x instanceof Value) {
      leaves.push(x);
      return { kind: "leaf" };
    }
    if (x === null || (typeof x !== "object" && typeof x !== "function")) return { kind: "static", value: x };
    const proto = Object.getPrototypeOf(x) as unknown;
    if (!Array.isArray(x) && (typeof x === "function" || (proto !== Object.prototype && proto !== null))) {
      throw new InputError(`${where}: cannot look inside ${describe(x)}${path ? ` at ${path}` : ""}: expected Values in plain objects and arrays`);
    }
    if (seen.has(x)) throw new InputError(`${where}: the tree contains itself${path ? ` at ${path}` : ""}`);
    seen.add(x);
    const spec: TreeSpec = Array.isArray(x)
      ? { kind: "array", items: x.map((v, i) => walk(v, `${path}[${i}]`)) }
      : { kind: "object", keys: Object.keys(x), items: Object.keys(x).map((k) => walk((x as Record<string, unknown>)[k], `${path}.${k}`)) };
    seen.delete(x);
    return spec;
  };
  return { leaves, spec: walk(tree, "") };
}

/** Whether a tree (arrays and plain objects) holds a `Value`: then `compile` treats the function as a Value program. */
export function holdsValue(tree: unknown, depth = 0): boolean {
  if (tree instanceof Value) return true;
  if (tree === null || typeof tree !== "object" || depth > 64) return false;
  const proto = Object.getPrototypeOf(tree) as unknown;
  if (!Array.isArray(tree) && proto !== Object.prototype && proto !== null) return false;
  return Object.values(tree).some((x) => holdsValue(x, depth + 1));
}

/**
 * The trace of one call: made before the call (it swaps in a tape of its own, keeping the tapes the user's graphs
 * live on untouched) and ended after it; `program(result)` then writes down what the call did.
 */
export class ScalarTrace implements ScalarRecorder {
  readonly T: Tape;
  readonly reasons: string[] = [];
  private readonly saved = { current: tapes.current, retired: tapes.retired };
  private readonly leafTape = tapes.leaves;
  private readonly leafN = tapes.leaves.n;
  private readonly externals: External[] = [];
  private readonly extOf = new Map<Value, number>();
  /** Trace-tape entry of each external's import (one per tape). */
  private readonly importOf = new Map<number, number>();
  private readonly importAt = new Map<number, number>();
  private readonly events: Event[] = [];
  private readonly updates: Update[] = [];
  private inUpdate = false;
  private ended = false;

  constructor(args: readonly Value[]) {
    if (scalarRecording.current !== null) throw new Error("compile: a Value program was traced inside another");
    args.forEach((v, k) => {
      if (v.t.dead) throw new StaleValueError();
      if (this.extOf.has(v)) return;
      if (v.t.op[v.i] !== LEAF) this.reasons.push("an argument is a Value computed by an op (pass leaves: new Value(x) or Value.constant(x))");
      this.add(v, k);
    });
    this.T = new Tape();
    tapes.current = this.T;
    tapes.retired = null;
    scalarRecording.current = this;
  }

  /** Restores the engine's tapes and stops recording. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    scalarRecording.current = null;
    const cur = tapes.current;
    tapes.current = this.saved.current;
    tapes.retired = this.saved.retired;
    if (cur !== this.T && cur.n > 0) this.reasons.push("the step spans more than one tape (it records nodes after a backward() that retired its tape, or more than a tape holds)");
  }

  /** Whether the call did anything with Values. */
  active(): boolean {
    return this.T.n > 0 || this.events.length > 0;
  }

  private add(v: Value, arg: number): number {
    const k = this.externals.length;
    this.externals.push({ value: v, arg, rg: v.t.rg[v.i]!, slot: -1 });
    this.extOf.set(v, k);
    return k;
  }

  /** Whether `x` was made by this call (then its value is fixed by the trace). */
  private madeHere(x: ScalarNode): boolean {
    return x.t === this.T || x.t.id > this.T.id || (x.t === this.leafTape && x.i >= this.leafN);
  }

  /** The external for `x` (added on first sight), or -1 for a node the call made. */
  private ext(x: ScalarNode): number {
    const v = x as Value;
    const k = this.extOf.get(v);
    if (k !== undefined) return k;
    if (this.madeHere(v)) return -1;
    if (v.t.op[v.i] !== LEAF) {
      this.reasons.push("the step uses a Value computed before it (an op node made outside the step)");
      return -1;
    }
    return this.add(v, -1);
  }

  imported(T: Tape, x: ScalarNode, index: number): void {
    if (T !== this.T) return; // on another tape: `end` says why
    const k = this.ext(x);
    if (k >= 0) {
      this.importOf.set(index, k);
      this.importAt.set(k, index);
    }
  }

  read(x: ScalarNode, field: "data" | "grad"): void {
    if (this.inUpdate) return;
    if (this.madeHere(x) && x.t.op[x.i] === LEAF && x.t.rg[x.i] === 0) return; // a constant of the step
    this.reasons.push(
      `the step reads .${field} of a Value into JavaScript (arithmetic on numbers is invisible to a trace: update ` +
        "parameters with an optimizer's step(), e.g. nn.scalar.SGD, and return values instead of reading them)",
    );
  }

  write(x: ScalarNode, field: "data" | "grad" | "requiresGrad", value: number): void {
    if (this.inUpdate) return;
    if (field === "requiresGrad") {
      this.reasons.push("the step sets requiresGrad of a Value");
      return;
    }
    if (this.madeHere(x)) {
      this.reasons.push(`the step writes .${field} of a Value it made`);
      return;
    }
    const e = this.ext(x);
    if (e >= 0) this.events.push({ kind: "set", at: this.T.n, field, e, value });
  }

  backward(root: ScalarNode): void {
    if (this.inUpdate) return;
    if (root.t !== this.T || this.T.op[root.i]! < FIRST_OP) this.reasons.push("the step calls backward() from a Value it did not compute");
    else this.events.push({ kind: "backward", at: this.T.n, root: root.i });
  }

  update(list: readonly ScalarNode[], lr: () => number, run: () => void): void {
    if (this.inUpdate) return run();
    const es = list.map((p) => this.ext(p));
    if (es.some((e) => e < 0)) this.reasons.push("an optimizer of the step updates a Value the step made");
    this.events.push({ kind: "update", at: this.T.n, es, m: this.updates.length });
    this.updates.push({ list, values: [...list], lr });
    this.inUpdate = true;
    try {
      run();
    } finally {
      this.inUpdate = false;
    }
  }

  /** The program that repeats the call (null, with `reasons`, when it cannot). */
  program(result: unknown): ScalarProgram | null {
    this.end();
    let out: { leaves: Value[]; spec: TreeSpec } | null = null;
    try {
      out = flattenValues(result, "compile: the result");
    } catch (e) {
      this.reasons.push(`the result is not a tree of Values and numbers (${(e as Error).message})`);
    }
    const outputs = (out?.leaves ?? []).map((v): Out => {
      if (v.t === this.T) return { entry: v.i };
      const e = this.ext(v);
      return e >= 0 ? { ext: e } : { value: v.t.val[v.i]! };
    });
    if (this.reasons.length > 0 || out === null) return null;
    const { T } = this;
    const n = T.n;
    const start = new Float64Array(n);
    const instrs: Instr[] = [];
    const refresh = (e: number, at: number) => {
      const imp = this.importAt.get(e);
      return imp !== undefined && imp < at ? imp : -1;
    };
    let ev = 0;
    const emitEvents = (at: number) => {
      for (; ev < this.events.length && this.events[ev]!.at === at; ev++) {
        const x = this.events[ev]!;
        if (x.kind === "set") instrs.push({ k: "set", field: x.field, e: x.e, value: x.value, refresh: x.field === "data" ? refresh(x.e, at) : -1 });
        else if (x.kind === "update") instrs.push({ k: "sgd", m: x.m, es: x.es, refresh: x.es.map((e) => refresh(e, at)) });
        else this.sweep(x.root, instrs);
      }
    };
    for (let i = 0; i < n; i++) {
      emitEvents(i);
      const o = T.op[i]!;
      const e = o === IMPORT ? this.importOf.get(i) : undefined;
      if (o >= FIRST_OP) instrs.push({ k: "op", i, code: o, a: T.a[i]!, b: T.b[i]! });
      else if (e !== undefined) instrs.push({ k: "load", i, e });
      else start[i] = T.val[i]!; // a constant, or a leaf the step made
    }
    emitEvents(n);
    // Slots: one per tape the Values closed over live on, then one per argument external.
    const slotTapes: Tape[] = [];
    for (const x of this.externals.filter((x) => x.arg < 0)) {
      const s = slotTapes.indexOf(x.value.t);
      x.slot = s >= 0 ? s : slotTapes.push(x.value.t) - 1;
    }
    this.externals.filter((x) => x.arg >= 0).forEach((x, k) => (x.slot = slotTapes.length + k));
    const gradSet = [...new Set(instrs.flatMap((x) => (x.k === "set" && x.field === "grad" ? [x.e] : [])))];
    return { entries: n, start, instrs, externals: this.externals, slotTapes, updates: this.updates, gradSet, outputs, outputSpec: out.spec };
  }

  /**
   * The instructions of `backward()` from entry `root`, as the root sweep does it: the gradients of the op nodes
   * and imports the root reaches start at 0, the root's at 1, and entries are visited from the root down, each
   * adding `partial · gradient` into its inputs that take a gradient; an import hands what it collected to its
   * source. A gradient written first is `0 + c` (what adding into a zeroed gradient gives, down to the sign of 0).
   */
  private sweep(root: number, instrs: Instr[]): void {
    const { op, a: A, b: B, rg } = this.T;
    const seen = new Uint8Array(root + 1), fed = new Uint8Array(root + 1);
    seen[root] = 1;
    let lo = root;
    for (let i = root; i >= lo; i--) {
      if (seen[i] !== 1 || op[i]! < FIRST_OP) continue;
      const two = opOfCode[op[i]!]!.arity === 2;
      for (const j of two ? [A[i]!, B[i]!] : [A[i]!]) {
        seen[j] = 1;
        if (j < lo) lo = j;
      }
    }
    instrs.push({ k: "seed", i: root });
    fed[root] = 1;
    // Only op nodes and imports of externals hold a gradient anyone reads (a constant's is never seen).
    const mode = (j: number): number => {
      if (rg[j] !== 1 || (op[j]! < FIRST_OP && !this.importOf.has(j))) return 0;
      return fed[j] === 1 ? 2 : ((fed[j] = 1), 1);
    };
    for (let i = root; i >= lo; i--) {
      if (seen[i] !== 1 || rg[i] !== 1) continue;
      const o = op[i]!;
      const e = o === IMPORT ? this.importOf.get(i) : undefined;
      if (o < FIRST_OP && e === undefined) continue;
      if (fed[i] !== 1) instrs.push({ k: "zero", i });
      if (e !== undefined) {
        instrs.push({ k: "flush", i, e });
        continue;
      }
      const two = opOfCode[o]!.arity === 2;
      const ma = mode(A[i]!), mb = two ? mode(B[i]!) : 0;
      if (ma !== 0 || mb !== 0) instrs.push({ k: "back", i, code: o, a: A[i]!, b: two ? B[i]! : -1, ma, mb });
    }
  }
}
