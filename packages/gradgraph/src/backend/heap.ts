/**
 * The shared WebAssembly heap: one shared `WebAssembly.Memory` (where `SharedArrayBuffer` is available: Node, and
 * browsers when `crossOriginIsolated`) that the float32 matrix product, its worker pool and the compiled steps'
 * arenas all live in, so a kernel reads an arena's arrays where they lie instead of copying them into its own
 * memory first.
 *
 * Layout: the first `HEAP_POOL_BYTES` are the worker pool's control block (tensor/kernels/threads.ts); above it,
 * *regions* reserved for as long as their owner lives (an arena, the elementwise kernels' scratch), placed first-fit;
 * above the last region, the *workspace*: what one kernel call needs for itself (a product's packed operands), valid
 * until the next call. The memory only grows (WebAssembly memories cannot shrink): a freed region's bytes are reused
 * by later regions and by the workspace. Growing a shared memory leaves every view of it valid.
 */
import { trackMemory } from "./memory.js";

/** Bytes at the start of the heap reserved for the worker pool (control words and argument table). */
export const HEAP_POOL_BYTES = 65536;
/** The heap's largest size, in 64 KiB pages (a shared memory must declare one): 1 GiB. */
export const HEAP_MAX_PAGES = 16384;
const ALIGN = 64;
/** What regions of arrays (arenas, moved state) may hold at once: 128 MiB. */
export const HEAP_ARRAYS_BUDGET = 128 * 1024 * 1024;

interface Region {
  at: number;
  size: number;
}

export class WasmHeap {
  /** Reserved regions, by address. */
  private readonly regions: Region[] = [];
  /** Bytes in regions made by `arrays` (given back by the garbage collector). */
  private collectable = 0;
  /** The most bytes regions made by `arrays` may hold at once. */
  arraysBudget = HEAP_ARRAYS_BUDGET;
  /** Every `ArrayBuffer` the memory has been seen as (a grown shared memory is a new object; old views keep theirs). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(readonly memory: WebAssembly.Memory) {
    this.buffers.add(memory.buffer);
  }

  /** Whether `a` is a view of this heap's memory. */
  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  /** The memory's buffer now (registered, so views made on it are recognised by `owns`). */
  buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /** Grows the memory to at least `end` bytes; false where it would pass the maximum. */
  ensure(end: number): boolean {
    if (end > HEAP_MAX_PAGES * 65536) return false;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / 65536));
      } catch {
        return false;
      }
      this.buffers.add(this.memory.buffer);
    }
    return true;
  }

  /** The first byte above every region: where a call's workspace starts. */
  top(): number {
    const last = this.regions[this.regions.length - 1];
    return last === undefined ? HEAP_POOL_BYTES : align(last.at + last.size);
  }

  /** Reserves `bytes` (64-aligned) until `free`; returns the address, or null where the heap is full. */
  reserve(bytes: number): number | null {
    const size = align(Math.max(bytes, 1));
    let at = HEAP_POOL_BYTES, k = 0;
    for (; k < this.regions.length; k++) {
      const r = this.regions[k]!;
      if (r.at - at >= size) break;
      at = align(r.at + r.size);
    }
    if (!this.ensure(at + size)) return null;
    this.regions.splice(k, 0, { at, size });
    return at;
  }

  /** Gives back the region at `at`. */
  free(at: number): void {
    const k = this.regions.findIndex((r) => r.at === at);
    if (k >= 0) this.regions.splice(k, 1);
  }

  /**
   * A region of `bytes` for arrays (each 16-aligned: kernels write whole vectors), given back once every array made
   * in it has been collected; null where the heap is full or such regions already hold `arraysBudget` bytes.
   *
   * The budget bounds what a loop that never yields to the event loop can pin: `FinalizationRegistry` reports the
   * arrays' deaths only between tasks, so a synchronous loop compiling program after program (a sweep) would
   * otherwise keep every arena it ever made, and the memory never shrinks. Past it, callers use memory of their own
   * (which the garbage collector frees at any time).
   */
  arrays(bytes: number): HeapArrays | null {
    if (this.collectable + bytes > this.arraysBudget) return null;
    const at = this.reserve(bytes);
    if (at === null) return null;
    this.collectable += align(bytes);
    const owner = { heap: this, at, bytes: align(bytes), live: 0 };
    let next = at;
    return {
      allocate: (dtype, n) => {
        const size = n * (dtype === "float64" ? 8 : 4);
        if (next + size > at + bytes) throw new Error("WasmHeap: more arrays than the region was made for");
        const a = dtype === "float64" ? new Float64Array(this.buffer(), next, n) : new Float32Array(this.buffer(), next, n);
        next += (size + 15) & ~15;
        owner.live++;
        collected.register(a, owner);
        return a;
      },
    };
  }

  /** Gives back a region made by `arrays`. */
  freeArrays(at: number, bytes: number): void {
    this.free(at);
    this.collectable -= bytes;
  }

  /** Bytes reserved now (for tests and reports). */
  reserved(): number {
    return this.regions.reduce((n, r) => n + r.size, 0);
  }
}

const align = (x: number) => Math.ceil(x / ALIGN) * ALIGN;

/** Arrays made in one region of the heap. */
export interface HeapArrays {
  /** An array of `n` elements of `dtype` in the region. */
  allocate(dtype: "float32" | "float64", n: number): Float32Array | Float64Array;
}

/** Gives a region back once every array made in it has been collected. */
const collected = new FinalizationRegistry<{ heap: WasmHeap; at: number; bytes: number; live: number }>((r) => {
  if (--r.live === 0) r.heap.freeArrays(r.at, r.bytes);
});


let heap: WasmHeap | null | undefined;

/** The process's shared heap, or null where shared WebAssembly memory is unavailable. */
export function wasmHeap(): WasmHeap | null {
  if (heap !== undefined) return heap;
  heap = null;
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown; WebAssembly?: unknown };
  if (typeof g.WebAssembly !== "object" || typeof g.SharedArrayBuffer !== "function" || (g.document !== undefined && g.crossOriginIsolated !== true)) return null;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: HEAP_MAX_PAGES, shared: true });
    trackMemory("heap", memory);
    heap = new WasmHeap(memory);
  } catch {
    heap = null;
  }
  return heap;
}
