/**
 * The page of test/onnx/web.test.ts (bundled by esbuild for the browser): an MLP trained with SGD, eagerly and
 * compiled with compileAsync on onnxruntime-web, from the same initial weights; `train(provider)` gives both runs'
 * losses.
 */
import { compileAsync, nn, randn, type Tensor } from "gradgraph";
import { hasWebGpu, onnxRuntimeWeb } from "gradgraph-onnx/web";

function mlp() {
  const model = new nn.Sequential(new nn.Linear(4, 16, { seed: 1 }), new nn.ReLU(), new nn.Linear(16, 1, { seed: 2 }));
  const opt = new nn.SGD(model.parameters(), { lr: 0.05 });
  return (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
}

async function train(provider: "wasm" | "webgpu", steps = 20) {
  const x = randn([32, 4], { seed: 3 }), y = randn([32, 1], { seed: 4 });
  const eagerStep = mlp();
  const eager = Array.from({ length: steps }, () => eagerStep(x, y).item());
  const target = await onnxRuntimeWeb({ executionProvider: provider, wasmPaths: "/ort/", threads: 1 });
  const step = compileAsync(mlp(), { target });
  const compiled: number[] = [];
  for (let i = 0; i < steps; i++) compiled.push((await step(x, y)).item());
  return { eager, compiled, stats: { ...step.stats }, target: target.name };
}

Object.assign(globalThis, { train, hasWebGpu });
