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
 *     dc = -d/c * dd  # = -0.25
 *     dy, db = 1 * dc, 1 * dc  # = -0.25, -0.25
 * ```
 */
import { expectOptions, optionKeys } from "../core/expect.js";
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
 * One line of the program written by {@link generateCodeLines}, with the graph node it belongs to, so a viewer
 * can highlight the line in step with the graph.
 */
export interface CodeLine {
  /** The line's text, indentation included (no line break). */
  text: string;
  /** `forward` for an assignment of the forward pass, `backward` for a gradient line, null for any other line. */
  pass: "forward" | "backward" | null;
  /**
   * Forward: the node the line computes. Backward: the node whose gradient the line sends back to its inputs
   * (the root for the seed `dd = 1`; the parameter itself for `dx = 0`). Null for other lines.
   */
  node: number | null;
  /** Nodes whose gradient variables the line assigns or adds to (empty for forward and other lines). */
  grads: number[];
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
  return generateCodeLines(snap, target, options).map((l) => l.text).join("\n") + "\n";
}

/**
 * {@link generateCode}, line by line, each line saying which node of the snapshot it computes or differentiates
 * (`generateCode(...)` is these lines' texts joined, plus a final line break).
 *
 * @example
 * const lines = generateCodeLines(snapshot(d, [x, y]), "py");
 * lines.find((l) => l.text.trim().startsWith("dc ="));
 * // { text: "    dc = -d/c * dd  # = -0.25", pass: "backward", node: 6, grads: [5] }
 */
export function generateCodeLines(snap: Snapshot, target: CodeTarget, options: CodeOptions = {}): CodeLine[] {
  expectOptions("generateCode", options, optionKeys<CodeOptions>({ name: true }));
  return new CodeWriter(snap, target, options.name ?? "df").write();
}

/** A line of the function body before indentation. */
type BodyLine = CodeLine;

const plain = (text: string): CodeLine => ({ text, pass: null, node: null, grads: [] });

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

  write(): CodeLine[] {
    const { snap, nodes } = this;
    const params = snap.params.map((p) => nodes[p]!);
    const forward = this.forwardLines();
    const backward = this.backwardLines();
    const root = nodes[snap.root]!;
    const grads = params.map((p) => this.gradName[p.id]!);
    const ret = plain(
      this.py
        ? `return ${this.operand(root).text}, (${grads.join(", ")}${grads.length === 1 ? "," : ""})`
        : `return [${this.operand(root).text}, [${grads.join(", ")}]];`,
    );

    const comment = this.py ? "#" : "//";
    const at = snap.hasValues ? `  ${comment} ${params.map((p) => `${p.name}=${formatValue(p.value!)}`).join(", ")}` : "";
    const signature = this.py
      ? `def ${this.fname}(${params.map((p) => this.ident[p.id]).join(", ")}):${params.length > 0 ? at : ""}`
      : `export function ${this.fname}(${params.map((p) => `${this.ident[p.id]}: number`).join(", ")}): [number, number[]] {${params.length > 0 ? at : ""}`;

    const indent = this.py ? "    " : "  ";
    const blank = plain("");
    const body: BodyLine[] = [...forward, ...(forward.length > 0 ? [blank] : []), ...backward, ...(backward.length > 0 ? [blank] : []), ret];
    const fn: CodeLine[] = [
      plain(signature),
      ...body.map((l) => (l.text === "" ? l : { ...l, text: indent + l.text })),
      ...(this.py ? [] : [plain("}")]),
    ];

    const helpers = elementwiseList
      .filter((op) => this.printed.has(op) && op.print.kind === "call" && op.print.define?.[this.target] !== undefined)
      .map((op) => (op.print.kind === "call" ? op.print.define![this.target]! : ""));
    const usesMath = this.py && [...helpers, ...fn.map((l) => l.text)].some((l) => /\bmath\./.test(l));
    const head = [...(usesMath ? ["import math"] : []), ...helpers];
    // A helper may span several lines (`def relu(x):\n    return ...`): one CodeLine per line of text.
    return [...head.flatMap((h) => [...h.split("\n").map(plain), plain("")]), ...fn];
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

  private forwardLines(): BodyLine[] {
    const out: BodyLine[] = [];
    for (const n of this.nodes) {
      if (n.kind !== "op") continue;
      const op = opOf(n);
      this.printed.add(op);
      const expr = printOp(op, n.inputs.map((x) => this.operand(this.nodes[x]!)), this.target, "pow");
      const name = this.ident[n.id]!;
      const text = this.line(`${this.decl(false)}${name} = ${expr.text}`, this.snap.hasValues ? `${n.name} = ${formatValue(n.value!)}` : undefined);
      out.push({ text, pass: "forward", node: n.id, grads: [] });
    }
    return out;
  }

  private backwardLines(): BodyLine[] {
    const { nodes, snap } = this;
    const out: BodyLine[] = [];
    const backward = (text: string, node: number, grads: number[]): BodyLine => ({ text, pass: "backward", node, grads });
    const root = nodes[snap.root]!;
    const assigned = new Set<number>();
    // Gradients so far, added in the order of the snapshot's sweep (for the `+=` comments).
    const running = nodes.map(() => 0);
    const reassigned = (id: number) => nodes[id]!.uses.length > 1;
    const algebra = symbolicAlgebra(this.target, true, this.printed);
    if (root.requiresGrad) {
      out.push(backward(this.line(`${this.decl(false)}${this.gradName[root.id]} = 1`), root.id, [root.id]));
      assigned.add(root.id);
    }
    for (let k = nodes.length - 1; k >= 0; k--) {
      const n = nodes[k]!;
      if (n.kind !== "op" || !n.requiresGrad) continue;
      const op = opOf(n);
      const args = n.inputs.map((x) => this.operand(nodes[x]!));
      const g = this.gradName[k]!;
      const first: { target: number; term: string; value: number | undefined; sum: number }[] = [];
      const more: typeof first = [];
      n.inputs.forEach((x, i) => {
        if (n.localsText[i] === null) return;
        const local = op.nondiff ? symConst(0, this.target) : lift(op.partials[i]!(algebra, args, symName(this.ident[k]!)), this.target);
        const term = `${local.prec < PREC.mul ? `(${local.text})` : local.text} * ${g}`;
        // The contribution, computed as the sweep computed it: local × (final gradient of n).
        const value = n.locals[i] !== null && n.grad !== null ? n.locals[i]! * n.grad : undefined;
        if (value !== undefined) running[x]! += value;
        (assigned.has(x) ? more : first).push({ target: x, term, value, sum: running[x]! });
        assigned.add(x);
      });
      const values = snap.hasGrads;
      if (first.length === 1) {
        const [t] = first as [(typeof first)[0]];
        const text = this.line(`${this.decl(reassigned(t.target))}${this.gradName[t.target]} = ${t.term}`, values ? `= ${formatValue(t.value!)}` : undefined);
        out.push(backward(text, k, [t.target]));
      } else if (first.length > 1) {
        const targets = first.map((t) => this.gradName[t.target]).join(", ");
        const terms = first.map((t) => t.term).join(", ");
        const comment = values ? `= ${first.map((t) => formatValue(t.value!)).join(", ")}` : undefined;
        const code = this.py
          ? `${targets} = ${terms}`
          : `${this.decl(first.some((t) => reassigned(t.target)))}[${targets}] = [${terms}]`;
        out.push(backward(this.line(code, comment), k, first.map((t) => t.target)));
      }
      for (const t of more) {
        const name = this.gradName[t.target]!;
        const comment = values ? `+= ${formatValue(t.value!)} (${name} = ${formatValue(t.sum)})` : undefined;
        out.push(backward(this.line(`${name} += ${t.term}`, comment), k, [t.target]));
      }
    }
    for (const p of snap.params) {
      if (assigned.has(p)) continue;
      const why = nodes[p]!.requiresGrad ? `${root.name} does not depend on ${nodes[p]!.name}` : `no gradient flows to ${nodes[p]!.name}`;
      out.push(backward(this.line(`${this.decl(false)}${this.gradName[p]} = 0`, why), p, [p]));
    }
    return out;
  }
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
