/**
 * The lecture's straight-line program, for any expression: the forward assignments with their values in
 * comments, then `dd = 1` and one line per node walking backwards, each input's gradient being the op's local
 * derivative (printed by running the op table's own partial on names) times the incoming gradient.
 *
 * ```python
 * def df(x, y):  # x=0, y=1
 *     a = -x  # a = 0
 *     ...
 *     dd = 1
 *     dc = -1/c**2 * dd  # = -0.25
 *     dy, db = 1 * dc, 1 * dc  # = -0.25, -0.25
 * ```
 */
import { elementwiseList } from "../ops/elementwise.js";
import { PREC, type ElementwiseOp } from "../ops/op.js";
import { formatValue, isIdentifier, RESERVED_NAMES } from "./format.js";
import { NAMED_CONSTANTS, opOf, type Snapshot, type SnapshotNode } from "./snapshot.js";
import { printOp, symbolicAlgebra, symConst, symName, type Sym } from "./symbolic.js";

/** The languages {@link generateCode} writes. */
export type CodeTarget = "py" | "ts";

/** Options of {@link generateCode}. */
export interface CodeOptions {
  /** Name of the generated function (default `df`, as in the lecture). */
  name?: string;
}

/**
 * Writes the lecture's `df` for the snapshot's graph, in Python or TypeScript. The program returns the value and
 * the gradient with respect to every parameter, in order: `return d, (dx, dy)` in Python, `return [d, [dx, dy]]`
 * in TypeScript. Helpers (`def relu`, `const sigmoid = ...`) are declared only when used, and `import math` only
 * when `math.` appears.
 *
 * @example
 * const x = new Value(0, { label: "x" }), y = new Value(1, { label: "y" });
 * generateCode(snapshot(Value.constant(1).div(y.add(x.neg().exp())), [x, y]), "py");
 * // import math
 * //
 * // def df(x, y):  # x=0, y=1
 * //     a = -x  # a = 0
 * //     ...
 */
export function generateCode(snap: Snapshot, target: CodeTarget, options: CodeOptions = {}): string {
  return new CodeWriter(snap, target, options.name ?? "df").write();
}

class CodeWriter {
  private readonly nodes: readonly SnapshotNode[];
  private readonly ident: string[];
  private readonly gradName: string[];
  /** Ops whose printed form appears in the program (for helper definitions). */
  private readonly printed = new Set<ElementwiseOp>();
  private readonly py: boolean;

  constructor(
    private readonly snap: Snapshot,
    private readonly target: CodeTarget,
    private readonly fname: string,
  ) {
    this.nodes = snap.nodes;
    this.py = target === "py";
    this.ident = identifiers(snap.nodes);
    const prefix = gradPrefix(snap, this.ident);
    this.gradName = this.ident.map((id) => prefix + id);
  }

  write(): string {
    const { snap, nodes } = this;
    const params = snap.params.map((p) => nodes[p]!);
    const forward = this.forwardLines();
    const backward = this.backwardLines();
    const root = nodes[snap.root]!;
    const grads = params.map((p) => this.gradName[p.id]!);
    const ret = this.py
      ? `return ${this.operand(root).text}, (${grads.join(", ")}${grads.length === 1 ? "," : ""})`
      : `return [${this.operand(root).text}, [${grads.join(", ")}]];`;

    const comment = this.py ? "#" : "//";
    const at = snap.hasValues ? `  ${comment} ${params.map((p) => `${p.name}=${formatValue(p.value!)}`).join(", ")}` : "";
    const signature = this.py
      ? `def ${this.fname}(${params.map((p) => this.ident[p.id]).join(", ")}):${params.length > 0 ? at : ""}`
      : `export function ${this.fname}(${params.map((p) => `${this.ident[p.id]}: number`).join(", ")}): [number, number[]] {${params.length > 0 ? at : ""}`;

    const indent = this.py ? "    " : "  ";
    const body = [...forward, ...(forward.length > 0 ? [""] : []), ...backward, ...(backward.length > 0 ? [""] : []), ret];
    const fn = [signature, ...body.map((l) => (l === "" ? "" : indent + l)), ...(this.py ? [] : ["}"])];

    const helpers = elementwiseList
      .filter((op) => this.printed.has(op) && op.print.kind === "call" && op.print.define?.[this.target] !== undefined)
      .map((op) => (op.print.kind === "call" ? op.print.define![this.target]! : ""));
    const usesMath = this.py && [...helpers, ...fn].some((l) => /\bmath\./.test(l));
    const head = [...(usesMath ? ["import math"] : []), ...helpers];
    return [...head.flatMap((h) => [h, ""]), ...fn].join("\n") + "\n";
  }

  /** A node as an operand: its variable, or a literal for a constant (`math.e` for e). */
  private operand(n: SnapshotNode): Sym {
    if (n.kind !== "const") return symName(this.ident[n.id]!);
    const named = n.namedConstant === null ? undefined : NAMED_CONSTANTS[n.namedConstant][this.target];
    return symConst(n.value!, this.target, named);
  }

  private line(code: string, comment?: string): string {
    const end = this.py ? "" : ";";
    const c = comment === undefined ? "" : `  ${this.py ? "#" : "//"} ${comment}`;
    return `${code}${end}${c}`;
  }

  /** Declaration keyword in TypeScript (`let` when the variable is added to later). */
  private decl(reassigned: boolean): string {
    return this.py ? "" : reassigned ? "let " : "const ";
  }

  private forwardLines(): string[] {
    const out: string[] = [];
    for (const n of this.nodes) {
      if (n.kind !== "op") continue;
      const op = opOf(n);
      this.printed.add(op);
      const expr = printOp(op, n.inputs.map((x) => this.operand(this.nodes[x]!)), this.target, "pow");
      const name = this.ident[n.id]!;
      out.push(this.line(`${this.decl(false)}${name} = ${expr.text}`, this.snap.hasValues ? `${n.name} = ${formatValue(n.value!)}` : undefined));
    }
    return out;
  }

  private backwardLines(): string[] {
    const { nodes, snap } = this;
    const out: string[] = [];
    const root = nodes[snap.root]!;
    const assigned = new Set<number>();
    const reassigned = (id: number) => nodes[id]!.uses.length > 1;
    const algebra = symbolicAlgebra(this.target, true, this.printed);
    if (root.requiresGrad) {
      out.push(this.line(`${this.decl(false)}${this.gradName[root.id]} = 1`));
      assigned.add(root.id);
    }
    for (let k = nodes.length - 1; k >= 0; k--) {
      const n = nodes[k]!;
      if (n.kind !== "op" || !n.requiresGrad) continue;
      const op = opOf(n);
      const args = n.inputs.map((x) => this.operand(nodes[x]!));
      const g = this.gradName[k]!;
      const first: { target: number; input: number; term: string; value: number | undefined }[] = [];
      const more: typeof first = [];
      n.inputs.forEach((x, i) => {
        if (n.localsText[i] === null) return;
        const local = op.nondiff ? symConst(0, this.target) : lift(op.partials[i]!(algebra, args, symName(this.ident[k]!)), this.target);
        const term = `${local.prec < PREC.mul ? `(${local.text})` : local.text} * ${g}`;
        const value = nodes[x]!.contributions.find((c) => c.from === k && c.input === i)?.value;
        (assigned.has(x) ? more : first).push({ target: x, input: i, term, value });
        assigned.add(x);
      });
      const values = snap.hasGrads;
      if (first.length === 1) {
        const [t] = first as [(typeof first)[0]];
        out.push(this.line(`${this.decl(reassigned(t.target))}${this.gradName[t.target]} = ${t.term}`, values ? `= ${formatValue(t.value!)}` : undefined));
      } else if (first.length > 1) {
        const targets = first.map((t) => this.gradName[t.target]).join(", ");
        const terms = first.map((t) => t.term).join(", ");
        const comment = values ? `= ${first.map((t) => formatValue(t.value!)).join(", ")}` : undefined;
        const code = this.py
          ? `${targets} = ${terms}`
          : `${this.decl(first.some((t) => reassigned(t.target)))}[${targets}] = [${terms}]`;
        out.push(this.line(code, comment));
      }
      for (const t of more) {
        const name = this.gradName[t.target]!;
        const comment = values ? `+= ${formatValue(t.value!)} (${name} = ${formatValue(runningSum(nodes[t.target]!, k, t.input))})` : undefined;
        out.push(this.line(`${name} += ${t.term}`, comment));
      }
    }
    for (const p of snap.params) {
      if (assigned.has(p)) continue;
      const why = nodes[p]!.requiresGrad ? `${root.name} does not depend on ${nodes[p]!.name}` : `no gradient flows to ${nodes[p]!.name}`;
      out.push(this.line(`${this.decl(false)}${this.gradName[p]} = 0`, why));
    }
    return out;
  }
}

/** The gradient of `n` once the contribution along input `input` of consumer `from` is added. */
function runningSum(n: SnapshotNode, from: number, input: number): number {
  let sum = 0;
  for (const c of n.contributions) {
    sum += c.value;
    if (c.from === from && c.input === input) return sum;
  }
  return sum;
}

/** A partial's result as printed code (a plain number when the rule returned one). */
function lift(x: Sym | number, target: CodeTarget): Sym {
  return typeof x === "number" ? symConst(x, target) : x;
}

/**
 * Variable names in code: the board names where they are identifiers free in both languages, otherwise the name
 * made into one (`x'` → `x_`, `lambda` → `lambda_`), unique across the program.
 */
function identifiers(nodes: readonly SnapshotNode[]): string[] {
  const taken = new Set<string>();
  for (const n of nodes) if (n.kind !== "const" && usable(n.name)) taken.add(n.name);
  return nodes.map((n) => {
    if (n.kind === "const" || usable(n.name)) return n.name;
    let base = n.name.replace(/[^A-Za-z0-9_]/g, "_");
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    let name = base;
    while (taken.has(name) || RESERVED_NAMES.has(name)) name += "_";
    taken.add(name);
    return name;
  });
}

function usable(name: string): boolean {
  return isIdentifier(name) && !RESERVED_NAMES.has(name);
}

/** The gradient variables' prefix: `d` as in the lecture (`dx`), or another if `d` would clash with a name. */
function gradPrefix(snap: Snapshot, ident: readonly string[]): string {
  const vars = new Set(snap.nodes.filter((n) => n.kind !== "const").map((n) => ident[n.id]!));
  const free = (prefix: string) => [...vars].every((v) => !vars.has(prefix + v) && !RESERVED_NAMES.has(prefix + v));
  for (const prefix of ["d", "d_", "grad_"]) if (free(prefix)) return prefix;
  for (let i = 2; ; i++) if (free(`d${i}_`)) return `d${i}_`;
}
