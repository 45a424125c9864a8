/**
 * The scalar engine (the micrograd layer): a `Value` is a node of the computational graph holding a number,
 * the op that made it and its inputs. Every method applies an op of the table; `backward()` is the lecture's
 * backpropagation: start at the right, walk leftwards, and at every node add `local derivative × gradient`
 * into each input's gradient, so gradients add up where a value fans out.
 */
import { topoOrder, type GraphNode } from "../core/graph.js";
import type { Span } from "../core/span.js";
import { elementwiseOps } from "../ops/elementwise.js";
import { numberAlgebra } from "../ops/algebras.js";
import type { ElementwiseName, ElementwiseOp } from "../ops/op.js";

export type { Span };

type ValueLike = Value | number;

/** One method per elementwise op: tsc rejects a `Value` that lacks one. */
type ValueMethods = { readonly [K in ElementwiseName]: (...others: ValueLike[]) => Value };

export interface ValueOptions {
  /** A name for printing: the variable's name, or a named constant such as `e`. */
  label?: string;
  /** Whether gradients flow into this leaf. Default true for `new Value`, false for `Value.constant`. */
  requiresGrad?: boolean;
  span?: Span;
}

/**
 * A scalar in a computational graph.
 *
 * @example
 * const x = new Value(0, { label: "x" }), y = new Value(1, { label: "y" });
 * const d = y.add(x.neg().exp()).pow(-1);   // 1 / (y + e^-x)
 * d.backward();
 * x.grad; // 0.25
 * y.grad; // -0.25
 */
export class Value implements ValueMethods, GraphNode {
  /** The number this node holds (the forward value). */
  data: number;
  /** ∂(root of the last backward)/∂(this node). */
  grad = 0;
  readonly op: ElementwiseOp | null;
  readonly inputs: readonly Value[];
  requiresGrad: boolean;
  label: string | undefined;
  span: Span | undefined;
  /** Scratch mark for graph walks (see `topoOrder`). */
  topoMark = 0;

  constructor(data: number, options: ValueOptions = {}, op: ElementwiseOp | null = null, inputs: readonly Value[] = []) {
    this.data = data;
    this.op = op;
    this.inputs = inputs;
    this.label = options.label;
    this.span = options.span;
    this.requiresGrad = options.requiresGrad ?? (op === null ? true : inputs.some((x) => x.requiresGrad));
  }

  /** A constant leaf: no gradient flows into it. */
  static constant(c: number, label?: string): Value {
    return new Value(c, { requiresGrad: false, ...(label === undefined ? {} : { label }) });
  }

  /** Wraps a number as a constant; returns a `Value` unchanged. */
  static from(x: ValueLike): Value {
    return x instanceof Value ? x : Value.constant(x);
  }

  /** Applies an op of the table to values (numbers become constants). */
  static apply(op: ElementwiseOp, args: readonly ValueLike[], options: ValueOptions = {}): Value {
    if (args.length !== op.arity) throw new Error(`${op.name}: expected ${op.arity} inputs, got ${args.length}`);
    const v = op.arity === 1 ? unary(op, Value.from(args[0]!)) : binary(op, Value.from(args[0]!), Value.from(args[1]!));
    if (options.label !== undefined) v.label = options.label;
    if (options.span !== undefined) v.span = options.span;
    return v;
  }

  /** True for an input or a constant (a node no op made). */
  get isLeaf(): boolean {
    return this.op === null;
  }

  add(other: ValueLike): Value { return binary(elementwiseOps.add, this, Value.from(other)); }
  sub(other: ValueLike): Value { return binary(elementwiseOps.sub, this, Value.from(other)); }
  mul(other: ValueLike): Value { return binary(elementwiseOps.mul, this, Value.from(other)); }
  div(other: ValueLike): Value { return binary(elementwiseOps.div, this, Value.from(other)); }
  neg(): Value { return unary(elementwiseOps.neg, this); }
  /** `this ^ exponent`; the exponent may be a constant (`x^2`) or a variable (`a^b`). */
  pow(exponent: ValueLike): Value { return binary(elementwiseOps.pow, this, Value.from(exponent)); }
  exp(): Value { return unary(elementwiseOps.exp, this); }
  log(): Value { return unary(elementwiseOps.log, this); }
  sqrt(): Value { return unary(elementwiseOps.sqrt, this); }
  abs(): Value { return unary(elementwiseOps.abs, this); }
  relu(): Value { return unary(elementwiseOps.relu, this); }
  sigmoid(): Value { return unary(elementwiseOps.sigmoid, this); }
  tanh(): Value { return unary(elementwiseOps.tanh, this); }
  sin(): Value { return unary(elementwiseOps.sin, this); }
  cos(): Value { return unary(elementwiseOps.cos, this); }
  max(other: ValueLike): Value { return binary(elementwiseOps.max, this, Value.from(other)); }
  min(other: ValueLike): Value { return binary(elementwiseOps.min, this, Value.from(other)); }
  /** 1 where this > other, else 0 (zero gradient). */
  gt(other: ValueLike): Value { return binary(elementwiseOps.gt, this, Value.from(other)); }
  /** 1 where this == other, else 0 (zero gradient). */
  eq(other: ValueLike): Value { return binary(elementwiseOps.eq, this, Value.from(other)); }
  /** -1, 0 or 1 (zero gradient). */
  sign(): Value { return unary(elementwiseOps.sign, this); }

  /** This node's local derivative with respect to its `i`-th input, at the current values. */
  localDerivative(i: number): number {
    if (this.op === null) throw new Error("a leaf has no local derivative");
    return localDerivative(this, i);
  }

  /**
   * Backpropagation from this node: seeds ∂this/∂this = 1 and walks the graph right to left (an iterative
   * topological order: a chain of a million nodes is fine). Gradients of the intermediate nodes are set
   * afresh; those of the leaves **add up** across calls, as in PyTorch: call `zeroGrad()` between passes.
   * Returns the number of local-derivative multiplications done (one per edge into a node that needs a
   * gradient).
   */
  backward(): number {
    const order = topoOrder<Value>(this);
    for (const n of order) if (n.op !== null) n.grad = 0;
    this.grad += 1;
    let multiplications = 0;
    const args: number[] = [0, 0];
    for (let k = order.length - 1; k >= 0; k--) {
      const n = order[k]!;
      const op = n.op;
      if (op === null || !n.requiresGrad) continue;
      const xs = n.inputs;
      args[0] = xs[0]!.data;
      args[1] = xs.length > 1 ? xs[1]!.data : NaN;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        if (!x.requiresGrad) continue;
        const local = op.nondiff ? 0 : (op.partials[i]!(numberAlgebra, args, n.data) as number);
        x.grad += local * n.grad;
        multiplications++;
      }
    }
    return multiplications;
  }

  /** Sets the gradient of every node of this graph to 0. */
  zeroGrad(): void {
    for (const n of topoOrder<Value>(this)) n.grad = 0;
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

function unary(op: ElementwiseOp, a: Value): Value {
  return new Value(op.forward(a.data, NaN), { requiresGrad: a.requiresGrad }, op, [a]);
}

function binary(op: ElementwiseOp, a: Value, b: Value): Value {
  return new Value(op.forward(a.data, b.data), { requiresGrad: a.requiresGrad || b.requiresGrad }, op, [a, b]);
}

/** ∂node/∂(its i-th input), evaluated with the op table's partial on numbers. */
export function localDerivative(node: Value, i: number): number {
  const op = node.op!;
  if (op.nondiff) return 0;
  const xs = node.inputs.map((x) => x.data);
  return op.partials[i]!(numberAlgebra, xs, node.data) as number;
}
