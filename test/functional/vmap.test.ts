/**
 * vmap: batching rules from the op table, composed with the transforms. Every check compares vmap against the
 * same function run example by example and stacked.
 */
import { describe, expect, test } from "vitest";
import { customFunction } from "../../packages/gradgraph/src/autodiff/custom.js";
import { grad, hessian, jacrev, jvp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { vmap } from "../../packages/gradgraph/src/autodiff/vmap.js";
import { Generator, NDArray, stack, Tensor, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { crossEntropy } from "../../packages/gradgraph/src/nn/functional.js";
import { compile } from "../../packages/gradgraph/src/compile/index.js";
import { embedding } from "../../packages/gradgraph/src/nn/embedding.js";
import { compositeDb, opdb } from "../ops/opdb.js";

function randn(g: Generator, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(new NDArray(Float64Array.from({ length: n }, () => g.uniform() * 2 - 1), shape));
}

function expectClose(a: Tensor, b: Tensor, what: string) {
  expect(a.shape, what).toEqual(b.shape);
  const x = a.toArray(), y = b.toArray();
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), `${what}[${i}]: ${x[i]} vs ${y[i]}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(y[i]!)));
}

describe("vmap over every op of the database", () => {
  // Three draws of each sample are three examples: vmap over all inputs, and over the first input with the others
  // shared, must equal the examples run one by one and stacked.
  const skip = new Set(["sort", "topk"]); // their order is computed from the values, outside the op table
  for (const [name, info] of [...Object.entries(opdb), ...Object.entries(compositeDb)]) {
    if (skip.has(name)) continue;
    test(name, () => {
      const draws = [info.samples(), info.samples(), info.samples()];
      draws[0]!.forEach((s, k) => {
        const examples = draws.map((d) => d[k]!.inputs);
        const f = s.f;
        const all = vmap((...xs: Tensor[]) => f(...xs))(...s.inputs.map((_, j) => stack(examples.map((e) => e[j]!))));
        expectClose(all, stack(examples.map((e) => f(...e))), `${name}: ${s.name}, all batched`);
        if (s.inputs.length > 1) {
          const shared = examples[0]!.slice(1);
          const inAxes = [0, ...shared.map(() => null)];
          const first = vmap((...xs: Tensor[]) => f(...xs), inAxes)(stack(examples.map((e) => e[0]!)), ...shared);
          expectClose(first, stack(examples.map((e) => f(e[0]!, ...shared))), `${name}: ${s.name}, first batched`);
        }
      });
    });
  }
});

describe("per-example gradients", () => {
  const g = new Generator(11);
  const params = { W1: randn(g, [3, 5]), b1: randn(g, [5]), W2: randn(g, [5, 2]) };
  const X = randn(g, [4, 3]), Y = randn(g, [4, 2]);
  type P = typeof params;
  const loss = (p: P, x: Tensor, y: Tensor) => x.matmul(p.W1).add(p.b1).tanh().matmul(p.W2).sub(y).square().mean();

  test("vmap(grad(loss)) over a batch equals grad(loss) per example, stacked", () => {
    const per = vmap(grad(loss), [null, 0, 0])(params, X, Y);
    for (const key of ["W1", "b1", "W2"] as const) {
      const rows = [0, 1, 2, 3].map((i) => grad(loss)(params, X.slice(i), Y.slice(i))[key]);
      expectClose(per[key], stack(rows), key);
    }
  });

  test("the mean of the per-example gradients is the batch gradient", () => {
    const per = vmap(grad(loss), [null, 0, 0])(params, X, Y);
    const batch = grad((p: P) => {
      const h = X.matmul(p.W1).add(p.b1).tanh().matmul(p.W2).sub(Y).square();
      return h.mean(1).mean();
    })(params);
    expectClose(per.W1.mean(0), batch.W1, "W1");
  });

  test("per-example Hessians and forward mode: vmap(hessian(f)), vmap(jvp)", () => {
    const f = (x: Tensor) => x.matmul(params.W1).tanh().sum();
    const H = vmap(hessian(f))(X);
    expectClose(H, stack([0, 1, 2, 3].map((i) => hessian(f)(X.slice(i)))), "hessians");
    const u = X.slice(0);
    const t = vmap((x: Tensor) => jvp(f, [x], [u])[1])(X);
    expectClose(t, stack([0, 1, 2, 3].map((i) => jvp(f, [X.slice(i)], [u])[1])), "jvp");
  });

  test("grad through vmap: the batched computation is differentiable", () => {
    const f = (w: Tensor) => vmap((x: Tensor) => x.mul(w).sin().sum())(X.slice(null, [0, 3])).sum();
    const direct = (w: Tensor) => X.mul(w).sin().sum();
    expectClose(grad(f)(tensor([1, 2, 3], { dtype: "float64" })), grad(direct)(tensor([1, 2, 3], { dtype: "float64" })), "grad");
  });

  test("per-example Jacobians: vmap(jacrev(f))", () => {
    const W = params.W1;
    const f = (x: Tensor) => x.matmul(W).sigmoid();
    const J = vmap(jacrev(f))(X);
    expectClose(J, stack([0, 1, 2, 3].map((i) => jacrev(f)(X.slice(i)))), "jacobians");
  });
});

describe("axes, nesting and errors", () => {
  const g = new Generator(5);
  const A = randn(g, [3, 4, 2]), v = randn(g, [2]);

  test("nested vmap maps over two axes", () => {
    const f = (x: Tensor) => x.mul(v).sum().exp();
    const y = vmap(vmap(f))(A);
    expectClose(y, A.mul(v).sum(2).exp(), "nested");
  });

  test("inAxes picks the batch axis, null shares an argument, outAxes places the batch", () => {
    const f = (x: Tensor, w: Tensor) => x.mul(w);
    const y = vmap(f, [1, null], 1)(A, v); // over A's axis 1 (size 4), the batch back at axis 1
    expectClose(y, A.mul(v), "axes");
    const z = vmap((x: Tensor) => v.sum())(A); // independent of the batch: repeated
    expect(z.shape).toEqual([3]);
  });

  test("errors name what was expected", () => {
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b))(A, randn(g, [2, 2]))).toThrow("vmap: mapped axes differ in size: 3 (argument 0, axis 0) and 2 (argument 1, axis 0)");
    expect(() => vmap((x: Tensor) => x, null)(A)).toThrow("vmap: no argument is mapped");
    expect(() => vmap((x: Tensor) => tensor(x.item()))(A)).toThrow("vmap: item() cannot read a batched tensor inside the mapped function");
    const double = customFunction((x: Tensor) => x.mul(2), { vjp: (_xs, _y, g) => [g.mul(2)] });
    expect(() => vmap((x: Tensor) => double(x))(A)).toThrow(/vmap: the op .* has no batching rule/);
    expect(() => vmap((x: Tensor) => x.sort().values)(A)).toThrow("sort: not available inside vmap");
  });

  // Batched indices used to be read as one example's, whole (the storage holds the batch), and fail with a shape
  // error that blamed the user's shapes: "crossEntropy: 3 labels for 1 rows of logits".
  describe("indices that differ per example (each example picks its own), against a loop over the examples", () => {
    const W = tensor([[1, -1, 0], [0, 2, 1]], { dtype: "float64" }), X = tensor([[1, 2], [3, 4], [0, 1]], { dtype: "float64" });
    const Y = tensor([0, 2, 1]);
    const row = (t: Tensor, k: number) => tensor((t.toNested() as number[][])[k]!, { dtype: t.dtype });
    const loop = (f: (k: number) => Tensor) => stack([0, 1, 2].map(f));
    const loss = (w: Tensor, x: Tensor, y: Tensor) => crossEntropy(x.reshape([1, 2]).matmul(w), y.reshape([1]));

    test("crossEntropy's labels: per-example gradients; grad of the vmap is their sum", () => {
      const per = vmap(grad(loss), [null, 0, 0])(W, X, Y);
      expectClose(per, loop((k) => grad(loss)(W, row(X, k), tensor(Y.toArray()[k]!))), "per-example grads");
      expectClose(grad((w: Tensor) => vmap((x: Tensor, y: Tensor) => loss(w, x, y), [0, 0])(X, Y).sum())(W), per.sum(0), "grad of vmap");
      expect(() => vmap(grad(loss), [null, 0, 0])(W, X, tensor([0, 5, 1]))).toThrow("crossEntropy: label 5 at row 0 of example 1 is not a class index in [0, 3)");
    });

    test("gather and scatterAdd, batched input or not; jvp through gather", () => {
      const I = tensor([[2, 0], [1, 1], [0, 2]]);
      expectClose(vmap((x: Tensor, i: Tensor) => x.gather(0, i), [0, 0])(X, tensor([[1], [0], [1]])), loop((k) => row(X, k).gather(0, [[1], [0], [1]][k]!)), "gather, both batched");
      const picks = vmap((i: Tensor) => W.gather(1, i.reshape([2, 1])), [0])(I);
      expectClose(picks, loop((k) => W.gather(1, tensor([[2, 0], [1, 1], [0, 2]][k]!).reshape([2, 1]))), "gather from a shared input");
      const spread = vmap((x: Tensor, i: Tensor) => x.scatterAdd(0, i, [3]), [0, 0])(X, I);
      expectClose(spread, loop((k) => row(X, k).scatterAdd(0, [[2, 0], [1, 1], [0, 2]][k]!, [3])), "scatterAdd");
      const J = [[1, 0], [1, 1], [0, 1]], dx = tensor([1, 10], { dtype: "float64" });
      const tangent = vmap((x: Tensor, i: Tensor) => jvp((a: Tensor) => a.gather(0, i).square(), [x], [dx])[1], [0, 0])(X, tensor(J));
      expectClose(tangent, loop((k) => jvp((a: Tensor) => a.gather(0, J[k]!).square(), [row(X, k)], [dx])[1]), "jvp");
    });

    test("Embedding's ids: lookups and per-example gradients of the table", () => {
      const ids = tensor([[0, 0], [2, 1], [1, 2]]), table = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float64" });
      const f = (w: Tensor, i: Tensor) => embedding(i, w).mul(tensor([1, 10], { dtype: "float64" })).sum();
      const idsOf = (k: number) => [[0, 0], [2, 1], [1, 2]][k]!;
      expectClose(vmap((i: Tensor) => embedding(i, table), [0])(ids), loop((k) => embedding(idsOf(k), table)), "lookups");
      expectClose(vmap(grad(f), [null, 0])(table, ids), loop((k) => grad(f)(table, tensor(idsOf(k)))), "per-example grads");
    });

    // A compiled step reads each call's indices: batched ones, and ones repeated for a batch (a new array, which the
    // trace makes again from the call's indices; it used to replay the first call's).
    test("compiled: each call's indices — shared, batched, batched by an outer vmap, an Embedding's ids", () => {
      const ids1 = tensor([[0], [1], [1]]), ids2 = tensor([[1], [0], [0]]);
      const shared = compile((x: Tensor, i: Tensor) => vmap((a: Tensor) => a.gather(0, i))(x));
      const outer = compile((i: Tensor) => vmap((ii: Tensor) => vmap((x: Tensor) => x.gather(0, ii))(X))(i));
      const table = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float64" });
      const lookups = compile((i: Tensor) => vmap(grad((w: Tensor, j: Tensor) => embedding(j, w).square().sum()), [null, 0])(table, i));
      const perExample = compile((y: Tensor) => vmap(grad(loss), [null, 0, 0])(W, X, y));
      for (const [ids, labels] of [[ids1, Y], [ids2, tensor([2, 2, 0])], [ids1, tensor([1, 0, 1])]] as const) {
        const j = ids.toNested() as number[][];
        expectClose(shared(X, tensor(j[0]!)), loop((k) => row(X, k).gather(0, j[0]!)), "shared index");
        expectClose(outer(ids), stack([0, 1, 2].map((b) => loop((c) => row(X, c).gather(0, j[b]!)))), "index batched by the outer vmap");
        expectClose(lookups(ids), loop((k) => grad((w: Tensor) => embedding(j[k]!, w).square().sum())(table)), "Embedding's ids");
        expectClose(perExample(labels), loop((k) => grad(loss)(W, row(X, k), tensor(labels.toArray()[k]!))), "crossEntropy's labels");
      }
    });

    test("nested: indices batched by the outer vmap, the input by the inner, and the other way round", () => {
      const outer = vmap((i: Tensor) => vmap((x: Tensor) => x.gather(0, i))(X), [0])(tensor([[0], [1]]));
      expectClose(outer, stack([0, 1].map((b) => loop((c) => row(X, c).gather(0, [b])))), "index outer, input inner");
      const inner = vmap((x: Tensor) => vmap((i: Tensor) => x.gather(0, i))(tensor([[0], [1]])))(X);
      expectClose(inner, loop((c) => stack([0, 1].map((b) => row(X, c).gather(0, [b])))), "input outer, index inner");
    });
  });
});
