/**
 * The engine's hook for `compile` (src/compile/): while a function is traced, every kernel the engine runs on raw
 * arrays (`applyRaw`, `runFused`), every copy it makes outside a kernel, every value JavaScript computes for the
 * step (`host`: an optimizer's learning rate, a random draw, labels turned into indices) and every tensor whose
 * value or gradient the step reads or writes is reported to the recorder. Outside a trace `recording.current` is
 * null and each hook costs one null check.
 */
import type { AnyOp, DType } from "../ops/op.js";
import type { AluNode } from "../ops/alu.js";
import type { NDArray } from "./ndarray.js";
import type { Tensor } from "./tensor.js";

/** What a trace is told. */
export interface Recorder {
  /** A primitive ran: `out = op(xs; params)`. */
  op(op: AnyOp, xs: readonly NDArray[], params: unknown, out: NDArray): void;
  /** A fused elementwise kernel ran: `out = root(xs)`; `inPlace` when `out` was given (written over). */
  fused(root: AluNode, xs: readonly NDArray[], out: NDArray, inPlace: boolean): void;
  /** `out` is a copy of `src` in dtype `dtype` (made outside a kernel). */
  copy(src: NDArray, out: NDArray, dtype: DType): void;
  /** `out` is a copy of `src` that a tensor takes as its own storage before writing it in place (`update`). */
  own(src: NDArray, out: NDArray): void;
  /** JavaScript computed `outs` from `xs` (and state it reads), and will again at each call: `fn(xs)`. */
  host(xs: readonly NDArray[], outs: readonly NDArray[], fn: (xs: readonly NDArray[]) => NDArray[], name: string): void;
  /** Integer indices were read from `src` (gather/scatter): `index` must be recomputed from it at each call. */
  index(src: NDArray, index: Int32Array): void;
  /** The array the trace recomputes `index` from (told by {@link index}), if any. */
  indexSource(index: Int32Array): NDArray | undefined;
  /** A tensor the step reads or writes (its value or gradient may be state that outlives the call). */
  tensor(t: Tensor): void;
  /** A tensor's `.grad` is about to be set to `grad` (null: cleared, as `zeroGrad` does). */
  gradSet(t: Tensor, grad: Tensor | null): void;
  /** A tensor's `.grad` was read (by the user's code or the engine's: backward adding into it, an optimizer). */
  gradRead(t: Tensor): void;
  /** A tensor's `requiresGrad` is about to be set (it still holds the value before). */
  requiresGradSet(t: Tensor): void;
  /** The user's code read values of `x` (`item()`, `toArray()`): the step depends on data; `what` names the read. */
  read(x: NDArray, what: string): void;
  /** A condition on JavaScript state that decided what was traced (checked before each replay). */
  guard(key: () => string): void;
}

/** The recorder of the trace in progress, or null. */
export const recording: { current: Recorder | null } = { current: null };

/**
 * Runs JavaScript that computes arrays from arrays as one step of the program: eagerly, `fn(xs)`; in a trace,
 * recorded so that a compiled step runs `fn` again on each call's values (optimizer scalars that change with the
 * step count or a schedule, random draws, labels checked and turned into indices). `name` names the step in a
 * printed program and in an exported ONNX model's inputs (an identifier: `lr`, `labels`).
 */
export function host(name: string, xs: readonly NDArray[], fn: (xs: readonly NDArray[]) => NDArray[]): NDArray[] {
  const outs = fn(xs);
  recording.current?.host(xs, outs, fn, name);
  return outs;
}

/** Records a condition on JavaScript state that a trace depends on (an optimizer's buffers exist or not). */
export function guard(key: () => string): void {
  recording.current?.guard(key);
}
