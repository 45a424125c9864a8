/**
 * The lowering of gradgraph's primitives to standard ONNX operators (opset 17), one op at a time:
 *
 * - an elementwise op, or a fused elementwise kernel, is an ALU expression (gradgraph/ops' `AluNode` DAG, traced
 *   from the op table's `lower`): {@link lowerAlu} writes one ONNX node per instruction (comparisons give ONNX
 *   booleans, `select` is `Where`, a 1/0 select is a `Cast` of the boolean, `log1p` is `Log(1 + x)`), so no
 *   elementwise op needs lowering code of its own;
 * - every tensor primitive has an entry in {@link tensorLowerings}, typed by its parameters (`ParamsOf<K>`): tsc
 *   rejects a primitive without one.
 *
 * An op that has no ONNX form (a custom function, an op from elsewhere) is an {@link OnnxError} naming it.
 */
import {
  broadcastShapes, elementwiseOps, isMask, sameShape, schedule, traceAlu,
  type AluNode, type AluOp, type DType, type ElementwiseName, type ParamsOf, type Shape, type TensorOpName,
} from "gradgraph/ops";
import { attr, GraphBuilder, onnxType, tensorProto, type OnnxValue } from "./builder.js";
import { OnnxError } from "./errors.js";
import { DataType } from "./proto.js";

/** What an op's result must be: its shape and dtype. */
export interface OutInfo {
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * A tensor primitive's lowering: its inputs' values and its parameters to the name of its result. `index` (gather,
 * scatterAdd): an int64 value of the graph holding the indices, when they are not the constant in the parameters.
 */
export type TensorLowering<K extends TensorOpName> = (b: GraphBuilder, xs: readonly OnnxValue[], params: ParamsOf<K>, out: OutInfo, index?: string) => string;

// ---------------------------------------------------------------------------------------------------------
// Elementwise: the ALU, instruction by instruction
// ---------------------------------------------------------------------------------------------------------

const BINARY: Partial<Record<AluOp, string>> = { add: "Add", sub: "Sub", mul: "Mul", div: "Div", pow: "Pow" };
const COMPARE: Partial<Record<AluOp, string>> = { gt: "Greater", ge: "GreaterOrEqual", lt: "Less", le: "LessOrEqual", eq: "Equal" };
const UNARY: Partial<Record<AluOp, string>> = { neg: "Neg", abs: "Abs", sqrt: "Sqrt", exp: "Exp", log: "Log", tanh: "Tanh", sin: "Sin", cos: "Cos" };

const isConst = (n: AluNode, c: number): boolean => n.op === "const" && n.value === c;

/**
 * Writes an ALU expression (an elementwise op's lowering, or a fused kernel) as ONNX nodes on the inputs `xs`, in
 * the dtype `out.dtype` (inputs of another dtype are cast); the result is expanded to `out.shape` when the
 * expression's inputs broadcast to less (a kernel that reads none of them, or not the largest).
 */
export function lowerAlu(b: GraphBuilder, root: AluNode, xs: readonly OnnxValue[], out: OutInfo): string {
  const { dtype } = out;
  const done = new Map<AluNode, string>();
  const BOOL = [attr.int("to", DataType.BOOL)];
  // constants become initializers when an instruction reads them (a 1/0 select reads none)
  const named = (n: AluNode): string => (n.op === "const" ? b.scalar(n.value, dtype) : done.get(n)!);
  const value = (n: AluNode): string => (isMask(n) ? b.node("Cast", [named(n)], [attr.int("to", onnxType(dtype))]) : named(n));
  const mask = (n: AluNode): string => (isMask(n) ? named(n) : b.node("Cast", [named(n)], BOOL));
  const reads = new Set<number>();
  for (const n of schedule(root)) {
    if (n.op === "const") continue;
    let name: string;
    if (n.op === "input") {
      const x = xs[n.index];
      if (x === undefined) throw new OnnxError(`an elementwise kernel reads input ${n.index} of ${xs.length}`);
      reads.add(n.index);
      name = b.cast(x, dtype);
    } else name = instruction(b, n.op, n.args, { value, mask, dtype });
    done.set(n, name);
  }
  const result = value(root);
  const shape = broadcastShapes([...reads].map((i) => xs[i]!.shape), "onnx");
  return sameShape(shape, out.shape) ? result : b.node("Expand", [result, b.int64s(out.shape)]);
}

interface Operands {
  value(n: AluNode): string;
  mask(n: AluNode): string;
  dtype: DType;
}

function instruction(b: GraphBuilder, op: AluOp, args: readonly AluNode[], { value, mask, dtype }: Operands): string {
  const v = args.map((a) => () => value(a));
  const simple = BINARY[op] ?? COMPARE[op] ?? UNARY[op];
  if (simple !== undefined) return b.node(simple, v.map((f) => f()));
  switch (op) {
    case "ne":
      return b.node("Not", [b.node("Equal", [v[0]!(), v[1]!()])]);
    case "select": {
      const [m, x, y] = args as [AluNode, AluNode, AluNode];
      // m ? 0 : x with m = (x ≤ 0): ONNX's Relu (which keeps NaN, as this select does; −0 stays −0 there)
      if (m.op === "le" && "args" in m && m.args[0] === y && isConst(m.args[1]!, 0) && isConst(x, 0)) return b.node("Relu", [value(y)]);
      // m ? 1 : 0 is the mask as a number; m ? 0 : 1 its negation
      if (isConst(x, 1) && isConst(y, 0)) return b.node("Cast", [mask(m)], [attr.int("to", onnxType(dtype))]);
      if (isConst(x, 0) && isConst(y, 1)) return b.node("Cast", [b.node("Not", [mask(m)])], [attr.int("to", onnxType(dtype))]);
      return b.node("Where", [mask(m), value(x), value(y)]);
    }
    case "round":
      // where one op's result would be stored inside a fused kernel: ONNX Runtime computes in the tensor's
      // type already (float32 in float32), so nothing to do
      return v[0]!();
    case "log1p": {
      // ONNX has no log1p; ln(1 + x) loses small x (1 + 1e-10 is 1). Kahan's form keeps them: with u = 1 + x and
      // d = u − 1, ln(u)·x/d (x itself where d = 0; ln(u) where d = x, which covers x = ∞)
      const x = v[0]!(), u = b.node("Add", [x, b.scalar(1, dtype)]), d = b.node("Sub", [u, b.scalar(1, dtype)]);
      const ratio = b.node("Where", [b.node("Equal", [d, x]), b.scalar(1, dtype), b.node("Div", [x, d])]);
      return b.node("Where", [b.node("Equal", [d, b.scalar(0, dtype)]), x, b.node("Mul", [b.node("Log", [u]), ratio])]);
    }
    case "expm1": {
      // ONNX has no expm1; e^x − 1 loses small x. Kahan's form: with u = e^x, (u − 1)·x/ln(u) (x where u = 1,
      // −1 where u − 1 = −1, ∞ where u = ∞)
      const x = v[0]!(), u = b.node("Exp", [x]), um1 = b.node("Sub", [u, b.scalar(1, dtype)]);
      const big = b.node("Where", [b.node("Equal", [u, b.scalar(Infinity, dtype)]), u, b.node("Div", [b.node("Mul", [um1, x]), b.node("Log", [u])])]);
      const low = b.node("Where", [b.node("Equal", [um1, b.scalar(-1, dtype)]), b.scalar(-1, dtype), big]);
      return b.node("Where", [b.node("Equal", [u, b.scalar(1, dtype)]), x, low]);
    }
    default:
      throw new OnnxError(`the ALU instruction ${op} has no ONNX form`);
  }
}

/** An elementwise op of the table, lowered through its ALU definition. */
export function lowerElementwise(b: GraphBuilder, name: ElementwiseName, xs: readonly OnnxValue[], out: OutInfo): string {
  const op = elementwiseOps[name];
  const t = traceAlu();
  return lowerAlu(b, op.lower(t, xs.map((_, i) => t.input(i))), xs, out);
}

// ---------------------------------------------------------------------------------------------------------
// Tensor primitives
// ---------------------------------------------------------------------------------------------------------

/** The inputs' names, each cast to `dtype`. */
const as = (b: GraphBuilder, xs: readonly OnnxValue[], dtype: DType): string[] => xs.map((x) => b.cast(x, dtype));

/** Booleans: where `v` is NaN (x ≠ x: the operators importOnnx reads, where IsNaN is not one of them). */
const nanMask = (b: GraphBuilder, v: string): string => b.node("Not", [b.node("Equal", [v, v])]);

/** 1 where `v` is NaN, else 0, reduced with ReduceMax over `axes`, as booleans: "the window holds a NaN". */
function anyNaN(b: GraphBuilder, v: string, dtype: DType, axes: readonly number[], keepdims: boolean): string {
  const nan = b.node("Cast", [nanMask(b, v)], [attr.int("to", onnxType(dtype))]);
  return b.node("Cast", [b.node("ReduceMax", [nan], [attr.ints("axes", axes), attr.int("keepdims", keepdims ? 1 : 0)])], [attr.int("to", DataType.BOOL)]);
}

function reduce(opType: "ReduceMax" | "ReduceMin"): TensorLowering<"amax" | "amin"> {
  // opset 17: ReduceMax/ReduceMin take their axes as an attribute (an input from opset 18). ONNX Runtime's skip a
  // NaN; gradgraph's (NumPy's, PyTorch's) give NaN: a NaN in the window makes the result NaN.
  return (b, [x], { axes, keepdims }, out) => {
    const v = b.cast(x!, out.dtype);
    if (axes.length === 0) return b.node("Identity", [v]);
    const m = b.node(opType, [v], [attr.ints("axes", axes), attr.int("keepdims", keepdims ? 1 : 0)]);
    return b.node("Where", [anyNaN(b, v, out.dtype, axes, keepdims), b.scalar(NaN, out.dtype), m]);
  };
}

function argExtremum(opType: "ArgMax" | "ArgMin"): TensorLowering<"argmax" | "argmin"> {
  // ONNX's positions are int64: cast to the result's dtype (the first extremum, as gradgraph's). A NaN counts as
  // the extremum (gradgraph's rule, PyTorch's): where a row holds one, the position of its first NaN.
  return (b, [x], { axis, keepdims }, out) => {
    const attrs = [attr.int("axis", axis), attr.int("keepdims", keepdims ? 1 : 0), attr.int("select_last_index", 0)];
    const firstNaN = b.node("ArgMax", [b.node("Cast", [nanMask(b, x!.name)], [attr.int("to", onnxType(x!.dtype))])], attrs);
    const pos = b.node("Where", [anyNaN(b, x!.name, x!.dtype, [axis], keepdims), firstNaN, b.node(opType, [x!.name], attrs)]);
    return b.node("Cast", [pos], [attr.int("to", onnxType(out.dtype))]);
  };
}

/** `x` with `step − 1` zeros between its elements along `axis` (length (n − 1)·step + 1): reshape, pad, reshape, slice. */
function dilate(b: GraphBuilder, x: string, shape: Shape, axis: number, step: number, dtype: DType): string {
  const n = shape[axis]!;
  const split = [...shape.slice(0, axis), n, 1, ...shape.slice(axis + 1)];
  const pads = new Array<number>(2 * split.length).fill(0);
  pads[split.length + axis + 1] = step - 1;
  const padded = b.node("Pad", [b.node("Reshape", [x, b.int64s(split)]), b.int64s(pads), b.scalar(0, dtype)]);
  const joined = b.node("Reshape", [padded, b.int64s([...shape.slice(0, axis), n * step, ...shape.slice(axis + 1)])]);
  return b.node("Slice", [joined, b.int64s([0]), b.int64s([(n - 1) * step + 1]), b.int64s([axis])]);
}

/** A 0/1 matrix [rows, k·n] with a 1 at (i·n + p, p·stride + i·dilation) transposed as asked: im2col's index map as a product. */
function windowMatrix(b: GraphBuilder, dtype: DType, size: number, k: number, n: number, stride: number, dilation: number, transposed: boolean): string {
  const m = new Float64Array(size * k * n);
  for (let i = 0; i < k; i++) {
    for (let p = 0; p < n; p++) {
      const r = p * stride + i * dilation, c = i * n + p;
      m[transposed ? c * size + r : r * k * n + c] = 1;
    }
  }
  return b.tensor(dtype, transposed ? [k * n, size] : [size, k * n], m);
}

/** Every tensor primitive's lowering. */
export const tensorLowerings: { readonly [K in TensorOpName]: TensorLowering<K> } = {
  sum: (b, [x], { axes, keepdims }, out) =>
    axes.length === 0 ? b.node("Identity", as(b, [x!], out.dtype)) : b.node("ReduceSum", [b.cast(x!, out.dtype), b.int64s(axes)], [attr.int("keepdims", keepdims ? 1 : 0)]),
  amax: reduce("ReduceMax"),
  amin: reduce("ReduceMin"),
  // allowzero: a 0 in the shape is a size 0, not "copy this axis"
  reshape: (b, [x], { shape }, out) => b.node("Reshape", [b.cast(x!, out.dtype), b.int64s(shape)], [attr.int("allowzero", 1)]),
  permute: (b, [x], { perm }, out) => b.node("Transpose", as(b, [x!], out.dtype), [attr.ints("perm", perm)]),
  broadcastTo: (b, [x], { shape }, out) => b.node("Expand", [b.cast(x!, out.dtype), b.int64s(shape)]),
  slice: (b, [x], { starts, ends, steps }, out) =>
    starts.length === 0
      ? b.node("Identity", as(b, [x!], out.dtype))
      : b.node("Slice", [b.cast(x!, out.dtype), b.int64s(starts), b.int64s(ends), b.int64s(starts.map((_, i) => i)), b.int64s(steps)]),
  pad: (b, [x], { shape, starts, steps }, out) => {
    let y = b.cast(x!, out.dtype);
    const cur = [...x!.shape];
    steps.forEach((s, a) => {
      if (s > 1 && cur[a]! > 1) {
        y = dilate(b, y, cur, a, s, out.dtype);
        cur[a] = (cur[a]! - 1) * s + 1;
      }
    });
    if (shape.length === 0) return b.node("Identity", [y]);
    const pads = [...starts, ...shape.map((n, a) => n - starts[a]! - cur[a]!)];
    return b.node("Pad", [y, b.int64s(pads), b.scalar(0, out.dtype)]);
  },
  concat: (b, xs, { axis }, out) => b.node("Concat", as(b, xs, out.dtype), [attr.int("axis", axis)]),
  gather: (b, [x], { axis, index }, out, live) => b.node("GatherElements", [b.cast(x!, out.dtype), live ?? b.int64Tensor(index.shape, index.data)], [attr.int("axis", axis)]),
  scatterAdd: (b, [x], { axis, index, shape }, out, live) => {
    const zeros = b.node("ConstantOfShape", [b.int64s(shape)], [attr.tensor("value", tensorProto("", out.dtype, [1], [0]))]);
    return b.node("ScatterElements", [zeros, live ?? b.int64Tensor(index.shape, index.data), b.cast(x!, out.dtype)], [attr.int("axis", axis), attr.string("reduction", "add")]);
  },
  matmul: (b, xs, _p, out) => b.node("MatMul", as(b, xs, out.dtype)),
  where: (b, [c, x, y], _p, out) => b.node("Where", [b.node("Cast", [c!.name], [attr.int("to", DataType.BOOL)]), ...as(b, [x!, y!], out.dtype)]),
  cast: (b, [x], { dtype }) => b.node("Cast", [x!.name], [attr.int("to", onnxType(dtype))]),
  im2col: (b, [x], p, out) => {
    // cols[c,i,j,n,p,q] = xpad[n, c, p·sh + i·dh, q·sw + j·dw]: two Gathers with [k, out] index tables, then a transpose
    const [, , , , ho, wo] = out.shape as number[];
    const [ph, pw] = p.padding;
    let y = b.cast(x!, out.dtype);
    if (ph > 0 || pw > 0) y = b.node("Pad", [y, b.int64s([0, 0, ph, pw, 0, 0, ph, pw]), b.scalar(p.padValue, out.dtype)]);
    const table = (k: number, n: number, s: number, d: number) => b.int64Tensor([k, n], Array.from({ length: k * n }, (_, t) => (t % n) * s + Math.floor(t / n) * d));
    y = b.node("Gather", [y, table(p.kernel[0], ho!, p.stride[0], p.dilation[0])], [attr.int("axis", 2)]); // [N, C, kh, Ho, Wp]
    y = b.node("Gather", [y, table(p.kernel[1], wo!, p.stride[1], p.dilation[1])], [attr.int("axis", 4)]); // [N, C, kh, Ho, kw, Wo]
    return b.node("Transpose", [y], [attr.ints("perm", [1, 2, 4, 0, 3, 5])]);
  },
  col2im: (b, [cols], p, out) => {
    // the transpose of im2col's index map, as two products with 0/1 matrices: A_h [Hp, kh·Ho] · X · A_wᵀ [kw·Wo, Wp]
    const [c, kh, kw, n, ho, wo] = cols!.shape as number[];
    const [, , h, w] = p.shape as number[];
    const [ph, pw] = p.padding;
    const hp = h! + 2 * ph, wp = w! + 2 * pw;
    const t = b.node("Transpose", [b.cast(cols!, out.dtype)], [attr.ints("perm", [3, 0, 1, 4, 2, 5])]); // [N, C, kh, Ho, kw, Wo]
    const x = b.node("Reshape", [t, b.int64s([n!, c!, kh! * ho!, kw! * wo!])]);
    const rows = b.node("MatMul", [windowMatrix(b, out.dtype, hp, kh!, ho!, p.stride[0], p.dilation[0], false), x]);
    const img = b.node("MatMul", [rows, windowMatrix(b, out.dtype, wp, kw!, wo!, p.stride[1], p.dilation[1], true)]);
    return ph === 0 && pw === 0 ? img : b.node("Slice", [img, b.int64s([ph, pw]), b.int64s([ph + h!, pw + w!]), b.int64s([2, 3])]);
  },
  cumsum: (b, [x], { axis, reverse }, out) => b.node("CumSum", [b.cast(x!, out.dtype), b.int64(axis)], [attr.int("reverse", reverse ? 1 : 0)]),
  argmax: argExtremum("ArgMax"),
  argmin: argExtremum("ArgMin"),
};

/**
 * One op of the table applied to `xs` with `params`, as ONNX nodes; returns the result's name (`index`: see
 * {@link TensorLowering}). A name that is not a primitive of the table (a custom function) is an OnnxError naming it.
 */
export function lowerOp(b: GraphBuilder, op: string, params: unknown, xs: readonly OnnxValue[], out: OutInfo, index?: string): string {
  if (Object.hasOwn(elementwiseOps, op)) return lowerElementwise(b, op as ElementwiseName, xs, out);
  if (Object.hasOwn(tensorLowerings, op)) return (tensorLowerings[op as TensorOpName] as TensorLowering<TensorOpName>)(b, xs, params as never, out, index);
  throw new OnnxError(`the op ${JSON.stringify(op)} has no ONNX form: ONNX export covers the primitives of gradgraph's op table (a custom function or an op from elsewhere cannot be exported)`);
}
