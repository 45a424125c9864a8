// `prepack` of each published package (run by npm in the package's folder): builds it, and copies the
// repository's LICENSE and CHANGELOG.md beside its package.json so that the tarball carries them.
import { execFileSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-b"], { stdio: "inherit" });
for (const f of ["LICENSE", "CHANGELOG.md"]) copyFileSync(join(root, f), f);
