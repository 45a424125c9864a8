/**
 * Values and gradients of tensor expressions against PyTorch (float64), from the committed fixtures written by
 * test/fixtures/gen_tensor_fixtures.py. Each expression below mirrors the Python one of the same name; the
 * gradient is that of value.sum() (backward seeded with ones).
 */
import { describe, expect, test } from "vitest";
import { expectMatches, inputsOf, readFixtures } from "./torch-fixtures.js";
import { concat, engine, stack, Tensor, tensor, where } from "../../packages/gradgraph/src/tensor/index.js";

const fixtures = readFixtures("tensor_fixtures.json");

const f64 = (data: number[], shape: number[]) => tensor(data, { dtype: "float64" }).reshape(shape);

type Expr = (...xs: Tensor[]) => Tensor;
const expressions: Record<string, Expr> = {
  mlp_relu: (X, W, b) => X!.matmul(W!).add(b!).relu(),
  mse: (X, W, Y) => X!.matmul(W!).sub(Y!).pow(2).mean(),
  cross_entropy: (L, labels) => L!.logSoftmax(1).gather(1, labels!).mean().neg(),
  logsumexp_large: (X) => X!.logsumexp(1),
  softmax_weighted: (X, C) => X!.softmax(0).mul(C!),
  log_softmax_axis1: (X) => X!.logSoftmax(1).mul(f64(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]).cast(X!.dtype)),
  broadcast_mix: (A, B, C) => A!.sigmoid().mul(B!.tanh().pow(2)).add(C!.mul(C!).add(1).sqrt()).log(),
  batched_matmul: (A, B) => A!.matmul(B!).pow(2),
  matmul_vectors: (x, W, v) => x!.matmul(W!).sin().add(W!.matmul(v!).sum()),
  amax_amin: (A) => A!.amax(1).sum().mul(A!.amin(0)),
  centered_norm: (A) => A!.sub(A!.mean(1, true)).pow(2).sum(1).sqrt(),
  slice_concat_stack: (A, B) =>
    stack([concat([A!.slice(null, [0, 2]), B!], 1), concat([B!, A!.slice(null, [1, undefined, 2])], 1)], 2).exp(),
  where_clamp: (A, B) => where(A!.gt(0), A!, B!.mul(2)).clamp(-0.5, 0.5).add(where(B!.gt(0), A!, B!).abs()),
  transpose_reshape: (A, v) => A!.T.reshape(-1).mul(v!).cos(),
  pow_div: (A, B, C) => A!.pow(B!).div(C!).sub(A!.pow(3)),
  maximum_minimum: (A, B) => A!.maximum(B!).mul(A!.minimum(B!.exp())),
  // F.pad(A, (1, 2, 0, 2)): the last axis gets 1 before and 2 after, the first 0 before and 2 after.
  pad: (A, W) => A!.pad([[0, 2], [1, 2]]).mul(W!),
  gather_rows: (A) => A!.gather(0, [[2, 0, 1, 1], [0, 0, 2, 1]]).pow(2),
  lecture_minibatch_df: (X, W, y, z) => X!.matmul(W!).maximum(0).sub(y!).pow(2).add(z!),
  neg_inf_rows: (X) => concat([X!.logsumexp(1), X!.softmax(1).reshape(-1)]),
  neg_inf_entries: (X) => X!.softmax(1).mul(f64([1, 2, 3], [3]).cast(X!.dtype)).add(X!.logsumexp(1, true)),
  softmax_pm_1000: (X) => X!.softmax(1).mul(f64([1, 2, 3], [3]).cast(X!.dtype)).add(X!.logsumexp(1, true)),
};

describe(`PyTorch ${fixtures.torch} fixtures`, () => {
  test("every fixture has an expression here, and every expression a fixture", () => {
    expect(Object.keys(expressions).sort()).toEqual(fixtures.cases.map((c) => c.name).sort());
  });

  for (const c of fixtures.cases) {
    test(`${c.name}: value and gradients in float64`, () => {
      const xs = inputsOf(c, "float64");
      const y = expressions[c.name]!(...xs);
      expectMatches(y, c.value, 1e-10, 1e-12, "value");
      const names = Object.keys(c.inputs);
      const wanted = xs.filter((x) => x.requiresGrad);
      if (wanted.length === 0) return;
      const grads = engine.gradients([y], wanted);
      names.filter((n) => c.inputs[n]!.requires_grad).forEach((n, k) => expectMatches(grads[k]!, c.grads[n]!, 1e-10, 1e-12, `grad ${n}`));
    });

    test(`${c.name}: float32 within float32 tolerance`, () => {
      const xs = inputsOf(c, "float32");
      const y = expressions[c.name]!(...xs);
      expect(y.dtype).toBe("float32");
      expectMatches(y, c.value, 1e-4, 1e-5, "value");
      const wanted = xs.filter((x) => x.requiresGrad);
      if (wanted.length === 0) return;
      const grads = engine.gradients([y], wanted);
      Object.keys(c.inputs)
        .filter((n) => c.inputs[n]!.requires_grad)
        .forEach((n, k) => expectMatches(grads[k]!, c.grads[n]!, 1e-4, 1e-4, `grad ${n}`));
    });
  }
});
