/** Multi-output kernels (kernel sets): several outputs, stored or summed, in one pass, on both CPU backends. */
import { describe, expect, test } from "vitest";
import { backend, kernelOf, kernelSetOf, NDArray, withBackend, type OutputMode } from "../../packages/gradgraph/src/backend/index.js";
import { wasmArena } from "../../packages/gradgraph/src/backend/wasm.js";
import { setCompile } from "../../packages/gradgraph/src/backend/js.js";
import { traceAlu } from "../../packages/gradgraph/src/ops/alu.js";

function data(n: number, seed: number, ctor: Float32ArrayConstructor | Float64ArrayConstructor) {
  const out = new ctor(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 8 - 4;
  }
  return out;
}

// v = x·y + z (rounded where it would be stored), relu(v), and the mask's product with y
const t = traceAlu();
const [x, y, z] = [t.input(0), t.input(1), t.input(2)];
const v = t.round(t.add(t.round(t.mul(x, y)), z));
const relu = t.select(t.le(v, t.const(0)), t.const(0), v);
const dx = t.mul(t.select(t.gt(v, t.const(0)), t.const(1), t.const(0)), y);

const R = 37, C = 1029, N = R * C; // three chunks of 16384, rows split across them
const set = (modes: OutputMode[]) => kernelSetOf([{ root: v, mode: modes[0]! }, { root: relu, mode: modes[1]! }, { root: dx, mode: modes[2]! }], 3);

describe("kernel sets", () => {
  for (const name of ["js", "wasm"]) {
    test(`${name}: stored outputs equal the one-output kernels bit for bit; sums (rows, columns, all) within float32 rounding of float64`, () => {
      withBackend(name, () => {
        const xs = [data(N, 1, Float32Array), data(C, 2, Float32Array), data(N, 3, Float32Array)];
        const ins = [new NDArray(xs[0]!, [R, C]), new NDArray(xs[1]!, [C]), new NDArray(xs[2]!, [R, C])]; // y: a row, broadcast
        const one = (root: typeof v) => backend().run(kernelOf(root, 3), ins, [R, C], "float32").data;
        const stored = [one(v), one(relu), one(dx)];
        for (const [modes, shapes] of [
          [["store", "rows", "store"], [[R, C], [R], [R, C]]],
          [["store", "cols", "rows"], [[R, C], [C], [1]]],
          [["rows", "store", "cols"], [[1], [R, C], [C]]],
        ] as [OutputMode[], number[][]][]) {
          const outs = backend().runMany!(set(modes), ins, [R, C], "float32", shapes);
          modes.forEach((mode, j) => {
            const got = outs[j]!.data, want = stored[j]!;
            if (mode === "store") {
              expect(got).toEqual(want);
              return;
            }
            const m = got.length, ref = new Float64Array(m), abs = new Float64Array(m);
            for (let i = 0; i < N; i++) {
              const k = mode === "cols" ? i % m : Math.floor(i / (N / m));
              ref[k] = ref[k]! + want[i]!;
              abs[k] = abs[k]! + Math.abs(want[i]!);
            }
            // float64 accumulation in two orders (≤ N·2⁻⁵³·Σ|x| each), then one float32 rounding
            for (let k = 0; k < m; k++) expect(Math.abs(got[k]! - ref[k]!), `${mode} ${k}`).toBeLessThanOrEqual(2 ** -24 * Math.abs(ref[k]!) + N * 2 ** -52 * abs[k]!);
          });
        }
      });
    });
  }

  test("js without new Function (a strict content security policy): the interpreted loop gives the printed loop's results", () => {
    const ins = [data(N, 1, Float32Array), data(C, 2, Float32Array), data(N, 3, Float32Array)];
    const nd = [new NDArray(ins[0]!, [R, C]), new NDArray(ins[1]!, [C]), new NDArray(ins[2]!, [R, C])];
    const k = set(["rows", "cols", "store"]);
    const shapes = [[R], [C], [R, C]];
    const printed = withBackend("js", () => backend().runMany!(k, nd, [R, C], "float32", shapes));
    const was = setCompile(false);
    try {
      const interpreted = withBackend("js", () => backend().runMany!(k, nd, [R, C], "float32", shapes));
      for (let j = 0; j < 3; j++) expect(interpreted[j]!.data).toEqual(printed[j]!.data);
    } finally {
      setCompile(was);
    }
  });

  test("float64: stored outputs identical on both backends", () => {
    const ins = [data(N, 4, Float64Array), data(N, 5, Float64Array), data(N, 6, Float64Array)].map((a) => new NDArray(a, [N]));
    const k = set(["store", "store", "store"]);
    const [a, b] = ["js", "wasm"].map((name) => withBackend(name, () => backend().runMany!(k, ins, [N], "float64", [[N], [N], [N]])));
    for (let j = 0; j < 3; j++) expect(a![j]!.data).toEqual(b![j]!.data);
  });

  test("wasm: arrays in an arena are read and written where they lie, with the same results", () => {
    const arena = wasmArena(4 * (5 * N + 8), 8)!;
    const src = [data(N, 7, Float32Array), data(N, 8, Float32Array), data(N, 9, Float32Array)];
    const ins = src.map((a) => {
      const d = arena.allocate("float32", N);
      d.set(a);
      return new NDArray(d, [N]);
    });
    const outs = [new NDArray(arena.allocate("float32", N), [N]), undefined, new NDArray(arena.allocate("float32", N), [N])];
    const k = set(["store", "rows", "store"]);
    const got = withBackend("wasm", () => backend().runMany!(k, ins, [N], "float32", [[N], [], [N]], outs));
    const want = withBackend("js", () => backend().runMany!(k, src.map((a) => new NDArray(a, [N])), [N], "float32", [[N], [], [N]]));
    expect(got[0]).toBe(outs[0]);
    expect(got[0]!.data).toEqual(want[0]!.data);
    expect(got[2]!.data).toEqual(want[2]!.data);
    expect(Math.abs(got[1]!.data[0]! - want[1]!.data[0]!)).toBeLessThanOrEqual(2 ** -23 * Math.abs(want[1]!.data[0]!));
  });
});
