/**
 * From a checked program to values: `evaluate` walks the tree once (iteratively) and calls the algebra's op
 * methods, so the same walk builds a scalar graph, a tensor graph, dual numbers or printed code.
 * `compileScalar` runs it on the `Value` engine.
 */
import { InputError, SourceError } from "../core/errors.js";
import { algebraOf } from "../ops/algebras.js";
import type { Algebra } from "../ops/op.js";
import { Value } from "../scalar/value.js";
import { postOrder, type Binary, type Call, type Expr, type Program } from "./ast.js";
import { namesIn } from "./check.js";
import { missingValues, shapeOf, type BindingValue } from "./bindings.js";

/** Ways for a caller to take part in {@link evaluate}. */
export interface EvalHooks<T> {
  /**
   * Called with each node's result, after the node is evaluated (nodes in post-order: children first). Returns
   * a replacement result, or nothing to keep it. A unary `+` passes its operand's result through unchanged.
   */
  node?: (result: T, node: Expr) => T | void;
  /**
   * Applies an operation the algebra has no method for (`matmul` for `@`, a tensor function), or any call with
   * keyword arguments. Returns undefined when it does not know the operation either.
   */
  apply?: (op: string, args: T[], keywords: ReadonlyMap<string, T>, node: Binary | Call) => T | undefined;
}

const NO_KEYWORDS: ReadonlyMap<string, never> = new Map<string, never>();

/**
 * Evaluates a program's body on an algebra: `+` is `add`, `-` is `sub`, `^` and `**` are `pow`, unary minus is
 * `neg`, unary plus is the identity, `max(a, b)` is `max`, and so on; literals and the constants `e` and `pi`
 * are `algebra.lift(c)`; names are looked up in `env`.
 *
 * @example
 * evaluate(parseProgram("(x + y) * z"), numberAlgebra, new Map([["x", 1], ["y", 2], ["z", -3]])); // -9
 */
export function evaluate<T>(
  program: Program,
  algebra: Algebra<T>,
  env: ReadonlyMap<string, T>,
  hooks: EvalHooks<T> = {},
): T {
  const missing = namesIn(program.body).filter((n) => !env.has(n));
  if (missing.length > 0) throw missingValues(missing);
  const methods = algebra as unknown as Readonly<Record<string, unknown>>;
  const apply = (op: string, args: T[], keywords: ReadonlyMap<string, T>, node: Binary | Call): T => {
    const method = methods[op];
    if (keywords.size === 0 && typeof method === "function") return (method as (...xs: T[]) => T)(...args);
    const r = hooks.apply?.(op, args, keywords, node);
    if (r !== undefined) return r;
    const what = node.kind === "binary" ? `'${node.symbol}' (${op})` : `${node.callee}(...)`;
    const at = node.kind === "binary" ? node.opSpan : node.calleeSpan;
    throw new SourceError(`${what} is not available in this engine`, program.source, at.pos, at.length);
  };
  const stack: T[] = [];
  for (const node of postOrder(program.body)) {
    let r: T;
    switch (node.kind) {
      case "number":
      case "const":
        r = algebra.lift(node.value);
        break;
      case "name":
        r = env.get(node.name)!;
        break;
      case "unary": {
        const x = stack.pop()!;
        r = node.op === "neg" ? algebra.neg(x) : x;
        break;
      }
      case "binary": {
        const b = stack.pop()!;
        const a = stack.pop()!;
        r = apply(node.op, [a, b], NO_KEYWORDS, node);
        break;
      }
      case "call": {
        const kws = stack.splice(stack.length - node.keywords.length, node.keywords.length);
        const args = stack.splice(stack.length - node.args.length, node.args.length);
        const keywords = new Map(node.keywords.map((k, i) => [k.name, kws[i]!]));
        const fn = program.functions.get(node.callee);
        if (fn === undefined) {
          const at = node.calleeSpan;
          throw new SourceError(`unknown function ${node.callee}`, program.source, at.pos, at.length);
        }
        r = apply(fn.op, args, keywords, node);
        break;
      }
      default: {
        const never: never = node;
        throw new Error(`unknown node ${JSON.stringify(never)}`);
      }
    }
    if (hooks.node !== undefined) {
      const replaced = hooks.node(r, node);
      if (replaced !== undefined) r = replaced as T;
    }
    stack.push(r);
  }
  return stack.pop()!;
}

/**
 * The free variables of a program's body, in order of first appearance (not the constants `e`, `pi`, not
 * function names). With a header these are the parameters the body uses.
 */
export function freeNames(program: Program): string[] {
  return namesIn(program.body);
}

/** A scalar computational graph compiled from a program. */
export interface ScalarGraph {
  /** The output node. */
  root: Value;
  /** One leaf per input, labelled with its name, in `names` order. */
  inputs: Value[];
  /** The input names: the header's parameters, or the free names in order of first appearance. */
  names: string[];
  /** The name the header gives the output (`L` in `L(x, y) = ...`, `w` in `w = ...`), if any. */
  output: string | undefined;
}

/** The algebra of the scalar engine: every op builds a `Value` node. */
const valueAlgebra: Algebra<Value> = algebraOf<Value>(
  (op, args) => Value.apply(op, args),
  (c) => Value.constant(c),
);

/**
 * The program's inputs and their values, checked: every input bound, nothing else bound. Shared by the scalar
 * and the tensor compiler.
 */
export function boundInputs(
  program: Program,
  bindings: ReadonlyMap<string, BindingValue> | Readonly<Record<string, BindingValue>>,
): { values: ReadonlyMap<string, BindingValue>; names: string[] } {
  const values: ReadonlyMap<string, BindingValue> =
    bindings instanceof Map ? bindings : new Map(Object.entries(bindings as Record<string, BindingValue>));
  const names = [...program.inputs];
  const extra = [...values.keys()].filter((n) => !names.includes(n));
  if (extra.length > 0) {
    throw new InputError(`the expression has no input${extra.length > 1 ? "s" : ""} ${extra.join(", ")} (its inputs: ${names.join(", ") || "none"})`);
  }
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw missingValues(missing);
  return { values, names };
}

/**
 * Builds the scalar graph of a program at a point. Inputs are leaf `Value`s labelled with their names; every op
 * node carries the span of the source text it came from; literals are `Value.constant(c)`, and `e`, `pi` are
 * constants labelled `e` and `pi`. Values are float64.
 *
 * @example
 * const g = compileScalar(parseProgram("f(x, y) = 1/(y + exp(-x))"), new Map([["x", 0], ["y", 1]]));
 * g.root.data; // 0.5
 * g.root.backward();
 * g.inputs.map((v) => v.grad); // [0.25, -0.25]
 */
export function compileScalar(
  program: Program,
  bindings: ReadonlyMap<string, BindingValue> | Readonly<Record<string, BindingValue>>,
): ScalarGraph {
  const { values, names } = boundInputs(program, bindings);
  const inputs = names.map((name) => {
    const v = values.get(name)!;
    if (typeof v !== "number") {
      throw new InputError(`the scalar engine takes numbers: ${name} is an array of shape [${shapeOf(v).join(", ")}]`);
    }
    return new Value(v, { label: name });
  });
  const env = new Map(names.map((n, i) => [n, inputs[i]!]));
  const root = evaluate(program, valueAlgebra, env, {
    node: (v, node) => {
      switch (node.kind) {
        case "const": {
          const c = Value.constant(node.value, node.name);
          c.span = node.span;
          return c;
        }
        case "number":
        case "binary":
        case "call":
          v.span = node.span;
          return;
        case "unary":
          if (node.op === "neg") v.span = node.span;
          return;
        case "name":
          return;
      }
    },
    apply: (op, _args, _kw, node) => {
      const at = node.kind === "binary" ? node.opSpan : node.calleeSpan;
      const what =
        node.kind === "binary"
          ? `'${node.symbol}' (${op}) needs the tensor engine: write * for a product of numbers`
          : `${node.callee}(...) needs the tensor engine`;
      throw new SourceError(
        what,
        program.source,
        at.pos,
        at.length,
      );
    },
  });
  const output = program.header?.names[0]?.name;
  return { root, inputs, names, output };
}
