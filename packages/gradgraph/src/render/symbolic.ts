/**
 * The symbolic algebra: runs the op table's rules on names instead of numbers and returns printed code.
 * This is how `trace --code` writes the lecture's backward lines (`dr = 2*r * ds`) for any expression:
 * the printed local derivative is the op's own partial, evaluated on names.
 */
import { algebraOf } from "../ops/algebras.js";
import { PREC, type Algebra, type ElementwiseOp, type PrintSpec, type Target } from "../ops/op.js";

/** A printed expression, its binding strength, and its value when it is a known constant. */
export interface Sym {
  readonly text: string;
  readonly prec: number;
  readonly value?: number;
}

/** A name (a variable of the generated program). */
export function symName(text: string): Sym {
  return { text, prec: PREC.atom };
}

/** A number literal in a target language. */
export function formatNumber(c: number, target: Target): string {
  if (Number.isNaN(c)) return target === "py" ? "math.nan" : target === "ts" ? "NaN" : "nan";
  if (!Number.isFinite(c)) {
    const inf = target === "py" ? "math.inf" : target === "ts" ? "Infinity" : "inf";
    return c < 0 ? `-${inf}` : inf;
  }
  if (Object.is(c, -0)) return "-0";
  return String(c);
}

/** A constant, printed as a literal (or as `name` when given, e.g. `math.e`), keeping its value for folding. */
export function symConst(c: number, target: Target, name?: string): Sym {
  const text = name ?? formatNumber(c, target);
  return { text, prec: text.startsWith("-") ? PREC.unary : PREC.atom, value: c };
}

/** Folds constants only where the printed result stays short, so code keeps its shape (`math.exp(2)` stays). */
function foldable(result: number, op: ElementwiseOp): boolean {
  if (!Number.isFinite(result)) return false;
  if (Number.isInteger(result)) return true;
  const arithmetic = op.print.kind === "infix" || op.print.kind === "prefix";
  return arithmetic && String(result).length <= 8;
}

function wrap(s: Sym, parens: boolean): string {
  return parens ? `(${s.text})` : s.text;
}

/**
 * How tightly operators print: `true` writes `*`, `/`, `**` and comparisons without spaces, as the lecture writes
 * local derivatives (`2*r`, `-d/c`, `(p>0)`); `"pow"` tightens only `**`, as the lecture writes its forward
 * lines (`s = r**2`, `d = 1 / c`); `false` spaces every operator.
 */
export type Compact = boolean | "pow";

/** Prints op(args) in `target`, spaced as `compact` says. */
export function printOp(op: ElementwiseOp, args: readonly Sym[], target: Target, compact: Compact = false): Sym {
  const p = op.print;
  switch (p.kind) {
    case "infix": {
      const [a, b] = args as [Sym, Sym];
      const sym = p.symbol[target];
      const tight = compact === "pow" ? p.prec >= PREC.pow : compact && p.prec >= PREC.mul;
      const leftParens = p.assoc === "left" ? a.prec < p.prec : a.prec <= p.prec;
      const rightParens = p.assoc === "left" ? b.prec <= p.prec : b.prec < p.prec;
      const sep = tight ? "" : " ";
      return { text: `${wrap(a, leftParens)}${sep}${sym}${sep}${wrap(b, rightParens)}`, prec: p.prec };
    }
    case "prefix": {
      const [a] = args as [Sym];
      // `--x` would be a decrement in TypeScript, and `-x ** 2` a syntax error there.
      const parens = a.prec < p.prec || a.text.startsWith("-") || (target === "ts" && a.prec === PREC.pow);
      return { text: `${p.symbol}${wrap(a, parens)}`, prec: p.prec };
    }
    case "call":
      return { text: `${p.name[target]}(${args.map((a) => a.text).join(", ")})`, prec: PREC.atom };
    case "compare": {
      const [a, b] = args as [Sym, Sym];
      const sep = compact === true ? "" : " ";
      const inner = `${a.text}${sep}${p.symbol[target]}${sep}${b.text}`;
      return { text: target === "ts" ? `Number(${inner})` : `(${inner})`, prec: PREC.atom };
    }
    default: {
      const never: never = p;
      throw new Error(`unknown print kind ${JSON.stringify(never)}`);
    }
  }
}

/** Drops a neutral operand declared by the op table (`1·x` = `x`, `x + 0` = `x`, `x^1` = `x`). */
function simplify(op: ElementwiseOp, args: readonly Sym[]): Sym | undefined {
  const [a, b] = args as [Sym, Sym | undefined];
  const id = op.identity;
  if (id === undefined || b === undefined) return undefined;
  if (id.left !== undefined && a.value === id.left) return b;
  if (id.right !== undefined && b.value === id.right) return a;
  return undefined;
}

/**
 * The symbolic algebra for one target. When `printed` is given, every op that ends up printed (not folded
 * away) is added to it, so a code generator knows which helpers (`def sign`, ...) its program needs.
 */
export function symbolicAlgebra(target: Target, compact: Compact = false, printed?: Set<ElementwiseOp>): Algebra<Sym> {
  return algebraOf<Sym>(
    (op, args) => {
      if (args.every((a) => a.value !== undefined)) {
        const v = op.forward(args[0]!.value!, args[1]?.value ?? NaN);
        if (foldable(v, op)) return symConst(v, target);
      }
      const simpler = simplify(op, args);
      if (simpler !== undefined) return simpler;
      printed?.add(op);
      return printOp(op, args, target, compact);
    },
    (c) => symConst(c, target),
  );
}

/** An op's symbol on the board, from its print spec: `+`, `@`, `^`, `-`, `>`, or its function name (`exp`, `sum`). */
export function opSymbol(print: PrintSpec): string {
  return print.kind === "call" ? print.name.board : print.kind === "prefix" ? print.symbol : print.symbol.board;
}
