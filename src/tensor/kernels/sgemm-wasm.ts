/**
 * The float32 matrix product's kernel in WebAssembly SIMD (f32x4, float32 accumulation, as BLAS does), generated
 * here as bytes (no toolchain; reproducible from a clean clone). The module imports its memory, so one module
 * serves one thread or several: where `SharedArrayBuffer` is available the memory is shared and the worker pool
 * (threads.ts) instantiates the same module on it.
 *
 * Layout in memory (float32, offsets in bytes, 16-aligned), after the pool's control page:
 * - A in row panels of MR rows: the panel of rows i..i+MR-1 holds, for p = 0..k-1, A[i..i+MR-1][p] (rows past
 *   m are 0);
 * - B in column panels of NR columns: the panel of columns j..j+NR-1 holds, for p = 0..k-1, B[p][j..j+NR-1]
 *   (columns past n are 0);
 * - C row-major, mp × np (m, n rounded up to MR, NR), zeroed by the caller, then accumulated into.
 *
 * `gemm(pa, pb, pc, k, np, i0, i1, j0, j1)` computes the block C[i0..i1)[j0..j1) (i0, i1 multiples of MR; j0, j1
 * of NR): K blocks of KB terms one after the other; within one, row blocks of MC rows (their A panels stay in
 * L2); within that, each B panel (KB × NR floats, in L1) against the block's A panels, in MR × NR register tiles
 * (MR·NR/4 f32x4 accumulators). Each output is summed in the same order whichever block it is computed in, so
 * splitting C among threads never changes a result.
 */
import { trackMemory } from "../../backend/index.js";
import type { TypedArray } from "../ndarray.js";
import { packPanels } from "./pack.js";
import { getNumThreads, POOL_BYTES, WasmPool } from "./threads.js";
import { add, body, call, forLoop, get, tee, i32, I32, i32FuncType, ltU, minU, mul, name, section, set, shl, simd, sub, uleb, V128, vec } from "../../backend/wasm-encoder.js";

/**
 * Register tile: MR rows × NR columns (NR/4 vectors per row): 8 accumulators + 2 B vectors + a splat. (6 × 8, 4 × 12,
 * 8 × 8 measured slower: 16 vector registers on x64, and V8 spills.)
 */
export const MR = 4, NR = 8;
/** K block (terms summed in registers before C is touched) and rows per L2 block. */
export const KB = 256;
const MC = 96;

const load = (off: number) => simd(0x00, 4, ...uleb(off));
const splat32 = (off: number) => simd(0x09, 2, ...uleb(off));
const store = (off: number) => simd(0x0b, 4, ...uleb(off));
const zero = simd(0x0c, ...new Array<number>(16).fill(0));
const f32x4add = simd(0xe4), f32x4mul = simd(0xe6);

/** tile(a, b, c, kc, ldc): C[0..MR)[0..NR) += Σ over kc terms; ldc is C's row stride in bytes; kc ≥ 1. */
function tileBody(MR: number, NR: number): number[] {
  const A = 0, B = 1, C = 2, KC = 3, LDC = 4;
  const END = 5, X = 6, BV = 7, H = NR / 4, ACC = BV + H; // accumulator of row r, vector h: ACC + r·H + h
  const code: number[] = [];
  for (let i = 0; i < MR * H; i++) code.push(...zero, ...set(ACC + i));
  code.push(...get(A), ...get(KC), ...i32(4 * MR), ...mul, ...add, ...set(END));
  // do { one term: NR/4 vectors of B, each A value splat, MR·NR/4 multiply-adds } while (a < end)
  // (Unrolling this loop measured slower: V8 then keeps more vectors live than the 16 registers hold.)
  const step: number[] = [];
  for (let h = 0; h < H; h++) step.push(...get(B), ...load(16 * h), ...set(BV + h));
  for (let r = 0; r < MR; r++) {
    step.push(...get(A), ...splat32(4 * r), ...set(X));
    for (let h = 0; h < H; h++) step.push(...get(ACC + r * H + h), ...get(X), ...get(BV + h), ...f32x4mul, ...f32x4add, ...set(ACC + r * H + h));
  }
  step.push(...get(A), ...i32(4 * MR), ...add, ...set(A), ...get(B), ...i32(4 * NR), ...add, ...set(B));
  code.push(0x03, 0x40, ...step, ...get(A), ...get(END), ...ltU, 0x0d, 0, 0x0b);
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < H; h++) code.push(...get(C), ...get(C), ...load(16 * h), ...get(ACC + r * H + h), ...f32x4add, ...store(16 * h));
    if (r < MR - 1) code.push(...get(C), ...get(LDC), ...add, ...set(C));
  }
  return [...vec([[1, I32], [1 + H + MR * H, V128]]), ...code, 0x0b];
}

/** gemm(pa, pb, pc, k, np, i0, i1, j0, j1): the block C[i0..i1)[j0..j1) += A·B over the layout above. */
function gemmBody(MR: number, NR: number, KB: number, MC: number): number[] {
  const PA = 0, PB = 1, PC = 2, K = 3, NP = 4, I0 = 5, I1 = 6, J0 = 7, J1 = 8;
  const K0 = 9, KC = 10, IB = 11, IEND = 12, JP = 13, IP = 14, T = 15;
  const tile = [
    ...get(PA), ...get(IP), ...get(K), ...mul, ...get(K0), ...i32(MR), ...mul, ...add, ...i32(2), ...shl, ...add,
    ...get(PB), ...get(JP), ...get(K), ...mul, ...get(K0), ...i32(NR), ...mul, ...add, ...i32(2), ...shl, ...add,
    ...get(PC), ...get(IP), ...get(NP), ...mul, ...get(JP), ...add, ...i32(2), ...shl, ...add,
    ...get(KC), ...get(NP), ...i32(2), ...shl, ...call(0),
  ];
  const code = forLoop(K0, i32(0), get(K), i32(KB), [
    ...minU([...get(K), ...get(K0), ...sub], i32(KB), T), ...set(KC),
    ...forLoop(IB, get(I0), get(I1), i32(MC), [
      ...minU([...get(IB), ...i32(MC), ...add], get(I1), T), ...set(IEND),
      ...forLoop(JP, get(J0), get(J1), i32(NR), forLoop(IP, get(IB), get(IEND), i32(MR), tile)),
    ]),
  ]);
  return [...vec([[7, I32]]), ...code, 0x0b];
}

/**
 * pack(src, rs, cs, k, dst, q0, q1, R): panels q0..q1 (full ones: R rows each) of a strided matrix M (M[i][p] at
 * src + i·rs + p·cs bytes) into the panel layout above (panel q at dst + q·R·k·4: for each p, M[qR..qR+R-1][p]);
 * R is MR or NR. Rows along which M is contiguous (rs = 4) are copied as vectors.
 */
function packBody(): number[] {
  const SRC = 0, RS = 1, CS = 2, K = 3, DST = 4, Q0 = 5, Q1 = 6, R = 7;
  const Q = 8, S = 9, D = 10, DEND = 11, T = 12;
  const f32load = [0x2a, 2, 0], f32store = (off: number) => [0x38, 2, ...uleb(off)];
  const panels = (width: number, vector: boolean): number[] => {
    const term: number[] = [];
    if (vector) for (let h = 0; h < width / 4; h++) term.push(...get(D), ...get(S), ...load(16 * h), ...store(16 * h));
    else
      for (let r = 0; r < width; r++) {
        term.push(...get(D), ...get(T), ...f32load, ...f32store(4 * r));
        if (r < width - 1) term.push(...get(T), ...get(RS), ...add, ...set(T));
      }
    return forLoop(Q, get(Q0), get(Q1), i32(1), [
      ...get(SRC), ...get(Q), ...i32(width), ...mul, ...get(RS), ...mul, ...add, ...set(S),
      ...get(DST), ...get(Q), ...get(K), ...mul, ...i32(4 * width), ...mul, ...add, ...set(D),
      ...get(D), ...get(K), ...i32(4 * width), ...mul, ...add, ...set(DEND),
      0x03, 0x40,
      ...get(S), ...set(T), ...term,
      ...get(S), ...get(CS), ...add, ...set(S), ...get(D), ...i32(4 * width), ...add, ...tee(D), ...get(DEND), ...ltU, 0x0d, 0,
      0x0b,
    ]);
  };
  // if (R == MR) { if (rs == 4) vector MR else scalar MR } else { same for NR }
  const byStride = (width: number) => [...get(RS), ...i32(4), 0x46 /* eq */, 0x04, 0x40, ...panels(width, true), 0x05, ...panels(width, false), 0x0b];
  const code = [...get(R), ...i32(MR), 0x46, 0x04, 0x40, ...byStride(MR), 0x05, ...byStride(NR), 0x0b];
  return [...vec([[5, I32]]), ...code, 0x0b];
}

/** Largest memory the module may use, in 64 KiB pages (shared memory needs a maximum): 1 GiB. */
export const MAX_PAGES = 16384;

/** The module's bytes; `shared`: it imports a shared memory (for the worker pool) rather than a plain one. */
export function sgemmModuleBytes(shared: boolean, mr = MR, nr = NR, kb = KB, mc = MC): Uint8Array<ArrayBuffer> {
  const limits = shared ? [0x03, ...uleb(1), ...uleb(MAX_PAGES)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([i32FuncType(5), i32FuncType(9), i32FuncType(8)])),
    ...section(2, vec([[...name("env"), ...name("mem"), 0x02, ...limits]])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(7, vec([[...name("gemm"), 0x00, 1], [...name("pack"), 0x00, 2]])),
    ...section(10, vec([body(tileBody(mr, nr)), body(gemmBody(mr, nr, kb, mc)), body(packBody())])),
  ]);
}

// --- the instance and its workspace -----------------------------------------------------------------------

interface Sgemm {
  readonly memory: WebAssembly.Memory;
  readonly gemm: (pa: number, pb: number, pc: number, k: number, np: number, i0: number, i1: number, j0: number, j1: number) => void;
  readonly pack: (src: number, rs: number, cs: number, k: number, dst: number, q0: number, q1: number, R: number) => void;
  /** The worker pool, where the memory is shared. */
  readonly pool: WasmPool | null;
}

let sgemm: Sgemm | null | undefined;

function sharedMemory(): WebAssembly.Memory | null {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown };
  if (typeof g.SharedArrayBuffer !== "function" || (g.document !== undefined && g.crossOriginIsolated !== true)) return null;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  } catch {
    return null;
  }
}

/** The kernel, on shared memory with a worker pool where possible; null where WebAssembly SIMD is unavailable. */
function getSgemm(): Sgemm | null {
  if (sgemm !== undefined) return sgemm;
  sgemm = null;
  try {
    if (typeof WebAssembly !== "object") return null;
    const shared = sharedMemory();
    const bytes = sgemmModuleBytes(shared !== null);
    if (!WebAssembly.validate(bytes)) return null; // no SIMD
    const memory = shared ?? new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
    trackMemory("sgemm", memory);
    const module = new WebAssembly.Module(bytes);
    const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
    const pool = shared !== null ? new WasmPool(module, memory, instance, ["gemm", "pack"]) : null;
    sgemm = { memory, gemm: instance.exports["gemm"] as Sgemm["gemm"], pack: instance.exports["pack"] as Sgemm["pack"], pool };
  } catch {
    sgemm = null;
  }
  return sgemm;
}

/** True where the float32 WebAssembly kernel can run. */
export function sgemmAvailable(): boolean {
  return getSgemm() !== null;
}

/** The pool the kernel runs on (null: one thread only), for tests. */
export function sgemmPool(): WasmPool | null {
  return getSgemm()?.pool ?? null;
}

/** Below this many multiply-adds a product runs on the calling thread only. */
const PARALLEL_MIN_WORK = 1 << 21;

/**
 * A float32 product C (m×n) = A (m×k) · B (k×n) in the module's memory: `packA` and `packB` take each operand
 * as strided in its typed array (element offset and strides; B given as its n columns, so `rs` is B's column
 * stride and `cs` its row stride — a transposed view is just other strides), `run` computes C into `out` at
 * `outOffset` (row-major m×n). For a batch, pack only the operands that change between runs.
 */
export interface SgemmSession {
  packA(data: TypedArray, off: number, rs: number, cs: number): void;
  packB(data: TypedArray, off: number, rs: number, cs: number): void;
  run(out: Float32Array, outOffset: number): void;
}

/** A session for m×k·k×n products (k ≥ 1), or null where the kernel is unavailable or the product too large. */
export function sgemmSession(m: number, n: number, k: number): SgemmSession | null {
  const s = getSgemm();
  if (s === null) return null;
  const mp = Math.ceil(m / MR) * MR, np = Math.ceil(n / NR) * NR;
  const pa = POOL_BYTES, pb = pa + mp * k * 4, pc = pb + np * k * 4, raw = pc + mp * np * 4;
  const rawA = raw, rawB = rawA + m * k * 4, end = rawB + n * k * 4;
  if (end > MAX_PAGES * 65536) return null;
  const grow = (bytes: number) => {
    const have = s.memory.buffer.byteLength;
    if (bytes > have) s.memory.grow(Math.ceil((bytes - have) / 65536));
    return s.memory.buffer;
  };
  grow(end);
  const threads = s.pool === null || m * n * k < PARALLEL_MIN_WORK ? 1 : getNumThreads();
  let packRows: number[][] = [];
  /** Packs rows×k operand X into the panels at `dst`, by the module where it can read X from a copy in memory. */
  const pack = (data: TypedArray, off: number, rs: number, cs: number, rows: number, R: number, dst: number, rawAt: number) => {
    const full = Math.floor(rows / R), span = (rows - 1) * rs + (k - 1) * cs + 1;
    let done = 0;
    if (data instanceof Float32Array && full > 0 && rs >= 0 && cs >= 0 && span <= rows * k) {
      new Float32Array(grow(rawAt + span * 4), rawAt, span).set(data.subarray(off, off + span));
      const pieces = Math.min(full, threads === 1 ? 1 : 2 * threads);
      for (let i = 0; i < pieces; i++) {
        const q0 = Math.round((i * full) / pieces), q1 = Math.round(((i + 1) * full) / pieces);
        if (q1 > q0) packRows.push([rawAt, rs * 4, cs * 4, k, dst, q0, q1, R]);
      }
      done = full * R;
    }
    // The rest (a partial last panel, or everything where the module cannot read the source) in JavaScript.
    if (done < rows) {
      const padded = Math.ceil(rows / R) * R;
      const view = new Float32Array(s.memory.buffer, dst + done * k * 4, (padded - done) * k);
      packPanels(data, off + done * rs, rs, cs, rows - done, k, padded - done, view, R);
    }
  };
  return {
    packA: (data, off, rs, cs) => pack(data, off, rs, cs, m, MR, pa, rawA),
    packB: (data, off, rs, cs) => pack(data, off, rs, cs, n, NR, pb, rawB),
    run(out, outOffset) {
      if (packRows.length > 0) {
        if (threads === 1) for (const r of packRows) s.pack(...(r as Parameters<Sgemm["pack"]>));
        else s.pool!.run("pack", packRows);
        packRows = [];
      }
      const C = new Float32Array(s.memory.buffer, pc, mp * np);
      C.fill(0);
      if (threads === 1) s.gemm(pa, pb, pc, k, np, 0, mp, 0, np);
      else s.pool!.run("gemm", chunks(mp, np, threads).map(([i0, i1, j0, j1]) => [pa, pb, pc, k, np, i0, i1, j0, j1]));
      if (np === n) out.set(C.subarray(0, m * n), outOffset);
      else for (let i = 0, o = outOffset; i < m; i++, o += n) out.set(C.subarray(i * np, i * np + n), o);
    },
  };
}
/**
 * Splits C (mp × np) into about 3 blocks per thread (more blocks than threads: a thread that is slow, on a busy
 * machine, takes fewer), across columns first (each block then reads all of A and its own part of B), aligned
 * to the register tile. Any split gives the same results.
 */
function chunks(mp: number, np: number, threads: number): [number, number, number, number][] {
  const want = 3 * threads;
  const colPanels = np / NR, cols = Math.min(colPanels, want), rows = Math.min(mp / MR, Math.ceil(want / cols));
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
