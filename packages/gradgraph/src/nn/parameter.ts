/**
 * `Parameter`: a tensor marked as a module's learnable weight (PyTorch's `nn.Parameter`). A module finds its
 * parameters among its fields by this mark, a global symbol, so a model built with one copy of the package is
 * understood by another (no `instanceof`).
 *
 * @example
 * class Scale extends Module {
 *   w = new Parameter(ones([3]));
 *   forward(x: Tensor) { return x.mul(this.w); }
 * }
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { isTensor, Tensor } from "../tensor/tensor.js";

const PARAMETER_KEYS = optionKeys<{ requiresGrad?: boolean }>({ requiresGrad: true });

/** The mark of a parameter (global: the same in every copy of the package). */
export const PARAMETER_BRAND: unique symbol = Symbol.for("gradgraph.Parameter") as never;

/**
 * A learnable weight: a leaf tensor holding `data`'s values (shared, not copied), with `requiresGrad` true by
 * default (false freezes it: still a parameter, saved in the state dict, but not trained).
 *
 * @example
 * const w = new Parameter(randn([4, 3], { seed: 0 }));
 * w.requiresGrad; // true
 */
export class Parameter extends Tensor {
  /** The brand {@link isParameter} looks for. */
  get [PARAMETER_BRAND](): true {
    return true;
  }

  constructor(data: Tensor, options: { requiresGrad?: boolean } = {}) {
    expectOptions("Parameter", options, PARAMETER_KEYS);
    super(data.value, { requiresGrad: options.requiresGrad ?? true, ...(data.label === undefined ? {} : { label: data.label }) });
  }
}

/** Whether `x` is a {@link Parameter} (of this copy of the package or another). */
export function isParameter(x: unknown): x is Parameter {
  return isTensor(x) && (x as { [PARAMETER_BRAND]?: unknown })[PARAMETER_BRAND] === true;
}

/** `new Parameter(data, options)`, as a function. */
export function parameter(data: Tensor, options: { requiresGrad?: boolean } = {}): Parameter {
  return new Parameter(data, options);
}
