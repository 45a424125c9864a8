/**
 * Grad mode (whether ops record a graph: `noGrad`, `enableGrad`) and the engine's debug observers.
 */
import type { AnyOp } from "../ops/op.js";
import type { Tensor } from "./tensor.js";

/** Whether ops record a graph now (read by `Tensor.node`). */
export const gradMode = { enabled: true };

/**
 * Runs `fn` without recording a graph: results of ops do not require grad (like `torch.no_grad()`). For
 * synchronous code; returns what `fn` returns.
 *
 * @example
 * const w = randn([3], { requiresGrad: true });
 * const y = noGrad(() => w.mul(2)); // y.requiresGrad === false
 */
export function noGrad<R>(fn: () => R): R {
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}

/** Runs `fn` with graph recording on (inside a `noGrad`, for instance). */
export function enableGrad<R>(fn: () => R): R {
  const prev = gradMode.enabled;
  gradMode.enabled = true;
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}

/** Whether ops currently record a graph. */
export function isGradEnabled(): boolean {
  return gradMode.enabled;
}

/**
 * Observers of the engine for debug modes, null when off: `afterApply` sees every op applied to tensors (its
 * inputs and its result). `detectAnomaly` (src/autodiff/debug.ts) sets and restores it.
 */
export const tensorHooks: { afterApply: ((op: AnyOp, inputs: readonly Tensor[], out: Tensor) => void) | null } = { afterApply: null };

/**
 * vmap's hook into `Tensor.apply` (src/tensor/batched.ts), null outside vmap: it runs an op that has a batched
 * input through the op's batching rule (and returns null for an op with none batched). One null check per op.
 */
export const batching: { apply: ((op: AnyOp, inputs: readonly Tensor[], params: unknown) => Tensor | null) | null } = { apply: null };

/**
 * How many functional transforms (`grad`, `vjp`, `jvp`, `jacrev`, … in src/autodiff/functional.ts) are running
 * their function now, on input nodes of their own: `compile` does not replay a call made inside one whose result
 * has a graph back to an argument (a replay's results have none, so the transform would see constants).
 */
export const transforms = { depth: 0 };
