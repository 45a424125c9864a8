/**
 * Checks a parsed program: every name is an input, a constant or a function; every call has the right number
 * of arguments and known keywords; the header's parameters are distinct and shadow nothing. Every problem is
 * collected, so the user sees all unknown names at once, each with a suggestion when one is close.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { SourceError, SourceErrors } from "../core/errors.js";
import { postOrder, type Expr, type Ident, type Program, type Span } from "./ast.js";
import { parseSyntax } from "./parser.js";
import { didYouMean } from "../core/suggest.js";
import { callSignature, constants, flagValues, functionTable, scalarFunctions, type FunctionSpec } from "./table.js";

/** Options of {@link parseProgram}: the functions a program may call. */
export interface ParseOptions {
  /**
   * The functions the program may call (default: the scalar functions of the op table). The tensor engine
   * passes its own list, e.g. with `sum(x, axis=...)`.
   */
  functions?: Iterable<FunctionSpec>;
}

/**
 * Parses and checks a program. Throws a {@link SourceError} for a single problem, or {@link SourceErrors}
 * listing all of them (sorted by position) when there are several.
 *
 * @example
 * const p = parseProgram("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2");
 * p.inputs; // ["x", "y", "w1", "b1", "w2", "b2"]
 */
export function parseProgram(source: string, options: ParseOptions = {}): Program {
  expectOptions("parseProgram", options, optionKeys<ParseOptions>({ functions: true }));
  const { header, body } = parseSyntax(source);
  const functions = functionTable(options.functions ?? scalarFunctions);
  const errors: SourceError[] = [];
  const report = (message: string, at: Span) => errors.push(new SourceError(message, source, at.pos, at.length));

  const params = header?.params ?? null;
  const paramNames = params === null ? null : new Set<string>();
  if (params !== null) {
    const seen = new Map<string, Ident>();
    for (const p of params) {
      const fn = functions.get(p.name);
      const first = seen.get(p.name);
      if (constants.has(p.name)) report(`parameter ${p.name} shadows the constant ${p.name}`, p.span);
      else if (fn !== undefined) report(`parameter ${p.name} shadows the function ${callSignature(fn)}`, p.span);
      else if (first !== undefined) {
        report(`duplicate parameter ${p.name} (first at column ${first.span.pos + 1})`, p.span);
      } else seen.set(p.name, p);
      paramNames!.add(p.name);
    }
  }
  const headerName = header?.names[header.names.length - 1]?.name;

  // Unknown names are reported once per distinct name, at its first occurrence.
  const unknown = new Set<string>();
  const unknownOnce = (key: string, message: string, at: Span) => {
    if (unknown.has(key)) return;
    unknown.add(key);
    report(message, at);
  };
  const free: string[] = [];
  const freeSet = new Set<string>();
  for (const node of postOrder(body)) {
    if (node.kind === "name") {
      if (paramNames?.has(node.name)) continue;
      const fn = functions.get(node.name);
      if (fn !== undefined) {
        report(`${node.name} is a function: call it as ${callSignature(fn)}`, node.span);
      } else if (paramNames !== null) {
        const hint = didYouMean(node.name, [...paramNames, ...constants.keys()]);
        const context = hint === "" ? ` (${headerName}'s parameters are ${[...paramNames].join(", ") || "none"})` : hint;
        unknownOnce(`name ${node.name}`, `unknown name ${node.name}${context}`, node.span);
      } else if (!freeSet.has(node.name)) {
        freeSet.add(node.name);
        free.push(node.name);
      }
    } else if (node.kind === "call") {
      const fn = functions.get(node.callee);
      if (fn === undefined) {
        const product = `(write ${node.callee}*(...) for a product)`;
        const hint = didYouMean(node.callee, functions.keys());
        if (constants.has(node.callee)) {
          report(`${node.callee} is a constant, not a function ${product}`, node.calleeSpan);
        } else if (
          paramNames?.has(node.callee) ||
          (hint === "" && paramNames === null && node.args.length === 1 && node.keywords.length === 0)
        ) {
          report(`${node.callee} is not a function ${product}`, node.calleeSpan);
        } else {
          const known = hint === "" ? ` (functions: ${[...functions.keys()].join(", ")})` : hint;
          unknownOnce(`call ${node.callee}`, `unknown function ${node.callee}${known}`, node.calleeSpan);
        }
        continue;
      }
      const n = node.args.length;
      const min = fn.minArity ?? fn.arity;
      if (n < min || n > fn.arity) {
        const count = min === fn.arity ? `${fn.arity}` : `${min} or ${fn.arity}`;
        const expected = `${count} argument${fn.arity === 1 ? "" : "s"}`;
        const at = n > fn.arity ? node.args[fn.arity]!.span : node.closeSpan;
        report(`${fn.name} takes ${expected} (${callSignature(fn)}), got ${n}`, at);
      }
      const allowed = fn.keywords ?? [];
      const given = new Set<string>();
      for (const k of node.keywords) {
        if (allowed.length === 0) {
          report(`${fn.name} takes no keyword arguments, got ${k.name}`, k.nameSpan);
        } else if (!allowed.includes(k.name)) {
          report(`unknown keyword argument ${k.name} for ${fn.name}${didYouMean(k.name, allowed) || ` (it takes ${allowed.join(", ")})`}`, k.nameSpan);
        } else if (given.has(k.name)) {
          report(`keyword argument ${k.name} given twice`, k.nameSpan);
        } else {
          // A flag takes True/False (or 1/0, or a constant expression); other keywords take no True/False.
          const v = k.value;
          if (fn.flags?.includes(k.name)) {
            if (v.kind === "name") report(`${k.name} takes True or False (or 1 or 0), got ${v.name}`, v.span);
          } else if (v.kind === "const" && flagValues.has(v.name)) {
            report(`${k.name} takes an integer, got ${v.name}`, v.span);
          }
        }
        given.add(k.name);
      }
    }
  }
  throwIfAny(errors);
  const inputs = params === null ? free : params.map((p) => p.name);
  return { source, header, body, inputs, functions };
}

/** Throws nothing for no errors, the error itself for one, and {@link SourceErrors} (by position) for several. */
export function throwIfAny(errors: readonly SourceError[]): void {
  if (errors.length === 0) return;
  if (errors.length === 1) throw errors[0]!;
  // By source text (in the order the texts first appear), then by position.
  const order = new Map<string, number>();
  for (const e of errors) if (!order.has(e.source)) order.set(e.source, order.size);
  const sorted = [...errors].sort((a, b) => order.get(a.source)! - order.get(b.source)! || a.pos - b.pos);
  throw new SourceErrors(sorted);
}

/** The individual source errors of a thrown value (one, several, or none when it is not a source error). */
export function sourceErrorsOf(e: unknown): SourceError[] {
  if (e instanceof SourceErrors) return [...e.errors];
  if (e instanceof SourceError) return [e];
  return [];
}

/** The variables of an expression, in order of first appearance (no constants, no function names). */
export function namesIn(body: Expr): string[] {
  const out = new Set<string>();
  for (const node of postOrder(body)) if (node.kind === "name") out.add(node.name);
  return [...out];
}
