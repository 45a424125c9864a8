/**
 * Kernels traced from the op table: an elementwise op's kernel is its ALU lowering; a fused kernel is any
 * expression written against the op algebra (a rule's `partial · g`, a chain of ops), traced through each op's
 * lowering into one DAG — one kernel, one pass over memory, whatever the length of the chain.
 */
import { algebraOf } from "../ops/algebras.js";
import { traceAlu, type AluNode } from "../ops/alu.js";
import type { Algebra, ElementwiseOp } from "../ops/op.js";
import { kernelOf, type Kernel } from "./backend.js";

const perOp = new Map<ElementwiseOp, Kernel>();

/** The kernel of one elementwise op (cached). */
export function elementwiseKernelOf(op: ElementwiseOp): Kernel {
  let k = perOp.get(op);
  if (k === undefined) {
    const t = traceAlu();
    k = kernelOf(op.lower(t, op.arity === 1 ? [t.input(0)] : [t.input(0), t.input(1)]), op.arity);
    perOp.set(op, k);
  }
  return k;
}

/**
 * Traces `build` — an expression of `arity` inputs written against the op algebra — into one kernel. Returns the
 * DAG's root too: when it is an input, there is nothing to compute (`1 · g` is g).
 */
export function fusedKernel(build: <E>(o: Algebra<E>, xs: readonly E[]) => E, arity: number): { kernel: Kernel; root: AluNode } {
  const t = traceAlu();
  const o = algebraOf<AluNode>((op, args) => op.lower(t, args), (c) => t.const(c));
  const root = build(o, Array.from({ length: arity }, (_, i) => t.input(i)));
  return { kernel: kernelOf(root, arity), root };
}
