/**
 * The WebAssembly memories the kernels made (the wasm backend's scratch, the matrix product's workspace), so a
 * memory report can show them: they are neither V8's heap nor ArrayBuffer storage in `process.memoryUsage()`.
 * A memory only grows; what a kernel's workspace reaches for the largest operands it met is kept and reused.
 */
const memories: { readonly label: string; readonly memory: WebAssembly.Memory }[] = [];

/** Lists a memory in {@link wasmMemoryBytes} (call once, where it is made). */
export function trackMemory(label: string, memory: WebAssembly.Memory): void {
  memories.push({ label, memory });
}

/** Bytes of every tracked WebAssembly memory now, by label (`wasm-scratch`, `heap` — the shared one —, `sgemm` where there is none, …). */
export function wasmMemoryBytes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { label, memory } of memories) out[label] = (out[label] ?? 0) + memory.buffer.byteLength;
  return out;
}
