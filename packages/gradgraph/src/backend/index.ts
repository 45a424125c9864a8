/**
 * The backend layer (between the op table and the tensor engine): storage (`NDArray`), the {@link Backend}
 * interface, the elementwise kernels traced from the op table, and the CPU backends — `js` (the reference,
 * always there) and `wasm` (WebAssembly SIMD, the default where the runtime has it).
 */
export { backend, backendNames, kernelOf, kernelSetOf, registerBackend, runKernelSet, setBackend, withBackend, type Backend, type Kernel, type KernelSet, type OutputMode } from "./backend.js";
export { elementwiseKernelOf, fusedKernel } from "./kernels.js";
export { trackMemory, wasmMemoryBytes } from "./memory.js";
export * from "./ndarray.js";
