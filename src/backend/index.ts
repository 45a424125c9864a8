/**
 * The backend layer (between the op table and the tensor engine): storage (`NDArray`), the {@link Backend}
 * interface, the elementwise kernels traced from the op table, and the CPU backends — `js` (the reference,
 * always there) and `wasm` (WebAssembly SIMD, the default where the runtime has it).
 */
import { registerBackend, setBackend } from "./backend.js";
import { jsBackend } from "./js.js";
import { wasmBackend } from "./wasm.js";

registerBackend(jsBackend);
if (wasmBackend !== null) registerBackend(wasmBackend, true);
// GRADGRAPH_BACKEND=js (or wasm) in the environment chooses at start (read without depending on Node).
const chosen = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADGRAPH_BACKEND;
if (chosen !== undefined && chosen !== "") setBackend(chosen);

export { backend, backendNames, kernelOf, registerBackend, setBackend, withBackend, type Backend, type Kernel } from "./backend.js";
export { elementwiseKernelOf, fusedKernel } from "./kernels.js";
export { trackMemory, wasmMemoryBytes } from "./memory.js";
export * from "./ndarray.js";
