/**
 * argmax/argmin along one axis: the position of the first maximum (minimum), as PyTorch; a NaN counts as the
 * extremum (its first position), as in PyTorch. Primitives: a kernel of one pass per row. Their results are
 * positions, not functions of the values, so they take no gradient: the input is a non-differentiable input
 * (`nondiffInputs`), the result never requires grad, and a graph through it treats it as a constant.
 *
 * The positions are numbers of the input's dtype (the tensors have no integer dtype; float32 holds every position
 * below 2²⁴ exactly), ready for `gather`, comparisons with labels, or `toArray()`.
 */
import { ShapeError } from "../core/errors.js";
import { defineTensorOp, type AxisParams, type TensorOp } from "./op.js";
import { formatShape, reducedShape, type Shape } from "./shape.js";

function argShape(name: string) {
  return ([x]: readonly Shape[], { axis, keepdims }: AxisParams): Shape => {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x!.length) throw new ShapeError(`${name}: axis ${axis} is out of range for shape ${formatShape(x!)}`);
    if (x![axis] === 0) throw new ShapeError(`${name}: cannot take the ${name} of an empty axis of shape ${formatShape(x!)}`);
    return reducedShape(x!, [axis], keepdims);
  };
}

function argExtremum(name: "argmax" | "argmin"): TensorOp<"argmax" | "argmin"> {
  return {
    name, kind: "index", arity: 1, nondiff: false, nondiffInputs: [0],
    doc: `the position of the first ${name === "argmax" ? "maximum" : "minimum"} along an axis (no gradient)`,
    shape: argShape(name),
    // positions are piecewise constant: no gradient flows (the sweeps never ask: the input is non-differentiable)
    vjp: () => [null],
    jvp: () => null,
    batch: (o, [x], _b, p) => o[name](x!, { ...p, axis: p.axis + 1 }),
    print: { kind: "call", name: { board: name, py: `np.${name}`, ts: name } },
    printParams: (p, target) => [`axis=${p.axis}`, ...(p.keepdims ? [`keepdims=${target === "py" ? "True" : "true"}`] : [])],
  };
}

export const argmax = defineTensorOp(argExtremum("argmax") as TensorOp<"argmax">);
export const argmin = defineTensorOp(argExtremum("argmin") as TensorOp<"argmin">);

/** The argmax/argmin entries. */
export const argOps = { argmax, argmin } as const;
