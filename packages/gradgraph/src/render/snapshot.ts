/**
 * A snapshot of a computational graph: a plain, JSON-serialisable description of every node in topological
 * order, with the lecture's names, values, local derivatives and the gradient contributions of the backward
 * pass. Every renderer (trace tables, lecture-style code, DOT, paths report) and the web explorer work from it.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { GradgraphError } from "../core/errors.js";
import { topoOrder } from "../core/graph.js";
import { elementwiseOps } from "../ops/elementwise.js";
import type { Algebra, ElementwiseName, ElementwiseOp } from "../ops/op.js";
import { localDerivative, type Span, type Value } from "../scalar/value.js";
import { freshNames, isIdentifier, RESERVED_NAMES } from "./format.js";
import { symbolicAlgebra, symConst, symName, type Sym } from "./symbolic.js";

/** What a node is: a parameter of the function, a constant, or the result of an op. */
export type NodeKind = "input" | "const" | "op";

/** An edge leaving a node: it is input number `input` of node `node`. */
export interface SnapshotUse {
  node: number;
  input: number;
}

/** One term of a node's gradient: `local × incoming`, sent back along one edge by one consumer. */
export interface Contribution {
  /** The consumer the gradient comes from. */
  from: number;
  /** Which of the consumer's inputs this node is (a node used twice by one op has two contributions). */
  input: number;
  /** ∂from/∂(this node) on this edge. */
  local: number;
  /** The gradient of `from`. */
  incoming: number;
  /** `local × incoming`. */
  value: number;
}

/** One node of a {@link Snapshot}. */
export interface SnapshotNode {
  /** Index of the node in `Snapshot.nodes`. */
  id: number;
  /**
   * The name on the board: an input keeps its label; intermediate nodes are `a, b, c, ...` in forward order
   * (skipping taken names, `e` and keywords); a constant is its literal (`3`), or `e` / `pi`.
   */
  name: string;
  kind: NodeKind;
  /** The op that computes the node; null for inputs and constants. */
  op: ElementwiseName | null;
  /** Ids of the op's inputs, in order (a node may appear twice: `x*x`). */
  inputs: number[];
  /** The forward value; null when the snapshot was taken without values (constants always keep theirs). */
  value: number | null;
  /** Whether a gradient flows into this node. */
  requiresGrad: boolean;
  /** ∂root/∂(this node): the sum of `contributions` (1 for the root); null for constants or without values. */
  grad: number | null;
  /** Local derivatives ∂(this)/∂(input i), one per input edge; null where no gradient flows or without values. */
  locals: (number | null)[];
  /** The same local derivatives printed on the board (`-d/c`, `2*r`, `(p>0)`); null where no gradient flows. */
  localsText: (string | null)[];
  /** For `e` and `pi`: the constant's name. */
  namedConstant: "e" | "pi" | null;
  /** Where the node came from in the source text, when the expression compiler recorded it. */
  span: Span | null;
  /** The edges leaving this node, in the order the forward pass creates them. */
  uses: SnapshotUse[];
  /** Used more than once: its gradient is the sum of several contributions. */
  fanOut: boolean;
  /** The terms of `grad`, in the order the backward sweep adds them (empty for the root and for constants). */
  contributions: Contribution[];
}

/** A computational graph, frozen for rendering. */
export interface Snapshot {
  /** Every node, in topological order: the parameters first, then constants and ops as the forward pass meets them. */
  nodes: SnapshotNode[];
  /** Id of the output. */
  root: number;
  /** Ids of the function's parameters: the inputs given, then any other leaf that needs a gradient. */
  params: number[];
  /**
   * Ids of the nodes that need a gradient, in the order their gradients become final in the backward sweep:
   * the root, then after each op (walking right to left) the inputs that have received all their contributions;
   * parameters the output does not depend on come last.
   */
  backwardOrder: number[];
  /** Whether values (and so local derivatives and gradients) were recorded. */
  hasValues: boolean;
  /** Whether gradients were computed. */
  hasGrads: boolean;
}

/** Options of {@link snapshot}. */
export interface SnapshotOptions {
  /** Record values (default true). Without them only the structure and names are kept. */
  values?: boolean;
  /** Compute gradients (default true; needs values). */
  grads?: boolean;
}

/** The named constants and how the board and code spell them. */
export const NAMED_CONSTANTS = {
  e: { value: Math.E, py: "math.e", ts: "Math.E" },
  pi: { value: Math.PI, py: "math.pi", ts: "Math.PI" },
} as const;

/**
 * Freezes the graph ending at `root` for rendering. Gradients are computed here, by the same reverse sweep as
 * `Value.backward`, without touching the graph's own `grad` fields. This sweep runs in reverse topological
 * order, `Value.backward` in reverse creation order; for a graph built left to right (as the compilers and an
 * expression written in code build it) the two are the same order, so the additions and their float64 results
 * are the same.
 *
 * @example
 * const x = new Value(0, { label: "x" }), y = new Value(1, { label: "y" });
 * const d = Value.constant(1).div(y.add(x.neg().exp()));
 * const snap = snapshot(d, [x, y]);
 * snap.nodes.map((n) => n.name); // ["x", "y", "1", "a", "b", "c", "d"]
 * snap.nodes[snap.params[0]!]!.grad; // 0.25
 */
export function snapshot(root: Value, inputs: readonly Value[], options: SnapshotOptions = {}): Snapshot {
  return snapshotWithValues(root, inputs, options).snapshot;
}

/**
 * {@link snapshot}, also returning the graph's `Value`s in the snapshot's order (`values[id]`), for renderers
 * that run the engine's own algorithms on the same graph (the paths report).
 */
export function snapshotWithValues(
  root: Value,
  inputs: readonly Value[],
  options: SnapshotOptions = {},
): { snapshot: Snapshot; values: Value[] } {
  expectOptions("snapshot", options, optionKeys<SnapshotOptions>({ values: true, grads: true }));
  const hasValues = options.values ?? true;
  const hasGrads = hasValues && (options.grads ?? true);
  const order = topoOrder<Value>(root);

  // Parameters: the inputs given, then leaves that need a gradient but were not listed.
  const params: Value[] = [];
  const isParam = new Set<Value>();
  inputs.forEach((x, i) => {
    if (x.op !== null) {
      throw new GradgraphError(`snapshot: input ${i + 1} (${x.label ?? "unnamed"}) is computed by ${x.op.name}; inputs must be leaves`);
    }
    if (!isParam.has(x)) {
      isParam.add(x);
      params.push(x);
    }
  });
  for (const n of order) {
    if (n.op === null && n.requiresGrad && !isParam.has(n)) {
      isParam.add(n);
      params.push(n);
    }
  }
  const values: Value[] = [...params, ...order.filter((n) => !isParam.has(n))];
  const id = new Map<Value, number>();
  values.forEach((v, k) => id.set(v, k));
  const inGraph = new Set<Value>(order);

  const kinds: NodeKind[] = values.map((v) => (isParam.has(v) ? "input" : v.op === null ? "const" : "op"));
  const namedConstants = values.map((v, k) => (kinds[k] === "const" ? namedConstant(v) : null));
  const names = assignNames(values, kinds, namedConstants);

  const nodes: SnapshotNode[] = values.map((v, k) => ({
    id: k,
    name: names[k]!,
    kind: kinds[k]!,
    op: v.op?.name ?? null,
    inputs: v.inputs.map((x) => id.get(x)!),
    value: hasValues || kinds[k] === "const" ? v.data : null,
    requiresGrad: kinds[k] !== "const" && v.requiresGrad,
    grad: null,
    locals: v.inputs.map((x, i) => (hasValues && x.requiresGrad && kinds[id.get(x)!] !== "const" ? localDerivative(v, i) : null)),
    localsText: [],
    namedConstant: namedConstants[k]!,
    span: v.span ? { pos: v.span.pos, length: v.span.length } : null,
    uses: [],
    fanOut: false,
    contributions: [],
  }));
  const board = symbolicAlgebra("board", true);
  for (const n of nodes) {
    n.inputs.forEach((x, i) => nodes[x]!.uses.push({ node: n.id, input: i }));
    n.localsText = localTexts(n, nodes, board);
  }
  for (const n of nodes) n.fanOut = n.uses.length > 1;

  const rootId = id.get(root)!;
  if (hasGrads) sweep(nodes, rootId);
  return {
    snapshot: {
      nodes,
      root: rootId,
      params: params.map((p) => id.get(p)!),
      backwardOrder: backwardOrder(nodes, rootId, params.filter((p) => !inGraph.has(p)).map((p) => id.get(p)!)),
      hasValues,
      hasGrads,
    },
    values,
  };
}

/** `e` or `pi` for a constant labelled so and holding that value; otherwise null. */
function namedConstant(v: Value): "e" | "pi" | null {
  const label = v.label;
  if (label === "e" || label === "pi") return NAMED_CONSTANTS[label].value === v.data ? label : null;
  return null;
}

/**
 * Names: labelled inputs (and labelled ops whose label is a usable identifier) keep their labels, made unique;
 * every other input or op gets the next free name of `a, b, c, ..., z, a1, b1, ...` (never `e`; nor `f`, the
 * function's own name in the lecture, whose gradient `df` would clash with the generated `df`; nor `o`, whose
 * gradient `do` is a keyword); constants are literals.
 */
function assignNames(values: readonly Value[], kinds: readonly NodeKind[], named: readonly ("e" | "pi" | null)[]): string[] {
  const taken = new Set<string>();
  const names: (string | undefined)[] = values.map(() => undefined);
  values.forEach((v, k) => {
    const label = v.label;
    if (kinds[k] === "const" || label === undefined || label === "") return;
    if (kinds[k] === "op" && (!isIdentifier(label) || RESERVED_NAMES.has(label))) return;
    let name = label;
    for (let i = 2; taken.has(name); i++) name = `${label}_${i}`;
    taken.add(name);
    names[k] = name;
  });
  const fresh = freshNames(taken);
  return values.map((v, k) => {
    if (kinds[k] === "const") return named[k] ?? symConst(v.data, "board").text;
    return names[k] ?? fresh();
  });
}

/** The node's local derivatives printed on the board by running the op's partials on names. */
function localTexts(n: SnapshotNode, nodes: readonly SnapshotNode[], board: Algebra<Sym>): (string | null)[] {
  if (n.op === null) return [];
  const args = n.inputs.map((x) => boardSym(nodes[x]!));
  const op = opOf(n);
  return n.inputs.map((x, i) => {
    const input = nodes[x]!;
    if (!input.requiresGrad) return null;
    if (op.nondiff) return "0";
    const local = op.partials[i]!(board, args, symName(n.name));
    return typeof local === "number" ? symConst(local, "board").text : local.text;
  });
}

/** A node as an operand on the board: a name, or a constant that folds. */
function boardSym(n: SnapshotNode): Sym {
  if (n.kind === "const") return symConst(constValue(n), "board", n.name);
  return symName(n.name);
}

/** The value of a constant node (kept even when a snapshot has no values: it is part of the expression). */
function constValue(n: SnapshotNode): number {
  return n.value!;
}

/** The op-table entry of an op node. */
export function opOf(n: SnapshotNode): ElementwiseOp {
  if (n.op === null) throw new Error(`node ${n.name} is not computed by an op`);
  return elementwiseOps[n.op];
}

/** The reverse sweep of `Value.backward`, recording every contribution. */
function sweep(nodes: SnapshotNode[], rootId: number): void {
  const grads = nodes.map(() => 0);
  grads[rootId] = 1;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (n.op === null || !n.requiresGrad) continue;
    n.inputs.forEach((x, i) => {
      const local = n.locals[i];
      if (local === null || local === undefined) return;
      const value = local * grads[k]!;
      grads[x]! += value;
      nodes[x]!.contributions.push({ from: k, input: i, local, incoming: grads[k]!, value });
    });
  }
  for (const n of nodes) if (n.requiresGrad) n.grad = grads[n.id]!;
}

/** Nodes needing a gradient, in the order their gradients become final (see {@link Snapshot.backwardOrder}). */
function backwardOrder(nodes: readonly SnapshotNode[], rootId: number, unreached: readonly number[]): number[] {
  const out: number[] = [];
  if (!nodes[rootId]!.requiresGrad) return [...unreached];
  out.push(rootId);
  const pending = nodes.map((n) => n.uses.length);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (n.op === null || !n.requiresGrad) continue;
    for (const x of n.inputs) {
      pending[x]!--;
      if (pending[x] === 0 && nodes[x]!.requiresGrad) out.push(x);
    }
  }
  return [...out, ...unreached];
}

/**
 * The snapshot as JSON text. Unlike `JSON.stringify` alone, non-finite numbers survive: they are written as
 * the strings `"Infinity"`, `"-Infinity"` and `"NaN"` (sqrt'(0) is +inf).
 */
export function snapshotToJson(snap: Snapshot, space?: number): string {
  return JSON.stringify(snap, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), space);
}
