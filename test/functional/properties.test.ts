/**
 * Properties of the transforms on random tensor programs (fast-check, fixed seeds, float64):
 * <v, J u> (forward) = <Jᵀ v, u> (reverse); jacfwd = jacrev; Hessians are symmetric (and hvp = H·v); the backward
 * pass is linear in its seed.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { hessian, hvp, jacfwd, jacrev, jvp, vjp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { Generator, NDArray, Tensor } from "../../packages/gradgraph/src/tensor/index.js";

/**
 * A random program of a vector x (length n) and a matrix W (n×n): straight-line steps on a running value h,
 * each mixing in x, W or an earlier value, with smooth ops only (no kinks, no ties), kept in range.
 */
type Step = "sin" | "tanh" | "sigmoid" | "expScaled" | "square" | "matmulW" | "addRowOfW" | "mulX" | "softmax" | "centerLse" | "addEarlier" | "mulEarlier";
const STEPS: readonly Step[] = ["sin", "tanh", "sigmoid", "expScaled", "square", "matmulW", "addRowOfW", "mulX", "softmax", "centerLse", "addEarlier", "mulEarlier"];

interface Program {
  n: number;
  steps: { op: Step; k: number }[];
  seed: number;
}

const programs: fc.Arbitrary<Program> = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  steps: fc.array(fc.record({ op: fc.constantFrom(...STEPS), k: fc.nat() }), { minLength: 1, maxLength: 8 }),
  seed: fc.nat({ max: 10_000 }),
});

function run(p: Program, x: Tensor, W: Tensor): Tensor {
  const seen: Tensor[] = [x];
  let h = x;
  for (const { op, k } of p.steps) {
    const earlier = seen[k % seen.length]!;
    switch (op) {
      case "sin": h = h.sin(); break;
      case "tanh": h = h.tanh(); break;
      case "sigmoid": h = h.sigmoid(); break;
      case "expScaled": h = h.mul(0.3).exp(); break;
      case "square": h = h.mul(h).mul(0.5); break;
      case "matmulW": h = W.matmul(h); break;
      case "addRowOfW": h = h.add(W.sum(0)); break;
      case "mulX": h = h.mul(x); break;
      case "softmax": h = h.softmax(); break;
      case "centerLse": h = h.sub(h.logsumexp()); break;
      case "addEarlier": h = h.add(earlier); break;
      case "mulEarlier": h = h.mul(earlier).tanh(); break;
      default: {
        const never: never = op;
        throw new Error(String(never));
      }
    }
    seen.push(h);
  }
  return h;
}

function random(g: Generator, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(new NDArray(Float64Array.from({ length: n }, () => g.uniform() * 2 - 1), [...shape]));
}

function dot(a: Tensor, b: Tensor): number {
  const x = a.toArray(), y = b.toArray();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

function close(a: number, b: number, tol = 1e-10): boolean {
  return Math.abs(a - b) <= tol * (1 + Math.abs(a) + Math.abs(b));
}

function allClose(a: Tensor, b: Tensor, tol = 1e-10): boolean {
  const x = a.toArray(), y = b.toArray();
  return a.shape.join() === b.shape.join() && x.every((v, i) => close(v, y[i]!, tol));
}

function setUp(p: Program) {
  const g = new Generator(p.seed);
  return { g, x: random(g, [p.n]), W: random(g, [p.n, p.n]).mul(0.7) };
}

const options = { numRuns: 40, seed: 20_240_601 };

describe("properties of the transforms on random programs", () => {
  test("<v, J u> by forward mode = <Jᵀ v, u> by reverse mode", () => {
    fc.assert(
      fc.property(programs, (p) => {
        const { g, x, W } = setUp(p);
        const f = (x: Tensor, W: Tensor) => run(p, x, W);
        const ux = random(g, [p.n]), uW = random(g, [p.n, p.n]);
        const [y, ty] = jvp(f, [x, W], [ux, uW]);
        const v = random(g, y.shape);
        const [, pullback] = vjp(f, x, W);
        const [gx, gW] = pullback(v);
        return close(dot(v, ty), dot(gx, ux) + dot(gW, uW));
      }),
      options,
    );
  });

  test("jacfwd = jacrev, for every argument", () => {
    fc.assert(
      fc.property(programs, (p) => {
        const { x, W } = setUp(p);
        const f = (x: Tensor, W: Tensor) => run(p, x, W);
        const [Fx, FW] = jacfwd(f, { argnums: [0, 1] })(x, W);
        const [Rx, RW] = jacrev(f, { argnums: [0, 1] })(x, W);
        return allClose(Fx, Rx) && allClose(FW, RW) && Fx.shape.join() === `${p.n},${p.n}`;
      }),
      options,
    );
  });

  test("Hessians are symmetric (within and across arguments), and hvp = H·v", () => {
    fc.assert(
      fc.property(programs, (p) => {
        const { g, x, W } = setUp(p);
        const c = random(g, [p.n]);
        const f = (x: Tensor, W: Tensor) => run(p, x, W).mul(c).sum();
        const [[Hxx, HxW], [HWx, HWW]] = hessian(f, { argnums: [0, 1] })(x, W);
        const n = p.n;
        const sym = allClose(Hxx, Hxx.T) && allClose(HWW.reshape(n * n, n * n), HWW.reshape(n * n, n * n).T) && allClose(HxW.reshape(n, n * n), HWx.reshape(n * n, n).T);
        const u = random(g, [n]);
        const [hx] = hvp((x: Tensor) => f(x, W), [x], [u]);
        return sym && allClose(hx, Hxx.matmul(u));
      }),
      { ...options, numRuns: 25 },
    );
  });

  test("the backward pass is linear in its seed", () => {
    fc.assert(
      fc.property(programs, fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (p, a, b) => {
        const { g, x, W } = setUp(p);
        const [y, pullback] = vjp((x: Tensor, W: Tensor) => run(p, x, W), x, W);
        const v1 = random(g, y.shape), v2 = random(g, y.shape);
        const [gx, gW] = pullback(v1.mul(a).add(v2.mul(b)));
        const [gx1, gW1] = pullback(v1), [gx2, gW2] = pullback(v2);
        return allClose(gx, gx1.mul(a).add(gx2.mul(b))) && allClose(gW, gW1.mul(a).add(gW2.mul(b)));
      }),
      options,
    );
  });

  test("the properties can fail: a wrong Jacobian is caught", () => {
    // Sanity check of the checks themselves: perturb one entry and the comparison says so.
    const x = new Tensor(new NDArray(Float64Array.from([0.3, -0.2]), [2]));
    const J = jacrev((x: Tensor) => x.sin())(x);
    const wrong = J.add(new Tensor(new NDArray(Float64Array.from([0, 1e-6, 0, 0]), [2, 2])));
    expect(allClose(J, jacfwd((x: Tensor) => x.sin())(x))).toBe(true);
    expect(allClose(wrong, jacfwd((x: Tensor) => x.sin())(x))).toBe(false);
  });
});
