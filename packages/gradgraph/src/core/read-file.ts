/**
 * Reading a file with a size limit, in Node (`node:fs` is reached through `process.getBuiltinModule`, with no
 * import a browser bundle would see): the expression language's `@file.json` bindings and `gradgraph/node`'s
 * readers use it.
 */
import { InputError } from "./errors.js";

type Fs = typeof import("node:fs");

/** Node's `fs`, found without a static import so that browsers can load this module. */
function nodeFs(): Fs {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as Fs | undefined;
  if (fs === undefined) throw new InputError("reading files is not available here");
  return fs;
}

/** `900 bytes`, `12 kB`, `1.5 MB` */
function megabytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  return n < 1e6 ? `${Number((n / 1e3).toPrecision(3))} kB` : `${Number((n / 1e6).toPrecision(3))} MB`;
}

/** What a non-regular file is, in words. */
function kindOf(st: import("node:fs").Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a pipe (FIFO)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads a regular file of at most `maxBytes` bytes, whole. Anything else is an {@link InputError} that says so,
 * before reading a byte: a device (`/dev/zero`, or a link to one), a FIFO (opened without waiting for a writer),
 * a socket, a directory, or a file larger than the limit. A file that grows past the limit while it is read (or
 * one that claims size 0, as under /proc) is cut off there and refused too, so nothing is ever read without
 * bound. Errors of the file system itself (`ENOENT`, `EACCES`) are thrown as Node's, with their `code`.
 *
 * @example
 * const text = new TextDecoder().decode(readFileLimited("x.json", 100e6, "an --at file"));
 */
export function readFileLimited(path: string, maxBytes: number, what = "this file"): Uint8Array {
  const fs = nodeFs();
  const fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${path}: ${kindOf(st)}, not a regular file; only regular files are read`);
    const allowed = `the ${megabytes(maxBytes)} allowed for ${what}`;
    if (st.size > maxBytes) throw new InputError(`${path}: ${megabytes(st.size)}, more than ${allowed}`);
    const grew = () => new InputError(`${path}: more than ${allowed} (read past its stated size of ${megabytes(st.size)})`);
    let buf = new Uint8Array(Math.min(maxBytes, st.size) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) throw grew();
        const bigger = new Uint8Array(Math.min(maxBytes + 1, 2 * buf.length + 65536));
        bigger.set(buf);
        buf = bigger;
      }
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
