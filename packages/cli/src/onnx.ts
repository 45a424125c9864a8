/**
 * The CLI's ONNX commands, on gradgraph-onnx's `exportOnnx`: `export RUN_DIR --onnx model.onnx` writes a trained
 * run's model as an ONNX file (for ONNX Runtime, PyTorch users, Netron), and `onnx EXPR --at … -o f.onnx` writes
 * an expression of the board language, compiled to a function of tensors, as one. The file is written atomically;
 * an op without an ONNX form, like every other bad input, is exit code 2 with the exporter's message.
 */
import { type Command, Option } from "commander";
import { type DType, formatShape, InputError, nn, type Target, type Tensor, zeros } from "gradgraph";
import { exportOnnx, OnnxError, onnxRuntime } from "gradgraph-onnx";
import { type CsvFeatureStats, type DataSpec, loadRunModel, trainingFigures } from "./datasets.js";
import { pointOf } from "./functional.js";
import type { Io } from "./io.js";
import { integer } from "./options.js";
import { checkOutputName, writeOutput } from "./output.js";

/** An OnnxError is bad input (exit code 2), like the library's own errors. */
function exporting<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asInputError(what, e);
  }
}

function asInputError(what: string, e: unknown): unknown {
  return e instanceof OnnxError ? new InputError(`${what}: ${e.message}`) : e;
}

/** ONNX Runtime as the training step's target (`train --target onnxruntime`); its absence is bad input. */
export async function onnxRuntimeTarget(): Promise<Target> {
  try {
    return await onnxRuntime();
  } catch (e) {
    throw asInputError("--target onnxruntime", e);
  }
}

function dtypeOf(value: string): DType {
  if (value !== "float32" && value !== "float64") throw new InputError(`--dtype ${value}: expected float32 or float64`);
  return value;
}

/**
 * The largest `export --batch`: the export runs the model once at that batch (it is traced, not described), and
 * LeNet-5 at 65,536 took 22 GB and nine minutes; at 4,096 it takes about 1.4 GB.
 */
export const MAX_EXPORT_BATCH = 4096;

/** `name [2,3] float32` for each tensor. */
const described = (names: readonly string[], ts: readonly Tensor[]) => ts.map((t, i) => `${names[i]} ${formatShape(t.shape)} ${t.dtype}`).join(", ");

/**
 * What a run's inputs went through before the model saw them, which the exported graph does not do: MNIST's grey
 * levels and a CSV file's features were standardised in training, so the ONNX model expects them standardised.
 * A CSV file's means and deviations are those of its training part, as recorded with the model (a run saved
 * before they were recorded has them recomputed here, when the file can be read).
 */
async function inputNote(d: DataSpec | undefined, dtype: DType): Promise<string | undefined> {
  if (d?.name === "mnist" && d.normalize === true) {
    return `the model takes the grey levels (0 to 1) standardised as in training: (x − ${nn.MNIST_MEAN}) / ${nn.MNIST_STD}; the graph does not do it`;
  }
  if (d?.name !== "csv" || d.normalize === false || d.path === undefined) return undefined;
  const what = `the model takes each feature standardised as in training, (x − mean) / deviation with the training part's figures (${d.path}, test fraction ${d.testFraction ?? 0.2}, split seed ${d.seed ?? 0}); the graph does not do it`;
  let stats: CsvFeatureStats;
  try {
    stats = (await trainingFigures(d, dtype, { classes: false })).featureStats!;
  } catch (e) {
    return `${what} (they cannot be recomputed now: ${(e as Error).message})`;
  }
  const show = (a: number[], dev: boolean) => `[${a.map((v) => Number((dev ? v || 1 : v).toPrecision(6))).join(", ")}]`;
  return `${what}: features ${stats.features.join(", ")}, mean ${show(stats.mean, false)}, deviation ${show(stats.deviation, true)}`;
}

/** `gradgraph export RUN_DIR --onnx model.onnx`. */
async function exportRun(dir: string, opts: { onnx: string; batch: string }, io: Io): Promise<void> {
  checkOutputName("--onnx", opts.onnx);
  const batch = integer("--batch", opts.batch, (n) => n >= 1 && n <= MAX_EXPORT_BATCH, `an integer from 1 to ${MAX_EXPORT_BATCH.toLocaleString("en-US")}`)!;
  const { model, config } = await loadRunModel(dir);
  const features = config.model.type === "MLP" ? [config.model.sizes[0]!] : config.model.inputShape;
  const x = zeros([batch, ...features], { dtype: config.model.dtype });
  model.eval();
  const bytes = exporting(`export ${dir}`, () => exportOnnx(model, x, { inputNames: ["input"], outputNames: ["logits"] }));
  const one = model.forward(zeros([1, ...features], { dtype: config.model.dtype })); // the output's shape, without a second pass at the full batch
  await writeOutput("--onnx", opts.onnx, bytes);
  io.out(`wrote ${opts.onnx} (${bytes.length} bytes): ${model.describe()} from ${dir}; input ${described(["input"], [x])}, output logits ${formatShape([batch, ...one.shape.slice(1)])} ${one.dtype}\n`);
  const note = await inputNote(config.data, config.model.dtype);
  if (note !== undefined) io.err(`note: ${note}\n`);
}

/** `gradgraph onnx EXPR --at … -o f.onnx`. */
async function exportExpression(expr: string, opts: { at: string[]; output: string; dtype: string }, io: Io): Promise<void> {
  checkOutputName("-o", opts.output);
  const dtype = dtypeOf(opts.dtype);
  const p = pointOf(expr, opts.at);
  const xs = p.xs.map((x) => x.cast(dtype).detach());
  const bytes = exporting("onnx", () => exportOnnx(p.f, xs, { inputNames: p.names, outputNames: [p.output] }));
  const y = p.f(...xs);
  await writeOutput("-o", opts.output, bytes);
  io.out(`wrote ${opts.output} (${bytes.length} bytes): ${p.output}(${p.names.join(", ")}); inputs ${described(p.names, xs)}; output ${described([p.output], [y])}\n`);
}

/** Registers `export` and `onnx`; `atOption` is the shared `--at`. */
export function registerOnnxCommands(program: Command, io: Io, atOption: () => Option): void {
  program
    .command("export")
    .description("write a trained run's model (gradgraph train --out) as an ONNX file, for ONNX Runtime, PyTorch users or Netron")
    .argument("<dir>", "the folder a `gradgraph train --out` wrote")
    .requiredOption("--onnx <file>", "the .onnx file to write (opset 17, the weights inside)")
    .option("--batch <n>", `the batch size the model is exported for (the graph's shapes are fixed; at most ${MAX_EXPORT_BATCH.toLocaleString("en-US")})`, "1")
    .addHelpText("after", "\nExample:\n  gradgraph export runs/moons --onnx moons.onnx")
    .action((dir: string, opts: { onnx: string; batch: string }) => exportRun(dir, opts, io));

  program
    .command("onnx")
    .description("write an expression, compiled to a function of tensors, as an ONNX model: one graph input per input, at the shapes of --at")
    .argument("<expr>", "the expression as written on the board, optionally with a header naming the function and ordering its inputs")
    .addOption(atOption())
    .requiredOption("-o, --output <file>", "the .onnx file to write")
    .addOption(new Option("--dtype <type>", "float32 or float64 (the CLI computes in float64)").default("float64"))
    .addHelpText(
      "after",
      "\nExamples:\n  gradgraph onnx 'f(x, W, b) = tanh(x @ W + b)' --at 'x=[[1,2]]' --at 'W=[[1,0],[0,1]]' --at 'b=[0,1]' -o layer.onnx\n" +
        "  gradgraph onnx 'softmax(z)' --at 'z=[1,2,3]' --dtype float32 -o softmax.onnx",
    )
    .action((expr: string, opts: { at: string[]; output: string; dtype: string }) => exportExpression(expr, opts, io));
}
