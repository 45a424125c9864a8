/**
 * The functions of tensors callable by name (the expression language reads this list and declares none of its
 * own): every tensor primitive whose entry has a `call` spec, under its board name (its op name when it prints
 * as an operator: `matmul(a, b)` beside `a @ b`), and the composites of ./composite.ts. Adding a primitive with a
 * `call` spec, or a composite to `compositeFunctions`, makes it callable on the board.
 */
import { compositeFunctions } from "./composite.js";
import type { AnyOp, TensorAlgebra, TensorFunction } from "./op.js";
import { tensorOpList } from "./registry.js";

/** A primitive as a function by name: its keyword arguments become its parameters through its `call` spec. */
function primitiveFunction(op: AnyOp): TensorFunction {
  const call = op.call!;
  if (op.arity === "variadic") throw new Error(`${op.name}: a variadic primitive cannot be called by name (no fixed arity)`);
  const arity = op.arity;
  return {
    name: op.print.kind === "call" ? op.print.name.board : op.name,
    arity,
    params: arity === 1 ? ["x"] : arity === 2 ? ["a", "b"] : Array.from({ length: arity }, (_, i) => `x${i + 1}`),
    keywords: call.keywords ?? {},
    doc: op.doc,
    apply<T>(o: TensorAlgebra<T>, xs: readonly T[], kw: Parameters<TensorFunction["apply"]>[2]): T {
      const params = call.params?.(kw, xs.map((x) => o.shape(x)));
      const method = (o as unknown as Record<string, (...args: unknown[]) => T>)[op.name]!;
      return method(...xs, params);
    },
  };
}

/** Every function of tensors callable by name: primitives first (table order), then composites. */
export const tensorFunctionList: readonly TensorFunction[] = [
  ...tensorOpList.filter((op) => op.call !== undefined).map(primitiveFunction),
  ...compositeFunctions,
];
