/**
 * Replaying a traced `Value` program (./scalar-trace.ts): on a flat tape of instructions in typed arrays, run by a
 * loop generated from the op table, with the pieces of ./scalar-fuse.ts as functions it calls (the default); as
 * straight-line JavaScript generated for the program; or by
 * closures over the op table where `new Function` is forbidden. All three do the same float64 operations in the
 * same order as the eager step.
 */
import { unflattenTree } from "../autodiff/tree.js";
import { numberAlgebra } from "../ops/algebras.js";
import { elementwiseList } from "../ops/elementwise.js";
import { codeOf, opOfCode, partialSource } from "../scalar/kernels.js";
import { FIRST_OP, StaleValueError } from "../scalar/tape.js";
import { Value } from "../scalar/value.js";
import { choosePieces, type Piece } from "./scalar-fuse.js";
import type { External, ScalarProgram } from "./scalar-trace.js";

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

function tapeLoopSource(kinds: readonly string[], pieces: readonly string[]): string {
  const forwards = elementwiseList.map((op) => `const f${codeOf.get(op)!} = F[${codeOf.get(op)! - FIRST_OP}];`);
  // A piece's case runs `B[k]` consecutive pieces of its shape, their operands `I[k]` apart from `A[k]` on.
  const piece = (s: string) => `for (let p = A[k], r = B[k], d = I[k]; r > 0; r--, p += d) P${s}(p, O, V, G);`;
  const body = (kind: string) => (kind.startsWith("piece:") ? piece(kind.slice(6)) : kind.split("|").map(kindSource).join("\n        k++;\n        "));
  return `"use strict";
${forwards.join("\n")}
${pieces.map((code, s) => `const P${s} = function (p, O, V, G) { ${code} };`).join("\n")}
return function (n, C, I, A, B, K, O, V, G, SV, SG, SI, L) {
  for (let k = 0; k < n; k++) {
    switch (C[k]) {
${kinds.map((kind, c) => `      case ${c}: {\n        ${body(kind)}\n        break;\n      }`).join("\n")}
    }
  }
};`;
}

type TapeLoop = (
  n: number, C: Int32Array, I: Int32Array, A: Int32Array, B: Int32Array, K: Float64Array, O: Int32Array,
  V: Float64Array, G: Float64Array, SV: Float64Array[], SG: Float64Array[], SI: Int32Array, L: Float64Array,
) => void;

/**
 * Instructions per superinstruction, and how many superinstructions a loop may have: V8 optimizes a function up
 * to a bytecode size (about 60 KB), past which the loop would run in its interpreter, 20 times slower, and a
 * larger loop takes longer to be optimized (measured on W1: runs of 4 and 30 kinds reach full speed soonest).
 */
const GROUP = 4, MAX_KINDS = 30;

/** The loops made lately (at most `KEPT_LOOPS`), by the kinds and piece shapes they have cases for. */
const tapeLoops = new Map<string, TapeLoop>();
const KEPT_LOOPS = 16;

/** Consecutive pieces of one shape (one entry of the tape), by where they start. */
function repeats(length: number, chosen: readonly Piece[]): Map<number, Piece[]> {
  const pieceAt = new Map(chosen.map((x) => [x.start, x]));
  const repeatAt = new Map<number, Piece[]>();
  for (let q = 0; q < length; ) {
    const rep: Piece[] = [];
    for (let x = pieceAt.get(q); x !== undefined && (rep.length === 0 || x.code === rep[0]!.code); x = pieceAt.get(q)) {
      rep.push(x);
      q = x.end;
    }
    if (rep.length > 0) repeatAt.set(rep[0]!.start, rep);
    else q++;
  }
  return repeatAt;
}

/**
 * The program as a flat tape of instructions in typed arrays, run by one loop generated for its kinds: pieces
 * chosen from the program (./scalar-fuse.ts) are one case each, the other instructions one case per kind, or per
 * frequent run of `GROUP` of them.
 */
export function tapeExec(p: ScalarProgram): Exec & { pieces: number; shapes: number } {
  const chosen = choosePieces(p.instrs, p.outputs, p.entries);
  const shapes = [...new Set(chosen.map((x) => x.code))];
  const shapeOf = new Map(shapes.map((c, s) => [c, s]));
  const repeatAt = repeats(p.instrs.length, chosen);
  let n = 0;
  for (let q = 0; q < p.instrs.length; ) {
    const rep = repeatAt.get(q), s = p.instrs[q]!;
    n += rep !== undefined ? 1 : s.k === "sgd" ? s.es.length : 1;
    q = rep !== undefined ? rep[rep.length - 1]!.end : q + 1;
  }
  const O = new Int32Array(chosen.reduce((t, x) => t + x.operands.length, 0));
  const C = new Int32Array(n), I = new Int32Array(n), A = new Int32Array(n), B = new Int32Array(n).fill(-1), K = new Float64Array(n);
  const kinds: string[] = [];
  const kindOf = new Map<string, number>();
  const kind = (s: string) => kindOf.get(s) ?? (kindOf.set(s, kinds.push(s) - 1), kinds.length - 1);
  let k = 0, o = 0;
  const put = (kd: string, i: number, a: number, b: number, c = 0) => {
    [C[k], I[k], A[k], B[k], K[k]] = [kind(kd), i, a, b, c];
    k++;
  };
  for (let q = 0; q < p.instrs.length; ) {
    const rep = repeatAt.get(q);
    if (rep !== undefined) {
      put(`piece:${shapeOf.get(rep[0]!.code)!}`, rep[0]!.operands.length, o, rep.length);
      for (const x of rep) {
        O.set(x.operands, o);
        o += x.operands.length;
      }
      q = rep[rep.length - 1]!.end;
      continue;
    }
    const s = p.instrs[q++]!;
    const name = s.k === "op" || s.k === "back" ? opOfCode[s.code]!.name : "";
    if (s.k === "op") put(`op:${name}`, s.i, s.a, s.b);
    else if (s.k === "back") put(`back:${name}:${s.ma}:${s.mb}`, s.i, s.a, s.b);
    else if (s.k === "load") put("load", s.i, s.e, -1);
    else if (s.k === "set") put(s.field, 0, s.e, s.refresh, s.value);
    else if (s.k === "seed" || s.k === "zero" || s.k === "flush") put(s.k, s.i, s.k === "flush" ? s.e : 0, -1);
    else if (s.k === "sgd") s.es.forEach((e, q) => put("sgd", s.m, e, s.refresh[q]!));
  }
  // Superinstructions: runs of `GROUP` instructions (no piece among them) become one case (one dispatch), while
  // the kinds are few. The most frequent runs (counted at aligned places) get a case of their own.
  const single = kinds.slice();
  const runAt = (j: number) => {
    if (j + GROUP > n) return "";
    const ks = Array.from(C.subarray(j, j + GROUP), (c) => single[c]!);
    return ks.some((s) => s.startsWith("piece:")) ? "" : ks.join("|");
  };
  const counts = new Map<string, number>();
  for (let j = 0; j + GROUP <= n; j += GROUP) counts.set(runAt(j), (counts.get(runAt(j)) ?? 0) + 1);
  counts.delete("");
  const runs = new Set([...counts].filter(([, c]) => c >= 8).sort((x, y) => y[1] - x[1]).slice(0, MAX_KINDS).map(([r]) => r));
  kinds.length = 0;
  kindOf.clear();
  for (let j = 0; j < n; ) {
    const run = runAt(j);
    if (runs.has(run)) {
      C[j] = kind(run);
      j += GROUP;
    } else {
      C[j] = kind(single[C[j]!]!);
      j++;
    }
  }
  const key = kinds.map((kd) => (kd.startsWith("piece:") ? shapes[Number(kd.slice(6))]! : kd)).join("\n");
  let loop = tapeLoops.get(key);
  if (loop === undefined) {
    loop = (new Function("F", tapeLoopSource(kinds, shapes)) as (F: unknown) => TapeLoop)(elementwiseList.map((op) => op.forward));
    if (tapeLoops.size >= KEPT_LOOPS) tapeLoops.delete(tapeLoops.keys().next().value!);
    tapeLoops.set(key, loop);
  }
  const run = loop;
  const SV: Float64Array[] = [], SG: Float64Array[] = [], SI = new Int32Array(p.externals.length);
  const exec: Exec = (V, G, X, L, slots) => {
    p.externals.forEach((x, e) => {
      SV[e] = slots[2 * x.slot]!;
      SG[e] = slots[2 * x.slot + 1]!;
      SI[e] = x.arg >= 0 ? X[x.arg]! : x.value.i;
    });
    run(n, C, I, A, B, K, O, V, G, SV, SG, SI, L);
  };
  return Object.assign(exec, { pieces: chosen.length, shapes: shapes.length });
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
    let how = "an interpreted tape";
    if (mode !== "interpreted") {
      try {
        if (mode === "generated") [exec, how] = [generatedExec(p), "generated straight-line JavaScript"];
        else {
          const t = tapeExec(p);
          [exec, how] = [t, `a flat tape (generated loop; ${t.pieces} pieces of ${t.shapes} shapes)`];
        }
      } catch (e) {
        if (mode !== "auto") throw e;
      }
    }
    this.how = how;
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
 * from the op table, repeating stretches of the program as functions of their own; "generated" — straight-line JavaScript made for the program (fast for small steps called
 * often; V8 leaves long ones to its interpreter); "interpreted" — the tape run by closures over the op table (no
 * `new Function`); "auto" (default) — "tape", or "interpreted" where `new Function` is forbidden.
 */
export type ReplayMode = "tape" | "generated" | "interpreted" | "auto";
