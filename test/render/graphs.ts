/**
 * The lecture's graphs, built with the `Value` API exactly as the lecture writes them (`d = 1 / c`, `p = x * 3`),
 * with the lecture's answers.
 */
import { Value } from "../../packages/gradgraph/src/scalar/value.js";

export interface Example {
  /** File-name stem of the golden files. */
  id: string;
  /** The expression as written on the board. */
  expr: string;
  root: Value;
  inputs: Value[];
  value: number;
  /** Expected gradient per input, in the order of `inputs`. */
  grads: number[];
}

const v = (data: number, label: string) => new Value(data, { label });

/** f(x, y) = 1/(y + e^{-x}) at (0, 1): a = -x, b = e^a, c = y + b, d = 1 / c. */
export function lectureF(): Example {
  const x = v(0, "x"), y = v(1, "y");
  const root = Value.constant(1).div(y.add(x.neg().exp()));
  return { id: "f-xy", expr: "1/(y + exp(-x))", root, inputs: [x, y], value: 0.5, grads: [0.25, -0.25] };
}

/** f(x, y, z) = [max(3x, 0) - y]^2 + z at (1, 0, -2): p = x * 3, q = max(p, 0), r = q - y, s = r**2, t = s + z. */
export function lectureFxyz(): Example {
  const x = v(1, "x"), y = v(0, "y"), z = v(-2, "z");
  const root = x.mul(3).max(0).sub(y).pow(2).add(z);
  return { id: "f-xyz", expr: "(max(x*3, 0) - y)^2 + z", root, inputs: [x, y, z], value: 7, grads: [18, -6, 1] };
}

/** L_MLP = [max(max(w1 x + b1, 0) w2 + b2, 0) - y]^2 at (x, y, w1, b1, w2, b2) = (2, 10, -1, 4, 3, 1). */
export function lectureMlp(): Example {
  const x = v(2, "x"), y = v(10, "y"), w1 = v(-1, "w1"), b1 = v(4, "b1"), w2 = v(3, "w2"), b2 = v(1, "b2");
  const root = w1.mul(x).add(b1).max(0).mul(w2).add(b2).max(0).sub(y).pow(2);
  return {
    id: "mlp",
    expr: "(max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2",
    root,
    inputs: [x, y, w1, b1, w2, b2],
    value: 9,
    grads: [18, 6, -36, -18, -12, -6],
  };
}

/** x * x at x = 3: one value used twice by one op; ∂/∂x = 2x = 6. */
export function square(): Example {
  const x = v(3, "x");
  return { id: "x-times-x", expr: "x*x", root: x.mul(x), inputs: [x], value: 9, grads: [6] };
}

/** x^2 + 3x at x = 2 ("handling multiple gradients"): ∇x = 2x + 3 = 7. */
export function quadratic(): Example {
  const x = v(2, "x");
  return { id: "x2-plus-3x", expr: "x^2 + 3*x", root: x.pow(2).add(Value.constant(3).mul(x)), inputs: [x], value: 10, grads: [7] };
}

/** Every function of the op table at once: relu, sigmoid, abs, sqrt, max, min, pow with a variable exponent, sin, cos, tanh, log. */
export function everyOp(): Example {
  const x = v(0.7, "x"), y = v(1.3, "y"), w = v(-0.4, "w");
  const a = x.mul(w).relu().add(y.sigmoid());           // relu(x*w) + sigmoid(y)
  const b = w.abs().add(x).sqrt();                       // sqrt(|w| + x)
  const c = x.max(y).sub(w.min(x));                      // max(x, y) - min(w, x)
  const d = y.pow(x).mul(x.sin()).add(y.cos());         // y^x * sin(x) + cos(y)
  const g = w.tanh().mul(x.add(y).log()).div(b);         // tanh(w) * log(x + y) / b
  const root = a.add(b).mul(c).add(d).sub(g).add(x.exp().neg());
  // Reference values by plain arithmetic (independent of the op table).
  const [X, Y, W] = [0.7, 1.3, -0.4];
  const f = (X: number, Y: number, W: number) => {
    const A = Math.max(X * W, 0) + 1 / (1 + Math.exp(-Y));
    const B = Math.sqrt(Math.abs(W) + X);
    const C = Math.max(X, Y) - Math.min(W, X);
    const D = Y ** X * Math.sin(X) + Math.cos(Y);
    const G = (Math.tanh(W) * Math.log(X + Y)) / B;
    return (A + B) * C + D - G - Math.exp(X);
  };
  const h = 1e-6;
  const grads = [
    (f(X + h, Y, W) - f(X - h, Y, W)) / (2 * h),
    (f(X, Y + h, W) - f(X, Y - h, W)) / (2 * h),
    (f(X, Y, W + h) - f(X, Y, W - h)) / (2 * h),
  ];
  return { id: "every-op", expr: "every op", root, inputs: [x, y, w], value: f(X, Y, W), grads };
}

/** The lecture's examples that have golden files. */
export const lectureExamples = [lectureF, lectureFxyz, lectureMlp, square, quadratic];
