import { describe, expect, it } from "vitest";
import { formatTable, formatValue } from "../../packages/gradgraph/src/render/format.js";

describe("formatValue", () => {
  it("writes numbers compactly and without float noise", () => {
    expect(formatValue(0.25)).toBe("0.25");
    expect(formatValue(-36)).toBe("-36");
    expect(formatValue(0.1 + 0.2)).toBe("0.3");
    expect(formatValue(1 / 3)).toBe("0.333333333333");
    expect(formatValue(Math.E)).toBe("2.71828182846");
    expect(formatValue(-0)).toBe("0");
    expect(formatValue(1e-7)).toBe("1e-7");
    expect(formatValue(1e21)).toBe("1e+21");
    expect(formatValue(123456789012)).toBe("123456789012");
    expect(formatValue(Infinity)).toBe("inf");
    expect(formatValue(-Infinity)).toBe("-inf");
    expect(formatValue(NaN)).toBe("nan");
  });

  it("never rounds a number that 12 digits show exactly, and rounds others honestly", () => {
    expect(formatValue(0.123456789012)).toBe("0.123456789012");
    expect(formatValue(1234567890123)).toBe("1234567890120");
    expect(formatValue(1.00000000000001)).toBe("1");
    expect(Number(formatValue(2 / 3))).toBeCloseTo(2 / 3, 12);
  });
});

describe("formatTable", () => {
  it("aligns columns under a dashed rule and trims trailing spaces", () => {
    expect(formatTable(["node", "value"], [["a", "0"], ["bcdef", ""]])).toBe(
      ["  node   value", "  -----  -----", "  a      0", "  bcdef"].join("\n"),
    );
  });
});
