/**
 * Reductions: sum, amax, amin over a list of axes, with or without keeping the reduced axes as size 1.
 *
 * `amax`/`amin` are primitives (not composites of sort or compare ops) because their gradient at ties must be
 * split evenly among the tied elements (PyTorch's rule for amax/amin), which the rule below states directly.
 * `mean` is a composite (sum / count: nothing to gain from a rule of its own), see ./composite.ts.
 */
import { ShapeError } from "../core/errors.js";
import {
  defineTensorOp,
  linearJvp,
  REDUCE_KEYWORDS,
  type ReduceParams,
  type Target,
  type TensorAlgebra,
  type TensorCall,
  type TensorOp,
} from "./op.js";
import { shiftAxes } from "./batch.js";
import { formatShape, normalizeAxes, reducedShape, type Shape } from "./shape.js";

/** Checks the (already normalised) axes against the input's rank. */
function reduceShape(name: string, needsElements = false) {
  return (shapes: readonly Shape[], p: ReduceParams): Shape => {
    const x = shapes[0]!;
    let prev = -1;
    for (const a of p.axes) {
      if (!Number.isInteger(a) || a < 0 || a >= x.length || a <= prev) {
        throw new ShapeError(`${name}: axes [${p.axes.join(",")}] are invalid for shape ${formatShape(x)}`);
      }
      if (needsElements && x[a] === 0) throw new ShapeError(`${name}: cannot reduce an empty axis of shape ${formatShape(x)}`);
      prev = a;
    }
    return reducedShape(x, p.axes, p.keepdims);
  };
}

/**
 * `axis=1`, `axis=(0, 1)`, `keepdims=True`: how reduction parameters print (in TypeScript positionally, as
 * `functional.sum(x, axis, keepdims)` takes them: `1`, `[0, 1], true`).
 */
export function printReduceParams(p: ReduceParams, target: Target, rank?: number): string[] {
  const all = rank !== undefined && p.axes.length === rank;
  if (target === "ts") {
    const axes = p.axes.length === 1 ? String(p.axes[0]) : `[${p.axes.join(", ")}]`;
    return p.keepdims ? [axes, "true"] : [axes];
  }
  const out: string[] = [];
  if (!all) {
    const axes = p.axes.length === 1 ? String(p.axes[0]) : target === "py" ? `(${p.axes.join(", ")})` : `[${p.axes.join(", ")}]`;
    out.push(`axis=${axes}`);
  }
  if (p.keepdims) out.push(`keepdims=${target === "py" ? "True" : "true"}`);
  return out;
}

/** `sum(x, axis=1, keepdims=True)` by name: the reduced axis (all of them without `axis=`) and keepdims. */
function reduceCall(name: string): TensorCall<ReduceParams> {
  return {
    keywords: REDUCE_KEYWORDS,
    params: (kw, [x]) => ({ axes: normalizeAxes(kw.axis as number | undefined, x!, name), keepdims: kw.keepdims === true }),
  };
}

/** The output (or its cotangent) with the reduced axes put back as size 1, so it broadcasts against x. */
export function keepDims<T>(o: TensorAlgebra<T>, v: T, xShape: Shape, p: ReduceParams): T {
  return p.keepdims ? v : o.reshape(v, { shape: reducedShape(xShape, p.axes, true) });
}

/** Where x attains the max (or min), divided by the number of ties: the weights of the gradient. */
function tieWeights<T>(o: TensorAlgebra<T>, x: T, y: T, p: ReduceParams): T {
  const mask = o.eq(x, keepDims(o, y, o.shape(x), p));
  return o.div(mask, o.sum(mask, { axes: p.axes, keepdims: true }));
}

function extremum(name: "amax" | "amin", doc: string): TensorOp<"amax" | "amin"> {
  return {
    name, kind: "reduce", arity: 1, doc, nondiff: false,
    shape: reduceShape(name, true),
    // x̄ = ḡ · [x = y] / #ties (ties split evenly)
    vjp: (o, g, [x], y, _needs, p) => [o.mul(tieWeights(o, x!, y, p), keepDims(o, g, o.shape(x!), p))],
    // dy = Σ dx · [x = y] / #ties
    jvp: (o, [dx], [x], y, p) => (dx ? o.sum(o.mul(dx, tieWeights(o, x!, y, p)), p) : null),
    batch: (o, [x], _b, p) => o[name](x!, { axes: shiftAxes(p.axes), keepdims: p.keepdims }),
    print: { kind: "call", name: { board: name === "amax" ? "max" : "min", py: `np.${name}`, ts: name } },
    printParams: (p, target) => printReduceParams(p, target),
    call: reduceCall(name),
  };
}

export const sum = defineTensorOp({
  name: "sum", kind: "reduce", arity: 1, nondiff: false,
  doc: "Σ x over the given axes",
  shape: reduceShape("sum"),
  // x̄ = broadcast(ḡ) to x's shape (d Σx = Σ dx)
  vjp: (o, g, [x], _y, _needs, p) => [o.broadcastTo(keepDims(o, g, o.shape(x!), p), { shape: o.shape(x!) })],
  // dy = Σ dx
  jvp: linearJvp("sum"),
  batch: (o, [x], _b, p) => o.sum(x!, { axes: shiftAxes(p.axes), keepdims: p.keepdims }),
  print: { kind: "call", name: { board: "sum", py: "np.sum", ts: "sum" } },
  printParams: (p, target) => printReduceParams(p, target),
  call: reduceCall("sum"),
});

export const amax = defineTensorOp(extremum("amax", "max of x over the given axes (gradient split evenly at ties)") as TensorOp<"amax">);
export const amin = defineTensorOp(extremum("amin", "min of x over the given axes (gradient split evenly at ties)") as TensorOp<"amin">);

/** The reduction entries. */
export const reduceOps = { sum, amax, amin } as const;
