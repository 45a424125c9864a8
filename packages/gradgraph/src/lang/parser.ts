/**
 * The parser: a hand-written precedence climber over the tokens of ./lexer.ts. Binding strengths and
 * associativity come from the op table's print specs, which follow Python:
 *
 *     a - b - c    is (a - b) - c          (+ - * / @ are left-associative)
 *     2 ^ 3 ^ 2    is 2 ^ (3 ^ 2) = 512    (^ and ** are right-associative)
 *     -x ^ 2       is -(x ^ 2)             (the power binds tighter than a unary minus on its left)
 *     2 ^ -1       is 0.5                  (the exponent may itself be a unary expression)
 *
 * The parser only checks syntax; names, arities and keywords are checked by ./check.ts.
 */
import { SourceError } from "../core/errors.js";
import { spanOver, type Call, type Expr, type Header, type Ident, type Keyword, type Span } from "./ast.js";
import { describeToken, tokenize, type Token } from "./lexer.js";
import { binaryOperators, constants, flagValues, prefixOperators, scalarFunctions } from "./table.js";
import { tensorFunctionList } from "../ops/functions.js";

/** The language's function names (scalar and tensor), for the hint after `sin x`. */
const FUNCTION_NAMES: ReadonlySet<string> = new Set([...scalarFunctions.map((f) => f.name), ...tensorFunctionList.map((f) => f.name)]);

/** Deeper nesting than this is refused with a message instead of overflowing the call stack. */
export const MAX_NESTING = 500;

/** The syntax of a program, before its names are checked. */
export interface Syntax {
  readonly header: Header | null;
  readonly body: Expr;
}

/** Parses `source` into a header and a body. Throws a {@link SourceError} at the first syntax error. */
export function parseSyntax(source: string): Syntax {
  return new Parser(source).program();
}

/** The span of a token, without its other fields. */
const sp = (t: Token): Span => ({ pos: t.pos, length: t.length });

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private depth = 0;
  /** Spans including the parentheses around a node, for nodes that were written in parentheses. */
  private readonly outer = new Map<Expr, Span>();

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]!;
  }

  private advance(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.i++;
    return t;
  }

  private error(message: string, at: Span): SourceError {
    return new SourceError(message, this.source, at.pos, at.length);
  }

  private extent(e: Expr): Span {
    return this.outer.get(e) ?? e.span;
  }

  program(): Syntax {
    if (this.peek().kind === "eof") throw this.error("empty expression: nothing to compute", { pos: 0, length: 1 });
    const header = this.header();
    if (header !== null && this.peek().kind === "eof") {
      throw this.error("expected an expression after '=', got end of input", this.peek());
    }
    const body = this.expression(0);
    const t = this.peek();
    if (t.kind !== "eof") {
      if (t.kind === ")") throw this.error("unbalanced parentheses: this ')' has no matching '('", t);
      throw this.error(`expected an operator or end of input, got ${describeToken(t)}`, t);
    }
    return { header, body };
  }

  /** Index of the token after the `)` that closes the `(` at index `open`, or -1. */
  private afterClose(open: number): number {
    let depth = 0;
    for (let k = open; k < this.tokens.length; k++) {
      const kind = this.tokens[k]!.kind;
      if (kind === "(") depth++;
      else if (kind === ")" && --depth === 0) return k + 1;
      else if (kind === "eof") return -1;
    }
    return -1;
  }

  /** Whether a header part (`NAME =` or `NAME(...) =`) starts at token index `k`. */
  private headerPartAt(k: number): boolean {
    const t = this.tokens[k];
    if (t?.kind !== "name") return false;
    const next = this.tokens[k + 1]!;
    if (next.kind === "=") return true;
    if (next.kind !== "(") return false;
    const after = this.afterClose(k + 1);
    return after > 0 && this.tokens[after]!.kind === "=";
  }

  /** `L(x, y) =`, `w =`, or `w = f(x) =`; null when the source has no header. */
  private header(): Header | null {
    if (!this.headerPartAt(this.i)) return null;
    const start = this.peek();
    const names: Ident[] = [];
    let params: Ident[] | null = null;
    while (this.headerPartAt(this.i) && params === null) {
      const name = this.advance();
      names.push({ name: name.text, span: sp(name) });
      if (this.peek().kind === "(") params = this.params();
      this.advance(); // '='
    }
    const last = this.tokens[this.i - 1]!;
    return { names, params, span: spanOver(start, last) };
  }

  private params(): Ident[] {
    this.advance(); // '('
    const params: Ident[] = [];
    if (this.peek().kind === ")") {
      this.advance();
      return params;
    }
    for (;;) {
      const t = this.advance();
      if (t.kind !== "name") throw this.error(`expected a parameter name, got ${describeToken(t)}`, t);
      params.push({ name: t.text, span: sp(t) });
      const sep = this.advance();
      if (sep.kind === ")") return params;
      if (sep.kind !== ",") {
        throw this.error(`expected ',' or ')' after parameter ${t.text}, got ${describeToken(sep)}`, sep);
      }
    }
  }

  /** An expression whose operators all bind at least as tightly as `minPrec`. */
  private expression(minPrec: number): Expr {
    if (++this.depth > MAX_NESTING) {
      throw this.error(`expression nested too deeply (more than ${MAX_NESTING} levels)`, this.peek());
    }
    let left: Expr;
    const t = this.peek();
    const prefix = t.kind === "op" ? prefixOperators.get(t.text) : undefined;
    if (prefix !== undefined) {
      this.advance();
      // The operand takes every operator binding tighter than the prefix: -x^2 is -(x^2), -a*b is (-a)*b.
      const operand = this.expression(prefix.prec);
      left = { kind: "unary", op: prefix.op, operand, span: spanOver(t, this.extent(operand)), opSpan: sp(t) };
    } else {
      left = this.primary();
    }
    for (;;) {
      const opTok = this.peek();
      const op = opTok.kind === "op" ? binaryOperators.get(opTok.text) : undefined;
      if (op === undefined || op.prec < minPrec) break;
      this.advance();
      const right = this.operand(opTok, op.assoc === "right" ? op.prec : op.prec + 1);
      left = {
        kind: "binary",
        op: op.op,
        symbol: op.symbol,
        left,
        right,
        span: spanOver(this.extent(left), this.extent(right)),
        opSpan: sp(opTok),
      };
    }
    this.depth--;
    return left;
  }

  /** The right operand of a binary operator. */
  private operand(opTok: Token, minPrec: number): Expr {
    const t = this.peek();
    if (t.kind === "eof" || t.kind === ")" || t.kind === "," || t.kind === "=" || (t.kind === "op" && !prefixOperators.has(t.text))) {
      throw this.error(`expected an expression after '${opTok.text}', got ${describeToken(t)}`, t);
    }
    return this.expression(minPrec);
  }

  /** A number, a name, a constant, a call or a parenthesised expression; then a check for a missing operator. */
  private primary(): Expr {
    const t = this.advance();
    let e: Expr;
    switch (t.kind) {
      case "number":
        e = { kind: "number", value: t.value!, text: t.text, span: sp(t) };
        break;
      case "name":
        if (this.peek().kind === "(") {
          e = this.call(t);
        } else if (constants.has(t.text)) {
          e = { kind: "const", name: t.text, value: constants.get(t.text)!, span: sp(t) };
        } else {
          e = { kind: "name", name: t.text, span: sp(t) };
        }
        break;
      case "(": {
        const inner = this.expression(0);
        const close = this.peek();
        if (close.kind !== ")") throw this.unclosed(t, close, "')' or an operator");
        this.advance();
        this.outer.set(inner, spanOver(t, close));
        e = inner;
        break;
      }
      case ")":
        throw this.error("expected an expression, got ')'", t);
      case "eof":
        throw this.error("expected an expression, got end of input", t);
      default:
        throw this.error(`expected an expression, got ${describeToken(t)}`, t);
    }
    this.noJuxtaposition(e);
    return e;
  }

  /** `3x`, `w1 x`, `(a+b)(c+d)`: the board's implicit product is not part of the language. */
  private noJuxtaposition(left: Expr): void {
    const t = this.peek();
    if (t.kind !== "number" && t.kind !== "name" && t.kind !== "(") return;
    const ext = this.extent(left);
    const leftText = this.source.slice(ext.pos, ext.pos + ext.length);
    const call = t.kind === "name" && this.peek(1).kind === "(";
    const rightText = t.kind === "(" ? "(...)" : call ? `${t.text}(...)` : t.text;
    const shown = t.kind === "(" ? "'('" : t.text;
    // `sin x`: a function named before its argument is a call, which sin*x is not (it is refused as one)
    const fn = left.kind === "name" && t.kind !== "(" && FUNCTION_NAMES.has(left.name);
    const hint = fn ? ` (write ${leftText}(${rightText}) to call ${leftText})` : leftText.length <= 24 ? ` (write ${leftText}*${rightText} for a product)` : " (write * for a product)";
    const between = leftText.length <= 24 ? `between ${leftText} and ${shown}` : `before ${shown}`;
    throw this.error(`expected an operator ${between}${hint}`, t);
  }

  /** An error for a `(` that is not closed where `got` came instead. */
  private unclosed(open: Token, got: Token, expected: string): SourceError {
    if (got.kind === "eof") {
      return this.error("unbalanced parentheses: this '(' is never closed", open);
    }
    return this.error(`expected ${expected}, got ${describeToken(got)} (to close the '(' at column ${open.pos + 1})`, got);
  }

  /** `name(args, key=value)`; the name token is consumed, the `(` is next. */
  private call(name: Token): Call {
    const open = this.advance();
    const args: Expr[] = [];
    const keywords: Keyword[] = [];
    if (this.peek().kind !== ")") {
      for (;;) {
        const t = this.peek();
        if (t.kind === "name" && this.peek(1).kind === "=") {
          this.advance();
          this.advance();
          keywords.push({ name: t.text, nameSpan: sp(t), value: this.keywordValue() });
        } else {
          const arg = this.argument();
          if (keywords.length > 0) {
            throw this.error("positional argument after a keyword argument", this.extent(arg));
          }
          args.push(arg);
        }
        const sep = this.peek();
        if (sep.kind === ",") {
          this.advance();
          continue;
        }
        if (sep.kind === ")") break;
        throw this.unclosed(open, sep, `',' or ')' in the call to ${name.text}`);
      }
    }
    const close = this.advance();
    return {
      kind: "call",
      callee: name.text,
      calleeSpan: sp(name),
      args,
      keywords,
      span: spanOver(name, close),
      closeSpan: sp(close),
    };
  }

  /**
   * A keyword argument's value: `True`/`False` (`true`/`false`) alone are flag values (constants 1 and 0; the
   * checker accepts them for flag keywords only), anything else an argument.
   */
  private keywordValue(): Expr {
    const t = this.peek();
    const next = this.peek(1).kind;
    if (t.kind === "name" && flagValues.has(t.text) && (next === "," || next === ")")) {
      this.advance();
      return { kind: "const", name: t.text, value: flagValues.get(t.text)!, span: sp(t) };
    }
    return this.argument();
  }

  private argument(): Expr {
    const t = this.peek();
    if (t.kind === "eof") return this.expression(0); // reports the end of input
    if (t.kind === ")" || t.kind === ",") throw this.error(`expected an argument, got ${describeToken(t)}`, t);
    return this.expression(0);
  }
}
