/**
 * The functional transforms: grad, valueAndGrad, vjp, jvp, linearize, jacrev, jacfwd, hessian, hvp — over tensors
 * and trees of tensors — and how they treat closures, requiresGrad, nesting and bad input.
 */
import { describe, expect, test } from "vitest";
import { grad, hessian, hvp, jacfwd, jacrev, jvp, linearize, valueAndGrad, vjp } from "../../packages/gradgraph/src/autodiff/functional.js";
import { vmap } from "../../packages/gradgraph/src/autodiff/vmap.js";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";
import { engine, noGrad, randn, stack, tensor, Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { expectClose, t64 } from "./helpers.js";

describe("grad and valueAndGrad", () => {
  test("the gradient of a function of one tensor, and its value", () => {
    const f = (x: Tensor) => x.sin().mul(x).sum();
    const x = t64([0.5, -1, 2]);
    const [v, g] = valueAndGrad(f)(x);
    expect(v.item()).toBeCloseTo([0.5, -1, 2].reduce((s, a) => s + a * Math.sin(a), 0), 14);
    expectClose(grad(f)(x), [0.5, -1, 2].map((a) => Math.sin(a) + a * Math.cos(a)));
    // Results are plain tensors: no graph, nothing requires grad, the caller's tensor is untouched.
    expect(g.requiresGrad).toBe(false);
    expect(v.requiresGrad).toBe(false);
    expect(x.grad).toBeNull();
    expect(x.requiresGrad).toBe(false);
  });

  test("argnums: one position gives that argument's gradient, a list gives a tuple", () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => a.mul(b).add(c.mul(3)).sum();
    const a = t64([1, 2]), b = t64([3, 4]), c = t64([5, 6]);
    expectClose(grad(f, { argnums: 1 })(a, b, c), [1, 2]);
    const [ga, gc] = grad(f, { argnums: [0, 2] })(a, b, c);
    expectClose(ga, [3, 4]);
    expectClose(gc, [3, 3]);
    expect(() => grad(f, { argnums: 3 })(a, b, c)).toThrow(/argnums 3 is out of range: the function was called with 3 arguments/);
    expect(() => grad(f, { argnums: [0, 0] })(a, b, c)).toThrow(/twice/);
  });

  test("trees: a model's parameters as a nested object; static values get null", () => {
    type Params = { layers: { w: Tensor; b: Tensor }[]; scale: number };
    const params: Params = { layers: [{ w: t64([[1, 2], [3, 4]]), b: t64([0.5, -0.5]) }, { w: t64([[1], [-1]]), b: t64([0]) }], scale: 2 };
    const x = t64([[1, -1]]);
    const loss = (p: Params, input: Tensor) => {
      let h = input;
      for (const l of p.layers) h = h.matmul(l.w).add(l.b).tanh();
      return h.sum().mul(p.scale);
    };
    const g = grad(loss)(params, x);
    expect(g.scale).toBeNull();
    expect(g.layers).toHaveLength(2);
    expect(g.layers[0]!.w.shape).toEqual([2, 2]);
    // Against the engine's own backward pass on leaves that require grad.
    const leaves = params.layers.flatMap((l) => [l.w, l.b]).map((t) => new Tensor(t.value, { requiresGrad: true }));
    const again: Params = { layers: [{ w: leaves[0]!, b: leaves[1]! }, { w: leaves[2]!, b: leaves[3]! }], scale: 2 };
    const expected = engine.gradients([loss(again, x)], leaves);
    expectClose(g.layers[0]!.w, expected[0]!);
    expectClose(g.layers[0]!.b, expected[1]!);
    expectClose(g.layers[1]!.w, expected[2]!);
    expectClose(g.layers[1]!.b, expected[3]!);
  });

  test("hasAux: [value, aux] in, [gradient, aux] out", () => {
    const f = (x: Tensor) => [x.mul(x).sum(), { note: "aux", y: x.mul(2) }] as const;
    const [g, aux] = grad(f, { hasAux: true })(t64([1, 2]));
    expectClose(g, [2, 4]);
    expect(aux.note).toBe("aux");
    const [[v, aux2], g2] = valueAndGrad(f, { hasAux: true })(t64([3]));
    expect(v.item()).toBe(9);
    expectClose(aux2.y, [6]);
    expectClose(g2, [6]);
  });

  test("grad needs a single value; its errors say what to do", () => {
    expect(() => grad((x: Tensor) => x.mul(2))(t64([1, 2]))).toThrow(/must return a single value .* shape \[2\] \(sum it, or use vjp or jacrev\)/);
    expect(() => grad((x: Tensor) => 3 as unknown as Tensor)(t64([1]))).toThrow(InputError);
    class Model {
      w = t64([1]);
    }
    expect(() => grad((m: Model) => m.w.sum())(new Model())).toThrow(/cannot look inside a Model: a tree holds tensors in plain objects and arrays/);
  });

  test("a function that ignores its input has a zero gradient", () => {
    expectClose(grad((x: Tensor) => t64(3).add(0).mul(1))(t64([1, 2])), [0, 0]);
  });
});

describe("vjp, jvp, linearize", () => {
  test("vjp: the pullback of a tree-valued function, called several times", () => {
    const f = (a: Tensor, b: Tensor) => ({ p: a.mul(b), s: a.add(b).sum() });
    const [y, pullback] = vjp(f, t64([1, 2]), t64([3, 4]));
    expectClose(y.p, [3, 8]);
    expect(y.s.item()).toBe(10);
    const [ga, gb] = pullback({ p: t64([1, 0]), s: null });
    expectClose(ga, [3, 0]);
    expectClose(gb, [1, 0]);
    const [ga2, gb2] = pullback({ p: null, s: 2 });
    expectClose(ga2, [2, 2]);
    expectClose(gb2, [2, 2]);
    expect(() => pullback({ p: t64([1, 2, 3]), s: null })).toThrow(/vjp: the cotangent at \.p: shape \[3\] does not match the primal's shape \[2\]/);
    expect(() => pullback([1, 2] as never)).toThrow(/expected an object with keys p, s/);
  });

  test("jvp: the directional derivative, through the jvp rules", () => {
    const f = (x: Tensor, w: Tensor) => x.matmul(w).tanh();
    const x = t64([[1, 2]]), w = t64([[0.5, -1], [0.25, 2]]);
    const u = t64([[1, 0]]), dw = t64([[0, 1], [0, 0]]);
    const [y, dy] = jvp(f, [x, w], [u, dw]);
    // d tanh(xw) = (1 - tanh²)(u w + x dw)
    const z = [1 * 0.5 + 2 * 0.25, 1 * -1 + 2 * 2];
    const dz = [0.5 + 0, -1 + 1];
    expectClose(y, [z.map(Math.tanh)]);
    expectClose(dy, [z.map((v, i) => (1 - Math.tanh(v) ** 2) * dz[i]!)]);
    // null: no tangent for that argument
    const [, dyx] = jvp(f, [x, w], [u, null]);
    expectClose(dyx, [z.map((v, i) => (1 - Math.tanh(v) ** 2) * [0.5, -1][i]!)]);
    expect(() => jvp(f, [x, w], [u] as never)).toThrow(/give one tangent per argument \(2\), got 1/);
    expect(() => jvp(f, [x, w], [t64([1, 0]), null])).toThrow(/the tangent of argument 0: shape \[2\] does not match the primal's shape \[1,2\]/);
  });

  test("linearize records once and pushes any tangent forward", () => {
    let calls = 0;
    const f = (x: Tensor) => {
      calls++;
      return x.exp().mul(x);
    };
    const [y, lin] = linearize(f, t64([0, 1]));
    expectClose(y, [0, Math.E]);
    expectClose(lin(t64([1, 0])), [1, 0]);
    expectClose(lin(t64([0, 2])), [0, 2 * 2 * Math.E]);
    expect(calls).toBe(1);
  });
});

describe("Jacobians and Hessians", () => {
  test("jacrev and jacfwd: blocks of shape [...out, ...in], equal", () => {
    const W = t64([[1, 2, 3], [0, -1, 1]]);
    const f = (x: Tensor) => W.matmul(x.sin());
    const x = t64([0.1, 0.2, 0.3]);
    const Jr = jacrev(f)(x), Jf = jacfwd(f)(x);
    expect(Jr.shape).toEqual([2, 3]);
    const expected = [[1, 2, 3], [0, -1, 1]].map((row) => row.map((w, j) => w * Math.cos([0.1, 0.2, 0.3][j]!)));
    expectClose(Jr, expected);
    expectClose(Jf, expected);
    // Matrix input, 0-d output: the block has the input's shape.
    const g = (M: Tensor) => M.mul(M).sum();
    expectClose(jacrev(g)(t64([[1, 2], [3, 4]])), [[2, 4], [6, 8]]);
    expectClose(jacfwd(g)(t64([[1, 2], [3, 4]])), [[2, 4], [6, 8]]);
    expect(jacrev((M: Tensor) => M.mul(2))(t64([[1, 2], [3, 4]])).shape).toEqual([2, 2, 2, 2]);
  });

  test("trees in and out", () => {
    const f = (p: { a: Tensor; b: Tensor }) => [p.a.mul(p.b), p.a.sum()];
    const J = jacfwd(f)({ a: t64([1, 2]), b: t64([3, 4]) });
    const Jr = jacrev(f)({ a: t64([1, 2]), b: t64([3, 4]) });
    expectClose(J[0]!.a, [[3, 0], [0, 4]]);
    expectClose(J[0]!.b, [[1, 0], [0, 2]]);
    expectClose(J[1]!.a, [1, 1]);
    expectClose(Jr[0]!.b, [[1, 0], [0, 2]]);
    expectClose(Jr[1]!.b, [0, 0]);
  });

  test("hessian (forward-over-reverse) and hvp", () => {
    const f = (x: Tensor) => x.pow(3).sum().add(x.slice(0).mul(x.slice(1)));
    const x = t64([1, 2]);
    const H = hessian(f)(x);
    expectClose(H, [[6, 1], [1, 12]]);
    const [hv] = hvp(f, [x], [t64([1, -1])]);
    expectClose(hv, [6 - 1, 1 - 12]);
    // Several arguments: H[i][j].
    const g = (a: Tensor, b: Tensor) => a.mul(b).mul(b).sum();
    const [[Haa, Hab], [Hba, Hbb]] = hessian(g, { argnums: [0, 1] })(t64([2]), t64([3]));
    expectClose(Haa, [[0]]);
    expectClose(Hab, [[6]]);
    expectClose(Hba, [[6]]);
    expectClose(Hbb, [[4]]);
  });
});

describe("nesting, closures and requiresGrad", () => {
  test("grad of grad, any order; jacfwd(jacrev(f)) = jacrev(jacrev(f)) = jacfwd(jacfwd(f))", () => {
    const f = (x: Tensor) => x.mul(x.exp()).sum();
    const x = t64([0.3]);
    const d = (k: number) => Math.exp(0.3) * (0.3 + k); // d^k/dx^k x e^x
    let g: (x: Tensor) => Tensor = f;
    for (let k = 1; k <= 4; k++) {
      const prev = g;
      g = (y: Tensor) => grad(prev)(y).sum();
      expect(g(x).item()).toBeCloseTo(d(k), 12);
    }
    const h = (y: Tensor) => f(y);
    for (const H of [jacfwd(jacrev(h))(x), jacrev(jacrev(h))(x), jacfwd(jacfwd(h))(x), jacrev(jacfwd(h))(x)]) expectClose(H, [[d(2)]], 1e-12);
  });

  test("no perturbation confusion: the inner transform differentiates its own variable", () => {
    // d/dx [ d/dy (x·y) at y = x ] = d/dx x = 1 (confusing the two variables gives 2)
    const a = t64(2);
    expect(grad((x: Tensor) => grad((y: Tensor) => x.mul(y))(x))(a).item()).toBe(1);
    const [, t] = jvp((x: Tensor) => jvp((y: Tensor) => x.mul(y), [x], [t64(1)])[1], [a], [t64(1)]);
    expect(t.item()).toBe(1);
  });

  test("a closed-over tensor is a constant for the transform, and a variable for an outer one", () => {
    const c = t64([2, 3]);
    // The inner gradient with respect to y is c·x; the outer differentiates through the closure over x.
    const inner = (x: Tensor) => grad((y: Tensor) => x.mul(y).mul(c).sum())(t64([1, 1]));
    expectClose(inner(t64([5, 7])), [10, 21]);
    expectClose(grad((x: Tensor) => inner(x).sum())(t64([5, 7])), [2, 3]);
  });

  test("inputs or closures that require grad keep the result connected: it can be backpropagated", () => {
    const w = randn([3], { seed: 1, dtype: "float64", requiresGrad: true });
    const x = t64([0.5, -1, 2]);
    // g(w) = ∂/∂x Σ tanh(w·x) = w·(1 - tanh²(w·x)); then Σ g, backpropagated into w.
    const g = grad((x: Tensor) => w.mul(x).tanh().sum())(x);
    expect(g.requiresGrad).toBe(true);
    g.sum().backward();
    const wv = Array.from(w.toArray()), xv = [0.5, -1, 2];
    const expected = wv.map((wi, i) => {
      const t = Math.tanh(wi * xv[i]!);
      return 1 - t * t - wi * 2 * t * (1 - t * t) * xv[i]!;
    });
    expectClose(w.grad!, expected, 1e-12);
    // Inside noGrad nothing is connected.
    const plain = noGrad(() => grad((x: Tensor) => w.mul(x).tanh().sum())(x));
    expect(plain.requiresGrad).toBe(false);
  });

  test("the Jacobian of a gradient assembled by stack is itself differentiable (third order through jacrev)", () => {
    const f = (x: Tensor) => x.pow(4).sum();
    const third = jacrev(jacrev(jacrev(f)))(t64([1, 2]));
    expect(third.shape).toEqual([2, 2, 2]);
    expectClose(third, [[[24, 0], [0, 0]], [[0, 0], [0, 48]]]);
    expectClose(stack([t64(1), t64(2)]), [1, 2]);
  });

  test("float32 inputs give float32 gradients", () => {
    const g = grad((x: Tensor) => x.mul(x).sum())(tensor([1, 2]));
    expect(g.dtype).toBe("float32");
    expect(Array.from(g.toArray())).toEqual([2, 4]);
  });
});

describe("bad input to the transforms is an InputError naming what was expected", () => {
  test("a non-function is refused when the transform is made, naming the transform and what came", () => {
    const x = t64([1, 2]);
    const made: Record<string, (f: never) => unknown> = {
      grad: (f) => grad(f),
      valueAndGrad: (f) => valueAndGrad(f),
      jacrev: (f) => jacrev(f),
      jacfwd: (f) => jacfwd(f),
      hessian: (f) => hessian(f),
      vmap: (f) => vmap(f),
      vjp: (f) => vjp(f, x),
      jvp: (f) => jvp(f, [x], [x]),
      linearize: (f) => linearize(f, x),
      hvp: (f) => hvp(f, [x], [x]),
    };
    for (const [name, make] of Object.entries(made)) {
      expect(() => make(42 as never)).toThrow(InputError);
      expect(() => make(42 as never)).toThrow(`${name}: expected a function, got a number (42)`);
      expect(() => make(undefined as never)).toThrow(`${name}: expected a function, got undefined`);
      expect(() => make(x as never)).toThrow(`${name}: expected a function, got a Tensor`);
    }
    // grad with hasAux names itself plainly, and the options do not hide the check.
    expect(() => grad("f" as never, { hasAux: true })).toThrow("grad: expected a function, got a string");
  });

  test("a tangent tree must have the primal's keys: an extra or missing key is named", () => {
    const f = (p: { a: Tensor }) => p.a.sin();
    const e = () => jvp(f, [{ a: t64([0, 1]) }], [{ b: t64([1, 1]) } as never]);
    expect(e).toThrow(InputError);
    expect(e).toThrow("jvp: the tangent of argument 0 has key b where the primal has key a: give the primal's structure");
    expect(() => jvp((p: { a: Tensor; c: Tensor }) => p.a.add(p.c), [{ a: t64([0]), c: t64([1]) }], [{ a: t64([1]) } as never])).toThrow(
      /jvp: the tangent of argument 0 is missing \.c: the primal has keys a, c/,
    );
  });

  test("a vjp cotangent tree: a missing or extra key is an InputError, never a TypeError", () => {
    const [, pb] = vjp((x: Tensor) => ({ p: x.mul(2), q: [x.sin(), x.cos()] }), t64([1, 2]));
    expect(() => pb({ p: t64([1, 1]) } as never)).toThrow(InputError);
    expect(() => pb({ p: t64([1, 1]) } as never)).toThrow(/vjp: the cotangent is missing \.q: the primal has keys p, q/);
    expect(() => pb({ p: 1, q: [1, 1], r: 1 } as never)).toThrow(/vjp: the cotangent has key r where the primal has keys p, q/);
    expect(() => pb({ p: 1, q: [1, { z: 1 }] } as never)).toThrow(/vjp: the cotangent at \.q\[1\]: expected a tensor .* got an object/);
    expect(() => pb({ p: 1, q: undefined } as never)).toThrow(/vjp: the cotangent at \.q: expected an array of 2, like the primal, got undefined/);
    expect((pb({ p: 1, q: [null, null] })[0] as Tensor).toNested()).toEqual([2, 2]);
  });

  test("jvp and hvp primals and tangents not in an array", () => {
    expect(() => jvp((x: Tensor) => x.sin(), t64([0, 1]) as never, t64([1, 1]) as never)).toThrow(InputError);
    expect(() => jvp((x: Tensor) => x.sin(), t64([0, 1]) as never, t64([1, 1]) as never)).toThrow(/^jvp: primals must be an array of inputs \(got a Tensor\)/);
    expect(() => jvp((x: Tensor) => x.sin(), [t64([0, 1])], t64([1, 1]) as never)).toThrow(/^jvp: tangents must be an array of inputs \(got a Tensor\)/);
    expect(() => hvp((x: Tensor) => x.sum(), t64([0, 1]) as never, [t64([1, 1])])).toThrow(/^hvp: primals must be an array/);
  });

  test("a number where a differentiated argument is expected; argnums not whole; grad names itself", () => {
    expect(() => grad((x: Tensor) => x.mul(2).sum())(3 as never)).toThrow(InputError);
    expect(() => grad((x: Tensor) => x.mul(2).sum())(3 as never)).toThrow("grad: argument 0 is a number; pass a tensor (e.g. tensor(3))");
    expect(() => grad((x: Tensor) => x.sum(), { argnums: 0.5 })(t64([1]))).toThrow(/^grad: argnums must be whole numbers/);
    expect(() => grad((x: Tensor) => x.sum(), { argnums: 2 })(t64([1]))).toThrow(/^grad: argnums 2 is out of range/);
    expect(() => grad((x: Tensor) => x)(t64([1, 2]))).toThrow(/^grad: the function must return a single value/);
    expect(() => valueAndGrad((x: Tensor) => x, { argnums: 0.5 })(t64([1]))).toThrow(/^valueAndGrad: argnums must be whole numbers \(argument positions\), got 0\.5/);
  });
});
