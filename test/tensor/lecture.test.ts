/**
 * The lecture's `df(x, W, y, z)`, Scalar → Vector → Minibatch: P = X W, Q = max(P, 0), R = Q − y, S = R²,
 * T = S + z, backpropagated from dT = ones. The engine's gradients are checked against the lecture's
 * hand-written backward formulas, evaluated here with plain loops (not with the engine):
 *
 *     dS, dz = 1*dT, dT.sum(axis=0)
 *     dR = 2*R * dS
 *     dQ, dy = 1*dR, -1*dR.sum(axis=0)
 *     dP = (P>0) * dQ
 *     dX, dW = dP @ W.T, X.T @ dP
 */
import { describe, expect, test } from "vitest";
import { Generator, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";

type M = number[][];
const matmul = (a: M, b: M): M => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const T = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
const colSums = (a: M): number[] => a[0]!.map((_, j) => a.reduce((s, r) => s + r[j]!, 0));

/** The lecture's df, by hand: forward values and the four gradients. */
function dfByHand(X: M, W: M, y: number[], z: number[]) {
  const P = matmul(X, W);
  const Q = P.map((r) => r.map((v) => Math.max(v, 0)));
  const R = Q.map((r) => r.map((v, j) => v - y[j]!));
  const S = R.map((r) => r.map((v) => v * v));
  const Tt = S.map((r) => r.map((v, j) => v + z[j]!));
  const dT = Tt.map((r) => r.map(() => 1));
  const dS = dT, dz = colSums(dT);
  const dR = R.map((r, i) => r.map((v, j) => 2 * v * dS[i]![j]!));
  const dQ = dR, dy = colSums(dR).map((v) => -v);
  const dP = P.map((r, i) => r.map((v, j) => (v > 0 ? 1 : 0) * dQ[i]![j]!));
  return { T: Tt, dX: matmul(dP, T(W)), dW: matmul(T(X), dP), dy, dz };
}

function random(g: Generator, rows: number, cols: number): M {
  // Values on a grid of 1/8 so that P = X W is never exactly 0 (no kink) and float64 is exact.
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round((g.uniform() * 4 - 2) * 8) / 8 + 1 / 64));
}

function expectClose(actual: Tensor, expected: unknown) {
  const a = actual.toArray(), e = (Array.isArray(expected) ? (expected as unknown[]).flat(3) : [expected]) as number[];
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(e[i]!, 10));
}

function runEngine(Xv: M | number[], Wv: M, yv: number[], zv: number[]) {
  const X = tensor(Xv, { dtype: "float64", requiresGrad: true });
  const W = tensor(Wv, { dtype: "float64", requiresGrad: true });
  const y = tensor(yv, { dtype: "float64", requiresGrad: true });
  const z = tensor(zv, { dtype: "float64", requiresGrad: true });
  const P = X.matmul(W);
  const Q = P.maximum(0);
  const R = Q.sub(y);
  const S = R.pow(2);
  const Tt = S.add(z);
  Tt.backward(1); // dT = ones, as the lecture seeds it
  return { T: Tt, X, W, y, z };
}

describe("the lecture's df(X, W, y, z)", () => {
  test("scalar: f(1, 3, 0, -2) = 7, dx = 18, dw = 6, dy = -6, dz = 1", () => {
    const [x, w, y, z] = [1, 3, 0, -2].map((v) => tensor(v, { dtype: "float64", requiresGrad: true })) as [Tensor, Tensor, Tensor, Tensor];
    const t = x.mul(w).maximum(0).sub(y).pow(2).add(z);
    t.backward();
    expect(t.item()).toBe(7);
    expect([x.grad!.item(), w.grad!.item(), y.grad!.item(), z.grad!.item()]).toEqual([18, 6, -6, 1]);
  });

  test("vector: x a row vector [1, n]", () => {
    const g = new Generator(1);
    const x = random(g, 1, 4), W = random(g, 4, 3), y = random(g, 1, 3)[0]!, z = random(g, 1, 3)[0]!;
    const hand = dfByHand(x, W, y, z);
    const e = runEngine(x, W, y, z);
    expectClose(e.T, hand.T);
    expectClose(e.X.grad!, hand.dX);
    expectClose(e.W.grad!, hand.dW);
    expectClose(e.y.grad!, hand.dy);
    expectClose(e.z.grad!, hand.dz);
  });

  test("vector: x 1-D (NumPy semantics: x @ W is a vector, dW = outer(x, dP))", () => {
    const g = new Generator(2);
    const x = random(g, 1, 5), W = random(g, 5, 2), y = random(g, 1, 2)[0]!, z = random(g, 1, 2)[0]!;
    const hand = dfByHand(x, W, y, z);
    const e = runEngine(x[0]!, W, y, z);
    expect(e.X.grad!.shape).toEqual([5]);
    expectClose(e.T, hand.T[0]);
    expectClose(e.X.grad!, hand.dX[0]);
    expectClose(e.W.grad!, hand.dW);
    expectClose(e.y.grad!, hand.dy);
    expectClose(e.z.grad!, hand.dz);
  });

  test("minibatch: X [B, n]; y and z broadcast over the batch, so dy and dz are column sums", () => {
    const g = new Generator(3);
    const B = 6;
    const X = random(g, B, 4), W = random(g, 4, 3), y = random(g, 1, 3)[0]!, z = random(g, 1, 3)[0]!;
    const hand = dfByHand(X, W, y, z);
    const e = runEngine(X, W, y, z);
    expectClose(e.T, hand.T);
    expectClose(e.X.grad!, hand.dX);
    expectClose(e.W.grad!, hand.dW);
    expectClose(e.y.grad!, hand.dy);
    expectClose(e.z.grad!, hand.dz);
    // dz = column sums of dT = ones: B in every column.
    expect(e.z.grad!.toNested()).toEqual([B, B, B]);
    // Some P entries are negative, so the ReLU mask is exercised.
    expect(matmul(X, W).flat().some((v) => v < 0)).toBe(true);
  });
});
