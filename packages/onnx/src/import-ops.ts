/**
 * What each ONNX operator means on gradgraph tensors, for `importOnnx`: one entry per op type, which reads the
 * node's attributes once (when the model is imported: an unknown or unsupported attribute is an error then) and
 * returns the function that runs the node on its input values, with gradgraph tensor ops, so gradients flow.
 * This file holds the table and the elementwise, shape, indexing and reduction ops; import-nn.ts the neural-network
 * ones; import-node.ts what both are written against (values, attributes, input readers).
 */
import { einsum, formatShape, fromTypedArray, full, onesLike, Tensor, where, zeros } from "gradgraph";
import { tensorOps } from "gradgraph/ops";
import { OnnxError } from "./errors.js";
import { activation, AveragePool, BatchNormalization, Conv, erf, Gelu, globalPool, LayerNormalization, LeakyRelu, MaxPool } from "./import-nn.js";
import { Attrs, axesOf, axisOf, checkSize, fail, floatIn, hostVal, intsFrom, intsIn, isFloat, kindOf, need, type OpCompiler, padWith, positionsIn, product, sameDtype, scalarIn, type Val } from "./import-node.js";


/** `x` taken at positions `idx` along `axis` (numpy's `take` with 1-D indices), differentiable. */
function take(x: Tensor, axis: number, idx: readonly number[]): Tensor {
  const shape = [...x.shape];
  const k = idx.length, inner = product(shape.slice(axis + 1)), outer = product(shape.slice(0, axis));
  shape[axis] = k;
  const index = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) index.fill(idx[j]!, (o * k + j) * inner, (o * k + j + 1) * inner);
  return x.gather(axis, fromTypedArray(index, shape));
}

/** Integer division truncating toward zero, and other int results computed on the host. */
function hostMap(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcast(a.shape, b.shape);
  const x = a.reshape([...Array<number>(shape.length - a.ndim).fill(1), ...a.shape]).broadcastTo(shape).toArray();
  const y = b.reshape([...Array<number>(shape.length - b.ndim).fill(1), ...b.shape]).broadcastTo(shape).toArray();
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!, y[i]!);
  return fromTypedArray(out, shape);
}

/** NumPy broadcasting of two shapes (the engine checks again, with its own message). */
function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The ops
// ---------------------------------------------------------------------------------------------------------------


const unary = (f: (t: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "X");
    return [{ t: f(x.t), kind: x.kind }];
  };
};

const arithmetic = (f: (a: Tensor, b: Tensor) => Tensor, onInts?: (x: number, y: number) => number): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const a = need(node, ins, 0, "A"), b = need(node, ins, 1, "B");
    if (a.kind === "bool" || b.kind === "bool") throw fail(node, `expected numbers, got ${a.kind} and ${b.kind}`);
    const [x, y, kind] = sameDtype(a, b);
    return [{ t: kind === "int" && onInts !== undefined ? hostMap(x, y, onInts) : f(x, y), kind }];
  };
};

const comparison = (f: (a: Tensor, b: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const [x, y] = sameDtype(need(node, ins, 0, "A"), need(node, ins, 1, "B"));
    return [{ t: f(x, y).detach().cast("float64"), kind: "bool" }];
  };
};

const logical = (f: (a: Tensor, b: Tensor) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    const a = need(node, ins, 0, "A"), b = need(node, ins, 1, "B");
    if (a.kind !== "bool" || b.kind !== "bool") throw fail(node, `expected two booleans, got ${a.kind} and ${b.kind}`);
    return [{ t: f(a.t, b.t), kind: "bool" }];
  };
};

/** Max, Min, Sum, Mean: any number of inputs, broadcast together. */
const variadic = (f: (a: Tensor, b: Tensor) => Tensor, finish?: (t: Tensor, n: number) => Tensor): OpCompiler => (node) => {
  new Attrs(node, []);
  return (ins) => {
    if (ins.length === 0) throw fail(node, "expected at least one input, got none");
    let acc = need(node, ins, 0, "data_0");
    for (let i = 1; i < ins.length; i++) {
      const [x, y, kind] = sameDtype(acc, need(node, ins, i, `data_${i}`));
      acc = { t: f(x, y), kind };
    }
    return [{ t: finish === undefined ? acc.t : finish(acc.t, ins.length), kind: acc.kind }];
  };
};

/** The reductions: axes from the attribute (older opsets) or the second input, keepdims, noop_with_empty_axes. */
const reduction = (f: (t: Tensor, axes: number[], keep: boolean) => Tensor, axesInputSince: number): OpCompiler => (node) => {
  const a = new Attrs(node, node.opset >= axesInputSince ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
  const keep = a.choice("keepdims", 1, [0, 1]) === 1;
  const noop = a.choice("noop_with_empty_axes", 0, [0, 1]) === 1;
  const attrAxes = a.ints("axes");
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", attrAxes) ?? [];
    if (given.length === 0 && noop) return [x];
    const axes = given.length === 0 ? x.t.shape.map((_, i) => i) : axesOf(node, given, x.t.ndim);
    return [{ t: f(x.t, axes, keep), kind: x.kind }];
  };
};

/** Softmax and LogSoftmax: over one axis (opset 13+), or over the axes from `axis` on, flattened (before 13). */
const softmaxLike = (f: (t: Tensor, axis: number) => Tensor): OpCompiler => (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", node.opset >= 13 ? -1 : 1);
  return (ins) => {
    const x = floatIn(node, ins, 0, "input");
    const ax = axisOf(node, axis, Math.max(x.t.ndim, 1));
    if (node.opset >= 13 || x.t.ndim === 0) return [{ t: f(x.t, ax), kind: x.kind }];
    const s = x.t.shape;
    const y = f(x.t.reshape(product(s.slice(0, ax)), product(s.slice(ax))), 1);
    return [{ t: y.reshape([...s]), kind: x.kind }];
  };
};


const Gemm: OpCompiler = (node) => {
  const a = new Attrs(node, ["alpha", "beta", "transA", "transB"]);
  const alpha = a.float("alpha", 1), beta = a.float("beta", 1);
  const transA = a.choice("transA", 0, [0, 1]) === 1, transB = a.choice("transB", 0, [0, 1]) === 1;
  return (ins) => {
    const A = floatIn(node, ins, 0, "A"), B = floatIn(node, ins, 1, "B"), C = ins[2];
    if (A.t.ndim !== 2 || B.t.ndim !== 2) throw fail(node, `expected 2-D A and B, got ${formatShape(A.t.shape)} and ${formatShape(B.t.shape)}`);
    let y = (transA ? A.t.T : A.t).matmul(transB ? B.t.T : B.t);
    if (alpha !== 1) y = y.mul(alpha);
    if (C !== undefined && beta !== 0) y = y.add(beta === 1 ? C.t : C.t.mul(beta));
    return [{ t: y, kind: A.kind }];
  };
};

const MatMul: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const A = floatIn(node, ins, 0, "A"), B = floatIn(node, ins, 1, "B");
    return [{ t: A.t.matmul(B.t), kind: A.kind }];
  };
};

/** A reshape target: 0 copies the input's size (unless allowzero), -1 is inferred. */
const Reshape: OpCompiler = (node) => {
  const a = new Attrs(node, ["allowzero"]);
  const allowZero = a.choice("allowzero", 0, [0, 1]) === 1;
  return (ins) => {
    const x = need(node, ins, 0, "data"), shape = intsIn(node, ins, 1, "shape");
    const target = shape.map((d, i) => (d === 0 && !allowZero ? (x.t.shape[i] ?? 0) : d));
    const known = target.filter((d) => d !== -1);
    const free = target.length - known.length;
    if (free > 1 || known.some((d) => d < 0) || (free === 0 && product(known) !== x.t.size) || (free === 1 && (product(known) === 0 || x.t.size % product(known) !== 0))) {
      throw fail(node, `cannot reshape ${formatShape(x.t.shape)} (${x.t.size} elements) to ${formatShape(shape)}`);
    }
    return [{ t: x.t.reshape(target), kind: x.kind }];
  };
};

const Flatten: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 1);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    const ax = axis < 0 ? axis + x.t.ndim : axis;
    if (ax < 0 || ax > x.t.ndim) throw fail(node, `axis ${axis} is out of range for shape ${formatShape(x.t.shape)}`);
    const s = x.t.shape;
    return [{ t: x.t.reshape(product(s.slice(0, ax)), product(s.slice(ax))), kind: x.kind }];
  };
};

const Transpose: OpCompiler = (node) => {
  const a = new Attrs(node, ["perm"]);
  const perm = a.ints("perm");
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const p = perm ?? x.t.shape.map((_, i) => x.t.ndim - 1 - i);
    if (p.length !== x.t.ndim || [...p].sort((u, v) => u - v).some((v, i) => v !== i)) throw fail(node, `attribute perm=${JSON.stringify(p)} is not a permutation of the ${x.t.ndim} axes of ${formatShape(x.t.shape)}`);
    return [{ t: x.t.permute(p), kind: x.kind }];
  };
};

const Expand: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = need(node, ins, 0, "input"), shape = intsIn(node, ins, 1, "shape");
    const n = Math.max(shape.length, x.t.ndim);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = x.t.shape[x.t.ndim - n + i] ?? 1, s = shape[shape.length - n + i] ?? 1;
      if (d !== s && d !== 1 && s !== 1) throw fail(node, `cannot expand ${formatShape(x.t.shape)} to ${formatShape(shape)}`);
      out.push(d === 1 ? s : d);
    }
    checkSize(node, out);
    return [{ t: x.t.reshape([...Array<number>(n - x.t.ndim).fill(1), ...x.t.shape]).broadcastTo(out), kind: x.kind }];
  };
};

/** Positions start, start+step, … before end, clamped as ONNX's Slice clamps them (negative steps too). */
function slicePositions(dim: number, start: number, end: number, step: number): number[] {
  const norm = (v: number) => (v < 0 ? v + dim : v);
  let s = norm(start), e = norm(end);
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

const Slice: OpCompiler = (node) => {
  const old = node.opset < 10;
  const a = new Attrs(node, old ? ["starts", "ends", "axes"] : []);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const starts = old ? (a.ints("starts") ?? []) : intsIn(node, ins, 1, "starts");
    const ends = old ? (a.ints("ends") ?? []) : intsIn(node, ins, 2, "ends");
    const axesGiven = old ? a.ints("axes") : intsFrom(node, ins, 3, "axes", undefined);
    const steps = old ? undefined : intsFrom(node, ins, 4, "steps", undefined);
    if (starts.length !== ends.length) throw fail(node, `starts ${JSON.stringify(starts)} and ends ${JSON.stringify(ends)} differ in length`);
    const axes = axesOf(node, axesGiven ?? starts.map((_, i) => i), x.t.ndim);
    if (axes.length !== starts.length || (steps !== undefined && steps.length !== starts.length)) throw fail(node, `starts, ends, axes and steps must have the same length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps?.length ?? "-"}`);
    let y = x.t;
    axes.forEach((ax, i) => {
      const dim = y.shape[ax]!, step = steps?.[i] ?? 1;
      if (step === 0) throw fail(node, "a step of 0 is not allowed");
      const start = starts[i]!, end = ends[i]!;
      if (step > 0) {
        const pos = slicePositions(dim, start, end, step);
        const spec = y.shape.map((): [number, number, number] | null => null);
        spec[ax] = pos.length === 0 ? [0, 0, 1] : [pos[0]!, pos[pos.length - 1]! + 1, step];
        y = y.slice(...spec);
      } else {
        y = take(y, ax, slicePositions(dim, start, end, step));
      }
    });
    return [{ t: y, kind: x.kind }];
  };
};

const Concat: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  if (!a.has("axis")) throw fail(node, "attribute axis is required, got none");
  const axis = a.int("axis", 0);
  return (ins) => {
    const vals = ins.map((_, i) => need(node, ins, i, `inputs[${i}]`));
    if (vals.length === 0) throw fail(node, "expected at least one input, got none");
    const kind = vals[0]!.kind;
    if (vals.some((v) => v.kind !== kind)) throw fail(node, `inputs of different types: ${vals.map((v) => v.kind).join(", ")}`);
    const ax = axisOf(node, axis, vals[0]!.t.ndim);
    const [first, ...rest] = vals.map((v) => v.t);
    return [{ t: first!.concat(rest, ax), kind }];
  };
};

const Gather: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "data"), idx = need(node, ins, 1, "indices");
    const ax = axisOf(node, axis, x.t.ndim);
    const y = take(x.t, ax, Array.from(positionsIn(node, idx, x.t, ax).toArray()));
    const s = x.t.shape;
    return [{ t: y.reshape([...s.slice(0, ax), ...idx.t.shape, ...s.slice(ax + 1)]), kind: x.kind }];
  };
};

/** Squeeze and Unsqueeze: axes as an attribute before opset 13, as the second input from 13 on. */
const Squeeze: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? [] : ["axes"]);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", a.ints("axes"));
    const axes = given === undefined ? x.t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axesOf(node, given, x.t.ndim);
    for (const ax of axes) if (x.t.shape[ax] !== 1) throw fail(node, `cannot squeeze axis ${ax} of shape ${formatShape(x.t.shape)}: its size is not 1`);
    return [{ t: x.t.reshape(x.t.shape.filter((_, i) => !axes.includes(i))), kind: x.kind }];
  };
};

const Unsqueeze: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? [] : ["axes"]);
  return (ins) => {
    const x = need(node, ins, 0, "data");
    const given = intsFrom(node, ins, 1, "axes", a.ints("axes"));
    if (given === undefined) throw fail(node, "axes are required, got none");
    const rank = x.t.ndim + given.length;
    const axes = axesOf(node, given, rank);
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.t.shape[k++]!);
    return [{ t: x.t.reshape(shape), kind: x.kind }];
  };
};

const Split: OpCompiler = (node) => {
  const a = new Attrs(node, node.opset >= 13 ? ["axis", "num_outputs"] : ["axis", "split"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    const ax = axisOf(node, axis, x.t.ndim);
    const dim = x.t.shape[ax]!, n = node.outputs.length;
    const given = intsFrom(node, ins, 1, "split", a.ints("split"));
    const sizes = given ?? Array.from({ length: n }, (_, i) => Math.min(Math.ceil(dim / n), Math.max(0, dim - i * Math.ceil(dim / n))));
    if (sizes.length !== n || sizes.reduce((s, v) => s + v, 0) !== dim) throw fail(node, `split sizes ${JSON.stringify(sizes)} do not cut axis ${ax} of size ${dim} into ${n} outputs`);
    return x.t.split(sizes, ax).map((t) => ({ t, kind: x.kind }));
  };
};

const Shape: OpCompiler = (node) => {
  const a = new Attrs(node, ["start", "end"]);
  const start = a.int("start", 0), end = a.has("end") ? a.int("end", 0) : undefined;
  return (ins) => {
    const s = need(node, ins, 0, "data").t.shape;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
    const dims = s.slice(clamp(start), end === undefined ? s.length : clamp(end));
    return [hostVal(dims, [dims.length])];
  };
};

const Size: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => [hostVal([need(node, ins, 0, "data").t.size], [])];
};

const Constant: OpCompiler = (node) => {
  const a = new Attrs(node, ["value", "value_float", "value_floats", "value_int", "value_ints"]);
  const given = [...node.attrs.keys()];
  if (given.length !== 1) throw fail(node, `expected exactly one value attribute, got ${given.length === 0 ? "none" : given.join(", ")}`);
  const v: Val =
    a.tensor("value") ??
    (a.has("value_float") ? { t: fromTypedArray(Float32Array.of(a.float("value_float", 0)), []), kind: "float32" }
      : a.has("value_floats") ? { t: fromTypedArray(Float32Array.from(a.floats("value_floats")!), [a.floats("value_floats")!.length]), kind: "float32" }
      : a.has("value_int") ? hostVal([a.int("value_int", 0)], [])
      : hostVal(a.ints("value_ints")!, [a.ints("value_ints")!.length]));
  return () => [v];
};

const ConstantOfShape: OpCompiler = (node) => {
  const a = new Attrs(node, ["value"]);
  const value = a.tensor("value") ?? { t: fromTypedArray(Float32Array.of(0), [1]), kind: "float32" as const };
  if (value.t.size !== 1) throw fail(node, `attribute value: expected one element, got shape ${formatShape(value.t.shape)}`);
  const v = value.t.toArray()[0]!;
  return (ins) => {
    const shape = intsIn(node, ins, 0, "input");
    checkSize(node, shape);
    return [{ t: full(shape, v, { dtype: value.kind === "float32" ? "float32" : "float64" }), kind: value.kind }];
  };
};


const Cast: OpCompiler = (node) => {
  const a = new Attrs(node, ["to", "saturate"]);
  const to = a.int("to", 0);
  const kind = kindOf(to);
  if (kind === undefined) throw fail(node, `attribute to=${to}: casting to this element type is not supported (supported: float, double, bool and integers)`);
  return (ins) => {
    const x = need(node, ins, 0, "input");
    if (kind === x.kind) return [x];
    if (isFloat(kind)) return [{ t: x.t.cast(kind), kind }];
    if (kind === "bool") return [{ t: x.t.ne(0).detach().cast("float64"), kind }];
    return [{ t: fromTypedArray(Float64Array.from(x.t.toArray(), Math.trunc), [...x.t.shape]), kind }];
  };
};

const Where: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const c = need(node, ins, 0, "condition");
    if (c.kind !== "bool") throw fail(node, `input condition: expected a boolean tensor, got ${c.kind}`);
    const [x, y, kind] = sameDtype(need(node, ins, 1, "X"), need(node, ins, 2, "Y"));
    return [{ t: where(c.t.cast(x.dtype), x, y), kind }];
  };
};

const Clip: OpCompiler = (node) => {
  const old = node.opset < 11;
  const a = new Attrs(node, old ? ["min", "max"] : []);
  return (ins) => {
    const x = floatIn(node, ins, 0, "input");
    const lo = old ? (a.has("min") ? a.float("min", 0) : undefined) : scalarIn(node, ins, 1, "min");
    const hi = old ? (a.has("max") ? a.float("max", 0) : undefined) : scalarIn(node, ins, 2, "max");
    return [{ t: x.t.clamp(lo ?? null, hi ?? null), kind: x.kind }];
  };
};

const identity: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => [need(node, ins, 0, "input")];
};

const Dropout: OpCompiler = (node) => {
  new Attrs(node, ["seed", "ratio"]);
  if (node.outputs.length > 1 && node.outputs[1] !== "") throw fail(node, "output mask is not supported (only output)");
  return (ins) => {
    const training = ins[2];
    if (training !== undefined && training.t.toArray()[0] !== 0) throw fail(node, "training_mode=true is not supported (inference only)");
    return [need(node, ins, 0, "data")];
  };
};


const Pad: OpCompiler = (node) => {
  const a = new Attrs(node, ["mode"]);
  const mode = a.string("mode", "constant");
  if (mode !== "constant") throw fail(node, `attribute mode=${mode} is not supported (only constant)`);
  if (node.opset < 11) throw fail(node, `Pad before opset 11 is not supported (the model's opset is ${node.opset})`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const pads = intsIn(node, ins, 1, "pads");
    const value = scalarIn(node, ins, 2, "constant_value") ?? 0;
    const axes = axesOf(node, intsFrom(node, ins, 3, "axes", undefined) ?? x.t.shape.map((_, i) => i), x.t.ndim);
    if (pads.length !== 2 * axes.length) throw fail(node, `pads ${JSON.stringify(pads)}: expected ${2 * axes.length} values (begin and end of each axis)`);
    // F.pad's flat spec: last axis first, [before, after] each; negative widths crop.
    const flat = Array<number>(2 * x.t.ndim).fill(0);
    axes.forEach((ax, i) => {
      const at = 2 * (x.t.ndim - 1 - ax);
      flat[at] = pads[i]!;
      flat[at + 1] = pads[i + axes.length]!;
    });
    return [{ t: padWith(node, x.t, flat, value), kind: x.kind }];
  };
};

const not: OpCompiler = (node) => {
  new Attrs(node, []);
  return (ins) => {
    const x = need(node, ins, 0, "X");
    if (x.kind !== "bool") throw fail(node, `expected a boolean tensor, got ${x.kind}`);
    return [{ t: x.t.eq(0).cast("float64"), kind: "bool" }];
  };
};


const ArgExtremum = (largest: boolean): OpCompiler => (node) => {
  const a = new Attrs(node, ["axis", "keepdims", "select_last_index"]);
  const axis = a.int("axis", 0), keep = a.choice("keepdims", 1, [0, 1]) === 1;
  a.choice("select_last_index", 0, [0]);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data");
    const ax = axisOf(node, axis, x.t.ndim);
    const at = largest ? x.t.argmax(ax, keep) : x.t.argmin(ax, keep);
    return [{ t: at.detach().cast("float64"), kind: "int" }];
  };
};

const CumSum: OpCompiler = (node) => {
  const a = new Attrs(node, ["exclusive", "reverse"]);
  const exclusive = a.choice("exclusive", 0, [0, 1]) === 1, reverse = a.choice("reverse", 0, [0, 1]) === 1;
  return (ins) => {
    const x = floatIn(node, ins, 0, "x");
    const [axis] = intsIn(node, ins, 1, "axis");
    if (axis === undefined) throw fail(node, "input axis: expected one integer, got none");
    const ax = axisOf(node, axis, x.t.ndim);
    let y = Tensor.apply(tensorOps.cumsum, [x.t], { axis: ax, reverse });
    if (exclusive) {
      // Each sum without its own element: the inclusive sums shifted by one along the axis, a zero coming in.
      const n = x.t.shape[ax]!, zeroShape = [...x.t.shape];
      zeroShape[ax] = 1;
      const spec = (from: number, to: number) => x.t.shape.map((_, i): [number, number] | null => (i === ax ? [from, to] : null));
      const z = zeros(zeroShape, { dtype: x.t.dtype });
      y = reverse ? y.slice(...spec(1, n)).concat([z], ax) : z.concat([y.slice(...spec(0, n - 1))], ax);
    }
    return [{ t: y, kind: x.kind }];
  };
};

/** PyTorch's gather: `out[…, i, …] = data[…, indices[…, i, …], …]` along `axis`. */
const GatherElements: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis"]);
  const axis = a.int("axis", 0);
  return (ins) => {
    const x = need(node, ins, 0, "data"), idx = need(node, ins, 1, "indices");
    const ax = axisOf(node, axis, x.t.ndim);
    if (idx.t.ndim !== x.t.ndim) throw fail(node, `input indices: expected rank ${x.t.ndim} (data's), got shape ${formatShape(idx.t.shape)}`);
    return [{ t: x.t.gather(ax, positionsIn(node, idx, x.t, ax)), kind: x.kind }];
  };
};

/**
 * `data` with `updates` written (reduction "none") or added ("add") at `indices` along `axis`. Written updates at
 * a repeated index add up (ONNX leaves that case undefined).
 */
const ScatterElements: OpCompiler = (node) => {
  const a = new Attrs(node, ["axis", "reduction"]);
  const axis = a.int("axis", 0), reduction = a.string("reduction", "none");
  if (reduction !== "none" && reduction !== "add") throw fail(node, `attribute reduction=${reduction} is not supported (supported: none, add)`);
  return (ins) => {
    const x = floatIn(node, ins, 0, "data"), idx = need(node, ins, 1, "indices"), u = floatIn(node, ins, 2, "updates");
    const ax = axisOf(node, axis, x.t.ndim);
    if (idx.t.shape.join() !== u.t.shape.join()) throw fail(node, `inputs indices and updates differ in shape: ${formatShape(idx.t.shape)} and ${formatShape(u.t.shape)}`);
    const at = positionsIn(node, idx, x.t, ax);
    const scattered = u.t.cast(x.t.dtype).scatterAdd(ax, at, x.t.shape);
    if (reduction === "add") return [{ t: x.t.add(scattered), kind: x.kind }];
    const hit = onesLike(u.t).scatterAdd(ax, at, x.t.shape).gt(0);
    return [{ t: where(hit, scattered, x.t), kind: x.kind }];
  };
};


const Einsum: OpCompiler = (node) => {
  const a = new Attrs(node, ["equation"]);
  const equation = a.string("equation", "");
  if (equation === "") throw fail(node, "attribute equation is required, got none");
  return (ins) => {
    const xs = ins.map((_, i) => floatIn(node, ins, i, `Inputs[${i}]`));
    if (xs.length === 0) throw fail(node, "expected at least one input, got none");
    return [{ t: einsum(equation, ...xs.map((v) => v.t)), kind: xs[0]!.kind }];
  };
};

/**
 * The supported op types of the default ONNX domain. A type not listed here is an error when the model is
 * imported, naming the node, the op and the opset.
 */
export const IMPORT_OPS: Readonly<Record<string, OpCompiler>> = {
  Add: arithmetic((a, b) => a.add(b)),
  Sub: arithmetic((a, b) => a.sub(b)),
  Mul: arithmetic((a, b) => a.mul(b)),
  Div: arithmetic((a, b) => a.div(b), (x, y) => {
    if (y === 0) throw new OnnxError("importOnnx: integer division by zero");
    return Math.trunc(x / y);
  }),
  Pow: arithmetic((a, b) => a.pow(b)),
  Neg: unary((t) => t.neg()),
  Abs: unary((t) => t.abs()),
  Relu: unary((t) => t.relu()),
  Sigmoid: unary((t) => t.sigmoid()),
  Tanh: unary((t) => t.tanh()),
  Exp: unary((t) => t.exp()),
  Log: unary((t) => t.log()),
  Sqrt: unary((t) => t.sqrt()),
  Sin: unary((t) => t.sin()),
  Cos: unary((t) => t.cos()),
  Reciprocal: unary((t) => t.pow(-1)),
  LeakyRelu,
  Erf: unary(erf),
  Gelu,
  Sign: unary((t) => t.sign()),
  Softplus: unary((t) => t.relu().add(t.abs().neg().exp().log1p())),
  Softsign: unary((t) => t.div(t.abs().add(1))),
  Elu: activation({ alpha: 1 }, (t, { alpha }) => where(t.gt(0), t, t.expm1().mul(alpha!))),
  Selu: activation({ alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 }, (t, { alpha, gamma }) => where(t.gt(0), t, t.expm1().mul(alpha!)).mul(gamma!)),
  HardSigmoid: activation({ alpha: 0.2, beta: 0.5 }, (t, { alpha, beta }) => t.mul(alpha!).add(beta!).clamp(0, 1)),
  HardSwish: unary((t) => t.mul(t.div(6).add(0.5).clamp(0, 1))),
  Max: variadic((a, b) => a.maximum(b)),
  Min: variadic((a, b) => a.minimum(b)),
  Sum: variadic((a, b) => a.add(b)),
  Mean: variadic((a, b) => a.add(b), (t, n) => t.div(n)),
  Greater: comparison((a, b) => a.gt(b)),
  Less: comparison((a, b) => a.lt(b)),
  Equal: comparison((a, b) => a.eq(b)),
  GreaterOrEqual: comparison((a, b) => a.ge(b)),
  LessOrEqual: comparison((a, b) => a.le(b)),
  And: logical((a, b) => a.mul(b)),
  Or: logical((a, b) => a.add(b).gt(0).cast("float64")),
  Not: not,
  Where,
  Cast,
  Clip,
  Gemm,
  MatMul,
  Conv,
  MaxPool,
  AveragePool,
  GlobalAveragePool: globalPool((t, axes) => t.mean(axes, true)),
  GlobalMaxPool: globalPool((t, axes) => t.amax(axes, true)),
  BatchNormalization,
  LayerNormalization,
  Einsum,
  Reshape,
  Flatten,
  Transpose,
  Expand,
  Slice,
  Concat,
  Gather,
  GatherElements,
  ScatterElements,
  Split,
  Squeeze,
  Unsqueeze,
  Shape,
  Size,
  ReduceSum: reduction((t, axes, keep) => t.sum(axes, keep), 13),
  ReduceMean: reduction((t, axes, keep) => t.mean(axes, keep), 18),
  ReduceMax: reduction((t, axes, keep) => t.amax(axes, keep), 18),
  ReduceMin: reduction((t, axes, keep) => t.amin(axes, keep), 18),
  ReduceLogSumExp: reduction((t, axes, keep) => t.logsumexp(axes, keep), 18),
  ArgMax: ArgExtremum(true),
  ArgMin: ArgExtremum(false),
  CumSum,
  Softmax: softmaxLike((t, axis) => t.softmax(axis)),
  LogSoftmax: softmaxLike((t, axis) => t.logSoftmax(axis)),
  Identity: identity,
  Dropout,
  Pad,
  Constant,
  ConstantOfShape,
};
