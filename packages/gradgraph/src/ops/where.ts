/**
 * Selection: `where(cond, a, b)` picks a where cond ≠ 0, else b, with broadcasting.
 *
 * A primitive rather than the composite `cond·a + (1 − cond)·b`: the composite gives NaN wherever the branch not
 * taken is ±inf or NaN (0 · inf = NaN), which is exactly where `where` is used (masking with -inf).
 */
import { batchBroadcast } from "./batch.js";
import { defineTensorOp } from "./op.js";
import { broadcastShapes } from "./shape.js";

export const where = defineTensorOp({
  name: "where", kind: "select", arity: 3, nondiff: false,
  doc: "a where cond ≠ 0, else b (cond gets no gradient)",
  shape: (shapes) => broadcastShapes(shapes, "where"),
  dtype: ([, a, b]) => (a === "float64" || b === "float64" ? "float64" : "float32"),
  nondiffInputs: [0],
  // ā = ḡ where cond, else 0;  b̄ = ḡ where not cond, else 0
  vjp: (o, g, [c], _y, needs) => [null, needs[1] ? o.where(c!, g, 0) : null, needs[2] ? o.where(c!, 0, g) : null],
  // dy = where(cond, da, db)
  jvp: (o, [, da, db], [c]) => (da || db ? o.where(c!, da ?? 0, db ?? 0) : null),
  batch: batchBroadcast("where"),
  print: { kind: "call", name: { board: "where", py: "np.where", ts: "where" } },
});

/** The selection entry. */
export const selectOps = { where } as const;
