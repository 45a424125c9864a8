import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CARET_WINDOW, describeError, GradgraphError, SourceError, SourceErrors } from "../../packages/gradgraph/src/core/errors.js";
import { MAX_NESTING, parseProgram, scalarFunctions, sourceErrorsOf, type FunctionSpec } from "../../packages/gradgraph/src/lang/index.js";
import { caret, expectAt, sourceError, sourceErrors, thrown } from "./helpers.js";

const withSum: FunctionSpec[] = [...scalarFunctions, { name: "sum", op: "sum", arity: 1, keywords: ["axis", "keepdims"] }];
const parse = (src: string) => () => parseProgram(src);

describe("lexical errors", () => {
  it("unexpected character", () => {
    const e = sourceError(parse("x $ y"));
    expectAt(e, "unexpected character '$'", 2, 1);
    expect(e.format()).toBe("expression:3: unexpected character '$'\n  x $ y\n    ^");
  });

  it.each([
    ["x × y", "unexpected character '×' (write * for a product)", 2],
    ["x·y", "unexpected character '·' (write * for a product)", 1],
    ["a − b", "unexpected character '−' (write - for a minus)", 2],
    ["x²", "unexpected character '²' (write ^2 for a square)", 1],
    ["[max(3*x, 0) - y]^2", "unexpected character '[' (use ( ) for grouping)", 0],
    ["max(x; y)", "unexpected character ';' (separate arguments with ,)", 5],
    ["x.y", "unexpected character '.'", 1],
    ["x > 0", "unexpected character '>'", 2],
  ])("characters copied from the board get a hint: %s", (src, message, pos) => {
    expectAt(sourceError(parse(src)), message, pos, 1);
  });

  it("malformed number", () => {
    expectAt(sourceError(parse("1 + 1.2.3")), "malformed number 1.2.3", 4, 5);
    expectAt(sourceError(parse("1_000")), "malformed number 1_000", 0, 5);
  });
});

describe("syntax errors", () => {
  it("empty expression", () => {
    expectAt(sourceError(parse("")), "empty expression: nothing to compute", 0);
    expectAt(sourceError(parse("   ")), "empty expression: nothing to compute", 0);
  });

  it("unexpected token: says what was expected and what came", () => {
    expectAt(sourceError(parse("x + * y")), "expected an expression after '+', got '*'", 4, 1);
    expectAt(sourceError(parse("x + y = 3")), "expected an operator or end of input, got '='", 6, 1);
    expectAt(sourceError(parse("x , y")), "expected an operator or end of input, got ','", 2, 1);
    expectAt(sourceError(parse("* x")), "expected an expression, got '*'", 0, 1);
    expectAt(sourceError(parse("x ^ ) ")), "expected an expression after '^', got ')'", 4, 1);
    expectAt(sourceError(parse("max(x,)")), "expected an argument, got ')'", 6, 1);
    expectAt(sourceError(parse("max(,x)")), "expected an argument, got ','", 4, 1);
  });

  it("unexpected end of input: the caret sits just past the text", () => {
    const e = sourceError(parse("x +"));
    expectAt(e, "expected an expression after '+', got end of input", 3);
    expect(e.format().split("\n")[2]).toBe("     ^");
    expectAt(sourceError(parse("-")), "expected an expression, got end of input", 1);
  });

  it("implicit multiplication gets a targeted message where the operator is missing", () => {
    expectAt(sourceError(parse("3x")), "expected an operator between 3 and x (write 3*x for a product)", 1, 1);
    expectAt(sourceError(parse("w1 x + b1")), "expected an operator between w1 and x (write w1*x for a product)", 3, 1);
    expectAt(sourceError(parse("2 exp(x)")), "expected an operator between 2 and exp (write 2*exp(...) for a product)", 2, 3);
    expectAt(sourceError(parse("(a+b)(c+d)")), "expected an operator between (a+b) and '(' (write (a+b)*(...) for a product)", 5, 1);
    expectAt(sourceError(parse("2 3")), "expected an operator between 2 and 3 (write 2*3 for a product)", 2, 1);
    expectAt(sourceError(parse("2 pi")), "expected an operator between 2 and pi (write 2*pi for a product)", 2, 2);
    expectAt(sourceError(parse("max(3x, 0)")), "expected an operator between 3 and x (write 3*x for a product)", 5, 1);
    // A long left operand is not repeated in the message.
    expectAt(sourceError(parse("(aaaa + bbbb + cccc + dddd) y")), "expected an operator before y (write * for a product)", 28);
  });

  it("unbalanced parentheses point at the unclosed '('", () => {
    expectAt(sourceError(parse("(x + 1")), "unbalanced parentheses: this '(' is never closed", 0, 1);
    expectAt(sourceError(parse("2*((x + 1)")), "unbalanced parentheses: this '(' is never closed", 2, 1);
    expectAt(sourceError(parse("exp(x")), "unbalanced parentheses: this '(' is never closed", 3, 1);
    expectAt(sourceError(parse("max(a, (b")), "unbalanced parentheses: this '(' is never closed", 7, 1);
  });

  it("unbalanced parentheses: a ')' without '('", () => {
    expectAt(sourceError(parse("x + 1)")), "unbalanced parentheses: this ')' has no matching '('", 5, 1);
  });

  it("a wrong token where ')' should close a group names the '(' it closes", () => {
    expectAt(sourceError(parse("(x, y)")), "expected ')' or an operator, got ',' (to close the '(' at column 1)", 2, 1);
    expectAt(
      sourceError(parse("max(x, 1 = 2)")),
      "expected ',' or ')' in the call to max, got '=' (to close the '(' at column 4)",
      9,
      1,
    );
  });

  it("positional argument after a keyword argument", () => {
    const e = sourceError(() => parseProgram("sum(axis=0, x)", { functions: withSum }));
    expectAt(e, "positional argument after a keyword argument", 12, 1);
  });

  it("header syntax", () => {
    expectAt(sourceError(parse("L(x, 2) = x")), "expected a parameter name, got number 2", 5, 1);
    expectAt(sourceError(parse("L(x y) = x")), "expected ',' or ')' after parameter x, got name y", 4, 1);
    expectAt(sourceError(parse("L(x) =")), "expected an expression after '=', got end of input", 6);
    expectAt(sourceError(parse("L(x) = = x")), "expected an expression, got '='", 7, 1);
  });

  it("too deep nesting is an error with a position, not a stack overflow", () => {
    const deep = `${"(".repeat(MAX_NESTING + 10)}x${")".repeat(MAX_NESTING + 10)}`;
    expect(sourceError(parse(deep)).message).toBe(`expression nested too deeply (more than ${MAX_NESTING} levels)`);
    expect(sourceError(parse(`${"-".repeat(5000)}x`)).message).toMatch(/nested too deeply/);
    expect(sourceError(parse(`${"2^".repeat(5000)}2`)).message).toMatch(/nested too deeply/);
    // Just inside the limit is fine.
    expect(parseProgram(`${"(".repeat(100)}x${")".repeat(100)}`).inputs).toEqual(["x"]);
  });
});

describe("name errors", () => {
  it("reports all unknown names at once, one per distinct name, with suggestions", () => {
    const src = "L(x, w1, b1) = w1*x + bb1 + zz + bb1";
    const errors = sourceErrors(parse(src));
    expect(errors).toHaveLength(2);
    expectAt(errors[0]!, "unknown name bb1 (did you mean b1?)", 22, 3);
    expectAt(errors[1]!, "unknown name zz (L's parameters are x, w1, b1)", 28, 2);
    const all = thrown(parse(src)) as SourceErrors;
    expect(all.format().split("\n")).toEqual([
      "expression:23: unknown name bb1 (did you mean b1?)",
      `  ${src}`,
      `  ${" ".repeat(22)}^^^`,
      "expression:29: unknown name zz (L's parameters are x, w1, b1)",
      `  ${src}`,
      `  ${" ".repeat(28)}^^`,
    ]);
    expect(all.message).toBe("unknown name bb1 (did you mean b1?); unknown name zz (L's parameters are x, w1, b1)");
  });

  it("with a header, a body name that is not a parameter is unknown; the closest parameter is suggested", () => {
    // The board's `w1x` (juxtaposition inside a name) is caught by the header.
    const src = "L(x, y, w1, b1, w2, b2) = (max(max(w1x + b1, 0)*w2 + b2, 0) - y)^2";
    expectAt(sourceError(parse(src)), "unknown name w1x (did you mean w1?)", src.indexOf("w1x"), 3);
    expectAt(sourceError(parse("f(x, y, w3) = w4 + x")), "unknown name w4 (did you mean w3?)", 14, 2);
    expectAt(sourceError(parse("f(x, w1, w2) = w3 + x")), "unknown name w3 (did you mean w1 or w2?)", 15, 2);
    expectAt(sourceError(parse("f(x, rate) = X*rate")), "unknown name X (did you mean x?)", 13, 1);
    expectAt(sourceError(parse("f(x) = pii*x")), "unknown name pii (did you mean pi?)", 7, 3);
    expectAt(sourceError(parse("f(x, y) = x + z")), "unknown name z (f's parameters are x, y)", 14, 1);
    expectAt(sourceError(parse("f() = z")), "unknown name z (f's parameters are none)", 6, 1);
  });

  it("unknown functions are suggested from the function names", () => {
    const errors = sourceErrors(parse("expp(x) + sigmod(x) + tnah(x) + expp(y)"));
    expect(errors.map((e) => [e.message, e.pos])).toEqual([
      ["unknown function expp (did you mean exp?)", 0],
      ["unknown function sigmod (did you mean sigmoid?)", 10],
      ["unknown function tnah (did you mean tanh?)", 22],
    ]);
    const e = sourceError(parse("foo(1, 2)"));
    expectAt(e, `unknown function foo (functions: ${scalarFunctions.map((f) => f.name).join(", ")})`, 0, 3);
  });

  it("all name errors of a program come together, sorted by position", () => {
    const errors = sourceErrors(parse("f(x, x) = expp(x) + exp + y"));
    expect(errors.map((e) => e.pos)).toEqual([5, 10, 20, 26]);
    expect(errors.map((e) => e.message)).toEqual([
      "duplicate parameter x (first at column 3)",
      "unknown function expp (did you mean exp?)",
      "exp is a function: call it as exp(x)",
      "unknown name y (f's parameters are x)",
    ]);
  });
});

describe("call errors", () => {
  it("calling something that is not a function", () => {
    expectAt(sourceError(parse("x(2)")), "x is not a function (write x*(...) for a product)", 0, 1);
    expectAt(sourceError(parse("f(x, w) = w (x + 1)")), "w is not a function (write w*(...) for a product)", 10, 1);
    expectAt(sourceError(parse("2*e(1)")), "e is a constant, not a function (write e*(...) for a product)", 2, 1);
  });

  it("using a function name as a value", () => {
    expectAt(sourceError(parse("exp + 1")), "exp is a function: call it as exp(x)", 0, 3);
    expectAt(sourceError(parse("2*max")), "max is a function: call it as max(a, b)", 2, 3);
  });

  it("wrong number of arguments: says expected and got", () => {
    expectAt(sourceError(parse("exp(x, y)")), "exp takes 1 argument (exp(x)), got 2", 7, 1);
    expectAt(sourceError(parse("max(x)")), "max takes 2 arguments (max(a, b)), got 1", 5, 1);
    expectAt(sourceError(parse("pow(2)")), "pow takes 2 arguments (pow(a, b)), got 1", 5, 1);
    expectAt(sourceError(parse("sin()")), "sin takes 1 argument (sin(x)), got 0", 4, 1);
    expectAt(sourceError(parse("min(1, 2, x + 1)")), "min takes 2 arguments (min(a, b)), got 3", 10, 5);
  });

  it("unknown keyword arguments", () => {
    expectAt(sourceError(parse("exp(x, axis=0)")), "exp takes no keyword arguments, got axis", 7, 4);
    const opts = { functions: withSum };
    expectAt(
      sourceError(() => parseProgram("sum(x, axes=0)", opts)),
      "unknown keyword argument axes for sum (did you mean axis?)",
      7,
      4,
    );
    expectAt(
      sourceError(() => parseProgram("sum(x, dim=0)", opts)),
      "unknown keyword argument dim for sum (it takes axis, keepdims)",
      7,
      3,
    );
    expectAt(sourceError(() => parseProgram("sum(x, axis=0, axis=1)", opts)), "keyword argument axis given twice", 15, 4);
  });
});

describe("header errors", () => {
  it("duplicate parameter", () => {
    expectAt(sourceError(parse("f(x, y, x) = x + y")), "duplicate parameter x (first at column 3)", 8, 1);
  });

  it("a parameter that shadows a constant or a function", () => {
    expectAt(sourceError(parse("f(x, e) = x")), "parameter e shadows the constant e", 5, 1);
    expectAt(sourceError(parse("f(pi) = 1")), "parameter pi shadows the constant pi", 2, 2);
    expectAt(sourceError(parse("f(exp) = 1")), "parameter exp shadows the function exp(x)", 2, 3);
    // The body's use of the shadowing parameter is not reported a second time.
    expect(sourceError(parse("f(max) = max + 1")).message).toBe("parameter max shadows the function max(a, b)");
  });
});

describe("no stack traces", () => {
  it("every error is a GradgraphError with a formatted message", () => {
    for (const src of ["", "(", ")", "x +", "3x", "exp", "f(x, x) = y", "1..2", "x @", "^", "f(=)", "f() ="]) {
      const e = thrown(parse(src));
      expect(e, src).toBeInstanceOf(GradgraphError);
      expect(sourceErrorsOf(e).length).toBeGreaterThan(0);
      expect(describeError(e)).not.toMatch(/\n\s+at /);
    }
  });

  it("random text either parses or throws source errors with a caret inside or just past the text", () => {
    const alphabet = fc.constantFrom(..."xy23e(),=+-*/^@. _$[".split(""), "exp", "max", "pi", "**", "L(x)=");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 20 }), (parts) => {
        const src = parts.join("");
        try {
          parseProgram(src);
        } catch (e) {
          if (!(e instanceof GradgraphError)) throw e;
          const errs = sourceErrorsOf(e);
          if (errs.length === 0) throw e;
          for (const s of errs) {
            if (!(s instanceof SourceError) || s.pos < 0 || s.pos > src.length) throw e;
            if (caret(s.format()).col !== Math.min(s.pos, src.length)) throw e;
          }
        }
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe("errors on long lines", () => {
  it("show a window around the caret, with … where the line is cut; the column still counts from the start", () => {
    const src = "x + ".repeat(30_000) + "$ + y" + " + x".repeat(30_000);
    const e = sourceError(parse(src));
    const pos = 4 * 30_000;
    expect(e.pos).toBe(pos);
    const [head, line, marks] = e.format().split("\n");
    expect(head).toBe(`expression:${pos + 1}: unexpected character '$'`);
    expect(line!.length).toBeLessThanOrEqual(2 + CARET_WINDOW + 2);
    expect(line).toMatch(/^ {2}….*\$ \+ y.*…$/);
    expect(line![marks!.indexOf("^")]).toBe("$");
    expect(e.format().length).toBeLessThan(300);
  });

  it("near either end of a long line, only the other end is cut", () => {
    const long = "x".repeat(500);
    const start = sourceError(parse("$" + long)).format().split("\n");
    expect(start[1]).toMatch(/^ {2}\$x+…$/);
    expect(start[2]).toBe("  ^");
    const end = sourceError(parse(long + "+")).format().split("\n");
    expect(end[1]).toMatch(/^ {2}…x+\+$/);
    expect(end[1]!.length).toBe(2 + 1 + CARET_WINDOW);
    expect(end[2]!.indexOf("^")).toBe(end[1]!.length); // just past the end: the expression stops there
  });
});
