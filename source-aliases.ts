/**
 * The library's entry points resolved to their TypeScript sources, for the tools that run the repository's code
 * straight from source (vitest, the web explorer's Vite): one copy of the library in a test process, and no build
 * needed for the dev server. The same map is `paths` in tsconfig.json. Published packages resolve through
 * packages/gradgraph/package.json's `exports` instead.
 */
import { fileURLToPath } from "node:url";

const src = (p: string) => fileURLToPath(new URL(`./packages/gradgraph/src/${p}`, import.meta.url));

export const sourceAliases = [
  { find: /^gradgraph$/, replacement: src("index.ts") },
  { find: /^gradgraph\/node$/, replacement: src("node/index.ts") },
  { find: /^gradgraph\/nn$/, replacement: src("nn/index.ts") },
  { find: /^gradgraph\/lecture$/, replacement: src("lecture.ts") },
  { find: /^gradgraph\/ops$/, replacement: src("ops/index.ts") },
  { find: /^gradgraph-onnx$/, replacement: fileURLToPath(new URL("./packages/onnx/src/index.ts", import.meta.url)) },
  { find: /^gradgraph-onnx\/web$/, replacement: fileURLToPath(new URL("./packages/onnx/src/web.ts", import.meta.url)) },
];
