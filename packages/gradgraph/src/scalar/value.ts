/**
 * The scalar engine (the micrograd layer): a `Value` is a node of the computational graph holding a number,
 * the op that made it and its inputs. Every method applies an op of the table; `backward()` is the lecture's
 * backpropagation: start at the right, walk leftwards, and at every node add `local derivative × gradient`
 * into each input's gradient, so gradients add up where a value fans out.
 *
 * The numbers live on a tape (`tape.ts`): a `Value` is a small handle on its entry (value, gradient, op code,
 * input indices in typed arrays) plus its input `Value`s, which keep the graph alive as long as the `Value` is.
 * Backpropagation is one reverse sweep over the tape, compiled from the op table (`kernels.ts`).
 *
 * Big graphs recycle tapes (`tape.ts`, "Lifetime"): in a training loop whose step records 65,536 nodes or more,
 * the nodes made by ops and by `Value.constant` stay valid through the next step's `backward()`; using one later
 * throws {@link StaleValueError}. Leaves made with `new Value` (parameters, inputs) never go stale: make anything
 * kept across steps with `new Value`, or read `.data` into a number. The lecture's small graphs never recycle.
 */
import { InputError } from "../core/errors.js";
import { describe, expectOptions, optionKeys } from "../core/expect.js";
import type { GraphNode } from "../core/graph.js";
import type { Span } from "../core/span.js";
import { elementwiseList } from "../ops/elementwise.js";
import { numberAlgebra } from "../ops/algebras.js";
import type { ElementwiseName, ElementwiseOp } from "../ops/op.js";
import { arityOfCode, codeOf, opOfCode, scalarKernels, type KernelEnv, type Kernels, type Storage } from "./kernels.js";
import { scalarRecording } from "./recording.js";
import { backwardFrom, checkLive, importLeaves, leafRoom, recordImport, recordLeaf, recordUse, retirements, room, Tape, tapes, walkFrom, type StaleValueError } from "./tape.js";

export type { Span };

/** What a Value's operations accept: another Value, or a plain number (a constant). */
export type ValueLike = Value | number;

/** One method per elementwise op: tsc rejects a `Value` that lacks one. */
type ValueMethods = { readonly [K in ElementwiseName]: (...others: ValueLike[]) => Value };

/** Options of a new {@link Value}: a label, whether gradients flow into it, where it came from in the source. */
export interface ValueOptions {
  /** A name for printing: the variable's name, or a named constant such as `e`. */
  label?: string;
  /** Whether gradients flow into this leaf. Default true for `new Value`, false for `Value.constant`. */
  requiresGrad?: boolean;
  span?: Span;
}

const VALUE_KEYS = optionKeys<ValueOptions>({ label: true, requiresGrad: true, span: true });

/** What few nodes carry: a label and a span (kept off the node, so that a `Value` is four fields). */
interface Extras {
  label?: string | undefined;
  span?: Span | undefined;
}
const extras = new WeakMap<Value, Extras>();

/** The node's extras, made on first use. */
function extrasOf(v: Value): Extras {
  let x = extras.get(v);
  if (x === undefined) extras.set(v, (x = {}));
  return x;
}

/**
 * A scalar in a computational graph.
 *
 * @example
 * const x = new Value(0, { label: "x" }), y = new Value(1, { label: "y" });
 * const d = y.add(x.neg().exp()).pow(-1);   // 1 / (y + e^-x)
 * d.backward();
 * x.grad; // 0.25
 * y.grad; // -0.25
 */
export class Value implements ValueMethods, GraphNode {
  // Four fields, set by the constructor in this order whichever form runs (one object shape for every node);
  // `declare`d so that no class-field definitions run before it.
  /** @internal The tape this node's entry is on. */
  declare readonly t: Tape;
  /** @internal The entry's index on the tape. */
  declare readonly i: number;
  /** @internal The first input (null for a leaf). */
  declare readonly a: Value | null;
  /** @internal The second input (null for a leaf or a unary op). */
  declare readonly b: Value | null;

  /**
   * A leaf holding `data` (an input: gradients flow into it unless `requiresGrad: false`), or, given `op` and
   * its `inputs`, a node computed by that op holding `data`.
   */
  constructor(data: number, options?: ValueOptions, op?: ElementwiseOp | null, inputs?: readonly Value[]);
  /** @internal A handle on entry `i` of tape `T`, recorded by the kernels. */
  constructor(T: Tape, i: number, a: Value | null, b: Value | null);
  constructor(
    data: number | Tape,
    options?: ValueOptions | number,
    op?: ElementwiseOp | null | Value,
    inputs?: readonly Value[] | Value | null,
  ) {
    // Short, for the kernels' form (once per node, inlined into every op): the public form returns the node
    // that `made` records, through that same form (one object shape for every node).
    if (typeof data === "number") return made(data, options as ValueOptions | undefined, op as ElementwiseOp | null | undefined, inputs as readonly Value[] | undefined);
    if (!(data instanceof Tape)) throw new InputError(`Value: expected a number, got ${describe(data)}${typeof data === "string" ? ` (${JSON.stringify(data)})` : ""}`);
    this.t = data;
    this.i = options as number;
    this.a = op as Value | null;
    this.b = inputs as Value | null;
  }

  /** A constant leaf: no gradient flows into it. */
  static constant(c: number, label?: string): Value {
    const T = room(1);
    const v = new Value(T, recordLeaf(T, c, false), null, null);
    if (label !== undefined) v.label = label;
    return v;
  }

  /** Wraps a number as a constant; returns a `Value` unchanged. */
  static from(x: ValueLike): Value {
    return x instanceof Value ? x : Value.constant(x);
  }

  /** Applies an op of the table to values (numbers become constants). */
  static apply(op: ElementwiseOp, args: readonly ValueLike[], options: ValueOptions = {}): Value {
    if (args.length !== op.arity) throw new Error(`${op.name}: expected ${op.arity} inputs, got ${args.length}`);
    const v = K.record[codeOfOp(op)]!(Value.from(args[0]!), op.arity === 1 ? null : Value.from(args[1]!));
    if (options.label !== undefined) v.label = options.label;
    if (options.span !== undefined) v.span = options.span;
    return v;
  }

  /** The number this node holds (the forward value). */
  get data(): number {
    checkLive(this.t);
    if (scalarRecording.current !== null) scalarRecording.current.read(this, "data");
    return this.t.val[this.i]!;
  }
  /** Overwrites the forward value (an optimizer's update); nodes computed from it are not recomputed. */
  set data(v: number) {
    checkLive(this.t);
    if (scalarRecording.current !== null) scalarRecording.current.write(this, "data", v);
    const T = this.t;
    T.val[this.i] = v;
    const u = T.importedBy?.[this.i]; // the tape that imported this node last keeps its copy current
    if (u) u.val[T.importedAt[this.i]!] = v;
  }

  /** ∂(root of the last backward)/∂(this node). */
  get grad(): number {
    checkLive(this.t);
    if (scalarRecording.current !== null) scalarRecording.current.read(this, "grad");
    return this.t.grad[this.i]!;
  }
  /** Sets the gradient (to 0 to clear it before another backward pass). */
  set grad(g: number) {
    const T = this.t;
    checkLive(T);
    if (scalarRecording.current !== null) scalarRecording.current.write(this, "grad", g);
    T.grad[this.i] = g;
    if (this.i > T.swept) T.swept = this.i;
  }

  /** Whether gradients flow into this node (set on a leaf; an op node takes it from its inputs when made). */
  get requiresGrad(): boolean {
    checkLive(this.t);
    return this.t.rg[this.i] === 1;
  }
  /** Turns gradients into this leaf on or off. */
  set requiresGrad(r: boolean) {
    checkLive(this.t);
    if (scalarRecording.current !== null) scalarRecording.current.write(this, "requiresGrad", r ? 1 : 0);
    const T = this.t;
    T.rg[this.i] = r ? 1 : 0;
    const u = T.importedBy?.[this.i];
    if (u) u.rg[T.importedAt[this.i]!] = r ? 1 : 0;
  }

  /** The op that made this node (null for a leaf). */
  get op(): ElementwiseOp | null {
    checkLive(this.t);
    return opOfCode[this.t.op[this.i]!] ?? null;
  }

  /** The op's inputs, in order (empty for a leaf). */
  get inputs(): readonly Value[] {
    return this.a === null ? [] : this.b === null ? [this.a] : [this.a, this.b];
  }

  /** A name for printing. */
  get label(): string | undefined {
    return extras.get(this)?.label;
  }
  /** Names the node. */
  set label(label: string | undefined) {
    extrasOf(this).label = label;
  }

  /** Where in the source text this node came from (set by the expression compiler). */
  get span(): Span | undefined {
    return extras.get(this)?.span;
  }
  /** Records where in the source text the node came from. */
  set span(span: Span | undefined) {
    extrasOf(this).span = span;
  }

  /** @internal Scratch mark for graph walks (see `topoOrder`), kept on the tape; not part of the public type. */
  get topoMark(): number {
    checkLive(this.t);
    return this.t.walk?.[this.i] ?? 0;
  }
  /** @internal */
  set topoMark(m: number) {
    checkLive(this.t);
    this.t.walkMarks()[this.i] = m;
  }

  /** True for an input or a constant (a node no op made). */
  get isLeaf(): boolean {
    return this.a === null;
  }

  /** this + other. */
  add(other: ValueLike): Value { return rec.add(this, Value.from(other)); }
  /** this − other. */
  sub(other: ValueLike): Value { return rec.sub(this, Value.from(other)); }
  /** this · other. */
  mul(other: ValueLike): Value { return rec.mul(this, Value.from(other)); }
  /** this / other. */
  div(other: ValueLike): Value { return rec.div(this, Value.from(other)); }
  /** −this. */
  neg(): Value { return rec.neg(this, null); }
  /** `this ^ exponent`; the exponent may be a constant (`x^2`) or a variable (`a^b`). */
  pow(exponent: ValueLike): Value { return rec.pow(this, Value.from(exponent)); }
  /** eˣ. */
  exp(): Value { return rec.exp(this, null); }
  /** The natural logarithm. */
  log(): Value { return rec.log(this, null); }
  /** √x (its derivative at 0 is +∞). */
  sqrt(): Value { return rec.sqrt(this, null); }
  /** |x| (derivative 0 at 0). */
  abs(): Value { return rec.abs(this, null); }
  /** max(x, 0) (derivative 0 at 0). */
  relu(): Value { return rec.relu(this, null); }
  /** 1 / (1 + e⁻ˣ). */
  sigmoid(): Value { return rec.sigmoid(this, null); }
  /** tanh(x). */
  tanh(): Value { return rec.tanh(this, null); }
  /** sin(x). */
  sin(): Value { return rec.sin(this, null); }
  /** cos(x). */
  cos(): Value { return rec.cos(this, null); }
  /** The larger of this and other (the lecture's `max(x, 0)`); at a tie the gradient splits evenly. */
  max(other: ValueLike): Value { return rec.max(this, Value.from(other)); }
  /** The smaller of this and other; at a tie the gradient splits evenly. */
  min(other: ValueLike): Value { return rec.min(this, Value.from(other)); }
  /** 1 where this > other, else 0 (zero gradient). */
  gt(other: ValueLike): Value { return rec.gt(this, Value.from(other)); }
  /** 1 where this == other, else 0 (zero gradient). */
  eq(other: ValueLike): Value { return rec.eq(this, Value.from(other)); }
  /** -1, 0 or 1 (zero gradient). */
  sign(): Value { return rec.sign(this, null); }
  /** 1 where this < other, else 0 (zero gradient). */
  lt(other: ValueLike): Value { return rec.lt(this, Value.from(other)); }
  /** 1 where this <= other, else 0 (zero gradient). */
  le(other: ValueLike): Value { return rec.le(this, Value.from(other)); }
  /** 1 where this >= other, else 0 (zero gradient). */
  ge(other: ValueLike): Value { return rec.ge(this, Value.from(other)); }
  /** 1 where this != other, else 0 (zero gradient). */
  ne(other: ValueLike): Value { return rec.ne(this, Value.from(other)); }
  /** ln(1 + this), accurate near 0. */
  log1p(): Value { return rec.log1p(this, null); }
  /** e^this − 1, accurate near 0. */
  expm1(): Value { return rec.expm1(this, null); }
  /** this². */
  square(): Value { return rec.square(this, null); }

  /** This node's local derivative with respect to its `i`-th input, at the current values. */
  localDerivative(i: number): number {
    if (this.op === null) throw new Error("a leaf has no local derivative");
    return localDerivative(this, i);
  }

  /**
   * Backpropagation from this node: seeds ∂this/∂this = 1 and sweeps the tape right to left, once (creation
   * order is a topological order: a chain of a million nodes is fine). Gradients of the intermediate nodes are
   * set afresh; those of the leaves **add up** across calls, as in PyTorch: call `zeroGrad()` between passes.
   * Returns the number of local-derivative multiplications done (one per edge into a node that needs a
   * gradient).
   */
  backward(): number {
    if (scalarRecording.current !== null) scalarRecording.current.backward(this);
    return backwardFrom(this.t, this.i, K);
  }

  /** Sets the gradient of every node of this graph to 0. */
  zeroGrad(): void {
    walkFrom(this.t, this.i, arityOfCode, (T, i) => {
      T.grad[i] = 0;
    });
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }

  /** What Node's `console.log` and `util.inspect` show: {@link toString} (not the tape's arrays). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The public constructor's work: records a leaf holding `data`, or `op(...inputs)` holding `data`. */
function made(data: number, options: ValueOptions = {}, op: ElementwiseOp | null = null, inputs: readonly Value[] = []): Value {
  expectOptions("Value", options, VALUE_KEYS);
  if (op !== null) codeOfOp(op);
  if (op === null ? inputs.length !== 0 : inputs.length !== op.arity) {
    throw new Error(`${op?.name ?? "a leaf"}: expected ${op?.arity ?? 0} inputs, got ${inputs.length}`);
  }
  // A leaf (a parameter, an input) goes to the leaf tape, which is never recycled; an op node to the current tape.
  const T = op === null ? leafRoom(1) : room(3);
  const [a = null, b = null] = inputs;
  const ia = a === null ? -1 : entryOn(T, a), ib = b === null ? -1 : entryOn(T, b);
  const i = recordLeaf(T, data, options.requiresGrad ?? (op === null || inputs.some((x) => x.requiresGrad)));
  if (op !== null) {
    T.mark[i] = 0;
    T.op[i] = codeOfOp(op);
    T.grad[i] = 0;
    T.a[i] = ia;
    T.b[i] = ib;
    recordUse(T, i, ia, ib);
  }
  const v = new Value(T, i, a, b);
  if (options.label !== undefined) v.label = options.label;
  if (options.span !== undefined) v.span = options.span;
  return v;
}

/** The tape's code for an op of the table; an op object from elsewhere is refused (the tape records codes). */
function codeOfOp(op: ElementwiseOp): number {
  const code = codeOf.get(op);
  if (code === undefined) throw new Error(`${op.name}: not an op of the table (a Value applies only the table's elementwise ops)`);
  return code;
}

/** The index on `T` (which has room) of the entry for `x`: its own, or an import of it. */
function entryOn(T: Tape, x: Value): number {
  return x.t === T ? x.i : importOf(T, x);
}

/** The entry on `T` standing for `x`, a node of another tape (the kernels' path): its place in the leaves imported at once, else `importInto`. */
function importOf(T: Tape, x: Value): number {
  return x.t === T.leafSrc && x.i < T.leafN ? T.leafBase + x.i : importInto(T, x);
}

/**
 * Makes an entry on `T` standing for `x`, a node of another tape (an import), once per tape: the source tape
 * remembers, per entry, the last tape that imported it and where (`importOf` looks there first), and the setters
 * of `data` and `requiresGrad` keep that copy current (a graph recorded on an older tape keeps the value it was
 * recorded with).
 */
function importInto(T: Tape, x: Value): number {
  const S = x.t;
  checkLive(S);
  // A training step's tape takes all the parameters at once (not while a trace watches imports one by one).
  if (T.bulk && T.leafSrc === null && S === tapes.leaves && scalarRecording.current === null && importLeaves(T, S)) return T.leafBase + x.i;
  const by = S.importSlots();
  if (by[x.i] === T) return S.importedAt[x.i]!; // imported before
  const k = recordImport(T, S, x.i);
  by[x.i] = T;
  S.importedAt[x.i] = k;
  if (scalarRecording.current !== null) scalarRecording.current.imported(T, x, k);
  return k;
}

const env: KernelEnv<Value> = { make: Value, imp: importOf, constant: (c) => Value.constant(c) };
/** The kernels in use (made again, specialized, when the tapes in use get other storage: `specialize`). */
let K = scalarKernels<Value>(env);
/** Each op's record function, by name (for the class's methods, which `install` replaces on the prototype). */
let rec = {} as { readonly [K in ElementwiseName]: (a: Value, b: Value | null) => Value };
install(K);

/**
 * Makes `kernels` the ones in use. The class's methods above state the API and do its work; the kernels'
 * methods, installed over them, do the same work with the op's record function inlined (one call per node
 * instead of two), not enumerable, as the class's own methods: `for…in` over a node lists none of them. A
 * method someone replaced since (a wrapper counting calls, a spy) stays: only the class's or the last kernels'
 * own are replaced.
 */
function install(kernels: Kernels<Value>): void {
  const proto = Value.prototype as unknown as Record<string, unknown>;
  for (const [name, method] of Object.entries(kernels.methods)) {
    const now = proto[name];
    if (K === kernels || now === (K.methods as Record<string, unknown>)[name]) Object.defineProperty(proto, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
  K = kernels;
  rec = Object.fromEntries(elementwiseList.map((op) => [op.name, K.record[codeOf.get(op)!]!])) as typeof rec;
}

/**
 * Specializations a process makes at most (each compiles the kernels again): beyond, the general kernels (made
 * once more), which hold no storage — kernels bound to storages no tape uses any more would keep those arrays alive.
 */
const MAX_SPECIALIZATIONS = 64;
let specializations = 0;

/**
 * At a tape's retirement (only training steps of `RETIRE_AT` entries or more retire tapes), makes kernels
 * specialized to the storages of the current and the retired tape (`kernels.ts`, `Storage`), unless the kernels
 * in use are already: a training loop's two tapes take turns with the same two storages, so it specializes
 * once, again only when a step outgrows its tape. The lecture's small graphs never retire a tape, and use the
 * general branch. Not while `compile` traces a step: the trace's tapes are its own (gone when it ends), and
 * kernels specialized to them would keep their storage alive and the training loop's tapes off their branches.
 */
function specialize(): void {
  if (!K.generated || scalarRecording.current !== null) return;
  const want: Storage[] = [];
  for (const T of [tapes.current, tapes.retired]) {
    if (T !== null && !T.dead && !want.some((s) => s.op === T.op)) want.push(storageOf(T));
  }
  if (want.every((s) => K.storages.some((k) => k.op === s.op))) return;
  if (specializations >= MAX_SPECIALIZATIONS) {
    if (K.storages.length > 0) install(scalarKernels(env));
    return;
  }
  specializations++;
  install(scalarKernels(env, want));
}
retirements.notify = specialize;

/** @internal The storages the kernels in use are specialized to (for tests). */
export function specializedStorages(): readonly Storage[] {
  return K.storages;
}

/** A tape's storage arrays, as they are now. */
function storageOf(T: Tape): Storage {
  return { op: T.op, a: T.a, b: T.b, val: T.val, grad: T.grad, rg: T.rg, seen: T.seen, use: T.use };
}

/** ∂node/∂(its i-th input), evaluated with the op table's partial on numbers. */
export function localDerivative(node: Value, i: number): number {
  const op = node.op!;
  if (op.nondiff) return 0;
  const xs = node.inputs.map((x) => x.data);
  return op.partials[i]!(numberAlgebra, xs, node.data) as number;
}
