/**
 * Superinstructions chosen from a traced `Value` program (./scalar-trace.ts) for the flat tape
 * (./scalar-replay.ts). The program is cut into *pieces*: a forward piece is a stretch of consecutive op
 * instructions that ends where a value leaves it (read by several ops, by none, or by one far away) — one
 * neuron's `b + Σ wᵢxᵢ` and its activation, say; its backward mirror is the stretch of consecutive backward
 * steps of that piece's entries. A piece becomes one case of the tape's loop, printed from the op table: values
 * and gradients that live and die inside the piece stay in local variables (no array traffic), the rest is read
 * and written through the piece's operand list (`O[p + n]`, entry indices). Pieces of the same shape (the same
 * printed code) share a case; the shapes that occur most get one, the rest of the program runs instruction by
 * instruction. Every piece does the same float64 operations in the same order as the instructions it stands for
 * (a first gradient write is still `0 + c`), so replays stay equal bit for bit.
 */
import { opOfCode, partialSource } from "../scalar/kernels.js";
import type { Instr, Out } from "./scalar-trace.js";

/** A stretch `[start, end)` of the program's instructions run as one case: its code and its operands. */
export interface Piece {
  readonly start: number;
  readonly end: number;
  /** The case's body: it reads its operands as `O[p + n]` (entry indices). */
  readonly code: string;
  readonly operands: readonly number[];
}

/** The longest piece, in instructions: V8 optimizes a function up to a bytecode size, so the cases stay small. */
const CAP = 64;
/** Instructions over all chosen shapes (the loop's size), and how often a shape must occur to get a case. */
const BUDGET = 1200, MIN_USES = 4;

type Op = Extract<Instr, { k: "op" }>;
type Back = Extract<Instr, { k: "back" }>;

/** A backward step's partials (JavaScript source, "" for an input it does not feed) and which of `x0`, `x1`, `y` they read. */
interface Partials {
  readonly ps: readonly string[];
  readonly x0: boolean;
  readonly x1: boolean;
  readonly y: boolean;
}

const partialsMade = new Map<string, Partials>();

function partials(s: Back): Partials {
  const key = `${s.code}:${s.ma}:${s.mb}`;
  let r = partialsMade.get(key);
  if (r === undefined) {
    const op = opOfCode[s.code]!;
    const ps = [s.ma, s.mb].map((m, k) => (m === 0 ? "" : `(${partialSource(op, k)})`));
    const uses = (v: string) => ps.some((q) => new RegExp(`\\b${v}\\b`).test(q));
    r = { ps, x0: uses("x0"), x1: uses("x1"), y: uses("y") };
    partialsMade.set(key, r);
  }
  return r;
}

/** The pieces of a program worth a case of their own (shapes that occur at least `MIN_USES` times, within `BUDGET`). */
export function choosePieces(instrs: readonly Instr[], outputs: readonly Out[], entries: number): Piece[] {
  // Who reads each entry's value: forward ops (how many, the last one), or anything else (a backward step, an output).
  const vReads = new Int32Array(entries), vLast = new Int32Array(entries), vOther = new Uint8Array(entries);
  // Who writes and reads each entry's gradient.
  const gWrites = new Int32Array(entries), gWriter = new Int32Array(entries), gReads = new Int32Array(entries), backAt = new Int32Array(entries).fill(-1);
  for (const o of outputs) if ("entry" in o) vOther[o.entry] = 1;
  instrs.forEach((s, q) => {
    if (s.k === "op") {
      for (const x of opOfCode[s.code]!.arity === 2 ? [s.a, s.b] : [s.a]) {
        vReads[x]!++;
        vLast[x] = q;
      }
    } else if (s.k === "back") {
      const u = partials(s);
      if (u.x0) vOther[s.a] = 1;
      if (u.x1 && s.b >= 0) vOther[s.b] = 1;
      if (u.y) vOther[s.i] = 1;
      gReads[s.i]!++;
      backAt[s.i] = q;
      for (const [j, m] of [[s.a, s.ma], [s.b, s.mb]] as const) {
        if (m === 0) continue;
        gWrites[j]!++;
        gWriter[j] = q;
      }
    } else if (s.k === "seed" || s.k === "zero") gWrites[s.i]! += 2;
    else if (s.k === "flush") gReads[s.i]!++;
  });
  const pieceOf = new Int32Array(entries).fill(-1);
  const found: Piece[] = [];
  // Forward pieces: cut after a value read by other than one op close by, at CAP, and before anything not an op.
  for (let q = 0; q < instrs.length; ) {
    if (instrs[q]!.k !== "op") {
      q++;
      continue;
    }
    let e = q;
    while (e < instrs.length && instrs[e]!.k === "op" && e - q < CAP) {
      const i = (instrs[e] as Op).i;
      e++;
      if (vReads[i] !== 1 || vLast[i]! - (e - 1) > CAP) break;
    }
    const id = found.length;
    found.push(forwardPiece(instrs, q, e, vReads, vLast, vOther));
    for (let j = q; j < e; j++) pieceOf[(instrs[j] as Op).i] = id;
    q = e;
  }
  // Backward pieces: consecutive backward steps of one forward piece's entries.
  for (let q = 0; q < instrs.length; ) {
    const s = instrs[q]!;
    const id = s.k === "back" ? pieceOf[s.i]! : -1;
    let e = q + 1;
    while (id >= 0 && e < instrs.length && instrs[e]!.k === "back" && pieceOf[(instrs[e] as Back).i] === id) e++;
    if (id >= 0) found.push(backwardPiece(instrs, q, e, gWrites, gWriter, gReads, backAt));
    q = e;
  }
  // The shapes that save the most dispatches, within the budget.
  const byCode = new Map<string, Piece[]>();
  for (const x of found) {
    if (x.end - x.start < 2) continue;
    const xs = byCode.get(x.code);
    if (xs === undefined) byCode.set(x.code, [x]);
    else xs.push(x);
  }
  const shapes = [...byCode.values()].filter((xs) => xs.length >= MIN_USES).sort((x, y) => y.length * (y[0]!.end - y[0]!.start) - x.length * (x[0]!.end - x[0]!.start));
  const chosen: Piece[] = [];
  let size = 0;
  for (const xs of shapes) {
    const len = xs[0]!.end - xs[0]!.start;
    if (size + len > BUDGET) continue;
    size += len;
    chosen.push(...xs);
  }
  return chosen.sort((x, y) => x.start - y.start);
}

/** Forward piece `[q, e)`: each op's value in a local; stored when read outside the piece. */
function forwardPiece(instrs: readonly Instr[], q: number, e: number, vReads: Int32Array, vLast: Int32Array, vOther: Uint8Array): Piece {
  const names = new Map<number, string>();
  const operands: number[] = [];
  const slot = (x: number) => `O[p + ${operands.push(x) - 1}]`;
  const arg = (x: number) => names.get(x) ?? `V[${slot(x)}]`;
  const lines: string[] = [];
  for (let j = q; j < e; j++) {
    const s = instrs[j] as Op;
    const a = arg(s.a);
    const b = opOfCode[s.code]!.arity === 2 ? arg(s.b) : "NaN";
    const t = `t${j - q}`;
    lines.push(`const ${t} = f${s.code}(${a}, ${b});`);
    names.set(s.i, t);
    if (vOther[s.i] === 1 || vReads[s.i] === 0 || vLast[s.i]! >= e) lines.push(`V[${slot(s.i)}] = ${t};`);
  }
  return { start: q, end: e, code: lines.join(" "), operands };
}

/**
 * Backward piece `[q, e)`: a gradient written once (first write: `0 + c`) and read once, both inside the piece,
 * is a local; the others are read and written in `G` as the instructions do.
 */
function backwardPiece(
  instrs: readonly Instr[], q: number, e: number, gWrites: Int32Array, gWriter: Int32Array, gReads: Int32Array, backAt: Int32Array,
): Piece {
  const local = (j: number) => gWrites[j] === 1 && gReads[j] === 1 && gWriter[j]! >= q && gWriter[j]! < backAt[j]! && backAt[j]! < e;
  const operands: number[] = [];
  // Locals are named in order of appearance, so that pieces of one shape print the same.
  const locals = new Map<number, string>();
  const decls: string[] = [];
  const lines: string[] = [];
  for (let j = q; j < e; j++) {
    const s = instrs[j] as Back;
    const { ps, ...uses } = partials(s);
    const ix = new Map<number, string>();
    const consts: string[] = [];
    const at = (x: number) => {
      let v = ix.get(x);
      if (v === undefined) {
        v = `j${ix.size}`;
        ix.set(x, v);
        consts.push(`${v} = O[p + ${operands.push(x) - 1}]`);
      }
      return v;
    };
    const two = opOfCode[s.code]!.arity === 2;
    const loads = [
      uses.x0 ? `x0 = V[${at(s.a)}]` : "",
      uses.x1 ? (two ? `x1 = V[${at(s.b)}]` : "x1 = NaN") : "",
      uses.y ? `y = V[${at(s.i)}]` : "",
      `g = ${local(s.i) ? locals.get(s.i)! : `G[${at(s.i)}]`}`,
    ].filter((l) => l !== "");
    const into = (x: number, m: number, pq: string) => {
      if (m === 0) return "";
      if (local(x)) {
        const l = `l${locals.size}`;
        locals.set(x, l);
        decls.push(`${l} = 0`);
        return ` ${l} = 0 + ${pq} * g;`;
      }
      const v = at(x);
      return m === 1 ? ` G[${v}] = 0 + ${pq} * g;` : ` G[${v}] += ${pq} * g;`;
    };
    const body = into(s.a, s.ma, ps[0]!) + into(s.b, s.mb, ps[1]!);
    lines.push(`{ const ${[...consts, ...loads].join(", ")};${body} }`);
  }
  return { start: q, end: e, code: (decls.length > 0 ? `let ${decls.join(", ")}; ` : "") + lines.join(" "), operands };
}
