/**
 * Convolution layers: bad input gets a typed error naming what was expected and what came; Flatten follows
 * PyTorch's start_dim/end_dim; the im2col kernel agrees with its definition on strided (permuted) input.
 */
import { describe, expect, test } from "vitest";
import { AvgPool2d, Conv1d, Conv2d, conv2d, Flatten, MaxPool2d } from "../../packages/gradgraph/src/nn/index.js";
import { InputError, ShapeError, tensor, zeros } from "../../packages/gradgraph/src/tensor/index.js";

describe("convolution layers: bad input", () => {
  test("wrong channel count", () => {
    expect(() => new Conv2d(3, 4, 3).forward(zeros([1, 2, 8, 8]))).toThrow(ShapeError);
    expect(() => new Conv2d(3, 4, 3).forward(zeros([1, 2, 8, 8]))).toThrow("expected 3 input channels, got 2 in input [1,2,8,8]");
    expect(() => new Conv1d(3, 4, 3).forward(zeros([1, 5, 8]))).toThrow("expected 3 input channels, got 5");
    expect(() => conv2d(zeros([1, 2, 8, 8]), zeros([4, 3, 3, 3]))).toThrow("weight [4,3,3,3] expects 3 input channels (3 per group × 1 groups), got 2");
  });

  test("kernel larger than the padded input", () => {
    expect(() => new Conv2d(1, 1, 5).forward(zeros([1, 1, 4, 8]))).toThrow(/kernel \(5, 5\).*larger than the padded input 4×8/);
    expect(() => new Conv2d(1, 1, 5, { padding: 1 }).forward(zeros([1, 1, 2, 8]))).toThrow("larger than the padded input 4×10");
    expect(() => new Conv2d(1, 1, 3, { dilation: 3 }).forward(zeros([1, 1, 6, 6]))).toThrow("spanning 7×7 with dilation (3, 3)");
    expect(() => new MaxPool2d(3).forward(zeros([1, 1, 2, 2]))).toThrow(ShapeError);
  });

  test("groups not dividing the channels", () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(InputError);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow("groups=2 must divide both inChannels (3) and outChannels (4)");
    expect(() => conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 })).toThrow("groups=2 must divide both the input channels (4) and the output channels (3)");
  });

  test("input of the wrong rank", () => {
    expect(() => new Conv2d(1, 2, 3).forward(zeros([1, 8, 8]))).toThrow("expected a 4-D input [N, C, H, W], got [1,8,8]");
    expect(() => new Conv1d(1, 2, 3).forward(zeros([1, 1, 8, 8]))).toThrow("expected a 3-D input [N, C, L], got [1,1,8,8]");
    expect(() => new AvgPool2d(2).forward(zeros([8, 8]))).toThrow("avgPool2d: expected a 4-D input [N, C, H, W], got [8,8]");
  });

  test("bad settings", () => {
    expect(() => new Conv2d(1, 2, 0)).toThrow("kernelSize must be an integer ≥ 1 or a pair of them, got 0");
    expect(() => new Conv2d(1, 2, 3, { stride: [1, 0] })).toThrow("stride must be an integer ≥ 1");
    expect(() => new MaxPool2d(2, { padding: 2 }).forward(zeros([1, 1, 8, 8]))).toThrow("padding (2, 2) must be at most half the kernel (2, 2)");
  });
});

describe("Flatten", () => {
  test("PyTorch's start_dim=1, end_dim=-1 by default; other ranges; out-of-range axes are an error", () => {
    const x = zeros([2, 3, 4, 5]);
    expect(new Flatten().forward(x).shape).toEqual([2, 60]);
    expect(new Flatten(0, 2).forward(x).shape).toEqual([24, 5]);
    expect(new Flatten(2).forward(x).shape).toEqual([2, 3, 20]);
    expect(new Flatten().forward(zeros([4, 1])).shape).toEqual([4, 1]);
    expect(() => new Flatten().forward(zeros([5]))).toThrow(ShapeError);
  });
});

describe("im2col", () => {
  test("matches its definition on a permuted (strided) input, with padding, stride and dilation", () => {
    const data = Array.from({ length: 2 * 3 * 5 * 6 }, (_, i) => i + 1);
    const base = tensor(data, { dtype: "float64" }).reshape(3, 2, 5, 6);
    const x = base.permute(1, 0, 2, 3); // [2, 3, 5, 6], not contiguous
    const p = { kernel: [2, 3], stride: [2, 1], padding: [1, 2], dilation: [2, 1], padValue: -7 } as const;
    const cols = x.im2col(p);
    const [C, KH, KW, N, HO, WO] = cols.shape as number[];
    const xv = x.toNested() as number[][][][];
    const got = cols.toArray();
    let k = 0;
    for (let c = 0; c < C!; c++) for (let i = 0; i < KH!; i++) for (let j = 0; j < KW!; j++) for (let n = 0; n < N!; n++) for (let a = 0; a < HO!; a++) for (let b = 0; b < WO!; b++) {
      const r = a * 2 - 1 + i * 2, s = b - 2 + j;
      const want = r >= 0 && r < 5 && s >= 0 && s < 6 ? xv[n]![c]![r]![s]! : -7;
      expect(got[k++], `${[c, i, j, n, a, b]}`).toBe(want);
    }
  });
});
