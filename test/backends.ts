/**
 * Runs a suite once per CPU backend (`js`, `wasm` where the runtime has WebAssembly SIMD), so a backend added
 * later inherits every check written with it. On the wasm backend every kernel it can print runs there, however
 * small (normally tiny arrays stay on the JavaScript loops).
 */
import { afterAll, beforeAll, describe } from "vitest";
import { backend, backendNames, setBackend } from "../packages/gradgraph/src/backend/index.js";
import { wasmTuning } from "../packages/gradgraph/src/backend/wasm.js";

export function forEachBackend(suite: (name: string) => void): void {
  for (const name of backendNames()) {
    describe(`on the ${name} backend`, () => {
      let prev = "";
      const minSize = wasmTuning.minSize;
      beforeAll(() => {
        prev = backend().name;
        setBackend(name);
        wasmTuning.minSize = 0;
      });
      afterAll(() => {
        setBackend(prev);
        wasmTuning.minSize = minSize;
      });
      suite(name);
    });
  }
}
