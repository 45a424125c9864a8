/**
 * Batching rules (vmap) shared by the op table's entries. A rule gets its inputs as stored — a batched one with its
 * batch axis first, an unbatched one as it is — and returns the output with its batch axis first (see
 * `BatchRule` in ./op.ts). Rules of one op sit in its entry; the ones here serve several.
 */
import type { Arg, BatchRule, IndexArray, TensorAlgebra } from "./op.js";
import type { Shape } from "./shape.js";

/** The shape of an input without its batch axis (as the op sees it). */
export function logicalShape<T>(o: TensorAlgebra<T>, x: T, batched: boolean): Shape {
  const s = o.shape(x);
  return batched ? s.slice(1) : s;
}

/** The batch size: the first axis of a batched input. */
export function batchSize<T>(o: TensorAlgebra<T>, xs: readonly T[], batched: readonly boolean[]): number {
  return o.shape(xs[batched.indexOf(true)]!)[0]!;
}

/**
 * A batched input [B, ...s] with size-1 axes put after its batch axis to reach `rank` axes besides it, so it lines
 * up with the others under broadcasting (which aligns trailing axes): [B, 1, …, 1, ...s].
 */
export function liftTo<T>(o: TensorAlgebra<T>, x: T, rank: number): T {
  const s = o.shape(x);
  const missing = rank - (s.length - 1);
  return missing <= 0 ? x : o.reshape(x, { shape: [s[0]!, ...Array<number>(missing).fill(1), ...s.slice(1)] });
}

/**
 * The rule of an op that broadcasts its inputs (elementwise ops, where): batched inputs lifted to the rank of the
 * widest input, unbatched ones left to broadcast, then the op itself.
 */
export function batchBroadcast(name: string): BatchRule<undefined> {
  return <T>(o: TensorAlgebra<T>, xs: readonly T[], batched: readonly boolean[]): T => {
    const rank = Math.max(...xs.map((x, i) => logicalShape(o, x, batched[i]!).length));
    const lined = xs.map((x, i) => (batched[i] ? liftTo(o, x, rank) : x));
    return (o as unknown as Record<string, (...a: Arg<T>[]) => T>)[name]!(...lined);
  };
}

/** An unbatched input repeated along a new batch axis of size `n` (a broadcast view). */
export function repeatBatch<T>(o: TensorAlgebra<T>, x: T, n: number): T {
  const s = o.shape(x);
  return o.broadcastTo(o.reshape(x, { shape: [1, ...s] }), { shape: [n, ...s] });
}

/** Axes of the op's parameters moved past the batch axis. */
export const shiftAxes = (axes: readonly number[]): number[] => axes.map((a) => a + 1);

/**
 * The index of gather/scatterAdd laid out for the batch of `n` examples of vmap `level`, the batch axis first (what
 * the ops' batching rules get): an index batched at that level is its own data, each example's indices; one that
 * every example of the level shares is repeated `n` times — for each example of an outer vmap, when it is batched
 * there, and still batched there.
 */
export function indexForBatch(index: IndexArray, level: number, n: number): IndexArray {
  const shape = [n, ...index.shape];
  if (index.batch?.level === level) return { data: index.data, shape };
  const m = index.shape.reduce((a, b) => a * b, 1), outer = index.batch?.size ?? 1;
  const data = new Int32Array(outer * n * m);
  for (let b = 0; b < outer; b++) {
    const one = index.data.subarray(b * m, (b + 1) * m);
    for (let c = 0; c < n; c++) data.set(one, (b * n + c) * m);
  }
  return index.batch === undefined ? { data, shape } : { data, shape, batch: index.batch };
}
