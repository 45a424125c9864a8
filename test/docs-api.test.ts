/**
 * The API reference (`npm run docs`, TypeDoc over the package's four entry points, configured in typedoc.json)
 * builds without a warning: every exported symbol (and every method and accessor of an exported class) has a doc
 * comment, every `{@link}` resolves, and nothing the public API mentions is left unexported. TypeDoc runs with
 * `--emit none`: the same checks, no HTML written.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const typedoc = join(dirname(createRequire(import.meta.url).resolve("typedoc/package.json")), "bin", "typedoc");

test("TypeDoc documents the four entry points with no warning (docs, links, exports)", () => {
  const r = spawnSync(process.execPath, [typedoc, "--emit", "none", "--treatWarningsAsErrors"], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  const output = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  const warnings = output.split("\n").filter((l) => /\[(warning|error)\]/.test(l));
  expect(warnings, output).toEqual([]);
  expect(r.status).toBe(0);
}, 300_000);
