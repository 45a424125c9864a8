/**
 * The onnxruntime-web target: a compiled SGD training step run by compileAsync on onnxruntime-web follows eager
 * training — in Node (onnxruntime-web's WebAssembly build for Node), and in headless Chromium on a page bundled by
 * esbuild from gradgraph and gradgraph-onnx/web, with the "wasm" execution provider and, where Chromium gives a
 * WebGPU adapter (SwiftShader on a machine without a GPU), the "webgpu" one.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { compileAsync, cpuTarget, randn, tensor, Tensor } from "gradgraph";
import { mlpStep } from "../compile/samples.js";
import { OnnxError, onnxRuntimeWeb } from "gradgraph-onnx/web";
import { HAS_CHROMIUM, inChromium } from "../chromium.js";
import { sourceAliases } from "../../source-aliases.js";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const mlp = () => mlpStep(4, 16, 1);

const close = (got: number[], want: number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]!))));
};

describe("onnxRuntimeWeb in Node (WebAssembly)", () => {
  test("20 SGD steps compiled on onnxruntime-web follow eager training; the weights end the same", async () => {
    const x = randn([32, 4], { seed: 3 }), y = randn([32, 1], { seed: 4 });
    const eager = mlp(), compiled = mlp();
    const step = compileAsync(compiled.step, { target: await onnxRuntimeWeb({ threads: 1 }) });
    const want: number[] = [], got: number[] = [];
    for (let i = 0; i < 20; i++) {
      want.push(eager.step(x, y).item());
      got.push((await step(x, y)).item());
    }
    expect(step.stats).toEqual({ traced: 1, replayed: 19, eager: 0 });
    expect(step.explain()).toContain("on onnxruntime-web (wasm):");
    close(got, want);
    const w = compiled.model.parameters()[0]!.toArray(), v = eager.model.parameters()[0]!.toArray();
    w.forEach((a, i) => expect(a).toBeCloseTo(v[i]!, 5));
  });

  test("threads: a count that is not an integer from 1 to 256 is an OnnxError", async () => {
    for (const [bad, shown] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], ["2", '"2"'], [10000, "10000"]] as const) {
      const made = onnxRuntimeWeb({ threads: bad as number });
      await expect(made, shown).rejects.toThrow(`onnxRuntimeWeb: threads: expected an integer from 1 to 256, got ${shown}`);
      await expect(made, shown).rejects.toBeInstanceOf(OnnxError);
    }
  });

  test("a step's outputs and the gradients it leaves", async () => {
    const target = await onnxRuntimeWeb();
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const f = compileAsync((x: Tensor) => {
      const s = x.mul(w).sum();
      s.backward();
      return [s, x.exp()];
    }, { target });
    await f(tensor([1, 1, 1]));
    w.grad = null;
    const [s, e] = await f(tensor([0, 1, 2]));
    expect(s!.item()).toBe(8);
    expect(Array.from(e!.toArray())).toEqual(Array.from(tensor([0, 1, 2]).exp().toArray()).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(w.grad!.toArray())).toEqual([0, 1, 2]);
    expect(f.stats.replayed).toBe(1);
  });

  test("bad options and no WebGPU are clear errors; a sync target still works beside it", async () => {
    await expect(onnxRuntimeWeb({ executionProvider: "cuda" as never })).rejects.toThrow('onnxRuntimeWeb: expected the execution provider "wasm" or "webgpu", got "cuda"');
    await expect(onnxRuntimeWeb({ executionProvider: "webgpu" })).rejects.toThrow(OnnxError);
    const f = compileAsync((x: Tensor) => x.add(1), { target: cpuTarget });
    await f(tensor([1]));
    expect((await f(tensor([2]))).item()).toBe(3);
  });
});

describe.skipIf(!HAS_CHROMIUM)("onnxRuntimeWeb in headless Chromium", () => {
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gradgraph-ortweb-"));
    const { build } = await import("esbuild");
    const r = await build({
      entryPoints: [join(root, "test/onnx/web-page.ts")], bundle: true, platform: "browser", format: "esm", outfile: join(dir, "page.js"),
      // the library from its sources, as in the other tests (source-aliases.ts)
      plugins: [{ name: "sources", setup: (b) => sourceAliases.forEach((a) => b.onResolve({ filter: a.find }, () => ({ path: a.replacement }))) }],
      logLevel: "silent", metafile: true,
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.filter((f) => f.includes("onnxruntime-node") || f.startsWith("node:"))).toEqual([]);
    symlinkSync(join(root, "node_modules/onnxruntime-web/dist"), join(dir, "ort"), "dir");
    writeFileSync(join(dir, "index.html"), '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  type Run = { eager: number[]; compiled: number[]; stats: { traced: number; replayed: number; eager: number }; target: string };
  const train = (provider: string) => (globalThis as unknown as { train(p: string): Promise<Run> }).train(provider);

  // One browser for both providers: onnxruntime-web's WebAssembly module (a large one) loads once. Chromium gives a
  // WebGPU adapter on a machine without a GPU through SwiftShader, with these flags and without --disable-gpu.
  const flags = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"];

  test("20 compiled SGD steps follow the eager ones in the same page: wasm, then webgpu where Chromium gives an adapter", async () => {
    await inChromium(dir, "index.html", async (page, errors) => {
      await page.waitForFunction(() => "train" in globalThis);
      const wasm = await page.evaluate(train, "wasm");
      expect(wasm.target).toBe("onnxruntime-web (wasm)");
      expect(wasm.stats).toEqual({ traced: 1, replayed: 19, eager: 0 });
      close(wasm.compiled, wasm.eager);
      expect(wasm.eager[19]!).toBeLessThan(wasm.eager[0]!);
      if (await page.evaluate(() => (globalThis as unknown as { hasWebGpu(): Promise<boolean> }).hasWebGpu())) {
        const gpu = await page.evaluate(train, "webgpu");
        expect(gpu.target).toBe("onnxruntime-web (webgpu)");
        expect(gpu.stats).toEqual({ traced: 1, replayed: 19, eager: 0 });
        close(gpu.compiled, gpu.eager);
      } else {
        console.log("onnxruntime-web webgpu: this Chromium gives no WebGPU adapter; only wasm was checked");
      }
      expect(errors).toEqual([]);
    }, flags);
  }, 240_000); // onnxruntime-web's WebAssembly module (28 MB) compiles at the first session, and SwiftShader's shaders at the WebGPU one: 15-60 s on a loaded 2-core machine
});
