/**
 * Vite config of the web explorer. `npm run web` serves it; `npm run build:web` writes a static site to
 * `web-dist/` with relative URLs (`base: "./"`), so it works from any static host or sub-folder.
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * The library's Node-only helpers (writeFileAtomic, loadMnist, saveModel: node:fs, node:path, node:crypto,
 * node:module) are imported lazily and never called in the browser: give them an empty module instead of Vite's
 * externalisation warning.
 */
const nodeBuiltins = (): Plugin => ({
  name: "gradgraph:node-builtins",
  enforce: "pre",
  resolveId: (id) => (id.startsWith("node:") ? `\0node-stub:${id}` : null),
  load: (id) => (id.startsWith("\0node-stub:") ? "export {};" : null),
});

/**
 * Graphviz (0.8 MB of WebAssembly, which `renderSvg` imports lazily) is used only by the layout worker
 * (layout-worker.ts): the page and the training worker get a stub instead, so the site ships one copy. Each
 * bundle is told apart by its entry (`buildStart`); in the dev server nothing is stubbed.
 */
const graphvizOnlyInLayoutWorker = (): Plugin => {
  let stub = true;
  return {
    name: "gradgraph:graphviz-only-in-layout-worker",
    enforce: "pre",
    apply: "build",
    buildStart(options) {
      stub = !JSON.stringify(options.input).includes("layout-worker");
    },
    resolveId: (id) => (stub && id === "@hpcc-js/wasm-graphviz" ? "\0graphviz-stub" : null),
    load: (id) =>
      id === "\0graphviz-stub" ? 'export const Graphviz = { load: () => Promise.reject(new Error("Graphviz runs in the layout worker only")) };' : null,
  };
};

const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: here,
  plugins: [nodeBuiltins(), graphvizOnlyInLayoutWorker()],
  // The Web Workers (train-worker.ts, layout-worker.ts): ES module workers, each bundled with these plugins.
  worker: {
    format: "es",
    plugins: () => [nodeBuiltins(), graphvizOnlyInLayoutWorker()],
  },
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
  // share its WebAssembly memory with a worker pool (src/tensor/kernels/threads.ts); static hosts need the same
  // two headers for threads, and fall back to one thread without them.
  server: { host: "localhost", headers: isolation },
  preview: { host: "localhost", headers: isolation },
});
