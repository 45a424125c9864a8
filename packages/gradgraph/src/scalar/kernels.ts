/**
 * The scalar engine's kernels, compiled from the op table: per op a *record* function (apply the op's forward to
 * two `Value`s and append the entry to the tape) and one reverse *sweep* over a tape whose per-op cases are the
 * table's partials printed as JavaScript (by running them on an algebra of JavaScript expressions, the way the
 * code printer runs them on names). The table stays the only place an op's math is written; this file knows no
 * op by name. Where `new Function` is not allowed (a strict Content-Security-Policy), `plainKernels` does the
 * same with closures: a call per entry instead of inlined code, the same results.
 */
import { algebraOf, numberAlgebra } from "../ops/algebras.js";
import { elementwiseList } from "../ops/elementwise.js";
import type { ElementwiseName, ElementwiseOp } from "../ops/op.js";
import { FIRST_OP, IMPORT, flush, recordUse, room, tapes, type RootSweep, type Sweep, type Tape } from "./tape.js";

/** The part of a `Value` the kernels read: its tape entry and the `Value`s of its inputs. */
export interface Node {
  readonly t: Tape;
  readonly i: number;
}

/** What the kernels need from the `Value` layer. */
export interface KernelEnv<V extends Node> {
  /** Makes the `Value` for entry `i` of `T`, with its input `Value`s. */
  readonly make: new (T: Tape, i: number, a: V | null, b: V | null) => V;
  /** The index on `T` (which has room) of an entry standing for `x`, a node of another tape (an import). */
  readonly imp: (T: Tape, x: V) => number;
  /** A constant (the methods' number arguments); methods given a number throw without it. */
  readonly constant?: (c: number) => V;
}

export interface Kernels<V extends Node> {
  /** `record[code](a, b)`: the node `op(a, b)` (`b` null for a unary op). */
  readonly record: readonly ((a: V, b: V | null) => V)[];
  /** Per op, the method `x.op(other)` (`this` the first input; a number `other` becomes a constant). */
  readonly methods: { readonly [K in ElementwiseName]: (this: V, other?: V | number) => V };
  readonly sweep: Sweep;
  readonly rootSweep: RootSweep;
  /** The storages the record functions and the root sweep were specialized to (empty: none; see `Storage`). */
  readonly storages: readonly Storage[];
  /** Whether these kernels are generated code, which can be specialized (false: the closures of `plainKernels`). */
  readonly generated: boolean;
}

/**
 * The typed arrays of a tape that the record functions and the root sweep use: a tape's *storage* (a tape that
 * takes over a retired one's storage takes these arrays whole; a tape that grows gets new ones).
 *
 * *Specialized storage.* V8 compiles a closure made once, reading typed arrays from `const` bindings of its scope,
 * with those arrays as constants: no loads of the array, its length or its data pointer per access. Read from a
 * tape's fields, each access loads them afresh (the fields change: tapes grow and pass storage on). On W1's step
 * the root sweep took 0.34 ms reading the tape's fields and 0.21 ms specialized, the records 0.87 and 0.80 ms
 * (BENCHMARKS.md). So kernels made for a list of storages bind each one's arrays to `const`s and take, per
 * call, the branch of the storage the tape has (one comparison), or the general code, which reads the tape's
 * fields, for any other tape. `value.ts` makes them at each tape's retirement, for the storages of the current
 * and the retired tape (a training loop's two, taking turns), when those are not the ones they have.
 */
export type Storage = Pick<Tape, "op" | "a" | "b" | "val" | "grad" | "rg" | "seen" | "use">;

/** The op of each code (null for `LEAF` and `IMPORT`). */
export const opOfCode: readonly (ElementwiseOp | null)[] = [null, null, ...elementwiseList];
/** The code of each op. */
export const codeOf = new Map<ElementwiseOp, number>(elementwiseList.map((op, k) => [op, FIRST_OP + k]));
/** Inputs per code. */
export const arityOfCode = Uint8Array.from(opOfCode, (op) => op?.arity ?? 0);

/** A number as a JavaScript expression (parenthesised: `-1`, `-0`, `Infinity`, `NaN` survive). */
const literal = (c: number): string => `(${Object.is(c, -0) ? "-0" : String(c)})`;

/** JavaScript expressions: each op calls its forward function, bound to `f<code>` in the generated code. */
const jsAlgebra = algebraOf<string>((op, args) => `f${codeOf.get(op)!}(${args.join(", ")})`, literal);

/** An op's local derivative with respect to input `i`, as a JavaScript expression in `x0`, `x1` and `y`. */
export function partialSource(op: ElementwiseOp, i: number): string {
  if (op.nondiff) return "0";
  const p = op.partials[i]!(jsAlgebra, ["x0", "x1"], "y");
  return typeof p === "number" ? literal(p) : p;
}

/**
 * The sweep's step into input `j` with local derivative `p` (JavaScript source): when `j` takes a gradient, add
 * `p·g` into it — a leaf's gradient adds up across backward calls; an op node's is set afresh on the sweep's
 * first reach, which also queues it (`pending`). A leaf's mark is `LEAF_MARK`, above every epoch, so it reads as
 * reached already: its gradient is added to and it is never queued — nothing remains to do at a leaf, so the sweep
 * ends at the last op node it reached, however far down the tape the leaves were made.
 */
const reachSource = (j: string, p: string): string => `
      if (rg[${j}] === 1) {
        mult++;
        const c = ${p} * g;
        if (mark[${j}] >= ep) grad[${j}] += c;
        else { mark[${j}] = ep; pending++; grad[${j}] = c; }
      } else ${markSource(j)}`;
/** Marks input `j` reached without a gradient (an op node's gradient is reset to 0, as a graph walk would). */
const markSource = (j: string): string =>
  `if (mark[${j}] < ep) { mark[${j}] = ep; pending++; grad[${j}] = 0; }`;

/**
 * The stores of `op(a, b)`'s entry `n` (inputs at `ia`, `ib`) into the arrays bound to `kind`, `ina`, `inb`,
 * `val`, `grad`, `rg` and `use`, counting into `d` the change to `Tape.unused`.
 */
function storeSource(op: ElementwiseOp, code: number): string {
  const two = op.arity === 2;
  return `
      val[n] = f${code}(val[ia], ${two ? "val[ib]" : "NaN"});
      grad[n] = 0;
      kind[n] = ${code}; ina[n] = ia; inb[n] = ib; rg[n] = ${two ? "rg[ia] | rg[ib]" : "rg[ia]"};
      if (use[ia] === 1) { use[ia] = 0; d--; }${two ? "\n      if (use[ib] === 1) { use[ib] = 0; d--; }" : ""}
      use[n] = 1;`;
}

/** The stores of an op's entry into a tape of any storage, reading its fields (out of the record functions' line). */
const generalStoreSource = (op: ElementwiseOp, code: number): string => `const store_${code} = function (T, n, ia, ib) {
      const kind = T.op, ina = T.a, inb = T.b, val = T.val, grad = T.grad, rg = T.rg, use = T.use;
      let d = 1;${storeSource(op, code)}
      return d;
    };`;

/** Records `op(a, b)` (`a`, `b` in scope; a unary op ignores `b`) on the current tape and returns its node. */
function recordBody(op: ElementwiseOp, code: number, storages: number): string {
  const two = op.arity === 2;
  const branches = [...Array(storages).keys()].map((k) => `if (o === op_${k}) {
      const kind = op_${k}, ina = a_${k}, inb = b_${k}, val = val_${k}, grad = grad_${k}, rg = rg_${k}, use = use_${k};${storeSource(op, code)}
    } else `);
  return `let T = tapes.current;
    if (T.n + 3 > T.cap) T = room(3);
    const ia = a.t === T ? a.i : imp(T, a);
    const ib = ${two ? "b.t === T ? b.i : imp(T, b)" : "-1"};
    const n = T.n++, o = T.op;
    let d = 1;
    ${branches.join("")}d = store_${code}(T, n, ia, ib);
    T.unused += d;
    return new V(T, n, a, ${two ? "b" : "null"});`;
}

const recordSource = (op: ElementwiseOp, code: number, storages: number): string => `function (a, b) {
    ${recordBody(op, code, storages)}
  }`;

/** The method \`a.op(b)\`: the record function's body itself, so that an op is one call, not two. */
function methodSource(op: ElementwiseOp, code: number, storages: number): string {
  const two = op.arity === 2;
  return `function (${two ? "b" : ""}) {
    const a = this;${two ? "\n    if (!(b instanceof V)) b = C(b);" : ""}
    ${recordBody(op, code, storages)}
  }`;
}

function sweepSource(): string {
  const cases = elementwiseList.map((op) => {
    const code = codeOf.get(op)!;
    const two = op.arity === 2;
    return `
    case ${code}: {
      const ja = A[i], x0 = val[ja]${two ? ", jb = B[i], x1 = val[jb]" : ", x1 = NaN"}, y = val[i];
      ${reachSource("ja", `(${partialSource(op, 0)})`)}${two ? reachSource("jb", `(${partialSource(op, 1)})`) : ""}
      break;
    }`;
  });
  return `function (T, ep, hi, pending) {
  const op = T.op, A = T.a, B = T.b, val = T.val, grad = T.grad, rg = T.rg, mark = T.mark;
  if (hi > T.swept) T.swept = hi;
  let mult = 0;
  for (let i = hi; i >= 0; i--) {
    if (mark[i] !== ep) continue;
    const o = op[i];
    if (o >= ${FIRST_OP}) {
      if (rg[i] === 1) {
        const g = grad[i];
        switch (o) {${cases.join("")}
        }
      } else {
        const ja = A[i];
        ${markSource("ja")}
        if (arity[o] === 2) { const jb = B[i]; ${markSource("jb")} }
      }
    } else if (o === ${IMPORT}) flush(T, i, ep);
    if (--pending === 0) break;
  }
  return mult;
}`;
}

/** The first pass of the root sweep: mark what the root reaches, zero the reached op nodes' and imports' gradients. */
const reachPassSource = `
  seen[root] = ep;
  let lo = root;
  for (let i = root; i >= lo; i--) {
    if (seen[i] !== ep) continue;
    const o = op[i];
    if (o >= ${FIRST_OP}) {
      grad[i] = 0;
      const ja = A[i];
      seen[ja] = ep;
      if (ja < lo) lo = ja;
      if (arity[o] === 2) { const jb = B[i]; seen[jb] = ep; if (jb < lo) lo = jb; }
    } else if (o === ${IMPORT}) grad[i] = 0;
  }
  grad[root] = 1;`;

/**
 * The root sweep's single pass, for a tape no backward has swept yet (`swept < 0`): every gradient on it is still
 * the 0 it was recorded with (leaves' add up anyway), so no first pass must zero the reached ones — reaching an
 * input is one store into `seen`. With `marks` false, for a root that is the tape's last entry and the only op
 * entry no entry takes as an input (`Tape.unused`), every op entry and import below it leads to it: the pass
 * visits them all and keeps no reach marks.
 */
function freshPassSource(marks: boolean): string {
  const cases = elementwiseList.map((op) => {
    const code = codeOf.get(op)!;
    const two = op.arity === 2;
    const reach = (two ? "const ja = A[i], jb = B[i];" : "const ja = A[i];") +
      (marks ? (two ? "\n          seen[ja] = ep;\n          seen[jb] = ep;" : "\n          seen[ja] = ep;") : "");
    return `
        case ${code}: {
          ${reach}
          if (rg[i] !== 1) break;
          const g = grad[i];${caseBody(op)}
          break;
        }`;
  });
  return `${marks ? "\n  seen[root] = ep;" : ""}
  grad[root] = 1;
  let mult = 0;
  for (let i = root; i >= 0; i--) {${marks ? "\n    if (seen[i] !== ep) continue;" : ""}
    const o = op[i];
    if (o >= ${FIRST_OP}) {
      switch (o) {${cases.join("")}
      }
    } else if (o === ${IMPORT}) flush(T, i, ep);
  }
  T.swept = root;
  return mult;`;
}

/**
 * A root-sweep case's work after `ja` (and `jb`) and `g`: load the operands its partials use, and add each
 * partial × g into the inputs that take a gradient.
 */
function caseBody(op: ElementwiseOp): string {
  const two = op.arity === 2;
  const partials = [0, ...(two ? [1] : [])].map((k) => `(${partialSource(op, k)})`);
  const uses = (name: string) => partials.some((p) => new RegExp(`\\b${name}\\b`).test(p));
  const loads = [
    uses("x0") ? "x0 = val[ja]" : "",
    uses("x1") ? (two ? "x1 = val[jb]" : "x1 = NaN") : "",
    uses("y") ? "y = val[i]" : "",
  ].filter((l) => l !== "");
  const into = (j: string, p: string) => `
          if (rg[${j}] === 1) { mult++; grad[${j}] += ${p} * g; }`;
  return (loads.length > 0 ? `\n          const ${loads.join(", ")};` : "") + into("ja", partials[0]!) + (two ? into("jb", partials[1]!) : "");
}

/** The root sweep reading the arrays bound by `prelude` (JavaScript declaring `op`, `A`, `B`, `val`, `grad`, `rg`, `seen`). */
function rootSweepSource(prelude: string): string {
  const cases = elementwiseList.map((op) => `
        case ${codeOf.get(op)!}: {
          const ja = A[i]${op.arity === 2 ? ", jb = B[i]" : ""};${caseBody(op)}
          break;
        }`);
  return `function (T, ep, root) {
  ${prelude}
  if (T.swept < 0 && root === T.n - 1 && T.unused === 1) {${freshPassSource(false)}
  }
  if (T.swept < 0) {${freshPassSource(true)}
  }${reachPassSource}
  let mult = 0;
  for (let i = root; i >= lo; i--) {
    if (seen[i] !== ep) continue;
    const o = op[i];
    if (o >= ${FIRST_OP}) {
      if (rg[i] !== 1) continue;
      const g = grad[i];
      switch (o) {${cases.join("")}
      }
    } else if (o === ${IMPORT}) flush(T, i, ep);
  }
  if (root > T.swept) T.swept = root;
  return mult;
}`;
}

/** The storage arrays a generated function binds, by their names in `Storage`. */
const STORAGE_ARRAYS = ["op", "a", "b", "val", "grad", "rg", "seen", "use"] as const;

/**
 * The kernels as generated JavaScript (one function per op and one sweep, each op's math inlined), the record
 * functions and the root sweep specialized to `storages` (see `Storage`).
 */
export function compiledKernels<V extends Node>(env: KernelEnv<V>, storages: readonly Storage[] = []): Kernels<V> {
  const forwards = elementwiseList.map((op) => `const f${codeOf.get(op)!} = F[${codeOf.get(op)! - FIRST_OP}];`);
  const k = storages.length;
  // One const per array of each storage (`op_0`, `a_0`, …): each closure below is made once, so V8 compiles them as constants.
  const bound = storages.map((_, s) => `const ${STORAGE_ARRAYS.map((name) => `${name}_${s} = S[${s}].${name}`).join(", ")};`);
  const records = elementwiseList.map((op) => recordSource(op, codeOf.get(op)!, k));
  const methods = elementwiseList.map((op) => `${op.name}: ${methodSource(op, codeOf.get(op)!, k)}`);
  // A root sweep per storage (a function of its own each, so that each is made once), and one reading the tape's fields.
  const sweeps = storages.map((_, s) => `const rootSweep_${s} = ${rootSweepSource(`const op = op_${s}, A = a_${s}, B = b_${s}, val = val_${s}, grad = grad_${s}, rg = rg_${s}, seen = seen_${s};`)};`);
  const general = rootSweepSource("const op = T.op, A = T.a, B = T.b, val = T.val, grad = T.grad, rg = T.rg, seen = T.seen;");
  const rootSweep = k === 0 ? general : `function (T, ep, root) {
    const o = T.op;
    ${storages.map((_, s) => `if (o === op_${s}) return rootSweep_${s}(T, ep, root);`).join("\n    ")}
    return rootSweep_general(T, ep, root);
  }`;
  const body = `"use strict";
${forwards.join("\n")}
${bound.join("\n")}
${sweeps.join("\n")}
const rootSweep_general = ${general};
${elementwiseList.map((op) => generalStoreSource(op, codeOf.get(op)!)).join("\n")}
return { record: [null, null, ${records.join(",\n")}], methods: { ${methods.join(",\n")} }, sweep: ${sweepSource()}, rootSweep: ${k === 0 ? "rootSweep_general" : rootSweep} };`;
  const make = new Function("F", "V", "C", "imp", "tapes", "room", "flush", "arity", "S", body) as (...args: unknown[]) => Omit<Kernels<V>, "storages" | "generated">;
  const made = make(elementwiseList.map((op) => op.forward), env.make, constantOf(env), env.imp, tapes, room, flush, arityOfCode, storages);
  return { ...made, storages: [...storages], generated: true };
}

/** The environment's constant maker, or one that says what is missing. */
function constantOf<V extends Node>(env: KernelEnv<V>): (c: number) => V {
  return env.constant ?? (() => {
    throw new Error("these kernels were made without a constant maker (KernelEnv.constant)");
  });
}

/** The kernels as closures over the table (no `new Function`): the fallback, and a reference for tests. */
export function plainKernels<V extends Node>(env: KernelEnv<V>): Kernels<V> {
  const record = opOfCode.map((op, code) =>
    op === null
      ? () => {
          throw new Error(`no op has code ${code}`);
        }
      : (a: V, b: V | null): V => {
          const T = room(3);
          const ia = a.t === T ? a.i : env.imp(T, a);
          const ib = b === null ? -1 : b.t === T ? b.i : env.imp(T, b);
          const n = T.n++;
          T.val[n] = op.forward(T.val[ia]!, ib < 0 ? NaN : T.val[ib]!);
          T.grad[n] = 0;
          T.op[n] = code;
          T.a[n] = ia;
          T.b[n] = ib;
          T.rg[n] = ib < 0 ? T.rg[ia]! : T.rg[ia]! | T.rg[ib]!;
          recordUse(T, n, ia, ib);
          return new env.make(T, n, a, b);
        },
  );
  const sweep: Sweep = (T, ep, hi, pending) => {
    const { op, a, b, val, grad, rg, mark } = T;
    T.swept = Math.max(T.swept, hi);
    let mult = 0;
    const args = [0, 0];
    const reach = (j: number, local: () => number, g: number, live: boolean): void => {
      if (live && rg[j] === 1) {
        mult++;
        const c = local() * g;
        if (mark[j]! >= ep) grad[j]! += c;
        else {
          mark[j] = ep;
          pending++;
          grad[j] = c;
        }
      } else if (mark[j]! < ep) {
        mark[j] = ep;
        pending++;
        grad[j] = 0;
      }
    };
    for (let i = hi; i >= 0; i--) {
      if (mark[i] !== ep) continue;
      const o = op[i]!;
      const node = opOfCode[o];
      if (node) {
        const live = rg[i] === 1;
        const g = live ? grad[i]! : 0;
        args[0] = val[a[i]!]!;
        args[1] = node.arity === 2 ? val[b[i]!]! : NaN;
        const local = (k: number) => () =>
          node.nondiff ? 0 : (node.partials[k]!(numberAlgebra, args, val[i]!) as number);
        reach(a[i]!, local(0), g, live);
        if (node.arity === 2) reach(b[i]!, local(1), g, live);
      } else if (o === IMPORT) flush(T, i, ep);
      if (--pending === 0) break;
    }
    return mult;
  };
  const constant = constantOf(env);
  const methods = Object.fromEntries(
    elementwiseList.map((op) => {
      const rec = record[codeOf.get(op)!]!;
      return [op.name, function (this: V, b?: V | number) {
        return rec(this, op.arity === 1 ? null : b instanceof env.make ? b : constant(b as number));
      }];
    }),
  ) as Kernels<V>["methods"];
  return { record, methods, sweep, rootSweep: plainRootSweep, storages: [], generated: false };
}

/** The root sweep as closures over the table (see `RootSweep`). */
const plainRootSweep: RootSweep = (T, ep, root) => {
  const { op, a, b, val, grad, rg, seen } = T;
  seen[root] = ep;
  let lo = root;
  for (let i = root; i >= lo; i--) {
    if (seen[i] !== ep) continue;
    const o = op[i]!;
    const node = opOfCode[o];
    if (node) {
      grad[i] = 0;
      for (const j of node.arity === 2 ? [a[i]!, b[i]!] : [a[i]!]) {
        seen[j] = ep;
        lo = Math.min(lo, j);
      }
    } else if (o === IMPORT) grad[i] = 0;
  }
  grad[root] = 1;
  let mult = 0;
  for (let i = root; i >= lo; i--) {
    if (seen[i] !== ep) continue;
    const o = op[i]!;
    const node = opOfCode[o];
    if (node) {
      if (rg[i] !== 1) continue;
      const xs = [val[a[i]!]!, node.arity === 2 ? val[b[i]!]! : NaN];
      (node.arity === 2 ? [a[i]!, b[i]!] : [a[i]!]).forEach((j, k) => {
        if (rg[j] !== 1) return;
        mult++;
        grad[j]! += (node.nondiff ? 0 : (node.partials[k]!(numberAlgebra, xs, val[i]!) as number)) * grad[i]!;
      });
    } else if (o === IMPORT) flush(T, i, ep);
  }
  T.swept = Math.max(T.swept, root);
  return mult;
};

/** The compiled kernels (specialized to `storages`), or the plain ones where `new Function` is not allowed. */
export function scalarKernels<V extends Node>(env: KernelEnv<V>, storages: readonly Storage[] = []): Kernels<V> {
  try {
    return compiledKernels(env, storages);
  } catch {
    return plainKernels(env);
  }
}
