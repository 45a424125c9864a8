/**
 * compile(): a compiled step gives what the same step gives eagerly — cases found by trying to break it.
 */
import { describe, expect, test } from "vitest";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

const values = (t: Tensor) => Array.from(t.toArray());

describe("static numbers in the arguments are part of the signature", () => {
  test("Infinity, -Infinity and NaN are told apart", () => {
    const f = compile((x: Tensor, s: number) => x.mul(s));
    const x = tensor([1, 2]);
    f(x, Infinity);
    f(x, Infinity);
    expect(values(f(x, -Infinity))).toEqual([-Infinity, -Infinity]);
    expect(values(f(x, NaN))).toEqual([NaN, NaN]);
  });
  test("0 and -0 are told apart", () => {
    const f = compile((x: Tensor, s: number) => x.div(s));
    const x = tensor([1, 2]);
    f(x, 0);
    f(x, 0);
    expect(values(f(x, -0))).toEqual([-Infinity, -Infinity]);
  });
});
