/**
 * `gradgraph eval RUN_DIR --data other.csv` evaluates every row of the file once (one set of figures, "all"; no
 * split), its labels mapped to the classes the model was trained on, by name (a file of one row, or of one class,
 * is fine; a label training never saw is exit 2), its features scaled by the figures the model was trained with
 * (recorded in config.json by `train`), never by the file's own; it reads the training file's label column; a
 * file of another width is exit 2; a run saved before the figures and classes were recorded still evaluates.
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

/** The library's loss and accuracy of a model on a dataset. */
const figures = (model: nn.Module, d: nn.Dataset) => nn.evaluate(model, d, { loss: "cross_entropy", metrics: ["accuracy"] });

/** The figures the library gives for the model on every row of `file` (one holding both classes), scaled by `stats`. */
async function expected(out: string, file: string, stats: nn.FeatureStats, label?: string) {
  const { model } = await loadModel(out);
  const data = nn.standardizedBy(await loadCsv(file, { dtype: "float32", ...(label ? { label } : {}) }), stats);
  return { all: figures(model, data), predictions: Array.from(nn.predict(model, data.x).toArray()) };
}

/** The training part's figures, computed here from the training file as train splits it. */
async function trainingStats(file: string, label?: string): Promise<nn.FeatureStats> {
  return nn.featureStats(nn.trainTestSplit(await loadCsv(file, { dtype: "float32", ...(label ? { label } : {}) }), { testFraction: 0.2, seed: 0 }).train);
}

/** A new file `name` of `from`'s header and those of its rows that `keep` picks (by the row's text and index). */
function rowsOf(from: string, name: string, keep: (row: string, i: number) => boolean): string {
  const [header, ...rows] = readFileSync(from, "utf8").trim().split("\n");
  const file = join(dir, name);
  writeFileSync(file, [header, ...rows.filter(keep)].join("\n") + "\n");
  return file;
}

describe("gradgraph eval --data file.csv", () => {
  const out = join(dir, "run");

  test("train records the figures and classes in config.json; eval scores every row of another file once, scaled by them", async () => {
    expect((await run("train", "--data", trainCsv, "--epochs", "15", "--out", out)).code).toBe(0);
    const stats = await trainingStats(trainCsv);
    const data = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).data;
    expect(data.featureStats).toEqual({ features: ["x", "y"], mean: Array.from(stats.mean), deviation: Array.from(stats.deviation) });
    expect(data.classes).toEqual(["big", "small"]);

    const e = await run("eval", out, "--data", otherCsv, "--json");
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    const got = JSON.parse(e.stdout);
    expect(Object.keys(got)).toEqual(["data", "rows", "all"]); // one set of figures: no train and test parts of the file
    const want = await expected(out, otherCsv, stats);
    expect(got.rows).toBe(40);
    expect(got.all).toEqual(want.all);
    expect(got.data).toEqual({ name: "csv", path: otherCsv, label: "kind", classes: ["big", "small"], normalize: true, featureStats: data.featureStats });
    // the file's own figures give other predictions: the case tells the two apart
    const own = await expected(out, otherCsv, nn.featureStats(await loadCsv(otherCsv)));
    expect(own.predictions).not.toEqual(want.predictions);
    expect(own.all).not.toEqual(want.all);

    const table = await run("eval", out, "--data", otherCsv);
    expect(table.code).toBe(0);
    const pct = `${(100 * want.all.accuracy!).toFixed(2)}%`;
    expect(table.stdout).toBe(`MLP 2-32-2 (relu) from ${out} on ${otherCsv} label kind (40 rows, no split)\n           loss      accuracy\n  all      ${want.all.loss!.toFixed(4).padStart(8)}  ${pct.padStart(9)}\n`);
  });

  test("a file of one class, or of one row: each row scored against the training classes, by name", async () => {
    const full = await loadCsv(otherCsv); // both classes, indexed as in training: big 0, small 1
    const stats = await trainingStats(trainCsv);
    const { model } = await loadModel(out);
    const ofFull = (keep: (i: number) => boolean) => figures(model, nn.standardizedBy(full.subset([...Array(40).keys()].filter(keep)), stats));
    // only "small" rows (by the file's own classes, small would be class 0: the model's "big")
    const small = rowsOf(otherCsv, "small-only.csv", (r) => r.endsWith(",small"));
    const s = await run("eval", out, "--data", small, "--json");
    expect([s.code, s.stderr]).toEqual([0, ""]);
    expect(JSON.parse(s.stdout)).toMatchObject({ rows: 20, data: { classes: ["big", "small"] }, all: ofFull((i) => i % 2 === 0) });
    const one = rowsOf(otherCsv, "one-row.csv", (_, i) => i === 1); // a "big" row
    const o = await run("eval", out, "--data", one, "--json");
    expect([o.code, o.stderr]).toEqual([0, ""]);
    expect(JSON.parse(o.stdout)).toMatchObject({ rows: 1, all: ofFull((i) => i === 1) });
    expect((await run("eval", out, "--data", one)).stdout).toContain(` on ${one} label kind (1 row, no split)\n`);
  });

  test("a label training never saw: exit 2, naming it, its line and the classes", async () => {
    // big and huge: numbered by the file's own labels, huge would silently be scored as the model's "small"
    const odd = join(dir, "odd-label.csv");
    writeFileSync(odd, readFileSync(otherCsv, "utf8").replace(/,small\n/g, ",huge\n"));
    const r = await run("eval", out, "--data", odd);
    expect(r.stderr).toBe(`gradgraph: ${odd}:2: label "huge" (column "kind") is not a class the model was trained on (big, small)\n`);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    const mixed = join(dir, "mixed-label.csv");
    writeFileSync(mixed, "x,y,kind\n1,1,small\n2,2,huge\n3,3,big\n");
    expect((await run("eval", out, "--data", mixed)).stderr).toBe(`gradgraph: ${mixed}:3: label "huge" (column "kind") is not a class the model was trained on (big, small)\n`);
  });

  test("eval on the run's own data reports its train and test parts, scaled by the recorded figures: those train reported", async () => {
    const t = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).results;
    const e = await run("eval", out, "--json");
    expect(e.code).toBe(0);
    const got = JSON.parse(e.stdout);
    expect(Object.keys(got)).toEqual(["data", "train", "test"]);
    expect(got).toMatchObject({ train: t.train, test: t.test });
  });

  test("a file with another number of feature columns: exit 2, expected N columns, got M", async () => {
    const wide = join(dir, "wide.csv");
    writeFileSync(wide, "x,y,z,kind\n" + Array.from({ length: 10 }, (_, i) => `${i},${i + 1},${i + 2},${i % 2 ? "big" : "small"}`).join("\n") + "\n");
    const r = await run("eval", out, "--data", wide);
    expect(r.stderr).toBe(`gradgraph: ${wide}: expected 2 feature columns besides the label column kind, as the model was trained on (x, y), got 3 (x, y, z)\n`);
    expect(r.code).toBe(2);
  });

  test("columns named otherwise are taken in order, with a note", async () => {
    const renamed = join(dir, "renamed.csv");
    writeFileSync(renamed, readFileSync(otherCsv, "utf8").replace("x,y,kind", "a,b,kind"));
    const r = await run("eval", out, "--data", renamed, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`note: ${renamed}'s feature columns are a, b; the model was trained on x, y: they are taken in that order\n`);
    const want = await expected(out, renamed, await trainingStats(trainCsv));
    expect(JSON.parse(r.stdout)).toMatchObject({ all: want.all });
  });

  test("the recorded columns in another order are taken by name, with a note", async () => {
    const swapped = join(dir, "swapped.csv");
    const [, ...rows] = readFileSync(otherCsv, "utf8").trim().split("\n");
    writeFileSync(swapped, "y,x,kind\n" + rows.map((r) => r.split(",")).map(([x, y, k]) => `${y},${x},${k}`).join("\n") + "\n");
    const r = await run("eval", out, "--data", swapped, "--json");
    expect(r.stderr).toBe(`note: ${swapped}'s feature columns are y, x; the model was trained on x, y: they are taken by name\n`);
    expect(r.code).toBe(0);
    const want = await expected(out, otherCsv, await trainingStats(trainCsv));
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 40, all: want.all });
  });

  test("a run saved before the figures and classes were recorded: recomputed from its training file (a note), else the file's own (a warning)", async () => {
    const old = join(dir, "old");
    expect((await run("train", "--data", trainCsv, "--epochs", "15", "--out", old)).code).toBe(0);
    const path = join(old, "config.json");
    const config = JSON.parse(readFileSync(path, "utf8"));
    delete config.data.featureStats;
    delete config.data.classes;
    writeFileSync(path, JSON.stringify(config));
    const r = await run("eval", old, "--data", otherCsv, "--json");
    expect(r.code).toBe(0);
    const older = `${path} records no standardisation figures or class names (a run saved by an older gradgraph)`;
    expect(r.stderr).toBe(`note: ${older}: ${otherCsv} is read with those of its training file, ${trainCsv}, recomputed now\n`);
    const want = await expected(old, otherCsv, await trainingStats(trainCsv));
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { classes: ["big", "small"] }, all: want.all });
    // the classes recomputed: a file of one class is scored as the model's
    const small = rowsOf(otherCsv, "old-small-only.csv", (row) => row.endsWith(",small"));
    const s = await run("eval", old, "--data", small, "--json");
    expect([s.code, JSON.parse(s.stdout).data.classes]).toEqual([0, ["big", "small"]]);

    config.data.path = join(dir, "gone.csv");
    writeFileSync(path, JSON.stringify(config));
    const gone = await run("eval", old, "--data", otherCsv, "--json");
    expect(gone.code).toBe(0);
    expect(gone.stderr).toBe(
      `warning: ${older}, and its training file cannot be read (${join(dir, "gone.csv")}: no such file): ${otherCsv} is standardised by its own mean and deviation and labelled by its own classes in sorted order (the model's only if it holds every one of them) instead; retrain the model to record them\n`,
    );
    expect(JSON.parse(gone.stdout).all).toEqual((await expected(old, otherCsv, nn.featureStats(await loadCsv(otherCsv)))).all);
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
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { label: "kind" }, all: want.all });
  });

  test("the default label column (the last) is recorded by name and found by name: moved, it is still the label; missing, exit 2 naming it", async () => {
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.data.label).toBe("kind"); // trained without --label
    const [, ...rows] = readFileSync(otherCsv, "utf8").trim().split("\n");
    const moved = join(dir, "label-moved.csv");
    writeFileSync(moved, "x,kind,y\n" + rows.map((r) => r.split(",")).map(([x, y, k]) => `${x},${k},${y}`).join("\n") + "\n");
    const m = await run("eval", out, "--data", moved, "--json");
    expect([m.code, m.stderr]).toEqual([0, ""]);
    expect(JSON.parse(m.stdout)).toMatchObject({ rows: 40, all: (await expected(out, otherCsv, await trainingStats(trainCsv))).all });
    const other = join(dir, "label-renamed.csv");
    writeFileSync(other, readFileSync(otherCsv, "utf8").replace("x,y,kind", "x,y,klass"));
    const r = await run("eval", out, "--data", other);
    expect(r.stderr).toBe(`gradgraph: the model's label column kind (from training) is missing from ${other} (its columns: x, y, klass)\n`);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    // a run saved before the name was recorded: the last column, as before, and a note saying so
    const old = join(dir, "old-label");
    expect((await run("train", "--data", trainCsv, "--epochs", "2", "--out", old)).code).toBe(0);
    const path = join(old, "config.json"), oldConfig = JSON.parse(readFileSync(path, "utf8"));
    delete oldConfig.data.label;
    writeFileSync(path, JSON.stringify(oldConfig));
    const o = await run("eval", old, "--data", other, "--json");
    expect(o.code).toBe(0);
    expect(o.stderr).toBe(`note: ${path} records no label column name (a run saved by an older gradgraph): ${other}'s last column is taken as the label, as the training file's was\n`);
  });

  test("a model trained on a named dataset takes a CSV file's features as they are, and labels as its class names or indices", async () => {
    const moons = join(dir, "moons");
    expect((await run("train", "--data", "moons", "--epochs", "3", "--out", moons)).code).toBe(0);
    const file = join(dir, "moons.csv");
    const points = nn.moons(60, { seed: 5, noise: 0.1 });
    const x = points.x.toArray(), y = points.y.toArray();
    writeFileSync(file, "u,v,label\n" + Array.from(y, (c, i) => `${x[2 * i]},${x[2 * i + 1]},${c}`).join("\n") + "\n");
    const r = await run("eval", moons, "--data", file, "--json");
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const { model } = await loadModel(moons);
    const whole = await loadCsv(file);
    expect(JSON.parse(r.stdout)).toMatchObject({ data: { normalize: false, classes: ["upper", "lower"] }, rows: 60, all: figures(model, whole) });
    // rows of class 1 only, labelled by index or by name ("lower"): scored as class 1, not as a file's class 0
    const lower = [...y.keys()].filter((i) => y[i] === 1);
    const want = figures(model, whole.subset(lower));
    const byIndex = rowsOf(file, "moons-1.csv", (row) => row.endsWith(",1"));
    const byName = join(dir, "moons-lower.csv");
    writeFileSync(byName, readFileSync(byIndex, "utf8").replace(/,1\n/g, ",lower\n"));
    for (const f of [byIndex, byName]) {
      const e = await run("eval", moons, "--data", f, "--json");
      expect([e.code, e.stderr]).toEqual([0, ""]);
      expect(JSON.parse(e.stdout)).toMatchObject({ rows: lower.length, all: want });
    }
  });

  test("a value finite in the file but beyond float32 once standardised by the recorded figures: exit 2, naming its line, column and value", async () => {
    const narrow = join(dir, "narrow.csv");
    writeFileSync(narrow, blobs(100, { scale: 0.1 }));
    const n = join(dir, "narrow");
    expect((await run("train", "--data", narrow, "--epochs", "1", "--out", n)).code).toBe(0);
    const { mean, deviation } = JSON.parse(readFileSync(join(n, "config.json"), "utf8")).data.featureStats;
    expect(deviation[0]).toBeLessThan(1); // so that -3e38, a float32, is not one once divided by it
    const big = join(dir, "big-cell.csv");
    writeFileSync(big, "x,y,kind\n0.1,0.2,small\n-3e38,0.3,big\n");
    const r = await run("eval", n, "--data", big);
    const figure = (v: number) => Number(v.toPrecision(6));
    expect(r.stderr).toBe(`gradgraph: ${big}:3: column "x" holds -3e38, which standardised by the model's figures, (x − ${figure(mean[0])}) / ${figure(deviation[0])}, is beyond float32's range (at most about 3.4e38), the model's dtype\n`);
    expect([r.code, r.stdout]).toEqual([2, ""]);
  });

  test("a cell beyond float32, or a file without the training label column: errors that name the model's, not train's options", async () => {
    const wide = join(dir, "too-large.csv");
    writeFileSync(wide, "x,y,kind\n1,1e39,small\n");
    const r = await run("eval", out, "--data", wide);
    expect(r.stderr).toBe(`gradgraph: ${wide}:2: column "y" holds 1e39, beyond float32's range (at most about 3.4e38): the model's dtype, float32, cannot hold it\n`);
    expect(r.code).toBe(2);
    const unlabelled = join(dir, "no-kind.csv");
    writeFileSync(unlabelled, "x,y,size\n1,2,small\n");
    const l = await run("eval", join(dir, "label-first"), "--data", unlabelled);
    expect(l.stderr).toBe(`gradgraph: the model's label column kind (from training) is missing from ${unlabelled} (its columns: x, y, size)\n`);
    expect(l.code).toBe(2);
  });

  test("a file of another width for a model trained on a named dataset: the model takes N features, the file has M", async () => {
    const m = join(dir, "moons-width");
    expect((await run("train", "--data", "moons", "--epochs", "1", "--out", m)).code).toBe(0);
    const m3 = join(dir, "m3.csv");
    writeFileSync(m3, "a,b,c,label\n1,2,3,0\n4,5,6,1\n");
    const r = await run("eval", m, "--data", m3);
    expect(r.stderr).toBe(`gradgraph: the model in ${m} takes 2 input features, but each sample of m3.csv has 3\n`);
    expect(r.code).toBe(2);
  });

  test("--data csv is refused, as train refuses it, not taken as the run's own file", async () => {
    const r = await run("eval", out, "--data", "csv");
    expect(r.stderr).toMatch(/^gradgraph: --data csv: unknown dataset.*or a file\.csv\)\n$/);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect((await run("train", "--data", "csv")).stderr).toBe(r.stderr);
  });

  test("a loss that is not finite is a warning, not a silent figure", async () => {
    const m = join(dir, "moons-nan");
    expect((await run("train", "--data", "moons", "--epochs", "1", "--out", m)).code).toBe(0);
    const huge = join(dir, "huge.csv");
    writeFileSync(huge, "u,v,label\n3e38,3e38,0\n-3e38,3e38,1\n");
    const r = await run("eval", m, "--data", huge);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: the loss on ${huge} (all) is NaN, not a finite number: the model's outputs are not all finite, so its accuracy there means nothing\n`);
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
