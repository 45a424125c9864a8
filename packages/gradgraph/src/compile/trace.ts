/**
 * Tracing: runs a step eagerly, once, while the engine reports every kernel, copy, host computation and tensor it
 * touches (tensor/recording.ts), and writes down the {@link Program} that repeats it. The call's own results are
 * the eager ones. What the program cannot repeat faithfully (the step read values into JavaScript, or wrote into
 * its argument) is collected as reasons: the caller then runs that step eagerly.
 */
import type { AluNode } from "../ops/alu.js";
import type { AnyOp, DType } from "../ops/op.js";
import { flattenTree, type TreeSpec } from "../autodiff/tree.js";
import type { NDArray, TypedArray } from "../tensor/ndarray.js";
import { recording, type Recorder } from "../tensor/recording.js";
import { gradMode, transforms } from "../tensor/grad-mode.js";
import { topoOrder } from "../core/graph.js";
import { nextTensorId, type Tensor } from "../tensor/tensor.js";
import { CompileError, type Effect, type Guard, type Program, type Source, type Step, type Var } from "./program.js";

/** A trace's outcome: the call's result, and the program (or why there is none). */
export interface Traced {
  readonly result: unknown;
  readonly program: Program | null;
  readonly reasons: readonly string[];
  /**
   * When an argument shared storage with a tensor the step touched (its value or `.grad`: a view of a parameter),
   * the tensors the step touched: the trace may have taken two arrays for one, so its program fits no other call.
   */
  readonly touched?: readonly Tensor[];
}

/** Whether two typed arrays overlap in memory (one buffer, intersecting byte ranges). */
export function overlaps(a: TypedArray, b: TypedArray): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

class Trace implements Recorder {
  readonly vars = new Map<NDArray, Var>();
  readonly sources = new Map<Var, Source>();
  readonly steps: Step[] = [];
  readonly guards: Guard[] = [];
  readonly reasons: string[] = [];
  /** Tensors made before the trace that it touched, with their value and grad arrays when first seen. */
  readonly state = new Map<Tensor, { value: NDArray; grad: NDArray | null; requiresGrad: boolean }>();
  private readonly indexOf = new WeakMap<Int32Array, NDArray>();
  /** Storage the step took a view of (reshape, permute, … share their input's storage). */
  private readonly viewed = new WeakSet<TypedArray>();
  /** For each version a write in place made, the state var whose storage it shares. */
  private readonly storage = new Map<Var, Var>();
  private nextVar = 0;

  constructor(
    readonly inputs: readonly Tensor[],
    /** Tensors with an id below this existed before the trace. */
    readonly firstId: number,
  ) {
    this.args = new Set(inputs);
  }

  newVar(x: { shape: readonly number[]; dtype: DType }): Var {
    return { id: this.nextVar++, shape: [...x.shape], dtype: x.dtype };
  }

  /** The var of an array, classifying an array seen for the first time as input, state or constant. */
  varOf(x: NDArray): Var {
    const known = this.vars.get(x);
    if (known !== undefined) return known;
    const v = this.newVar(x);
    this.vars.set(x, v);
    this.sources.set(v, this.classify(x));
    return v;
  }

  private classify(x: NDArray): Source {
    for (const [t] of this.state) if (t.grad?.value === x) return { kind: "state", tensor: t, field: "grad" };
    for (const [t] of this.state) if (t.value === x) return { kind: "state", tensor: t, field: "value" };
    return { kind: "constant", value: x };
  }

  /** Whether a var is computed by a step (not an input, state or constant). */
  computed(v: Var): boolean {
    return !this.sources.has(v);
  }

  /** Constant folding: a step of constants alone is not written down; its result, computed now, is a constant. */
  private folded(inputs: readonly Var[], out: NDArray): boolean {
    if (!inputs.every((v) => this.sources.get(v)?.kind === "constant")) return false;
    const v = this.newVar(out);
    this.vars.set(out, v);
    this.sources.set(v, { kind: "constant", value: out });
    return true;
  }

  /** Tensors whose `.grad` the step cleared. */
  private readonly cleared = new Set<Tensor>();
  /** The arguments' tensors. */
  private readonly args: ReadonlySet<Tensor>;

  gradSet(t: Tensor, grad: Tensor | null): void {
    // A program's effects are on tensors it knows at the trace (state); an argument is another tensor at each
    // call, and what its `.grad` held before the call is not an input of the program.
    if (this.args.has(t)) this.reasons.push("the step sets .grad of its argument (backward() into an argument that requires grad, or x.grad = …)");
    this.tensor(t);
    this.gradWritten.add(t);
    if (grad === null) this.cleared.add(t);
  }

  /** Tensors whose `.grad` the step set (a later read sees the step's own value, not the call's). */
  private readonly gradWritten = new Set<Tensor>();
  /** Tensors with a guard that their `.grad` is null at the call. */
  private readonly gradNull = new Set<Tensor>();
  /** Set while the trace itself reads a `.grad` (in `tensor`): not the step's read. */
  private ownRead = false;

  gradRead(t: Tensor): void {
    if (this.args.has(t)) {
      this.reasons.push("the step reads .grad of its argument");
      return;
    }
    if (this.ownRead || t.id >= this.firstId || this.gradWritten.has(t)) return;
    // The step reads the gradient the call found: the tensor is state, so its `.grad` is read through it at each
    // call (not through the gradient tensor the trace saw, which a later `.grad = …` replaces); one found null
    // (JavaScript may branch on it, or skip it: an optimizer's `p.grad !== null`) is a guard.
    this.tensor(t);
    if (this.state.get(t)!.grad === null && !this.gradNull.has(t)) {
      this.gradNull.add(t);
      this.guards.push({ key: () => `${t.grad === null}`, value: "true" });
    }
  }

  tensor(t: Tensor): void {
    if (t.id >= this.firstId || this.state.has(t) || this.args.has(t)) return;
    this.ownRead = true;
    try {
      this.state.set(t, { value: t.value, grad: t.grad?.value ?? null, requiresGrad: this.flagsFound.get(t) ?? t.requiresGrad });
    } finally {
      this.ownRead = false;
    }
  }

  /**
   * `requiresGrad` of tensors from before the trace that the step set before it touched them, as the call found
   * them: the guard compares the flags a call starts with (a step that freezes a parameter for one update and
   * unfreezes it after still replays).
   */
  private readonly flagsFound = new Map<Tensor, boolean>();

  requiresGradSet(t: Tensor): void {
    if (t.id >= this.firstId || this.flagsFound.has(t)) return;
    this.flagsFound.set(t, this.state.get(t)?.requiresGrad ?? t.requiresGrad);
  }

  /**
   * A step that sets `requiresGrad` of a tensor from before the call and leaves it changed has an effect a replay
   * would not have (it runs the program, not the step's code): such a step is not compiled. One that restores the
   * flag (a GAN's generator update with the discriminator frozen) is.
   */
  flagsLeftChanged(): void {
    for (const [t, found] of this.flagsFound)
      if (t.requiresGrad !== found) this.reasons.push("the step changes requiresGrad of a tensor from before the call and leaves it changed (a replay would not change it)");
  }

  op(op: AnyOp, xs: readonly NDArray[], params: unknown, out: NDArray): void {
    const inputs = xs.map((x) => this.varOf(x));
    if (this.vars.has(out)) return; // the kernel returned one of its inputs
    const idx = (params as { index?: { data?: unknown } } | undefined)?.index?.data;
    const src = idx instanceof Int32Array ? this.indexOf.get(idx) : undefined;
    if (src === undefined && this.folded(inputs, out)) return;
    const v = this.newVar(out);
    this.vars.set(out, v);
    const view = xs.some((x) => x.data === out.data);
    if (view) this.viewed.add(out.data);
    this.steps.push({ kind: "op", op, params, inputs, out: v, view, ...(src !== undefined ? { index: this.varOf(src) } : {}) });
  }

  fused(root: AluNode, xs: readonly NDArray[], out: NDArray, inPlace: boolean): void {
    const inputs = xs.map((x) => this.varOf(x));
    if (!inPlace) {
      if (this.vars.has(out) || this.folded(inputs, out)) return;
      const v = this.newVar(out);
      this.vars.set(out, v);
      this.steps.push({ kind: "fused", expr: root, inputs, out: v });
      return;
    }
    const into = this.varOf(out);
    const source = this.sources.get(this.storage.get(into) ?? into);
    const v = this.newVar(out);
    this.vars.set(out, v);
    if (source?.kind === "input") this.reasons.push("the step writes into its argument in place (update() on an argument)");
    // In place over state (a parameter, a buffer): the new version shares its storage. Over an array the step
    // made or a constant, a fresh result (the next call starts again from the constant).
    const storage = this.storage.get(into) ?? into;
    if (this.sources.get(storage)?.kind === "state") {
      this.storage.set(v, storage);
      this.steps.push({ kind: "fused", expr: root, inputs, out: v, into });
    } else {
      // A view taken of that array before sees this write eagerly; the view of a replay's fresh result would not.
      if (this.viewed.has(out.data)) this.reasons.push("the step writes in place (update()) into an array it made and took a view of (a replay writes a fresh array, which the view would not see)");
      this.steps.push({ kind: "fused", expr: root, inputs, out: v });
    }
  }

  copy(src: NDArray, out: NDArray, _dtype: DType): void {
    const input = this.varOf(src);
    if (this.folded([input], out)) return;
    const v = this.newVar(out);
    this.vars.set(out, v);
    this.steps.push({ kind: "copy", input, out: v });
  }

  own(src: NDArray, out: NDArray): void {
    const v = this.varOf(src);
    if (this.computed(v)) this.copy(src, out, out.dtype);
    else this.vars.set(out, v); // the same values: the tensor's state, which a compiled call makes its own anew if needed
  }

  host(xs: readonly NDArray[], outs: readonly NDArray[], fn: (xs: readonly NDArray[]) => NDArray[], name: string): void {
    const inputs = xs.map((x) => this.varOf(x));
    const vs = outs.map((o) => {
      const v = this.newVar(o);
      this.vars.set(o, v);
      return v;
    });
    this.steps.push({ kind: "host", inputs, outs: vs, fn, name });
  }

  index(src: NDArray, index: Int32Array): void {
    const v = this.varOf(src);
    if (this.computed(v) || this.sources.get(v)?.kind !== "constant") this.indexOf.set(index, src);
  }

  indexSource(index: Int32Array): NDArray | undefined {
    return this.indexOf.get(index);
  }

  read(x: NDArray, what: string): void {
    const v = this.vars.get(x);
    if (v !== undefined && this.sources.get(v)?.kind !== "constant") this.reasons.push(`the step reads values with ${what}`);
  }

  guard(key: () => string): void {
    this.guards.push({ key, value: key() });
  }

  /** What the call left in the tensors it touched: a value replaced, a gradient set or cleared. */
  effects(): Effect[] {
    const out: Effect[] = [];
    for (const [t, first] of this.state) {
      const v = this.vars.get(t.value);
      const own = v === undefined ? undefined : this.sources.get(this.storage.get(v) ?? v);
      const replaced = t.value !== first.value && !(own?.kind === "state" && own.tensor === t && own.field === "value");
      if (replaced) out.push({ tensor: t, field: "value", var: this.varOf(t.value) });
      const g = t.grad;
      // A gradient the step set on a tensor without one, not cleared by the step (an accumulating backward that
      // found none): replayed only while the tensor has none at the call.
      if (g !== null && first.grad === null && !this.cleared.has(t)) this.guards.push({ key: () => `${t.grad === null}`, value: "true" });
      if (g === null) {
        if (first.grad !== null) out.push({ tensor: t, field: "grad", var: null });
        continue;
      }
      const gv = this.varOf(g.value);
      const s = this.sources.get(gv);
      if (!(s?.kind === "state" && s.tensor === t && s.field === "grad")) out.push({ tensor: t, field: "grad", var: gv });
    }
    return out;
  }

  /**
   * The requires-grad flags of the tensors the step touched, as the call found them (before the step set any):
   * which of them backward reaches (and an optimizer then updates) was decided by them, so a flag changed since (a
   * parameter frozen or unfrozen between calls) traces again.
   */
  requiresGradGuard(): void {
    const tensors = [...this.state.keys()];
    if (tensors.length === 0) return;
    const key = () => tensors.map((t) => (t.requiresGrad ? "1" : "0")).join("");
    this.guards.push({ key, value: [...this.state.values()].map((s) => (s.requiresGrad ? "1" : "0")).join("") });
  }
}

/**
 * Calls `fn(...args)` eagerly while recording it; returns its result and the program that repeats it. The leaves
 * of `args` are the program's inputs.
 */
export function trace(fn: (...args: never[]) => unknown, args: readonly unknown[]): Traced {
  const flat = flattenTree(args, "compile: the arguments");
  const t = new Trace(flat.leaves, nextTensorId());
  const inputs = flat.leaves.map((leaf, i) => {
    const known = t.vars.get(leaf.value);
    if (known !== undefined) return known;
    const v = t.newVar(leaf.value);
    t.vars.set(leaf.value, v);
    t.sources.set(v, { kind: "input", index: i });
    return v;
  });
  const outer = recording.current;
  if (outer !== null) throw new CompileError("stepProgram: called while a step is being traced (call it outside the traced function)");
  recording.current = t;
  let result: unknown;
  try {
    result = (fn as (...a: unknown[]) => unknown)(...args);
  } finally {
    recording.current = null;
  }
  const shares = [...t.state.values()].some((s) => flat.leaves.some((x) => overlaps(x.value.data, s.value.data) || (s.grad !== null && overlaps(x.value.data, s.grad.data))));
  const shared = shares ? { touched: [...t.state.keys()] } : {};
  let outFlat: { leaves: Tensor[]; spec: TreeSpec };
  try {
    outFlat = flattenTree(result, "compile: the result");
  } catch (e) {
    return { result, program: null, reasons: [`the result is not a tree of tensors (${(e as Error).message})`], ...shared };
  }
  // Inside a functional transform (grad, vjp, … of a function that calls this one), a result with a graph back to
  // an argument: a replay's results are plain tensors, which the transform would differentiate as constants.
  // (Elsewhere results are plain tensors by design: differentiate inside the compiled function.)
  if (transforms.depth > 0 && gradMode.enabled && flat.leaves.some((x) => x.requiresGrad)) {
    const args = new Set(flat.leaves);
    const roots = outFlat.leaves.filter((o) => o.requiresGrad);
    if (roots.length > 0 && topoOrder<Tensor>(roots).some((n) => args.has(n))) {
      t.reasons.push("the result has a graph back to an argument that requires grad (a transform such as grad differentiates through the call; a replay's results have none)");
    }
  }
  t.flagsLeftChanged();
  if (t.reasons.length > 0) return { result, program: null, reasons: [...new Set(t.reasons)], ...shared };
  const outputs = outFlat.leaves.map((o) => t.varOf(o.value));
  const effects = t.effects();
  t.requiresGradGuard();
  const program: Program = { inputs, sources: t.sources, steps: t.steps, outputs, outputSpec: outFlat.spec, effects, guards: t.guards };
  return { result, program, reasons: [], ...shared };
}
