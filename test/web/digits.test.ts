/** The digits panel's preparation of a drawing: MNIST's 20×20 box and centre of mass at the centre of 28×28. */
import { describe, expect, test } from "vitest";
import { toMnist } from "../../web/src/digits-image.js";

describe("toMnist", () => {
  test("a blob in a corner of a large canvas: scaled so its longer side is 20 pixels, its centre of mass moved to the middle", () => {
    const w = 200, h = 100, ink = new Float32Array(w * h);
    for (let y = 5; y < 45; y++) for (let x = 10; x < 30; x++) ink[y * w + x] = 1; // 20 wide, 40 tall
    const out = toMnist(ink, w, h);
    let x0 = 28, x1 = -1, y0 = 28, y1 = -1, m = 0, cx = 0, cy = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = out[y * 28 + x]!;
        if (v > 0) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
        (m += v), (cx += x * v), (cy += y * v);
      }
    }
    expect([x1 - x0 + 1, y1 - y0 + 1]).toEqual([10, 20]);
    expect(Math.abs(cx / m - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy / m - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out)).toBe(1);
  });

  test("nothing drawn: all zeros", () => {
    expect(toMnist(new Float32Array(100), 10, 10).every((v) => v === 0)).toBe(true);
  });
});
