/**
 * The vector rules of a tensor graph, derived from the op table: every op's own vjp runs on a symbolic tensor
 * algebra (names with shapes instead of arrays), and the engine's own `fitTo` sums each share back to its input's
 * shape, so the printed rule is what the backward pass computes: `∇X = ∇a @ Wᵀ`, `∇W = Xᵀ @ ∇a`,
 * `∇b = sum(∇c, axis=0)` for a broadcast bias. A few algebraic rewrites keep the rules as the lecture writes them
 * (a reshape to the same shape is dropped, `sum(·, keepdims=True)` then a reshape is a plain sum, a matrix product
 * with a vector made a column is the product with the vector).
 */
import { fitTo } from "../ops/sweep.js";
import type { AnyOp, DType, ElementwiseOp, ReduceParams, Target, TensorAlgebra } from "../ops/op.js";
import { PREC } from "../ops/op.js";
import { reducedShape, sameShape, type Shape } from "../ops/shape.js";
import { tensorAlgebraOf } from "../ops/tensor-algebra.js";
import { formatNumber, printOp, type Sym } from "./symbolic.js";

/** A symbolic tensor: a named value (a node's value, or its gradient), a number, or an op applied to others. */
export type TSym =
  | { readonly kind: "name"; readonly node: number; readonly grad: boolean; readonly shape: Shape; readonly dtype: DType }
  | { readonly kind: "const"; readonly value: number; readonly shape: Shape; readonly dtype: DType }
  | {
      readonly kind: "op";
      readonly op: AnyOp;
      readonly args: readonly TSym[];
      readonly params: unknown;
      readonly shape: Shape;
      readonly dtype: DType;
    };

/** A node's value (`grad` false) or gradient as a symbol. */
export function tsymName(node: number, grad: boolean, shape: Shape, dtype: DType): TSym {
  return { kind: "name", node, grad, shape, dtype };
}

type OpSym = Extract<TSym, { kind: "op" }>;
/** `x` when it is an application of the op named `name`. */
const asOp = (x: TSym, name: string): OpSym | undefined => (x.kind === "op" && x.op.name === name ? x : undefined);

function make(op: AnyOp, args: readonly TSym[], params: unknown): TSym {
  const shape = op.shape(args.map((a) => a.shape), params);
  const typed = args.filter((a) => a.kind !== "const").map((a) => a.dtype);
  const dtype = op.dtype?.(args.map((a) => a.dtype), params) ?? (typed.length > 0 && typed.every((d) => d === "float32") ? "float32" : "float64");
  return { kind: "op", op, args, params, shape, dtype };
}

/** `op(args)` as a symbol, as written (no rewriting): a forward line of a program. */
export function tsymApplied(op: AnyOp, args: readonly TSym[], params: unknown): TSym {
  return make(op, args, params);
}

/** The symbolic tensor algebra: applying an op builds (and where it can, simplifies) an expression. */
export const symbolicTensorAlgebra: TensorAlgebra<TSym> = tensorAlgebraOf<TSym>({
  apply: (op, args, params) => simplify(op, args, params) ?? make(op, args, params),
  lift: (c) => ({ kind: "const", value: c, shape: [], dtype: "float64" }),
  shape: (x) => x.shape,
  dtype: (x) => x.dtype,
  detach: (x) => x,
});

const o = symbolicTensorAlgebra;
const apply = (op: AnyOp, args: readonly TSym[], params: unknown): TSym => simplify(op, args, params) ?? make(op, args, params);

/** Algebraic rewrites that keep rules short; each returns an equal expression, or undefined. */
function simplify(op: AnyOp, args: readonly TSym[], params: unknown): TSym | undefined {
  if (op.kind === "elementwise") return simplifyElementwise(op as unknown as ElementwiseOp, args);
  const x = args[0]!;
  if (op.name === "reshape" || op.name === "broadcastTo") {
    const shape = (params as { shape: Shape }).shape;
    if (sameShape(x.shape, shape)) return x;
    const r = asOp(x, "reshape");
    if (op.name === "broadcastTo" && r !== undefined) {
      // broadcastTo(reshape(y, [1, ..., y's shape])) = broadcastTo(y): broadcasting adds leading axes itself.
      const y = r.args[0]!;
      const lead = x.shape.length - y.shape.length;
      if (lead >= 0 && sameShape(x.shape.slice(lead), y.shape) && x.shape.slice(0, lead).every((d) => d === 1)) return apply(op, [y], params);
    }
    if (op.name === "reshape") return simplifyReshape(op, x, shape);
  }
  if (op.name === "permute") {
    const perm = (params as { perm: readonly number[] }).perm;
    if (perm.every((p, i) => p === i)) return x;
    const q = asOp(x, "permute");
    if (q !== undefined) {
      const inner = (q.params as { perm: readonly number[] }).perm;
      return apply(op, [q.args[0]!], { perm: perm.map((p) => inner[p]!) });
    }
    // The transpose of a vector made a row or a column is the vector made the other.
    const r = asOp(x, "reshape");
    if (r !== undefined && r.args[0]!.shape.length === 1 && r.shape.length === 2) {
      return apply(r.op, [r.args[0]!], { shape: [r.shape[1]!, r.shape[0]!] });
    }
  }
  return undefined;
}

function simplifyReshape(op: AnyOp, x: TSym, shape: Shape): TSym | undefined {
  const r = asOp(x, "reshape");
  if (r !== undefined) return apply(op, [r.args[0]!], { shape });
  const s = asOp(x, "sum");
  if (s !== undefined) {
    // sum(y, axes, keepdims=True) reshaped to the shape without the kept axes = sum(y, axes).
    const p = s.params as ReduceParams;
    if (p.keepdims && sameShape(reducedShape(s.args[0]!.shape, p.axes, false), shape)) return apply(s.op, [s.args[0]!], { ...p, keepdims: false });
  }
  const mm = asOp(x, "matmul");
  if (mm !== undefined) {
    // A @ (v as a column), reshaped to drop that axis, is A @ v (NumPy's rule for a 1-D operand); likewise a row.
    for (const side of [0, 1] as const) {
      const m = asOp(mm.args[side]!, "reshape");
      if (m === undefined || m.args[0]!.shape.length !== 1) continue;
      const args = side === 0 ? [m.args[0]!, mm.args[1]!] : [mm.args[0]!, m.args[0]!];
      try {
        if (sameShape(mm.op.shape(args.map((a) => a.shape), undefined), shape)) return apply(mm.op, args, undefined);
      } catch {
        // not a vector product after all
      }
    }
  }
  return undefined;
}

function simplifyElementwise(op: ElementwiseOp, args: readonly TSym[]): TSym | undefined {
  if (args.every((a) => a.kind === "const")) {
    const v = op.forward((args[0] as { value: number }).value, (args[1] as { value: number } | undefined)?.value ?? NaN);
    if (Number.isFinite(v) && (Number.isInteger(v) || String(v).length <= 8)) return o.lift(v);
  }
  const [a, b] = args;
  const id = op.identity;
  if (id === undefined || a === undefined || b === undefined) return undefined;
  const shape = op.shape(args.map((x) => x.shape));
  if (id.left !== undefined && a.kind === "const" && a.value === id.left && sameShape(b.shape, shape)) return b;
  if (id.right !== undefined && b.kind === "const" && b.value === id.right && sameShape(a.shape, shape)) return a;
  return undefined;
}

/** How a symbol's names print: a node's value and gradient in a target (`a`, `∇a`, `da`). */
export type NameOf = (node: number, grad: boolean) => string;

/** Helpers (`def relu`) a Python program must declare, collected while printing. */
export type Needs = Set<string>;

/**
 * Prints a symbolic tensor. Board: the rules as the lecture writes them (`Xᵀ @ ∇a`, `(a>0) * ∇b`); `py`: NumPy
 * (`X.T @ da`, `np.maximum(a, 0)`); `ts`: gradgraph's `functional` as `np` (`np.matmul(X.T, da)`).
 */
export function printTSym(x: TSym, target: Target, nameOf: NameOf, needs?: Needs, compact: boolean | "pow" = true): Sym {
  const rec = (y: TSym) => printTSym(y, target, nameOf, needs, compact);
  switch (x.kind) {
    case "name":
      return { text: nameOf(x.node, x.grad), prec: PREC.atom };
    case "const": {
      const text = formatNumber(x.value, target);
      return { text, prec: text.startsWith("-") ? PREC.unary : PREC.atom };
    }
    case "op":
      return printApplied(x, x.args.map(rec), target, needs, compact);
  }
}

/** `functional`'s names of the elementwise ops whose op-table name there is a reduction (PyTorch's `max(x, dim)`). */
const TS_ELEMENTWISE: Readonly<Record<string, string>> = { max: "maximum", min: "minimum" };

function printApplied(x: OpSym, args: readonly Sym[], target: Target, needs: Needs | undefined, compact: boolean | "pow"): Sym {
  const { op } = x;
  const p = op.print;
  const postfix = op.printPostfix?.(x.params, x.args.map((a) => a.shape))?.[target];
  if (postfix !== undefined) {
    const a = args[0]!;
    if (postfix === "") return a;
    return { text: `${a.prec < PREC.atom ? `(${a.text})` : a.text}${postfix}`, prec: PREC.atom };
  }
  // TypeScript has no operators on tensors: every op is a function of gradgraph's `functional` (imported as np).
  if (target === "ts") {
    const name = op.kind === "elementwise" ? (TS_ELEMENTWISE[op.name] ?? op.name) : p.kind !== "call" ? op.name : p.name.ts;
    return { text: `np.${name}(${[...args.map((a) => a.text), ...params(x, "ts")].join(", ")})`, prec: PREC.atom };
  }
  if (op.kind === "elementwise") {
    if (target === "py" && p.kind === "call") {
      const numpy = p.numpy ?? { name: `np.${op.name}` };
      if (numpy.define !== undefined) needs?.add(numpy.define);
      return { text: `${numpy.name}(${args.map((a) => a.text).join(", ")})`, prec: PREC.atom };
    }
    return printOp(op as unknown as ElementwiseOp, args, target, compact);
  }
  if (p.kind === "infix") {
    const [a, b] = args as [Sym, Sym];
    const l = a.prec < p.prec ? `(${a.text})` : a.text;
    const r = b.prec <= p.prec ? `(${b.text})` : b.text;
    return { text: `${l} ${p.symbol[target]} ${r}`, prec: p.prec };
  }
  const name = p.kind === "call" ? p.name[target] : op.name;
  return { text: `${name}(${[...args.map((a) => a.text), ...params(x, target)].join(", ")})`, prec: PREC.atom };
}

function params(x: OpSym, target: Target): string[] {
  const rank = x.args[0]?.shape.length;
  // A reduction over every axis prints without `axis=` (except positionally in TypeScript, or with keepdims).
  const reduce = x.op.kind === "reduce" && target !== "ts" && (x.params as ReduceParams).axes.length === rank;
  return reduce ? (x.params as ReduceParams).keepdims ? [`keepdims=${target === "py" ? "True" : "true"}`] : [] : x.op.printParams?.(x.params, target) ?? [];
}

/** One node of a graph, as {@link vectorRules} needs it. */
export interface RuleNode {
  op: AnyOp | null;
  params: unknown;
  inputs: readonly number[];
  shape: Shape;
  dtype: DType;
  /** Whether a gradient reaches this node (false for constants, and where nothing requires grad). */
  hasGrad: boolean;
  /** A single-number constant's value (it prints as the number, and folds: `2 - 1` is 1). */
  literal?: number;
}

/**
 * The gradient of every node that has one, as a sum of symbolic shares: for each use of the node by an op, that
 * op's vjp on names (its output's gradient `∇y`, its inputs' values), summed back to the node's shape. The root's
 * entry is empty (it is the seed).
 */
export function vectorRules(nodes: readonly RuleNode[], root: number): TSym[][] {
  const shares: TSym[][] = nodes.map(() => []);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (n.op === null || !n.hasGrad) continue;
    const g = tsymName(k, true, n.shape, n.dtype);
    const xs = n.inputs.map((i) => {
      const x = nodes[i]!;
      return x.literal === undefined ? tsymName(i, false, x.shape, x.dtype) : o.lift(x.literal);
    });
    const skip = n.op.nondiffInputs ?? [];
    const needs = n.inputs.map((i, pos) => nodes[i]!.hasGrad && !skip.includes(pos));
    const out = n.op.vjp(o, g, xs, tsymName(k, false, n.shape, n.dtype), needs, n.params);
    n.inputs.forEach((i, pos) => {
      const share = out[pos];
      if (!needs[pos] || share === null || share === undefined) return;
      shares[i]!.push(fitTo(o, share, nodes[i]!.shape, nodes[i]!.dtype));
    });
  }
  shares[root] = [];
  return shares;
}

/** A rule's shares printed and added: `Wᵀ @ ∇a + ∇b`. */
export function printRule(shares: readonly TSym[], target: Target, nameOf: NameOf, needs?: Needs): string {
  const texts = shares.map((s) => printTSym(s, target, nameOf, needs).text);
  return target === "ts" ? texts.reduce((acc, t) => `np.add(${acc}, ${t})`) : texts.join(" + ");
}
