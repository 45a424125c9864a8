/**
 * A drawing prepared as MNIST's digits were (pure: unit-tested in Node).
 */

/**
 * A drawing (grey levels 0–1, `w`×`h`, row major) as an MNIST digit: 784 grey levels, the ink's bounding box
 * scaled to fit 20×20 and its centre of mass moved to the centre of 28×28. All zeros when nothing is drawn.
 */
export function toMnist(ink: Float32Array, w: number, h: number): Float32Array {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (ink[y * w + x]! > 0.05) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
  const out = new Float32Array(784);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, scale = 20 / Math.max(bw, bh);
  const sw = Math.max(1, Math.round(bw * scale)), sh = Math.max(1, Math.round(bh * scale));
  // Box-filter each small pixel over the drawing's pixels it covers.
  const small = new Float32Array(sw * sh);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const ya = y0 + Math.floor(y / scale), yb = Math.max(ya + 1, y0 + Math.floor((y + 1) / scale));
      const xa = x0 + Math.floor(x / scale), xb = Math.max(xa + 1, x0 + Math.floor((x + 1) / scale));
      let s = 0;
      for (let yy = ya; yy < Math.min(yb, h); yy++) for (let xx = xa; xx < Math.min(xb, w); xx++) s += ink[yy * w + xx]!;
      small[y * sw + x] = s / ((yb - ya) * (xb - xa));
    }
  }
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) (m += small[y * sw + x]!), (cx += x * small[y * sw + x]!), (cy += y * small[y * sw + x]!);
  const dx = Math.round(13.5 - cx / m), dy = Math.round(13.5 - cy / m);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const X = x + dx, Y = y + dy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = Math.min(1, small[y * sw + x]!);
    }
  }
  return out;
}
