/**
 * Renderers for tensor graphs: the forward and backward passes as tables and the graph in Graphviz DOT, with
 * every value's shape shown (on every edge, in DOT). Composites (softmax, mean, ...) appear as the primitives
 * they are built from. Names follow the scalar renderers: inputs keep their labels, intermediate values are
 * `a, b, c, ...`, single-value constants are their literals.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { topoOrder } from "../core/graph.js";
import type { AnyOp } from "../ops/op.js";
import { formatShape, type Shape } from "../ops/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { formatTable, formatValue, freshNames } from "./format.js";
import { DotWriter, quote, type DotLayout } from "./dot.js";
import { opSymbol } from "./symbolic.js";
import { printRule, vectorRules, type TSym } from "./tensor-rules.js";

/** One node of a tensor graph, frozen for rendering. */
export interface TensorNodeView {
  id: number;
  name: string;
  kind: "input" | "const" | "op";
  /** The primitive's name (`matmul`, `sum`, `add`), or null for inputs and constants. */
  op: string | null;
  inputs: number[];
  shape: Shape;
  /** What the node computes, on the board: `X @ W`, `sum(a, axis=0)`, `max(a, 0)`. Empty for leaves. */
  formula: string;
  /** The op's symbol or function name on the board (`@`, `+`, `sum`); empty for leaves. */
  symbol: string;
  /** The value as nested arrays (a number for a 0-d tensor). */
  value: unknown;
  /** ∂root/∂node (seeded with ones when the root is not a single value); null where no gradient flows. */
  grad: unknown;
  /**
   * The vector rule that made the gradient, on the board, derived from the ops' vjp rules: `∇W = Xᵀ @ ∇a`,
   * `∇b = sum(∇c, axis=0)`, `∇T = ones([2, 2])` for the seed; null where no gradient flows.
   */
  rule: string | null;
}

/** A tensor graph laid out for people: its nodes in evaluation order and which one is the root. */
export interface TensorGraphView {
  nodes: TensorNodeView[];
  root: number;
  /** Whether the backward pass was seeded with ones (the root is not a single value). */
  seededWithOnes: boolean;
}

/** The graph ending at `root`, with values and (when `grads`) gradients of every node. */
export function describeTensorGraph(
  root: Tensor,
  inputs: readonly Tensor[],
  options: { grads?: boolean; /** The output's name (a header's `L`); default a fresh letter. */ rootName?: string } = {},
): TensorGraphView {
  return tensorGraphParts(root, inputs, options).view;
}

/** {@link describeTensorGraph}, with the tensors of its nodes (by id) and their gradients' symbolic rules. */
export function tensorGraphParts(
  root: Tensor,
  inputs: readonly Tensor[],
  options: { grads?: boolean; rootName?: string } = {},
): { view: TensorGraphView; tensors: Tensor[]; rules: TSym[][] } {
  expectOptions("describeTensorGraph", options, optionKeys<{ grads?: boolean; rootName?: string }>({ grads: true, rootName: true }));
  const order = topoOrder<Tensor>(root);
  const leaves = [...inputs.filter((x) => order.includes(x)), ...order.filter((n) => n.op === null && !inputs.includes(n))];
  const nodes = [...leaves, ...order.filter((n) => n.op !== null)];
  const id = new Map<Tensor, number>(nodes.map((n, k) => [n, k]));
  const seededWithOnes = root.size !== 1;
  if ((options.grads ?? true) && root.requiresGrad) {
    for (const n of nodes) n.grad = null;
    root.backward(1, { retainGrads: true });
  }
  const names = nameNodes(nodes, inputs, root, options.rootName);
  const rules = gradientRules(nodes, id, root);
  const boardName = (k: number, grad: boolean) => (grad ? `∇${names[k]}` : names[k]!);
  const views: TensorNodeView[] = nodes.map((n, k) => {
    const kind = inputs.includes(n) ? "input" : n.op === null ? "const" : "op";
    return {
      id: k,
      name: names[k]!,
      kind,
      op: n.op?.name ?? null,
      inputs: n.inputs.map((x) => id.get(x)!),
      shape: n.shape,
      formula: n.op === null ? "" : formula(n.op, n.inputs.map((x) => names[id.get(x)!]!), n.params),
      symbol: n.op === null ? "" : opSymbol(n.op.print),
      value: n.toNested(),
      grad: hasGrad(n) ? n.grad!.toNested() : null,
      rule: !hasGrad(n) ? null : n === root ? seedRule(n) : printRule(rules[k]!, "board", boardName),
    };
  });
  return { view: { nodes: views, root: id.get(root)!, seededWithOnes }, tensors: nodes, rules };
}

const hasGrad = (n: Tensor): boolean => n.requiresGrad && n.grad !== null;

/** A single-number constant: it prints as its value. */
const isLiteralTensor = (n: Tensor): boolean => n.op === null && n.size === 1 && !n.requiresGrad;

/** The seed of the backward pass: `1`, or ones of the root's shape. */
function seedRule(root: Tensor): string {
  return root.size === 1 ? "1" : `ones(${formatShape(root.shape)})`;
}

/** Every node's gradient as symbolic shares (see {@link vectorRules}). */
export function gradientRules(nodes: readonly Tensor[], id: ReadonlyMap<Tensor, number>, root: Tensor): TSym[][] {
  const ruleNodes = nodes.map((n) => ({
    op: n.op,
    params: n.params,
    inputs: n.inputs.map((x) => id.get(x)!),
    shape: n.shape,
    dtype: n.dtype,
    hasGrad: hasGrad(n),
    ...(isLiteralTensor(n) ? { literal: n.item() } : {}),
  }));
  return vectorRules(ruleNodes, id.get(root)!);
}

/** Inputs keep their labels; other nodes get `a, b, c, ...`; single-value constants print as literals. */
function nameNodes(nodes: readonly Tensor[], inputs: readonly Tensor[], root: Tensor, rootName: string | undefined): string[] {
  const taken = new Set<string>(inputs.map((x) => x.label ?? "").filter(Boolean));
  const namedRoot = rootName !== undefined && !taken.has(rootName) && !inputs.includes(root) ? rootName : undefined;
  if (namedRoot !== undefined) taken.add(namedRoot);
  const fresh = freshNames(taken);
  return nodes.map((n) => {
    if (inputs.includes(n)) return n.label ?? fresh();
    if (n === root && namedRoot !== undefined) return namedRoot;
    if (isLiteralTensor(n)) return n.label ?? formatValue(n.item());
    return fresh();
  });
}

/** `X @ W`, `a + b`, `-a`, `(a > b)`, `sum(a, axis=0)`, `reshape(a, [2, 3])`. */
function formula(op: AnyOp, args: readonly string[], params: unknown): string {
  const p = op.print;
  switch (p.kind) {
    case "infix":
      return `${args[0]} ${p.symbol.board} ${args[1]}`;
    case "prefix":
      return `${p.symbol}${args[0]}`;
    case "compare":
      return `(${args[0]} ${p.symbol.board} ${args[1]})`;
    case "call":
      return `${p.name.board}(${[...args, ...(op.printParams?.(params, "board") ?? [])].join(", ")})`;
    default: {
      const never: never = p;
      throw new Error(`unknown print kind ${JSON.stringify(never)}`);
    }
  }
}

/** A value for people: nested arrays of {@link formatValue} numbers, `[[1, 2], [3, 4]]`. */
export function formatNested(v: unknown): string {
  if (typeof v === "number") return formatValue(v);
  if (Array.isArray(v)) return `[${v.map(formatNested).join(", ")}]`;
  return String(v);
}

/** Values longer than this are summarised in tables. */
const MAX_SHOWN = 80;

function shown(v: unknown): string {
  const s = formatNested(v);
  return s.length <= MAX_SHOWN ? s : `${s.slice(0, MAX_SHOWN - 5)} ...]`;
}

/** The forward and backward passes as aligned tables, with every node's shape. */
export function formatTensorTrace(view: TensorGraphView): string {
  const forward = view.nodes
    .filter((n) => n.kind !== "const" || !isLiteral(n))
    .map((n) => [n.name, formatShape(n.shape), n.kind === "op" ? n.op! : n.kind, n.formula, shown(n.value)]);
  const lines = ["Forward pass", formatTable(["node", "shape", "operation", "formula", "value"], forward), ""];
  const backward = [...view.nodes]
    .reverse()
    .filter((n) => n.grad !== null)
    .map((n) => [n.name, formatShape(n.shape), `∇${n.name} = ${n.rule}`, shown(n.grad)]);
  if (backward.length > 0) {
    const root = view.nodes[view.root]!;
    const seed = view.seededWithOnes ? `, seeded with ones of shape ${formatShape(root.shape)}: the gradient of sum(${root.name})` : "";
    lines.push(`Backward pass (∇n = ∂${root.name}/∂n${seed})`, formatTable(["node", "shape", "rule", "gradient"], backward), "");
  }
  return lines.join("\n");
}

function isLiteral(n: TensorNodeView): boolean {
  return n.kind === "const" && typeof n.value === "number" && n.name === formatValue(n.value);
}

/**
 * The graph in DOT, laid out like the scalar graphs (left to right, ops as nodes, values on the edges); every
 * edge is labelled with the value's name and shape (`a [2,3]`), and single values also with the value and,
 * when computed, the gradient.
 */
export function tensorToDot(view: TensorGraphView, options: { name?: string; layout?: DotLayout } = {}): string {
  expectOptions("tensorToDot", options, optionKeys<{ name?: string; layout?: DotLayout }>({ name: true, layout: true }));
  const w = new DotWriter(view.nodes, options.name, options.layout);
  for (const n of view.nodes) {
    if (n.kind === "op") {
      const symbol = n.symbol;
      w.node(n.id, `label=${quote(symbol)}, shape=${symbol.length <= 2 ? "circle" : "ellipse"}, tooltip=${quote(`${n.name} = ${n.formula}`)}`);
    } else if (n.kind === "input") {
      w.node(n.id, `label=${quote(n.name)}, shape=plaintext, fontsize=14`);
    } else {
      w.node(n.id, `label=${quote(n.name)}, shape=plaintext, fontcolor="gray30"`);
    }
  }
  w.inputsLeft(view.nodes.filter((n) => n.kind === "input").map((n) => n.id));
  const single = (v: unknown): number | null => {
    const flat = [v].flat(Infinity) as number[];
    return flat.length === 1 ? flat[0]! : null;
  };
  const label = (n: TensorNodeView) => {
    let s = `${n.name} ${formatShape(n.shape)}`;
    const v = single(n.value);
    if (v !== null) {
      s += ` = ${formatValue(v)}`;
      const g = n.grad === null ? null : single(n.grad);
      if (g !== null) s += ` | ∂ = ${formatValue(g)}`;
    }
    return ` [label=${quote(s)}]`;
  };
  for (const to of view.nodes) for (const x of to.inputs) w.edge(x, `n${to.id}`, label(view.nodes[x]!));
  w.edge(view.root, "out", label(view.nodes[view.root]!));
  return w.end();
}
