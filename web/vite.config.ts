/**
 * Vite config of the web explorer. `npm run web` serves it; `npm run build:web` writes a static site to
 * `web-dist/` with relative URLs (`base: "./"`), so it works from any static host or sub-folder.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { sourceAliases } from "../source-aliases.js";

const here = fileURLToPath(new URL(".", import.meta.url));

const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: here,
  // The library from its sources (no build needed for `npm run web`); it has no Node-only import on these paths.
  resolve: { alias: sourceAliases },
  // The Web Workers (train-worker.ts, layout-worker.ts, digits-worker.ts): ES module workers. Graphviz (0.8 MB of
  // WebAssembly) is imported by the layout worker only.
  worker: { format: "es" },
  base: "./",
  // The explorer has no public/ folder; keep Vite from looking for one.
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../web-dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The WebAssembly Graphviz module is one large chunk loaded on first render; that is expected.
    chunkSizeWarningLimit: 2000,
  },
  // Cross-origin isolation (COOP + COEP) makes SharedArrayBuffer available, so the float32 matmul kernel can
  // share its WebAssembly memory with a worker pool (packages/gradgraph/src/tensor/kernels/threads.ts); static hosts need the same
  // two headers for threads, and fall back to one thread without them.
  server: { host: "localhost", headers: isolation },
  preview: { host: "localhost", headers: isolation },
});
