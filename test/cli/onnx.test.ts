/**
 * `gradgraph export RUN_DIR --onnx` and `gradgraph onnx EXPR --at … -o`: the files they write load in
 * onnxruntime-node and in importOnnx and compute what gradgraph computes; bad input is exit code 2 with a message.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, test } from "vitest";
import { tensor } from "gradgraph";
import { loadModel } from "gradgraph/node";
import { importOnnx } from "gradgraph-onnx";
import { run } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-onnx-cli-"));

describe("gradgraph export RUN_DIR --onnx", () => {
  test("a trained MLP: the file runs on onnxruntime-node and in importOnnx with the model's outputs", async () => {
    const out = join(dir, "xor");
    expect((await run("train", "--data", "xor", "--epochs", "3", "--out", out)).code).toBe(0);
    const file = join(dir, "xor.onnx");
    const r = await run("export", out, "--onnx", file, "--batch", "3");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${file} \\(\\d+ bytes\\): MLP\\(.*\\) from ${out}; input input \\[3,2\\] float32, output logits \\[3,2\\] float32\\n$`));

    const x = [0.5, -1, 2, 0.25, -0.75, 1.5];
    const { model } = await loadModel(out);
    const want = model.forward(tensor([x.slice(0, 2), x.slice(2, 4), x.slice(4, 6)], { dtype: "float32" })).toArray();
    const bytes = new Uint8Array(readFileSync(file));
    const session = await ort.InferenceSession.create(bytes);
    const got = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [3, 2]) });
    expect(Array.from(got.logits!.data as Float32Array).map((v, i) => Math.abs(v - want[i]!))).toSatisfy((d: number[]) => d.every((e) => e < 1e-5));
    await session.release();
    const back = importOnnx(bytes).forward(tensor([x.slice(0, 2), x.slice(2, 4), x.slice(4, 6)], { dtype: "float32" })).toArray();
    expect(Array.from(back).map((v, i) => Math.abs(v - want[i]!))).toSatisfy((d: number[]) => d.every((e) => e < 1e-6));
  });

  test("a layer-spec network with dropout: exported in evaluation mode (dropout off), as eval runs it", async () => {
    const out = join(dir, "layers");
    expect((await run("train", "--data", "xor", "--model", "linear(8)-tanh-dropout(0.5)-linear(2)", "--epochs", "2", "--out", out)).code).toBe(0);
    const file = join(dir, "layers.onnx");
    const r = await run("export", out, "--onnx", file, "--batch", "2");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("LayerNet(linear(8)-tanh-dropout(0.5)-linear(2))");
    const { model } = await loadModel(out);
    model.eval();
    const x = tensor([[0.5, -1], [2, 0.25]], { dtype: "float32" });
    const want = model.forward(x).toArray();
    const got = importOnnx(new Uint8Array(readFileSync(file))).forward(x).toArray();
    expect(Array.from(got).map((v, i) => Math.abs(v - want[i]!))).toSatisfy((d: number[]) => d.every((e) => e < 1e-6));
  });

  test("a run trained on standardised inputs (a CSV file, MNIST) says what the ONNX model expects: the graph does not standardise", async () => {
    const csv = join(dir, "pairs.csv");
    writeFileSync(csv, "a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n");
    const out = join(dir, "pairs");
    expect((await run("train", "--data", csv, "--epochs", "1", "--out", out)).code).toBe(0);
    const r = await run("export", out, "--onnx", join(dir, "pairs.onnx"));
    expect(r.code).toBe(0);
    // the training part is 4 of the 5 rows (split seed 0): (1,2) (3,4) (5,6) (7,8), so mean [4, 5] and deviation √5
    expect(r.stderr).toBe(
      `note: the model takes each feature standardised as in training, (x − mean) / deviation with the training part's figures (${csv}, test fraction 0.2, split seed 0); the graph does not do it: features a, b, mean [4, 5], deviation [2.23607, 2.23607]\n`,
    );
  });

  test("bad input: no run there, no --onnx, a bad --batch: exit 2 with a message, nothing written", async () => {
    const none = await run("export", join(dir, "nope"), "--onnx", join(dir, "nope.onnx"));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no model there (config.json not found)");
    const noFile = await run("export", join(dir, "nope"));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("required option '--onnx <file>' not specified");
    const out = join(dir, "xor2");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", out)).code).toBe(0);
    const batch = await run("export", out, "--onnx", join(dir, "b.onnx"), "--batch", "0");
    expect(batch.code).toBe(2);
    expect(batch.stderr).toBe("gradgraph: --batch 0: expected an integer from 1 to 4,096\n");
    // decimal digits only, as train's integer options; and bounded: the export runs the model at that batch
    for (const b of ["0x2", "1e1", "4097", "99999999999999999999"]) {
      const r = await run("export", out, "--onnx", join(dir, "b.onnx"), "--batch", b);
      expect([r.code, r.stderr]).toEqual([2, `gradgraph: --batch ${b}: expected an integer from 1 to 4,096\n`]);
    }
    expect(existsSync(join(dir, "b.onnx"))).toBe(false);
  });
});

describe("gradgraph onnx EXPR --at … -o", () => {
  test("an expression of tensors: one graph input per input, the value gradgraph computes", async () => {
    const file = join(dir, "layer.onnx");
    const r = await run("onnx", "f(x, W, b) = tanh(x @ W + b)", "--at", "x=[[1,2]]", "--at", "W=[[1,0.5],[0,1]]", "--at", "b=[0,1]", "-o", file);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*layer\.onnx \(\d+ bytes\): f\(x, W, b\); inputs x \[1,2\] float64, W \[2,2\] float64, b \[2\] float64; output f \[1,2\] float64\n$/);
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
    expect(session.inputNames).toEqual(["x", "W", "b"]);
    const out = await session.run({
      x: new ort.Tensor("float64", Float64Array.of(1, 2), [1, 2]),
      W: new ort.Tensor("float64", Float64Array.of(1, 0.5, 0, 1), [2, 2]),
      b: new ort.Tensor("float64", Float64Array.of(0, 1), [2]),
    });
    const y = Array.from(out[session.outputNames[0]!]!.data as Float64Array);
    expect(y[0]).toBeCloseTo(Math.tanh(1), 12);
    expect(y[1]).toBeCloseTo(Math.tanh(0.5 + 2 + 1), 12);
    await session.release();
  });

  test("--dtype float32, and a scalar expression (numbers become 0-d tensors)", async () => {
    const file = join(dir, "scalar.onnx");
    const r = await run("onnx", "x*y + sin(x)", "--at", "x=1,y=2", "--dtype", "float32", "-o", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("inputs x [] float32, y [] float32; output f [] float32");
    const m = importOnnx(new Uint8Array(readFileSync(file)));
    expect(m.forward(tensor(1, { dtype: "float32" }), tensor(2, { dtype: "float32" })).item()).toBeCloseTo(2 + Math.sin(1), 6);
  });

  test("bad input: an unbound input, a bad dtype, no -o, a syntax error, a file that cannot be written: exit 2", async () => {
    const unbound = await run("onnx", "x @ W", "--at", "x=[1,2]", "-o", join(dir, "u.onnx"));
    expect(unbound.code).toBe(2);
    expect(unbound.stderr).toMatch(/W/);
    const dtype = await run("onnx", "x*2", "--at", "x=1", "--dtype", "int8", "-o", join(dir, "d.onnx"));
    expect(dtype.code).toBe(2);
    expect(dtype.stderr).toBe("gradgraph: --dtype int8: expected float32 or float64\n");
    const noOut = await run("onnx", "x*2", "--at", "x=1");
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("required option '-o, --output <file>' not specified");
    const syntax = await run("onnx", "x*", "--at", "x=1", "-o", join(dir, "s.onnx"));
    expect(syntax.code).toBe(2);
    const blocker = join(dir, "a-file");
    writeFileSync(blocker, "");
    const unwritable = await run("onnx", "x*2", "--at", "x=1", "-o", join(blocker, "f.onnx"));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^gradgraph: -o /);
    for (const r of [unbound, dtype, noOut, syntax, unwritable]) expect(r.stderr).not.toContain("    at ");
  });

  // `-o -` wrote a file named "-" (and said "wrote -"); an empty name said "-o no file name given".
  test("an empty file name or - for -o and --onnx: exit 2 before any work, no file named -", async () => {
    const run1 = join(dir, "xor-names");
    expect((await run("train", "--data", "xor", "--epochs", "1", "--out", run1)).code).toBe(0);
    for (const [args, message] of [
      [["onnx", "x*2", "--at", "x=1", "-o", ""], "gradgraph: -o: no file name given\n"],
      [["onnx", "x*2", "--at", "x=1", "-o", "-"], "gradgraph: -o -: give a file name (this command writes it to a file; its standard output is for what it prints)\n"],
      [["export", run1, "--onnx", ""], "gradgraph: --onnx: no file name given\n"],
      [["export", run1, "--onnx", "-"], "gradgraph: --onnx -: give a file name (this command writes it to a file; its standard output is for what it prints)\n"],
    ] as const) {
      const r = await run(...args);
      expect(r.stderr, args.join(" ")).toBe(message);
      expect(r.stdout).toBe("");
      expect(r.code).toBe(2);
    }
    expect(existsSync("-")).toBe(false);
  });
});
