/**
 * Random expressions over the whole op table, for property tests of the renderers.
 */
import fc from "fast-check";
import { elementwiseList } from "../../packages/gradgraph/src/ops/elementwise.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";

/** An expression recipe: a variable index, a constant, or an op applied to sub-recipes. */
export type Recipe = { v: number } | { c: number } | { op: string; args: Recipe[] };

const CONSTANTS = [0, 1, 2, 3, 0.5, -1, -2.5];

/** Random recipes of bounded depth over `vars` variables and every op of the table. */
export function recipeArb(vars: number, ops = elementwiseList.map((o) => o.name) as string[]): fc.Arbitrary<Recipe> {
  const { expr } = fc.letrec<{ expr: Recipe; leaf: Recipe; node: Recipe }>((tie) => ({
    leaf: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: vars - 1 }).map((v) => ({ v })) },
      { weight: 1, arbitrary: fc.constantFrom(...CONSTANTS).map((c) => ({ c })) },
    ),
    node: fc.constantFrom(...ops).chain((name) => {
      const arity = elementwiseList.find((o) => o.name === name)!.arity;
      return fc.array(tie("expr"), { minLength: arity, maxLength: arity }).map((args) => ({ op: name, args }));
    }),
    expr: fc.oneof({ depthSize: "small", maxDepth: 4 }, tie("leaf"), tie("node")),
  }));
  return expr;
}

/** Builds the recipe on fresh inputs (labelled x0, x1, ...) at the given point. */
export function build(recipe: Recipe, point: readonly number[]): { root: Value; inputs: Value[] } {
  const inputs = point.map((p, i) => new Value(p, { label: `x${i}` }));
  const go = (r: Recipe): Value => {
    if ("v" in r) return inputs[r.v]!;
    if ("c" in r) return Value.constant(r.c);
    const op = elementwiseList.find((o) => o.name === r.op)!;
    return Value.apply(op, r.args.map(go));
  };
  return { root: go(recipe), inputs };
}

/** Equal as float64 results of possibly different but equivalent programs: same NaN-ness, else close. */
export function close(a: number, b: number, rel = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}
