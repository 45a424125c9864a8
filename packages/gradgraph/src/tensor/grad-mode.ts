/**
 * Grad mode (whether ops record a graph: `noGrad`, `enableGrad`) and the engine's debug observers.
 */
import { checkScopeFunction, checkScopeResult } from "../core/scope.js";
import type { AnyOp } from "../ops/op.js";
import type { Tensor } from "./tensor.js";

/** Whether ops record a graph now (read by `Tensor.node`). */
export const gradMode = { enabled: true };

/**
 * Runs `fn` without recording a graph: results of ops do not require grad (like `torch.no_grad()`). For
 * synchronous code (an async function, or one that returns a promise, is an error: the mode could not hold past
 * its first `await`); returns what `fn` returns.
 *
 * @example
 * const w = randn([3], { requiresGrad: true });
 * const y = noGrad(() => w.mul(2)); // y.requiresGrad === false
 */
export function noGrad<R>(fn: () => R): R {
  return withGradMode("noGrad", false, fn);
}

/** Runs `fn` (synchronous, as for {@link noGrad}) with graph recording on (inside a `noGrad`, for instance). */
export function enableGrad<R>(fn: () => R): R {
  return withGradMode("enableGrad", true, fn);
}

/** Runs `fn` (synchronous: see `core/scope.ts`) with grad mode `enabled`, then restores it. */
function withGradMode<R>(who: string, enabled: boolean, fn: () => R): R {
  checkScopeFunction(who, fn);
  const prev = gradMode.enabled;
  gradMode.enabled = enabled;
  let r: R;
  try {
    r = fn();
  } finally {
    gradMode.enabled = prev;
  }
  return checkScopeResult(who, r);
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
