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
import { describe, unflattenTree, type TreeSpec } from "../autodiff/tree.js";
import { numberAlgebra } from "../ops/algebras.js";
import { elementwiseList } from "../ops/elementwise.js";
import { codeOf, opOfCode, partialSource } from "../scalar/kernels.js";
import { scalarRecording, type ScalarNode, type ScalarRecorder } from "../scalar/recording.js";
import { FIRST_OP, IMPORT, LEAF, StaleValueError, Tape, tapes } from "../scalar/tape.js";
import { Value } from "../scalar/value.js";
import { CompileError } from "./errors.js";

/** A `Value` the step reads or writes that lives outside it: argument leaf `arg`, or `value`, closed over. */
interface External {
  readonly value: Value;
  /** The argument leaf it is (its first place), or -1 when the step closes over it. */
  readonly arg: number;
  /** Its requires-grad flag when traced (a change traces again). */
  readonly rg: number;
  /** Which pair of arrays (`PV<slot>`, `PG<slot>`) holds its value and gradient at a replay. */
  slot: number;
}

/** One instruction of a replay, in order. */
type Instr =
  | { readonly k: "op"; readonly i: number; readonly code: number; readonly a: number; readonly b: number }
  | { readonly k: "load"; readonly i: number; readonly e: number }
  | { readonly k: "set"; readonly field: "data" | "grad"; readonly e: number; readonly value: number; readonly refresh: number }
  | { readonly k: "seed" | "zero"; readonly i: number }
  | { readonly k: "back"; readonly i: number; readonly code: number; readonly a: number; readonly b: number; readonly ma: number; readonly mb: number }
  | { readonly k: "flush"; readonly i: number; readonly e: number }
  | { readonly k: "sgd"; readonly m: number; readonly es: readonly number[]; readonly refresh: readonly number[] };

/** An output leaf: entry `i` of the step, external `e`, or a constant. */
type Out = { readonly entry: number } | { readonly ext: number } | { readonly value: number };

/** An optimizer's update the step made: its list (read at each replay), the Values it held, its learning rate. */
interface Update {
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
    args.forEach((v, k) => {
      if (v.t.dead) throw new StaleValueError();
      if (this.extOf.has(v)) return;
      if (v.t.op[v.i] !== LEAF) this.reasons.push("an argument is a Value computed by an op (pass leaves: new Value(x) or Value.constant(x))");
      this.add(v, k);
    });
    this.T = new Tape();
    tapes.current = this.T;
    tapes.retired = null;
    if (scalarRecording.current !== null) throw new Error("compile: a Value program was traced inside another");
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

/** A number as a JavaScript expression. */
const literal = (c: number): string => `(${Object.is(c, -0) ? "-0" : String(c)})`;

/** Statements per generated function: V8 optimizes functions up to a bytecode size, so a long step is cut. */
const CHUNK = 200;

/** Runs a program's instructions, generated or interpreted; `slots` holds each slot's value and gradient array. */
type Exec = (V: Float64Array, G: Float64Array, X: Int32Array, L: Float64Array, slots: (Float64Array | null)[]) => void;

/** The program as generated JavaScript: straight-line code over the arrays, cut into functions of `CHUNK` statements. */
export function generatedExec(p: ScalarProgram): Exec {
  const ref = (e: number, arr: "V" | "G") => {
    const x = p.externals[e]!;
    return `P${arr}${x.slot}[${x.arg >= 0 ? `X[${x.arg}]` : x.value.i}]`;
  };
  const lines: string[] = [];
  for (const s of p.instrs) {
    switch (s.k) {
      case "op":
        lines.push(`V[${s.i}] = f${s.code}(V[${s.a}], ${s.b >= 0 ? `V[${s.b}]` : "NaN"});`);
        break;
      case "load":
        lines.push(`V[${s.i}] = ${ref(s.e, "V")};`);
        break;
      case "set":
        lines.push(`${ref(s.e, s.field === "data" ? "V" : "G")} = ${literal(s.value)};${s.refresh >= 0 ? ` V[${s.refresh}] = ${literal(s.value)};` : ""}`);
        break;
      case "seed":
      case "zero":
        lines.push(`G[${s.i}] = ${s.k === "seed" ? 1 : 0};`);
        break;
      case "flush":
        lines.push(`${ref(s.e, "G")} += G[${s.i}];`);
        break;
      case "sgd":
        s.es.forEach((e, q) => {
          lines.push(`${ref(e, "V")} = ${ref(e, "V")} - L[${s.m}] * ${ref(e, "G")};${s.refresh[q]! >= 0 ? ` V[${s.refresh[q]}] = ${ref(e, "V")};` : ""}`);
        });
        break;
      case "back": {
        const op = opOfCode[s.code]!;
        const two = op.arity === 2;
        const ps = [s.ma, s.mb].map((m, k) => (m === 0 ? "" : `(${partialSource(op, k)})`));
        const uses = (name: string) => ps.some((q) => new RegExp(`\\b${name}\\b`).test(q));
        const loads = [
          uses("x0") ? `x0 = V[${s.a}]` : "",
          uses("x1") ? (two ? `x1 = V[${s.b}]` : "x1 = NaN") : "",
          uses("y") ? `y = V[${s.i}]` : "",
          `g = G[${s.i}]`,
        ].filter((l) => l !== "");
        const into = (j: number, m: number, q: string) => (m === 0 ? "" : ` G[${j}] ${m === 1 ? "= 0 +" : "+="} ${q} * g;`);
        lines.push(`{ const ${loads.join(", ")};${into(s.a, s.ma, ps[0]!)}${into(s.b, s.mb, ps[1]!)} }`);
        break;
      }
    }
  }
  const nSlots = p.slotTapes.length + p.externals.filter((x) => x.arg >= 0).length;
  const slotParams = Array.from({ length: nSlots }, (_, s) => `PV${s}, PG${s}`).join(", ");
  const params = ["V", "G", "X", "L", ...(slotParams === "" ? [] : [slotParams])].join(", ");
  const chunks: string[] = [];
  for (let k = 0; k < lines.length; k += CHUNK) chunks.push(`function (${params}) {\n${lines.slice(k, k + CHUNK).join("\n")}\n}`);
  const forwards = elementwiseList.map((op) => `const f${codeOf.get(op)!} = F[${codeOf.get(op)! - FIRST_OP}];`);
  const make = new Function("F", `"use strict";\n${forwards.join("\n")}\nreturn [${chunks.join(",\n")}];`) as (F: unknown) => ((...a: unknown[]) => void)[];
  const fns = make(elementwiseList.map((op) => op.forward));
  const args: unknown[] = [];
  return (V, G, X, L, slots) => {
    args.length = 0;
    args.push(V, G, X, L, ...slots);
    for (const f of fns) f(...args);
  };
}

/** The program interpreted (where `new Function` is forbidden): the same instructions, the op table's functions. */
export function interpretedExec(p: ScalarProgram): Exec {
  return (V, G, X, L, slots) => {
    const at = (e: number): [Float64Array, Float64Array, number] => {
      const x = p.externals[e]!;
      return [slots[2 * x.slot]!, slots[2 * x.slot + 1]!, x.arg >= 0 ? X[x.arg]! : x.value.i];
    };
    const xs = [0, 0];
    for (const s of p.instrs) {
      switch (s.k) {
        case "op":
          V[s.i] = opOfCode[s.code]!.forward(V[s.a]!, s.b >= 0 ? V[s.b]! : NaN);
          break;
        case "load": {
          const [pv, , j] = at(s.e);
          V[s.i] = pv[j]!;
          break;
        }
        case "set": {
          const [pv, pg, j] = at(s.e);
          (s.field === "data" ? pv : pg)[j] = s.value;
          if (s.refresh >= 0) V[s.refresh] = s.value;
          break;
        }
        case "seed":
        case "zero":
          G[s.i] = s.k === "seed" ? 1 : 0;
          break;
        case "flush": {
          const [, pg, j] = at(s.e);
          pg[j]! += G[s.i]!;
          break;
        }
        case "sgd":
          s.es.forEach((e, q) => {
            const [pv, pg, j] = at(e);
            pv[j] = pv[j]! - L[s.m]! * pg[j]!;
            if (s.refresh[q]! >= 0) V[s.refresh[q]!] = pv[j]!;
          });
          break;
        case "back": {
          const op = opOfCode[s.code]!;
          xs[0] = V[s.a]!;
          xs[1] = s.b >= 0 ? V[s.b]! : NaN;
          const y = V[s.i]!, g = G[s.i]!;
          const local = (k: number) => (op.nondiff ? 0 : (op.partials[k]!(numberAlgebra, xs, y) as number));
          if (s.ma !== 0) G[s.a] = s.ma === 1 ? 0 + local(0) * g : G[s.a]! + local(0) * g;
          if (s.mb !== 0) G[s.b] = s.mb === 1 ? 0 + local(1) * g : G[s.b]! + local(1) * g;
          break;
        }
      }
    }
  };
}

/**
 * The flat tape: each instruction is a *kind* (an op's forward, an op's backward step with the modes of its two
 * inputs — 1 writes `0 + c`, 2 adds — or a load, write, seed, zero, flush or update), numbered densely per
 * program so that the loop's switch is a jump table, and operands: entry `I`, inputs `A`/`B` (an external for
 * loads, writes, flushes and updates, with `B` the import entry to refresh), a constant `K`. The loop is generated
 * from the op table for the kinds a program uses (each op's forward and partials inlined, as in the scalar
 * engine's sweep) and shared by programs using the same kinds. Externals' arrays and indices are `SV`, `SG`, `SI`.
 */
function kindSource(kind: string): string {
  const [what, name, ma, mb] = kind.split(":") as [string, string | undefined, string | undefined, string | undefined];
  const op = name === undefined ? undefined : elementwiseList.find((o) => o.name === name)!;
  switch (what) {
    case "op": {
      const code = codeOf.get(op!)!;
      return `V[I[k]] = f${code}(V[A[k]], ${op!.arity === 2 ? "V[B[k]]" : "NaN"});`;
    }
    case "back": {
      const two = op!.arity === 2;
      const ps = [ma, mb].map((m, j) => (m === "0" ? "" : `(${partialSource(op!, j)})`));
      const uses = (v: string) => ps.some((q) => new RegExp(`\\b${v}\\b`).test(q));
      const loads = [
        "i = I[k]", "a = A[k]", two ? "b = B[k]" : "",
        uses("x0") ? "x0 = V[a]" : "", uses("x1") ? (two ? "x1 = V[b]" : "x1 = NaN") : "", uses("y") ? "y = V[i]" : "", "g = G[i]",
      ].filter((l) => l !== "");
      const into = (j: string, m: string | undefined, q: string) => (m === "1" ? ` G[${j}] = 0 + ${q} * g;` : m === "2" ? ` G[${j}] += ${q} * g;` : "");
      return `{ const ${loads.join(", ")};${into("a", ma, ps[0]!)}${into("b", mb, ps[1]!)} }`;
    }
    case "load":
      return "V[I[k]] = SV[A[k]][SI[A[k]]];";
    case "data":
      return "SV[A[k]][SI[A[k]]] = K[k]; if (B[k] >= 0) V[B[k]] = K[k];";
    case "grad":
      return "SG[A[k]][SI[A[k]]] = K[k];";
    case "seed":
      return "G[I[k]] = 1;";
    case "zero":
      return "G[I[k]] = 0;";
    case "flush":
      return "SG[A[k]][SI[A[k]]] += G[I[k]];";
    default: // "sgd"
      return "{ const e = A[k], pv = SV[e], j = SI[e]; pv[j] = pv[j] - L[I[k]] * SG[e][j]; if (B[k] >= 0) V[B[k]] = pv[j]; }";
  }
}

function tapeLoopSource(kinds: readonly string[]): string {
  const forwards = elementwiseList.map((op) => `const f${codeOf.get(op)!} = F[${codeOf.get(op)! - FIRST_OP}];`);
  return `"use strict";
${forwards.join("\n")}
return function (n, C, I, A, B, K, V, G, SV, SG, SI, L) {
  for (let k = 0; k < n; k++) {
    switch (C[k]) {
${kinds.map((kind, c) => `      case ${c}: {\n        ${kind.split("|").map(kindSource).join("\n        k++;\n        ")}\n        break;\n      }`).join("\n")}
    }
  }
};`;
}

type TapeLoop = (
  n: number, C: Int32Array, I: Int32Array, A: Int32Array, B: Int32Array, K: Float64Array,
  V: Float64Array, G: Float64Array, SV: Float64Array[], SG: Float64Array[], SI: Int32Array, L: Float64Array,
) => void;

/**
 * Instructions per superinstruction, and how many superinstructions a loop may have: V8 optimizes a function up
 * to a bytecode size (about 60 KB), past which the loop would run in its interpreter, 20 times slower.
 */
const GROUP = 6, MAX_KINDS = 60;

/** The loops made so far, by the kinds they have cases for. */
const tapeLoops = new Map<string, TapeLoop>();

/** The program as a flat tape of instructions in typed arrays, run by one loop generated for its kinds. */
export function tapeExec(p: ScalarProgram): Exec {
  const n = p.instrs.reduce((s, x) => s + (x.k === "sgd" ? x.es.length : 1), 0);
  const C = new Int32Array(n), I = new Int32Array(n), A = new Int32Array(n), B = new Int32Array(n).fill(-1), K = new Float64Array(n);
  const kinds: string[] = [];
  const kindOf = new Map<string, number>();
  const kind = (s: string) => kindOf.get(s) ?? (kindOf.set(s, kinds.push(s) - 1), kinds.length - 1);
  let k = 0;
  const put = (kd: string, i: number, a: number, b: number, c = 0) => {
    [C[k], I[k], A[k], B[k], K[k]] = [kind(kd), i, a, b, c];
    k++;
  };
  for (const s of p.instrs) {
    const name = s.k === "op" || s.k === "back" ? opOfCode[s.code]!.name : "";
    if (s.k === "op") put(`op:${name}`, s.i, s.a, s.b);
    else if (s.k === "back") put(`back:${name}:${s.ma}:${s.mb}`, s.i, s.a, s.b);
    else if (s.k === "load") put("load", s.i, s.e, -1);
    else if (s.k === "set") put(s.field, 0, s.e, s.refresh, s.value);
    else if (s.k === "seed" || s.k === "zero" || s.k === "flush") put(s.k, s.i, s.k === "flush" ? s.e : 0, -1);
    else if (s.k === "sgd") s.es.forEach((e, q) => put("sgd", s.m, e, s.refresh[q]!));
  }
  // Superinstructions: runs of `GROUP` instructions become one case (one dispatch), while the kinds are few.
  // The most frequent runs (counted at aligned places) get a case of their own.
  const single = kinds.slice();
  const runAt = (j: number) => (j + GROUP <= n ? Array.from(C.subarray(j, j + GROUP), (c) => single[c]!).join("|") : "");
  const counts = new Map<string, number>();
  for (let j = 0; j + GROUP <= n; j += GROUP) counts.set(runAt(j), (counts.get(runAt(j)) ?? 0) + 1);
  const chosen = new Set([...counts].filter(([, c]) => c >= 8).sort((x, y) => y[1] - x[1]).slice(0, MAX_KINDS).map(([r]) => r));
  kinds.length = 0;
  kindOf.clear();
  for (let j = 0; j < n; ) {
    const run = runAt(j);
    if (chosen.has(run)) {
      C[j] = kind(run);
      j += GROUP;
    } else {
      C[j] = kind(single[C[j]!]!);
      j++;
    }
  }
  const key = kinds.join();
  let loop = tapeLoops.get(key);
  if (loop === undefined) {
    loop = (new Function("F", tapeLoopSource(kinds)) as (F: unknown) => TapeLoop)(elementwiseList.map((op) => op.forward));
    tapeLoops.set(key, loop);
  }
  const run = loop;
  const SV: Float64Array[] = [], SG: Float64Array[] = [], SI = new Int32Array(p.externals.length);
  return (V, G, X, L, slots) => {
    p.externals.forEach((x, e) => {
      SV[e] = slots[2 * x.slot]!;
      SG[e] = slots[2 * x.slot + 1]!;
      SI[e] = x.arg >= 0 ? X[x.arg]! : x.value.i;
    });
    run(n, C, I, A, B, K, V, G, SV, SG, SI, L);
  };
}

/** A program ready to replay: its arrays, made once and reused by every call. */
export class ScalarReplay {
  private readonly V: Float64Array;
  private readonly G: Float64Array;
  private readonly X: Int32Array;
  private readonly L: Float64Array;
  private readonly slots: (Float64Array | null)[];
  private readonly closed: External[];
  private readonly args: External[];
  private readonly closedSet: Set<Value>;
  readonly exec: Exec;
  /** How it replays, in words. */
  readonly how: string;

  constructor(readonly program: ScalarProgram, mode: ReplayMode = "auto") {
    const p = program;
    this.V = Float64Array.from(p.start);
    this.G = new Float64Array(p.entries);
    this.X = new Int32Array(Math.max(0, ...p.externals.map((x) => x.arg + 1)));
    this.L = new Float64Array(p.updates.length);
    this.closed = p.externals.filter((x) => x.arg < 0);
    this.args = p.externals.filter((x) => x.arg >= 0);
    this.closedSet = new Set(this.closed.map((x) => x.value));
    this.slots = new Array<Float64Array | null>(2 * (p.slotTapes.length + this.args.length)).fill(null);
    let exec: Exec | null = null;
    if (mode !== "interpreted") {
      try {
        exec = mode === "generated" ? generatedExec(p) : tapeExec(p);
      } catch (e) {
        if (mode !== "auto") throw e;
      }
    }
    this.how = exec === null ? "an interpreted tape" : mode === "generated" ? "generated straight-line JavaScript" : "a flat tape (generated loop)";
    this.exec = exec ?? interpretedExec(p);
  }

  /**
   * Replays the step on the arguments' leaves: its result, or null when what was traced no longer holds (an
   * argument that is also a Value the step closes over, a requires-grad flag changed, an optimizer given other
   * parameters) and the caller must trace again.
   */
  run(leaves: readonly Value[]): unknown {
    const p = this.program, slots = this.slots;
    p.slotTapes.forEach((T, s) => {
      if (T.dead) throw new StaleValueError();
      slots[2 * s] = T.val;
      slots[2 * s + 1] = T.grad;
    });
    for (const x of this.closed) if (x.value.t.rg[x.value.i] !== x.rg) return null;
    for (const x of this.args) {
      const v = leaves[x.arg]!;
      if (v.t.dead) throw new StaleValueError();
      if (v.t.rg[v.i] !== x.rg || this.closedSet.has(v)) return null;
      this.X[x.arg] = v.i;
      slots[2 * x.slot] = v.t.val;
      slots[2 * x.slot + 1] = v.t.grad;
    }
    for (let m = 0; m < p.updates.length; m++) {
      const u = p.updates[m]!;
      if (u.list.length !== u.values.length || u.list.some((v, q) => v !== u.values[q])) return null;
      this.L[m] = u.lr();
    }
    this.exec(this.V, this.G, this.X, this.L, slots);
    for (const e of p.gradSet) {
      const x = p.externals[e]!;
      const v = x.arg >= 0 ? leaves[x.arg]! : x.value;
      if (v.i > v.t.swept) v.t.swept = v.i;
    }
    const outs = p.outputs.map((o) => {
      if ("entry" in o) return Value.constant(this.V[o.entry]!);
      if ("ext" in o) {
        const x = p.externals[o.ext]!;
        return x.arg >= 0 ? leaves[x.arg]! : x.value;
      }
      return Value.constant(o.value);
    });
    return unflattenTree(p.outputSpec, outs);
  }
}

/**
 * How a Value program replays: "tape" — a flat tape of instructions in typed arrays, run by one loop generated
 * from the op table; "generated" — straight-line JavaScript made for the program (fast for small steps called
 * often; V8 leaves long ones to its interpreter); "interpreted" — the tape run by closures over the op table (no
 * `new Function`); "auto" (default) — "tape", or "interpreted" where `new Function` is forbidden.
 */
export type ReplayMode = "tape" | "generated" | "interpreted" | "auto";

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

/** The signature of a call: the arguments' structure and, per Value leaf, its first place and requires-grad flag. */
function signature(leaves: readonly Value[], spec: TreeSpec): string {
  return JSON.stringify(spec) + leaves.map((v, k) => `|${leaves.indexOf(v) === k ? "" : leaves.indexOf(v)}${v.t.rg[v.i] === 1 ? "g" : ""}`).join("");
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
    const flat = flattenValues(args, "compile: the arguments");
    const key = signature(flat.leaves, flat.spec);
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
    return signature([], flattenValues([], "").spec);
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
