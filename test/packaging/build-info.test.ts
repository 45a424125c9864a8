/**
 * `tsc -b` trusts its build info: when the build info says the sources are unchanged it emits nothing, even if
 * dist/ is gone. So each package keeps its build info inside its dist/ (deleting dist/ deletes it, and the next
 * `npm run build` or `npm pack` rebuilds), and leaves it out of the tarball.
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

describe.each(["gradgraph", "cli", "onnx"])("packages/%s", (name) => {
  const dir = join(ROOT, "packages", name);
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8")) as { compilerOptions: { outDir: string; tsBuildInfoFile?: string }; files: string[] };

  test("its tsc build info lives inside its outDir", () => {
    const { compilerOptions: o } = read("tsconfig.json");
    const outDir = resolve(dir, o.outDir);
    const info = o.tsBuildInfoFile === undefined ? join(outDir, "tsconfig.tsbuildinfo") : resolve(dir, o.tsBuildInfoFile);
    expect(relative(outDir, info).startsWith("..")).toBe(false);
  });

  test("its package.json keeps the build info out of the published files", () => {
    expect(read("package.json").files).toContain("!dist/tsconfig.tsbuildinfo");
  });
});
