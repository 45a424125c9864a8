/**
 * The syntax tree of the expression language. Every node carries its source span (0-based offsets into the
 * program's source text), so every later error and every graph node can point back at what the user wrote.
 */
import type { FunctionSpec } from "./table.js";

/** A range of the source text: `source.slice(pos, pos + length)`. */
export type { Span } from "../core/span.js";
import type { Span } from "../core/span.js";

/** A number literal: `2`, `0.5`, `.5`, `1e-3`. */
export interface NumberLit {
  readonly kind: "number";
  readonly value: number;
  /** The literal as written. */
  readonly text: string;
  readonly span: Span;
}

/** A named constant of the language: `e` or `pi`. */
export interface ConstRef {
  readonly kind: "const";
  readonly name: string;
  readonly value: number;
  readonly span: Span;
}

/** A variable: an input of the expression. */
export interface NameRef {
  readonly kind: "name";
  readonly name: string;
  readonly span: Span;
}

/** `-a` (op `neg`) or `+a` (op `pos`, the identity). */
export interface Unary {
  readonly kind: "unary";
  readonly op: "neg" | "pos";
  readonly operand: Expr;
  readonly span: Span;
  /** The operator token. */
  readonly opSpan: Span;
}

/**
 * `a + b`, `a ^ b`, `a @ b`, ...: `op` is the name of the op-table entry (or `matmul` for `@`, which the
 * tensor engine provides); `symbol` is the operator as written (`^` or `**` for pow).
 */
export interface Binary {
  readonly kind: "binary";
  readonly op: string;
  readonly symbol: string;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
  readonly opSpan: Span;
}

/** A keyword argument `axis=0` of a call. */
export interface Keyword {
  readonly name: string;
  readonly nameSpan: Span;
  readonly value: Expr;
}

/** `f(a, b, key=value)`. */
export interface Call {
  readonly kind: "call";
  readonly callee: string;
  readonly calleeSpan: Span;
  readonly args: readonly Expr[];
  readonly keywords: readonly Keyword[];
  readonly span: Span;
  /** The closing parenthesis. */
  readonly closeSpan: Span;
}

export type Expr = NumberLit | ConstRef | NameRef | Unary | Binary | Call;

/** A name with its position (header names and parameters). */
export interface Ident {
  readonly name: string;
  readonly span: Span;
}

/**
 * The optional header: `L(x, y) = ...` (names the function and orders its parameters), `w = ...` (names the
 * output only), or the lecture's `w = f(x) = ...`.
 */
export interface Header {
  /** The names before the body, left to right: `[L]`, `[w]` or `[w, f]`. */
  readonly names: readonly Ident[];
  /** The parameters in order, or null when the header does not list them (`w = ...`). */
  readonly params: readonly Ident[] | null;
  readonly span: Span;
}

/** A parsed and checked program. */
export interface Program {
  readonly source: string;
  readonly header: Header | null;
  readonly body: Expr;
  /**
   * The inputs, in order: the header's parameters when it lists them, otherwise the free names of the body in
   * order of first appearance.
   */
  readonly inputs: readonly string[];
  /** The functions the program was checked against, by name. */
  readonly functions: ReadonlyMap<string, FunctionSpec>;
}

/** The sub-expressions of a node, left to right (keyword values after positional arguments). */
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "number":
    case "const":
    case "name":
      return [];
    case "unary":
      return [e.operand];
    case "binary":
      return [e.left, e.right];
    case "call":
      return e.keywords.length === 0 ? e.args : [...e.args, ...e.keywords.map((k) => k.value)];
    default: {
      const never: never = e;
      throw new Error(`unknown node ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The nodes of a tree in post-order (children left to right, then the node), computed with an explicit stack:
 * a left-nested chain of a million `+` cannot overflow the call stack.
 */
export function postOrder(root: Expr): Expr[] {
  const out: Expr[] = [];
  const nodes: Expr[] = [root];
  const next: number[] = [0];
  const kids: (readonly Expr[])[] = [children(root)];
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const i = next[top]!;
    const cs = kids[top]!;
    if (i < cs.length) {
      next[top] = i + 1;
      const c = cs[i]!;
      nodes.push(c);
      next.push(0);
      kids.push(children(c));
    } else {
      out.push(nodes.pop()!);
      next.pop();
      kids.pop();
    }
  }
  return out;
}

/** The span from the start of `a` to the end of `b`. */
export function spanOver(a: Span, b: Span): Span {
  const end = Math.max(a.pos + a.length, b.pos + b.length);
  return { pos: a.pos, length: end - a.pos };
}
