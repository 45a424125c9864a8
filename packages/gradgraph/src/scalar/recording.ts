/**
 * The scalar engine's hook for `compile` (src/compile/scalar.ts): while a `Value` program is traced, what the
 * tape itself does not record is reported to the recorder — an entry imported from another tape (a parameter, an
 * argument), a read or a write of a node's `data` or `grad` from JavaScript, each `backward()`, and an optimizer's
 * update. Outside a trace `scalarRecording.current` is null and each hook costs one null check.
 */
import type { Tape } from "./tape.js";

/** What the recorder is shown of a `Value`: its tape and entry (a `Value`, typed loosely to keep layers apart). */
export interface ScalarNode {
  readonly t: Tape;
  readonly i: number;
}

/** What a trace of a `Value` program is told. */
export interface ScalarRecorder {
  /** `x`, a node of another tape, got entry `index` on tape `T` (an import). */
  imported(T: Tape, x: ScalarNode, index: number): void;
  /** JavaScript read `x.data` or `x.grad`. */
  read(x: ScalarNode, field: "data" | "grad"): void;
  /** JavaScript wrote `x.data`, `x.grad` (the number `value`) or `x.requiresGrad`. */
  write(x: ScalarNode, field: "data" | "grad" | "requiresGrad", value: number): void;
  /** `root.backward()` was called. */
  backward(root: ScalarNode): void;
  /**
   * An optimizer's step: for each parameter in order, `p.data -= lr() * p.grad`; `run` does it now (its reads
   * and writes are the update's own, not reported one by one). `list` is the optimizer's own array, read again
   * at each replay.
   */
  update(list: readonly ScalarNode[], lr: () => number, run: () => void): void;
}

/** The recorder of the scalar trace in progress, or null. */
export const scalarRecording: { current: ScalarRecorder | null } = { current: null };
