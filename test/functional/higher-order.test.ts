/**
 * Higher-order derivatives through the functional API: third (and fourth) derivatives of sin, tanh, exp and log
 * against their closed forms, in every combination of reverse mode (grad) and forward mode (jvp) at each level.
 */
import { describe, expect, test } from "vitest";
import { grad, jvp } from "../../packages/gradgraph/src/autodiff/functional.js";
import type { Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { t64 } from "./helpers.js";

type F = (x: Tensor) => Tensor;

/** The derivative of a scalar function by reverse mode, and by forward mode. */
const rev = (f: F): F => (x) => grad(f)(x);
const fwd = (f: F): F => (x) => jvp(f, [x], [t64(1)])[1];
const modes = { rev, fwd } as const;

const sech2 = (x: number) => 1 - Math.tanh(x) ** 2;
const cases: { name: string; f: F; d3: (x: number) => number; d4: (x: number) => number; at: number[] }[] = [
  { name: "sin", f: (x) => x.sin(), d3: (x) => -Math.cos(x), d4: (x) => Math.sin(x), at: [-2, 0, 0.7, 3] },
  // tanh' = s, tanh'' = -2ts, tanh''' = -2s(1 - 3t²), tanh'''' = 8ts(2 - 3t²)... with s = 1 - t²
  { name: "tanh", f: (x) => x.tanh(), d3: (x) => -2 * sech2(x) * (1 - 3 * Math.tanh(x) ** 2), d4: (x) => 8 * Math.tanh(x) * sech2(x) * (2 - 3 * Math.tanh(x) ** 2), at: [-1.5, 0, 0.3, 2] },
  { name: "exp", f: (x) => x.exp(), d3: Math.exp, d4: Math.exp, at: [-3, 0, 1.2] },
  { name: "log", f: (x) => x.log(), d3: (x) => 2 / x ** 3, d4: (x) => -6 / x ** 4, at: [0.25, 1, 3.5] },
];

const combos = (["rev", "fwd"] as const).flatMap((a) => (["rev", "fwd"] as const).flatMap((b) => (["rev", "fwd"] as const).map((c) => [a, b, c] as const)));

describe("third derivatives against closed forms, all 8 mode combinations", () => {
  for (const c of cases) {
    test(c.name, () => {
      for (const [a, b, m] of combos) {
        const d3 = modes[a](modes[b](modes[m](c.f)));
        for (const x of c.at) {
          const got = d3(t64(x)).item();
          expect(Math.abs(got - c.d3(x)), `${c.name}''' at ${x} by ${a}∘${b}∘${m}: ${got} vs ${c.d3(x)}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(c.d3(x))));
        }
      }
    });
  }
});

test("fourth derivatives (reverse over forward over reverse over forward)", () => {
  for (const c of cases) {
    const d4 = rev(fwd(rev(fwd(c.f))));
    // tanh at 0 included: tanh' = 1 - y^2 is written with pow, whose rule differentiated down to a zero
    // exponent must give 0·y^0 = 0 at y = 0, not 0·0^(-1) = NaN.
    for (const x of c.at) expect(d4(t64(x)).item()).toBeCloseTo(c.d4(x), 10);
  }
});

test("the derivatives of a composition: d³/dx³ log(1 + exp(sin x)) by grad³ equals forward³", () => {
  const f: F = (x) => x.sin().exp().add(1).log();
  const x = t64(0.4);
  const r = rev(rev(rev(f)))(x).item();
  const w = fwd(fwd(fwd(f)))(x).item();
  expect(Math.abs(r - w)).toBeLessThan(1e-12);
  // and against a central difference of the closed-form second derivative
  const d2 = (t: number) => {
    const s = Math.sin(t), c = Math.cos(t), e = Math.exp(s), p = e / (1 + e);
    return c * c * p * (1 - p) - s * p;
  };
  const h = 1e-5;
  expect(r).toBeCloseTo((d2(0.4 + h) - d2(0.4 - h)) / (2 * h), 7);
});
