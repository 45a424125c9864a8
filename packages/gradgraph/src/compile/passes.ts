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
import type { ElementwiseOp } from "../ops/op.js";
import { sameShape } from "../ops/shape.js";
import { stepInputs, stepOutputs, type Effect, type Program, type Step, type Var } from "./program.js";

/** Every pass, in the order `compile` runs them. */
export function optimize(p: Program): Program {
  return inPlaceUpdates(fuseElementwise(transposedProducts(eliminateCommon(eliminateDead(lowerElementwise(p))))));
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
 * lie, and the strided copy is gone. The exact same products and sums, so the same numbers.
 */
export function transposedProducts(p: Program): Program {
  const uses = new Map<number, number>();
  for (const s of p.steps) for (const v of stepInputs(s)) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const v of p.outputs) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  for (const e of p.effects) if (e.var !== null) uses.set(e.var.id, (uses.get(e.var.id) ?? 0) + 1);
  const byOut = new Map<number, Step>();
  for (const s of p.steps) for (const v of stepOutputs(s)) byOut.set(v.id, s);
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
      case "copy":
        return { ...s, input: r(s.input) };
      case "host":
        return { ...s, inputs: s.inputs.map(r) };
    }
  });
  const effects = p.effects.map((e): Effect => (e.var === null ? e : { ...e, var: r(e.var) }));
  return { ...p, steps: mapped, outputs: p.outputs.map(r), effects };
}

/** Computes each distinct expression once: a step equal to an earlier one (same op, parameters, inputs) reuses it. */
export function eliminateCommon(p: Program): Program {
  const seen = new Map<string, Var>();
  const rename = new Map<number, Var>();
  const steps: Step[] = [];
  const r = (v: Var) => (rename.get(v.id) ?? v).id;
  for (const s of p.steps) {
    let key: string | null = null;
    if (s.kind === "op") key = `op ${s.op.name} ${paramsKey(s.params)} ${s.inputs.map(r).join(",")} ${s.index === undefined ? "" : r(s.index)}`;
    else if (s.kind === "fused" && s.into === undefined) key = `fused ${s.expr.key} ${s.inputs.map(r).join(",")} ${s.out.dtype} ${s.out.shape.join("x")}`;
    else if (s.kind === "copy") key = `copy ${r(s.input)} ${s.out.dtype}`;
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
        // Not across a write in place into what `a` reads (it would read the new values).
        let blocked = false;
        for (let m = i + 1; m < j && !blocked; m++) {
          const s = steps[m];
          if (s?.kind === "fused" && s.into !== undefined && a.inputs.some((x) => x.id === s.into!.id)) blocked = true;
        }
        // Not into a write in place when `a` reads a view (it might be of the storage written).
        if (blocked || (fb.into !== undefined && a.inputs.some((x) => views.has(x.id)))) continue;
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
