/**
 * The float32 matrix product's kernel in WebAssembly SIMD (f32x4, float32 accumulation, as BLAS does; relaxed
 * SIMD's multiply-add where it validates, see `relaxedSimd`), generated here as bytes (no toolchain; reproducible
 * from a clean clone). The module imports its memory, so one module serves one thread or several: where
 * `SharedArrayBuffer` is available the memory is shared and the worker pool (threads.ts) instantiates the same
 * module on it.
 *
 * Operands are read where they lie in memory, with any strides (in bytes): A[i][p] at a + i·ars + p·acs, B[p][j]
 * at b + j·brs + p·bcs, so a transposed operand is just other strides and nothing is packed beforehand. C is
 * row-major with row stride ldc (floats).
 *
 * `gemm(a, ars, acs, b, brs, bcs, c, ldc, k, i0, i1, j0, j1, s)` computes the block C[i0..i1)[j0..j1) (i0, i1
 * multiples of MR; j0, j1 of NR; rows and columns past the matrix are computed from whatever lies there and are
 * the caller's to discard): K blocks of KB terms one after the other; within one, row blocks of MC rows; within
 * that, each panel of NR columns of B is packed into the scratch at s (KB·NR floats, stays in L1) and multiplied
 * by the block's rows of A in MR × NR register tiles (MR·NR/4 f32x4 accumulators). The first K block stores into
 * C (no zeroing), the others add. Each output is summed in the same order whichever block it is computed in, so
 * splitting C among threads never changes a result.
 */
import { HEAP_MAX_PAGES, wasmHeap, type WasmHeap } from "../../backend/heap.js";
import { trackMemory } from "../../backend/index.js";
import type { TypedArray } from "../ndarray.js";
import { copyRows } from "./pack.js";
import { getNumThreads, POOL_BYTES, WasmPool } from "./threads.js";
import { add, body, call, forLoop, get, tee, i32, I32, i32FuncType, ltU, minU, mul, name, section, set, shl, simd, sub, uleb, V128, vec } from "../../backend/wasm-encoder.js";

/**
 * Register tile: MR rows × NR columns (NR/4 vectors per row): 8 accumulators + 2 B vectors + a splat. (6 × 8, 4 × 12,
 * 8 × 8 measured slower: V8 uses 15 of x64's 16 vector registers and spills.)
 */
export const MR = 4, NR = 8;
/** K block (terms summed in registers before C is touched) and rows per row block. */
export const KB = 256;
const MC = 256;
/** Bytes of scratch one chunk of a job needs (its packed panel of B). */
export const SCRATCH_BYTES = KB * NR * 4;

const load = (off: number) => simd(0x00, 4, ...uleb(off));
const splat32 = (off: number) => simd(0x09, 2, ...uleb(off));
const store = (off: number) => simd(0x0b, 4, ...uleb(off));
const zero = simd(0x0c, ...new Array<number>(16).fill(0));
const f32x4add = simd(0xe4), f32x4mul = simd(0xe6);
/** Relaxed SIMD's fused multiply-add: a·b + c (fused where the CPU has FMA). */
const relaxedMadd = simd(0x105);
const f32load = (off: number) => [0x2a, 2, ...uleb(off)], f32store = (off: number) => [0x38, 2, ...uleb(off)];
const eq = [0x46], eqz = [0x45];

/**
 * tile(a, ars, acs, b, c, kc, ldc, first): C[0..MR)[0..NR) (+)= Σ over kc terms of A's rows (strides ars, acs in
 * bytes) times the packed panel at b (NR floats per term); stored where `first` (the first K block), added
 * otherwise; ldc is C's row stride in bytes; kc ≥ 1.
 */
function tileBody(MR: number, NR: number, fma: boolean): number[] {
  const A = 0, ARS = 1, ACS = 2, B = 3, C = 4, KC = 5, LDC = 6, FIRST = 7;
  const END = 8, ROW = 9; // ROW + r − 1: r·ars, for r = 1..MR−1
  const X = ROW + MR - 1, BV = X + 1, H = NR / 4, ACC = BV + H; // accumulator of row r, vector h: ACC + r·H + h
  const code: number[] = [];
  for (let r = 1; r < MR; r++) code.push(...get(ARS), ...i32(r), ...mul, ...set(ROW + r - 1));
  for (let i = 0; i < MR * H; i++) code.push(...zero, ...set(ACC + i));
  code.push(...get(B), ...get(KC), ...i32(4 * NR), ...mul, ...add, ...set(END));
  // do { one term: NR/4 vectors of B, each A value splat, MR·NR/4 multiply-adds } while (b < end)
  // (Unrolling this loop measured slower: V8 then keeps more vectors live than the registers hold.)
  const madd = (acc: number, x: number[], b: number[]) =>
    fma ? [...x, ...b, ...get(acc), ...relaxedMadd, ...set(acc)] : [...get(acc), ...x, ...b, ...f32x4mul, ...f32x4add, ...set(acc)];
  const step: number[] = [];
  for (let h = 0; h < H; h++) step.push(...get(B), ...load(16 * h), ...set(BV + h));
  for (let r = 0; r < MR; r++) {
    step.push(...get(A), ...(r === 0 ? [] : [...get(ROW + r - 1), ...add]), ...splat32(0), ...set(X));
    for (let h = 0; h < H; h++) step.push(...madd(ACC + r * H + h, get(X), get(BV + h)));
  }
  step.push(...get(A), ...get(ACS), ...add, ...set(A), ...get(B), ...i32(4 * NR), ...add, ...tee(B), ...get(END), ...ltU);
  code.push(0x03, 0x40, ...step, 0x0d, 0, 0x0b);
  const write = (first: boolean) => {
    const out: number[] = [];
    for (let r = 0; r < MR; r++) {
      for (let h = 0; h < H; h++)
        out.push(...get(C), ...(first ? [] : [...get(C), ...load(16 * h)]), ...get(ACC + r * H + h), ...(first ? [] : f32x4add), ...store(16 * h));
      if (r < MR - 1) out.push(...get(C), ...get(LDC), ...add, ...set(C));
    }
    return out;
  };
  code.push(...get(FIRST), 0x04, 0x40, ...write(true), 0x05, ...write(false), 0x0b);
  return [...vec([[MR, I32], [1 + H + MR * H, V128]]), ...code, 0x0b];
}

/** gemm(a, ars, acs, b, brs, bcs, c, ldc, k, i0, i1, j0, j1, s): the block C[i0..i1)[j0..j1) as described above. */
function gemmBody(MR: number, NR: number, KB: number, MC: number): number[] {
  const A = 0, ARS = 1, ACS = 2, B = 3, BRS = 4, BCS = 5, C = 6, LDC = 7, K = 8, I0 = 9, I1 = 10, J0 = 11, J1 = 12, S = 13;
  const K0 = 14, KC = 15, IB = 16, IEND = 17, JP = 18, IP = 19, T = 20, SRC = 21, D = 22, DEND = 23;
  // The panel: for each of kc terms, B[k0 + p][jp..jp+NR) to s + p·NR·4; as vectors where B's rows are contiguous.
  const term = (vector: boolean): number[] => {
    const t: number[] = [];
    if (vector) for (let h = 0; h < NR / 4; h++) t.push(...get(D), ...get(SRC), ...load(16 * h), ...store(16 * h));
    else
      for (let j = 0; j < NR; j++) {
        t.push(...get(D), ...get(T), ...f32load(0), ...f32store(4 * j));
        if (j < NR - 1) t.push(...get(T), ...get(BRS), ...add, ...set(T));
      }
    return [
      0x03, 0x40,
      ...get(SRC), ...set(T), ...t,
      ...get(SRC), ...get(BCS), ...add, ...set(SRC), ...get(D), ...i32(4 * NR), ...add, ...tee(D), ...get(DEND), ...ltU, 0x0d, 0,
      0x0b,
    ];
  };
  const panel = [
    ...get(B), ...get(JP), ...get(BRS), ...mul, ...add, ...get(K0), ...get(BCS), ...mul, ...add, ...set(SRC),
    ...get(S), ...set(D), ...get(S), ...get(KC), ...i32(4 * NR), ...mul, ...add, ...set(DEND),
    ...get(BRS), ...i32(4), ...eq, 0x04, 0x40, ...term(true), 0x05, ...term(false), 0x0b,
  ];
  const tile = [
    ...get(A), ...get(IP), ...get(ARS), ...mul, ...add, ...get(K0), ...get(ACS), ...mul, ...add, ...get(ARS), ...get(ACS),
    ...get(S),
    ...get(C), ...get(IP), ...get(LDC), ...mul, ...get(JP), ...add, ...i32(2), ...shl, ...add,
    ...get(KC), ...get(LDC), ...i32(2), ...shl, ...get(K0), ...eqz, ...call(0),
  ];
  const code = forLoop(K0, i32(0), get(K), i32(KB), [
    ...minU([...get(K), ...get(K0), ...sub], i32(KB), T), ...set(KC),
    ...forLoop(IB, get(I0), get(I1), i32(MC), [
      ...minU([...get(IB), ...i32(MC), ...add], get(I1), T), ...set(IEND),
      ...forLoop(JP, get(J0), get(J1), i32(NR), [...panel, ...forLoop(IP, get(IB), get(IEND), i32(MR), tile)]),
    ]),
  ]);
  return [...vec([[10, I32]]), ...code, 0x0b];
}

/** Largest memory the module may use, in 64 KiB pages (shared memory needs a maximum): the heap's. */
const MAX_PAGES = HEAP_MAX_PAGES;

/** The module's bytes; `shared`: it imports a shared memory (for the worker pool) rather than a plain one. */
export function sgemmModuleBytes(shared: boolean, fma = false, mr = MR, nr = NR, kb = KB, mc = MC): Uint8Array<ArrayBuffer> {
  const limits = shared ? [0x03, ...uleb(1), ...uleb(MAX_PAGES)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([i32FuncType(8), i32FuncType(14)])),
    ...section(2, vec([[...name("env"), ...name("mem"), 0x02, ...limits]])),
    ...section(3, vec([[0], [1]])),
    ...section(7, vec([[...name("gemm"), 0x00, 1]])),
    ...section(10, vec([body(tileBody(mr, nr, fma)), body(gemmBody(mr, nr, kb, mc))])),
  ]);
}

// --- the instance and its workspace -----------------------------------------------------------------------

interface Sgemm {
  readonly memory: WebAssembly.Memory;
  /** Whether the kernel uses relaxed SIMD's multiply-add. */
  readonly fma: boolean;
  readonly gemm: (...args: GemmArgs) => void;
  /** The worker pool, where the memory is shared. */
  readonly pool: WasmPool | null;
  /** The shared heap the memory is (arenas live in it too), or null: a memory of the kernel's own. */
  readonly heap: WasmHeap | null;
  /** Which of the two workspaces the last product split across threads used (see `sessionOn`). */
  flip: boolean;
}

let sgemm: Sgemm | null | undefined;

/** The kernel, on shared memory with a worker pool where possible; null where WebAssembly SIMD is unavailable. */
function getSgemm(): Sgemm | null {
  if (sgemm !== undefined) return sgemm;
  sgemm = null;
  try {
    if (typeof WebAssembly !== "object") return null;
    const heap = wasmHeap();
    const fma = relaxedSimd(heap !== null);
    const bytes = sgemmModuleBytes(heap !== null, fma);
    if (!WebAssembly.validate(bytes)) return null; // no SIMD
    if (heap === null) return (sgemm = ownSgemm(fma));
    const module = new WebAssembly.Module(bytes);
    const instance = new WebAssembly.Instance(module, { env: { mem: heap.memory } });
    const pool = new WasmPool(module, heap.memory, instance, ["gemm"]);
    sgemm = { memory: heap.memory, fma, gemm: instance.exports["gemm"] as Sgemm["gemm"], pool, heap, flip: false };
  } catch {
    sgemm = null;
  }
  return sgemm;
}

let own: Sgemm | null | undefined;

/**
 * The kernel on a memory of its own (one thread): where there is no shared heap, and for a product whose
 * workspace the shared heap has no room for (its regions held up to its maximum) — the same kernel, so the same
 * numbers as in the heap.
 */
function ownSgemm(fma: boolean): Sgemm | null {
  if (own !== undefined) return own;
  own = null;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(sgemmModuleBytes(false, fma)), { env: { mem: memory } });
    trackMemory("sgemm", memory);
    own = { memory, fma, gemm: instance.exports["gemm"] as Sgemm["gemm"], pool: null, heap: null, flip: false };
  } catch {
    // no memory to be had: the caller falls back
  }
  return own;
}

/**
 * Whether the kernel with relaxed SIMD's multiply-add validates here. Node 20's V8 has relaxed SIMD behind a flag
 * (shipped from V8 11.4, Chrome 114, Node 22): where the module does not validate and `node:v8` is reachable, the
 * flag is turned on for this process (it adds instructions, changes no existing behaviour) and the module tried
 * again. `GRADGRAPH_RELAXED_SIMD=0` keeps the plain f32x4 kernel.
 */
function relaxedSimd(shared: boolean): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (name: string) => unknown } }).process;
  if (proc?.env?.["GRADGRAPH_RELAXED_SIMD"] === "0") return false;
  const bytes = sgemmModuleBytes(shared, true);
  if (WebAssembly.validate(bytes)) return true;
  const v8 = proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString?: (flags: string) => void } | undefined;
  if (typeof v8?.setFlagsFromString !== "function") return false;
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether the float32 kernel uses relaxed SIMD's multiply-add (false also where it cannot run). */
export function sgemmFma(): boolean {
  return getSgemm()?.fma ?? false;
}

/** True where the float32 WebAssembly kernel can run. */
export function sgemmAvailable(): boolean {
  return getSgemm() !== null;
}

/**
 * Runs `fn` with the kernel's worker pool held (`WasmPool.held`): its workers spin between products instead of
 * sleeping, for a run of split products (`productSplits`) that come close together (a compiled step).
 */
export function withProductThreadsHeld<T>(fn: () => T): T {
  const pool = getSgemm()?.pool ?? null;
  return pool === null || getNumThreads() === 1 ? fn() : pool.held(fn);
}

/** The pool the kernel runs on (null: one thread only), for tests. */
export function sgemmPool(): WasmPool | null {
  return getSgemm()?.pool ?? null;
}

/**
 * Below this many multiply-adds (2²³: a 128×256·256×256 product still splits) a product runs on the calling thread
 * only. Handing a job to the pool and waiting for its last chunk cost more than a second thread gains on smaller
 * ones: the MNIST epoch (784-128-10, batch 64: products of 6.4M multiply-adds) took 242–259 ms compiled on 2
 * threads with this bound against 311–334 ms with 2²¹ (BENCHMARKS.md, "Threads for small products").
 */
const PARALLEL_MIN_WORK = 1 << 23;

/** Whether a float32 product of m×k by k×n is split across the worker pool (when it has more than one thread). */
export function productSplits(m: number, n: number, k: number): boolean {
  return m * n * k >= PARALLEL_MIN_WORK;
}

/** gemm's arguments: a, ars, acs, b, brs, bcs, c, ldc, k, i0, i1, j0, j1, s. */
type GemmArgs = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
/** The length of {@link GemmArgs}: one row of the pool's argument table. */
const GEMM_ARGS: GemmArgs["length"] = 14;

/**
 * A float32 product C (m×n) = A (m×k) · B (k×n) in the module's memory: `setA` and `setB` take each operand as
 * strided in its typed array (element offset and strides; B given as its n columns, so `rs` is B's column stride
 * and `cs` its row stride — a transposed view is just other strides); `run` computes C into `out` at `outOffset`
 * (row-major m×n). An operand already in the shared heap (a compiled step's arena) is read where it lies; any other
 * is copied into the module's memory as it lies (one `set`). Where `out` is in the heap and C needs no padding (m,
 * n multiples of the register tile), the kernel writes into it directly; otherwise into its workspace, then copied
 * out. For a batch, set only the operands that change between runs.
 */
export interface SgemmSession {
  setA(data: TypedArray, off: number, rs: number, cs: number): void;
  setB(data: TypedArray, off: number, rs: number, cs: number): void;
  run(out: Float32Array, outOffset: number): void;
}

/** An operand in the module's memory: its address and strides in bytes, and the end of what the kernel reads. */
interface Placed {
  at: number;
  rs: number;
  cs: number;
  end: number;
}

/** A session for m×k·k×n products (k ≥ 1), or null where the kernel is unavailable or the product too large. */
export function sgemmSession(m: number, n: number, k: number): SgemmSession | null {
  const s = getSgemm();
  if (s === null) return null;
  const fallback = () => {
    const o = s.heap === null ? null : ownSgemm(s.fma);
    return o === null ? null : sessionOn(o, m, n, k);
  };
  return sessionOn(s, m, n, k) ?? fallback();
}

/** Grows the memory of the kernel `s` to `end` bytes; false past its maximum. */
function growTo({ heap, memory }: Sgemm, end: number): boolean {
  if (heap !== null) return heap.ensure(end);
  if (end > MAX_PAGES * 65536) return false;
  const have = memory.buffer.byteLength;
  try {
    if (end > have) memory.grow(Math.ceil((end - have) / 65536));
  } catch {
    return false; // the runtime gives no more
  }
  return true;
}

/** A session on the kernel `s` (its memory, its pool), or null where its memory has no room for the product. */
function sessionOn(s: Sgemm, m: number, n: number, k: number): SgemmSession | null {
  const { heap, memory } = s;
  const mp = Math.ceil(m / MR) * MR, np = Math.ceil(n / NR) * NR;
  const threads = s.pool === null || !productSplits(m, n, k) ? 1 : getNumThreads();
  const blocks = chunks(mp, np, threads);
  const align = (x: number) => Math.ceil(x / 64) * 64;
  /** The workspace at `at`: A's and B's copies, the threads' packing scratch, C, and slack past C (see below). */
  const layout = (at: number) => {
    const rawA = at, rawB = align(rawA + m * k * 4), scratch = align(rawB + n * k * 4), pc = scratch + blocks.length * SCRATCH_BYTES;
    // Rows and columns of the padded tiles read past an operand (at most 2k floats per row, see `place`): slack.
    return { rawA, rawB, scratch, pc, end: pc + mp * np * 4 + (MR + NR) * 2 * k * 4 + 64 };
  };
  const ensure = (end: number) => growTo(s, end);
  // The workspace: above the heap's regions, or after the pool's block in a memory of the kernel's own. A product
  // split across threads takes the other of two workspaces than the last such product took (where there is room):
  // the second begins 64 KiB past the first's copies of A and B, over its scratch and C. The copies of A and B are
  // then written where the other thread did not read them last time: a copy into lines the other core has just
  // read waits for that core to give them up (BENCHMARKS.md, "W3": 0.20–0.25 ms for the copy-in after a two-thread
  // product against 0.08 alone). Placed past the whole first workspace instead, the second gained about half as much.
  const first = layout(heap?.top() ?? POOL_BYTES);
  let at = first;
  if (threads > 1 && (s.flip = !s.flip)) {
    const second = layout(first.scratch + 65536);
    if (ensure(second.end)) at = second;
  }
  const { rawA, rawB, scratch, pc } = at;
  if (at === first && !ensure(first.end)) return null;
  const A: Placed = { at: rawA, rs: 0, cs: 0, end: 0 }, B: Placed = { at: rawB, rs: 0, cs: 0, end: 0 };
  /** Whether C at `c` (m×n) would overlap an operand read where it lies. */
  const clash = (c: number) => [A, B].some((X) => X.end > c && X.at < c + m * n * 4);
  if (threads > 1) s.pool!.wake(); // the workers rouse while the operands are copied in
  /**
   * Puts a rows×k operand at X: where it lies when it is in the heap (strides ≥ 0; the memory then reaches past
   * the rows the padded tiles read); else copied to `X.at` as it lies where its span is compact (span ≤ rows·k,
   * strides ≥ 0: then a row stride is at most 2k, which bounds what the padded tiles read past it), row-major
   * otherwise.
   */
  const place = (X: Placed, at: number, data: TypedArray, off: number, rs: number, cs: number, rows: number, padded: number) => {
    if (rows === 1) rs = 0;
    if (heap !== null && data instanceof Float32Array && rs >= 0 && cs >= 0 && heap.owns(data)) {
      const here = data.byteOffset + off * 4;
      const end = here + ((padded - 1) * rs + (k - 1) * cs + 1) * 4;
      if (ensure(end)) {
        X.at = here;
        X.rs = rs * 4;
        X.cs = cs * 4;
        X.end = end;
        return;
      }
    }
    X.at = at;
    X.end = 0;
    const span = (rows - 1) * rs + (k - 1) * cs + 1;
    if (rs >= 0 && cs >= 0 && span <= rows * k) {
      new Float32Array(memory.buffer, at, span).set(data.subarray(off, off + span));
      X.rs = rs * 4;
      X.cs = cs * 4;
    } else {
      copyRows(data, off, rs, cs, rows, k, new Float32Array(memory.buffer, at, rows * k));
      X.rs = k * 4;
      X.cs = 4;
    }
  };
  const direct = heap !== null && mp === m && np === n;
  return {
    setA: (data, off, rs, cs) => place(A, rawA, data, off, rs, cs, m, mp),
    setB: (data, off, rs, cs) => place(B, rawB, data, off, rs, cs, n, np),
    run(out, outOffset) {
      let c = direct && heap.owns(out) ? out.byteOffset + outOffset * 4 : pc;
      const into = c !== pc && !clash(c);
      if (!into) c = pc;
      const args = ([i0, i1, j0, j1]: readonly number[], chunk: number): GemmArgs =>
        [A.at, A.rs, A.cs, B.at, B.rs, B.cs, c, np, k, i0!, i1!, j0!, j1!, scratch + chunk * SCRATCH_BYTES];
      if (threads === 1) s.gemm(...args([0, mp, 0, np], 0));
      else s.pool!.run("gemm", blocks.map(args));
      if (into) return;
      const C = new Float32Array(memory.buffer, pc, mp * np);
      if (np === n) out.set(C.subarray(0, m * n), outOffset);
      else for (let i = 0, o = outOffset; i < m; i++, o += n) out.set(C.subarray(i * np, i * np + n), o);
    },
  };
}
/**
 * Splits C (mp × np) into about 8 blocks per thread (more blocks than threads: a thread that starts late or is slow, on a busy
 * machine, takes fewer), across columns first (each block then reads all of A and its own part of B), aligned
 * to the register tile; never more blocks than the pool's argument table holds (past about 141 threads). Any
 * split gives the same results.
 */
function chunks(mp: number, np: number, threads: number): [number, number, number, number][] {
  const most = WasmPool.maxChunks(GEMM_ARGS), want = Math.min(8 * threads, most);
  const colPanels = np / NR, cols = Math.min(colPanels, want), rows = Math.min(mp / MR, Math.ceil(want / cols), Math.floor(most / cols));
  const out: [number, number, number, number][] = [];
  for (let r = 0; r < rows; r++) {
    const i0 = Math.round((r * mp) / MR / rows) * MR, i1 = Math.round(((r + 1) * mp) / MR / rows) * MR;
    for (let c = 0; c < cols; c++) {
      const j0 = Math.round((c * colPanels) / cols) * NR, j1 = Math.round(((c + 1) * colPanels) / cols) * NR;
      if (i1 > i0 && j1 > j0) out.push([i0, i1, j0, j1]);
    }
  }
  return out;
}
