/**
 * `einsum` lowered onto the table's primitives (a composite: fast through matmul, differentiable to any order):
 *
 * 1. a letter repeated within one operand takes the diagonal (permute the two axes last, reshape to n·n, slice
 *    with step n + 1): `ii->` is a trace, `ii->i` a diagonal;
 * 2. a letter found in one operand only and not in the output is summed out at once;
 * 3. operands are contracted left to right, each pair as one batched matmul: letters of both that are still
 *    needed (by the output or a later operand) are the batch, letters of both that are not are contracted
 *    (the K of the matmul), the rest are the rows (M) and columns (N) — permutes and reshapes around it;
 * 4. the result is permuted into the output's order.
 *
 * Without `->`, the output is the letters that appear once, in alphabetical order (NumPy, PyTorch), after the axes
 * of `...`. An ellipsis stands for the same axes in every operand, right-aligned (`...ij,...jk->...ik`); sizes
 * must agree (no broadcasting of size-1 axes).
 */
import { ShapeError } from "../core/errors.js";
import type { TensorAlgebra } from "./op.js";
import { formatShape, sameShape, type Shape } from "./shape.js";

/** An operand as it goes: its value and one letter per axis. */
interface Term<T> {
  x: T;
  letters: string[];
}

/** The letters that stand for the axes an ellipsis covers (right-aligned: the last `k` of the widest one). */
const ellipsisLetters = (k: number, widest: number): string[] => Array.from({ length: k }, (_, i) => `…${widest - k + i}`);

function parse(spec: string, shapes: readonly Shape[]): { inputs: string[][]; output: string[] } {
  const s = spec.replace(/\s+/g, "");
  const [lhs, rhs, extra] = s.split("->");
  const term = /^([a-zA-Z]*)(\.\.\.)?([a-zA-Z]*)$/;
  const terms = lhs?.split(",") ?? [];
  if (extra !== undefined || lhs === undefined || !terms.every((t) => term.test(t)) || (rhs !== undefined && !term.test(rhs))) {
    throw new ShapeError(`einsum: cannot read "${spec}": expected letters per operand separated by commas (one "..." at most in each), then optionally -> and the output's letters (e.g. "ij,jk->ik")`);
  }
  if (terms.length !== shapes.length) throw new ShapeError(`einsum: "${spec}" names ${terms.length} operand${terms.length === 1 ? "" : "s"}, got ${shapes.length}`);
  // How many axes each operand's "..." covers, and the widest.
  const spans = terms.map((t, k) => {
    if (!t.includes("...")) return 0;
    const named = t.length - 3;
    const n = shapes[k]!.length - named;
    if (n < 0) throw new ShapeError(`einsum: operand ${k} has shape ${formatShape(shapes[k]!)} but "${t}" names ${named} axes besides "..."`);
    return n;
  });
  const widest = Math.max(0, ...spans);
  const expand = (t: string, n: number) => {
    const m = term.exec(t)!;
    return [...m[1]!, ...(m[2] ? ellipsisLetters(n, widest) : []), ...m[3]!];
  };
  const inputs = terms.map((t, k) => expand(t, spans[k]!));
  const counts = new Map<string, number>();
  for (const l of inputs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
  const once = [...counts].filter(([l, c]) => c === 1 && !l.startsWith("…")).map(([l]) => l).sort();
  const output = rhs !== undefined ? expand(rhs, widest) : [...ellipsisLetters(widest, widest), ...once];
  for (const l of output) {
    if (!counts.has(l)) throw new ShapeError(`einsum: output letter ${l} of "${spec}" is in no operand`);
    if (output.indexOf(l) !== output.lastIndexOf(l)) throw new ShapeError(`einsum: output letter ${l} of "${spec}" appears twice`);
  }
  return { inputs, output };
}

/** Takes the diagonal of every letter repeated within the term. */
function diagonals<T>(o: TensorAlgebra<T>, t: Term<T>): Term<T> {
  let { x, letters } = t;
  for (;;) {
    const i = letters.findIndex((l, k) => letters.indexOf(l) !== k);
    if (i < 0) return { x, letters };
    const j = letters.indexOf(letters[i]!);
    const shape = o.shape(x);
    const n = shape[i]!;
    if (shape[j] !== n) throw new ShapeError(`einsum: letter ${letters[i]} repeats over axes of sizes ${shape[j]} and ${n} in ${formatShape(shape)}`);
    const rest = letters.map((_, k) => k).filter((k) => k !== i && k !== j);
    const moved = o.permute(x, { perm: [...rest, j, i] });
    const lead = rest.map((k) => shape[k]!);
    const flat = o.reshape(moved, { shape: [...lead, n * n] });
    x = o.slice(flat, { starts: [...lead.map(() => 0), 0], ends: [...lead, n * n], steps: [...lead.map(() => 1), n + 1] });
    letters = [...rest.map((k) => letters[k]!), letters[i]!];
  }
}

/** Sums out the letters of `t` that no one else needs. */
function sumUnneeded<T>(o: TensorAlgebra<T>, t: Term<T>, needed: ReadonlySet<string>): Term<T> {
  const axes = t.letters.map((l, k) => (needed.has(l) ? -1 : k)).filter((k) => k >= 0);
  if (axes.length === 0) return t;
  return { x: o.sum(t.x, { axes, keepdims: false }), letters: t.letters.filter((l) => needed.has(l)) };
}

/** Contracts two terms as one batched matmul; `keep`: letters needed after this pair. */
function contract<T>(o: TensorAlgebra<T>, a: Term<T>, b: Term<T>, keep: ReadonlySet<string>): Term<T> {
  const inB = new Set(b.letters);
  const batch = a.letters.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.letters.filter((l) => inB.has(l) && !keep.has(l));
  const rows = a.letters.filter((l) => !inB.has(l));
  const cols = b.letters.filter((l) => !a.letters.includes(l));
  const size = (t: Term<T>, l: string) => o.shape(t.x)[t.letters.indexOf(l)]!;
  for (const l of [...batch, ...summed]) {
    if (size(a, l) !== size(b, l)) throw new ShapeError(`einsum: letter ${l} has size ${size(a, l)} in one operand and ${size(b, l)} in another`);
  }
  const prod = (t: Term<T>, ls: string[]) => ls.reduce((p, l) => p * size(t, l), 1);
  const arrange = (t: Term<T>, order: string[], shape: number[]) => {
    const perm = order.map((l) => t.letters.indexOf(l));
    const moved = perm.every((p, k) => p === k) ? t.x : o.permute(t.x, { perm });
    return sameShape(o.shape(moved), shape) ? moved : o.reshape(moved, { shape });
  };
  const B = prod(a, batch), M = prod(a, rows), K = prod(a, summed), N = prod(b, cols);
  const am = arrange(a, [...batch, ...rows, ...summed], [B, M, K]);
  const bm = arrange(b, [...batch, ...summed, ...cols], [B, K, N]);
  const shape = [...batch.map((l) => size(a, l)), ...rows.map((l) => size(a, l)), ...cols.map((l) => size(b, l))];
  return { x: o.reshape(o.matmul(am, bm), { shape }), letters: [...batch, ...rows, ...cols] };
}

/**
 * Einstein summation: `einsum("ij,jk->ik", a, b)` is a @ b, `"i,j->ij"` the outer product, `"ii->"` the trace,
 * `"bij,bjk->bik"` a batched matmul, `"ij->j"` a sum over rows, `"ij->ji"` a transpose.
 */
export function einsum<T>(o: TensorAlgebra<T>, spec: string, xs: readonly T[]): T {
  const { inputs, output } = parse(spec, xs.map((x) => o.shape(x)));
  let terms = xs.map((x, k) => {
    const letters = inputs[k]!;
    const shape = o.shape(x);
    if (shape.length !== letters.length) throw new ShapeError(`einsum: operand ${k} has shape ${formatShape(shape)} but "${letters.join("")}" names ${letters.length} axes`);
    return diagonals(o, { x, letters });
  });
  const neededBy = (skip: number) => new Set([...output, ...terms.flatMap((t, k) => (k === skip ? [] : t.letters))]);
  terms = terms.map((t, k) => sumUnneeded(o, t, neededBy(k)));
  let acc = terms[0]!;
  for (let k = 1; k < terms.length; k++) {
    const keep = new Set([...output, ...terms.slice(k + 1).flatMap((t) => t.letters)]);
    acc = contract(o, acc, terms[k]!, keep);
  }
  acc = sumUnneeded(o, acc, new Set(output));
  const perm = output.map((l) => acc.letters.indexOf(l));
  return perm.every((p, k) => p === k) ? acc.x : o.permute(acc.x, { perm });
}
