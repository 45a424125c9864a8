/**
 * Writing files atomically, and reading them with a size limit (Node only; part of `gradgraph/node`): used by
 * the weight, model and training-state files, the MNIST loader, and the CLI.
 */

export { readFileLimited } from "../core/read-file.js";

/**
 * Writes `data` (text as UTF-8, or bytes) to `path` atomically: to a temporary file in the same folder, then
 * renamed over `path`, so a reader never sees a half-written file and a failed write leaves any old file
 * untouched.
 *
 * A symbolic link is followed: the file it points to is replaced, the link stays. A path that is not a regular
 * file (a FIFO, `/dev/stdout`, a device) is written to directly, never replaced, since renaming over it would
 * remove it.
 *
 * @example
 * await writeFileAtomic("graph.svg", await renderSvg(dot));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await import("node:fs/promises");
  const { dirname, basename, join } = await import("node:path");
  const { randomBytes } = await import("node:crypto");
  if (path === "") throw new Error("no file name given");
  let target = path;
  const info = await fs.stat(path).catch(() => null);
  if (info !== null) {
    if (info.isDirectory()) throw new Error(`${path} is a directory`);
    if (!info.isFile()) {
      await fs.writeFile(path, data);
      return;
    }
    target = await fs.realpath(path);
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await fs.writeFile(tmp, data, { flag: "wx", mode: info === null ? 0o666 : info.mode & 0o777 });
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
