import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, SourceErrors } from "../../packages/gradgraph/src/core/errors.js";
import { parseBindings, parseProgram, shapeOf } from "../../packages/gradgraph/src/lang/index.js";
import { expectAt, sourceError, thrown } from "./helpers.js";

const MLP = parseProgram("L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2");
const FREE = parseProgram("1/(y + exp(-x))");
const entries = (m: Map<string, unknown>) => [...m.entries()];

const dir = mkdtempSync(join(tmpdir(), "gradgraph-bindings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("binding by name", () => {
  it("x=0,y=1", () => {
    expect(entries(parseBindings(["x=0,y=1"], FREE))).toEqual([["y", 1], ["x", 0]]);
  });

  it("returns the values in the program's input order, whatever the order written", () => {
    const m = parseBindings(["b2=1,w2=3,b1=4,w1=-1,y=10,x=2"], MLP);
    expect([...m.keys()]).toEqual(["x", "y", "w1", "b1", "w2", "b2"]);
    expect([...m.values()]).toEqual([2, 10, -1, 4, 3, 1]);
  });

  it("accepts spaces and every number form", () => {
    const m = parseBindings([" x = -1.5e-3 , y=+.25 "], FREE);
    expect(m.get("x")).toBe(-0.0015);
    expect(m.get("y")).toBe(0.25);
  });

  it("--at may be repeated: the texts are merged", () => {
    expect(entries(parseBindings(["x=2,y=10", "w1=-1,b1=4", "w2=3", "b2=1"], MLP))).toEqual([
      ["x", 2], ["y", 10], ["w1", -1], ["b1", 4], ["w2", 3], ["b2", 1],
    ]);
  });
});

describe("binding by position (with a header)", () => {
  it("2,10,-1,4,3,1", () => {
    expect([...parseBindings(["2,10,-1,4,3,1"], MLP).values()]).toEqual([2, 10, -1, 4, 3, 1]);
  });

  it("positional values continue across repeated --at", () => {
    expect([...parseBindings(["2,10,-1", "4,3,1"], MLP).values()]).toEqual([2, 10, -1, 4, 3, 1]);
  });
});

describe("array values", () => {
  const P = parseProgram("f(X, W, y) = X + W + y");

  it("JSON nested arrays: commas inside brackets do not split bindings", () => {
    const m = parseBindings(["X=[[1,2],[3,4]],W=[ 1.5, -2 ],y=3"], P);
    expect(m.get("X")).toEqual([[1, 2], [3, 4]]);
    expect(m.get("W")).toEqual([1.5, -2]);
    expect(m.get("y")).toBe(3);
    expect(shapeOf(m.get("X")!)).toEqual([2, 2]);
    expect(shapeOf(m.get("W")!)).toEqual([2]);
    expect(shapeOf(m.get("y")!)).toEqual([]);
  });

  it("positional arrays", () => {
    const m = parseBindings(["[[1],[2],[3]],[0.5],7"], P);
    expect(shapeOf(m.get("X")!)).toEqual([3, 1]);
    expect(m.get("y")).toBe(7);
  });

  it("X=@file.json reads the file", () => {
    const file = join(dir, "x.json");
    writeFileSync(file, JSON.stringify([[1, 2, 3], [4, 5, 6]]));
    const scalar = join(dir, "y.json");
    writeFileSync(scalar, "2.5\n");
    const m = parseBindings([`X=@${file},W=[1,2,3]`, `y=@${scalar}`], P);
    expect(m.get("X")).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(m.get("y")).toBe(2.5);
    expect(shapeOf(m.get("X")!)).toEqual([2, 3]);
  });

  it("@file.json positionally, and with a custom reader", () => {
    const files: Record<string, string> = { "a.json": "[1, 2]", "b.json": "[[3]]" };
    const m = parseBindings(["@a.json,@b.json,0"], P, { readFile: (p) => files[p]! });
    expect(m.get("X")).toEqual([1, 2]);
    expect(m.get("W")).toEqual([[3]]);
  });
});

describe("binding errors", () => {
  it("malformed bindings", () => {
    expectAt(sourceError(() => parseBindings(["x=,y=1"], FREE)), "malformed binding: missing value for x after '='", 2);
    expectAt(sourceError(() => parseBindings(["=1,y=1"], FREE)), "malformed binding: missing name before '='", 0);
    expectAt(
      sourceError(() => parseBindings(["x=1, 2x=3"], FREE)),
      "malformed binding: 2x is not a name (expected name=value)",
      5,
      2,
    );
    expectAt(sourceError(() => parseBindings(["x=1,,y=2"], FREE)), "malformed binding: empty (a stray comma?)", 4);
    expectAt(sourceError(() => parseBindings(["x=1,y=2,"], FREE)), "malformed binding: empty (a stray comma?)", 8);
    const e = sourceError(() => parseBindings(["x=1,y=2,"], FREE));
    expect(e.where).toBe("--at");
    expect(e.format()).toBe("--at:9: malformed binding: empty (a stray comma?)\n  x=1,y=2,\n          ^");
  });

  it("unbalanced brackets", () => {
    const P = parseProgram("f(X, y) = X + y");
    expectAt(sourceError(() => parseBindings(["X=[[1,2],[3,4],y=1"], P)), "unbalanced brackets: this '[' is never closed", 2);
    expectAt(sourceError(() => parseBindings(["X=[1,2]],y=1"], P)), "unbalanced brackets: this ']' has no matching '['", 7);
  });

  it("not a number", () => {
    expectAt(sourceError(() => parseBindings(["x=abc,y=1"], FREE)), "x: abc is not a number", 2, 3);
    expectAt(sourceError(() => parseBindings(["x=0x10,y=1"], FREE)), "x: 0x10 is not a number", 2, 4);
    expectAt(sourceError(() => parseBindings(["2,ten,-1,4,3,1"], MLP)), "value 2 (y): ten is not a number", 2, 3);
  });

  it("bad arrays name the binding", () => {
    const P = parseProgram("f(X, y) = X + y");
    expectAt(
      sourceError(() => parseBindings(["X=[[1,2],[3]],y=1"], P)),
      "X: ragged array: [1] has shape [1], but [0] has shape [2]",
      2,
      11,
    );
    expectAt(
      sourceError(() => parseBindings(["y=1,X=[[[1,2],[3,4]],[[5,6],[7]]]"], P)),
      "X: ragged array: [1][1] has shape [1], but [1][0] has shape [2]",
      6,
    );
    expectAt(
      sourceError(() => parseBindings(['X=[1,"a"],y=1'], P)),
      'X: expected a number or a nested array of numbers at [1], got the string "a"',
      2,
    );
    expectAt(sourceError(() => parseBindings(["X=[1,,2],y=1"], P)), "X: [1,,2] is not a valid array (expected a number or '[', got ',')", 5, 1);
  });

  it("a missing or unparsable file is a clear error", () => {
    const P = parseProgram("f(X, y) = X + y");
    const missing = join(dir, "nope.json");
    expectAt(sourceError(() => parseBindings([`X=@${missing},y=1`], P)), `X: cannot read ${missing}: no such file`, 2);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "[1, 2");
    expectAt(sourceError(() => parseBindings([`X=@${bad},y=1`], P)), new RegExp(`^X: ${bad} is not valid JSON \\(.+\\)$`), 2);
    const str = join(dir, "str.json");
    writeFileSync(str, '{"a": 1}');
    expectAt(
      sourceError(() => parseBindings([`X=@${str},y=1`], P)),
      `X: in ${str}: expected a number or a nested array of numbers, got object`,
      2,
    );
    expectAt(sourceError(() => parseBindings(["X=@,y=1"], P)), "X: missing file name after '@'", 2);
  });

  it("binding a name twice", () => {
    expectAt(sourceError(() => parseBindings(["x=1,y=2,x=3"], FREE)), "x is bound twice", 8, 1);
    const e = sourceError(() => parseBindings(["x=1,y=2", "x=3"], FREE));
    expectAt(e, "x is bound twice", 0, 1);
    expect(e.source).toBe("x=3");
  });

  it("mixing positional and named forms", () => {
    expectAt(sourceError(() => parseBindings(["2,10,w1=-1,4,3,1"], MLP)), "cannot mix positional values and name=value bindings", 5, 5);
    expectAt(sourceError(() => parseBindings(["x=2", "10,-1"], MLP)), "cannot mix positional values and name=value bindings", 0, 2);
  });

  it("positional values need a header that lists the parameters", () => {
    expectAt(
      sourceError(() => parseBindings(["0,1"], FREE)),
      "positional value 0 needs a header that orders the parameters, as in f(y, x) = ...; or bind by name: y=0",
      0,
    );
    const W = parseProgram("w = 1/exp(-x)");
    expect(sourceError(() => parseBindings(["0"], W)).message).toMatch(/^positional value 0 needs a header/);
  });

  it("wrong number of positional values: says expected and got, naming the parameters", () => {
    expectAt(
      sourceError(() => parseBindings(["2,10,-1,4,3"], MLP)),
      "L takes 6 values (x, y, w1, b1, w2, b2), got 5: missing b2",
      11,
    );
    expectAt(
      sourceError(() => parseBindings(["2,10,-1,4,3,1,7"], MLP)),
      "L takes 6 values (x, y, w1, b1, w2, b2), got 7",
      14,
      1,
    );
  });

  it("a name the expression does not use, with did-you-mean", () => {
    expectAt(sourceError(() => parseBindings(["x=0,yy=1"], FREE)), "the expression has no input yy (did you mean y?)", 4, 2);
    expectAt(sourceError(() => parseBindings(["x=0,z=1"], FREE)), "the expression has no input z (its inputs: y, x)", 4, 1);
    expectAt(
      sourceError(() => parseBindings(["x=2,y=10,w3=-1"], MLP)),
      "L has no parameter w3 (did you mean w1 or w2?)",
      9,
      2,
    );
  });

  it("a name that shadows a constant or a function", () => {
    expectAt(sourceError(() => parseBindings(["e=3,x=0,y=1"], FREE)), "e is a constant and cannot be bound", 0, 1);
    expectAt(sourceError(() => parseBindings(["x=0,y=1,pi=3"], FREE)), "pi is a constant and cannot be bound", 8, 2);
    expectAt(sourceError(() => parseBindings(["exp=1,x=0,y=1"], FREE)), "exp is the function exp(x) and cannot be bound", 0, 3);
  });

  it("several problems are reported together", () => {
    const e = thrown(() => parseBindings(["x=abc,y=1", "e=2,zz=1"], FREE)) as SourceErrors;
    expect(e).toBeInstanceOf(SourceErrors);
    expect(e.errors.map((x) => [x.message, x.source])).toEqual([
      ["x: abc is not a number", "x=abc,y=1"],
      ["e is a constant and cannot be bound", "e=2,zz=1"],
      ["the expression has no input zz (its inputs: y, x)", "e=2,zz=1"],
    ]);
    const e2 = thrown(() => parseBindings(["x=1,e=2,zz=1,x=2"], FREE)) as SourceErrors;
    expect(e2.errors.map((x) => [x.message, x.pos])).toEqual([
      ["e is a constant and cannot be bound", 4],
      ["the expression has no input zz (its inputs: y, x)", 8],
      ["x is bound twice", 13],
    ]);
  });

  it("missing bindings: all names still unbound, in one InputError", () => {
    const e = thrown(() => parseBindings(["x=2,y=10"], MLP));
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toBe("missing values for w1, b1, w2, b2 (bind them with --at w1=...,b1=...,w2=...,b2=...)");
    const one = thrown(() => parseBindings(["x=2"], FREE));
    expect((one as Error).message).toBe("missing value for y (bind it with --at y=...)");
    expect((thrown(() => parseBindings([], FREE)) as Error).message).toBe("missing values for y, x (bind them with --at y=...,x=...)");
  });

  it("partial bindings are allowed on request", () => {
    expect(entries(parseBindings(["x=2"], FREE, { partial: true }))).toEqual([["x", 2]]);
  });
});

describe("numbers: one syntax for scalars and array elements, and no overflow", () => {
  const P = parseProgram("f(X, y) = X + y");

  it("array elements take the scalar syntax: +5, .5, 5., 1e3", () => {
    expect(parseBindings(["x=+5,y=.5"], FREE).get("x")).toBe(5);
    expect(parseBindings(["X=[+5, .5, -.25, 5., 1e3],y=1"], P).get("X")).toEqual([5, 0.5, -0.25, 5, 1000]);
    expect(parseBindings(["X=[[+1, .5], [ -2 ,3e-1 ]],y=1"], P).get("X")).toEqual([[1, 0.5], [-2, 0.3]]);
    expect(parseBindings(["X=[],y=1"], P).get("X")).toEqual([]);
  });

  it("a number that overflows float64 is an error at its caret, scalar or element", () => {
    expectAt(sourceError(() => parseBindings(["x=1e400,y=1"], FREE)), "x: 1e400 is too large for a float64 number (it would be Infinity)", 2, 5);
    expectAt(sourceError(() => parseBindings(["y=1,x=-2e308"], FREE)), "x: -2e308 is too large for a float64 number (it would be -Infinity)", 6, 6);
    expectAt(sourceError(() => parseBindings(["X=[1, 1e400],y=1"], P)), "X: 1e400 at [1] is too large for a float64 number (it would be Infinity)", 6, 5);
    expectAt(sourceError(() => parseBindings(["2,1e999"], P)), "value 2 (y): 1e999 is too large for a float64 number (it would be Infinity)", 2, 5);
    // Underflow is refused the same way (the value used would not be the value written); 0 and subnormals pass.
    expectAt(sourceError(() => parseBindings(["x=1e-999,y=1"], FREE)), "x: 1e-999 is too small for a float64 number (it would be 0; the smallest is about 5e-324)", 2, 6);
    expectAt(sourceError(() => parseBindings(["X=[1, -1e-400],y=1"], P)), "X: -1e-400 at [1] is too small for a float64 number (it would be 0; the smallest is about 5e-324)", 6, 7);
    expect(parseBindings(["x=1e-310,y=0e-999"], FREE).get("x")).toBe(1e-310);
    expect(parseBindings(["x=1e-310,y=0.0e-999"], FREE).get("y")).toBe(0);
    const big = join(dir, "big.json");
    writeFileSync(big, "[[1, 2], [3, 1e400]]");
    expectAt(
      sourceError(() => parseBindings([`X=@${big},y=1`], P)),
      `X: in ${big}: the number at [1][1] is too large for a float64 number (it would be Infinity)`,
      2,
    );
  });

  it("what is not a number in an array is still said, with the caret at it", () => {
    expectAt(sourceError(() => parseBindings(["X=[1, 2x],y=1"], P)), "X: [1, 2x] is not a valid array (expected a number or '[', got '2x')", 6, 2);
    expectAt(sourceError(() => parseBindings(["X=[1 2],y=1"], P)), "X: [1 2] is not a valid array (expected ',' or ']', got '2')", 5, 1);
    expectAt(sourceError(() => parseBindings(["X=[1,2]x,y=1"], P)), "X: [1,2]x is not a valid array (expected the end of the array, got 'x')", 7, 1);
    expectAt(sourceError(() => parseBindings(["X=[1,true],y=1"], P)), "X: expected a number or a nested array of numbers at [1], got boolean", 2);
    expectAt(sourceError(() => parseBindings(["X=[null],y=1"], P)), "X: expected a number or a nested array of numbers at [0], got null", 2);
    expectAt(sourceError(() => parseBindings(["X=[Infinity],y=1"], P)), "X: [Infinity] is not a valid array (expected a number or '[', got 'Infinity')", 3, 8);
  });

  it("an empty --at is an error, as an empty item is", () => {
    expectAt(sourceError(() => parseBindings([""], FREE)), "malformed binding: empty --at (expected name=value)", 0, 1);
    expectAt(sourceError(() => parseBindings(["x=1", "  "], FREE)), "malformed binding: empty --at (expected name=value)", 0, 2);
    expectAt(sourceError(() => parseBindings(["x=1,,y=2"], FREE)), "malformed binding: empty (a stray comma?)", 4, 1);
  });
});
