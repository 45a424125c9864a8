/**
 * Optimizers: the **Update** step of the training loop. Each reads `p.grad` of its parameters and updates the
 * parameter, and its moment buffers, in place with {@link Tensor.update}: each update is one fused elementwise
 * kernel written against the op algebra, allocating nothing after the first step (as in PyTorch, a graph built
 * before the step sees the new values). The formulas are PyTorch's (`torch.optim`), in the same order of
 * operations as the tensor ops they replace, so results match it.
 *
 * Also here: gradient clipping by global norm, and learning-rate schedules.
 */
import { InputError } from "../core/errors.js";
import { describe as describeKind, expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import { formatShape } from "../ops/shape.js";
import { scalarArray } from "../tensor/ndarray.js";
import { guard, host } from "../tensor/recording.js";
import { isTensor, noGrad, Tensor, zerosLike } from "../tensor/tensor.js";
import { isParameter } from "./parameter.js";

/**
 * An optimizer's state (PyTorch's `optimizer.state_dict()`), in a form that saves as safetensors plus JSON: the
 * per-parameter tensors named `index.name` (`0.exp_avg`, `3.momentum_buffer`; the index is the parameter's
 * position in the list the optimizer was built with, as PyTorch numbers them), and the step count and learning
 * rate. Hyperparameters are the constructor's; they are recorded to check that the state fits.
 */
export interface OptimizerStateDict {
  type: string;
  steps: number;
  lr: number;
  hyper: Record<string, number | boolean>;
  tensors: Map<string, Tensor>;
}

/** What every optimizer has: its parameters, a learning rate that schedules may change, `step` and `zeroGrad`. */
export abstract class Optimizer {
  /** The learning rate used by the next `step()` (schedules set it). */
  lr: number;
  /** Number of `step()` calls so far. */
  steps = 0;
  /** Per-parameter state (moment buffers), by PyTorch's names: `momentum_buffer`, `exp_avg`, `exp_avg_sq`. */
  protected readonly state = new Map<Tensor, Record<string, Tensor>>();

  constructor(readonly params: readonly Tensor[], lr: number) {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new InputError(`${this.constructor.name}: lr must be a non-negative number, got ${lr}`);
    if (!Array.isArray(params)) {
      const iterable = typeof (params as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] === "function";
      throw new InputError(`${this.constructor.name}: expected an array of parameters, e.g. model.parameters(), got ${iterable ? "an iterable that is not an array (spread it into one: [...params])" : describeKind(params)}`);
    }
    if (params.length === 0) {
      throw new InputError(`${this.constructor.name}: got an empty parameter list, so it would optimize nothing (as PyTorch refuses); give it the model's, e.g. model.parameters()`);
    }
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      if (!isTensor(p)) {
        const group = typeof p === "object" && p !== null && "params" in p ? " (a parameter group: gradgraph's optimizers take one list of parameters and one lr; make one optimizer per group)" : "";
        throw new InputError(`${this.constructor.name}: parameter ${i} is ${describeKind(p)}, not a tensor${group}`);
      }
      // A frozen Parameter (requiresGrad false) is accepted and left alone: it never gets a gradient.
      if (!p.isLeaf || !(p.requiresGrad || isParameter(p))) {
        throw new InputError(`${this.constructor.name}: every parameter must be a leaf tensor with requiresGrad (or a frozen Parameter), got ${p.isLeaf ? "a leaf without requiresGrad" : "the result of an op"} at ${i}`);
      }
      if (seen.has(p)) {
        throw new InputError(`${this.constructor.name}: parameter ${i} is listed twice (each parameter once, or it would be updated twice per step)`);
      }
      seen.add(p);
    });
    this.lr = lr;
  }

  /** Checks a hyperparameter that must be a finite number ≥ 0 (PyTorch's "Invalid ... value"); NaN is refused. */
  protected nonNegative(name: string, value: number): number {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new InputError(`${this.constructor.name}: ${name} must be a non-negative number, got ${value}`);
    }
    return value;
  }

  /** Clears `.grad` of every parameter. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /**
   * Updates every parameter that has a gradient. The numbers that change from step to step (the learning rate a
   * schedule sets, bias corrections) are one host step, so a compiled training step computes them anew at each
   * call; which moment buffers the parameters have is a guard — which tensors, not only whether there are any: a
   * compiled step traces again when they change (the first step makes them, `loadStateDict` replaces them), rather
   * than go on updating the tensors it traced.
   */
  step(): void {
    guard(() => `${this.constructor.name} state ${this.params.map((p) => this.bufferIds(p)).join(",")}`);
    const scalars = host("optimizer", [], () => {
      this.steps++;
      return this.scalars().map((c) => scalarArray(c, "float64", true));
    }).map((a) => new Tensor(a));
    noGrad(() => {
      for (const p of this.params) if (p.grad !== null) this.update(p, p.grad, scalars);
    });
  }

  /** The ids of a parameter's state tensors ("-": none yet), for the guard of {@link step}. */
  private bufferIds(p: Tensor): string {
    const s = this.state.get(p);
    if (s === undefined) return "-";
    let ids = "";
    for (const k in s) ids += `${k}:${s[k]!.id} `;
    return ids;
  }

  /** The numbers of this step (after `steps` is counted) that {@link update} receives as weak scalar tensors. */
  protected abstract scalars(): number[];

  /** The update of one parameter from its gradient and this step's {@link Optimizer.scalars | scalars} (inside `noGrad`). */
  protected abstract update(p: Tensor, g: Tensor, scalars: readonly Tensor[]): void;

  /** The hyperparameters, as saved with the state (and compared when it is loaded). */
  protected abstract hyper(): Record<string, number | boolean>;

  /**
   * The optimizer's state: step count, learning rate and moment buffers (the live tensors; save or copy them).
   *
   * @example
   * const saved = opt.stateDict();
   * const again = new Adam(model.parameters(), { lr: 1e-3 });
   * again.loadStateDict(saved); // continues exactly where `opt` was
   */
  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((p, i) => {
      for (const [k, t] of Object.entries(this.state.get(p) ?? {})) tensors.set(`${i}.${k}`, t);
    });
    return { type: this.constructor.name, steps: this.steps, lr: this.lr, hyper: this.hyper(), tensors };
  }

  /**
   * Restores a state from {@link stateDict} (or read back from a file): everything is checked first — the
   * optimizer type and hyperparameters, each tensor's parameter index, name and shape — and one error lists
   * every problem; nothing changes then.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const who = `${this.constructor.name}.loadStateDict`;
    const problems: string[] = [];
    if (sd.type !== this.constructor.name) problems.push(`the state is of a ${sd.type} optimizer, not ${this.constructor.name}`);
    if (!Number.isInteger(sd.steps) || sd.steps < 0) problems.push(`steps must be a non-negative integer, got ${sd.steps}`);
    if (!(sd.lr >= 0) || !Number.isFinite(sd.lr)) problems.push(`lr must be a non-negative number, got ${sd.lr}`);
    const hyper = this.hyper();
    for (const [k, v] of Object.entries(hyper)) {
      if (sd.hyper?.[k] !== v) problems.push(`${k} is ${JSON.stringify(sd.hyper?.[k])} in the state, ${v} here`);
    }
    const names = this.stateNames();
    const loaded = new Map<Tensor, Record<string, Tensor>>();
    for (const [key, t] of sd.tensors) {
      const m = /^(\d+)\.(\w+)$/.exec(key);
      const p = m === null ? undefined : this.params[Number(m[1])];
      if (m === null || p === undefined || !names.includes(m[2]!)) {
        problems.push(`unexpected key ${key} (expected index.name with an index below ${this.params.length} and a name among ${names.join(", ")})`);
      } else if (!isTensor(t) || t.shape.join() !== p.shape.join()) {
        problems.push(`${key}: shape ${isTensor(t) ? formatShape(t.shape) : typeof t}, parameter ${m[1]}'s is ${formatShape(p.shape)}`);
      } else {
        const entry = loaded.get(p) ?? {};
        entry[m[2]!] = zerosLike(p).assign(t);
        loaded.set(p, entry);
      }
    }
    const indices = new Set([...sd.tensors.keys()].map((k) => Number(k.split(".")[0])).filter((i) => this.params[i] !== undefined));
    for (const i of indices) {
      const missing = names.filter((n) => !sd.tensors.has(`${i}.${n}`));
      if (missing.length > 0) problems.push(`parameter ${i} lacks ${missing.join(", ")}`);
    }
    if (problems.length > 0) throw new InputError(`${who}: the state does not fit: ${problems.join("; ")}`);
    this.state.clear();
    for (const [p, entry] of loaded) this.state.set(p, entry);
    this.steps = sd.steps;
    this.lr = sd.lr;
  }

  /** The names of each parameter's state tensors (all present once the parameter has been stepped). */
  protected abstract stateNames(): string[];
}

/** Options of {@link SGD}: learning rate, momentum (plain or Nesterov), dampening, weight decay. */
export interface SGDOptions {
  /** The learning rate (default 0.01). */
  lr?: number;
  /** Momentum factor μ (default 0: plain gradient descent). */
  momentum?: number;
  /** Dampening of the gradient added to the momentum buffer (default 0). */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty λ, added to the gradient: g + λp (default 0). */
  weightDecay?: number;
}

const SGD_KEYS = optionKeys<SGDOptions>({ lr: true, momentum: true, dampening: true, nesterov: true, weightDecay: true });
const ADAM_KEYS = optionKeys<AdamOptions>({ lr: true, betas: true, eps: true, weightDecay: true });

/** The learning rate of an optimizer's options (`fallback` when not given), after checking their keys. */
function checkedLr(who: string, options: unknown, keys: readonly string[], fallback: number): number {
  expectOptions(who, options, keys);
  return (options as { lr?: number } | undefined)?.lr ?? fallback;
}

/**
 * Stochastic gradient descent, with momentum, Nesterov momentum and weight decay (PyTorch's `SGD`):
 *
 * g ← ∇ + λp;  b ← g on the first step, else μb + (1 − dampening)g;  g ← g + μb (Nesterov) or b;  p ← p − lr·g.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: readonly Tensor[], options: SGDOptions = {}) {
    super(params, checkedLr(new.target.name, options, SGD_KEYS, 0.01));
    this.momentum = this.nonNegative("momentum", options.momentum ?? 0);
    this.dampening = options.dampening ?? 0;
    if (!(this.dampening >= 0 && this.dampening <= 1)) throw new InputError(`${new.target.name}: dampening must be a number in [0, 1], got ${this.dampening}`);
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = this.nonNegative("weightDecay", options.weightDecay ?? 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new InputError("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
  }

  /** [lr] */
  protected scalars(): number[] {
    return [this.lr];
  }

  protected update(p: Tensor, grad: Tensor, [lr]: readonly Tensor[]): void {
    let g = this.weightDecay !== 0 ? grad.add(p.mul(this.weightDecay)) : grad;
    if (this.momentum !== 0) {
      // b ← g on the first step, else μb + (1 − dampening)g (in place after the first step)
      let buf = this.state.get(p)?.momentum_buffer;
      // storage of its own, as PyTorch's clone (g·1 is g exactly): a buffer sharing the gradient's storage (as a
      // detached view or an assign would) is the same state as the gradient to a step compiled after this one
      if (buf === undefined) this.state.set(p, { momentum_buffer: (buf = g.mul(1).detach()) });
      else buf.update((o, [b, gg, mu, d]) => o.add(o.mul(b!, mu!), o.mul(gg!, d!)), g, this.momentum, 1 - this.dampening);
      g = this.nesterov ? g.add(buf.mul(this.momentum)) : buf;
    }
    // p ← p − lr·g
    p.update((o, [pp, gg, lr]) => o.sub(pp!, o.mul(gg!, lr!)), g, lr!);
  }

  protected hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected stateNames(): string[] {
    return this.momentum === 0 ? [] : ["momentum_buffer"];
  }
}

/** Options of {@link Adam} and {@link AdamW}: learning rate, betas, eps, weight decay. */
export interface AdamOptions {
  /** The learning rate (default 0.001). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Adam: an L2 penalty added to the gradient; AdamW: decoupled weight decay (default 0 for Adam, 0.01 for AdamW). */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba 2015), PyTorch's formulation: with t the step number,
 *
 * g ← ∇ + λp;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
 * m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ) (bias correction);  p ← p − lr·m̂/(√v̂ + ε).
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Whether weight decay is decoupled (AdamW) rather than an L2 term in the gradient. */
  protected decoupled = false;

  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, checkedLr(new.target.name, options, ADAM_KEYS, 1e-3));
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = this.nonNegative("eps", options.eps ?? 1e-8);
    this.weightDecay = this.nonNegative("weightDecay", options.weightDecay ?? this.defaultWeightDecay());
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new InputError(`${this.constructor.name}: betas must be in [0, 1), got ${b}`);
    }
  }

  /** The weight decay when none is given: 0 for Adam. */
  protected defaultWeightDecay(): number {
    return 0;
  }

  /** [lr/c1, 1/√c2, 1 − lr·λ] with the bias corrections c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ of step t. */
  protected scalars(): number[] {
    const t = this.steps;
    const c1 = 1 - this.beta1 ** t, c2 = 1 - this.beta2 ** t;
    return [this.lr / c1, 1 / Math.sqrt(c2), 1 - this.lr * this.weightDecay];
  }

  protected update(p: Tensor, grad: Tensor, [a, k, decay]: readonly Tensor[]): void {
    let g = grad;
    if (this.weightDecay !== 0) {
      // AdamW: p ← p(1 − lr·λ) before the Adam step; Adam: λp joins the gradient.
      if (this.decoupled) p.update((o, [pp, c]) => o.mul(pp!, c!), decay!);
      else g = g.add(p.mul(this.weightDecay));
    }
    let s = this.state.get(p);
    if (s === undefined) this.state.set(p, (s = { exp_avg: zerosLike(p), exp_avg_sq: zerosLike(p) }));
    const m = s.exp_avg!, v = s.exp_avg_sq!;
    // m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
    m.update((o, [m, gg, b, c]) => o.add(o.mul(m!, b!), o.mul(gg!, c!)), g, this.beta1, 1 - this.beta1);
    v.update((o, [v, gg, b, c]) => o.add(o.mul(v!, b!), o.mul(o.mul(gg!, gg!), c!)), g, this.beta2, 1 - this.beta2);
    // p ← p − (lr/c1)·m / (√v/√c2 + ε)  (= lr·m̂/(√v̂ + ε))
    p.update(
      (o, [pp, m, v, k, eps, a]) => o.sub(pp!, o.mul(o.div(m!, o.add(o.mul(o.sqrt(v!), k!), eps!)), a!)),
      m, v, k!, this.eps, a!,
    );
  }

  protected hyper(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected stateNames(): string[] {
    return ["exp_avg", "exp_avg_sq"];
  }
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, p ← p(1 − lr·λ) before the Adam step
 * (default λ = 0.01), instead of adding λp to the gradient.
 */
export class AdamW extends Adam {
  protected override decoupled = true;
  /** The weight decay when none is given: 0.01 for AdamW (PyTorch's default). */
  protected override defaultWeightDecay(): number {
    return 0.01;
  }
}

/**
 * Scales all gradients together so that their global L2 norm is at most `maxNorm` (PyTorch's
 * `clip_grad_norm_`: factor maxNorm/(norm + 1e-6) when the norm exceeds it). Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  // A negative maxNorm made a negative factor (every gradient flipped: ascent), NaN no clipping at all.
  if (typeof maxNorm !== "number" || !(maxNorm >= 0)) throw new InputError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${String(maxNorm)}`);
  let sq = 0;
  for (const p of params) {
    if (p.grad === null) continue;
    const g = p.grad.toArray();
    for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) noGrad(() => params.forEach((p) => p.grad !== null && (p.grad = p.grad.mul(coef))));
  return norm;
}

// ---------------------------------------------------------------------------------------------------------
// Learning-rate schedules: a schedule maps the step number (0, 1, 2, …) to a factor of the base learning rate.
// ---------------------------------------------------------------------------------------------------------

/** A factor of the base learning rate for each step (0-based). */
export type Schedule = (step: number) => number;

/** Constant 1. */
export const constantLR: Schedule = () => 1;

/** Step decay: γ^⌊step/stepSize⌋ (PyTorch's StepLR, counted in steps). */
export function stepLR(stepSize: number, gamma = 0.1): Schedule {
  if (!(stepSize >= 1)) throw new InputError(`stepLR: stepSize must be at least 1, got ${stepSize}`);
  return (t) => gamma ** Math.floor(t / stepSize);
}

/** Cosine decay from 1 to `minFactor` over `totalSteps`, then `minFactor` (CosineAnnealingLR without restarts). */
export function cosineLR(totalSteps: number, minFactor = 0): Schedule {
  if (!(totalSteps >= 1)) throw new InputError(`cosineLR: totalSteps must be at least 1, got ${totalSteps}`);
  return (t) => (t >= totalSteps ? minFactor : minFactor + ((1 - minFactor) * (1 + Math.cos((Math.PI * t) / totalSteps))) / 2);
}

/**
 * Linear warmup: (step + 1)/warmupSteps for the first `warmupSteps` steps, then `after` (counted from the end of
 * the warmup; default constant 1).
 */
export function linearWarmup(warmupSteps: number, after: Schedule = constantLR): Schedule {
  expectFunction(after, "linearWarmup", "after");
  if (!(warmupSteps >= 0)) throw new InputError(`linearWarmup: warmupSteps must be non-negative, got ${warmupSteps}`);
  return (t) => (t < warmupSteps ? (t + 1) / warmupSteps : after(t - warmupSteps));
}

/** The rate the first scheduler of each optimizer found (PyTorch's `initial_lr`): the base of every later one. */
const initialLr = new WeakMap<Optimizer, number>();

/**
 * Drives an optimizer's learning rate with a schedule: the base rate is the optimizer's when its first scheduler
 * was made (as PyTorch's `initial_lr`: a second scheduler, or a second `fit` with a schedule, starts again from
 * it, not from the rate the first left); the constructor sets step 0's rate, and each `step()` (call it after
 * `optimizer.step()`) moves to the next.
 *
 * @example
 * const sched = new LRScheduler(opt, linearWarmup(100, cosineLR(900)));
 * for (const batch of loader) { …; opt.step(); sched.step(); }
 */
export class LRScheduler {
  baseLr: number;
  private t = 0;
  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) {
    expectFunction(schedule, "LRScheduler", "schedule");
    if (!initialLr.has(optimizer)) initialLr.set(optimizer, optimizer.lr);
    this.baseLr = initialLr.get(optimizer)!;
    optimizer.lr = this.baseLr * schedule(0);
  }
  /** Advances the schedule by one step and sets the optimizer's learning rate for the next (in a compiled step too). */
  step(): void {
    host("lr_schedule", [], () => {
      this.t++;
      this.optimizer.lr = this.baseLr * this.schedule(this.t);
      return [];
    });
  }
  /** The learning rate in force now. */
  get lr(): number {
    return this.optimizer.lr;
  }

  /** The schedule's position (steps taken) and base rate: with the schedule, all it needs to resume. */
  stateDict(): { step: number; baseLr: number } {
    return { step: this.t, baseLr: this.baseLr };
  }

  /** Resumes from {@link stateDict}: sets the step and base rate, and the optimizer's rate for that step. */
  loadStateDict(s: { step: number; baseLr: number }): void {
    if (!Number.isInteger(s?.step) || s.step < 0 || !(s.baseLr >= 0) || !Number.isFinite(s.baseLr)) {
      throw new InputError(`LRScheduler.loadStateDict: expected { step: a non-negative integer, baseLr: a non-negative number }, got ${JSON.stringify(s)}`);
    }
    this.t = s.step;
    this.baseLr = s.baseLr;
    this.optimizer.lr = this.baseLr * this.schedule(this.t);
  }
}
