/**
 * Vite config of the web explorer. `npm run web` serves it; `npm run build:web` writes a static site to
 * `web-dist/` with relative URLs (`base: "./"`), so it works from any static host or sub-folder.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  plugins: [
    {
      // The library's Node-only helpers (writeFileAtomic: node:fs, node:path, node:crypto) are imported lazily
      // and never called in the browser: give them an empty module instead of Vite's externalisation warning.
      name: "gradgraph:node-builtins",
      enforce: "pre",
      resolveId: (id) => (id.startsWith("node:") ? `\0node-stub:${id}` : null),
      load: (id) => (id.startsWith("\0node-stub:") ? "export {};" : null),
    },
  ],
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
  server: { host: "localhost" },
  preview: { host: "localhost" },
});
