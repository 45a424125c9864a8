/**
 * Modules: the building blocks of a network (PyTorch's `nn.Module`). A module's state lives in its own fields,
 * found by walking them in the order they were set, so a subclass mostly just assigns fields:
 *
 * ```ts
 * class Affine extends Module {
 *   w = new Parameter(randn([3]));                  // a parameter: trained, saved
 *   forward(x: Tensor) { return x.mul(this.w); }
 * }
 * ```
 *
 * What a field may hold, and what it becomes:
 * - a {@link Parameter} (`new Parameter(t)`, or `registerParameter(name, t | null)`): a parameter, in
 *   `parameters()` and `stateDict()`. `registerParameter(name, null)` declares an absent one (a bias turned off).
 * - a leaf tensor with `requiresGrad: true` (`randn([3], { requiresGrad: true })`): a shortcut for a parameter.
 * - a tensor declared with `registerBuffer(name, t, { persistent })`: a buffer — state that is not trained
 *   (BatchNorm's running statistics); in `buffers()`, and in `stateDict()` unless `persistent: false`.
 * - a module (or an array of modules, named `field.0`, `field.1`, …), or `registerModule(name, m)`: a child.
 * - an array of parameters: parameters named `field.0`, `field.1`, … (PyTorch's `ParameterList`).
 * - modules or tensors inside a plain object, a Map or a nested array: an error (their state would not be found;
 *   PyTorch's `ModuleDict` has no counterpart — use fields, a flat array, or `registerModule`).
 * - any other tensor (one without requiresGrad, or the result of an op): an error when the module's state is
 *   read (`parameters()`, `stateDict()`, …), saying how to declare it, never silently left out.
 *
 * Parameters, modules and tensors are recognised by global symbols, not `instanceof`, so two copies of the
 * package understand each other's models. Names follow PyTorch (`0.weight`, `2.bias` in a `Sequential`,
 * `bn.running_mean`), so `stateDict()` saved by {@link saveSafetensors} reads like a PyTorch `state_dict`, and a
 * PyTorch `state_dict` loads with `loadStateDict`.
 */
import { InputError, ShapeError } from "../core/errors.js";
import { describe as describeValue, expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { generatorFor, type Generator } from "../tensor/random.js";
import { guard } from "../tensor/recording.js";
import { isTensor, noGrad, type Tensor } from "../tensor/tensor.js";
import { activationSpec, dropout, gelu, leakyRelu, type ActivationName } from "./functional.js";
import { initWeight, uniformFanIn, type InitName } from "./init.js";
import { isParameter, Parameter } from "./parameter.js";
import { markIntegerValued } from "./safetensors.js";

/** The mark of a module (global: the same in every copy of the package). */
export const MODULE_BRAND: unique symbol = Symbol.for("gradgraph.Module") as never;

/** Whether `x` is a {@link Module} (of this copy of the package or another). */
export function isModule(x: unknown): x is Module {
  return typeof x === "object" && x !== null && (x as { [MODULE_BRAND]?: unknown })[MODULE_BRAND] === true;
}

/** What came where a module was expected, for the error (Sequential, registerModule): a class without `new` gets a hint. */
function describeNonModule(x: unknown): string {
  const name = typeof x === "function" ? x.name || "(anonymous)" : "";
  if (typeof x === "function" && isModule(x.prototype)) return `the class ${name}, not a module (did you forget \`new\`? new ${name}())`;
  if (typeof x === "function") return /^class[\s{]/.test(Function.prototype.toString.call(x)) ? `the class ${name}, which is not a Module subclass` : "a function, not a module (wrap it in a Module subclass whose forward calls it)";
  return `${isTensor(x) ? "a tensor" : describeValue(x)}, not a module${Array.isArray(x) ? " (spread a list of layers: new Sequential(...layers))" : ""}`;
}

/** Whether an array, Map or plain object holds a module or a tensor, at any depth (state a field would hide). */
function holdsState(x: unknown, depth = 0): boolean {
  if (isModule(x) || isTensor(x)) return true;
  if (depth > 8 || typeof x !== "object" || x === null) return false;
  const values = Array.isArray(x) ? x : x instanceof Map ? [...x.values()] : Object.getPrototypeOf(x) === Object.prototype ? Object.values(x) : [];
  return values.some((v) => holdsState(v, depth + 1));
}

/** A state dict: names (`0.weight`, `bn.running_mean`) to tensors, in the model's order. */
export type StateDict = Map<string, Tensor>;

/** What `loadStateDict` did not match (non-strict loading): names the model has but the dict lacks, and back. */
export interface LoadResult {
  /** Names the model has and the state lacks (left unchanged). */
  missingKeys: string[];
  /** Names the state has and the model lacks (ignored). */
  unexpectedKeys: string[];
}

/** One field of a module's own state. */
type Own = { kind: "parameter" | "buffer"; name: string; tensor: Tensor; persistent: boolean };

function checkName(who: string, name: string): void {
  if (typeof name !== "string" || name === "" || name.includes(".")) {
    throw new InputError(`${who}: a name must be a non-empty string without ".", got ${JSON.stringify(name)}`);
  }
}

/** The keys of loadStateDict's and loadParameters' options. */
const LOAD_KEYS = optionKeys<{ strict?: boolean }>({ strict: true });

/**
 * Copies `state` into the named tensors `into` (see `Module.loadStateDict`), after checking everything: with
 * `strict`, missing and unexpected names are errors; shape mismatches always are.
 */
function loadInto(model: string, who: string, into: readonly [string, Tensor][], state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, strict: boolean): LoadResult {
  const map: ReadonlyMap<string, Tensor> = state instanceof Map ? state : new Map(Object.entries(state));
  const names = new Set(into.map(([n]) => n));
  const missingKeys = into.filter(([n]) => !map.has(n)).map(([n]) => n);
  const unexpectedKeys = [...map.keys()].filter((n) => !names.has(n));
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(", ")}`);
  if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
  for (const [n, t] of into) {
    const v = map.get(n);
    if (v === undefined) continue;
    if (!isTensor(v)) problems.push(`${n}: expected a tensor, got ${typeof v}`);
    else if (v.shape.join() !== t.shape.join()) problems.push(`${n}: shape ${formatShape(v.shape)}, the model's is ${formatShape(t.shape)}`);
  }
  if (problems.length > 0) {
    const Err = problems.every((p) => p.includes("shape")) ? ShapeError : InputError;
    throw new Err(`${who}: the state does not fit ${model}: ${problems.join("; ")}`);
  }
  noGrad(() => {
    for (const [n, t] of into) {
      const v = map.get(n);
      if (v !== undefined) t.assign(v);
    }
  });
  return { missingKeys, unexpectedKeys };
}

/**
 * The base class of every layer and network.
 *
 * @example
 * const model = new MLP([2, 16, 2], "relu", { seed: 0 });
 * model.namedParameters().map(([name, p]) => `${name} ${p.shape}`); // ["0.weight 16,2", "0.bias 16", ...]
 * model.eval(); // dropout off
 */
export abstract class Module {
  #training = true;
  /** Training mode (true) or evaluation mode (false); {@link Dropout} and friends look at it (a compiled step's guard). */
  get training(): boolean {
    guard(() => `training ${this.#training}`);
    return this.#training;
  }
  /** Sets this module's mode alone (`train()`/`eval()` set the whole tree). */
  set training(mode: boolean) { this.#training = mode; }
  /** Names declared by registerBuffer, with whether they are saved and whether they hold integers. */
  readonly #buffers = new Map<string, { persistent: boolean; integer: boolean }>();

  /** The brand {@link isModule} looks for. */
  get [MODULE_BRAND](): true {
    return true;
  }

  /** The module's output for an input batch. */
  abstract forward(x: Tensor): Tensor;

  /**
   * Declares a parameter (PyTorch's `register_parameter`): sets field `name` to `t` as a {@link Parameter}
   * (a tensor that is not one is wrapped, sharing its values), or to null for an absent one. Returns it.
   *
   * @example
   * this.bias = this.registerParameter("bias", bias ? zeros([out]) : null);
   */
  registerParameter(name: string, t: Tensor | null): Parameter | null {
    checkName("registerParameter", name);
    const p = t === null || isParameter(t) ? t : new Parameter(t);
    (this as Record<string, unknown>)[name] = p;
    return p;
  }

  /**
   * Declares a buffer (PyTorch's `register_buffer`): state that is not trained, such as BatchNorm's running
   * mean. Sets field `name` to `t`; later assignments to the field replace the buffer. Persistent buffers (the
   * default) are in `stateDict()`; others (caches, masks) are not. `integer: true` declares a count (BatchNorm's
   * `num_batches_tracked`, PyTorch's int64): saved in its own dtype even when the rest is narrowed to F16. Returns `t`.
   *
   * @example
   * declare running_mean: Tensor; // the field is the buffer's name (PyTorch's key)
   * constructor(n: number) { super(); this.registerBuffer("running_mean", zeros([n])); }
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, { persistent = true, integer = false }: { persistent?: boolean; integer?: boolean } = {}): T {
    checkName("registerBuffer", name);
    if (t !== null && !isTensor(t)) throw new InputError(`registerBuffer: ${name} must be a tensor or null, got ${typeof t}`);
    this.#buffers.set(name, { persistent, integer });
    (this as Record<string, unknown>)[name] = t;
    return t;
  }

  /** Declares a child module under `name` (PyTorch's `add_module`); plain assignment does the same. Returns it. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName("registerModule", name);
    if (!isModule(m)) throw new InputError(`registerModule: ${name} must be a Module, got ${describeNonModule(m)}`);
    (this as Record<string, unknown>)[name] = m;
    return m;
  }

  /** The direct children, named by the property that holds them (`name.i` for arrays). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, v] of Object.entries(this)) {
      if (isModule(v)) out.push([key, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => isModule(m) && out.push([`${key}.${i}`, m]));
    }
    return out;
  }

  /** The direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Every module of the tree, this one first (depth first). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every module of the tree with its dotted name (PyTorch's `named_modules(remove_duplicate=False)`): this one
   * first, named `prefix` (default ""), then depth first (`0`, `0.1`, …); a module shared by two fields is listed
   * under each name. A module that contains itself (`this.self = this`, or a child holding its parent) is an
   * InputError: its state would have no end.
   */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const ancestors: Module[] = [];
    const visit = (name: string, m: Module): void => {
      if (ancestors.includes(m)) {
        throw new InputError(
          `${this.constructor.name}: field ${name} holds a module that contains it (a cycle: ${[...ancestors.slice(ancestors.indexOf(m)), m].map((a) => a.constructor.name).join(" → ")}): ` +
            `a module's fields are its children; keep a reference back to a parent in a #private field instead`,
        );
      }
      out.push([name, m]);
      ancestors.push(m);
      for (const [n, c] of m.namedChildren()) visit(name === "" ? n : `${name}.${n}`, c);
      ancestors.pop();
    };
    visit(prefix, this);
    return out;
  }

  /** This module's own parameters and buffers (not its children's), by field; an undeclared tensor is an error. */
  #ownState(): Own[] {
    const out: Own[] = [];
    for (const [name, v] of Object.entries(this)) {
      const buffer = this.#buffers.get(name);
      if (buffer !== undefined) {
        if (v !== null && v !== undefined) {
          if (!isTensor(v)) throw new InputError(`${this.constructor.name}: buffer ${name} must be a tensor or null, got ${typeof v}`);
          if (buffer.integer) markIntegerValued(v); // the tensor in the field now, even one assigned since
          out.push({ kind: "buffer", name, tensor: v, persistent: buffer.persistent });
        }
      } else if (isParameter(v) || (isTensor(v) && v.isLeaf && v.requiresGrad)) {
        out.push({ kind: "parameter", name, tensor: v, persistent: true });
      } else if (isTensor(v)) {
        throw this.#undeclared(name, v);
      } else if (Array.isArray(v)) {
        // PyTorch's ParameterList: parameters in an array are named field.0, field.1, … (modules: namedChildren).
        v.forEach((x: unknown, i) => {
          if (isParameter(x) || (isTensor(x) && x.isLeaf && x.requiresGrad)) out.push({ kind: "parameter", name: `${name}.${i}`, tensor: x, persistent: true });
          else if (isTensor(x)) throw this.#undeclared(`${name}.${i}`, x);
          else if (!isModule(x) && holdsState(x)) throw this.#hidden(`${name}.${i}`, Array.isArray(x) ? "an array" : "an object");
        });
      } else if (!isModule(v) && holdsState(v)) {
        throw this.#hidden(name, v instanceof Map ? "a Map" : "a plain object");
      }
    }
    return out;
  }

  /** The error for a tensor in a field (or in an array, `name` dotted) that was not declared. */
  #undeclared(name: string, v: Tensor): InputError {
    const what = `${this.constructor.name}: field ${name} holds a tensor that is neither a parameter nor a buffer (${v.isLeaf ? "a leaf without requiresGrad" : "the result of an op"}); `;
    if (name.includes(".")) return new InputError(`${what}an array may hold parameters (new Parameter(t)) and modules; keep other tensors in fields declared with registerBuffer`);
    return new InputError(
      what +
        `declare it: new Parameter(t) or this.registerParameter("${name}", t) for a weight to train, ` +
        `this.registerBuffer("${name}", t) for state to save, or this.registerBuffer("${name}", t, { persistent: false }) for neither`,
    );
  }

  /** The error for modules or tensors where they would not be found (PyTorch's ModuleDict has no counterpart). */
  #hidden(name: string, where: string): InputError {
    return new InputError(
      `${this.constructor.name}: field ${name} is ${where} holding modules or tensors, where their state would not be found; ` +
        `put them in fields, in a flat array (field.0, field.1, …), or declare each with registerModule / registerParameter`,
    );
  }

  /** Each module's own state (`own` picks and orders it), then its children's, with dotted names. */
  #walkState(prefix: string, own: (s: Own[]) => Own[]): [string, Tensor][] {
    return this.namedModules().flatMap(([name, m]) => own(m.#ownState()).map((s): [string, Tensor] => [`${prefix}${name === "" ? "" : `${name}.`}${s.name}`, s.tensor]));
  }

  /**
   * Every parameter of the tree with its dotted name (`0.weight`), in a fixed order; a parameter shared by two
   * modules (tied weights) is listed once, under its first name.
   */
  namedParameters(prefix = ""): [string, Tensor][] {
    const seen = new Set<Tensor>();
    return this.#walkState(prefix, (own) => own.filter((s) => s.kind === "parameter")).filter(([, p]) => !seen.has(p) && (seen.add(p), true));
  }

  /** Every parameter of the tree (what an optimizer updates). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Every buffer of the tree (persistent or not) with its dotted name (`bn.running_mean`). */
  namedBuffers(prefix = ""): [string, Tensor][] {
    return this.#walkState(prefix, (own) => own.filter((s) => s.kind === "buffer"));
  }

  /** Every buffer of the tree. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * The module's state (PyTorch's `state_dict`): every parameter and persistent buffer by dotted name, each
   * module's parameters then its buffers then its children's. The values are the live tensors (as PyTorch's);
   * save them, or copy them, to keep a snapshot.
   *
   * @example
   * [...new MLP([2, 3, 1], "relu").stateDict().keys()]; // ["0.weight", "0.bias", "2.weight", "2.bias"]
   */
  stateDict(prefix = ""): StateDict {
    // PyTorch's order: per module, its parameters, then its persistent buffers; then its children's
    return new Map(this.#walkState(prefix, (own) => [...own.filter((s) => s.kind === "parameter"), ...own.filter((s) => s.kind === "buffer" && s.persistent)]));
  }

  /**
   * Copies `state`'s values into the module's parameters and persistent buffers, by name (PyTorch's
   * `load_state_dict`); values are converted to each tensor's dtype. Shapes must match. With `strict` (the
   * default) the names must be exactly `stateDict()`'s; without, missing and unexpected names are returned.
   * Any problem is one error listing every missing key, unexpected key and shape mismatch (expected vs got);
   * nothing is changed then.
   *
   * @example
   * model.loadStateDict(other.stateDict());
   */
  loadStateDict(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    expectOptions("loadStateDict", options, LOAD_KEYS);
    const { strict = true } = options;
    return loadInto(this.constructor.name, "loadStateDict", [...this.stateDict()], state, strict);
  }

  /**
   * Replaces the parameters' values with `state`'s, by name (shapes must match; values are converted to each
   * parameter's dtype). With `strict` (the default) the names must be exactly the model's parameters'.
   * ({@link loadStateDict} loads buffers too.)
   */
  loadParameters(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): this {
    expectOptions("loadParameters", options, LOAD_KEYS);
    const { strict = true } = options;
    loadInto(this.constructor.name, "loadParameters", this.namedParameters(), state, strict);
    return this;
  }

  /** Clears `.grad` of every parameter (gradients add up across backward passes until cleared). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Sets training mode (default) or evaluation mode on the whole tree. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode on the whole tree (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** A one-line description of this module (its class and settings). */
  describe(): string {
    return `${this.constructor.name}()`;
  }

  /** The tree, indented, like PyTorch's repr: `Sequential(\n  (0): Linear(in=2, out=16)\n  …)`. */
  toString(): string {
    return this.#repr([]);
  }

  /** The tree below this module, `ancestors` above it (a module that contains itself shows as a cycle, once). */
  #repr(ancestors: readonly Module[]): string {
    const head = this.describe();
    if (ancestors.includes(this)) return `<cycle: ${head}>`;
    const kids = this.namedChildren();
    if (kids.length === 0) return head;
    const open = head.endsWith("()") ? head.slice(0, -1) : `${head.slice(0, -1)},`;
    const body = kids.map(([n, c]) => `  (${n}): ${c.#repr([...ancestors, this]).replace(/\n/g, "\n  ")}`).join("\n");
    return `${open}\n${body}\n)`;
  }
}

/** Options of {@link Linear} (and other layers with weights): initialiser, gain, where the initial weights come from, dtype, bias. */
export interface LayerOptions {
  /** Initialiser of the weight (default "uniform": PyTorch's U(±1/√in) for weight and bias; see {@link Linear}). */
  init?: InitName;
  /** Gain for the initialiser (see `gainFor`). */
  gain?: number;
  /**
   * Where the initial weights come from: a generator (advanced), or a seed for a fresh one; by default a stream
   * of its own from the global generator (`manualSeed`).
   */
  generator?: Generator;
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Whether the layer adds a bias (default true). */
  bias?: boolean;
}

/** The keys of {@link LayerOptions}, for the layers that take them all. */
export const LAYER_KEYS = optionKeys<LayerOptions>({ init: true, gain: true, generator: true, seed: true, dtype: true, bias: true });

/**
 * A fully connected layer: y = x Wᵀ + b, with W of shape [out, in] and b of shape [out] (PyTorch's layout).
 *
 * Initialisation: by default PyTorch's (W and b from U(±1/√in)); with `init` a named initialiser for W
 * (Kaiming/He, Xavier/Glorot) and zeros for b.
 *
 * @example
 * const layer = new Linear(3, 2, { seed: 0 });
 * layer.forward(ones([4, 3])).shape; // [4, 2]
 */
export class Linear extends Module {
  /** W, of shape [out, in]. */
  weight: Tensor;
  /** b, of shape [out]; null without a bias. */
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    super();
    expectOptions("Linear", options, LAYER_KEYS);
    for (const [what, n] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new InputError(`Linear: ${what} must be a positive integer, got ${n}`);
    }
    const g = generatorFor(options, new.target.name);
    const dtype = options.dtype ?? "float32";
    const shape = [outFeatures, inFeatures];
    const init = options.init ?? "uniform";
    this.weight = new Parameter(initWeight(init, shape, { generator: g, dtype, ...(options.gain === undefined ? {} : { gain: options.gain }) }));
    this.weight.label = "weight";
    const bias = options.bias === false ? null
      : init === "uniform" ? uniformFanIn([outFeatures], { generator: g, dtype, fanIn: inFeatures }) : initWeight("zeros", [outFeatures], { dtype });
    this.bias = this.registerParameter("bias", bias);
    if (this.bias !== null) this.bias.label = "bias";
  }

  forward(x: Tensor): Tensor {
    const last = x.shape[x.ndim - 1];
    if (last !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): input of shape ${formatShape(x.shape)} does not end in ${this.inFeatures} features`);
    }
    const y = x.matmul(this.weight.T);
    return this.bias === null ? y : y.add(this.bias);
  }

  override describe(): string {
    return `Linear(in=${this.inFeatures}, out=${this.outFeatures}${this.bias === null ? ", bias=false" : ""})`;
  }
}

/**
 * Modules applied one after the other; children are named "0", "1", ….
 *
 * @example
 * const net = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 1));
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => { if (!isModule(m)) throw new InputError(`${new.target.name}: layer ${i} is ${describeNonModule(m)}`); }); // not a TypeError at forward
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = m.forward(h);
    return h;
  }

  override describe(): string { return "Sequential()"; }
}

/** A module that applies a function with no parameters. */
abstract class Elementwise extends Module {
  override describe(): string {
    return `${this.constructor.name}()`;
  }
}

/** max(x, 0), elementwise (PyTorch's `nn.ReLU`). */
export class ReLU extends Elementwise {
  forward(x: Tensor): Tensor { return x.relu(); }
}
/** tanh(x), elementwise. */
export class Tanh extends Elementwise {
  forward(x: Tensor): Tensor { return x.tanh(); }
}
/** 1 / (1 + e⁻ˣ), elementwise. */
export class Sigmoid extends Elementwise {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}
/** GELU, the tanh approximation (see `gelu`). */
export class GELU extends Elementwise {
  forward(x: Tensor): Tensor { return gelu(x); }
}
/** x for x > 0, else slope · x (default slope 0.01). */
export class LeakyReLU extends Elementwise {
  constructor(readonly slope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.slope); }
  /** `LeakyReLU(slope=…)`. */
  override describe(): string { return `LeakyReLU(slope=${this.slope})`; }
}
/** Softmax over an axis (default the last): each slice becomes probabilities that add up to 1. */
export class Softmax extends Elementwise {
  constructor(readonly axis = -1) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.axis); }
}
/** Returns its input unchanged (a placeholder layer). */
export class Identity extends Elementwise {
  forward(x: Tensor): Tensor { return x; }
}
/**
 * Flattens axes startDim..endDim into one (PyTorch's `nn.Flatten`: by default all axes but the first, the batch).
 */
export class Flatten extends Elementwise {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
  /** `Flatten(start_dim=…, end_dim=…)`. */
  override describe(): string { return `Flatten(start_dim=${this.startDim}, end_dim=${this.endDim})`; }
}

/**
 * Dropout: in training mode zeroes each element with probability p and scales the rest by 1/(1 − p); in
 * evaluation mode the identity. The masks come from the module's own generator: its `seed`, or by default a
 * stream of its own from the global generator (`manualSeed`), so two Dropouts draw different masks.
 */
export class Dropout extends Module {
  private readonly generator: Generator;
  constructor(readonly p = 0.5, options: { seed?: number; generator?: Generator } = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new InputError(`Dropout: p must be in [0, 1], got ${p}`);
    expectOptions("Dropout", options, optionKeys<{ seed?: number; generator?: Generator }>({ seed: true, generator: true }));
    this.generator = generatorFor(options, new.target.name);
  }
  forward(x: Tensor): Tensor {
    return this.training ? dropout(x, this.p, this.generator) : x;
  }
  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

/** The module of each activation, keyed by the names of `ACTIVATIONS`: tsc rejects a name without one. */
const ACTIVATION_MODULES: { readonly [K in ActivationName]: () => Module } = {
  relu: () => new ReLU(),
  tanh: () => new Tanh(),
  sigmoid: () => new Sigmoid(),
  gelu: () => new GELU(),
  leaky_relu: () => new LeakyReLU(),
  identity: () => new Identity(),
};

/** The module for an activation name (an unknown name is an error listing them). */
export function activationModule(name: ActivationName | string): Module {
  return ACTIVATION_MODULES[activationSpec(name).name]();
}
