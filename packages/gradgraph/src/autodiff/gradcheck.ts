/**
 * Gradient checking: compares the engine's derivatives (reverse mode through the vjp rules, forward mode
 * through the jvp rules) with central differences computed in float64, element by element (the full Jacobian,
 * when it is small) and by random projections `<v, J u>` (forward) = `<Jᵀ v, u>` (reverse) = the numeric
 * directional derivative. When they disagree, every op of the graph is checked alone, on the values it saw,
 * to name the first op whose rule is wrong.
 */
import { expectFunction, expectOptions, optionKeys } from "../core/expect.js";
import { topoOrder } from "../core/graph.js";
import type { AnyOp } from "../ops/op.js";
import { formatShape } from "../ops/shape.js";
import { applyRaw, rawAlgebra } from "../tensor/backend.js";
import { copyArray, NDArray, toTypedArray } from "../tensor/ndarray.js";
import { checkSeed, Generator } from "../tensor/random.js";
import { enableGrad, engine, Tensor } from "../tensor/tensor.js";
import { fitTo } from "../ops/sweep.js";

/** Which derivative rules a check compares with differences: reverse (vjp) or forward (jvp). */
export type CheckMode = "reverse" | "forward";

/** Options of {@link gradcheck}: step, tolerances, modes, and how many random directions. */
export interface GradcheckOptions {
  /** Step of the central differences (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Modes to check (default both). */
  modes?: readonly CheckMode[];
  /** Compare full Jacobians when outputs × inputs has at most this many entries (default 4096); else projections only. */
  maxJacobian?: number;
  /** Number of random projections (default 2). */
  projections?: number;
  /** Seed of the random projection vectors (default 0). */
  seed?: number;
}

const GRADCHECK_KEYS = optionKeys<GradcheckOptions>({ eps: true, atol: true, rtol: true, modes: true, maxJacobian: true, projections: true, seed: true });

/** One disagreement. */
export interface GradcheckFailure {
  /** The rule that disagreed: reverse (vjp) or forward (jvp). */
  mode: CheckMode;
  /** "jacobian": an entry of the Jacobian; "projection": a random projection. */
  check: "jacobian" | "projection";
  /** Which input (position in the `inputs` list). */
  input: number;
  /** The input's label, if it has one. */
  inputLabel?: string;
  /** Multi-index of the output element and input element (for a Jacobian entry). */
  outputIndex?: number[];
  /** The input element's multi-index (for a Jacobian entry). */
  inputIndex?: number[];
  /** What the rule gave. */
  analytic: number;
  /** What central differences gave. */
  numeric: number;
  /** The first op (in evaluation order) whose rule disagrees with its own central differences, if found. */
  op?: string;
  /** Which input of that op. */
  opInput?: number;
  message: string;
}

/** What {@link gradcheck} found: whether the analytic derivatives agree with differences, and where not. */
export interface GradcheckReport {
  /** True when every check agreed within the tolerances. */
  ok: boolean;
  /** Every disagreement found. */
  failures: GradcheckFailure[];
  /** Largest |analytic − numeric| seen. */
  maxAbsError: number;
  /** A one-paragraph summary: "ok", or the first failure and the op that caused it. */
  message: string;
}

type Fn = (...xs: Tensor[]) => Tensor;

function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function randomArray(g: Generator, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = g.uniform() * 2 - 1;
  return a;
}

/** A float64 leaf holding `data` in `shape`. */
function leaf64(data: Float64Array, shape: readonly number[], requiresGrad = false): Tensor {
  return new Tensor(new NDArray(data, shape), { requiresGrad });
}

/**
 * Checks the derivatives of `f` at `inputs` against central differences, in float64, in reverse and forward
 * mode. Inputs are copied to float64 leaves that require grad; `f` must be made of tensor ops (constants it
 * closes over are fine).
 *
 * @example
 * const report = gradcheck((a, b) => a.mul(b).sum(), [randn([3]), randn([3])]);
 * report.ok; // true
 */
export function gradcheck(f: Fn, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  expectFunction(f, "gradcheck");
  expectOptions("gradcheck", options, GRADCHECK_KEYS);
  const eps = options.eps ?? 1e-6, atol = options.atol ?? 1e-5, rtol = options.rtol ?? 1e-3;
  const modes = options.modes ?? ["reverse", "forward"];
  const gen = new Generator(checkSeed(options.seed ?? 0, "gradcheck"));
  const base = inputs.map((x) => toTypedArray(copyArray(x.value, "float64")) as Float64Array);
  const shapes = inputs.map((x) => x.shape);
  const xs = base.map((d, i) => {
    const t = leaf64(d, shapes[i]!, true);
    t.label = inputs[i]!.label;
    return t;
  });
  const y = f(...xs);
  const yShape = y.shape, m = y.size;
  // Perturbed points are evaluated on fresh leaves that require grad (grad mode on), so that `f` may itself
  // differentiate (gradients of gradients are checked like anything else).
  const evalAll = (datas: readonly Float64Array[]): Float64Array =>
    enableGrad(() => toTypedArray(copyArray(f(...datas.map((d, k) => leaf64(d, shapes[k]!, true))).value, "float64")) as Float64Array);
  const evalAt = (i: number, data: Float64Array): Float64Array => evalAll(base.map((d, k) => (k === i ? data : d)));

  const failures: GradcheckFailure[] = [];
  let maxAbsError = 0;
  const MAX_FAILURES = 50;
  const close = (a: number, n: number) => {
    if (failures.length >= MAX_FAILURES) return true;
    const err = Math.abs(a - n);
    if (Number.isFinite(err)) maxAbsError = Math.max(maxAbsError, err);
    return err <= atol + rtol * Math.abs(n) || (Number.isNaN(a) && Number.isNaN(n)) || a === n;
  };
  const label = (i: number) => (inputs[i]!.label !== undefined ? { inputLabel: inputs[i]!.label! } : {});

  // --- full Jacobians ---
  const total = m * base.reduce((s, d) => s + d.length, 0);
  if (total <= (options.maxJacobian ?? 4096)) {
    // Numeric columns: J[i][k * n + j] = ∂y_k / ∂x_i[j].
    const numeric = base.map((d, i) => {
      const n = d.length;
      const J = new Float64Array(m * n);
      for (let j = 0; j < n; j++) {
        const plus = d.slice(), minus = d.slice();
        plus[j]! += eps;
        minus[j]! -= eps;
        const yp = evalAt(i, plus), ym = evalAt(i, minus);
        for (let k = 0; k < m; k++) J[k * n + j] = (yp[k]! - ym[k]!) / (2 * eps);
      }
      return J;
    });
    const report = (mode: CheckMode, i: number, k: number, j: number, a: number) => {
      const n = base[i]!.length;
      const num = numeric[i]![k * n + j]!;
      if (close(a, num)) return false;
      const outputIndex = unravel(k, yShape), inputIndex = unravel(j, shapes[i]!);
      failures.push({
        mode, check: "jacobian", input: i, ...label(i), outputIndex, inputIndex, analytic: a, numeric: num,
        message: `${mode} mode: ∂output[${outputIndex.join(",")}]/∂input ${i}${inputs[i]!.label ? ` (${inputs[i]!.label})` : ""}[${inputIndex.join(",")}] is ${a}, central differences give ${num}`,
      });
      return true;
    };
    if (modes.includes("reverse") && y.requiresGrad) {
      for (let k = 0; k < m; k++) {
        const seed = new Float64Array(m);
        seed[k] = 1;
        const grads = engine.gradients([y], xs, [leaf64(seed, yShape)]);
        grads.forEach((g, i) => {
          const gd = toTypedArray(g.value);
          for (let j = 0; j < gd.length; j++) report("reverse", i, k, j, gd[j]!);
        });
      }
    }
    if (modes.includes("forward") && y.requiresGrad) {
      base.forEach((d, i) => {
        for (let j = 0; j < d.length; j++) {
          const tangents = base.map((b, k) => {
            const t = new Float64Array(b.length);
            if (k === i) t[j] = 1;
            return leaf64(t, shapes[k]!);
          });
          const [ty] = engine.tangents([y], xs, tangents);
          const td = toTypedArray(ty!.value);
          for (let k = 0; k < m; k++) report("forward", i, k, j, td[k]!);
        }
      });
    }
  }

  // --- random projections: <v, J u> ---
  for (let p = 0; p < (options.projections ?? 2); p++) {
    const us = base.map((d) => randomArray(gen, d.length));
    const v = randomArray(gen, m);
    const plus = base.map((d, i) => d.map((x, j) => x + eps * us[i]![j]!));
    const minus = base.map((d, i) => d.map((x, j) => x - eps * us[i]![j]!));
    const yp = evalAll(plus), ym = evalAll(minus);
    let num = 0;
    for (let k = 0; k < m; k++) num += v[k]! * ((yp[k]! - ym[k]!) / (2 * eps));
    const scale = Math.max(1, Math.abs(num));
    const check = (mode: CheckMode, a: number) => {
      if (Math.abs(a - num) <= atol * scale + rtol * Math.abs(num) || (Number.isNaN(a) && Number.isNaN(num))) return;
      failures.push({
        mode, check: "projection", input: -1, analytic: a, numeric: num,
        message: `${mode} mode: the random projection <v, J u> is ${a}, central differences give ${num}`,
      });
    };
    if (modes.includes("reverse") && y.requiresGrad) {
      const grads = engine.gradients([y], xs, [leaf64(v, yShape)]);
      check("reverse", grads.reduce((s, g, i) => s + dot(toTypedArray(g.value), us[i]!), 0));
    }
    if (modes.includes("forward") && y.requiresGrad) {
      const [ty] = engine.tangents([y], xs, us.map((u, i) => leaf64(u, shapes[i]!)));
      check("forward", dot(toTypedArray(ty!.value), v));
    }
  }

  // --- localise: the first op whose own rule disagrees with its central differences ---
  if (failures.length > 0) {
    const culprit = findFaultyOp(y, { eps, atol, rtol }, gen);
    if (culprit) {
      for (const fl of failures) {
        fl.op = culprit.op.name;
        fl.opInput = culprit.input;
        fl.message += `; the first op whose ${culprit.mode} rule disagrees: ${culprit.op.name} (its input ${culprit.input}, of shape ${formatShape(culprit.shape)})`;
      }
    }
  }
  const ok = failures.length === 0;
  const message = ok
    ? "gradcheck: ok"
    : `gradcheck failed: ${failures[0]!.message}${failures.length > 1 ? ` (and ${failures.length - 1} more disagreements)` : ""}`;
  return { ok, failures, maxAbsError, message };
}

/** The first op whose rule disagrees with differences of its own kernel ({@link findFaultyOp}). */
export interface Culprit {
  /** The op. */
  op: AnyOp;
  /** Which of its inputs the disagreeing derivative is with respect to. */
  input: number;
  /** That input's shape. */
  shape: readonly number[];
  /** The rule that disagrees: the vjp (reverse) or the jvp (forward). */
  mode: CheckMode;
}

/**
 * Checks each op of the graph alone, in evaluation order, at the values it was applied to: its vjp and jvp
 * rules against central differences of its own kernel, along random directions.
 */
export function findFaultyOp(root: Tensor, tol: { eps: number; atol: number; rtol: number }, gen = new Generator(1)): Culprit | null {
  for (const n of topoOrder<Tensor>(root)) {
    const op = n.op;
    if (op === null) continue;
    const xs = n.inputs.map((x) => copyArray(x.value, "float64"));
    const y = applyRaw(op, xs, n.params);
    const v = new NDArray(randomArray(gen, y.size), y.shape);
    for (let i = 0; i < xs.length; i++) {
      if (!n.inputs[i]!.requiresGrad || op.nondiffInputs?.includes(i)) continue;
      const x = xs[i]!;
      const u = randomArray(gen, x.size);
      const xd = toTypedArray(x);
      const at = (sign: number) => {
        const d = xd.map((e, j) => e + sign * tol.eps * u[j]!);
        const args = xs.slice();
        args[i] = new NDArray(d, x.shape);
        return toTypedArray(copyArray(applyRaw(op, args, n.params), "float64"));
      };
      const yp = at(1), ym = at(-1);
      let num = 0;
      for (let k = 0; k < y.size; k++) num += v.data[k]! * ((yp[k]! - ym[k]!) / (2 * tol.eps));
      const ok = (a: number) => Math.abs(a - num) <= tol.atol * Math.max(1, Math.abs(num)) + tol.rtol * Math.abs(num);
      const needs = xs.map((_, k) => k === i);
      const share = op.vjp(rawAlgebra, v, xs, y, needs, n.params)[i];
      const rev = share ? dot(toTypedArray(fitTo(rawAlgebra, share, x.shape, "float64")), u) : 0;
      if (!ok(rev)) return { op, input: i, shape: x.shape, mode: "reverse" };
      const dxs = xs.map((_, k) => (k === i ? new NDArray(u, x.shape) : null));
      const t = op.jvp(rawAlgebra, dxs, xs, y, n.params);
      const fwd = t ? dot(toTypedArray(fitTo(rawAlgebra, t, y.shape, "float64")), v.data) : 0;
      if (!ok(fwd)) return { op, input: i, shape: x.shape, mode: "forward" };
    }
  }
  return null;
}
