/**
 * The convolution and pooling layers against PyTorch, from the committed fixtures written by
 * test/fixtures/gen_conv_fixtures.py: outputs and gradients (float64 within 1e-10, float32 within 1e-5), PyTorch's
 * state dicts loaded into our layers (safetensors, PyTorch's key names), ours loaded by PyTorch (the script loads
 * conv/gradgraph_lenet.safetensors strictly and records its output), and save → load → the same outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, decodeSafetensors, encodeSafetensors, Flatten, lenet5, MaxPool2d, type Module } from "../../packages/gradgraph/src/nn/index.js";
import { loadModuleState, saveModule } from "gradgraph/node";
import { engine, NDArray, Tensor, type DType } from "../../packages/gradgraph/src/tensor/index.js";

interface Arr { shape: number[]; data: number[] }
interface Case { name: string; module: string; x: Arr; C: Arr; y: Arr; grads: Record<string, Arr> }
const fixtures = JSON.parse(readFileSync(new URL("../fixtures/conv_fixtures.json", import.meta.url), "utf8")) as {
  torch: string; cases: Case[]; gradgraph_lenet: { x: Arr; y: Arr };
};
const stateFile = (name: string) => readFileSync(new URL(`../fixtures/conv/${name}.safetensors`, import.meta.url));

/** The same layers as the Python script's CASES, by name. */
const layers: Record<string, (dtype: DType) => Module> = {
  conv2d_pad1: (dtype) => new Conv2d(3, 4, 3, { padding: 1, dtype }),
  conv2d_stride_dilation_groups: (dtype) => new Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2, dtype }),
  conv2d_no_bias: (dtype) => new Conv2d(2, 3, 2, { bias: false, dtype }),
  conv2d_depthwise: (dtype) => new Conv2d(3, 3, 3, { stride: 2, groups: 3, dtype }),
  conv1d: (dtype) => new Conv1d(3, 4, 3, { stride: 2, padding: 1, dilation: 2, dtype }),
  conv1d_groups: (dtype) => new Conv1d(4, 2, 2, { groups: 2, dtype }),
  maxpool2d_k2: () => new MaxPool2d(2),
  maxpool2d_k3_s2_p1: () => new MaxPool2d(3, { stride: 2, padding: 1 }),
  maxpool2d_rect_dilation: () => new MaxPool2d([2, 3], { stride: [1, 2], dilation: [2, 1] }),
  avgpool2d_k2: () => new AvgPool2d(2),
  avgpool2d_k3_s2_p1: () => new AvgPool2d(3, { stride: 2, padding: 1 }),
  adaptive_avgpool2d_3x2: () => new AdaptiveAvgPool2d([3, 2]),
  adaptive_avgpool2d_2: () => new AdaptiveAvgPool2d(2),
  flatten: () => new Flatten(),
  flatten_0_2: () => new Flatten(0, 2),
  lenet: (dtype) => lenet5({ seed: 1, dtype }),
};

const asTensor = (a: Arr, dtype: DType, requiresGrad = false) =>
  new Tensor(new NDArray((dtype === "float64" ? Float64Array : Float32Array).from(a.data), a.shape), { requiresGrad });

function expectClose(actual: Tensor, expected: Arr, tol: number, what: string) {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.toArray();
  let worst = 0;
  expected.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(a[i]! - v) / (1 + Math.abs(v)))));
  expect(worst, what).toBeLessThanOrEqual(tol);
}

/** The layer with PyTorch's parameters (loaded from its state-dict file: torch → gradgraph). */
function torchLayer(name: string, dtype: DType): Module {
  const m = layers[name]!(dtype);
  if (m.namedParameters().length > 0) m.loadStateDict(decodeSafetensors(stateFile(`torch_${name}`)).tensors);
  return m;
}

describe(`PyTorch ${fixtures.torch} fixtures: convolution and pooling layers`, () => {
  test("every fixture has a layer here, and every layer a fixture", () => {
    expect(Object.keys(layers).sort()).toEqual(fixtures.cases.map((c) => c.name).sort());
  });

  for (const c of fixtures.cases) {
    for (const [dtype, tol] of [["float64", 1e-10], ["float32", 1e-5]] as const) {
      test(`${c.name}: output and gradients in ${dtype} (within ${tol})`, () => {
        const m = torchLayer(c.name, dtype);
        const x = asTensor(c.x, dtype, true);
        const y = m.forward(x);
        expect(y.dtype).toBe(dtype);
        expectClose(y, c.y, tol, "output");
        const params = m.namedParameters();
        const grads = engine.gradients([y.mul(asTensor(c.C, dtype)).sum()], [x, ...params.map(([, p]) => p)]);
        expectClose(grads[0]!, c.grads.x!, tol, "grad x");
        const big = c.name === "lenet" ? decodeSafetensors(stateFile("torch_lenet_grads")).tensors : null;
        params.forEach(([n], i) => {
          const want = big ? { shape: [...big.get(n)!.shape], data: Array.from(big.get(n)!.toArray()) } : c.grads[n]!;
          expectClose(grads[i + 1]!, want, tol, `grad ${n}`);
        });
      });
    }
  }

  test("PyTorch loads gradgraph's LeNet state dict (strict) and computes our outputs", () => {
    const ours = lenet5({ seed: 7, dtype: "float64" });
    // The committed file is what gradgraph writes for this model, byte for byte.
    expect(Buffer.from(encodeSafetensors(ours.stateDict())).equals(stateFile("gradgraph_lenet"))).toBe(true);
    expectClose(ours.forward(asTensor(fixtures.gradgraph_lenet.x, "float64")), fixtures.gradgraph_lenet.y, 1e-10, "output");
  });

  test("save → load → the same outputs, for every layer with parameters", () => {
    for (const name of Object.keys(layers)) {
      const a = layers[name]!("float32");
      if (a.namedParameters().length === 0) continue;
      const b = name === "lenet" ? lenet5({ seed: 99 }) : layers[name]!("float32");
      b.loadStateDict(decodeSafetensors(encodeSafetensors(a.stateDict())).tensors);
      const c = fixtures.cases.find((k) => k.name === name)!;
      const x = asTensor(c.x, "float32");
      expect(b.forward(x).toArray(), name).toEqual(a.forward(x).toArray());
    }
  });

  test("saveModule → loadModuleState: a LeNet-5 in a folder gives the same outputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-lenet-"));
    try {
      const a = lenet5({ seed: 3 }), b = lenet5({ seed: 4 });
      await saveModule(dir, a);
      await loadModuleState(dir, b);
      const x = asTensor(fixtures.gradgraph_lenet.x, "float32");
      expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
