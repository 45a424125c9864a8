/**
 * A worker pool over a shared `WebAssembly.Memory`: a job runs one exported function of a WebAssembly module
 * once per row of an argument table, the rows ("chunks") shared out among the calling thread and the workers.
 * Used by the float32 matrix product (sgemm-wasm.ts); any kernel compiled into a module on the same memory can
 * use it (`WasmPool.run`).
 *
 * - Node: `worker_threads` (reached through `process.getBuiltinModule`, so no import a browser bundle would see);
 *   workers are `unref`ed and never keep the process alive. Browsers: `Worker` from a Blob, when
 *   `crossOriginIsolated` (shared memory needs it). Elsewhere, or with one thread, the caller runs every chunk.
 * - Thread count: `setNumThreads(n)`, else the environment variable `GRADGRAPH_NUM_THREADS` (both 1 to 256; a bad
 *   value of the variable is an InputError at the first use), else the number of cores (at most 64). n threads =
 *   the caller plus n − 1 workers.
 * - Protocol (Int32 words at the memory's byte 0; the rest of the first 64 KiB page holds the argument table):
 *   GEN is odd while no job is open. The caller writes the job, resets NEXT, makes GEN even and wakes the
 *   workers; everyone claims chunk indices with `Atomics.add(NEXT, 1)` until they run out. A worker registers in
 *   ACTIVE before it checks that GEN is still the job it woke for, and leaves ACTIVE when it has no more chunks.
 *   The caller, out of chunks, makes GEN odd (closing the job: late workers see it and go back to sleep) and
 *   waits for ACTIVE = 0 (Atomics.wait in Node; a spin on a browser's main thread, where waiting is forbidden).
 *   A chunk that throws (a trap) sets FAILED: no thread takes another chunk, the job is closed and waited for as
 *   usual, and the caller throws (the worker lives on), so a failure never leaves the caller waiting for ever.
 *   Workers that have not started yet simply take no chunks, so a job never waits for a thread to boot.
 * - Spinning and sleeping: a futex wake-up costs tens of microseconds, so a worker spins before it sleeps — but a
 *   spinning worker holds a core that the garbage collector's helper threads want, and with them on a machine of
 *   two cores the caller itself loses time (BENCHMARKS.md, "Two threads and the garbage collector"). So a worker
 *   spins briefly after a job (JOB_SPIN_MS), longer when roused ahead of one (`wake()`: GEN += 2, still odd;
 *   WAKE_SPIN_MS), and for as long as the pool is *held* (`held(fn)`: a compiled step, whose products come close
 *   together; up to HOLD_SPIN_MS without a job); a caller waiting for the last chunks spins JOB_SPIN_MS, then
 *   sleeps. Sleepers count themselves in SLEEPERS, a waiting caller sets
 *   WAITER, so a notify (a system call) is made only when someone sleeps: each side stores its flag before it
 *   waits and the other reads it after its own store (sequentially consistent), so no wake-up is lost.
 * - Fewer threads: a worker is never terminated from outside (one stopped between joining ACTIVE and leaving it
 *   would leave every later caller waiting for ever). Each worker owns a slot word (SLOTS + k): the pool sets it
 *   to QUIT and rouses the workers; a worker reads it only where it holds nothing (idle, out of ACTIVE), frees the
 *   slot and returns, which ends its thread. A slot is reused only once its worker has freed it.
 * - Which thread runs a chunk never changes what it computes: results do not depend on the thread count.
 */
import { HEAP_POOL_BYTES } from "../../backend/heap.js";
import { InputError } from "../../core/errors.js";
import { describe } from "../args.js";

/** Bytes at the start of the memory reserved for the pool (control words and argument table). */
export const POOL_BYTES = HEAP_POOL_BYTES;
const GEN = 0, ACTIVE = 1, NEXT = 2, FN = 3, NARGS = 4, TOTAL = 5, READY = 6, SLEEPERS = 7, WAITER = 8, FAILED = 9, HOLD = 10;
/** One word per worker (its slot): FREE (no thread holds it), RUN, QUIT (its worker is asked to end). */
const SLOTS = 16, FREE = 0, RUN = 1, QUIT = 2;
/**
 * How long a worker spins for the next job before it sleeps (ms): after a job, and after being roused ahead of
 * one; how long a caller spins for the workers' last chunks; how long a held pool's workers spin without a job
 * (a bound: `hold` is released in a `finally`). Measured in BENCHMARKS.md ("Two threads and the garbage collector").
 */
const JOB_SPIN_MS = 0.05, WAKE_SPIN_MS = 1, HOLD_SPIN_MS = 100;

// --- the thread count -------------------------------------------------------------------------------------

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (name: string) => unknown;
}
const nodeProcess = (globalThis as { process?: NodeProcess }).process;

/** The most threads `setNumThreads` and GRADGRAPH_NUM_THREADS accept. */
const MAX_THREADS = 256;
/** Slots: one per worker (MAX_THREADS − 1 at most at once), with room for workers still ending when others start. */
const SLOT_COUNT = 2 * MAX_THREADS;
/** The argument table: after the control words and the slots. */
const TABLE = SLOTS + SLOT_COUNT;
const TABLE_WORDS = POOL_BYTES / 4 - TABLE;
const THREADS_EXPECTED = `an integer from 1 to ${MAX_THREADS}`;

function defaultThreads(): number {
  const env = nodeProcess?.env?.["GRADGRAPH_NUM_THREADS"];
  if (env !== undefined && env !== "") {
    // Decimal digits only: Number() would also read "1e9", "0x10" and "2.0".
    const n = /^\s*\d+\s*$/.test(env) ? Number(env) : NaN;
    if (n >= 1 && n <= MAX_THREADS) return n;
    throw new InputError(`GRADGRAPH_NUM_THREADS: expected ${THREADS_EXPECTED}, got ${JSON.stringify(env)}`);
  }
  const os = nodeProcess?.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | undefined;
  const cores = os?.availableParallelism?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, 64));
}

let numThreads: number | undefined;

/** Threads the kernels may use (the caller included): `setNumThreads`, else GRADGRAPH_NUM_THREADS, else cores. */
export function getNumThreads(): number {
  return (numThreads ??= defaultThreads());
}

/**
 * Sets how many threads the kernels use (1 = the calling thread only). Results do not depend on it. Where
 * threads are unavailable (no shared memory) kernels run on one thread whatever the setting.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new InputError(`setNumThreads: expected ${THREADS_EXPECTED}, got ${describe(n)}`);
  numThreads = n;
  for (const p of pools) p.resize();
}

// --- workers ----------------------------------------------------------------------------------------------

/** The worker's program, as source (no file to resolve: works from dist/, a bundle, or a Blob in a browser). */
const WORKER_LOOP = `
function serve(module, memory, names, slot) {
  const inst = new WebAssembly.Instance(module, { env: { mem: memory } });
  const fns = names.map((n) => inst.exports[n]);
  const ctl = new Int32Array(memory.buffer, 0, ${POOL_BYTES / 4});
  const mine = ${SLOTS} + slot;
  Atomics.add(ctl, ${READY}, 1);
  let last = -1, spinFor = ${WAKE_SPIN_MS};
  for (;;) {
    // Asked to end: only here, holding nothing (the pool made GEN change after the request, so a sleeper wakes).
    if (Atomics.load(ctl, mine) === ${QUIT}) {
      Atomics.sub(ctl, ${READY}, 1);
      Atomics.store(ctl, mine, ${FREE});
      return;
    }
    // Idle: spin for the next job (spinFor ms; rousing, GEN moving on while odd, restarts it at ${WAKE_SPIN_MS} ms;
    // a held pool keeps its workers spinning), then sleep.
    let g = Atomics.load(ctl, ${GEN}), seen = g, until = performance.now() + spinFor;
    for (;;) {
      for (let spin = 0; spin < 500 && g === seen && (g === last || (g & 1)); spin++) g = Atomics.load(ctl, ${GEN});
      if (g !== last && (g & 1) === 0) break;
      const now = performance.now();
      if (g !== seen) {
        if (g !== last + 1) until = now + ${WAKE_SPIN_MS}; // roused (not the close of the job it just served)
        seen = g;
      } else if (now >= until && (Atomics.load(ctl, ${HOLD}) === 0 || now >= until + ${HOLD_SPIN_MS})) break;
    }
    if (g === last || (g & 1)) {
      if (Atomics.load(ctl, mine) === ${QUIT}) continue;
      Atomics.add(ctl, ${SLEEPERS}, 1);
      Atomics.wait(ctl, ${GEN}, g);
      Atomics.sub(ctl, ${SLEEPERS}, 1);
      spinFor = ${WAKE_SPIN_MS};
      continue;
    }
    spinFor = ${JOB_SPIN_MS};
    last = g;
    Atomics.add(ctl, ${ACTIVE}, 1);
    if (Atomics.load(ctl, ${GEN}) === g) {
      const fn = fns[ctl[${FN}]], nargs = ctl[${NARGS}], total = ctl[${TOTAL}];
      try {
        for (let c = Atomics.add(ctl, ${NEXT}, 1); c < total && Atomics.load(ctl, ${FAILED}) === 0; c = Atomics.add(ctl, ${NEXT}, 1)) {
          const o = ${TABLE} + c * nargs;
          fn(...ctl.subarray(o, o + nargs));
        }
      } catch {
        Atomics.store(ctl, ${FAILED}, 1); // the caller throws; this worker serves the next job
      }
    }
    if (Atomics.sub(ctl, ${ACTIVE}, 1) === 1 && Atomics.load(ctl, ${WAITER}) !== 0) Atomics.notify(ctl, ${ACTIVE});
  }
}`;

interface NodeWorkerThreads {
  Worker: new (src: string, opts: { eval: true; workerData: unknown; execArgv: string[] }) => { unref(): void; on(ev: string, f: () => void): void };
}

/**
 * Starts a worker serving `names` of `module` on `memory` in slot `slot`; false where none can be started (the
 * caller then runs every chunk).
 */
function spawnWorker(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], slot: number): boolean {
  try {
    return startWorker(module, memory, names, slot);
  } catch {
    return false; // e.g. a worker limit, or a policy forbidding blob: workers
  }
}

function startWorker(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], slot: number): boolean {
  const wt = nodeProcess?.getBuiltinModule?.("node:worker_threads") as NodeWorkerThreads | undefined;
  if (wt !== undefined) {
    // When `serve` returns (its slot was set to QUIT) the script ends, and with it the thread.
    const src = `${WORKER_LOOP}\nconst { workerData: d } = require("node:worker_threads");\nserve(d.module, d.memory, d.names, d.slot);`;
    // Not the process's own options (a worker inherits them by default): under `node -e "…"` they hold the script,
    // and the worker would fail to start; loaders (`--import tsx`) would load again in each worker for nothing.
    const w = new wt.Worker(src, { eval: true, workerData: { module, memory, names, slot }, execArgv: [] });
    w.unref();
    w.on("error", () => {}); // a worker that fails takes no chunks; the caller runs them
    return true;
  }
  const g = globalThis as { Worker?: new (url: string) => { postMessage(m: unknown): void }; Blob?: typeof Blob; URL?: typeof URL; crossOriginIsolated?: boolean };
  if (g.Worker !== undefined && g.Blob !== undefined && g.URL !== undefined && g.crossOriginIsolated === true) {
    const src = `${WORKER_LOOP}\nonmessage = (e) => { serve(e.data.module, e.data.memory, e.data.names, e.data.slot); close(); };`;
    const w = new g.Worker(g.URL.createObjectURL(new g.Blob([src], { type: "text/javascript" })));
    w.postMessage({ module, memory, names, slot });
    return true;
  }
  return false;
}

/** True where `Atomics.wait` may block this thread (not on a browser's main thread). */
const canWait = nodeProcess !== undefined || typeof (globalThis as { document?: unknown }).document === "undefined";

const pools: WasmPool[] = [];

/** A pool of workers running exports of one module on its shared memory. */
export class WasmPool {
  /** The slots of this pool's workers (each runs until its slot is set to QUIT). */
  private slots: number[] = [];
  private readonly ctl: Int32Array;
  private readonly fns: ((...args: number[]) => void)[];

  /** `instance`: the caller's own instance of `module` on `memory` (shared); `names`: the exports jobs may run. */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    instance: WebAssembly.Instance,
    private readonly names: readonly string[],
  ) {
    this.ctl = new Int32Array(memory.buffer, 0, POOL_BYTES / 4);
    Atomics.store(this.ctl, GEN, 1);
    this.fns = names.map((n) => instance.exports[n] as (...args: number[]) => void);
    pools.push(this);
  }

  /** Workers that have started (for tests). */
  get ready(): number {
    return Atomics.load(this.ctl, READY);
  }

  /** Workers asleep (for tests). */
  get sleeping(): number {
    return Atomics.load(this.ctl, SLEEPERS);
  }

  /**
   * Starts or stops workers to match the thread count (between jobs only). A worker stops itself: its slot is set
   * to QUIT and GEN moved on (still odd: no job), so a sleeping worker wakes, reads its slot and ends.
   */
  resize(): void {
    const want = getNumThreads() - 1, ctl = this.ctl;
    if (this.slots.length > want) {
      for (const k of this.slots.splice(want)) Atomics.store(ctl, SLOTS + k, QUIT);
      Atomics.add(ctl, GEN, 2);
      Atomics.notify(ctl, GEN);
    }
    while (this.slots.length < want) {
      let k = 0;
      while (k < SLOT_COUNT && Atomics.load(ctl, SLOTS + k) !== FREE) k++;
      if (k === SLOT_COUNT) return; // every slot held by workers still ending: fewer threads until they have
      Atomics.store(ctl, SLOTS + k, RUN);
      if (!spawnWorker(this.module, this.memory, this.names, k)) {
        Atomics.store(ctl, SLOTS + k, FREE);
        return;
      }
      this.slots.push(k);
    }
  }

  /** The most chunks one job may have with `nargs` arguments each. */
  static maxChunks(nargs: number): number {
    return Math.floor(TABLE_WORDS / nargs);
  }

  /** Runs export `fn` once per row of `rows` (each `nargs` i32 arguments), on the caller and the workers. */
  run(fn: string, rows: readonly (readonly number[])[]): void {
    const f = this.names.indexOf(fn), nargs = rows[0]?.length ?? 0, total = rows.length;
    if (f < 0 || total * nargs > TABLE_WORDS) throw new RangeError(`WasmPool.run: ${fn} with ${total} chunks`);
    if (total === 0) return;
    const call = this.fns[f]!;
    if (total === 1 || getNumThreads() === 1) {
      for (const r of rows) call(...r);
      return;
    }
    if (this.slots.length !== getNumThreads() - 1) this.resize();
    const ctl = this.ctl;
    ctl[FN] = f;
    ctl[NARGS] = nargs;
    ctl[TOTAL] = total;
    rows.forEach((r, c) => ctl.set(r, TABLE + c * nargs));
    Atomics.store(ctl, NEXT, 0);
    const g = Atomics.load(ctl, GEN) + 1;
    Atomics.store(ctl, GEN, g);
    if (Atomics.load(ctl, SLEEPERS) !== 0) Atomics.notify(ctl, GEN);
    let thrown: { error: unknown } | null = null;
    try {
      for (let c = Atomics.add(ctl, NEXT, 1); c < total && Atomics.load(ctl, FAILED) === 0; c = Atomics.add(ctl, NEXT, 1)) call(...rows[c]!);
    } catch (error) {
      thrown = { error };
      Atomics.store(ctl, FAILED, 1); // the workers take no more chunks
    }
    // The job is closed and its workers waited for however it ended, so the pool is ready for the next one.
    Atomics.store(ctl, GEN, g + 1);
    const until = performance.now() + JOB_SPIN_MS;
    for (let a = Atomics.load(ctl, ACTIVE); a !== 0; a = Atomics.load(ctl, ACTIVE))
      if (canWait && performance.now() > until) {
        Atomics.store(ctl, WAITER, 1);
        Atomics.wait(ctl, ACTIVE, a, 1000);
        Atomics.store(ctl, WAITER, 0);
      }
    const failed = Atomics.exchange(ctl, FAILED, 0) !== 0;
    if (thrown !== null) throw thrown.error;
    if (failed) throw new Error(`WasmPool.run: ${fn} failed in a worker thread (a chunk threw; the job's results are incomplete)`);
  }

  /**
   * Wakes sleeping workers without giving them a job, so that they are spinning when one comes (call it before
   * work that precedes a job, such as copying operands in). Between jobs only.
   */
  wake(): void {
    if (this.slots.length === 0 || getNumThreads() === 1) return;
    const g = Atomics.load(this.ctl, GEN);
    if ((g & 1) === 0) return;
    Atomics.store(this.ctl, GEN, g + 2);
    if (Atomics.load(this.ctl, SLEEPERS) !== 0) Atomics.notify(this.ctl, GEN);
  }

  /**
   * Runs `fn` with the pool *held*: its workers are roused now and keep spinning between jobs (up to HOLD_SPIN_MS
   * without one) instead of sleeping after JOB_SPIN_MS, for work whose jobs come close together (a compiled step's
   * products). Holds nest. Between jobs only (`fn` runs them).
   */
  held<T>(fn: () => T): T {
    Atomics.add(this.ctl, HOLD, 1);
    this.wake();
    try {
      return fn();
    } finally {
      Atomics.sub(this.ctl, HOLD, 1);
    }
  }
}
