/** A tensor's toString: float32 elements with float32 digits (shortest round trip), float64 unchanged. */
import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import { float32String } from "../../packages/gradgraph/src/tensor/print.js";
import { arange, randn, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { Value } from "../../packages/gradgraph/src/scalar/value.js";

describe("toString", () => {
  test("float32 prints the shortest decimal that reads back to the same float32, not its float64 expansion", () => {
    expect(tensor([-0.40345752239227295]).toString()).toBe("tensor([-0.40345752])");
    expect(tensor([[0.1, 0.2], [1 / 3, 100]]).toString()).toBe("tensor([[0.1, 0.2], [0.33333334, 100]])");
    expect(tensor([0.1], { requiresGrad: true }).toString()).toBe("tensor([0.1], requiresGrad=true)");
    expect(tensor(2.5).toString()).toBe("tensor(2.5)");
  });

  test("float64 is unchanged: JavaScript's shortest float64 digits", () => {
    expect(tensor([0.1 + 0.2, -0.40345752239227295], { dtype: "float64" }).toString()).toBe(
      "tensor([0.30000000000000004, -0.40345752239227295], dtype=float64)",
    );
  });

  test("edges: ±0, ±Infinity, NaN, the smallest subnormal, the largest float32, integers past 2^24", () => {
    expect(tensor([-0, Infinity, -Infinity, NaN]).toString()).toBe("tensor([0, Infinity, -Infinity, NaN])");
    expect(float32String(Math.fround(1e-45))).toBe("1e-45");
    expect(float32String(Math.fround(3.4028234663852886e38))).toBe("3.4028235e+38");
    expect(float32String(Math.fround(16777217))).toBe("16777216");
    expect(float32String(Math.fround(1e-7))).toBe("1e-7");
  });

  test("for random float32 values: the string reads back to the value, and one digit fewer would not", () => {
    const xs = Array.from(randn([2000], { seed: 3 }).toArray());
    xs.push(...Array.from(randn([500], { seed: 4 }).mul(1e30).toArray()), ...Array.from(randn([500], { seed: 5 }).mul(1e-30).toArray()));
    for (const x of xs) {
      const s = float32String(x);
      expect(Math.fround(Number(s)), s).toBe(x);
      const digits = s.replace(/e.*$/, "").replace(/[-.]/g, "").replace(/^0+/, "").length;
      if (digits > 1) expect(Math.fround(Number(x.toPrecision(digits - 1))), s).not.toBe(x);
    }
  });
});

describe("large tensors and console.log", () => {
  test("over 1,000 elements, each axis shows its first and last 3 entries around ... (PyTorch's summary)", () => {
    expect(arange(1001).toString()).toBe("tensor([0, 1, 2, ..., 998, 999, 1000])");
    expect(arange(1000).toString()).toContain("499, 500");
    expect(arange(2000).reshape(40, 50).toString()).toBe(
      "tensor([[0, 1, 2, ..., 47, 48, 49], [50, 51, 52, ..., 97, 98, 99], [100, 101, 102, ..., 147, 148, 149], ..., " +
        "[1850, 1851, 1852, ..., 1897, 1898, 1899], [1900, 1901, 1902, ..., 1947, 1948, 1949], [1950, 1951, 1952, ..., 1997, 1998, 1999]])",
    );
  });

  test("Node's util.inspect (console.log) shows the printed form, not the engine's fields", () => {
    const t = tensor([0.1, 2], { requiresGrad: true });
    expect(inspect(t)).toBe("tensor([0.1, 2], requiresGrad=true)");
    expect(inspect({ w: tensor([1]) })).toBe("{ w: tensor([1]) }");
  });

  test("so does a scalar Value's (it dumped the tape's 1024-entry arrays)", () => {
    expect(inspect(new Value(2))).toBe("Value(data=2, grad=0)");
  });
});
