/**
 * The ALU algebra: the few arithmetic, comparison and selection instructions that every backend has (plus the
 * transcendental functions, which some backends call out for). Each elementwise primitive of the table writes its
 * forward function once against this interface (`lower`); from that one definition
 *
 * - the numbers algebra evaluates it ({@link aluNumbers}: the scalar engine's `forward`),
 * - the tracer ({@link traceAlu}) records it as an expression DAG ({@link AluNode}), from which the backends
 *   print their kernels (JavaScript, WebAssembly SIMD) — one op, or a fused chain of ops, per kernel.
 *
 * Comparisons give masks (true/false), consumed by `select`; that is what lets a backend run `relu`, `gt` and
 * `max` without a branch (a SIMD compare and a bit-select).
 */

/** Functions a backend may lack as an instruction (WebAssembly has no exp): a kernel using one calls out. */
export type AluCall = "exp" | "log" | "log1p" | "expm1" | "tanh" | "sin" | "cos" | "pow";

/** Every call, for code that tells calls from instructions. */
export const ALU_CALLS: ReadonlySet<string> = new Set<AluCall>(["exp", "log", "log1p", "expm1", "tanh", "sin", "cos", "pow"]);

/** Instructions of the ALU (besides `const` and the kernel's inputs). */
export type AluOp =
  | "add" | "sub" | "mul" | "div" | "neg" | "abs" | "sqrt"
  | "gt" | "ge" | "lt" | "le" | "eq" | "ne"
  | "select"
  | "round"
  | AluCall;

/** The ALU over values of type T; comparisons return masks that only `select` consumes. */
export interface Alu<T> {
  const(c: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  abs(a: T): T;
  sqrt(a: T): T;
  gt(a: T, b: T): T;
  ge(a: T, b: T): T;
  lt(a: T, b: T): T;
  le(a: T, b: T): T;
  eq(a: T, b: T): T;
  ne(a: T, b: T): T;
  /** `m ? a : b` for a mask m (both sides are evaluated; a backend selects bits). */
  select(m: T, a: T, b: T): T;
  /**
   * `a` rounded to the kernel's element type: where one op's result would have been stored, inside a chain of
   * ops fused into one kernel (float32: as if stored in a Float32Array; float64: nothing), so that a fused kernel
   * gives what the ops one by one give.
   */
  round(a: T): T;
  call(f: AluCall, ...args: T[]): T;
}

/** A forward function written against the ALU: one output from the op's inputs. */
export type Lowering = <T>(o: Alu<T>, xs: readonly T[]) => T;

/** The ALU on numbers (masks are 1/0). */
export const aluNumbers: Alu<number> = {
  const: (c) => c,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  neg: (a) => -a,
  abs: (a) => Math.abs(a),
  sqrt: (a) => Math.sqrt(a),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  select: (m, a, b) => (m !== 0 ? a : b),
  round: (a) => a,
  call: (f, a, b) => (f === "pow" ? a! ** b! : Math[f](a!)),
};

// ---------------------------------------------------------------------------------------------------------
// The expression DAG
// ---------------------------------------------------------------------------------------------------------

/** A node of a traced kernel: an input (by position), a constant, or an instruction on earlier nodes. */
export type AluNode =
  | { readonly op: "input"; readonly index: number; readonly key: string }
  | { readonly op: "const"; readonly value: number; readonly key: string }
  | { readonly op: AluOp; readonly args: readonly AluNode[]; readonly key: string };

/** True for instructions whose result is a mask. */
export function isMask(n: AluNode): boolean {
  return n.op === "gt" || n.op === "ge" || n.op === "lt" || n.op === "le" || n.op === "eq" || n.op === "ne";
}

/**
 * An ALU that records: equal subexpressions are one node (hash-consed by their key), and a few identities that
 * the derived rules produce all the time are folded (`1·x`, `x·1`, `x + 0`, `0 + x`).
 */
export function traceAlu(): Alu<AluNode> & { input(i: number): AluNode } {
  const nodes = new Map<string, AluNode>();
  const intern = (n: AluNode): AluNode => {
    const old = nodes.get(n.key);
    if (old !== undefined) return old;
    nodes.set(n.key, n);
    return n;
  };
  const isConst = (n: AluNode, c: number) => n.op === "const" && Object.is(n.value, c);
  const ins = (op: AluOp, ...args: AluNode[]): AluNode => intern({ op, args, key: `${op}(${args.map((a) => a.key).join(",")})` });
  return {
    input: (index) => intern({ op: "input", index, key: `$${index}` }),
    const: (value) => intern({ op: "const", value, key: `#${Object.is(value, -0) ? "-0" : String(value)}` }),
    add: (a, b) => (isConst(b, 0) ? a : isConst(a, 0) ? b : ins("add", a, b)),
    sub: (a, b) => ins("sub", a, b),
    mul: (a, b) => (isConst(a, 1) ? b : isConst(b, 1) ? a : ins("mul", a, b)),
    div: (a, b) => ins("div", a, b),
    neg: (a) => ins("neg", a),
    abs: (a) => ins("abs", a),
    sqrt: (a) => ins("sqrt", a),
    gt: (a, b) => ins("gt", a, b),
    ge: (a, b) => ins("ge", a, b),
    lt: (a, b) => ins("lt", a, b),
    le: (a, b) => ins("le", a, b),
    eq: (a, b) => ins("eq", a, b),
    ne: (a, b) => ins("ne", a, b),
    select: (m, a, b) => ins("select", m, a, b),
    round: (a) => (a.op === "round" || a.op === "input" || a.op === "const" ? a : ins("round", a)),
    call: (f, ...args) => ins(f, ...args),
  };
}

/** The nodes of a DAG in evaluation order (every node after its arguments), each once. */
export function schedule(root: AluNode): AluNode[] {
  return scheduleAll([root]);
}

/** The nodes of several DAGs (a multi-output kernel's) in one evaluation order, shared nodes once. */
export function scheduleAll(roots: readonly AluNode[]): AluNode[] {
  const out: AluNode[] = [];
  const seen = new Set<AluNode>();
  const stack: [AluNode, boolean][] = roots.map((r) => [r, false] as [AluNode, boolean]).reverse();
  while (stack.length > 0) {
    const [n, done] = stack.pop()!;
    if (done) {
      out.push(n);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push([n, true]);
    if ("args" in n) for (let i = n.args.length - 1; i >= 0; i--) if (!seen.has(n.args[i]!)) stack.push([n.args[i]!, false]);
  }
  return out;
}

/** The number of inputs a DAG reads (one more than the largest input index it uses; 0 for a constant). */
export function inputCount(root: AluNode): number {
  let n = 0;
  for (const x of schedule(root)) if (x.op === "input") n = Math.max(n, x.index + 1);
  return n;
}

/**
 * The inputs a DAG reads, and the DAG rebuilt to read only those, numbered 0, 1, … in the order of `used`
 * (a kernel then receives only the arrays it needs).
 */
export function compactInputs(root: AluNode): { root: AluNode; used: number[] } {
  const order = schedule(root);
  const used = [...new Set(order.filter((n) => n.op === "input").map((n) => (n as { index: number }).index))].sort((a, b) => a - b);
  const t = traceAlu();
  const made = new Map<AluNode, AluNode>();
  const o = t as unknown as Record<string, (...xs: AluNode[]) => AluNode>;
  for (const n of order) {
    let m: AluNode;
    if (n.op === "input") m = t.input(used.indexOf(n.index));
    else if (n.op === "const") m = t.const(n.value);
    else {
      const args = n.args.map((a) => made.get(a)!);
      m = ALU_CALLS.has(n.op) ? t.call(n.op as AluCall, ...args) : o[n.op]!(...args);
    }
    made.set(n, m);
  }
  return { root: made.get(root)!, used };
}

const JS_BINARY: Partial<Record<AluOp, string>> = { add: "+", sub: "-", mul: "*", div: "/", gt: ">", ge: ">=", lt: "<", le: "<=", eq: "===", ne: "!==" };

/**
 * The JavaScript statements that compute a DAG: one `const` per node (`x_0`, `x_1`, …) from the input names given,
 * and the name of the result. Masks are booleans; `select` is a conditional expression; `round` is `Math.fround`
 * for a float32 kernel (`f32`), else nothing.
 */
export function printJs(root: AluNode, inputs: readonly string[], f32 = false): { body: string; result: string } {
  const { body, results } = printJsAll([root], inputs, f32);
  return { body, result: results[0]! };
}

/** {@link printJs} for several DAGs at once (a multi-output kernel): shared nodes computed once, one result each. */
export function printJsAll(roots: readonly AluNode[], inputs: readonly string[], f32 = false): { body: string; results: string[] } {
  const names = new Map<AluNode, string>();
  const lines: string[] = [];
  for (const n of scheduleAll(roots)) {
    let e: string;
    if (n.op === "input") e = inputs[n.index]!;
    else if (n.op === "const") e = Number.isNaN(n.value) ? "NaN" : Object.is(n.value, -0) ? "-0" : n.value === Infinity ? "Infinity" : n.value === -Infinity ? "-Infinity" : String(n.value);
    else {
      const a = n.args.map((x) => names.get(x)!);
      const bin = JS_BINARY[n.op];
      if (bin !== undefined) e = `${a[0]} ${bin} ${a[1]}`;
      else if (n.op === "neg") e = `-${a[0]}`;
      else if (n.op === "select") e = `${a[0]} ? ${a[1]} : ${a[2]}`;
      else if (n.op === "pow") e = `${a[0]} ** ${a[1]}`;
      else if (n.op === "round") e = f32 ? `Math.fround(${a[0]})` : `${a[0]}`;
      else e = `Math.${n.op}(${a[0]})`;
    }
    if (n.op === "input") {
      names.set(n, e);
      continue;
    }
    const t = `x_${lines.length}`;
    lines.push(`const ${t} = ${e};`);
    names.set(n, t);
  }
  return { body: lines.join(" "), results: roots.map((r) => names.get(r)!) };
}

/**
 * A number function from a lowering: compiled from its printed JavaScript where `new Function` is allowed (a
 * check on sample inputs guards the compilation), else the lowering evaluated on {@link aluNumbers}.
 */
export function numberFunction(lower: Lowering, arity: 1 | 2): (a: number, b: number) => number {
  const evaluate = (a: number, b: number) => lower(aluNumbers, arity === 1 ? [a] : [a, b]);
  try {
    const t = traceAlu();
    const root = lower(t, arity === 1 ? [t.input(0)] : [t.input(0), t.input(1)]);
    const { body, result } = printJs(root, ["a", "b"]);
    const f = new Function("a", "b", `"use strict"; ${body} return ${result};`) as (a: number, b: number) => number;
    const probes = [-2.5, -1, -0, 0, 0.5, 1, 3, Infinity, -Infinity, NaN];
    for (const a of probes) for (const b of probes) if (!Object.is(f(a, b), evaluate(a, b))) return evaluate;
    return f;
  } catch {
    return evaluate;
  }
}
