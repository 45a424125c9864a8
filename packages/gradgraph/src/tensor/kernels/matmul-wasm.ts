/**
 * The matrix product's inner kernel in WebAssembly SIMD (f64x2), encoded here as bytes (no toolchain, no
 * runtime dependency; the module is a few hundred bytes, so it is compiled synchronously, in browsers too).
 *
 * It computes exactly what `gemmPacked` (matmul.ts) computes, in the same order: per output, blocks of KB = 256
 * terms are summed in float64 one after the other (s = s + a·b, no fused multiply-add), and each block's sum is
 * added to the output. The results are therefore bit-identical to the JavaScript kernel; the speed comes from
 * two lanes per instruction and a 4×4 register tile (8 f64x2 accumulators) kept in registers over each K block.
 *
 * Layout in the module's memory (float64, all offsets in bytes, 16-aligned):
 * - A in row panels of 4 rows: panel q holds, for p = 0..k-1, the 4 values A[4q..4q+3][p] (rows past m are 0);
 * - B in column panels of 4 columns: panel q holds, for p = 0..k-1, the 4 values B[p][4q..4q+3] (columns past n
 *   are 0);
 * - C row-major, mp × np (m and n rounded up to multiples of 4), zeroed by the caller, then accumulated into.
 * Loops: K blocks of 256; within one, row blocks of MC = 64 rows (A's block stays in L2); within that, each B
 * panel (256 × 4, 8 KB, in L1) against the block's A panels.
 */
import { trackMemory } from "../../backend/index.js";
import { add, body, call, forLoop, get, gtU, i32, I32, ltU, mul, name, section, select, set, shl, simd, sub, uleb, V128, vec } from "../../backend/wasm-encoder.js";

/** K block: must equal matmul.ts's KB for bit-identical results. */
export const WASM_KB = 256;
/** Rows of A per L2 block. */
const MC = 64;

const load = (off: number) => simd(0x00, 4, ...uleb(off));
const splat64 = (off: number) => simd(0x0a, 3, ...uleb(off));
const store = (off: number) => simd(0x0b, 4, ...uleb(off));
const zero = simd(0x0c, ...new Array<number>(16).fill(0));
const f64x2add = simd(0xf0), f64x2mul = simd(0xf2);

/**
 * tile(a, b, c, kc, ldc): C[0..3][0..3] += sums over kc terms; a and b point at the panels' first term (32
 * bytes per term), c at C's corner, ldc is C's row stride in bytes. kc ≥ 1.
 */
function tileBody(): number[] {
  const A = 0, B = 1, C = 2, KC = 3, LDC = 4;
  const END = 5, X = 6, B0 = 7, B1 = 8, ACC = 9; // ACC..ACC+7: row r, half h at ACC + 2r + h
  const code: number[] = [];
  for (let i = 0; i < 8; i++) code.push(...zero, ...set(ACC + i));
  code.push(...get(A), ...get(KC), ...i32(5), ...shl, ...add, ...set(END));
  const step: number[] = [...get(B), ...load(0), ...set(B0), ...get(B), ...load(16), ...set(B1)];
  for (let r = 0; r < 4; r++) {
    step.push(...get(A), ...splat64(8 * r), ...set(X));
    for (let h = 0; h < 2; h++) step.push(...get(ACC + 2 * r + h), ...get(X), ...get(B0 + h), ...f64x2mul, ...f64x2add, ...set(ACC + 2 * r + h));
  }
  step.push(...get(A), ...i32(32), ...add, ...set(A), ...get(B), ...i32(32), ...add, ...set(B));
  code.push(0x03, 0x40, ...step, ...get(A), ...get(END), ...ltU, 0x0d, 0, 0x0b);
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) code.push(...get(C), ...get(C), ...load(16 * h), ...get(ACC + 2 * r + h), ...f64x2add, ...store(16 * h));
    if (r < 3) code.push(...get(C), ...get(LDC), ...add, ...set(C));
  }
  const locals = vec([[1, I32], [3, V128], [8, V128]]);
  return [...locals, ...code, 0x0b];
}

/** gemm(pa, pb, pc, mp, np, k): C += A·B over the packed layout above (mp, np multiples of 4, k ≥ 1). */
function gemmBody(): number[] {
  const PA = 0, PB = 1, PC = 2, MP = 3, NP = 4, K = 5;
  const K0 = 6, KC = 7, I0 = 8, IEND = 9, JP = 10, IP = 11;
  // kc = min(k - k0, KB)
  const kc = [...i32(WASM_KB), ...get(K), ...get(K0), ...sub, ...set(KC), ...get(KC), ...get(KC), ...i32(WASM_KB), ...gtU, ...select, ...set(KC)];
  // iend = min(i0 + MC, mp)
  const iend = [...get(MP), ...get(I0), ...i32(MC), ...add, ...set(IEND), ...get(IEND), ...get(IEND), ...get(MP), ...gtU, ...select, ...set(IEND)];
  // tile(pa + (ip·k + 4·k0)·8, pb + (jp·k + 4·k0)·8, pc + (ip·np + jp)·8, kc, np·8)
  const x8 = [...i32(3), ...shl];
  const tile = [
    ...get(PA), ...get(IP), ...get(K), ...mul, ...get(K0), ...i32(2), ...shl, ...add, ...x8, ...add,
    ...get(PB), ...get(JP), ...get(K), ...mul, ...get(K0), ...i32(2), ...shl, ...add, ...x8, ...add,
    ...get(PC), ...get(IP), ...get(NP), ...mul, ...get(JP), ...add, ...x8, ...add,
    ...get(KC), ...get(NP), ...x8, ...call(0),
  ];
  const code = forLoop(K0, i32(0), get(K), i32(WASM_KB), [
    ...kc,
    ...forLoop(I0, i32(0), get(MP), i32(MC), [
      ...iend,
      ...forLoop(JP, i32(0), get(NP), i32(4), forLoop(IP, get(I0), get(IEND), i32(4), tile)),
    ]),
  ]);
  return [...vec([[6, I32]]), ...code, 0x0b];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const tileType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0];
  const gemmType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([tileType, gemmType])),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name("gemm"), 0x00, 1], [...name("mem"), 0x02, 0]])),
    ...section(10, vec([body(tileBody()), body(gemmBody())])),
  ]);
}

// --- the instance -----------------------------------------------------------------------------------------

interface Instance {
  readonly gemm: (pa: number, pb: number, pc: number, mp: number, np: number, k: number) => void;
  readonly mem: WebAssembly.Memory;
}

let instance: Instance | null | undefined;

/** The module's instance, or null where WebAssembly or its SIMD is unavailable (or compiling is forbidden). */
function getInstance(): Instance | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    if (typeof WebAssembly !== "object") return null;
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return null; // no SIMD
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    instance = { gemm: exports["gemm"] as Instance["gemm"], mem: exports["mem"] as WebAssembly.Memory };
    trackMemory("dgemm", instance.mem);
  } catch {
    instance = null;
  }
  return instance;
}

/** True where the WebAssembly kernel can run. */
export function wasmAvailable(): boolean {
  return getInstance() !== null;
}

/** The module's bytes (for tests: size, validation). */
export const wasmModuleBytes = moduleBytes;

/**
 * Workspace for one product: float64 views of the packed A (mp·k), B (np·k) and C (mp·np) in the module's
 * memory, grown as needed. Views are valid until the next call.
 */
export interface Workspace {
  readonly A: Float64Array;
  readonly B: Float64Array;
  readonly C: Float64Array;
  /** Runs the product C += A·B. */
  run(): void;
}

export function workspace(mp: number, np: number, k: number): Workspace | null {
  const inst = getInstance();
  if (inst === null) return null;
  const aBytes = mp * k * 8, bBytes = np * k * 8, cBytes = mp * np * 8;
  const total = aBytes + bBytes + cBytes;
  if (total > 2 ** 31) return null; // beyond i32 addressing: the JavaScript kernel handles it
  const have = inst.mem.buffer.byteLength;
  if (total > have) inst.mem.grow(Math.ceil((total - have) / 65536));
  const buf = inst.mem.buffer;
  return {
    A: new Float64Array(buf, 0, mp * k),
    B: new Float64Array(buf, aBytes, np * k),
    C: new Float64Array(buf, aBytes + bBytes, mp * np),
    run: () => inst.gemm(0, aBytes, aBytes + bBytes, mp, np, k),
  };
}
