/**
 * `vmap` (JAX's vmap, torch.func.vmap): `f` written for one example ↦ `f` over a batch. Built on batched tensors
 * (src/tensor/batched.ts): each argument mapped along an axis is handed to `f` as a `BatchedTensor` (the example's
 * shape, the whole batch inside), every op runs once for the whole batch through its batching rule in the op table
 * (`batch` in each entry; never a loop over examples), and the results get the batch axis back. The transforms
 * compose with it: `vmap(grad(loss), [null, 0, 0])(params, X, Y)` gives per-example gradients, because `grad` inside
 * differentiates the example's graph; `grad(vmap(f))` differentiates through the batched computation.
 *
 * An op without a batching rule (a custom function) fails with an error naming it. `sort`/`topk` compute their
 * order from the values and are not available inside vmap; nor is reading values (`item`, `toArray`).
 */
import { InputError } from "../core/errors.js";
import { describe, expectFunction } from "../core/expect.js";
import { normalizeAxis } from "../ops/shape.js";
import { BatchedTensor, withBatching } from "../tensor/batched.js";
import { Tensor } from "../tensor/tensor.js";
import { flattenTree, unflattenTree } from "./tree.js";

/** Per argument: the axis mapped over (negative counts from the end), or null for an argument shared by every example. */
export type InAxes = number | null | readonly (number | null)[];

/** Per output (a tensor, or the leaves of a tree in order): the axis where the batch goes. */
export type OutAxes = number | readonly number[];

/** The tensor with axis `from` moved to `to` (the others keep their order). */
function moveAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return x.permute(perm);
}

/**
 * `f` ↦ `f` mapped over a batch. `inAxes` (default 0): per argument the axis that holds the batch, or null for an
 * argument every example shares (weights, a constant); a number applies to every argument. An argument may be a
 * tree of tensors (every leaf mapped along the same axis). `outAxes` (default 0): where the batch axis goes in each
 * result; a result that does not depend on the batch is repeated along it.
 *
 * @example
 * // per-example gradients of a loss, params shared
 * const perExample = vmap(grad(loss), [null, 0, 0])(params, X, Y);
 * vmap((x: Tensor) => x.matmul(W).tanh())(X);   // rows of X through the same layer
 * vmap(vmap((a: Tensor, b: Tensor) => a.mul(b).sum()))(A, B); // nested: over two batch axes
 */
export function vmap<A extends unknown[], R>(f: (...args: A) => R, inAxes: InAxes = 0, outAxes: OutAxes = 0): (...args: A) => R {
  expectFunction(f, "vmap");
  return (...args: A) => {
    if (Array.isArray(inAxes) && inAxes.length !== args.length) {
      throw new InputError(`vmap: inAxes gives ${inAxes.length} axes for ${args.length} argument${args.length === 1 ? "" : "s"}`);
    }
    const axisOf = (i: number): number | null => (Array.isArray(inAxes) ? (inAxes[i] as number | null) : (inAxes as number | null));
    let size = -1;
    let sizeFrom = "";
    const flats = args.map((arg, i) => {
      const axis = axisOf(i);
      if (axis === null || axis === undefined) return null;
      if (!Number.isInteger(axis)) throw new InputError(`vmap: inAxes[${i}] must be an integer or null, got ${String(axis)}`);
      const flat = flattenTree(arg, `vmap: argument ${i}`);
      if (flat.leaves.length === 0) throw new InputError(`vmap: argument ${i} is mapped over axis ${axis} but holds no tensor (it is ${describe(arg)}); give it inAxes null`);
      const axes = flat.leaves.map((x, k) => {
        const a = normalizeAxis(axis, x.ndim, `vmap: argument ${i}${flat.paths[k]}`, x.shape);
        const n = x.shape[a]!;
        if (size >= 0 && n !== size) {
          throw new InputError(`vmap: mapped axes differ in size: ${size} (${sizeFrom}) and ${n} (argument ${i}${flat.paths[k]}, axis ${a})`);
        }
        size = n;
        sizeFrom = `argument ${i}${flat.paths[k]}, axis ${a}`;
        return a;
      });
      return { flat, axes };
    });
    if (size < 0) throw new InputError("vmap: no argument is mapped (every inAxes is null): nothing to map over");
    const n = size;
    return withBatching((level) => {
      const called = args.map((arg, i) => {
        const m = flats[i];
        if (m === null || m === undefined) return arg;
        return unflattenTree(m.flat.spec, m.flat.leaves.map((x, k) => new BatchedTensor(moveAxis(x, m.axes[k]!, 0), level)));
      });
      const out = f(...(called as A));
      const flat = flattenTree(out, "vmap: the function's result");
      const leaves = flat.leaves.map((y, k) => {
        const inner = y instanceof BatchedTensor && y.level === level ? y.inner : y.unsqueeze(0).broadcastTo([n, ...y.shape]);
        const to = typeof outAxes === "number" ? outAxes : outAxes[k];
        if (to === undefined) throw new InputError(`vmap: outAxes gives ${(outAxes as readonly number[]).length} axes for ${flat.leaves.length} results`);
        return moveAxis(inner, 0, normalizeAxis(to, inner.ndim, "vmap: outAxes", inner.shape));
      });
      return unflattenTree(flat.spec, leaves) as R;
    });
  };
}
