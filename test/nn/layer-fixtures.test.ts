/**
 * Layers against PyTorch, from the committed fixtures written by test/fixtures/gen_layer_fixtures.py: each
 * module loads PyTorch's state_dict by PyTorch's key names (strict), and its outputs and the gradients of
 * sum(output · cotangent) with respect to inputs and parameters agree in float64 (1e-10) and float32 (1e-5);
 * BatchNorm's running statistics after the step and its eval-mode output agree too. "ours": the state of
 * modules built here from fixed seeds is written to test/fixtures/layers_ours.safetensors, which the script
 * loads into PyTorch (load_state_dict(strict=True)); PyTorch's outputs agree with ours.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { BatchNorm1d, BatchNorm2d, crossEntropy, decodeSafetensors, Embedding, encodeSafetensors, GRU, LayerNorm, LSTM, Module, MultiheadAttention, type AttentionOptions, type CrossEntropyOptions } from "../../packages/gradgraph/src/nn/index.js";
import { NDArray, noGrad, Tensor, type DType } from "../../packages/gradgraph/src/tensor/index.js";

interface Arr {
  shape: number[];
  data: (number | string)[];
}
type Rec = Record<string, Arr>;
interface Case {
  name: string;
  config: Record<string, unknown>;
  state: Rec;
  inputs: Rec;
  outputs: Rec;
  seeds: Rec;
  grads: Rec;
  running?: Rec;
  eval?: { x2: Arr; y2: Arr };
}
interface Fixtures {
  torch: string;
  cases: Case[];
  ours: Record<string, { x: Arr | null; y: Arr }>;
}
const fixtures = JSON.parse(readFileSync(new URL("../fixtures/layer_fixtures.json", import.meta.url), "utf8")) as Fixtures;

const num = (v: number | string): number => (typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN);
const toTensor = (a: Arr, dtype: DType, requiresGrad = false) =>
  new Tensor(new NDArray((dtype === "float64" ? Float64Array : Float32Array).from(a.data.map(num)), a.shape), { requiresGrad });

/** Loads a PyTorch state_dict (strict: the names must be exactly ours). */
function loadState(m: Module, state: Rec, dtype: DType): void {
  expect([...m.stateDict().keys()].sort(), "state_dict keys").toEqual(Object.keys(state).sort());
  m.loadStateDict(Object.fromEntries(Object.entries(state).map(([n, a]) => [n, toTensor(a, dtype)])));
}

type Run = (xs: Record<string, Tensor>) => Record<string, Tensor>;
const cfg = <T>(c: Case, k: string) => c.config[k] as T;

/** Our module (or null for a function) and how it runs on the case's inputs, for each fixture. */
function build(c: Case, dtype: DType): { module: Module | null; run: Run } {
  const opt = <T>(k: string): T | undefined => c.config[k] as T | undefined;
  const norm = { dtype, ...(opt("eps") === undefined ? {} : { eps: opt<number>("eps")! }), ...(opt("affine") === undefined ? {} : { affine: opt<boolean>("affine")! }) };
  if (c.name.startsWith("layer_norm")) {
    const m = new LayerNorm(cfg<number[]>(c, "normalizedShape"), norm);
    return { module: m, run: ({ x }) => ({ y: m.forward(x!) }) };
  }
  if (c.name.startsWith("batch_norm")) {
    const Cls = c.name.startsWith("batch_norm2d") ? BatchNorm2d : BatchNorm1d;
    const m = new Cls(cfg<number>(c, "numFeatures"), { ...norm, ...(opt("momentum") === undefined ? {} : { momentum: opt<number | null>("momentum")! }) });
    return { module: m, run: ({ x }) => ({ y: m.forward(x!) }) };
  }
  if (c.name === "embedding") {
    const m = new Embedding(cfg(c, "numEmbeddings"), cfg(c, "embeddingDim"), { dtype, paddingIdx: cfg(c, "paddingIdx") });
    return { module: m, run: ({ index }) => ({ y: m.forward(index!) }) };
  }
  if (c.name.startsWith("mha")) {
    const m = new MultiheadAttention(cfg(c, "embedDim"), cfg(c, "numHeads"), { dtype, batchFirst: opt("batchFirst") ?? false, bias: opt("bias") ?? true });
    const o: AttentionOptions = {};
    if (opt("keyPaddingMask") !== undefined) o.keyPaddingMask = cfg(c, "keyPaddingMask");
    if (opt("attnMask") !== undefined) o.attnMask = toTensor(cfg(c, "attnMask"), dtype);
    if (opt("causal") === true) o.causal = true;
    return {
      module: m,
      run: (xs) => {
        const q = xs.q ?? xs.x!, k = xs.k ?? q, v = xs.v ?? k;
        const { output, weights } = m.attend(q, k, v, o);
        return { y: output, w: weights };
      },
    };
  }
  if (c.name.startsWith("lstm")) {
    const m = new LSTM(cfg(c, "inputSize"), cfg(c, "hiddenSize"), { dtype, numLayers: opt("numLayers") ?? 1, batchFirst: opt("batchFirst") ?? false });
    return {
      module: m,
      run: ({ x, h0, c0 }) => {
        const { output, h, c: cn } = m.run(x!, h0 === undefined ? undefined : { h: h0, c: c0! });
        return { y: output, h, c: cn };
      },
    };
  }
  if (c.name.startsWith("gru")) {
    const m = new GRU(cfg(c, "inputSize"), cfg(c, "hiddenSize"), { dtype, numLayers: opt("numLayers") ?? 1, batchFirst: opt("batchFirst") ?? false, bias: opt("bias") ?? true });
    return {
      module: m,
      run: ({ x, h0 }) => {
        const { output, h } = m.run(x!, h0);
        return { y: output, h };
      },
    };
  }
  if (c.name.startsWith("cross_entropy")) {
    const o: CrossEntropyOptions = {};
    if (opt("weight") !== undefined) o.weight = cfg<number[]>(c, "weight");
    if (opt("ignoreIndex") !== undefined) o.ignoreIndex = cfg(c, "ignoreIndex");
    if (opt("labelSmoothing") !== undefined) o.labelSmoothing = cfg(c, "labelSmoothing");
    if (opt("reduction") !== undefined) o.reduction = cfg(c, "reduction");
    return { module: null, run: ({ x }) => ({ y: crossEntropy(x!, cfg<number[]>(c, "labels"), o) }) };
  }
  throw new Error(`no gradgraph side for fixture ${c.name}`);
}

function expectClose(actual: Tensor, expected: Arr, tol: number, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const a = actual.toArray();
  let worst = 0, at = -1;
  expected.data.forEach((e, i) => {
    const v = num(e), x = a[i]!;
    if (Number.isNaN(v)) expect(x, `${what}[${i}]`).toBeNaN();
    else {
      const err = Math.abs(x - v) / (1 + Math.abs(v));
      if (!(err <= worst)) (worst = err), (at = i);
    }
  });
  expect(worst, `${what}: worst relative error at [${at}]: ${a[at]} vs ${expected.data[at]}`).toBeLessThanOrEqual(tol);
}

function check(c: Case, dtype: DType, tol: number): void {
  const { module, run } = build(c, dtype);
  if (module !== null) loadState(module, c.state, dtype);
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, toTensor(a, dtype, k in c.grads)]));
  const ys = run(inputs);
  expect(Object.keys(ys).sort()).toEqual(Object.keys(c.outputs).sort());
  let total: Tensor | null = null;
  for (const [k, y] of Object.entries(ys)) {
    expectClose(y, c.outputs[k]!, tol, k);
    const term = y.mul(toTensor(c.seeds[k]!, dtype)).sum();
    total = total === null ? term : total.add(term);
  }
  total!.backward();
  const params = new Map(module?.namedParameters() ?? []);
  for (const [k, g] of Object.entries(c.grads)) {
    const t = inputs[k] ?? params.get(k);
    expect(t, `gradient target ${k}`).toBeDefined();
    expectClose(t!.grad!, g, tol, `grad ${k}`);
  }
  if (c.running !== undefined && module !== null) {
    for (const [n, t] of module.stateDict()) expectClose(t, c.running[n]!, tol, `after the step: ${n}`);
    module.eval();
    expectClose(noGrad(() => module.forward(toTensor(c.eval!.x2, dtype))), c.eval!.y2, tol, "eval output");
  }
}

describe(`layers against PyTorch ${fixtures.torch}`, () => {
  for (const c of fixtures.cases) {
    test(`${c.name}: outputs and gradients in float64 (1e-10)`, () => check(c, "float64", 1e-10));
    test(`${c.name}: outputs and gradients in float32 (1e-5)`, () => check(c, "float32", 1e-5));
  }
});

// --- PyTorch loads our state dicts ------------------------------------------------------------------------------

/** Modules built here from fixed seeds; their state goes to layers_ours.safetensors under these prefixes. */
function ourModules(): Record<string, { module: Module; run: (x: Tensor | null) => Tensor }> {
  const ln = new LayerNorm([2, 3], { dtype: "float64" });
  noGrad(() => (ln.weight!.assign(ln.weight!.add(new Tensor(new NDArray(Float64Array.from([0.5, -1, 2, 0.25, 1.5, -0.5]), [2, 3])))), ln.bias!.assign(ln.bias!.add(0.3))));
  const bn = new BatchNorm1d(3, { dtype: "float64" });
  noGrad(() => bn.forward(new Tensor(new NDArray(Float64Array.from([1, 2, 3, -1, 0, 5, 2, 2, -4, 0.5, 1, 1]), [4, 3]))));
  bn.eval();
  const emb = new Embedding(6, 2, { paddingIdx: 1, seed: 3, dtype: "float64" });
  const mha = new MultiheadAttention(4, 2, { batchFirst: true, seed: 4, dtype: "float64" });
  const lstm = new LSTM(3, 2, { numLayers: 2, seed: 5, dtype: "float64" });
  const gru = new GRU(2, 3, { batchFirst: true, seed: 6, dtype: "float64" });
  return {
    ln: { module: ln, run: (x) => ln.forward(x!) },
    bn: { module: bn, run: (x) => bn.forward(x!) },
    emb: { module: emb, run: () => emb.forward([[0, 1], [5, 3]]) },
    mha: { module: mha, run: (x) => mha.forward(x!, x!, x!) },
    lstm: { module: lstm, run: (x) => lstm.forward(x!) },
    gru: { module: gru, run: (x) => gru.forward(x!) },
  };
}

describe("PyTorch loads gradgraph's state dicts", () => {
  const file = new URL("../fixtures/layers_ours.safetensors", import.meta.url);
  const modules = ourModules();
  const bytes = encodeSafetensors(Object.entries(modules).flatMap(([p, { module }]) => [...module.stateDict(`${p}.`)]));
  if (process.env.GRADGRAPH_WRITE_FIXTURES === "1") writeFileSync(file, bytes);

  test("the committed safetensors file is the state of these modules", () => {
    const committed = decodeSafetensors(readFileSync(file));
    expect([...committed.tensors.keys()]).toEqual([...decodeSafetensors(bytes).tensors.keys()]);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(bytes))).toBe(true);
  });

  for (const [name, { run }] of Object.entries(modules)) {
    test(`${name}: PyTorch's output with our state dict is ours`, () => {
      const ref = fixtures.ours[name]!;
      const y = noGrad(() => run(ref.x === null ? null : toTensor(ref.x, "float64")));
      expectClose(y, ref.y, 1e-10, name);
    });
  }
});
