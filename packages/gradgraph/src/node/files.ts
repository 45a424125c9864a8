/**
 * Writing files atomically, and reading them with a size limit (Node only; part of `gradgraph/node`): used by
 * the weight, model and training-state files, the MNIST loader, and the CLI.
 */

import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";

export { readFileLimited } from "../core/read-file.js";

/**
 * Writes `data` (text as UTF-8, or bytes) to `path` atomically: to a temporary file in the same folder, then
 * renamed over `path`, so a reader never sees a half-written file and a failed write leaves any old file
 * untouched. Missing parent folders are created (`runs/a/model.safetensors` with no `runs/`).
 *
 * A symbolic link is followed: the file it points to is replaced, the link stays. A path that is not a regular
 * file (a FIFO, `/dev/stdout`, a device) is written to directly, never replaced, since renaming over it would
 * remove it.
 *
 * Any failure is an {@link InputError} that names `path` (never the temporary file) and says why, e.g.
 * `out/x.svg: cannot write the file (EACCES: permission denied)`; no temporary file is left behind.
 *
 * @example
 * await writeFileAtomic("graph.svg", await renderSvg(dot));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await import("node:fs/promises");
  const { dirname, basename, join } = await import("node:path");
  const { randomBytes } = await import("node:crypto");
  if (path === "") throw new InputError("no file name given");
  const fail = (e: unknown) => {
    if (e instanceof InputError) return e;
    // Node's message names the temporary file ("EACCES: permission denied, open '/x/.y.123.tmp'"): keep its first part.
    const node = typeof (e as NodeJS.ErrnoException).code === "string";
    const why = node ? (e as Error).message.split(", ")[0] : (e as Error).message;
    return new InputError(`${path}: cannot write the file (${why})`, { cause: e });
  };
  let target = path;
  let info: import("node:fs").Stats | null = null;
  try {
    info = await fs.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw fail(e);
  }
  if (info !== null) {
    if (info.isDirectory()) throw new InputError(`${path} is a directory; expected a file name`);
    if (!info.isFile()) {
      await fs.writeFile(path, data).catch((e: unknown) => {
        throw fail(e);
      });
      return;
    }
    target = await fs.realpath(path).catch((e: unknown) => {
      throw fail(e);
    });
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const mode = info === null ? 0o666 : info.mode & 0o777;
  try {
    try {
      await fs.writeFile(tmp, data, { flag: "wx", mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || info !== null) throw e;
      await makeFolders(dirname(target)).catch((f: FolderError) => {
        throw new InputError(`${path}: cannot write the file (${f.folder === undefined ? f.message : `cannot create the folder ${f.message}`})`);
      });
      await fs.writeFile(tmp, data, { flag: "wx", mode });
    }
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined); // ENOTDIR when it was never made: nothing to remove
    throw fail(e);
  }
}

/** Why {@link makeFolders} stopped; `folder` is set when creating that folder failed (else the message says why). */
export class FolderError extends Error {
  override name = "FolderError";
  constructor(
    message: string,
    readonly folder?: string,
  ) {
    super(message);
  }
}

/**
 * Creates the missing folders of `dir`, one level at a time, after finding that its nearest existing ancestor is
 * a folder (and, with `writable`, one this process may write in). A failure is a {@link FolderError} whose message
 * says which folder and why: `x/file exists and is not a folder`, `/proc/nope: ENOENT: no such file or directory`.
 * (Node 20's `mkdir(…, { recursive: true })` never returns under /proc, where mkdir fails with ENOENT; a plain
 * mkdir per level fails at once.)
 */
export async function makeFolders(dir: string, o: { writable?: boolean } = {}): Promise<void> {
  expectOptions("makeFolders", o, optionKeys<{ writable?: boolean }>({ writable: true }));
  const fs = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const st = await fs.stat(at).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "ENOTDIR") return null;
      throw new FolderError(`${at}: ${e.message.split(", ")[0]}`);
    });
    if (st !== null) {
      if (!st.isDirectory()) throw new FolderError(`${at} exists and is not a folder`);
      break;
    }
    if (dirname(at) === at) throw new FolderError("no existing parent folder");
    missing.unshift(at);
    at = dirname(at);
  }
  if (o.writable) await fs.access(at, fs.constants.W_OK).catch(() => Promise.reject(new FolderError(`${at} is not writable`)));
  for (const m of missing) {
    await fs.mkdir(m).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw new FolderError(`${m}: ${e.message.split(", ")[0]}`, m);
    });
  }
}
