/**
 * `gradgraph eval RUN_DIR --data other.csv` scales the file's features by the figures the model was trained with
 * (recorded in config.json by `train`), never by the file's own mean and deviation; it reads the training file's
 * label column; a file of another width is exit 2; a run saved before the figures were recorded still evaluates.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { nn } from "gradgraph";
import { loadModel } from "gradgraph/node";
import { loadCsv } from "../../packages/cli/src/csv.js";
import { run } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "gradgraph-eval-csv-"));

/** Two blobs told apart by x + y: `shift`/`scale` move and stretch every row (a test set unlike the training set). */
function blobs(n: number, o: { shift?: number; scale?: number; labelFirst?: boolean } = {}): string {
  const { shift = 0, scale = 1 } = o;
  const rows = Array.from({ length: n }, (_, i) => {
    const c = i % 2, x = (c * 2 + ((i * 37) % 100) / 50) * scale + shift, y = (c * 2 + ((i * 61) % 100) / 50) * scale + shift;
    const kind = c ? "big" : "small";
    return o.labelFirst ? `${kind},${x.toFixed(3)},${y.toFixed(3)}` : `${x.toFixed(3)},${y.toFixed(3)},${kind}`;
  });
  return (o.labelFirst ? "kind,x,y\n" : "x,y,kind\n") + rows.join("\n") + "\n";
}

const trainCsv = join(dir, "train.csv");
writeFileSync(trainCsv, blobs(200));
// Shifted and shrunk: standardised by its own figures it would look like the training set; by training's it does not.
const otherCsv = join(dir, "shifted.csv");
writeFileSync(otherCsv, blobs(40, { shift: 1.5, scale: 0.5 }));

/** The figures the library gives for the model on `file`, split as eval splits it, scaled by `stats`. */
async function expected(out: string, file: string, stats: nn.FeatureStats, label?: string) {
  const { model } = await loadModel(out);
  const split = nn.trainTestSplit(await loadCsv(file, { dtype: "float32", ...(label ? { label } : {}) }), { testFraction: 0.2, seed: 0 });
  const figures = (d: nn.Dataset) => nn.evaluate(model, nn.standardizedBy(d, stats), { loss: "cross_entropy", metrics: ["accuracy"] });
  const predictions = (d: nn.Dataset) => Array.from(nn.predict(model, nn.standardizedBy(d, stats).x).toArray());
  return { train: figures(split.train), test: figures(split.test), predictions: predictions(split.test) };
}

/** The training part's figures, computed here from the training file as train splits it. */
async function trainingStats(file: string, label?: string): Promise<nn.FeatureStats> {
  return nn.featureStats(nn.trainTestSplit(await loadCsv(file, { dtype: "float32", ...(label ? { label } : {}) }), { testFraction: 0.2, seed: 0 }).train);
}

describe("gradgraph eval --data file.csv", () => {
  const out = join(dir, "run");

  test("train records the training part's figures in config.json; eval scales another file by them, not by its own", async () => {
    expect((await run("train", "--data", trainCsv, "--epochs", "15", "--out", out)).code).toBe(0);
    const stats = await trainingStats(trainCsv);
    const data = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).data;
    expect(data.featureStats).toEqual({ features: ["x", "y"], mean: Array.from(stats.mean), deviation: Array.from(stats.deviation) });

    const e = await run("eval", out, "--data", otherCsv, "--json");
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    const got = JSON.parse(e.stdout);
    const want = await expected(out, otherCsv, stats);
    expect({ train: got.train, test: got.test }).toEqual({ train: want.train, test: want.test });
    expect(got.data.featureStats).toEqual(data.featureStats);
    // the file's own figures give other predictions: the case tells the two apart
    const own = await expected(out, otherCsv, nn.featureStats(nn.trainTestSplit(await loadCsv(otherCsv), { testFraction: 0.2, seed: 0 }).train));
    expect(own.predictions).not.toEqual(want.predictions);
    expect(own.train).not.toEqual(want.train);
  });

  test("eval on the run's own data uses the recorded figures too: the figures train reported", async () => {
    const t = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).results;
    const e = await run("eval", out, "--json");
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ train: t.train, test: t.test });
  });

  test("a file with another number of feature columns: exit 2, expected N columns, got M", async () => {
    const wide = join(dir, "wide.csv");
    writeFileSync(wide, "x,y,z,kind\n" + Array.from({ length: 10 }, (_, i) => `${i},${i + 1},${i + 2},${i % 2 ? "big" : "small"}`).join("\n") + "\n");
    const r = await run("eval", out, "--data", wide);
    expect(r.stderr).toBe(`gradgraph: ${wide}: expected 2 feature columns besides the label (the last column), as the model was trained on (x, y), got 3 (x, y, z)\n`);
    expect(r.code).toBe(2);
  });

  test("columns named otherwise are taken in order, with a note", async () => {
    const renamed = join(dir, "renamed.csv");
    writeFileSync(renamed, readFileSync(otherCsv, "utf8").replace("x,y,kind", "a,b,kind"));
    const r = await run("eval", out, "--data", renamed, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`note: ${renamed}'s feature columns are a, b; the model was trained on x, y: they are taken in that order\n`);
    const want = await expected(out, renamed, await trainingStats(trainCsv));
    expect(JSON.parse(r.stdout)).toMatchObject({ train: want.train, test: want.test });
  });

  test("a run saved before the figures were recorded: recomputed from its training file (a note), else the file's own (a warning)", async () => {
    const old = join(dir, "old");
    expect((await run("train", "--data", trainCsv, "--epochs", "15", "--out", old)).code).toBe(0);
    const path = join(old, "config.json");
    const config = JSON.parse(readFileSync(path, "utf8"));
    delete config.data.featureStats;
    writeFileSync(path, JSON.stringify(config));
    const r = await run("eval", old, "--data", otherCsv, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`note: ${path} records no standardisation figures (a run saved by an older gradgraph): ${otherCsv} is standardised by those of its training file, ${trainCsv}, recomputed now\n`);
    const want = await expected(old, otherCsv, await trainingStats(trainCsv));
    expect(JSON.parse(r.stdout)).toMatchObject({ train: want.train, test: want.test });

    config.data.path = join(dir, "gone.csv");
    writeFileSync(path, JSON.stringify(config));
    const gone = await run("eval", old, "--data", otherCsv, "--json");
    expect(gone.code).toBe(0);
    expect(gone.stderr).toBe(
      `warning: ${path} records no standardisation figures (a run saved by an older gradgraph), and its training file cannot be read (${join(dir, "gone.csv")}: no such file): ${otherCsv} is standardised by its own mean and deviation instead; retrain the model to record them\n`,
    );
  });

  test("the training file's label column is the other file's too", async () => {
    const first = join(dir, "label-first.csv"), other = join(dir, "label-first-shifted.csv");
    writeFileSync(first, blobs(200, { labelFirst: true }));
    writeFileSync(other, blobs(40, { shift: 1.5, scale: 0.5, labelFirst: true }));
    const lf = join(dir, "label-first");
    expect((await run("train", "--data", first, "--label", "kind", "--epochs", "5", "--out", lf)).code).toBe(0);
    const r = await run("eval", lf, "--data", other, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const want = await expected(lf, other, await trainingStats(first, "kind"), "kind");
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { label: "kind" }, train: want.train, test: want.test });
  });

  test("a model trained on a named dataset (unscaled features) takes a CSV file's features as they are", async () => {
    const moons = join(dir, "moons");
    expect((await run("train", "--data", "moons", "--epochs", "3", "--out", moons)).code).toBe(0);
    const file = join(dir, "moons.csv");
    const points = nn.moons(60, { seed: 5, noise: 0.1 });
    const x = points.x.toArray(), y = points.y.toArray();
    writeFileSync(file, "u,v,label\n" + Array.from(y, (c, i) => `${x[2 * i]},${x[2 * i + 1]},${c}`).join("\n") + "\n");
    const r = await run("eval", moons, "--data", file, "--json");
    expect(r.code).toBe(0);
    const { model } = await loadModel(moons);
    const split = nn.trainTestSplit(await loadCsv(file), { testFraction: 0.2, seed: 0 });
    const raw = (d: nn.Dataset) => nn.evaluate(model, d, { loss: "cross_entropy", metrics: ["accuracy"] });
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { normalize: false }, train: raw(split.train), test: raw(split.test) });
  });

  test("export's note gives the recorded figures, even when the training file is gone", async () => {
    const moved = join(dir, "moved.csv");
    writeFileSync(moved, blobs(50));
    const m = join(dir, "moved");
    expect((await run("train", "--data", moved, "--epochs", "1", "--out", m)).code).toBe(0);
    const { mean, deviation } = JSON.parse(readFileSync(join(m, "config.json"), "utf8")).data.featureStats;
    rmSync(moved);
    const r = await run("export", m, "--onnx", join(dir, "moved.onnx"));
    expect(r.code).toBe(0);
    const show = (a: number[]) => `[${a.map((v) => Number(v.toPrecision(6))).join(", ")}]`;
    expect(r.stderr).toContain(`: features x, y, mean ${show(mean)}, deviation ${show(deviation)}\n`);
  });
});
