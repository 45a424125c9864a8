/**
 * `compile(fn)`: the first call with a new signature (the arguments' structure, shapes and dtypes) runs `fn`
 * eagerly while tracing it (./trace.ts); the program it records is simplified (./passes.ts) and prepared on a
 * target (./cpu.ts, or ONNX Runtime through `gradgraph-onnx`); later calls with that signature replay the program.
 */
import { flattenTree, unflattenTree } from "../autodiff/tree.js";
import { InputError } from "../core/errors.js";
import { describe, expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import type { NDArray } from "../tensor/ndarray.js";
import { recording } from "../tensor/recording.js";
import { batching, gradMode, transforms } from "../tensor/grad-mode.js";
import { Tensor } from "../tensor/tensor.js";
import { cpuTarget, type Executable, type Target } from "./cpu.js";
import { optimize } from "./passes.js";
import { CompileError, programString, type Program } from "./program.js";
import { overlaps, trace, type Traced } from "./trace.js";
import { holdsValue, ScalarCompiled, ScalarTrace, type ReplayMode } from "./scalar.js";
import { staticKey } from "./static-key.js";
import { scalarRecording } from "../scalar/recording.js";

export { CompileError };

/** Options of {@link compile}. */
export interface CompileOptions {
  /**
   * Where the program runs: a {@link Target} (the built-in `cpuTarget`, or `onnxRuntime()` from `gradgraph-onnx`).
   * Default: the last target given to {@link registerTarget} that can run the program, else the built-in one.
   */
  target?: Target;
  /** Run the passes (default true); false replays the trace as recorded, for comparison. */
  optimize?: boolean;
  /**
   * A step that cannot be compiled (it reads values into JavaScript with `item()`/`toArray()`, or returns
   * something other than tensors) runs eagerly by default, every call (see {@link CompiledFunction.explain});
   * with `strict: true` it throws a {@link CompileError} instead (after that first, eager, call).
   */
  strict?: boolean;
  /**
   * A key of JavaScript state the step depends on that the trace cannot see (which tensors a module's fields
   * hold, when the step replaces one instead of updating it with `assign`): evaluated before each call, a new
   * value traces again. `fit` passes the identities of the model's tensors.
   */
  guard?: () => string;
  /** How a `Value` program replays (see {@link ReplayMode}; default "auto"). */
  replay?: ReplayMode;
}

/** The keys of {@link CompileOptions} (compileAsync's are the same). */
const COMPILE_KEYS = optionKeys<CompileOptions>({ target: true, optimize: true, strict: true, guard: true, replay: true });

/** What a compiled function tells about itself (synchronous or asynchronous). */
export interface CompiledInfo {
  /** The optimized programs traced so far, one per signature (and per state of the guards). */
  programs(): Program[];
  /** What happened: each signature's program as text, or why it runs eagerly. */
  explain(): string;
  /** Calls so far: traced (run eagerly while recording), replayed, and run eagerly because not compilable. */
  readonly stats: { traced: number; replayed: number; eager: number };
}

/** A compiled function: call it like the original. */
export interface CompiledFunction<A extends unknown[], R> extends CompiledInfo {
  (...args: A): R;
}

const registered: Target[] = [];

/** Makes a target a candidate for {@link compile}'s automatic choice (tried before the built-in one, last first). */
export function registerTarget(target: Target): void {
  checkTarget(target, "registerTarget", "target");
  if (!registered.includes(target)) registered.push(target);
}

/** A target's methods are functions (checked when it is given, not at the first program it is asked to run). */
function checkTarget(target: unknown, who: string, what: string): void {
  if (typeof target !== "object" || target === null) throw new InputError(`${who}: ${what} must be an object with name, unsupported and prepare (a Target), got ${describe(target)}`);
  expectFunction((target as Target).unsupported, who, `${what}.unsupported`);
  expectFunction((target as Target).prepare, who, `${what}.prepare`);
}

/** What compile and compileAsync check when called: a function, and options with known keys, a guard and a target. */
function checkCompile(fn: unknown, options: { readonly guard?: unknown; readonly target?: unknown }, who: string): void {
  expectFunction(fn, who);
  expectOptions(who, options, COMPILE_KEYS);
  if (options.guard !== undefined) expectFunction(options.guard, who, "guard");
  if (options.target !== undefined) checkTarget(options.target, who, "target");
}

/** Programs kept per signature (a guard that changes every call would otherwise keep every trace). */
const KEEP = 8;
/**
 * Signatures kept (the least recently used is dropped past this): numbers or label arrays in the arguments make a
 * signature per value, and a loop over many would otherwise keep a program for each.
 */
const SIGNATURES = 64;

/** What runs a prepared program: a target's executable, synchronous or not. */
type Run = (inputs: readonly NDArray[]) => unknown;

interface Entry<X extends Run> {
  readonly guards: Program["guards"];
  readonly program: Program | null;
  readonly run: X | null;
  readonly target: string;
  readonly reasons: readonly string[];
  /** The tensors whose storage a replay writes in place: a value updated in place, a `.grad` set (see {@link written}). */
  readonly written: readonly (readonly [Tensor, "value" | "grad"])[];
  /**
   * For the entry of a call whose argument shared storage with a tensor the step touched (not a program: such
   * calls run eagerly), those tensors: it holds for calls that share storage with one of them, and no other.
   */
  readonly sharing?: readonly Tensor[];
}

/**
 * The tensors whose storage a replay of `p` writes: state updated in place (an optimizer's parameters and moment
 * buffers) and the `.grad`s it sets (a target may write them into buffers kept from call to call). An argument
 * that shares storage with one of them would see the writes where the trace saw a separate array.
 */
function written(p: Program): [Tensor, "value" | "grad"][] {
  const byId = new Map([...p.sources].map(([v, src]) => [v.id, src] as const));
  const root = new Map<number, number>();
  const out = new Map<Tensor, Set<"value" | "grad">>();
  const add = (t: Tensor, f: "value" | "grad") => out.set(t, (out.get(t) ?? new Set()).add(f));
  for (const s of p.steps) {
    if (s.kind !== "fused" || s.into === undefined) continue;
    const r = root.get(s.into.id) ?? s.into.id;
    root.set(s.out.id, r);
    const src = byId.get(r);
    if (src?.kind === "state") add(src.tensor, src.field);
  }
  for (const e of p.effects) if (e.field === "grad") add(e.tensor, "grad");
  return [...out].flatMap(([t, fs]) => [...fs].map((f) => [t, f] as [Tensor, "value" | "grad"]));
}

const SHARING = "an argument shares storage with a tensor the step touches (a view of a parameter, the parameter itself)";
const WRITES = "an argument shares storage with a tensor the step writes in place (a view of a parameter the optimizer updates, a .grad the step sets)";

/** Whether an argument's storage overlaps that of one of `tensors` (its value or `.grad`). */
function sharesTouched(leaves: readonly Tensor[], tensors: readonly Tensor[]): boolean {
  for (const t of tensors) {
    const g = t.grad?.value.data;
    for (const x of leaves) if (overlaps(x.value.data, t.value.data) || (g !== undefined && overlaps(x.value.data, g))) return true;
  }
  return false;
}

/** Whether an argument's storage overlaps that of a tensor (its value or `.grad`) a replay writes. */
function sharesWritten(leaves: readonly Tensor[], writes: Entry<Run>["written"]): boolean {
  for (const [t, field] of writes) {
    const a = field === "value" ? t.value.data : t.grad?.value.data;
    if (a === undefined) continue;
    for (const x of leaves) if (overlaps(x.value.data, a)) return true;
  }
  return false;
}

/**
 * JSON of a tree's structure, its plain values by `staticKey`: JSON alone writes NaN, ±Infinity and -0 as other
 * numbers, drops symbols and throws on a BigInt.
 */
const specJson = (spec: unknown) =>
  JSON.stringify(spec, (_k, v: unknown) =>
    (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0))) || typeof v === "symbol" || typeof v === "bigint" ? { [typeof v]: staticKey(v) } : v);

/**
 * Grad mode at the call (and whether a functional transform is calling), the arguments' structure, each leaf's
 * dtype, shape and requiresGrad, and which leaves are one array.
 */
function signature(leaves: readonly Tensor[], spec: unknown): string {
  const first = new Map<unknown, number>();
  return (gradMode.enabled ? "" : "nograd ") + (transforms.depth > 0 ? "transform " : "") + specJson(spec) + leaves.map((t, i) => {
    const same = first.get(t.value);
    if (same === undefined) first.set(t.value, i);
    return `|${t.dtype}[${t.shape.join(",")}]${t.requiresGrad ? "g" : ""}${same === undefined ? "" : `=${same}`}`;
  }).join("");
}

/** A replay the caller runs (synchronously or awaiting it) and sends the result back: the outputs, or null. */
export interface Replay<X extends Run> {
  readonly run: X;
  readonly inputs: NDArray[];
}

/** What a target offers the shared mechanism: its name, whether it can run a program, and the prepared program. */
interface AnyTarget<X extends Run> {
  readonly name: string;
  unsupported(program: Program): string | null;
  prepare(program: Program): X;
}

/**
 * Whether an entry serves a call with these arguments: null (its guards do not hold, or it is for calls that share
 * storage and this one does not), "replay", or run eagerly — `why` when that is this call's doing, not the step's.
 */
function serves<X extends Run>(e: Entry<X>, leaves: readonly Tensor[]): null | "replay" | { why: string | null } {
  if (e.sharing !== undefined) return sharesTouched(leaves, e.sharing) ? { why: SHARING } : null;
  if (!e.guards.every((g) => g.key() === g.value)) return null;
  if (e.run === null) return { why: null };
  if (e.written.length > 0 && sharesWritten(leaves, e.written)) return { why: WRITES };
  return "replay";
}

/**
 * The cache entry of a trace: its program prepared on a target; or the step's reasons to run eagerly; or, when an
 * argument shared storage with a tensor the step touched (the trace may have taken two arrays for one, so its
 * program or reasons fit no call that does not share), an entry that runs eagerly the calls sharing storage with
 * those tensors — the others are traced apart.
 */
function entryOf<X extends Run>(traced: Traced, own: Program["guards"], options: { readonly optimize?: boolean | undefined }, chooseTarget: (p: Program) => AnyTarget<X>): Entry<X> {
  if (traced.touched !== undefined) return { guards: [], program: null, run: null, target: "eager", reasons: [], written: [], sharing: traced.touched };
  if (traced.program === null) return { guards: own, program: null, run: null, target: "eager", reasons: traced.reasons, written: [] };
  const program = options.optimize === false ? traced.program : optimize(traced.program);
  const target = chooseTarget(program);
  return { guards: [...own, ...program.guards], program, run: target.prepare(program), target: target.name, reasons: [], written: written(program) };
}

/**
 * The mechanism of {@link compile} and `compileAsync`: the cache of traces per signature and guard, the choice of
 * target, the trace itself (the eager first call), `Value` programs. A call is a generator that yields each replay
 * it needs run and is sent its outputs (null: state no longer fits that trace, so it looks further or traces
 * again); the synchronous and asynchronous drivers differ only in how they run a replay.
 */
export function compiler<A extends unknown[], R, X extends Run>(
  fn: (...args: A) => R,
  options: Omit<CompileOptions, "target"> & { readonly target?: AnyTarget<X> | undefined },
  who: string,
): CompiledInfo & { call(args: A): Generator<Replay<X>, R, NDArray[] | null> } {
  checkCompile(fn, options, who);
  const cache = new Map<string, Entry<X>[]>();
  const stats = { traced: 0, replayed: 0, eager: 0 };
  /** Why calls ran eagerly although their signature has a program (for `explain`). */
  const notes = new Set<string>();
  const chooseTarget = (p: Program): AnyTarget<X> => {
    if (options.target !== undefined) {
      const why = options.target.unsupported(p);
      if (why !== null) throw new CompileError(`${who}: the target ${options.target.name} cannot run this step: ${why}`);
      return options.target;
    }
    for (let i = registered.length - 1; i >= 0; i--) if (registered[i]!.unsupported(p) === null) return registered[i]! as unknown as AnyTarget<X>;
    return cpuTarget as unknown as AnyTarget<X>;
  };
  // A function of Values (the scalar engine) is compiled by ./scalar.ts, decided at the first call.
  let scalar: ScalarCompiled | null = null;
  function* call(args: A): Generator<Replay<X>, R, NDArray[] | null> {
    // Inside another trace (the outer one records these ops) or inside vmap: run as written.
    if (recording.current !== null || batching.apply !== null || scalarRecording.current !== null) return fn(...args);
    if (scalar === null && holdsValue(args)) scalar = new ScalarCompiled(fn as (...a: never[]) => unknown, options, stats);
    if (scalar !== null) return scalar.call(args) as R;
    const flat = flattenTree(args, `${who}: the arguments`);
    const key = signature(flat.leaves, flat.spec);
    const entries = cache.get(key) ?? [];
    // most recently used last (a Map keeps insertion order): the first key is the one to drop
    cache.delete(key);
    cache.set(key, entries);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const use = serves(e, flat.leaves);
      if (use === null) continue;
      if (use !== "replay") {
        if (use.why !== null) {
          if (options.strict === true) throw new CompileError(`${who}: this call cannot be compiled: ${use.why}`);
          notes.add(use.why);
        }
        stats.eager++;
        return fn(...args);
      }
      const outs = yield { run: e.run!, inputs: flat.leaves.map((t) => t.value) };
      if (outs === null) {
        entries.splice(i--, 1); // a tensor it reads changed shape or lost its gradient: trace again
        continue;
      }
      stats.replayed++;
      return unflattenTree(e.program!.outputSpec, outs.map((a: NDArray) => new Tensor(a))) as R;
    }
    const own = options.guard === undefined ? [] : [{ key: options.guard, value: options.guard() }];
    // Without tensor arguments it may be a Value program: the scalar engine is traced as well.
    const st = flat.leaves.length === 0 ? new ScalarTrace([]) : null;
    let traced: ReturnType<typeof trace>;
    try {
      traced = trace(fn as (...a: never[]) => unknown, args);
    } finally {
      st?.end();
    }
    if (st !== null && st.active()) {
      scalar = new ScalarCompiled(fn as (...a: never[]) => unknown, options, stats);
      return scalar.adopt(st, ScalarCompiled.emptyKey(), [], traced.result, (traced.program?.steps.length ?? 0) > 0) as R;
    }
    stats.traced++;
    const entry = entryOf(traced, own, options, chooseTarget);
    if (entry.sharing !== undefined) notes.add(SHARING);
    if (options.strict === true && entry.run === null) {
      throw new CompileError(`${who}: ${entry.sharing !== undefined ? `this call cannot be compiled: ${SHARING}` : `this step cannot be compiled: ${entry.reasons.join("; ")}`}`);
    }
    cache.set(key, [...entries, entry].slice(-KEEP));
    if (cache.size > SIGNATURES) cache.delete(cache.keys().next().value!);
    return traced.result as R;
  }
  const all = () => [...cache.values()].flat().filter((e) => e.sharing === undefined);
  return {
    call,
    programs: () => all().flatMap((e) => (e.program === null ? [] : [e.program])),
    explain: () =>
      [
        ...all().map((e) => (e.program === null ? `runs eagerly: ${e.reasons.join("; ")}` : `on ${e.target}:\n${programString(e.program)}`)),
        ...[...notes].map((n) => `some calls ran eagerly: ${n}`),
        ...(scalar === null ? [] : [scalar.explain()]),
      ].join("\n\n") || "not called yet",
    stats,
  };
}

/**
 * Compiles a function of tensors (and trees of tensors: arrays and plain objects of them; other values are part
 * of the signature) — a whole training step included: forward, `backward()` or `grad`, and an optimizer's update.
 *
 * What is traced is what the first call did: JavaScript control flow that depends on tensor values is fixed then
 * (as in JAX's `jit`), numbers in the code are constants, and tensors the function closes over are read at each
 * call (a module's parameters, an optimizer's buffers). An optimizer's learning rate and step count, random draws
 * and labels are recomputed at each call. Results are plain tensors (no graph): differentiate inside the
 * compiled function. After a call, `.grad` of a parameter holds that call's gradient; the next call writes over it.
 * Not supported: passing as an argument the very tensor the function also closes over — the trace sees one tensor,
 * takes both reads for the argument, and later calls with another argument read that one for both (docs/compile.md).
 *
 * A function of `Value`s (the scalar engine: `Value` leaves in its arguments, or no tensors and a scalar graph built
 * by the first call) is a *Value program*: traced once and replayed on a flat tape, bit for bit the eager step
 * (./scalar.ts; update parameters with an optimizer's `step()`, which the trace records).
 *
 * @example
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
 * const opt = new nn.SGD(model.parameters(), { lr: 0.1 });
 * const step = compile((x: Tensor, y: Tensor) => {
 *   opt.zeroGrad();
 *   const loss = nn.mseLoss(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 *   return loss;
 * });
 * const x = randn([16, 4]), y = randn([16, 1]);
 * const first = step(x, y).item(); // traced (runs eagerly once)
 * const later = step(x, y).item(); // replayed: one program, arrays reused
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R, options: CompileOptions = {}): CompiledFunction<A, R> {
  const c = compiler<A, R, Executable>(fn, options, "compile");
  const call = (...args: A): R => {
    const g = c.call(args);
    let r = g.next();
    while (r.done !== true) r = g.next(r.value.run(r.value.inputs));
    return r.value;
  };
  return Object.assign(call, { programs: c.programs, explain: c.explain, stats: c.stats });
}
