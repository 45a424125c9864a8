/**
 * The reverse and forward sweeps over a graph of op-table nodes, written once against a {@link TensorAlgebra}:
 *
 * - on raw arrays they are the ordinary backward pass and forward mode (no graph is built);
 * - on graph tensors the backward pass itself builds a differentiable graph (`createGraph`), so gradients can
 *   be differentiated again (grad of grad, Hessians), and forward mode over it gives forward-over-reverse.
 *
 * Rules never undo broadcasting: {@link fitTo} below is the one place where a cotangent is summed back to its
 * input's shape (and a tangent broadcast up to its output's), and cast to its dtype.
 */
import { topoOrder, type GraphNode } from "../core/graph.js";
import { sumTo } from "./composite.js";
import type { AnyOp, DType, TensorAlgebra } from "./op.js";
import { sameShape, type Shape } from "./shape.js";

/** A node of a differentiable graph: leaves have `op === null`. */
export interface DiffNode extends GraphNode {
  readonly op: AnyOp | null;
  readonly params: unknown;
  readonly inputs: readonly DiffNode[];
  readonly requiresGrad: boolean;
}

/**
 * Fits a cotangent (or tangent) to a value's shape and dtype: sums over the axes that broadcasting added or
 * expanded (or broadcasts a smaller one up), then casts. The only place broadcasting is undone.
 */
export function fitTo<T>(o: TensorAlgebra<T>, v: T, shape: Shape, dtype: DType): T {
  const r = sameShape(o.shape(v), shape) ? v : sumTo(o, v, shape);
  return o.dtype(r) === dtype ? r : o.cast(r, { dtype });
}

/**
 * Observers for debug modes (anomaly detection), null when off: `vjp` sees every cotangent share a rule gives an
 * input (already fitted to it) with the incoming gradient `g`; `jvp` every tangent a rule gives a node.
 * `detectAnomaly` (./debug.ts) sets and restores them.
 */
export const sweepHooks: {
  vjp: ((node: DiffNode, input: number, share: unknown, g: unknown) => void) | null;
  jvp: ((node: DiffNode, tangent: unknown, dxs: readonly unknown[]) => void) | null;
  /** While a hook is on: the node whose rule is running (ops the rule applies to graph tensors are its steps). */
  at: { readonly phase: "backward" | "tangent"; readonly node: DiffNode } | null;
} = { vjp: null, jvp: null, at: null };

export interface ReverseOptions<N> {
  /** Only nodes from which one of these is reachable get cotangents (default: every node requiring grad). */
  wanted?: readonly N[];
  /** Nodes whose cotangent is kept in the result even when they are not wanted leaves (retainGrad). */
  keep?: (n: N) => boolean;
}

/**
 * Reverse sweep (backpropagation) from `roots` seeded with `seeds`: walks the graph from the outputs to the
 * inputs and, at every node, adds each input's share `vjp(ḡ)` (fitted to the input) into the input's cotangent,
 * so cotangents add up where a value fans out. Returns the cotangents of the leaves (and of kept nodes).
 * Intermediate cotangents are dropped as soon as they have been propagated.
 */
export function reverseSweep<N extends DiffNode, T>(
  o: TensorAlgebra<T>,
  roots: readonly N[],
  seeds: readonly T[],
  primal: (n: N) => T,
  options: ReverseOptions<N> = {},
): Map<N, T> {
  const order = topoOrder<N>(roots);
  // live: requires grad and (if targets are given) leads to a target.
  const live = new Set<N>();
  const wanted = options.wanted ? new Set<N>(options.wanted) : null;
  for (const n of order) {
    if (!n.requiresGrad) continue;
    if (wanted === null || wanted.has(n) || (n.inputs as N[]).some((x) => live.has(x))) live.add(n);
  }
  const keep = options.keep;
  const cts = new Map<N, T>();
  roots.forEach((r, i) => {
    if (!live.has(r)) return;
    const prev = cts.get(r);
    const s = seeds[i]!;
    cts.set(r, prev === undefined ? s : o.add(prev, s));
  });
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const op = n.op;
    if (op === null) continue;
    const g = cts.get(n);
    if (g === undefined) continue;
    const inputs = n.inputs as readonly N[];
    const skip = op.nondiffInputs;
    const needs = inputs.map((x, i) => live.has(x) && !(skip !== undefined && skip.includes(i)));
    if (needs.some(Boolean)) {
      const xs = inputs.map(primal);
      const outer = sweepHooks.at;
      if (sweepHooks.vjp !== null) sweepHooks.at = { phase: "backward", node: n };
      const shares = op.vjp(o, g, xs, primal(n), needs, n.params);
      for (let i = 0; i < inputs.length; i++) {
        const share = shares[i];
        if (!needs[i] || share === null || share === undefined) continue;
        const x = inputs[i]!;
        const ct = fitTo(o, share, o.shape(xs[i]!), o.dtype(xs[i]!));
        if (sweepHooks.vjp !== null) sweepHooks.vjp(n, i, ct, g);
        const prev = cts.get(x);
        cts.set(x, prev === undefined ? ct : o.add(prev, ct));
      }
      sweepHooks.at = outer;
    }
    if (!(wanted?.has(n) ?? false) && !(keep?.(n) ?? false)) cts.delete(n);
  }
  return cts;
}

/**
 * Forward sweep (forward-mode differentiation) over the graph ending at `roots`: given tangents of some nodes
 * (usually leaves), pushes tangents from inputs to outputs through each op's jvp rule. Nodes that depend on no
 * seeded node carry no tangent and cost nothing. Returns the tangent of every node that has one.
 */
export function forwardSweep<N extends DiffNode, T>(
  o: TensorAlgebra<T>,
  roots: readonly N[],
  tangents: ReadonlyMap<N, T>,
  primal: (n: N) => T,
): Map<N, T> {
  const out = new Map<N, T>(tangents);
  for (const n of topoOrder<N>(roots)) {
    const op = n.op;
    if (op === null || out.has(n)) continue;
    const inputs = n.inputs as readonly N[];
    const skip = op.nondiffInputs;
    let any = false;
    const dxs = inputs.map((x, i) => {
      const t = skip !== undefined && skip.includes(i) ? undefined : out.get(x);
      if (t !== undefined) any = true;
      return t ?? null;
    });
    if (!any) continue;
    const y = primal(n);
    const outer = sweepHooks.at;
    if (sweepHooks.jvp !== null) sweepHooks.at = { phase: "tangent", node: n };
    const t = op.jvp(o, dxs, inputs.map(primal), y, n.params);
    if (t !== null) {
      const ft = fitTo(o, t, o.shape(y), o.dtype(y));
      if (sweepHooks.jvp !== null) sweepHooks.jvp(n, ft, dxs);
      out.set(n, ft);
    }
    sweepHooks.at = outer;
  }
  return out;
}
