/**
 * The parts of gradgraph's program IR (the traced step `compile` runs: gradgraph's compile/program.ts) that the
 * ONNX export reads, as structural types: a `Program` of gradgraph satisfies `ProgramLike`.
 */
import type { Tensor } from "gradgraph";
import type { AluNode, AnyOp, DType, Shape } from "gradgraph/ops";

/** An array of a program. */
export interface VarLike {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Where a var no step computes comes from. */
export type SourceLike =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "state"; readonly tensor: Tensor; readonly field: "value" | "grad" }
  | { readonly kind: "constant"; readonly value: Tensor["value"] };

/** One step of a program. */
export type StepLike =
  | { readonly kind: "op"; readonly op: AnyOp; readonly params: unknown; readonly inputs: readonly VarLike[]; readonly out: VarLike; readonly index?: VarLike }
  | { readonly kind: "fused"; readonly expr: AluNode; readonly inputs: readonly VarLike[]; readonly out: VarLike; readonly into?: VarLike }
  | { readonly kind: "copy"; readonly input: VarLike; readonly out: VarLike }
  | { readonly kind: "host"; readonly inputs: readonly VarLike[]; readonly outs: readonly VarLike[]; readonly name: string };

/** What a call leaves in a tensor. */
export interface EffectLike {
  readonly tensor: Tensor;
  readonly field: "value" | "grad";
  readonly var: VarLike | null;
}

/** A traced step. */
export interface ProgramLike {
  readonly inputs: readonly VarLike[];
  readonly sources: ReadonlyMap<VarLike, SourceLike>;
  readonly steps: readonly StepLike[];
  readonly outputs: readonly VarLike[];
  readonly effects: readonly EffectLike[];
}
