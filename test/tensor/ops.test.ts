import { describe, expect, test } from "vitest";
import { elementwiseList, elementwiseOps as ops, tensorOps } from "../../packages/gradgraph/src/ops/index.js";
import {
  arange,
  concat,
  fromTypedArray,
  Generator,
  logsumexp,
  max,
  maximum,
  min,
  ones,
  randn,
  ShapeError,
  stack,
  Tensor,
  tensor,
  where,
  zeros,
} from "../../packages/gradgraph/src/tensor/index.js";

/** Reference: elementwise op on nested arrays with NumPy broadcasting, by plain loops over indices. */
function refBroadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const r = Math.max(a.ndim, b.ndim);
  const as = [...Array(r - a.ndim).fill(1), ...a.shape], bs = [...Array(r - b.ndim).fill(1), ...b.shape];
  const shape = as.map((d, i) => Math.max(d, bs[i]!));
  const ad = a.toArray(), bd = b.toArray();
  const n = shape.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let k = 0; k < n; k++) {
    let rest = k, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const i = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
      ia += (as[d] === 1 ? 0 : i) * sa;
      ib += (bs[d] === 1 ? 0 : i) * sb;
      sa *= as[d]!;
      sb *= bs[d]!;
    }
    data.push(f(ad[ia]!, bd[ib]!));
  }
  return { shape, data };
}

describe("elementwise ops apply the table's forward functions with broadcasting", () => {
  const pairs: [number[], number[]][] = [[[3, 1, 2], [1, 3, 2]], [[2, 3], []], [[], [4]], [[4, 1], [3]], [[2, 1, 3], [2, 1]]];
  // Every binary op of the table (no list to update when an op is added).
  for (const op of elementwiseList.filter((o) => o.arity === 2).map((o) => o.name)) {
    test(op, () => {
      for (const [sa, sb] of pairs) {
        const a = randn(sa, { seed: 1, dtype: "float64" }).abs().add(0.5), b = round1(randn(sb, { seed: 2, dtype: "float64" }));
        const y = Tensor.apply(ops[op], [a, b]);
        const ref = refBroadcast(a, b, ops[op].forward);
        expect(y.shape).toEqual(ref.shape);
        expect(Array.from(y.toArray())).toEqual(ref.data);
      }
    });
  }

  test("unary ops on a non-contiguous view", () => {
    const x = randn([3, 4], { seed: 3, dtype: "float64" }).T;
    for (const op of elementwiseList.filter((o) => o.arity === 1).map((o) => o.name)) {
      const y = Tensor.apply(ops[op], [x]);
      const flat = Array.from(x.toArray());
      expect(Array.from(y.toArray())).toEqual(flat.map((v) => ops[op].forward(v, NaN)));
    }
  });

  test("dtype promotion: float32 op float64 is float64; numbers keep the tensor's dtype", () => {
    const a = ones([2]), b = ones([2], { dtype: "float64" });
    expect(a.add(b).dtype).toBe("float64");
    expect(a.mul(2).dtype).toBe("float32");
    expect(b.mul(2).dtype).toBe("float64");
    expect(a.add(2).toNested()).toEqual([3, 3]);
  });

  test("max/min follow PyTorch: a number is a dim (values only); maximum/minimum (or a tensor operand) are elementwise", () => {
    const P = tensor([[-1, 2], [3, -4]]);
    expect(P.max(0).toNested()).toEqual([3, 2]);
    expect(P.min(1).toNested()).toEqual([-1, -4]);
    expect(P.max(-1, true).toNested()).toEqual([[2], [3]]);
    expect(P.maximum(0).toNested()).toEqual([[0, 2], [3, 0]]);
    expect(P.minimum(0).toNested()).toEqual([[-1, 0], [0, -4]]);
    expect(P.max(tensor(0)).toNested()).toEqual([[0, 2], [3, 0]]);
    expect(max(P, 0).toNested()).toEqual([3, 2]);
    expect(maximum(P, 0).toNested()).toEqual([[0, 2], [3, 0]]);
    expect(max(P, tensor([0, 1])).toNested()).toEqual([[0, 2], [3, 1]]);
    expect(max(P).item()).toBe(3);
    expect(max(P).shape).toEqual([]);
    expect(max(P, { axis: 1 }).toNested()).toEqual([2, 3]);
    expect(min(P, { dim: 0, keepdim: true }).toNested()).toEqual([[-1, -4]]);
    expect(min(P, { axis: 0, keepdims: true }).toNested()).toEqual([[-1, -4]]);
  });
});

/** Rounds to one decimal, as a new float64 tensor (so that eq and gt meet ties). */
function round1(t: Tensor): Tensor {
  return fromTypedArray(Float64Array.from(t.toArray(), (v) => Math.round(v * 10) / 10), [...t.shape]);
}

describe("reductions", () => {
  const x = arange(24, undefined, 1, { dtype: "float64" }).reshape(2, 3, 4);
  test("sum over axes, with and without keepdims", () => {
    expect(x.sum().item()).toBe(276);
    expect(x.sum(0).toNested()).toEqual([[12, 14, 16, 18], [20, 22, 24, 26], [28, 30, 32, 34]]);
    expect(x.sum([0, 2]).toNested()).toEqual([60, 92, 124]);
    expect(x.sum(-1, true).shape).toEqual([2, 3, 1]);
    expect(x.sum(-1, true).toNested()).toEqual([[[6], [22], [38]], [[54], [70], [86]]]);
    expect(x.T.sum(0).toNested()).toEqual(x.sum(2).T.toNested());
    expect(x.sum([]).toNested()).toEqual(x.toNested());
  });

  test("mean, amax, amin", () => {
    expect(x.mean(1).toNested()).toEqual([[4, 5, 6, 7], [16, 17, 18, 19]]);
    expect(x.amax([0, 1]).toNested()).toEqual([20, 21, 22, 23]);
    expect(x.amin(2, true).toNested()).toEqual([[[0], [4], [8]], [[12], [16], [20]]]);
  });

  test("max and min propagate NaN", () => {
    const y = tensor([[1, NaN, 3], [4, 5, 6]]);
    expect(y.amax(1).toNested()).toEqual([NaN, 6]);
    expect(y.amin(1).toNested()).toEqual([NaN, 4]);
  });

  test("sum of an empty axis is 0; max of an empty axis is a shape error", () => {
    expect(zeros([0, 3]).sum(0).toNested()).toEqual([0, 0, 0]);
    expect(() => zeros([0, 3]).amax(0)).toThrow(new ShapeError("amax: cannot reduce an empty axis of shape [0,3]"));
  });
});

describe("matmul", () => {
  function refMatmul(a: number[][], b: number[][]): number[][] {
    return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
  }
  const A = [[1, 2, 3], [4, 5, 6]], B = [[1, 0], [0, 1], [2, -1]];

  test("2-D, 1-D on either side, dot product", () => {
    expect(tensor(A).matmul(tensor(B)).toNested()).toEqual(refMatmul(A, B));
    expect(tensor([1, 2, 3]).matmul(tensor(B)).toNested()).toEqual([7, -1]);
    expect(tensor(A).matmul(tensor([1, 1, 1])).toNested()).toEqual([6, 15]);
    expect(tensor([1, 2, 3]).matmul(tensor([4, 5, 6])).toNested()).toBe(32);
  });

  test("batched, with broadcast batch axes", () => {
    const a = randn([2, 1, 3, 4], { seed: 1, dtype: "float64" }), b = randn([5, 4, 2], { seed: 2, dtype: "float64" });
    const y = a.matmul(b);
    expect(y.shape).toEqual([2, 5, 3, 2]);
    const an = a.toNested() as number[][][][], bn = b.toNested() as number[][][];
    const yn = y.toNested() as number[][][][];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 5; j++) {
      const ref = refMatmul(an[i]![0]!, bn[j]!);
      ref.forEach((row, r) => row.forEach((v, c) => expect(yn[i]![j]![r]![c]).toBeCloseTo(v, 12)));
    }
  });

  test("odd sizes (tile edges), transposed operands, float64 accuracy", () => {
    const g = new Generator(9);
    const m = 37, k = 300, n = 29;
    const a = Array.from({ length: m }, () => Array.from({ length: k }, () => g.uniform() - 0.5));
    const b = Array.from({ length: k }, () => Array.from({ length: n }, () => g.uniform() - 0.5));
    const ref = refMatmul(a, b);
    const y = tensor(a, { dtype: "float64" }).matmul(tensor(b, { dtype: "float64" })).toNested() as number[][];
    const yt = tensor(b, { dtype: "float64" }).T.matmul(tensor(a, { dtype: "float64" }).T).T.toNested() as number[][];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      expect(Math.abs(y[i]![j]! - ref[i]![j]!)).toBeLessThan(1e-12);
      expect(Math.abs(yt[i]![j]! - ref[i]![j]!)).toBeLessThan(1e-12);
    }
  });
});

describe("movement", () => {
  const x = arange(6).reshape(2, 3);
  test("permute, transpose, squeeze/unsqueeze, flatten", () => {
    expect(arange(24).reshape(2, 3, 4).permute(2, 0, 1).shape).toEqual([4, 2, 3]);
    expect(arange(24).reshape(2, 3, 4).permute(2, 0, 1).slice(1, 1).toNested()).toEqual([13, 17, 21]);
    expect(x.transpose().toNested()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(x.unsqueeze(1).shape).toEqual([2, 1, 3]);
    expect(x.unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(x.unsqueeze(0).squeeze().shape).toEqual([2, 3]);
    expect(x.T.flatten().toNested()).toEqual([0, 3, 1, 4, 2, 5]);
  });

  test("slice with steps and negative indices, pad, concat, stack", () => {
    const y = arange(12).reshape(3, 4);
    expect(y.slice(-1).toNested()).toEqual([8, 9, 10, 11]);
    expect(y.slice([undefined, undefined, 2], [-3]).toNested()).toEqual([[1, 2, 3], [9, 10, 11]]);
    expect(y.slice(null, [5, 10]).shape).toEqual([3, 0]);
    expect(tensor([1, 2]).pad([[1, 2]]).toNested()).toEqual([0, 1, 2, 0, 0]);
    expect(concat([x, ones([1, 3])]).toNested()).toEqual([[0, 1, 2], [3, 4, 5], [1, 1, 1]]);
    expect(x.concat([x], 1).shape).toEqual([2, 6]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toNested()).toEqual([[1, 3], [2, 4]]);
  });

  test("gather picks along an axis; scatterAdd adds back (repeats accumulate)", () => {
    const scores = tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]);
    expect(scores.gather(1, [[1], [0]]).toNested()).toEqual([[Math.fround(0.7)], [0.5]]);
    expect(scores.gather(0, [[1, 0, 1]]).toNested()).toEqual([[0.5, Math.fround(0.7), 0.2].map(Math.fround)]);
    expect(tensor([1, 2, 3]).scatterAdd(0, [0, 2, 0], [4]).toNested()).toEqual([4, 0, 2, 0]);
  });

  test("where selects with broadcasting and passes -inf through untouched", () => {
    expect(where(tensor([1, 0, 1]), tensor([1, 2, 3]), -Infinity).toNested()).toEqual([1, -Infinity, 3]);
    expect(tensor([[1, 2]]).where(tensor([[1], [0]]), 0).toNested()).toEqual([[1, 2], [0, 0]]);
  });

  test("clamp", () => {
    expect(tensor([-2, 0.5, 3]).clamp(-1, 1).toNested()).toEqual([-1, 0.5, 1]);
    expect(tensor([-2, 3]).clamp(null, 0).toNested()).toEqual([-2, 0]);
  });
});

describe("softmax, logSoftmax, logsumexp are numerically stable", () => {
  test("at ±1000", () => {
    const x = tensor([[1000, 1000, 999], [-1000, -1000, -1001]], { dtype: "float64" });
    const l = x.logsumexp(1).toNested() as number[];
    const ref = Math.log(2 + Math.exp(-1));
    expect(l[0]).toBeCloseTo(1000 + ref, 10);
    expect(l[1]).toBeCloseTo(-1000 + ref, 10);
    const s = x.softmax(1).toNested() as number[][];
    const e = 1 / (2 + Math.exp(-1));
    for (const row of s) {
      expect(row[0]).toBeCloseTo(e, 12);
      expect(row[2]).toBeCloseTo(e * Math.exp(-1), 12);
    }
    expect((x.logSoftmax(1).toNested() as number[][])[0]![2]).toBeCloseTo(-1 - ref, 12);
  });

  test("a row of all -inf: logsumexp is -inf, softmax NaN (as PyTorch); other rows unaffected", () => {
    const x = tensor([[-Infinity, -Infinity], [0, Math.log(3)]], { dtype: "float64" });
    expect(logsumexp(x, 1).toNested()).toEqual([-Infinity, Math.log(4)]);
    const s = x.softmax(1).toNested() as number[][];
    expect(s[0]).toEqual([NaN, NaN]);
    expect(s[1]![0]).toBeCloseTo(0.25, 15);
  });

  test("one -inf entry gets probability 0 and gradient 0", () => {
    const x = tensor([-Infinity, 0, 0], { dtype: "float64", requiresGrad: true });
    const p = x.softmax(0);
    expect(p.toNested()).toEqual([0, 0.5, 0.5]);
    p.mul(tensor([1, 2, 3], { dtype: "float64" })).sum().backward();
    // −0 at the -inf entry, as PyTorch's (p·(g − Σg·p) = 0·(1 − 2.5)); the sign of that zero is not the point
    expect((x.grad!.toNested() as number[]).map((v) => v + 0)).toEqual([0, -0.25, 0.25]);
  });

  test("+inf gives +inf for logsumexp", () => {
    expect(tensor([Infinity, 0]).logsumexp().item()).toBe(Infinity);
  });
});

describe("shape errors name the op and the shapes", () => {
  const cases: [string, () => unknown, string][] = [
    ["add", () => ones([3]).add(ones([4])), "add: shapes [3] and [4] cannot be broadcast"],
    ["mul", () => ones([2, 3]).mul(ones([3, 2])), "mul: shapes [2,3] and [3,2] cannot be broadcast"],
    ["matmul inner", () => ones([2, 3]).matmul(ones([4, 5])), "matmul: inner dimensions differ: [2,3] @ [4,5]"],
    ["matmul 1-D", () => ones([3]).matmul(ones([4])), "matmul: inner dimensions differ: [3] @ [4]"],
    ["matmul 0-d", () => tensor(1).matmul(ones([3])), "matmul: both operands need at least 1 dimension: [] @ [3]"],
    ["matmul batch", () => ones([2, 4, 5]).matmul(ones([3, 5, 6])), "matmul: batch dimensions cannot be broadcast: [2,4,5] @ [3,5,6]"],
    ["reshape", () => ones([2, 3]).reshape(4), "reshape: cannot reshape [2,3] (6 elements) to [4] (4 elements)"],
    ["sum axis", () => ones([2, 3]).sum(2), "sum: axis 2 is out of range for shape [2,3]"],
    ["sum repeated axis", () => ones([2, 3]).sum([1, -1]), "sum: axis -1 is repeated in [1,-1]"],
    ["permute", () => ones([2, 3]).permute(0, 0), "permute: [0,0] is not a permutation of the axes of [2,3]"],
    ["broadcastTo", () => ones([3]).broadcastTo(4), "broadcastTo: cannot broadcast [3] to [4]"],
    ["concat", () => concat([ones([2, 3]), ones([3, 4])]), "concat: shapes [2,3] and [3,4] differ outside axis 0"],
    ["stack", () => stack([ones([2]), ones([3])]), "stack: shapes [2] and [3] differ"],
    ["gather range", () => ones([2, 3]).gather(1, [[0], [3]]), "gather: index 3 is out of range for axis 1 of size 3"],
    ["gather shape", () => ones([2, 3]).gather(1, [0, 1]), "gather: index of shape [2] does not fit [2,3] along axis 1"],
    ["slice index", () => ones([2, 3]).slice(2), "slice: index 2 is out of range for axis 0 of shape [2,3]"],
    ["squeeze", () => ones([2, 3]).squeeze(0), "squeeze: axis 0 of shape [2,3] has size 2, not 1"],
    ["where", () => where(ones([2]), ones([3]), ones([4])), "where: shapes [2], [3] and [4] cannot be broadcast"],
    ["softmax axis", () => ones([2, 3]).softmax(2), "softmax: axis 2 is out of range for shape [2,3]"],
    ["mT", () => ones([3]).mT, "mT: needs at least 2 dimensions, got [3]"],
  ];
  for (const [name, f, message] of cases) {
    test(name, () => {
      expect(f).toThrow(ShapeError);
      expect(f).toThrow(new ShapeError(message));
    });
  }

  test("rules used directly (no Tensor method) check shapes too", () => {
    expect(() => Tensor.apply(tensorOps.slice, [ones([3])], { starts: [2], ends: [5], steps: [1] })).toThrow(
      new ShapeError("slice: range 2:5:1 is out of bounds for axis 0 of shape [3]"),
    );
    expect(() => Tensor.apply(tensorOps.pad, [ones([3])], { shape: [3], starts: [1], steps: [1] })).toThrow(
      new ShapeError("pad: [3] does not fit into [3] at [1] with steps [1]"),
    );
  });
});

describe("elementwise kernels without new Function (a strict content security policy)", () => {
  test("the interpreted loops (no new Function) compute what the printed ones do", async () => {
    const { setCompile } = await import("../../packages/gradgraph/src/backend/js.js");
    const { setBackend, backend } = await import("../../packages/gradgraph/src/backend/index.js");
    const prev = backend().name;
    const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" }), b = tensor([10, 20, 30], { dtype: "float64" });
    const cases = () => [a.add(b), a.mul(0.5), a.T.exp(), a.relu().sub(a.maximum(3)), a.gt(b.div(8))].map((t) => t.toNested());
    setBackend("js");
    const compiled = cases();
    const was = setCompile(false);
    try {
      expect(cases()).toEqual(compiled);
      expect(compiled[0]).toEqual([[11, 22, 33], [14, 25, 36]]);
    } finally {
      setCompile(was);
      setBackend(prev);
    }
  });
});
