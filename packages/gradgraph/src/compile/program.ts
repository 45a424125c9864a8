/**
 * The program a traced step is: the lecture's computational graph, written down once as a static list of steps
 * (forward, backward and update together), which the passes (./passes.ts) simplify and the targets run (./cpu.ts,
 * and ONNX Runtime through `gradgraph-onnx`). Every array of the step is a {@link Var}: an input, state read from a
 * tensor at each call, a constant, or the result of a step.
 */
import type { AluNode } from "../ops/alu.js";
import type { AnyOp, DType } from "../ops/op.js";
import { formatShape, type Shape } from "../ops/shape.js";
import type { NDArray } from "../tensor/ndarray.js";
import type { Tensor } from "../tensor/tensor.js";
import type { TreeSpec } from "../autodiff/tree.js";

export { CompileError } from "./errors.js";

/** An array of a program: its number (`%7`), shape and dtype. */
export interface Var {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Where a var that no step computes comes from at each call. */
export type Source =
  /** The `index`-th tensor leaf of the call's arguments. */
  | { readonly kind: "input"; readonly index: number }
  /** A tensor the step reads and may write (a parameter, an optimizer's moment buffer, a `.grad`): read at each call. */
  | { readonly kind: "state"; readonly tensor: Tensor; readonly field: "value" | "grad" }
  /** Fixed when traced (a number written in the code, a tensor made inside the step from constants). */
  | { readonly kind: "constant"; readonly value: NDArray };

/** One step of a program. */
export type Step =
  /**
   * A primitive of the op table. `view`: the result shares its first input's storage (reshape, permute, …).
   * `index`: the op's integer indices (gather, scatterAdd) are this var's values, read at each call.
   */
  | { readonly kind: "op"; readonly op: AnyOp; readonly params: unknown; readonly inputs: readonly Var[]; readonly out: Var; readonly view: boolean; readonly index?: Var }
  /**
   * An elementwise expression of its inputs (an ALU DAG, as the backends print kernels from): one op of the
   * table, or a chain of them fused by the passes. With `into`, the result is written over that state var's
   * storage in place (an optimizer's update), and `out` is its new version.
   */
  | { readonly kind: "fused"; readonly expr: AluNode; readonly inputs: readonly Var[]; readonly out: Var; readonly into?: Var }
  /**
   * A multi-output kernel (made by the passes): one pass over `shape` (the inputs broadcast to it) computing
   * several results, each an elementwise expression of the inputs stored as an array of `shape`, or summed over
   * axes (a fused reduction). The outputs' DAGs share their common nodes, computed once per element.
   */
  | { readonly kind: "kernel"; readonly inputs: readonly Var[]; readonly shape: Shape; readonly outs: readonly KernelOutput[] }
  /** A contiguous copy, in `out`'s dtype. */
  | { readonly kind: "copy"; readonly input: Var; readonly out: Var }
  /** JavaScript run at each call (an optimizer's scalars, a random draw, labels checked and made indices). */
  | {
      readonly kind: "host";
      readonly inputs: readonly Var[];
      readonly outs: readonly Var[];
      /** The JavaScript: the arrays of `outs` from those of `inputs` (and the state it reads). */
      readonly fn: (xs: readonly NDArray[]) => NDArray[];
      readonly name: string;
    };

/** A result of a multi-output kernel step. */
export interface KernelOutput {
  /** Its expression of the step's inputs (`$k` is input k). */
  readonly expr: AluNode;
  readonly out: Var;
  /**
   * Summed over these axes of the kernel's shape (all of them, the leading ones or the trailing ones), `out` the
   * sums; absent: stored, `out` of the kernel's shape.
   */
  readonly sum?: readonly number[];
}

/** What a call leaves in a tensor: its value or its `.grad` becomes a var (null: `.grad` cleared). */
export interface Effect {
  readonly tensor: Tensor;
  readonly field: "value" | "grad";
  readonly var: Var | null;
}

/** A condition on JavaScript state the trace depended on, and the value it had. */
export interface Guard {
  /** Computes the condition's value now (compared with `value` before each replay). */
  readonly key: () => string;
  readonly value: string;
}

/** A traced step: inputs, steps in order, outputs, and what it leaves in tensors. */
export interface Program {
  /** One var per tensor leaf of the arguments, in order. */
  readonly inputs: readonly Var[];
  /** Where each var that no step computes comes from (inputs, state, constants). */
  readonly sources: ReadonlyMap<Var, Source>;
  readonly steps: readonly Step[];
  /** The result's tensor leaves, and the result's structure. */
  readonly outputs: readonly Var[];
  readonly outputSpec: TreeSpec;
  readonly effects: readonly Effect[];
  readonly guards: readonly Guard[];
}

/** The vars a step reads. */
export function stepInputs(s: Step): readonly Var[] {
  switch (s.kind) {
    case "op":
      return s.index === undefined ? s.inputs : [...s.inputs, s.index];
    case "fused":
      return s.into === undefined ? s.inputs : [...s.inputs, s.into];
    case "kernel":
      return s.inputs;
    case "copy":
      return [s.input];
    case "host":
      return s.inputs;
  }
}

/** The vars a step writes. */
export function stepOutputs(s: Step): readonly Var[] {
  return s.kind === "host" ? s.outs : s.kind === "kernel" ? s.outs.map((o) => o.out) : [s.out];
}

/** A step's name as printed: the op, `fused`, `kernel`, `copy`, or the host step's name. */
export function stepName(s: Step): string {
  return s.kind === "op" ? s.op.name : s.kind === "host" ? `host:${s.name}` : s.kind;
}

const typeOf = (v: Var) => `${v.dtype === "float32" ? "f32" : "f64"}${formatShape(v.shape)}`;

/** Prints an ALU DAG as an expression of `$0, $1, …` (shared subexpressions printed where used). */
export function exprString(root: AluNode): string {
  const go = (n: AluNode): string => (n.op === "input" ? `$${n.index}` : n.op === "const" ? String(n.value) : `${n.op}(${n.args.map(go).join(", ")})`);
  return go(root);
}

/**
 * The program as text, one line per step, like `traceProgram`:
 * `%5: f32[128,256] = matmul(%0, %1)`; sources first (`%1: f32[784,256] = state fc1.weight`).
 */
export function programString(p: Program, name = (t: Tensor) => t.label ?? `tensor#${t.id}`): string {
  const v = (x: Var) => `%${x.id}`;
  const lines = [`program(${p.inputs.map((x) => `${v(x)}: ${typeOf(x)}`).join(", ")}) {`];
  for (const [x, s] of p.sources) {
    if (s.kind === "input") continue;
    const what = s.kind === "state" ? `state ${name(s.tensor)}${s.field === "grad" ? ".grad" : ""}` : x.shape.length === 0 || s.value.size === 1 ? `constant ${s.value.data[s.value.offset]}` : "constant";
    lines.push(`  ${v(x)}: ${typeOf(x)} = ${what}`);
  }
  for (const s of p.steps) {
    const outs = stepOutputs(s).map((x) => `${v(x)}: ${typeOf(x)}`).join(", ");
    const args = stepInputs(s).map(v).join(", ");
    const extra =
      s.kind === "fused"
        ? ` ${exprString(s.expr)}${s.into ? " (in place)" : ""}`
        : s.kind === "kernel"
          ? ` over ${formatShape(s.shape)}: ${s.outs.map((o) => `${v(o.out)} = ${o.sum === undefined ? exprString(o.expr) : `sum[${o.sum.join(",")}](${exprString(o.expr)})`}`).join("; ")}`
          : "";
    lines.push(`  ${outs} = ${stepName(s)}(${args})${extra}`);
  }
  for (const e of p.effects) lines.push(`  ${name(e.tensor)}${e.field === "grad" ? ".grad" : ""} ← ${e.var === null ? "null" : v(e.var)}`);
  lines.push(`  return ${p.outputs.map(v).join(", ")}`, "}");
  return lines.join("\n");
}
