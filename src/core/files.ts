/**
 * Writing files atomically (Node only; `node:fs` is imported on first use, so importing this module costs
 * nothing in a browser). Used by the renderers (SVG) and by `nn` (weights, reports).
 */

/**
 * Writes `data` (text as UTF-8, or bytes) to `path` atomically: to a temporary file in the same folder, then
 * renamed over `path`, so a reader never sees a half-written file and a failed write leaves any old file
 * untouched.
 *
 * @example
 * await writeFileAtomic("graph.svg", await renderSvg(dot));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await import("node:fs/promises");
  const { dirname, basename, join } = await import("node:path");
  const { randomBytes } = await import("node:crypto");
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    if (typeof data === "string") await fs.writeFile(tmp, data, { encoding: "utf8", flag: "wx" });
    else await fs.writeFile(tmp, data, { flag: "wx" });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
