import { afterEach, describe, expect, test } from "vitest";
import { HEAP_MAX_PAGES, HEAP_POOL_BYTES, WasmHeap, wasmHeap } from "../../packages/gradgraph/src/backend/heap.js";
import { wasmArena } from "../../packages/gradgraph/src/backend/wasm.js";
import { stridesOf, type Shape } from "../../packages/gradgraph/src/ops/shape.js";
import { tensorOps } from "../../packages/gradgraph/src/ops/index.js";
import { matmulKernel } from "../../packages/gradgraph/src/tensor/kernels/matmul.js";
import { setNumThreads } from "../../packages/gradgraph/src/tensor/kernels/threads.js";
import { NDArray } from "../../packages/gradgraph/src/tensor/ndarray.js";

afterEach(() => setNumThreads(2));

describe("WasmHeap regions", () => {
  const fresh = () => new WasmHeap(new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true }));

  test("regions start above the pool's block, 64-aligned, first fit; the workspace starts above the last", () => {
    const h = fresh();
    expect(h.top()).toBe(HEAP_POOL_BYTES);
    const a = h.reserve(100)!, b = h.reserve(1000)!, c = h.reserve(64)!;
    expect(a).toBe(HEAP_POOL_BYTES);
    expect(b).toBe(HEAP_POOL_BYTES + 128);
    expect(c).toBe(HEAP_POOL_BYTES + 128 + 1024);
    expect(h.top()).toBe(c + 64);
    h.free(b);
    expect(h.reserved()).toBe(128 + 64);
    expect(h.reserve(512)).toBe(b); // the gap b left
    expect(h.reserve(600)).toBe(c + 64); // no gap left that fits: above the last
    h.free(c + 64);
    expect(h.top()).toBe(c + 64);
  });

  test("the memory grows to hold a region, and a region past the maximum is refused", () => {
    const h = fresh();
    const at = h.reserve(200_000)!;
    expect(h.memory.buffer.byteLength).toBeGreaterThanOrEqual(at + 200_000);
    expect(h.reserve(64 * 65536)).toBeNull();
  });

  test("regions of arrays stop at their budget (what a loop that never yields could pin) and free it when given back", () => {
    const h = fresh();
    h.arraysBudget = 4096;
    const a = h.arrays(3000)!;
    expect(a).not.toBeNull();
    expect(h.arrays(2000)).toBeNull(); // 3008 + 2048 > 4096
    expect(h.reserve(2000)).not.toBeNull(); // plain regions (the kernels' scratch) are not counted
    const x = a.allocate("float32", 10);
    expect(h.owns(x)).toBe(true);
    h.freeArrays(HEAP_POOL_BYTES, 3008);
    expect(h.arrays(2000)).not.toBeNull();
  });

  test("views made before the memory grew are still the heap's", () => {
    const h = fresh();
    h.ensure(HEAP_POOL_BYTES + 16);
    const before = new Float32Array(h.buffer(), HEAP_POOL_BYTES, 4);
    h.ensure(8 * 65536);
    const after = new Float32Array(h.buffer(), HEAP_POOL_BYTES, 4);
    expect(h.owns(before) && h.owns(after)).toBe(true);
    expect(h.owns(new Float32Array(4))).toBe(false);
    after[0] = 5;
    expect(before[0]).toBe(5);
  });
});

/** A random m×n float32 matrix at `data` from element `offset`. */
function fill(data: Float32Array, size: number, seed: number): void {
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
}

const product = (a: NDArray, b: NDArray, into?: Float32Array) =>
  matmulKernel([a, b], undefined, tensorOps.matmul.shape([a.shape, b.shape], undefined), "float32", into).data;

describe.runIf(wasmHeap() !== null)("float32 products in the shared heap", () => {
  // Operands and output in an arena of the heap are read and written where they lie; the result is the same, bit
  // for bit, as from ordinary arrays (the same kernel, each entry summed in the same order).
  test.each([
    [1, [128, 784], [784, 256], false],
    [2, [128, 784], [784, 256], false],
    [2, [128, 256], [256, 10], false], // n not a multiple of the tile: C goes through the workspace
    [1, [5, 33], [33, 16], false], // m not a multiple of the tile
    [2, [256, 128], [128, 784], true], // a transposed operand (the weight gradient's xᵀ·g)
  ] as const)("%i thread(s), %j · %j, transposed %s", (threads, sa, sb, transpose) => {
    setNumThreads(threads);
    const size = (s: readonly number[]) => s[0]! * s[1]!;
    const arena = wasmArena(4 * (size(sa) + size(sb) + sa[0] * sb[1]), 3)!;
    const A = arena.allocate("float32", size(sa)) as Float32Array, B = arena.allocate("float32", size(sb)) as Float32Array;
    const C = arena.allocate("float32", sa[0] * sb[1]) as Float32Array;
    expect(wasmHeap()!.owns(A)).toBe(true);
    fill(A, A.length, 1);
    fill(B, B.length, 2);
    // `transpose`: A holds the operand transposed (k×m), read through a strided view
    const view = (data: Float32Array, shape: Shape, t: boolean) =>
      t ? new NDArray(data, [shape[0]!, shape[1]!], [1, shape[0]!], 0) : new NDArray(data, shape, stridesOf(shape), 0);
    const a = view(A, sa as unknown as Shape, transpose), b = view(B, sb as unknown as Shape, false);
    const inHeap = product(a, b, C);
    const plain = product(view(A.slice(), sa as unknown as Shape, transpose), view(B.slice(), sb as unknown as Shape, false));
    expect(inHeap).toBe(C);
    expect(Array.from(C)).toEqual(Array.from(plain));
  });

  test("an output overlapping an operand read in place is computed in the workspace first", () => {
    setNumThreads(1);
    const arena = wasmArena(4 * 2 * 64 * 64, 2)!;
    const A = arena.allocate("float32", 64 * 64) as Float32Array, B = arena.allocate("float32", 64 * 64) as Float32Array;
    fill(A, A.length, 3);
    fill(B, B.length, 4);
    const a = new NDArray(A, [64, 64]), b = new NDArray(B, [64, 64]);
    const expected = Array.from(product(new NDArray(A.slice(), [64, 64]), new NDArray(B.slice(), [64, 64])));
    product(a, b, A); // A = A·B: without the check, tiles written early would be read by later ones
    expect(Array.from(A)).toEqual(expected);
  });
});

describe.runIf(wasmHeap() !== null)("a float32 product when the heap is full", () => {
  test("runs the same kernel in a memory of its own: the same numbers as before", () => {
    setNumThreads(1);
    const A = new Float32Array(96 * 80), B = new Float32Array(80 * 72);
    fill(A, A.length, 5);
    fill(B, B.length, 6);
    const a = new NDArray(A, [96, 80]), b = new NDArray(B, [80, 72]);
    const before = Array.from(product(a, b));
    // The rest of the heap held (by arenas, state, …): no room for the product's workspace above them.
    const heap = wasmHeap()!;
    const at = heap.reserve(HEAP_MAX_PAGES * 65536 - heap.top() - 4096);
    expect(at).not.toBeNull();
    try {
      expect(Array.from(product(a, b))).toEqual(before);
    } finally {
      heap.free(at!);
    }
  });
});
