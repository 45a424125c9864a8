/**
 * The explorer's steppers as data: for every step of a view (backprop, forward mode, path products, practice)
 * a {@link Frame} saying which nodes and edges to highlight, what each edge's label reads, which code lines
 * belong to the step, and the explanation with its numbers. Pure (no DOM), unit-tested in Node.
 */
import type { Contribution, PathsData, Snapshot, SnapshotNode } from "gradgraph/lecture";
import { factor, fmt, localText, nested, pathsFor, shapeText, sumText, type Edge, type Problem, type TensorProblem } from "./model.js";

/** A line of an explanation: an optional label (`local derivative`) and the text, possibly emphasised. */
export interface Line {
  label?: string;
  text: string;
  /** `result` for the line with the step's answer, `note` for a side remark. */
  kind?: "result" | "note" | "formula";
}

/** What the page shows at one step. */
export interface Frame {
  /** The step's heading (`Backward pass · node i`). */
  title: string;
  lines: Line[];
  /** The node the step is about. */
  current: number[];
  /** Nodes it reads from or sends to. */
  related: number[];
  /** Edges to highlight (indices into `Problem.edges`). */
  edges: number[];
  /** Each edge's label text, by edge index (`""`: no label, for a literal constant). */
  labels: string[];
  /** The code lines of the step: the forward line computing `node`, or the backward lines assigning its gradient. */
  code: { pass: "forward" | "backward"; node: number } | null;
}

/** One of the page's steppers. */
export interface Stepper {
  readonly length: number;
  frame(step: number): Frame;
}

/** `x = 2`: the name and value an edge carries. */
function valuePart(n: SnapshotNode): string {
  return n.value === null ? n.name : `${n.name} = ${fmt(n.value)}`;
}

/** Whether an edge out of `n` carries a label at all (a literal constant's node shows its number already). */
function labelled(n: SnapshotNode): boolean {
  return !(n.kind === "const" && n.namedConstant === null);
}

/** The gradient part of an edge's label, as `toDot` writes it (`∂ = -6`, `∂ += 3 (sum 6)`). */
function gradPart(snap: Snapshot, e: Edge): string {
  const n = snap.nodes[e.from]!;
  if (e.to === null) return n.requiresGrad ? "∂ = 1" : "";
  const c = n.contributions.find((c) => c.from === e.to && c.input === e.input);
  if (c === undefined) return "";
  return n.fanOut ? `∂ += ${fmt(c.value)} (sum ${fmt(n.grad!)})` : `∂ = ${fmt(c.value)}`;
}

/** Labels of every edge: the value when `valueKnown`, plus `extra(edge)` when that is not empty. */
function labels(p: Problem, valueKnown: (id: number) => boolean, extra: (e: Edge) => string): string[] {
  return p.edges.map((e) => {
    const n = p.snap.nodes[e.from]!;
    if (!labelled(n)) return "";
    if (!valueKnown(n.id)) return `${n.name} = ?`;
    const more = extra(e);
    return more === "" ? valuePart(n) : `${valuePart(n)} | ${more}`;
  });
}

/** Each node's outgoing and incoming edges, indexed once per problem (a step then costs the same on any graph). */
const edgeIndex = new WeakMap<Problem, { out: Map<number, number[]>; in: Map<number, number[]> }>();
function edgesAt(p: Problem) {
  let ix = edgeIndex.get(p);
  if (ix === undefined) {
    ix = { out: new Map(), in: new Map() };
    for (const e of p.edges) {
      ix.out.set(e.from, [...(ix.out.get(e.from) ?? []), e.index]);
      if (e.to !== null) ix.in.set(e.to, [...(ix.in.get(e.to) ?? []), e.index]);
    }
    edgeIndex.set(p, ix);
  }
  return ix;
}
const outEdges = (p: Problem, id: number) => edgesAt(p).out.get(id) ?? [];
const inEdges = (p: Problem, id: number) => edgesAt(p).in.get(id) ?? [];

/**
 * A value computed on first use. A frame's edge labels cover every edge of the graph: they are computed only when
 * the graph is drawn and asks for them (a `get labels()`), so a step through an undrawn 6,000-node graph costs
 * what one through a small one does.
 */
function once<T>(f: () => T): () => T {
  let done = false, value: T;
  return () => {
    if (!done) (value = f()), (done = true);
    return value;
  };
}

/** ∂L/∂x written with the output's name. */
export function dname(p: Problem, id: number): string {
  return `∂${p.output}/∂${p.snap.nodes[id]!.name}`;
}

/** The explanation of a node's gradient: each contribution, ∂f/∂i = ∂j/∂i · ∂f/∂j, and for a fan-out the sum. */
export function gradientLines(p: Problem, id: number): Line[] {
  const { snap } = p;
  const n = snap.nodes[id]!;
  const f = p.output;
  if (id === snap.root) {
    return [
      { label: "seed", text: `${dname(p, id)} = 1`, kind: "result" },
      { text: `${n.name} is the output ${f} itself: the backward pass starts at the right with ∂${f}/∂${f} = 1.`, kind: "note" },
    ];
  }
  if (n.contributions.length === 0) {
    return [{ text: `${f} does not depend on ${n.name}: ${dname(p, id)} = 0`, kind: "result" }];
  }
  const term = (c: Contribution) => termOf(p, n, c);
  const lines: Line[] = [];
  if (n.contributions.length === 1) {
    const c = n.contributions[0]!;
    const t = term(c);
    lines.push({ label: "local derivative", text: t.local, kind: "formula" });
    lines.push({ label: "chain rule", text: `${dname(p, id)} = ${t.symbolic} = ${t.numbers} = ${fmt(c.value)}`, kind: "result" });
    return lines;
  }
  lines.push({
    text: `${n.name} is used ${n.contributions.length} times: its gradient is the sum of one contribution per use.`,
    kind: "note",
  });
  n.contributions.forEach((c) => {
    const t = term(c);
    const j = snap.nodes[c.from]!;
    lines.push({ label: `from ${j.name}${sameTwice(n, c) ? ` (input ${c.input + 1})` : ""}`, text: `${t.local};  ${t.symbolic} = ${t.numbers} = ${fmt(c.value)}`, kind: "formula" });
  });
  lines.push({
    label: "sum",
    text: `${dname(p, id)} = ${n.contributions.map((c) => term(c).symbolic).join(" + ")} = ${sumText(n.contributions.map((c) => c.value))} = ${fmt(n.grad!)}`,
    kind: "result",
  });
  return lines;
}

/** One contribution to n's gradient: `∂j/∂i · ∂f/∂j`, with numbers, and the local derivative. */
function termOf(p: Problem, n: SnapshotNode, c: Contribution) {
  const j = p.snap.nodes[c.from]!;
  return {
    symbolic: `∂${j.name}/∂${n.name} · ∂${p.output}/∂${j.name}`,
    numbers: `${factor(c.local, true)} · ${factor(c.incoming, false)}`,
    local: localText(p.snap, j, c.input, c.local),
  };
}

/**
 * A hint for a node's gradient that does not give it away: the local derivatives and the chain rule's
 * product (or, for a node used several times, the sum), written with symbols, not the resulting number.
 */
export function hintLines(p: Problem, id: number): Line[] {
  const n = p.snap.nodes[id]!;
  if (n.contributions.length === 0) return [{ text: `${p.output} does not depend on ${n.name}.`, kind: "note" }];
  const terms = n.contributions.map((c) => termOf(p, n, c));
  const users = [...new Set(n.contributions.map((c) => p.snap.nodes[c.from]!.name))];
  return [
    ...(terms.length > 1 ? [{ text: `${n.name} is used ${terms.length} times: add one contribution per use.`, kind: "note" as const }] : []),
    ...terms.map((t) => ({ label: "local derivative", text: t.local, kind: "formula" as const })),
    { label: "chain rule", text: `${dname(p, id)} = ${terms.map((t) => t.symbolic).join(" + ")}` },
    { text: `${users.map((u) => `∂${p.output}/∂${u}`).join(" and ")} ${users.length === 1 ? "is" : "are"} on the graph already (found earlier, walking backwards).`, kind: "note" },
  ];
}

/** Whether the consumer of `c` takes `n` on more than one input (`x * x`). */
function sameTwice(n: SnapshotNode, c: Contribution): boolean {
  return n.contributions.some((d) => d.from === c.from && d.input !== c.input);
}

/** The lecture's forward pass followed by its backward pass (reverse mode), one node per step. */
export function backpropStepper(p: Problem): Stepper & { backwardStart: number; stepOf(node: number, pass: "forward" | "backward"): number } {
  const { snap } = p;
  type Step = { kind: "start" } | { kind: "forward"; node: number } | { kind: "backward"; node: number };
  const steps: Step[] = [{ kind: "start" }];
  for (const n of snap.nodes) if (n.kind === "op") steps.push({ kind: "forward", node: n.id });
  const backwardStart = steps.length;
  for (const id of snap.backwardOrder) steps.push({ kind: "backward", node: id });
  const forwardAt = new Map<number, number>();
  const backwardAt = new Map<number, number>();
  steps.forEach((s, k) => {
    if (s.kind === "forward") forwardAt.set(s.node, k);
    if (s.kind === "backward") backwardAt.set(s.node, k);
  });
  const frame = (k: number): Frame => {
    const s = steps[k]!;
    const valueKnown = (id: number) => (forwardAt.get(id) ?? 0) <= k;
    const gradKnown = (id: number) => (backwardAt.get(id) ?? Infinity) <= k;
    const edgeLabels = once(() => labels(p, valueKnown, (e) => (gradKnown(e.from) ? gradPart(snap, e) : "")));
    switch (s.kind) {
      case "start":
        return {
          title: "Forward pass · the inputs",
          lines: [
            { text: `${p.output}(${snap.params.map((i) => snap.nodes[i]!.name).join(", ")}) at ${snap.params.map((i) => valuePart(snap.nodes[i]!)).join(", ") || "no inputs"}`, kind: "formula" },
            { text: "Evaluate left to right: each operation runs once its inputs are known.", kind: "note" },
          ],
          current: [...snap.params],
          related: [],
          edges: snap.params.flatMap((i) => outEdges(p, i)),
          get labels() {
            return edgeLabels();
          },
          code: null,
        };
      case "forward": {
        const n = snap.nodes[s.node]!;
        const row = p.forward.get(n.id)!;
        return {
          title: `Forward pass · node ${n.name}`,
          lines: [
            { label: "operation", text: `${n.name} = ${row.formula}`, kind: "formula" },
            { label: "inputs", text: row.inputs },
            { label: "value", text: `${n.name} = ${row.value}`, kind: "result" },
          ],
          current: [n.id],
          related: [...new Set(n.inputs)],
          edges: [...inEdges(p, n.id), ...outEdges(p, n.id)],
          get labels() {
            return edgeLabels();
          },
          code: { pass: "forward", node: n.id },
        };
      }
      case "backward": {
        const n = snap.nodes[s.node]!;
        return {
          title: `Backward pass · ${dname(p, n.id)}`,
          lines: gradientLines(p, n.id),
          current: [n.id],
          related: [...new Set(n.uses.map((u) => u.node))],
          edges: outEdges(p, n.id),
          get labels() {
            return edgeLabels();
          },
          code: { pass: "backward", node: n.id },
        };
      }
      default: {
        const never: never = s;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  };
  return {
    length: steps.length,
    backwardStart,
    frame,
    stepOf(node, pass) {
      return (pass === "forward" ? forwardAt.get(node) : backwardAt.get(node)) ?? (pass === "forward" ? 0 : backwardStart);
    },
  };
}

/** The tangent's name: `ẋ` (a dot over the name's first letter). */
export function dotted(name: string): string {
  const [first, ...rest] = [...name];
  return `${first ?? ""}\u0307${rest.join("")}`;
}

/**
 * Forward mode for one input: seed its tangent with 1 and push tangents left to right, ṅ = Σ ∂n/∂a · ȧ over the
 * operands a that depend on the input. Tangents come from the snapshot's local derivatives (the jvp of a scalar
 * op is exactly that sum); operation counts come from the library's `forwardMode`.
 */
export function forwardModeStepper(p: Problem, wrt: number): Stepper & { tangents: (number | null)[] } {
  const { snap } = p;
  const tangents: (number | null)[] = snap.nodes.map(() => null);
  tangents[wrt] = 1;
  const steps: number[] = [wrt];
  for (const n of snap.nodes) {
    if (n.kind !== "op" || !n.requiresGrad) continue;
    let t: number | null = null;
    n.inputs.forEach((x, i) => {
      const dx = tangents[x];
      const local = n.locals[i];
      if (dx === null || dx === undefined || local === null || local === undefined) return;
      t = (t ?? 0) + local * dx;
    });
    if (t !== null) {
      tangents[n.id] = t;
      steps.push(n.id);
    }
  }
  const at = new Map<number, number>();
  steps.forEach((id, k) => at.set(id, k));
  const w = snap.nodes[wrt]!;
  const frame = (k: number): Frame => {
    const id = steps[k]!;
    const n = snap.nodes[id]!;
    const known = (x: number) => (at.get(x) ?? Infinity) <= k;
    const edgeLabels = once(() => labels(p, () => true, (e) => (known(e.from) ? `${dotted(snap.nodes[e.from]!.name)} = ${fmt(tangents[e.from]!)}` : "")));
    const tangentOf = (x: SnapshotNode) => `${dotted(x.name)}`;
    if (id === wrt) {
      const others = snap.params.filter((q) => q !== wrt).map((q) => tangentOf(snap.nodes[q]!));
      return {
        title: `Forward mode for ${w.name} · seed`,
        lines: [
          { label: "seed", text: `${tangentOf(w)} = ∂${w.name}/∂${w.name} = 1`, kind: "result" },
          { text: `${others.length > 0 ? `${others.join(", ")} = 0. ` : ""}Each tangent ṅ = ∂n/∂${w.name} is pushed left to right: ṅ = Σ ∂n/∂a · ȧ over n's inputs a.`, kind: "note" },
        ],
        current: [id],
        related: [],
        edges: outEdges(p, id),
        get labels() {
          return edgeLabels();
        },
        code: null,
      };
    }
    const live = n.inputs.map((x, i) => ({ x, i })).filter(({ x, i }) => tangents[x] !== null && n.locals[i] !== null && known(x));
    const symbolic = live.map(({ x }) => `∂${n.name}/∂${snap.nodes[x]!.name} · ${tangentOf(snap.nodes[x]!)}`).join(" + ");
    const numbers = live.map(({ x, i }, j) => `${factor(n.locals[i]!, j === 0)} · ${factor(tangents[x]!, false)}`).join(" + ");
    const lines: Line[] = live.map(({ i }) => ({ label: "local derivative", text: localText(snap, n, i, n.locals[i]!), kind: "formula" as const }));
    lines.push({ label: "tangent", text: `${tangentOf(n)} = ${symbolic} = ${numbers} = ${fmt(tangents[id]!)}`, kind: "result" });
    if (id === snap.root) lines.push({ text: `${n.name} is the output: ∂${p.output}/∂${w.name} = ${fmt(tangents[id]!)}`, kind: "result" });
    return {
      title: `Forward mode for ${w.name} · node ${n.name}`,
      lines,
      current: [id],
      related: [...new Set(live.map(({ x }) => x))],
      edges: inEdges(p, id).filter((e) => live.some(({ i }) => p.edges[e]!.input === i)),
      get labels() {
        return edgeLabels();
      },
      code: { pass: "forward", node: id },
    };
  };
  if (tangents[snap.root] === null) {
    // The output does not depend on the input: one more step says so.
    const base = frame;
    return {
      length: steps.length + 1,
      tangents,
      frame: (k) =>
        k < steps.length
          ? base(k)
          : {
              ...base(steps.length - 1),
              title: `Forward mode for ${w.name} · the output`,
              lines: [{ text: `No tangent reaches ${snap.nodes[snap.root]!.name}: ${p.output} does not depend on ${w.name}, ∂${p.output}/∂${w.name} = 0.`, kind: "result" }],
              current: [snap.root],
              related: [],
              edges: [],
              code: null,
            },
    };
  }
  return { length: steps.length, tangents, frame };
}

/** The path-product algorithm for one input: one step per path, then the sum of their products. */
export function pathsStepper(p: Problem, wrt: string): Stepper & { data: PathsData | null; error: string | null } {
  const { snap } = p;
  const result = pathsFor(p, wrt);
  const valueLabels = labels(p, () => true, () => "");
  if ("error" in result) {
    const wrtId = snap.params.find((q) => snap.nodes[q]!.name === wrt) ?? null;
    return {
      length: 1,
      data: null,
      error: result.error,
      frame: () => ({
        title: `Path products for ${wrt}`,
        lines: [{ text: result.error, kind: "note" }],
        current: wrtId === null ? [] : [wrtId],
        related: [],
        edges: [],
        labels: valueLabels,
        code: null,
      }),
    };
  }
  const data = result;
  const byName = new Map<string, number>();
  for (const n of snap.nodes) if (n.kind !== "const") byName.set(n.name, n.id);
  const edgeOf = (from: string, to: string, input: number) =>
    p.edges.find((e) => e.to !== null && e.from === byName.get(from) && e.to === byName.get(to) && e.input === input)!.index;
  const pathEdges = data.paths.map((path) => path.steps.map((s) => edgeOf(s.from, s.to, s.input)));
  const wrtId = byName.get(wrt)!;
  const f = p.output;
  const rootName = snap.nodes[snap.root]!.name;
  const withLocals = (path: number) => {
    const local = new Map<number, string>();
    data.paths[path]!.steps.forEach((s, k) => local.set(pathEdges[path]![k]!, `∂${s.to}/∂${s.from} = ${fmt(s.local)}`));
    return labels(p, () => true, (e) => local.get(e.index) ?? "");
  };
  const sumStep = data.paths.length > 1 || data.paths.length === 0;
  const length = data.paths.length + (sumStep ? 1 : 0);
  const frame = (k: number): Frame => {
    if (k < data.paths.length) {
      const path = data.paths[k]!;
      const factors = path.steps.map((s, i) => factor(s.local, i === 0));
      return {
        title: `Path ${k + 1} of ${data.paths.length} from ${wrt} to ${rootName}`,
        lines: [
          { label: "path", text: path.nodes.join(" → "), kind: "formula" },
          ...path.steps.map((s) => ({
            label: "local derivative",
            text: `∂${s.to}/∂${s.from} = ${s.localText === fmt(s.local) ? fmt(s.local) : `${s.localText} = ${fmt(s.local)}`}`,
          })),
          { label: "product", text: `${factors.length > 1 ? `${factors.join(" × ")} = ` : ""}${fmt(path.product)}`, kind: "result" },
          ...(data.paths.length === 1 ? [{ text: `One path: ∂${f}/∂${wrt} = its product = ${fmt(data.derivative)}`, kind: "result" as const }] : []),
        ],
        current: [wrtId],
        related: path.nodes.slice(1).map((name) => byName.get(name)!),
        edges: pathEdges[k]!,
        get labels() {
          return withLocals(k);
        },
        code: null,
      };
    }
    if (data.paths.length === 0) {
      return {
        title: `Path products for ${wrt}`,
        lines: [{ text: `No path leads from ${wrt} to ${rootName}: ∂${f}/∂${wrt} = 0`, kind: "result" }],
        current: [wrtId],
        related: [],
        edges: [],
        labels: valueLabels,
        code: null,
      };
    }
    return {
      title: `The sum over the ${data.paths.length} paths`,
      lines: [
        ...data.paths.map((path, i) => ({ label: `path ${i + 1}`, text: `${path.nodes.join(" → ")}: ${fmt(path.product)}` })),
        { label: "sum", text: `∂${f}/∂${wrt} = ${sumText(data.paths.map((q) => q.product))} = ${fmt(data.derivative)}`, kind: "result" },
      ],
      current: [wrtId],
      related: [...new Set(data.paths.flatMap((path) => path.nodes.slice(1).map((name) => byName.get(name)!)))],
      edges: [...new Set(pathEdges.flat())],
      labels: valueLabels,
      code: null,
    };
  };
  return { length, data, error: null, frame };
}

/** The nodes a learner fills in, in backward order (the root's seed is given). */
export function practiceOrder(p: Problem): number[] {
  return p.snap.backwardOrder.filter((id) => id !== p.snap.root);
}

/** The graph during practice: the gradients known so far (the seed and the answered nodes) on the edges. */
export function practiceFrame(p: Problem, answered: ReadonlySet<number>, current: number | null): Frame {
  const { snap } = p;
  const known = (id: number) => id === snap.root || answered.has(id);
  return {
    title: current === null ? "All gradients found" : `Practice · ${dname(p, current)}`,
    lines: [],
    current: current === null ? [] : [current],
    related: current === null ? [] : [...new Set(snap.nodes[current]!.uses.map((u) => u.node))],
    edges: current === null ? [] : outEdges(p, current),
    get labels() {
      return labels(p, () => true, (e) => (known(e.from) ? gradPart(snap, e) : ""));
    },
    code: current === null ? null : { pass: "backward", node: current },
  };
}

/**
 * A tensor expression, node by node: the forward pass (formula, shape, value), then the backward pass (each
 * gradient, of the same shape as its node). The edges keep the DOT's labels: names and shapes.
 */
export function tensorStepper(t: TensorProblem): Stepper & { backwardStart: number } {
  const { view } = t;
  const nodes = view.nodes;
  type Step = { kind: "start" } | { kind: "forward"; node: number } | { kind: "backward"; node: number };
  const steps: Step[] = [{ kind: "start" }];
  for (const n of nodes) if (n.kind === "op") steps.push({ kind: "forward", node: n.id });
  const backwardStart = steps.length;
  const withGrad = nodes.filter((n) => n.grad !== null).map((n) => n.id);
  for (const id of [view.root, ...withGrad.filter((id) => id !== view.root).reverse()]) if (nodes[id]!.grad !== null) steps.push({ kind: "backward", node: id });
  const edges = (pred: (e: Edge) => boolean) => t.edges.filter(pred).map((e) => e.index);
  const f = t.output;
  const frame = (k: number): Frame => {
    const s = steps[k]!;
    const base = { labels: [] as string[], code: null };
    if (s.kind === "start") {
      const inputs = nodes.filter((n) => n.kind === "input");
      return {
        ...base,
        title: "Forward pass · the inputs",
        lines: [
          ...inputs.map((n) => ({ label: `${n.name} ${shapeText(n.shape)}`, text: nested(n.value), kind: "formula" as const })),
          { text: "Each edge shows its value's name and shape; evaluate left to right.", kind: "note" },
        ],
        current: inputs.map((n) => n.id),
        related: [],
        edges: edges((e) => inputs.some((n) => n.id === e.from)),
      };
    }
    const n = nodes[s.node]!;
    if (s.kind === "forward") {
      return {
        ...base,
        title: `Forward pass · node ${n.name}`,
        lines: [
          { label: "operation", text: `${n.name} = ${n.formula}`, kind: "formula" },
          { label: "inputs", text: n.inputs.map((x) => `${nodes[x]!.name} ${shapeText(nodes[x]!.shape)}`).join(", ") },
          { label: "shape", text: shapeText(n.shape) },
          { label: "value", text: `${n.name} = ${nested(n.value)}`, kind: "result" },
        ],
        current: [n.id],
        related: [...new Set(n.inputs)],
        edges: edges((e) => e.to === n.id || e.from === n.id),
      };
    }
    const users = nodes.filter((u) => u.inputs.includes(n.id));
    const lines: Line[] =
      n.id === view.root
        ? view.seededWithOnes
          ? [
              { label: "seed", text: `∇${n.name} = ones${shapeText(n.shape)}`, kind: "result" },
              { text: `${f} has shape ${shapeText(n.shape)}, not a single value: the backward pass is seeded with ones, the gradient of sum(${f}), as the lecture does (dT = np.ones_like(T)).`, kind: "note" },
            ]
          : [
              { label: "seed", text: `∂${f}/∂${n.name} = 1`, kind: "result" },
              { text: `${n.name} is the output: the backward pass starts at the right.`, kind: "note" },
            ]
        : [
            { label: "used by", text: users.map((u) => `${u.name} = ${u.formula}`).join(";  ") },
            { label: "shape", text: `${shapeText(n.shape)}, as ${n.name}'s` },
            { label: "gradient", text: `∇${n.name} = ${nested(n.grad)}`, kind: "result" },
            {
              text: `Each tensor op sends back a vector-Jacobian product of the incoming gradient${users.length > 1 ? `; ${n.name} is used ${users.length} times, so the contributions add up` : ""}.`,
              kind: "note",
            },
          ];
    return {
      ...base,
      title: `Backward pass · ∇${n.name}${n.id === view.root ? "" : ` = ∂${view.seededWithOnes ? `sum(${f})` : f}/∂${n.name}`}`,
      lines,
      current: [n.id],
      related: [...new Set(users.map((u) => u.id))],
      edges: edges((e) => e.from === n.id),
    };
  };
  return { length: steps.length, backwardStart, frame };
}
