import { lstatSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { readFileLimited, writeFileAtomic } from "../../packages/gradgraph/src/node/files.js";

const dir = () => mkdtempSync(join(tmpdir(), "gradgraph-files-"));

test("replaces a regular file whole and leaves no temporary file", async () => {
  const d = dir();
  const file = join(d, "a.txt");
  writeFileSync(file, "old");
  await writeFileAtomic(file, "new");
  expect(readFileSync(file, "utf8")).toBe("new");
  expect(readdirSync(d)).toEqual(["a.txt"]);
});

test("follows a symbolic link: the file it points to is replaced, the link stays a link", async () => {
  const d = dir();
  const real = join(d, "real.txt");
  const link = join(d, "link.svg");
  writeFileSync(real, "old");
  symlinkSync(real, link);
  await writeFileAtomic(link, "<svg/>");
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readFileSync(real, "utf8")).toBe("<svg/>");
  expect(readdirSync(d).sort()).toEqual(["link.svg", "real.txt"]);
});

test("writes into a path that is not a regular file instead of replacing it (/dev/null stays a device)", async () => {
  await writeFileAtomic("/dev/null", "discarded");
  expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
});

test("creates missing parent folders, leaving no temporary file", async () => {
  const d = dir();
  const file = join(d, "runs", "a", "model.safetensors");
  await writeFileAtomic(file, "x");
  expect(readFileSync(file, "utf8")).toBe("x");
  expect(readdirSync(join(d, "runs", "a"))).toEqual(["model.safetensors"]);
});

test("a failure is an InputError naming the path asked for, never the temporary file, and leaves nothing behind", async () => {
  const d = dir();
  writeFileSync(join(d, "file"), "");
  const under = join(d, "file", "sub", "x.txt");
  const err = await writeFileAtomic(under, "x").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toBe(`${under}: cannot write the file (${join(d, "file")} exists and is not a folder)`);
  expect(readdirSync(d)).toEqual(["file"]);
  // A folder that cannot be created (under /proc, where Node 20's recursive mkdir would hang), and a folder that
  // refuses new files: Node's reason, without its temporary file name.
  await expect(writeFileAtomic("/proc/nope/deeper/x.txt", "x")).rejects.toThrow(
    "/proc/nope/deeper/x.txt: cannot write the file (cannot create the folder /proc/nope: ENOENT: no such file or directory)",
  );
  const denied = (await writeFileAtomic("/proc/self/x.txt", "x").catch((e: unknown) => e)) as Error;
  expect(denied.message).toMatch(/^\/proc\/self\/x\.txt: cannot write the file \(E[A-Z]+: [a-z ]+\)$/);
});

test("refuses a directory and an empty name with a message", async () => {
  await expect(writeFileAtomic(dir(), "x")).rejects.toThrow(/is a directory/);
  await expect(writeFileAtomic("", "x")).rejects.toThrow(/no file name given/);
});

describe("readFileLimited", () => {
  test("reads a regular file whole, through a link too", () => {
    const d = dir();
    writeFileSync(join(d, "a.json"), "[1,2]");
    symlinkSync(join(d, "a.json"), join(d, "link.json"));
    expect(new TextDecoder().decode(readFileLimited(join(d, "link.json"), 5))).toBe("[1,2]");
  });

  test("refuses a file over the limit before reading it, saying both sizes", () => {
    const d = dir();
    writeFileSync(join(d, "big.json"), "x".repeat(2_500_000));
    expect(() => readFileLimited(join(d, "big.json"), 1_000_000, "an @file")).toThrow(/big\.json: 2\.5 MB, more than the 1 MB allowed for an @file/);
  });

  test("refuses what never ends or never comes: /dev/zero, a link to it, a FIFO with no writer, a directory", () => {
    const d = dir();
    symlinkSync("/dev/zero", join(d, "model.safetensors"));
    execFileSync("mkfifo", [join(d, "fifo")]);
    expect(() => readFileLimited("/dev/zero", 1e6)).toThrow(InputError);
    expect(() => readFileLimited("/dev/zero", 1e6)).toThrow("/dev/zero: a character device, not a regular file; only regular files are read");
    expect(() => readFileLimited(join(d, "model.safetensors"), 1e6)).toThrow("a character device, not a regular file");
    expect(() => readFileLimited(join(d, "fifo"), 1e6)).toThrow("a pipe (FIFO), not a regular file");
    expect(() => readFileLimited(d, 1e6)).toThrow("a directory, not a regular file");
  });

  test("a file that claims size 0 but has more (under /proc) is cut off at the limit", () => {
    expect(statSync("/proc/self/maps").size).toBe(0);
    expect(readFileLimited("/proc/self/maps", 1e7).length).toBeGreaterThan(0);
    expect(() => readFileLimited("/proc/self/maps", 10)).toThrow("/proc/self/maps: more than the 10 bytes allowed for this file (read past its stated size of 0 bytes)");
  });

  test("errors of the file system keep their code", () => {
    expect(() => readFileLimited(join(dir(), "missing"), 10)).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
