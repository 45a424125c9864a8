/**
 * Matrix product with NumPy semantics (`@`): 1-D × 1-D is a dot product, a 1-D left operand is a row vector and
 * a 1-D right operand a column vector (the added axis is removed from the result), and leading (batch) axes
 * broadcast. A primitive: the kernel is cache-blocked, and the rule below is the textbook one.
 */
import { ShapeError } from "../core/errors.js";
import { batchSize, liftTo, logicalShape } from "./batch.js";
import { defineTensorOp, PREC, type TensorAlgebra } from "./op.js";
import { broadcastShapes, formatShape, type Shape } from "./shape.js";

/** The shapes as matrices: 1-D a → [1,k], 1-D b → [k,1]. */
function asMatrices(a: Shape, b: Shape): [Shape, Shape] {
  return [a.length === 1 ? [1, a[0]!] : a, b.length === 1 ? [b[0]!, 1] : b];
}

/** Output shape of a @ b, or a ShapeError naming both shapes. */
export function matmulShape(a: Shape, b: Shape): Shape {
  const where = `${formatShape(a)} @ ${formatShape(b)}`;
  if (a.length === 0 || b.length === 0) throw new ShapeError(`matmul: both operands need at least 1 dimension: ${where}`);
  const [am, bm] = asMatrices(a, b);
  const m = am[am.length - 2]!, k = am[am.length - 1]!, k2 = bm[bm.length - 2]!, n = bm[bm.length - 1]!;
  if (k !== k2) throw new ShapeError(`matmul: inner dimensions differ: ${where}`);
  let batch: number[];
  try {
    batch = broadcastShapes([am.slice(0, -2), bm.slice(0, -2)], "matmul");
  } catch {
    throw new ShapeError(`matmul: batch dimensions cannot be broadcast: ${where}`);
  }
  return [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
}

/** Swaps the last two axes (a view): the matrix transpose of every matrix in a batch. */
function mT<T>(o: TensorAlgebra<T>, x: T): T {
  const r = o.shape(x).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return o.permute(x, { perm });
}

export const matmul = defineTensorOp({
  name: "matmul", kind: "matmul", arity: 2, nondiff: false,
  doc: "matrix product a @ b (NumPy semantics: 1-D operands, broadcast batch axes)",
  shape: ([a, b]) => matmulShape(a!, b!),
  // d(AB) = dA B + A dB  ⇒  Ā = Ḡ Bᵀ, B̄ = Aᵀ Ḡ (1-D operands as a row/column; batch axes summed by the engine)
  vjp: (o, g, [a, b], _y, needs) => {
    const as = o.shape(a!), bs = o.shape(b!);
    const [am, bm] = asMatrices(as, bs);
    const a2 = as.length === 1 ? o.reshape(a!, { shape: am }) : a!;
    const b2 = bs.length === 1 ? o.reshape(b!, { shape: bm }) : b!;
    const gs = o.shape(g);
    const outMatrix = [...gs.slice(0, gs.length - (as.length === 1 ? 0 : 1) - (bs.length === 1 ? 0 : 1)), am[am.length - 2]!, bm[bm.length - 1]!];
    const g2 = o.reshape(g, { shape: outMatrix });
    let ga: T2<typeof g> = null, gb: T2<typeof g> = null;
    if (needs[0]) {
      ga = o.matmul(g2, mT(o, b2));
      // A 1-D a was the row [1,k]: drop that axis again ([..., 1, k] → [..., k]).
      if (as.length === 1) { const s = o.shape(ga); ga = o.reshape(ga, { shape: [...s.slice(0, -2), s[s.length - 1]!] }); }
    }
    if (needs[1]) {
      gb = o.matmul(mT(o, a2), g2);
      // A 1-D b was the column [k,1]: [..., k, 1] → [..., k].
      if (bs.length === 1) { const s = o.shape(gb); gb = o.reshape(gb, { shape: s.slice(0, -1) }); }
    }
    return [ga, gb];
  },
  // dy = da @ b + a @ db
  jvp: (o, [da, db], [a, b]) => {
    const l = da ? o.matmul(da, b!) : null;
    const r = db ? o.matmul(a!, db) : null;
    return l && r ? o.add(l, r) : l ?? r;
  },
  // Batched vectors become a row [B,1,k] / a column [B,k,1], batched operands get size-1 axes after the batch axis
  // up to the other's rank, so the matmul's broadcast batch axes line up; the result is reshaped to [B, ...out].
  batch: (o, [a, b], [ba, bb]) => {
    const la = logicalShape(o, a!, ba!), lb = logicalShape(o, b!, bb!);
    const n = batchSize(o, [a!, b!], [ba!, bb!]);
    const out = matmulShape(la, lb);
    const rank = Math.max(la.length, lb.length, 2);
    const prep = (x: typeof a, s: Shape, batched: boolean, vector: Shape) =>
      !batched ? x! : liftTo(o, s.length === 1 ? o.reshape(x!, { shape: [n, ...vector] }) : x!, rank);
    const y = o.matmul(prep(a, la, ba!, [1, la[0]!]), prep(b, lb, bb!, [lb[0]!, 1]));
    return o.reshape(y, { shape: [n, ...out] });
  },
  print: { kind: "infix", symbol: { board: "@", py: "@", ts: "@" }, prec: PREC.mul, assoc: "left" },
  // Also callable as matmul(a, b).
  call: {},
});

type T2<T> = T | null;

/** The matmul entry. */
export const matmulOps = { matmul } as const;
