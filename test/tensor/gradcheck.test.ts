import { describe, expect, test } from "vitest";
import { ops, type AnyOp } from "../../packages/gradgraph/src/ops/index.js";
import { randn, Tensor, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { forEachBackend } from "../backends.js";

/** An op-table entry with its vjp or jvp rule replaced (the kernel and shape rule stay the table's). */
function broken(op: AnyOp, patch: Partial<Pick<AnyOp, "vjp" | "jvp">>): AnyOp {
  return { ...op, ...patch } as AnyOp;
}

forEachBackend(() => {
  describe("gradcheck", () => {
    test("passes a correct function and reports ok", () => {
      const r = gradcheck((a, b) => a.matmul(b).tanh().sum(), [randn([2, 3], { seed: 1 }), randn([3, 2], { seed: 2 })]);
      expect(r.ok).toBe(true);
      expect(r.failures).toEqual([]);
      expect(r.message).toBe("gradcheck: ok");
      expect(r.maxAbsError).toBeLessThan(1e-6);
    });

    test("a wrong vjp rule: reverse mode fails, forward passes, and the report names the op and its input", () => {
      // sin's derivative replaced by sin (should be cos).
      const badSin = broken(ops.sin, { vjp: (o, g, [x]) => [o.mul(g, o.sin(x!))] });
      const r = gradcheck((a, b) => Tensor.apply(badSin, [a.mul(b)]).sum(), [randn([3], { seed: 3 }), randn([2, 3], { seed: 4 })]);
      expect(r.ok).toBe(false);
      expect(r.failures.every((f) => f.mode === "reverse")).toBe(true);
      expect(r.failures[0]!.op).toBe("sin");
      expect(r.failures[0]!.opInput).toBe(0);
      expect(r.failures.some((f) => f.input === 0) && r.failures.some((f) => f.input === 1)).toBe(true);
      expect(r.message).toMatch(/^gradcheck failed: reverse mode: ∂output\[\]\/∂input 0\[0\] is .*; the first op whose reverse rule disagrees: sin \(its input 0, of shape \[2,3\]\)/);
    });

    test("a wrong jvp rule: forward mode fails and names the op and the input", () => {
      // matmul's jvp missing the a·db term.
      const badMatmul = broken(ops.matmul, { jvp: (o, [da], [, b]) => (da ? o.matmul(da, b!) : null) });
      const r = gradcheck((a, b) => Tensor.apply(badMatmul, [a.exp(), b]).sum(), [randn([2, 3], { seed: 5 }), randn([3, 2], { seed: 6 })]);
      expect(r.ok).toBe(false);
      expect(r.failures.every((f) => f.mode === "forward")).toBe(true);
      expect(r.failures.every((f) => f.input === 1 || f.check === "projection")).toBe(true);
      expect(r.failures[0]!.op).toBe("matmul");
      expect(r.failures[0]!.opInput).toBe(1);
    });

    test("the first wrong op is found even when a later op is right", () => {
      const badExp = broken(ops.exp, { vjp: (o, g) => [g], jvp: (_o, [dx]) => dx ?? null });
      const r = gradcheck((a) => Tensor.apply(badExp, [a]).sin().sum(), [tensor([0.5, 1])]);
      expect(r.ok).toBe(false);
      expect(new Set(r.failures.map((f) => f.mode))).toEqual(new Set(["reverse", "forward"]));
      expect(r.failures.every((f) => f.op === "exp")).toBe(true);
    });

    test("projections only (Jacobian too large) still catch a wrong rule", () => {
      const badTanh = broken(ops.tanh, { vjp: (o, g, _xs, y) => [o.mul(g, o.sub(1, y))] });
      const x = randn([40, 40], { seed: 7 });
      expect(gradcheck((a) => a.tanh().mul(a), [x], { maxJacobian: 100 }).ok).toBe(true);
      const r = gradcheck((a) => Tensor.apply(badTanh, [a]).mul(a), [x], { maxJacobian: 100 });
      expect(r.ok).toBe(false);
      expect(r.failures.every((f) => f.check === "projection" && f.mode === "reverse")).toBe(true);
      expect(r.failures[0]!.op).toBe("tanh");
    });

    test("inputs are checked in float64 whatever their dtype", () => {
      const r = gradcheck((a) => a.pow(3).sum(), [tensor([0.1, 0.2, 0.3])]);
      expect(r.ok).toBe(true);
    });
  });
});
