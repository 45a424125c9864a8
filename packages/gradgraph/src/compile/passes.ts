/**
 * The passes that simplify a traced program before a target runs it, each a function from program to program
 * (tests run them one by one): elementwise ops as ALU expressions, dead-code elimination,
 * common-subexpression elimination, elementwise fusion (a chain of elementwise steps becomes one kernel), and
 * updates in place (a parameter's new value written over its storage instead of a fresh array). Constants are
 * folded while tracing (trace.ts): a step whose inputs are all constants is never written down, its result is.
 */
import { elementwiseKernelOf } from "../backend/kernels.js";
import { ALU_CALLS, schedule, traceAlu, type AluCall, type AluNode } from "../ops/alu.js";
import { whereKernel } from "../tensor/backend.js";
import type { ElementwiseOp, ReduceParams } from "../ops/op.js";
import { sameShape } from "../ops/shape.js";
import { stepInputs, stepOutputs, type Effect, type KernelOutput, type Program, type Step, type Var } from "./program.js";

/** Every pass, in the order `compile` runs them. */
export function optimize(p: Program): Program {
  return fuseKernels(fuseReductions(inPlaceUpdates(fuseElementwise(transposedProducts(eliminateCommon(eliminateDead(lowerElementwise(p))))))));
}

/** Whether a permutation swaps the last two axes and keeps the others. */
function swapsLastTwo(perm: readonly number[]): boolean {
  const r = perm.length;
  return r >= 2 && perm[r - 1] === r - 2 && perm[r - 2] === r - 1 && perm.slice(0, -2).every((q, i) => q === i);
}

/**
 * A transposed product made contiguous — `copy(permute(matmul(a, b)))`, a `Linear` weight's gradient (the
 * product is computed for `Wᵀ`, transposed back, and copied into `.grad`) — becomes the product in the other
 * order, `matmul(bᵀ, aᵀ)` = (ab)ᵀ, written contiguous at once: the kernel reads the transposed operands where they
 * lie, and the strided copy is gone. The exact same products and sums, so the same numbers. The product moves to
 * the copy's place, so not past a write in place into what it reads (into anything, when it reads a view).
 */
export function transposedProducts(p: Program): Program {
  const uses = new Map<number, number>();
  for (const s of p.steps) for (const v of stepInputs(s)) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const v of p.outputs) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const e of p.effects) if (e.var !== null) uses.set(e.var.id, (uses.get(e.var.id) ?? 0) + 1);
  const byOut = new Map<number, Step>();
  for (const s of p.steps) for (const v of stepOutputs(s)) byOut.set(v.id, s);
  const position = new Map(p.steps.map((s, i) => [s, i] as const));
  const views = new Set<number>();
  for (const s of p.steps) if (s.kind === "op" && s.view) views.add(s.out.id);
  let next = Math.max(0, ...p.inputs.map((v) => v.id), ...[...p.sources.keys()].map((v) => v.id), ...p.steps.flatMap((s) => stepOutputs(s).map((v) => v.id))) + 1;
  const replace = new Map<Step, Step[]>();
  const drop = new Set<Step>();
  for (const c of p.steps) {
    if (c.kind !== "copy") continue;
    const t = byOut.get(c.input.id);
    if (t?.kind !== "op" || t.op.name !== "permute" || !swapsLastTwo((t.params as { perm: readonly number[] }).perm) || uses.get(t.out.id) !== 1) continue;
    const m = byOut.get(t.inputs[0]!.id);
    if (m?.kind !== "op" || m.op.name !== "matmul" || uses.get(m.out.id) !== 1 || m.inputs.some((x) => x.shape.length < 2) || m.out.dtype !== c.out.dtype) continue;
    if (m.inputs[0]!.shape.length !== m.inputs[1]!.shape.length) continue; // equal batch ranks only (no broadcast between them)
    // the product moves to where the copy is: not past a write in place into what it reads
    if (writtenBetween(p.steps, position.get(m)!, position.get(c)!, m.inputs, views)) continue;
    const tr = (x: Var): Step & { kind: "op" } => {
      const r = x.shape.length, perm = [...Array(r - 2).keys(), r - 1, r - 2];
      return { kind: "op", op: t.op, params: { perm }, inputs: [x], out: { id: next++, shape: perm.map((q) => x.shape[q]!), dtype: x.dtype }, view: true };
    };
    const bt = tr(m.inputs[1]!), at = tr(m.inputs[0]!);
    replace.set(c, [bt, at, { kind: "op", op: m.op, params: m.params, inputs: [bt.out, at.out], out: c.out, view: false }]);
    drop.add(t).add(m);
  }
  if (replace.size === 0) return p;
  return { ...p, steps: p.steps.flatMap((s) => replace.get(s) ?? (drop.has(s) ? [] : [s])) };
}

/**
 * Elementwise ops of the table (and `where`, a select) as fused steps of one op (their ALU lowering), which the
 * fusion pass can chain.
 */
export function lowerElementwise(p: Program): Program {
  const steps = p.steps.map((s): Step => {
    if (s.kind !== "op") return s;
    if (s.op.name === "where") return { kind: "fused", expr: whereKernel.root, inputs: s.inputs, out: s.out };
    if ((s.op as { kind?: string }).kind !== "elementwise") return s;
    return { kind: "fused", expr: elementwiseKernelOf(s.op as ElementwiseOp).root, inputs: s.inputs, out: s.out };
  });
  return { ...p, steps };
}

/** Drops steps nothing needs: not an output, not left in a tensor, not read by a needed step. */
export function eliminateDead(p: Program): Program {
  const live = new Set<number>([...p.outputs.map((v) => v.id), ...p.effects.flatMap((e) => (e.var === null ? [] : [e.var.id]))]);
  const keep: boolean[] = new Array(p.steps.length).fill(false);
  for (let i = p.steps.length - 1; i >= 0; i--) {
    const s = p.steps[i]!;
    // Host steps run for what they do to JavaScript state (an optimizer counts its steps); writes in place are effects.
    const needed = s.kind === "host" || (s.kind === "fused" && s.into !== undefined) || stepOutputs(s).some((v) => live.has(v.id));
    if (!needed) continue;
    keep[i] = true;
    for (const v of stepInputs(s)) live.add(v.id);
  }
  const sources = new Map([...p.sources].filter(([v, s]) => s.kind === "input" || live.has(v.id)));
  return { ...p, steps: p.steps.filter((_, i) => keep[i]), sources };
}

/** Key of a step's parameters: typed arrays by identity (indices are large and rarely equal). */
function paramsKey(params: unknown): string {
  const ids = new Map<object, number>();
  return JSON.stringify(params ?? null, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      if (!ids.has(v)) ids.set(v, ids.size);
      return `#array${ids.get(v)}`;
    }
    return v;
  });
}

/** Renames vars in a program (for passes that merge two vars into one). */
function renamed(p: Program, steps: readonly Step[], rename: Map<number, Var>): Program {
  const r = (v: Var) => rename.get(v.id) ?? v;
  const mapped = steps.map((s): Step => {
    switch (s.kind) {
      case "op":
        return { ...s, inputs: s.inputs.map(r), ...(s.index !== undefined ? { index: r(s.index) } : {}) };
      case "fused":
        return { ...s, inputs: s.inputs.map(r), ...(s.into !== undefined ? { into: r(s.into) } : {}) };
      case "kernel":
        return { ...s, inputs: s.inputs.map(r) };
      case "copy":
        return { ...s, input: r(s.input) };
      case "host":
        return { ...s, inputs: s.inputs.map(r) };
    }
  });
  const effects = p.effects.map((e): Effect => (e.var === null ? e : { ...e, var: r(e.var) }));
  return { ...p, steps: mapped, outputs: p.outputs.map(r), effects };
}

/**
 * Computes each distinct expression once: a step equal to an earlier one (same op, parameters, inputs) reuses it —
 * not across a write in place when it reads a view (the view's var names storage, not values: read before and
 * after an update, it gives two).
 */
export function eliminateCommon(p: Program): Program {
  const seen = new Map<string, Var>();
  const rename = new Map<number, Var>();
  const steps: Step[] = [];
  const r = (v: Var) => (rename.get(v.id) ?? v).id;
  const views = new Set<number>();
  let writes = 0;
  for (const s of p.steps) {
    let key: string | null = null;
    if (s.kind === "op") key = `op ${s.op.name} ${paramsKey(s.params)} ${s.inputs.map(r).join(",")} ${s.index === undefined ? "" : r(s.index)}`;
    else if (s.kind === "fused" && s.into === undefined) key = `fused ${s.expr.key} ${s.inputs.map(r).join(",")} ${s.out.dtype} ${s.out.shape.join("x")}`;
    else if (s.kind === "copy") key = `copy ${r(s.input)} ${s.out.dtype}`;
    if (key !== null && stepInputs(s).some((v) => views.has(r(v)))) key += ` after ${writes} writes`;
    if (s.kind === "op" && s.view) views.add(s.out.id);
    if (s.kind === "fused" && s.into !== undefined) writes++;
    const earlier = key === null ? undefined : seen.get(key);
    if (earlier !== undefined) {
      rename.set(stepOutputs(s)[0]!.id, earlier);
      continue;
    }
    if (key !== null) seen.set(key, stepOutputs(s)[0]!);
    steps.push(s);
  }
  return renamed(p, steps, rename);
}

/** Rebuilds a DAG with each input replaced by a node (`input(i)`), in a fresh tracer. */
function substitute(root: AluNode, t: ReturnType<typeof traceAlu>, input: (i: number) => AluNode): AluNode {
  const made = new Map<AluNode, AluNode>();
  const o = t as unknown as Record<string, (...xs: AluNode[]) => AluNode>;
  for (const n of schedule(root)) {
    let m: AluNode;
    if (n.op === "input") m = input(n.index);
    else if (n.op === "const") m = t.const(n.value);
    else {
      const args = n.args.map((a) => made.get(a)!);
      m = ALU_CALLS.has(n.op) ? t.call(n.op as AluCall, ...args) : o[n.op]!(...args);
    }
    made.set(n, m);
  }
  return made.get(root)!;
}

/**
 * Fuses chains of elementwise steps: a fused step whose result only one later fused step reads, at the same shape
 * and dtype, is folded into that step's expression (one kernel, one pass over memory, no array in between).
 */
export function fuseElementwise(p: Program): Program {
  const uses = new Map<number, number>();
  const count = (v: Var) => uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const s of p.steps) stepInputs(s).forEach(count);
  p.outputs.forEach(count);
  for (const e of p.effects) if (e.var !== null) count(e.var);
  const steps: (Step | null)[] = [...p.steps];
  const producer = new Map<number, number>();
  const views = new Set<number>();
  for (const s of p.steps) if (s.kind === "op" && s.view) views.add(s.out.id);
  steps.forEach((s, i) => {
    if (s!.kind === "fused" && s!.into === undefined) producer.set(s!.out.id, i);
  });
  for (let j = 0; j < steps.length; j++) {
    let b = steps[j]!;
    if (b === null || b.kind !== "fused") continue;
    for (let changed = true; changed; ) {
      changed = false;
      const fb: Step & { kind: "fused" } = b as Step & { kind: "fused" };
      for (let k = 0; k < fb.inputs.length; k++) {
        const v = fb.inputs[k]!;
        const i = producer.get(v.id);
        if (i === undefined || uses.get(v.id) !== 1 || fb.inputs.filter((x) => x.id === v.id).length !== 1) continue;
        const a = steps[i] as (Step & { kind: "fused" }) | null;
        if (a === null || !sameShape(a.out.shape, fb.out.shape) || a.out.dtype !== fb.out.dtype) continue;
        // Not across a write in place into what `a` reads (it would read the new values), nor into a write in
        // place when `a` reads a view (it might be of the storage written).
        if (writtenBetween(steps, i, j, a.inputs, views) || (fb.into !== undefined && a.inputs.some((x) => views.has(x.id)))) continue;
        const inputs: Var[] = fb.inputs.filter((x) => x.id !== v.id);
        const slot = (x: Var) => {
          let q = inputs.findIndex((y) => y.id === x.id);
          if (q < 0) q = inputs.push(x) - 1;
          return q;
        };
        const t = traceAlu();
        const aIdx = a.inputs.map(slot);
        // The producer's result rounded as if it were stored (float32), so the fused kernel gives what two did.
        const aRoot = t.round(substitute(a.expr, t, (q) => t.input(aIdx[q]!)));
        const bIdx = fb.inputs.map((x) => (x.id === v.id ? -1 : slot(x)));
        const expr = substitute(fb.expr, t, (q) => (bIdx[q]! < 0 ? aRoot : t.input(bIdx[q]!)));
        b = { ...fb, expr, inputs };
        steps[j] = b;
        steps[i] = null;
        changed = true;
        break;
      }
    }
  }
  return { ...p, steps: steps.filter((s): s is Step => s !== null) };
}

/**
 * Whether a step strictly between `i` and `j` writes in place into one of `reads` — or anything at all, when one of
 * `reads` is in `views` (a view may be of the storage written).
 */
function writtenBetween(steps: readonly (Step | null)[], i: number, j: number, reads: readonly Var[], views: ReadonlySet<number> = new Set()): boolean {
  const viewed = reads.some((x) => views.has(x.id));
  for (let m = i + 1; m < j; m++) {
    const s = steps[m];
    if (s?.kind === "fused" && s.into !== undefined && (viewed || reads.some((x) => x.id === s.into!.id))) return true;
  }
  return false;
}

/** How many steps (and outputs, and effects) read each var. */
function useCounts(p: Program): Map<number, number> {
  const uses = new Map<number, number>();
  const count = (v: Var) => uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const s of p.steps) stepInputs(s).forEach(count);
  p.outputs.forEach(count);
  for (const e of p.effects) if (e.var !== null) count(e.var);
  return uses;
}

/**
 * How a sum over `axes` of an array of `shape` walks it in row-major order: `rows` (the trailing axes, or all:
 * consecutive blocks), `cols` (the leading axes: elements m apart), or null (other axes: not fused).
 */
export function sumMode(shape: readonly number[], axes: readonly number[]): "rows" | "cols" | null {
  const r = shape.length, sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.every((a, k) => a === r - sorted.length + k)) return "rows";
  if (sorted.every((a, k) => a === k)) return "cols";
  return null;
}

/**
 * Fused reductions: a float32 `sum` over all axes, the leading ones or the trailing ones, of a fused elementwise
 * step's result that nothing else reads becomes one kernel step that computes the expression and sums it in the
 * same pass, without the array in between. Each value is rounded as if stored (as the two steps did), the sums
 * accumulate in float64 and are rounded once — a different order of addition than the `sum` kernel's, so the
 * result may differ from the unfused one by the last bit (docs/compile.md). Float64 sums are left as they are
 * (pairwise and compensated, exactly the eager result). The chain moves to where the sum was, so not across a
 * write in place into what it reads (into anything, where it reads a view: the view may be of the storage written).
 */
export function fuseReductions(p: Program): Program {
  const uses = useCounts(p);
  const steps: (Step | null)[] = [...p.steps];
  const producer = new Map<number, number>();
  const views = new Set<number>();
  steps.forEach((s, i) => {
    if (s!.kind === "fused" && s!.into === undefined) producer.set(s!.out.id, i);
    if (s!.kind === "op" && s!.view) views.add(s!.out.id);
  });
  let changed = false;
  for (let j = 0; j < steps.length; j++) {
    const s = steps[j]!;
    if (s.kind !== "op" || s.op.name !== "sum" || s.out.dtype !== "float32") continue;
    const x = s.inputs[0]!, i = producer.get(x.id);
    const axes = (s.params as ReduceParams).axes;
    if (i === undefined || uses.get(x.id) !== 1 || sumMode(x.shape, axes) === null) continue;
    const a = steps[i] as Step & { kind: "fused" };
    if (a.out.dtype !== "float32" || writtenBetween(steps, i, j, a.inputs, views)) continue;
    const t = traceAlu();
    const expr = t.round(substitute(a.expr, t, (q) => t.input(q)));
    steps[j] = { kind: "kernel", inputs: a.inputs, shape: x.shape, outs: [{ expr, out: s.out, sum: [...axes] }] };
    steps[i] = null;
    changed = true;
  }
  return changed ? { ...p, steps: steps.filter((s): s is Step => s !== null) } : p;
}

/** Inputs and outputs a multi-output kernel may have (what the WebAssembly backend runs: 6 inputs, 7 arrays). */
export const KERNEL_LIMITS = { inputs: 6, arrays: 7, outputs: 8 };

/**
 * Multi-output kernels: elementwise steps (fused steps and kernel steps) over the same shape and dtype that read
 * the same inputs, or one another's results, become one kernel step — one pass over memory that reads each input
 * once and writes each result that is needed elsewhere; a result only its siblings read stays in registers. A
 * relu's forward, the mask its backward recomputes and the products of the mask with each input are one pass.
 * The kernel runs where its last member ran; a step is added to a group only when no step in between reads the
 * group's results or writes anything in place, and never when it reads one of the group's sums (which are
 * complete only after the pass). Writes in place (updates) are not grouped. Values are rounded where a step's
 * result would have been stored, so the results are the steps' own.
 */
export function fuseKernels(p: Program): Program {
  const steps = p.steps;
  // An input that is one value (a constant of one element, or broadcast from one) costs no array.
  const sourceOf = new Map([...p.sources].map(([v, src]) => [v.id, src] as const));
  const oneValue = (id: number) => {
    const src = sourceOf.get(id);
    return src?.kind === "constant" && (src.value.size === 1 || src.value.strides.every((st) => st === 0));
  };
  const groups: Group[] = [];
  for (let j = 0; j < steps.length; j++) {
    const s = steps[j]!;
    if (!elementwiseStep(s)) continue;
    const { shape, dtype } = s.kind === "fused" ? { shape: s.out.shape, dtype: s.out.dtype } : { shape: s.shape, dtype: s.outs[0]!.out.dtype };
    const ins = s.inputs;
    const outs = outsOf(s);
    const fits = (g: Group) => {
      if (g.dtype !== dtype || !sameShape(g.shape, shape)) return false;
      if (!ins.some((v) => g.reads.has(v.id) || g.made.has(v.id)) || ins.some((v) => g.sums.has(v.id))) return false;
      const external = new Set([...g.reads, ...ins.map((v) => v.id)].filter((id) => !g.made.has(id) && !outs.some((o) => o.out.id === id)));
      const arrays = [...external].filter((id) => !oneValue(id)).length;
      // arrays written: stored results, and sums into more than one element (added up from a chunk of values)
      const stored = g.made.size + g.spread + outs.filter((o) => o.sum === undefined || spread(o)).length;
      if (external.size > KERNEL_LIMITS.inputs || arrays + stored > KERNEL_LIMITS.arrays || g.made.size + g.sums.size + outs.length > KERNEL_LIMITS.outputs) return false;
      for (let m = g.members[0]! + 1; m < j; m++) {
        if (g.members.includes(m)) continue;
        const t = steps[m]!;
        if ((t.kind === "fused" && t.into !== undefined) || stepInputs(t).some((v) => g.made.has(v.id) || g.sums.has(v.id))) return false;
      }
      return true;
    };
    let g: Group | undefined;
    for (let k = groups.length - 1; k >= 0 && g === undefined; k--) if (fits(groups[k]!)) g = groups[k];
    if (g === undefined) groups.push((g = { members: [], shape, dtype, reads: new Set(), made: new Set(), sums: new Set(), spread: 0 }));
    g.members.push(j);
    g.spread += outs.filter(spread).length;
    for (const v of ins) g.reads.add(v.id);
    for (const o of outs) (o.sum === undefined ? g.made : g.sums).add(o.out.id);
  }
  const merged = groups.filter((g) => g.members.length > 1);
  if (merged.length === 0) return p;
  // Uses of each var outside its group's members: those results are written; the others stay in registers.
  const inGroup = new Map<number, Group>();
  for (const g of merged) for (const m of g.members) inGroup.set(m, g);
  const outside = new Map<number, number>();
  const count = (v: Var) => outside.set(v.id, (outside.get(v.id) ?? 0) + 1);
  steps.forEach((s, i) => {
    const g = inGroup.get(i);
    for (const v of stepInputs(s)) if (g === undefined || !(g.made.has(v.id) || g.sums.has(v.id))) count(v);
  });
  p.outputs.forEach(count);
  for (const e of p.effects) if (e.var !== null) count(e.var);
  const replaced = new Map<number, Step | null>();
  for (const g of merged) {
    for (const m of g.members) replaced.set(m, null);
    replaced.set(g.members.at(-1)!, groupKernel(g, steps, (v) => (outside.get(v.id) ?? 0) > 0));
  }
  return { ...p, steps: steps.flatMap((s, i) => (replaced.has(i) ? (replaced.get(i) === null ? [] : [replaced.get(i)!]) : [s])) };
}

/** A group of elementwise steps {@link fuseKernels} merges: the steps, their shape, what they read and write. */
interface Group {
  members: number[];
  shape: readonly number[];
  dtype: string;
  reads: Set<number>;
  made: Set<number>;
  sums: Set<number>;
  /** Sums into more than one element (each needs an array of values per chunk). */
  spread: number;
}

type ElementwiseStep = Step & ({ kind: "fused" } | { kind: "kernel" });

/** A fused step not in place, or a kernel step. */
const elementwiseStep = (s: Step): s is ElementwiseStep => (s.kind === "fused" && s.into === undefined) || s.kind === "kernel";
const outsOf = (s: ElementwiseStep): readonly KernelOutput[] => (s.kind === "fused" ? [{ expr: s.expr, out: s.out }] : s.outs);
/** A sum into more than one element. */
const spread = (o: KernelOutput) => o.sum !== undefined && o.out.shape.reduce((a, b) => a * b, 1) > 1;

/**
 * The kernel step of a group: its members' expressions in one DAG (a member's result that another reads is its
 * node, rounded as if stored), reading the inputs from outside; the results `needed` outside, and every sum.
 */
function groupKernel(g: Group, steps: readonly Step[], needed: (v: Var) => boolean): Step {
  const t = traceAlu();
  const inputs: Var[] = [];
  const slot = (x: Var) => {
    let q = inputs.findIndex((y) => y.id === x.id);
    if (q < 0) q = inputs.push(x) - 1;
    return q;
  };
  const node = new Map<number, AluNode>();
  const outs: KernelOutput[] = [];
  for (const m of g.members) {
    const s = steps[m] as ElementwiseStep;
    for (const o of outsOf(s)) {
      const expr = substitute(o.expr, t, (q) => node.get(s.inputs[q]!.id) ?? t.input(slot(s.inputs[q]!)));
      if (o.sum === undefined) node.set(o.out.id, t.round(expr));
      if (o.sum !== undefined || needed(o.out)) outs.push({ ...o, expr });
    }
  }
  return { kind: "kernel", inputs, shape: g.shape, outs };
}

/**
 * Writes a tensor's new value over its own storage: where a call leaves a fused step's result in a tensor (an
 * `assign`) and nothing after that step reads the tensor's old value, the step writes in place and the call
 * allocates nothing for it (the first call gives the tensor storage of its own, as `update` does).
 */
export function inPlaceUpdates(p: Program): Program {
  const stateVar = new Map<object, Var>();
  for (const [v, s] of p.sources) if (s.kind === "state" && s.field === "value") stateVar.set(s.tensor, v);
  const steps = [...p.steps];
  const effects: Effect[] = [];
  for (const e of p.effects) {
    const old = e.field === "value" && e.var !== null ? stateVar.get(e.tensor) : undefined;
    const i = old === undefined ? -1 : steps.findIndex((s) => s.kind === "fused" && s.into === undefined && s.out.id === e.var!.id);
    const s = i < 0 ? undefined : (steps[i] as Step & { kind: "fused" });
    if (s === undefined || old === undefined || !canWriteOver(steps, i, old, p) || !sameShape(s.out.shape, old.shape) || s.out.dtype !== old.dtype) {
      effects.push(e);
      continue;
    }
    steps[i] = { ...s, into: old };
  }
  return { ...p, steps, effects };
}

/** Whether step `i` may write over `old`'s storage: nothing after it reads `old`, no view shares it, it is no output. */
function canWriteOver(steps: readonly Step[], i: number, old: Var, p: Program): boolean {
  // `old` and the views of its storage (reshape, permute, … of it, and of those).
  const shared = new Set([old.id]);
  for (const t of steps) if (t.kind === "op" && t.view && shared.has(t.inputs[0]!.id)) shared.add(t.out.id);
  if (steps.slice(i + 1).some((t) => stepInputs(t).some((x) => shared.has(x.id)))) return false;
  // the step itself reads `old` only as it is, element for element (not transposed, say)
  if (stepInputs(steps[i]!).some((x) => shared.has(x.id) && x.id !== old.id)) return false;
  return !p.outputs.some((x) => shared.has(x.id)) && !p.effects.some((e) => e.var !== null && shared.has(e.var.id));
}
