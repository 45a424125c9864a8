/**
 * Scans: `cumsum` along one axis. A primitive: the kernel is one pass per row, where a composite (a matmul with a
 * triangular matrix of ones) would cost n² per row. It is linear, so its jvp is itself, and its vjp is its
 * transpose: the same scan run from the other end (`reverse`), which is why the parameter exists.
 */
import { ShapeError } from "../core/errors.js";
import { defineTensorOp, linearJvp } from "./op.js";
import { formatShape } from "./shape.js";

export const cumsum = defineTensorOp({
  name: "cumsum", kind: "scan", arity: 1, nondiff: false,
  doc: "running sums along an axis: y[…, i, …] = Σ_{j ≤ i} x[…, j, …] (Σ_{j ≥ i} with reverse)",
  shape: ([x], { axis }) => {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x!.length) throw new ShapeError(`cumsum: axis ${axis} is out of range for shape ${formatShape(x!)}`);
    return x!;
  },
  // y = L x (L lower triangular ones) ⇒ x̄ = Lᵀ ḡ: the running sums of ḡ from the other end
  vjp: (o, g, _xs, _y, _needs, { axis, reverse }) => [o.cumsum(g, { axis, reverse: !reverse })],
  // dy = cumsum(dx)
  jvp: linearJvp("cumsum"),
  batch: (o, [x], _b, p) => o.cumsum(x!, { ...p, axis: p.axis + 1 }),
  print: { kind: "call", name: { board: "cumsum", py: "np.cumsum", ts: "cumsum" } },
  printParams: (p) => [`axis=${p.axis}`, ...(p.reverse ? ["reverse=True"] : [])],
});

/** The scan entries. */
export const scanOps = { cumsum } as const;
