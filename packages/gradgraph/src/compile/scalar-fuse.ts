/**
 * Superinstructions chosen from a traced `Value` program (./scalar-trace.ts) for the flat tape
 * (./scalar-replay.ts). The program is cut into *pieces*: a forward piece is a stretch of consecutive op
 * instructions that ends where a value leaves it (read by several ops, by none, or by one far away) — one
 * neuron's `b + Σ wᵢxᵢ` and its activation, say; its backward mirror is the stretch of consecutive backward
 * steps of that piece's entries. A piece runs as a function printed from the op table (called from a case of
 * the tape's loop): values and gradients that live and die inside the piece stay in local variables (no array
 * traffic), the rest is read and written through the piece's operand list (`O[p + n]`, entry indices). Pieces of
 * the same shape (the same printed code) share a function; the shapes that occur most get one, the rest of the
 * program runs instruction by instruction. Every piece does the same float64 operations in the same order as the instructions it stands for
 * (a first gradient write is still `0 + c`), so replays stay equal bit for bit.
 */
import { opOfCode, partialSource } from "../scalar/kernels.js";
import type { Instr, Out } from "./scalar-trace.js";

/** A stretch `[start, end)` of the program's instructions run as one function: its code and its operands. */
export interface Piece {
  readonly start: number;
  readonly end: number;
  /** What its code depends on: pieces with one key print the same code. */
  readonly key: string;
  /** The body of its function (printed for the first piece of each chosen shape): it reads its operands as `O[p + n]` (entry indices). */
  readonly code: string;
  readonly operands: readonly number[];
}

/** The longest piece, in instructions (V8 compiles a small function sooner, and optimizes one only up to a size). */
const CAP = 64;
/** Instructions over all chosen shapes (the code printed), and how often a shape must occur to get a function. */
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

/** The pieces of a program worth a function of their own (shapes that occur at least `MIN_USES` times, within `BUDGET`). */
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
    found.push(forwardPiece(instrs, q, e, vReads, vLast, vOther, false));
    for (let j = q; j < e; j++) pieceOf[(instrs[j] as Op).i] = id;
    q = e;
  }
  // Backward pieces: consecutive backward steps of one forward piece's entries.
  for (let q = 0; q < instrs.length; ) {
    const s = instrs[q]!;
    const id = s.k === "back" ? pieceOf[s.i]! : -1;
    let e = q + 1;
    while (id >= 0 && e < instrs.length && instrs[e]!.k === "back" && pieceOf[(instrs[e] as Back).i] === id) e++;
    if (id >= 0) found.push(backwardPiece(instrs, q, e, gWrites, gWriter, gReads, backAt, false));
    q = e;
  }
  // The shapes that save the most dispatches, within the budget; each prints its code once.
  const byKey = new Map<string, Piece[]>();
  for (const x of found) {
    if (x.end - x.start < 2) continue;
    const xs = byKey.get(x.key);
    if (xs === undefined) byKey.set(x.key, [x]);
    else xs.push(x);
  }
  const shapes = [...byKey.values()].filter((xs) => xs.length >= MIN_USES).sort((x, y) => y.length * (y[0]!.end - y[0]!.start) - x.length * (x[0]!.end - x[0]!.start));
  const chosen: Piece[] = [];
  let size = 0;
  for (const xs of shapes) {
    const x = xs[0]!, len = x.end - x.start;
    if (size + len > BUDGET) continue;
    size += len;
    const { code } = instrs[x.start]!.k === "op"
      ? forwardPiece(instrs, x.start, x.end, vReads, vLast, vOther, true)
      : backwardPiece(instrs, x.start, x.end, gWrites, gWriter, gReads, backAt, true);
    for (const y of xs) chosen.push({ ...y, code });
  }
  return chosen.sort((x, y) => x.start - y.start);
}

/**
 * Forward piece `[q, e)`: each op's value in a local; stored when read outside the piece. Its key says everything
 * its code depends on (the code is printed, `emit`, only for the first piece of a chosen shape).
 */
function forwardPiece(
  instrs: readonly Instr[], q: number, e: number, vReads: Int32Array, vLast: Int32Array, vOther: Uint8Array, emit: boolean,
): Piece {
  const names = new Map<number, number>();
  const operands: number[] = [];
  const key: (string | number)[] = [];
  const lines: string[] = [];
  const arg = (x: number) => {
    const t = names.get(x);
    key.push(t ?? -1);
    return t !== undefined ? `t${t}` : emit ? `V[O[p + ${operands.push(x) - 1}]]` : (operands.push(x), "");
  };
  for (let j = q; j < e; j++) {
    const s = instrs[j] as Op;
    key.push(s.code);
    const a = arg(s.a);
    const b = opOfCode[s.code]!.arity === 2 ? arg(s.b) : "NaN";
    names.set(s.i, j - q);
    const stored = vOther[s.i] === 1 || vReads[s.i] === 0 || vLast[s.i]! >= e;
    key.push(stored ? "s" : "");
    if (stored) operands.push(s.i);
    if (emit) lines.push(`const t${j - q} = f${s.code}(${a}, ${b});${stored ? ` V[O[p + ${operands.length - 1}]] = t${j - q};` : ""}`);
  }
  return { start: q, end: e, key: key.join(","), code: lines.join(" "), operands };
}

/**
 * Backward piece `[q, e)`: a gradient written once (first write: `0 + c`) and read once, both inside the piece,
 * is a local; the others are read and written in `G` as the instructions do.
 */
function backwardPiece(
  instrs: readonly Instr[], q: number, e: number, gWrites: Int32Array, gWriter: Int32Array, gReads: Int32Array, backAt: Int32Array,
  emit: boolean,
): Piece {
  const local = (j: number) => gWrites[j] === 1 && gReads[j] === 1 && gWriter[j]! >= q && gWriter[j]! < backAt[j]! && backAt[j]! < e;
  const operands: number[] = [];
  const key: (string | number)[] = [];
  // Locals are numbered in order of appearance, so that pieces of one shape print the same.
  const locals = new Map<number, number>();
  const lines: string[] = [];
  for (let j = q; j < e; j++) {
    const s = instrs[j] as Back;
    key.push(s.code, s.ma, s.mb);
    const { ps, ...uses } = partials(s);
    const ix = new Map<number, number>();
    const consts: string[] = [];
    // Entry `x`'s index, as `j<n>`: read from the operands once per instruction.
    const at = (x: number) => {
      let v = ix.get(x);
      if (v === undefined) {
        v = ix.size;
        ix.set(x, v);
        if (emit) consts.push(`j${v} = O[p + ${operands.length}]`);
        operands.push(x);
      }
      key.push(v);
      return `j${v}`;
    };
    const two = opOfCode[s.code]!.arity === 2;
    const x0 = uses.x0 ? `x0 = V[${at(s.a)}]` : "";
    const x1 = uses.x1 ? (two ? `x1 = V[${at(s.b)}]` : "x1 = NaN") : "";
    const y = uses.y ? `y = V[${at(s.i)}]` : "";
    const gl = local(s.i) ? locals.get(s.i)! : -1;
    key.push(gl === -1 ? "g" : `l${gl}`);
    const g = `g = ${gl >= 0 ? `l${gl}` : `G[${at(s.i)}]`}`;
    const into = (x: number, m: number, pq: string) => {
      if (m === 0) return "";
      if (local(x)) {
        const l = locals.size;
        locals.set(x, l);
        key.push("L");
        return ` l${l} = 0 + ${pq} * g;`;
      }
      const v = at(x);
      return m === 1 ? ` G[${v}] = 0 + ${pq} * g;` : ` G[${v}] += ${pq} * g;`;
    };
    const body = into(s.a, s.ma, ps[0]!) + into(s.b, s.mb, ps[1]!);
    if (emit) lines.push(`{ const ${[...consts, x0, x1, y, g].filter((l) => l !== "").join(", ")};${body} }`);
  }
  const decls = Array.from({ length: locals.size }, (_, l) => `l${l} = 0`);
  return { start: q, end: e, key: key.join(","), code: (decls.length > 0 ? `let ${decls.join(", ")}; ` : "") + lines.join(" "), operands };
}
