import { defineConfig } from "vitest/config";
import { sourceAliases } from "./source-aliases.js";

export default defineConfig({
  // Tests import the library by name ("gradgraph", "gradgraph/node", ...) or by path; both reach its sources.
  resolve: { alias: sourceAliases },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
  },
});
