/**
 * The scalar engine's tape (a Wengert list): every node a `Value` stands for is an entry of a tape, its op code,
 * input indices, value, gradient and flags in typed arrays, recorded in creation order. Creation order is a
 * topological order, so backpropagation is one reverse sweep over the entries (`sweep`, compiled from the op
 * table in `kernels.ts`); nothing on that path allocates or sorts.
 *
 * Lifetime (see ARCHITECTURE.md, "The engines"). Leaves made with `new Value` (parameters, inputs) go to the
 * *leaf tape*, which is never recycled: a full one is continued by a fresh one, and a tape none of whose `Value`s
 * is reachable is taken by the garbage collector. Everything else (op nodes, `Value.constant`) goes to the
 * *current* tape. After a `backward()` from the current tape, once that tape holds `RETIRE_AT` entries or more,
 * it is *retired*: new entries go to another tape, which reuses the storage of the tape retired before it (the
 * yardstick tape's reset, so a training step writes memory it wrote two steps ago instead of fresh pages). The
 * `Value`s of that older tape are then *stale*: reading or using one throws `StaleValueError` instead of
 * returning another node's numbers. So a training step's nodes stay valid through the next step's `backward()`
 * (read `loss.data` into a number to keep it longer); small graphs (the lecture's) never retire a tape. A tape
 * that reaches `MAX_ENTRIES` is continued by a fresh one. An input that lives on another tape (a parameter, a
 * node of a graph too big for one tape) is *imported*: an entry of kind `IMPORT` holds a copy of its value and
 * collects its gradient, and the sweep hands that gradient to the source entry, then sweeps the source's tape
 * (tapes are swept newest first: an import always points to an older tape).
 */
import { InputError } from "../core/errors.js";

/** Entry kinds: a leaf, an import of another tape's entry, or `FIRST_OP + k` for the k-th op of `elementwiseList`. */
export const LEAF = 0;
export const IMPORT = 1;
export const FIRST_OP = 2;
/** A leaf's `mark`: above every sweep's epoch, so a sweep treats a leaf as reached already (see `kernels.ts`). */
export const LEAF_MARK = 0x7fffffff;

/** Entries a tape may hold before a fresh one continues it (about 38 MB of typed arrays). */
export const MAX_ENTRIES = 1 << 20;
/**
 * A backward from the current tape retires it once it holds this many entries (about 2.5 MB): a training step
 * of that size or more gets a tape of its own, and two tapes' storage take turns.
 */
export const RETIRE_AT = 1 << 16;
const FIRST_CAPACITY = 1 << 10;

let nextId = 0;

/** Thrown when a `Value` of a recycled tape is read or used (its entry now holds another node). */
export class StaleValueError extends InputError {
  constructor() {
    super(
      "this Value was recorded on a tape that has since been recycled (its training step is over: a retired tape is " +
        "reused once the next one retires): read .data into a number to keep a result, or make long-lived values " +
        "with new Value(...)",
    );
    this.name = "StaleValueError";
  }
}

const EMPTY_U8 = new Uint8Array(0), EMPTY_I32 = new Int32Array(0), EMPTY_F64 = new Float64Array(0);

export class Tape {
  /** Creation rank: an import always points from a tape to one with a smaller id. */
  readonly id = nextId++;
  /**
   * The highest entry whose gradient a sweep (or the `grad` setter) may have written: above it every gradient is
   * the 0 it was recorded with, which lets a first backward skip zeroing (`RootSweep`). -1 on a fresh tape.
   */
  swept = -1;
  /** True once another tape took over this tape's storage: its `Value`s are stale. */
  dead = false;
  /** Entries recorded. */
  n = 0;
  cap: number;
  /** Entry kind (`LEAF`, `IMPORT`, or an op code). */
  op: Uint8Array;
  /** First input's index (an import: the source entry's index on its tape). */
  a: Int32Array;
  /** Second input's index, -1 for a unary op (an import: its slot in `sources`). */
  b: Int32Array;
  val: Float64Array;
  grad: Float64Array;
  /** 1 when a gradient flows into the entry. */
  rg: Uint8Array;
  /** The epoch of the last sweep that reached the entry. */
  mark: Int32Array;
  /** The epoch of the last backward from this tape that reached the entry (the root sweep's reach set). */
  seen: Int32Array;
  /** 1 for an op entry that no entry of this tape takes as an input yet, else 0 (see `unused`). */
  use: Uint8Array;
  /**
   * Op entries that no entry takes as an input (`use` is 1): when the last entry is the only one, every op entry
   * below it leads to it, so a backward from it reaches them all and needs no reach marks (`RootSweep`).
   */
  unused = 0;
  /** `Value.topoMark` of the entries (allocated on the first graph walk that marks one). */
  walk: Int32Array | null = null;
  /**
   * Per entry, the last tape that imported it (null: none) and the import's index there (`value.ts`, `importOf`):
   * allocated on the first import from this tape.
   */
  importedBy: (Tape | null)[] | null = null;
  importedAt: number[] = [];
  /**
   * Whether this tape imports every leaf at once on its first import of one (`importLeaves`): a tape a training
   * loop recycles (`retire`) records one step, whose graph uses the parameters again and again.
   */
  bulk = false;
  /** The leaf tape imported all at once, or null: its entry k is this tape's entry `leafBase + k`, for k < `leafN`. */
  leafSrc: Tape | null = null;
  leafBase = 0;
  leafN = 0;
  /**
   * Import slots: the tape each import's source lives on, held weakly so that a tape does not keep older tapes
   * alive on its own — a node's `Value` holds its inputs' `Value`s, and so every tape its graph needs.
   */
  readonly sources: WeakRef<Tape>[] = [];
  private weakSelf: WeakRef<Tape> | null = null;
  // Sweep state: the epoch that queued this tape, entries reached but not yet swept, the highest one.
  queuedAt = 0;
  pending = 0;
  hi = 0;

  /** A fresh tape, or one that takes over the storage of `donor`, which dies (its `Value`s become stale). */
  constructor(cap = FIRST_CAPACITY, donor?: Tape) {
    if (donor !== undefined) {
      this.cap = donor.cap;
      ({ op: this.op, a: this.a, b: this.b, val: this.val, grad: this.grad, rg: this.rg, mark: this.mark, seen: this.seen, use: this.use, walk: this.walk } = donor);
      // The sweep and the walks read marks as epochs: no old mark may look recent (a leaf's lies above them all).
      this.mark.fill(0, 0, donor.n);
      this.walk?.fill(0, 0, donor.n);
      donor.kill();
      return;
    }
    this.cap = cap;
    this.op = new Uint8Array(cap);
    this.a = new Int32Array(cap);
    this.b = new Int32Array(cap);
    this.val = new Float64Array(cap);
    this.grad = new Float64Array(cap);
    this.rg = new Uint8Array(cap);
    this.mark = new Int32Array(cap);
    this.seen = new Int32Array(cap);
    this.use = new Uint8Array(cap);
  }

  /** Gives up the storage: reads through a stale handle find nothing, writes go nowhere. */
  private kill(): void {
    this.dead = true;
    this.n = 0;
    this.cap = 0;
    this.op = this.rg = this.use = EMPTY_U8;
    this.a = this.b = this.mark = this.seen = EMPTY_I32;
    this.val = this.grad = EMPTY_F64;
    this.walk = null;
    this.importedBy = null;
    this.importedAt = [];
  }

  /** A weak reference to this tape, made once. */
  weak(): WeakRef<Tape> {
    return (this.weakSelf ??= new WeakRef(this));
  }

  /** The import slots (`importedBy`), allocated on first use. */
  importSlots(): (Tape | null)[] {
    if (this.importedBy === null) {
      this.importedBy = new Array<Tape | null>(this.cap).fill(null);
      this.importedAt = new Array<number>(this.cap).fill(0);
    }
    return this.importedBy;
  }

  /** The topoMark array, allocated on first use. */
  walkMarks(): Int32Array {
    return (this.walk ??= new Int32Array(this.cap));
  }

  grow(cap: number): void {
    const more = <A extends Uint8Array | Int32Array | Float64Array>(x: A): A => {
      const y = new (x.constructor as new (n: number) => A)(cap);
      y.set(x);
      return y;
    };
    this.op = more(this.op);
    this.a = more(this.a);
    this.b = more(this.b);
    this.val = more(this.val);
    this.grad = more(this.grad);
    this.rg = more(this.rg);
    this.mark = more(this.mark);
    this.seen = more(this.seen);
    this.use = more(this.use);
    if (this.walk !== null) this.walk = more(this.walk);
    if (this.importedBy !== null) {
      for (let k = this.cap; k < cap; k++) {
        this.importedBy.push(null);
        this.importedAt.push(0);
      }
    }
    this.cap = cap;
  }
}

/**
 * Told when a tape retires (a training loop's step ended): `value.ts` then makes kernels specialized to the
 * storages of the current and the retired tape, unless they are already (`kernels.ts`, `Storage`).
 */
export const retirements: { notify: () => void } = { notify: () => {} };

/**
 * Where new entries go: op nodes and constants on `current`, the public constructor's leaves on `leaves`;
 * `retired` is the last tape retired, whose storage the next retirement reuses.
 */
export const tapes: { current: Tape; leaves: Tape; retired: Tape | null } = { current: new Tape(), leaves: new Tape(), retired: null };

/** The current tape with room for `k` more entries: grown, or continued by a fresh tape at `MAX_ENTRIES`. */
export function room(k: number): Tape {
  const T = tapes.current;
  if (T.n + k <= T.cap) return T;
  return (tapes.current = roomOn(T, k));
}

/** The leaf tape with room for `k` more entries. */
export function leafRoom(k: number): Tape {
  const T = tapes.leaves;
  if (T.n + k <= T.cap) return T;
  return (tapes.leaves = roomOn(T, k));
}

function roomOn(T: Tape, k: number): Tape {
  if (T.cap < MAX_ENTRIES) {
    T.grow(Math.min(MAX_ENTRIES, Math.max(T.cap * 2, T.n + k)));
    return T;
  }
  return new Tape(T.cap);
}

/** Throws `StaleValueError` for a tape whose storage was recycled. */
export function checkLive(T: Tape): void {
  if (T.dead) throw new StaleValueError();
}

/** Retires the current tape: the next entries go to the storage of the tape retired before it. */
function retire(): void {
  const T = tapes.current, old = tapes.retired;
  tapes.retired = T;
  tapes.current = old !== null && !old.dead && old.cap === T.cap ? new Tape(old.cap, old) : new Tape(T.cap);
  tapes.current.bulk = true;
  retirements.notify();
}

/** Leaf tapes up to this many entries are imported all at once (`importLeaves`). */
const BULK_MAX = 1 << 14;

/**
 * Imports every entry of the leaf tape `L` onto `T` at once, in order, as imports do one by one (`recordImport`):
 * a node's parameter inputs are then found by index (`leafBase + k`), with no lookup per use. Returns false (and
 * imports nothing) when `L` is too big or `T` lacks room.
 */
export function importLeaves(T: Tape, L: Tape): boolean {
  const m = L.n, base = T.n;
  if (m > BULK_MAX || base + m + 3 > MAX_ENTRIES) return false;
  if (base + m + 3 > T.cap) T.grow(Math.min(MAX_ENTRIES, Math.max(T.cap * 2, base + m + 3)));
  const slot = T.sources.length;
  T.sources.push(L.weak());
  T.op.fill(IMPORT, base, base + m);
  T.b.fill(slot, base, base + m);
  T.val.set(L.val.subarray(0, m), base);
  T.rg.set(L.rg.subarray(0, m), base);
  T.grad.fill(0, base, base + m);
  T.use.fill(0, base, base + m);
  const by = L.importSlots(), at = L.importedAt;
  for (let k = 0; k < m; k++) {
    T.a[base + k] = k;
    by[k] = T;
    at[k] = base + k;
  }
  T.n = base + m;
  T.leafSrc = L;
  T.leafBase = base;
  T.leafN = m;
  return true;
}

/** Records a leaf on the current tape; returns its index. */
export function recordLeaf(T: Tape, data: number, requiresGrad: boolean): number {
  const n = T.n++;
  T.op[n] = LEAF;
  T.val[n] = data;
  T.grad[n] = 0;
  T.rg[n] = requiresGrad ? 1 : 0;
  T.mark[n] = LEAF_MARK;
  T.use[n] = 0;
  return n;
}

/**
 * Counts the op entry `n` of `T` as unused and its inputs `ia` and `ib` (-1: none) as used (`Tape.unused`); the
 * kernels' record functions inline the same.
 */
export function recordUse(T: Tape, n: number, ia: number, ib: number): void {
  const use = T.use;
  let d = 1;
  if (use[ia] === 1) {
    use[ia] = 0;
    d--;
  }
  if (ib >= 0 && use[ib] === 1) {
    use[ib] = 0;
    d--;
  }
  use[n] = 1;
  T.unused += d;
}

/** Records on `T` (which has room) an import of entry `i` of tape `src`; returns its index. */
export function recordImport(T: Tape, src: Tape, i: number): number {
  const n = T.n++;
  T.op[n] = IMPORT;
  T.a[n] = i;
  T.b[n] = T.sources.length;
  T.val[n] = src.val[i]!;
  T.grad[n] = 0;
  T.rg[n] = src.rg[i]!;
  T.use[n] = 0;
  T.sources.push(src.weak());
  return n;
}

/** The tape an import entry's source lives on (alive whenever a graph that reaches the import is alive). */
function sourceOf(T: Tape, i: number): Tape | undefined {
  const src = T.sources[T.b[i]!]!.deref();
  if (src !== undefined) checkLive(src);
  return src;
}

let epoch = 0;
const queue: Tape[] = [];

/** Marks the tape as holding one more reached entry, at index `i`. */
function enqueue(T: Tape, i: number, ep: number): void {
  if (T.queuedAt !== ep) {
    T.queuedAt = ep;
    T.pending = 0;
    T.hi = i;
    queue.push(T);
  } else if (i > T.hi) T.hi = i;
  T.pending++;
}

/** Takes the newest queued tape off the queue. */
function dequeue(): Tape | undefined {
  if (queue.length === 0) return undefined;
  let k = 0;
  for (let j = 1; j < queue.length; j++) if (queue[j]!.id > queue[k]!.id) k = j;
  const T = queue[k]!;
  queue[k] = queue[queue.length - 1]!;
  queue.pop();
  return T;
}

/**
 * One tape's part of a reverse sweep, for epoch `ep`: from entry `hi` down, until the `pending` reached entries
 * are done. Returns the local-derivative multiplications done. `kernels.ts` compiles it from the op table.
 */
export type Sweep = (T: Tape, ep: number, hi: number, pending: number) => number;

/**
 * The sweep of the tape a backward starts on, from its root (an op node): a first pass marks the entries the root
 * reaches (in `seen`) and zeroes their gradients (not the leaves': those add up), a second adds `local
 * derivative × gradient` into each input that takes a gradient. Branches only on what a graph decides (reached,
 * requires-grad, the op), not on the first reach of each input as `Sweep` must. Returns the multiplications.
 */
export type RootSweep = (T: Tape, ep: number, root: number) => number;

/** The sweeps a backward runs: `rootSweep` on the root's tape (when given), `sweep` on the tapes it imports from. */
export interface Sweeps {
  readonly sweep: Sweep;
  readonly rootSweep?: RootSweep;
}

/**
 * Hands the gradient an import entry collected to its source entry, as the sweep does for an input (a leaf's
 * gradient adds up, an op node's is set on the first reach and the node queued); an import that takes no
 * gradient marks an op-node source reached, resetting its gradient, as a graph walk would.
 */
export function flush(T: Tape, i: number, ep: number): void {
  const src = sourceOf(T, i);
  if (src === undefined) return;
  const j = T.a[i]!;
  if (T.rg[i] === 1) {
    const c = T.grad[i]!;
    if (src.mark[j]! >= ep) src.grad[j]! += c;
    else {
      src.mark[j] = ep;
      enqueue(src, j, ep);
      src.grad[j] = c;
    }
  } else if (src.mark[j]! < ep) {
    src.mark[j] = ep;
    enqueue(src, j, ep);
    src.grad[j] = 0;
  }
}

/**
 * Backpropagation from entry `i0` of `T0`: the gradients of the op nodes it reaches are set afresh, those of
 * leaves added to; `T0`'s own gradient is seeded with 1. Returns the multiplications done.
 */
export function backwardFrom(T0: Tape, i0: number, { sweep, rootSweep }: Sweeps): number {
  checkLive(T0);
  const ep = ++epoch;
  queue.length = 0;
  let multiplications = 0;
  if (T0.op[i0] === LEAF) T0.grad[i0]! += 1;
  else if (rootSweep !== undefined) multiplications += rootSweep(T0, ep, i0);
  else {
    T0.mark[i0] = ep;
    T0.grad[i0] = 1;
    enqueue(T0, i0, ep);
  }
  for (let T = dequeue(); T !== undefined; T = dequeue()) multiplications += sweep(T, ep, T.hi, T.pending);
  if (T0 === tapes.current && T0.n >= RETIRE_AT) retire();
  return multiplications;
}

/**
 * Calls `visit` once on every entry the graph of entry `i0` of `T0` reaches (through all inputs, whether they
 * take a gradient or not): the slow general walk, for `zeroGrad`.
 */
export function walkFrom(T0: Tape, i0: number, arity: Uint8Array, visit: (T: Tape, i: number) => void): void {
  checkLive(T0);
  const ep = ++epoch;
  queue.length = 0;
  const reach = (T: Tape, j: number) => {
    if (T.op[j] === LEAF) visit(T, j); // leaves keep their mark (LEAF_MARK); visiting one twice is harmless
    else if (T.mark[j] !== ep) {
      T.mark[j] = ep;
      visit(T, j);
      enqueue(T, j, ep);
    }
  };
  reach(T0, i0);
  for (let T = dequeue(); T !== undefined; T = dequeue()) {
    const { op, a, b, mark } = T;
    for (let i = T.hi; i >= 0 && T.pending > 0; i--) {
      if (mark[i] !== ep) continue;
      T.pending--;
      const o = op[i]!;
      if (o !== IMPORT) {
        reach(T, a[i]!);
        if (arity[o] === 2) reach(T, b[i]!);
      } else {
        const src = sourceOf(T, i);
        if (src !== undefined) reach(src, a[i]!);
      }
    }
  }
}
