/**
 * A program drawn as Graphviz DOT, in the lecture's style (left to right; operations are nodes, values are the
 * edges between them, labelled with the var and its shape): inputs, state and constants as sources, each fused
 * kernel as a cluster holding the ALU instructions it runs, writes in place and the values a call leaves in
 * tensors as sinks on the right, JavaScript (host) steps as dashed boxes. Self-contained: `render/` draws
 * snapshots of eager graphs, this draws the compiled program, and neither imports the other.
 */
import { scheduleAll, type AluNode } from "../ops/alu.js";
import { formatShape } from "../ops/shape.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { Tensor } from "../tensor/tensor.js";
import { exprString, stepName, stepOutputs, type Program, type Step, type Var } from "./program.js";

/** Options of {@link programDot}. */
export interface ProgramDotOptions {
  /** The graph's name in DOT (default `program`). */
  name?: string;
  /** A state tensor's name (default: its `label`, else `tensor#id`, as `programString`). */
  names?: (t: Tensor) => string;
  /** The inputs' names, in order (default `input 0`, `input 1`, …). */
  inputNames?: readonly string[];
  /** `LR` (default, as the lecture's graphs) or `TB` (top to bottom, for long programs on narrow pages). */
  direction?: "LR" | "TB";
}

const DOT_KEYS = optionKeys<ProgramDotOptions>({ name: true, names: true, inputNames: true, direction: true });

/** Colours: a fused kernel blue, a write in place orange, JavaScript grey (the explorer's palette). */
const KERNEL = 'color="#3b6fd6"; fillcolor="#eef3fd"';
const IN_PLACE = 'color="#d9822b"; fillcolor="#fdf3e7"';

/** A DOT double-quoted string. */
const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;

/** A number as short as it reads (0.09999999999999998 → 0.1). */
const num = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));

const typeOf = (v: Var) => `${v.dtype === "float32" ? "f32" : "f64"}${formatShape(v.shape)}`;
const label = (v: Var) => `%${v.id} ${typeOf(v)}`;

/**
 * The program as Graphviz DOT. Node ids are stable: `v7` for source var %7 (an input, state or a constant array),
 * `s3` for step 3 (an op, copy or JavaScript step), `cluster_s3` for step 3 when it is a fused kernel and `s3_k`
 * for its k-th ALU instruction; `out0`, … the results, `w0`, … what the call leaves in tensors. Each fused step
 * (`kind: "fused"`) is one cluster — a kernel the target runs in one pass over memory — with one node per ALU
 * instruction (add, mul, select, exp, …; `round`, which only marks where an op's result would have been stored,
 * is not drawn), its inputs `$k` drawn as edges from the vars outside. Single-element constants are drawn at each
 * use. A write in place is an orange cluster ending in `name ← (in place)`; an effect is a box `name.grad ←`.
 *
 * @example
 * const p = stepProgram((x: Tensor) => x.mul(2).add(1).relu().sum(), ones([3]));
 * programDot(p, { inputNames: ["x"] });
 * // digraph "program" {
 * //   graph [rankdir=LR, ordering=in, fontname="Helvetica", fontsize=11];
 * //   ...
 * //   subgraph cluster_s0 {
 * //     style="rounded,filled"; color="#3b6fd6"; fillcolor="#eef3fd"; label="kernel %5 · 4 instructions"; ...
 * //     s0_0 [label="mul", ...];
 * //     ...
 * //   }
 * //   s1 [label="sum", shape=ellipse, tooltip="%6 f32[] = sum(%5)"];
 * //   ...
 * //   v0 -> s0_0 [label="%0 f32[3]"];
 * //   ...
 * // }
 */
export function programDot(program: Program, options: ProgramDotOptions = {}): string {
  expectOptions("programDot", options, DOT_KEYS);
  const name = options.names ?? ((t: Tensor) => t.label ?? `tensor#${t.id}`);
  const lines = [
    `digraph ${q(options.name ?? "program")} {`,
    `  graph [rankdir=${options.direction ?? "LR"}, ordering=in, fontname="Helvetica", fontsize=11];`,
    '  node [fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
  ];
  const edges: string[] = [];
  /** The DOT node each var leaves from; single-element constants are absent (drawn at each use). */
  const from = new Map<number, string>();
  const scalars = new Map<number, number>();
  let uses = 0;
  /** An edge carrying var v into DOT node `to`. */
  const edge = (v: Var, to: string, extra = "") => {
    const c = scalars.get(v.id);
    if (c !== undefined) {
      const id = `c${v.id}_${++uses}`;
      edges.push(`  ${id} [label=${q(num(c))}, shape=plaintext, fontcolor="gray30", fontsize=10];`, `  ${id} -> ${to};`);
      return;
    }
    const src = from.get(v.id);
    if (src === undefined) throw new Error(`programDot: %${v.id} is read before any step computes it`);
    edges.push(`  ${src} -> ${to} [label=${q(label(v))}${extra}];`);
  };

  // Sources: inputs on the left, then state, then constant arrays.
  const inputIds: string[] = [];
  for (const [v, s] of program.sources) {
    const id = `v${v.id}`;
    if (s.kind === "input") {
      const n = options.inputNames?.[s.index] ?? `input ${s.index}`;
      lines.push(`  ${id} [label=${q(n)}, shape=plaintext, fontsize=14, tooltip=${q(`${label(v)}: the call's argument ${s.index}`)}];`);
      inputIds.push(id);
    } else if (s.kind === "state") {
      const n = `${name(s.tensor)}${s.field === "grad" ? ".grad" : ""}`;
      lines.push(`  ${id} [label=${q(n)}, shape=box, style=rounded, tooltip=${q(`${label(v)}: state, read at each call`)}];`);
    } else if (s.value.size === 1) {
      scalars.set(v.id, s.value.data[s.value.offset]!);
      continue;
    } else {
      lines.push(`  ${id} [label=${q(`constant ${typeOf(v)}`)}, shape=plaintext, fontcolor="gray30", tooltip=${q(`${label(v)}: fixed when traced`)}];`);
    }
    from.set(v.id, id);
  }
  if (inputIds.length > 1) lines.push(`  { rank=source; ${inputIds.join("; ")}; }`);

  const d: Drawing = { lines, edges, edge, scalars, name, program };
  program.steps.forEach((s, i) => {
    const id = `s${i}`;
    if (s.kind === "fused" || s.kind === "kernel") {
      const ids = kernelCluster(s, id, d);
      stepOutputs(s).forEach((o, j) => from.set(o.id, ids[j]!));
      return;
    }
    plainStep(s, id, d);
    for (const o of s.kind === "host" ? s.outs : [s.out]) from.set(o.id, id);
  });

  // Sinks: the results, then what the call leaves in tensors.
  program.outputs.forEach((v, k) => {
    lines.push(`  out${k} [label="", shape=point, width=0.08, tooltip=${q(`result ${k}`)}];`);
    edge(v, `out${k}`);
  });
  program.effects.forEach((e, k) => {
    const n = `${name(e.tensor)}${e.field === "grad" ? ".grad" : ""}`;
    lines.push(`  w${k} [label=${q(`${n} ←${e.var === null ? " null" : ""}`)}, shape=box, style="rounded,bold", tooltip=${q(`left in ${n} after the call`)}];`);
    if (e.var !== null) edge(e.var, `w${k}`);
  });
  return [...lines, ...edges, "}"].join("\n") + "\n";
}

const skipRounds = (n: AluNode): AluNode => (n.op === "round" ? skipRounds(n.args[0]!) : n);

/** The instructions drawn for DAGs, in evaluation order: not inputs, constants or rounds; the roots always. */
function drawn(roots: readonly AluNode[]): AluNode[] {
  const out = scheduleAll(roots).filter((n) => n.op !== "input" && n.op !== "const" && n.op !== "round");
  for (const r of roots.map(skipRounds)) if (!out.includes(r)) out.push(r);
  return out;
}

/** An op, copy or JavaScript step as one node, with its inputs' edges. */
function plainStep(s: Exclude<Step, { kind: "fused" } | { kind: "kernel" }>, id: string, d: Drawing): void {
  switch (s.kind) {
    case "op": {
      const n = s.op.name;
      const view = s.view ? ", style=dashed" : "";
      const tip = `${label(s.out)} = ${n}(${s.inputs.map((x) => `%${x.id}`).join(", ")})${s.view ? ": a view of its input's storage" : ""}`;
      d.lines.push(`  ${id} [label=${q(n)}, shape=${n.length <= 2 ? "circle" : "ellipse"}${view}, tooltip=${q(tip)}];`);
      s.inputs.forEach((x) => d.edge(x, id));
      if (s.index !== undefined) d.edge(s.index, id, ', style=dotted, headlabel="indices"');
      return;
    }
    case "copy":
      d.lines.push(`  ${id} [label="copy", shape=ellipse, tooltip=${q(`${label(s.out)} = a contiguous copy of %${s.input.id}`)}];`);
      d.edge(s.input, id);
      return;
    case "host": {
      const what = `JavaScript: ${s.name}`;
      const tip = `run in JavaScript at each call (${stepName(s)}) → ${s.outs.map(label).join(", ") || "nothing"}`;
      d.lines.push(`  ${id} [label=${q(what)}, shape=box, style="dashed,rounded", color="gray40", fontcolor="gray25", tooltip=${q(tip)}];`);
      s.inputs.forEach((x) => d.edge(x, id));
      return;
    }
  }
}

/** What drawing a step needs of {@link programDot}'s state. */
interface Drawing {
  readonly lines: string[];
  readonly edges: string[];
  readonly edge: (v: Var, to: string, extra?: string) => void;
  /** The single-element constants' values, by var id (drawn at each use). */
  readonly scalars: ReadonlyMap<number, number>;
  readonly name: (t: Tensor) => string;
  readonly program: Program;
}

/**
 * A fused step or a kernel step as a cluster: one node per instruction; constants (the DAG's own and single-element
 * constant vars) drawn inside, next to the instruction that reads them; other inputs as edges from the vars
 * outside; a sum (a fused reduction) as a `sum` node after the instruction it adds up. Edges are written in
 * operand order, which `ordering=in` keeps top to bottom. Returns the DOT id each output leaves from.
 */
function kernelCluster(s: Step & ({ kind: "fused" } | { kind: "kernel" }), id: string, d: Drawing): string[] {
  const outs: readonly { expr: AluNode; out: Var; sum?: readonly number[] }[] = s.kind === "fused" ? [{ expr: s.expr, out: s.out }] : s.outs;
  const nodes = drawn(outs.map((o) => o.expr));
  const idOf = new Map(nodes.map((n, k) => [n, `${id}_${k}`] as const));
  const into = s.kind === "fused" ? s.into : undefined;
  let target = "";
  if (into !== undefined) {
    const src = d.program.sources.get(into);
    target = src?.kind === "state" ? d.name(src.tensor) : `%${into.id}`;
  }
  const sums = outs.filter((o) => o.sum !== undefined).length;
  const count = nodes.length + sums;
  const what = outs.length === 1 ? `kernel %${outs[0]!.out.id}` : `kernel ${outs.map((o) => `%${o.out.id}`).join(", ")}`;
  const title = `${what} · ${count} instruction${count === 1 ? "" : "s"}${into !== undefined ? ` · in place → ${target}` : ""}`;
  const tip = outs.map((o) => `%${o.out.id} = ${o.sum === undefined ? exprString(o.expr) : `sum[${o.sum.join(",")}](${exprString(o.expr)})`}`).join("; ");
  d.lines.push(`  subgraph cluster_${id} {`, `    style="rounded,filled"; ${into !== undefined ? IN_PLACE : KERNEL}; label=${q(title)}; fontsize=10; tooltip=${q(tip)};`);
  const constant = (self: string, j: number, value: number) => {
    const c = `${self}_c${j}`;
    d.lines.push(`    ${c} [label=${q(num(value))}, shape=plaintext, fontcolor="gray30", fontsize=9, height=0.2];`);
    d.edges.push(`  ${c} -> ${self} [arrowsize=0.5];`);
  };
  const alu = `shape=ellipse, fontsize=10, height=0.3, margin="0.04,0.02", class="alu"`;
  nodes.forEach((n, k) => {
    const self = `${id}_${k}`;
    // An input or constant at the root (a kernel that only copies or fills) is drawn as "=".
    const text = n.op === "input" || n.op === "const" ? "=" : n.op;
    d.lines.push(`    ${self} [label=${q(text)}, ${alu}];`);
    const args = "args" in n ? n.args : [n];
    args.forEach((a0, j) => {
      const a = skipRounds(a0);
      if (a.op === "const") constant(self, j, a.value);
      else if (a.op !== "input") d.edges.push(`  ${idOf.get(a)!} -> ${self} [arrowsize=0.5];`);
      else {
        const v = s.inputs[a.index]!;
        const c = d.scalars.get(v.id);
        if (c === undefined) d.edge(v, self);
        else constant(self, j, c);
      }
    });
  });
  const ids = outs.map((o, j) => {
    const r = idOf.get(skipRounds(o.expr))!;
    if (o.sum === undefined) return r;
    const self = `${id}_sum${j}`;
    d.lines.push(`    ${self} [label="sum", ${alu}, tooltip=${q(`summed over axes ${o.sum.join(", ")}`)}];`);
    d.edges.push(`  ${r} -> ${self} [arrowsize=0.5];`);
    return self;
  });
  d.lines.push("  }");
  if (into !== undefined) {
    d.lines.push(`  ${id}_w [label=${q(`${target} ← (in place)`)}, shape=box, style="rounded,bold", color="#d9822b"];`);
    d.edges.push(`  ${ids[0]!} -> ${id}_w [label=${q(`%${outs[0]!.out.id}`)}, color="#d9822b"];`);
  }
  return ids;
}
