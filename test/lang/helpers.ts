import { expect } from "vitest";
import { SourceError, SourceErrors } from "../../packages/gradgraph/src/core/errors.js";
import { numberAlgebra } from "../../packages/gradgraph/src/ops/algebras.js";
import { evaluate, parseProgram, postOrder, type Expr } from "../../packages/gradgraph/src/lang/index.js";

/** Runs `f`, asserts that it throws, and returns what it threw. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  expect.fail("expected an error, but nothing was thrown");
}

/** The single SourceError thrown by `f`. */
export function sourceError(f: () => unknown): SourceError {
  const e = thrown(f);
  expect(e).toBeInstanceOf(SourceError);
  return e as SourceError;
}

/** The SourceErrors thrown by `f`. */
export function sourceErrors(f: () => unknown): SourceError[] {
  const e = thrown(f);
  expect(e).toBeInstanceOf(SourceErrors);
  return [...(e as SourceErrors).errors];
}

/** The 0-based column of the first caret and the number of carets in a formatted error. */
export function caret(formatted: string): { col: number; length: number } {
  const lines = formatted.split("\n");
  const line = lines[lines.length - 1]!;
  const m = /\^+/.exec(line)!;
  return { col: m.index - 2, length: m[0].length };
}

/** Asserts a SourceError's message, position and the caret drawn by `format()`. */
export function expectAt(e: SourceError, message: string | RegExp, pos: number, length?: number): void {
  if (typeof message === "string") expect(e.message).toBe(message);
  else expect(e.message).toMatch(message);
  expect(e.pos).toBe(pos);
  expect(caret(e.format()).col).toBe(pos);
  expect(e.format().split("\n")[0]).toBe(`${e.where}:${pos + 1}: ${e.message}`);
  if (length !== undefined) {
    expect(e.length).toBe(length);
    expect(caret(e.format()).length).toBe(length);
  }
}

/** Evaluates an expression on numbers. */
export function ev(source: string, env: Record<string, number> = {}): number {
  return evaluate(parseProgram(source), numberAlgebra, new Map(Object.entries(env)));
}

/** The tree as an s-expression: `(add x (mul 2 y))`. Spans are left out. */
export function sexpr(e: Expr): string {
  const stack: string[] = [];
  for (const n of postOrder(e)) {
    switch (n.kind) {
      case "number":
        stack.push(String(n.value));
        break;
      case "const":
      case "name":
        stack.push(n.name);
        break;
      case "unary":
        stack.push(`(${n.op} ${stack.pop()!})`);
        break;
      case "binary": {
        const b = stack.pop()!;
        const a = stack.pop()!;
        stack.push(`(${n.op} ${a} ${b})`);
        break;
      }
      case "call": {
        const kws = stack.splice(stack.length - n.keywords.length, n.keywords.length);
        const args = stack.splice(stack.length - n.args.length, n.args.length);
        const parts = [...args, ...n.keywords.map((k, i) => `${k.name}=${kws[i]!}`)];
        stack.push(`(${n.callee}${parts.map((p) => ` ${p}`).join("")})`);
        break;
      }
    }
  }
  return stack.pop()!;
}

/** The tree of a source text as an s-expression. */
export function tree(source: string): string {
  return sexpr(parseProgram(source).body);
}
