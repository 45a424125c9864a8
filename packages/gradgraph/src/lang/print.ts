/**
 * Prints a syntax tree back in board syntax with the fewest parentheses the precedences (PREC, from the op
 * table) allow, so that `printExpr(parseProgram(printExpr(t)).body)` is `t` again, up to spans.
 */
import { PREC } from "../ops/op.js";
import { postOrder, type Expr, type Program } from "./ast.js";
import { boardSymbolOf } from "./table.js";

interface Printed {
  readonly text: string;
  readonly prec: number;
}

const wrap = (p: Printed, parens: boolean): string => (parens ? `(${p.text})` : p.text);

/** A number as a literal of the language (`.5` prints as `0.5`). */
function literal(value: number, text: string): string {
  return Number.isFinite(value) ? String(value) : text;
}

/**
 * Board syntax for an expression, or for a whole program with its header.
 *
 * @example
 * printExpr(parseProgram("((x*3))+ -(y)").body); // "x*3 + -y"
 */
export function printExpr(e: Expr | Program): string {
  if ("body" in e) {
    const body = printExpr(e.body);
    const h = e.header;
    if (h === null) return body;
    const names = h.names.map((n) => n.name);
    if (h.params !== null) names[names.length - 1] += `(${h.params.map((p) => p.name).join(", ")})`;
    return `${names.join(" = ")} = ${body}`;
  }
  const stack: Printed[] = [];
  for (const node of postOrder(e)) {
    switch (node.kind) {
      case "number":
        stack.push({ text: literal(node.value, node.text), prec: PREC.atom });
        break;
      case "const":
      case "name":
        stack.push({ text: node.name, prec: PREC.atom });
        break;
      case "unary": {
        const x = stack.pop()!;
        if (node.op === "pos") {
          stack.push({ text: `+${wrap(x, x.prec < PREC.unary)}`, prec: PREC.unary });
        } else {
          stack.push({ text: `-${wrap(x, x.prec < PREC.unary)}`, prec: PREC.unary });
        }
        break;
      }
      case "binary": {
        const b = stack.pop()!;
        const a = stack.pop()!;
        const spec = boardSymbolOf.get(node.op);
        const symbol = spec?.board ?? node.symbol;
        const prec = spec?.prec ?? PREC.mul;
        const right = spec?.assoc === "right";
        const leftParens = a.prec < prec || (a.prec === prec && right);
        // Python's exponent is a unary expression: 2^-1 needs no parentheses.
        const exponentUnary = right && b.prec === PREC.unary;
        const rightParens = !exponentUnary && (b.prec < prec || (b.prec === prec && !right));
        const sep = prec <= PREC.add || symbol === "@" ? " " : "";
        stack.push({ text: `${wrap(a, leftParens)}${sep}${symbol}${sep}${wrap(b, rightParens)}`, prec });
        break;
      }
      case "call": {
        const kws = stack.splice(stack.length - node.keywords.length, node.keywords.length);
        const args = stack.splice(stack.length - node.args.length, node.args.length);
        const parts = [...args.map((a) => a.text), ...node.keywords.map((k, i) => `${k.name}=${kws[i]!.text}`)];
        stack.push({ text: `${node.callee}(${parts.join(", ")})`, prec: PREC.atom });
        break;
      }
      default: {
        const never: never = node;
        throw new Error(`unknown node ${JSON.stringify(never)}`);
      }
    }
  }
  return stack.pop()!.text;
}
