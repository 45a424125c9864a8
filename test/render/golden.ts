/**
 * Golden files: `expectGolden(path, text)` compares `text` with test/render/golden/<path> exactly. Run with
 * `UPDATE_GOLDEN=1` to (re)write the files instead, then read the diff before committing: a golden file is only
 * as right as the person who checked it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "golden");

export const updating = process.env.UPDATE_GOLDEN === "1";

export function expectGolden(path: string, text: string): void {
  const file = join(ROOT, path);
  if (updating) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${path} is missing: run with UPDATE_GOLDEN=1 and check it by eye`);
  expect(text).toBe(readFileSync(file, "utf8"));
}
