/**
 * `gradgraph eval RUN_DIR`: reloads a run's model and reports its loss and accuracy on the run's own data (its
 * train and test parts, split as train split them), on another named dataset (split by the same rules), or on
 * another CSV file, whole: every row evaluated once, its labels mapped to the classes the model was trained on
 * (by name) and its features scaled by the training figures recorded with the model.
 */
import { join } from "node:path";
import { type DType, getNumThreads, InputError } from "gradgraph";
import { CONFIG_FILE, type ModelConfig } from "gradgraph/node";
import { type Dataset, evaluate, type LayerNet, MLP, MNIST_CLASSES, MNIST_MEAN, MNIST_STD } from "gradgraph/nn";
import { type DataSpec, loadCsvRows, loadDataset, loadRunModel, trainingFigures } from "./datasets.js";
import type { Io } from "./io.js";
import { checkSavedFits, checkSplit, dataSource, describeData, modelName } from "./train-data.js";
import { figuresTable, plural } from "./train-progress.js";

type Model = MLP | LayerNet;

/** How another CSV file is read for a model: the spec's fields that say so, and whether a label may be a class index. */
interface Reading {
  spec: Pick<DataSpec, "label" | "normalize" | "featureStats" | "classes">;
  indexLabels: boolean;
}

/** `gradgraph eval DIR [--data NAME|file.csv] [--json]`. */
export async function evalAction(dir: string, opts: { data?: string; json?: boolean }, io: Io): Promise<void> {
  getNumThreads(); // as train: a bad GRADGRAPH_NUM_THREADS is an error now, not only when the data is large (MNIST's)
  const { model, config } = await loadRunModel(dir);
  const trained = config.data;
  // checked first, as train checks it: "csv" is no dataset name (a file's is), even for a run trained on a file
  const named = opts.data === undefined ? undefined : dataSource(opts.data);
  const own = named === undefined || (trained !== undefined && named.name !== "csv" && named.name === trained.name);
  if (own && trained === undefined) throw new InputError(`${dir}: its config.json names no dataset; say which with --data`);
  const source = own ? undefined : named;
  if (source?.name === "csv") return evalFile(dir, source.path!, model, config, opts.json === true, io);
  const spec: DataSpec = trained !== undefined && own ? trained : { name: source!.name, ...(source!.name === "mnist" ? { normalize: true } : {}) };
  const { train, test, spec: full } = await loadDataset(spec, { dtype: config.model.dtype });
  checkSplit(full, train, test, `${dir}: `);
  checkSavedFits(model, train, dir);
  columnsNote(full, train, io);
  const trainFig = evaluate(model, train, { loss: "cross_entropy", metrics: ["accuracy"] });
  const testFig = evaluate(model, test, { loss: "cross_entropy", metrics: ["accuracy"] });
  warnLoss([["train", trainFig], ["test", testFig]], full.name === "csv" ? full.path! : full.name, io);
  if (opts.json) {
    io.out(JSON.stringify({ data: full, train: trainFig, test: testFig }) + "\n");
    return;
  }
  io.out(`${described(model, dir)} on ${describeData(full, train, test)}\n`);
  io.out(figuresTable([["train", trainFig], ["test", testFig]]));
}

/**
 * Evaluates the model on every row of another CSV file, once: one set of figures, "all" (the file is a held-out
 * set, not a dataset to split). A file of one row, or of some of the classes only, is evaluated as it is.
 */
async function evalFile(dir: string, path: string, model: Model, config: ModelConfig<DataSpec>, json: boolean, io: Io): Promise<void> {
  const reading = await csvReading(dir, path, config, io);
  const { data, spec } = await loadCsvRows({ name: "csv", path, ...reading.spec }, { dtype: config.model.dtype, indexLabels: reading.indexLabels, note: (text) => io.err(`note: ${text}\n`) });
  checkSavedFits(model, data, dir);
  columnsNote(spec, data, io);
  const all = evaluate(model, data, { loss: "cross_entropy", metrics: ["accuracy"] });
  warnLoss([["all", all]], path, io);
  if (json) {
    io.out(JSON.stringify({ data: spec, rows: data.length, all }) + "\n");
    return;
  }
  io.out(`${described(model, dir)} on ${path}${spec.label === undefined ? "" : ` label ${spec.label}`} (${plural(data.length, "row")}, no split)\n`);
  io.out(figuresTable([["all", all]]));
}

/** `MLP 2-16-16-2 (relu) from runs/moons`. */
const described = (model: Model, dir: string) => `${modelName(model)}${model instanceof MLP ? ` (${model.activation})` : ""} from ${dir}`;

/** A warning for each set of figures whose loss is not a finite number: the model's outputs were not, and its accuracy means nothing. */
function warnLoss(rows: [string, Record<string, number>][], data: string, io: Io): void {
  for (const [part, fig] of rows) {
    if (!Number.isFinite(fig.loss)) io.err(`warning: the loss on ${data} (${part}) is ${fig.loss}, not a finite number: the model's outputs are not all finite, so its accuracy there means nothing\n`);
  }
}

/** A note when a CSV file's feature columns are named otherwise than those the model was trained on. */
function columnsNote(spec: DataSpec, data: Dataset, io: Io): void {
  const names = data.info.features ?? [], recorded = spec.featureStats?.features ?? names;
  if (recorded.some((n, i) => n !== names[i])) io.err(`note: ${spec.path}'s feature columns are ${names.join(", ")}; the model was trained on ${recorded.join(", ")}: they are taken in that order\n`);
}

/**
 * How another CSV file is read for a run's model: a model trained on a CSV file takes its label column, classes
 * and standardisation (see {@link trainedCsvReading}); a model trained on a named dataset takes the features as
 * they are (only MNIST's were scaled, by constants: said in a note) and that dataset's classes, by name or index.
 */
async function csvReading(dir: string, path: string, config: ModelConfig<DataSpec>, io: Io): Promise<Reading> {
  const trained = config.data;
  if (trained === undefined) {
    io.err(`warning: ${join(dir, CONFIG_FILE)} names no training data: ${path}'s features are standardised by their own mean and deviation, and its labels are taken as the model's classes in sorted order, which may not be how the model was trained\n`);
    return { spec: {}, indexLabels: false };
  }
  if (trained.name === "csv") return { spec: await trainedCsvReading(dir, path, trained, config.model.dtype, io), indexLabels: false };
  if (trained.name === "mnist" && trained.normalize === true) io.err(`note: the model was trained on MNIST's grey levels (0 to 1) standardised as (x − ${MNIST_MEAN}) / ${MNIST_STD}; ${path}'s features are taken as they are\n`);
  const classes = trained.name === "mnist" ? [...MNIST_CLASSES] : [...(await loadDataset(trained, { dtype: config.model.dtype })).train.info.classes!];
  return { spec: { normalize: false, classes }, indexLabels: true };
}

/**
 * How another CSV file is read for a model trained on a CSV file: with its label column, its classes and its
 * standardisation figures, as recorded. A run saved before they were recorded has them recomputed from its
 * training file (a note), or, when that cannot be read, takes the other file's own with a warning.
 */
async function trainedCsvReading(dir: string, path: string, trained: DataSpec, dtype: DType, io: Io): Promise<Reading["spec"]> {
  const label = trained.label === undefined ? {} : { label: trained.label };
  // train records the label column's name whatever picked it; an older run's was its training file's last column
  if (trained.label === undefined) io.err(`note: ${join(dir, CONFIG_FILE)} records no label column name (a run saved by an older gradgraph): ${path}'s last column is taken as the label, as the training file's was\n`);
  const scaled = trained.normalize !== false, unscaled = scaled ? {} : { normalize: false };
  const missing = [scaled && trained.featureStats === undefined && "standardisation figures", trained.classes === undefined && "class names"].filter(Boolean).join(" or ");
  const old = `${join(dir, CONFIG_FILE)} records no ${missing} (a run saved by an older gradgraph)`;
  try {
    const { featureStats, classes, recomputed } = await trainingFigures(trained, dtype, { classes: true }); // recorded, else recomputed
    if (recomputed) io.err(`note: ${old}: ${path} is read with those of its training file, ${trained.path}, recomputed now\n`);
    return { ...label, ...unscaled, ...(featureStats === undefined ? {} : { featureStats }), classes: classes! };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const own = { featureStats: trained.featureStats, classes: trained.classes }; // what was recorded
    const instead = [scaled && own.featureStats === undefined && "standardised by its own mean and deviation", own.classes === undefined && "labelled by its own classes in sorted order (the model's only if it holds every one of them)"];
    io.err(`warning: ${old}, and its training file cannot be read (${e.message}): ${path} is ${instead.filter(Boolean).join(" and ")} instead; retrain the model to record them\n`);
    return { ...label, ...unscaled, ...(own.featureStats === undefined ? {} : { featureStats: own.featureStats }), ...(own.classes === undefined ? {} : { classes: own.classes }) };
  }
}
