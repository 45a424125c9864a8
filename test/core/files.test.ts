import { lstatSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { writeFileAtomic } from "../../src/core/files.js";

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

test("refuses a directory and an empty name with a message", async () => {
  await expect(writeFileAtomic(dir(), "x")).rejects.toThrow(/is a directory/);
  await expect(writeFileAtomic("", "x")).rejects.toThrow(/no file name given/);
});
