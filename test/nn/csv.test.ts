/** A user's CSV file as a dataset: header, label column, numeric features, and the errors with line numbers. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { nn } from "gradgraph";
import { loadCsv, parseCsv } from "../../packages/cli/src/csv.js";
import { loadDataset } from "../../packages/cli/src/datasets.js";

describe("CSV datasets", () => {
  test("the last column is the label by default; classes sorted (numerically when numbers); features in file order", async () => {
    const ds = await parseCsv('a,"b c",kind\r\n1,2,y\r\n\r\n3,-4.5e1,x\r\n.5,6,y\r\n', "t.csv", { dtype: "float64" });
    expect(ds.x.toNested()).toEqual([[1, 2], [3, -45], [0.5, 6]]);
    expect(Array.from(ds.y.toArray())).toEqual([1, 0, 1]);
    expect(ds.info.classes).toEqual(["x", "y"]);
    expect(ds.info.features).toEqual(["a", "b c"]);
    const num = await parseCsv("digit,p\n10,1\n9,2\n10,3\n", "n.csv", { label: "digit" });
    expect(num.info.classes).toEqual(["9", "10"]); // 9 before 10: numbers sort as numbers
    expect(Array.from(num.y.toArray())).toEqual([1, 0, 1]);
    expect(num.x.toNested()).toEqual([[1], [2], [3]]);
    const wide = await parseCsv("a,b\n1e39,y\n1,z\n", "w.csv", { dtype: "float64" });
    expect(wide.x.toNested()).toEqual([[1e39], [1]]); // beyond float32, within float64

  });

  test("given classes (a model's): labels mapped to them by name, whichever the file holds; with indexLabels, by index too", async () => {
    const some = await parseCsv("a,kind\n1,z\n2,z\n", "t.csv", { classes: ["x", "y", "z"] });
    expect(some.info.classes).toEqual(["x", "y", "z"]);
    expect(some.outputSize).toBe(3);
    expect(Array.from(some.y.toArray())).toEqual([2, 2]);
    const one = await parseCsv("a,kind\n1,y\n", "t.csv", { classes: ["x", "y"] });
    expect([one.length, Array.from(one.y.toArray())]).toEqual([1, [1]]);
    const indexed = await parseCsv("a,kind\n1,1\n2,upper\n", "t.csv", { classes: ["upper", "lower"], indexLabels: true });
    expect(Array.from(indexed.y.toArray())).toEqual([1, 0]);
    await expect(parseCsv("a,kind\n1,x\n2,w\n", "t.csv", { classes: ["x", "y"] })).rejects.toThrow('t.csv:3: label "w" (column "kind") is not a class the model was trained on (x, y)');
    await expect(parseCsv("a,kind\n1,2\n", "t.csv", { classes: ["upper", "lower"], indexLabels: true })).rejects.toThrow('t.csv:2: label "2" (column "kind") is not a class the model was trained on (upper, lower, or their indices 0 to 1)');
    await expect(parseCsv("a,kind\n1,1\n", "t.csv", { classes: ["x", "y"] })).rejects.toThrow('label "1"'); // no index without indexLabels
  });

  test.each([
    ["a,b\n1,x\n1,2,3\n", {}, "t.csv:3: 3 cells, but the header has 2 columns"],
    ["a,b,c\n1,2,x\n1,two,y\n", {}, 't.csv:3: column "b" holds "two", expected a number'],
    ["a,b,c\n1,,x\n", {}, 't.csv:2: column "b" holds "", expected a number'],
    ["a,b\n0x10,y\n", {}, 't.csv:2: column "a" holds "0x10", expected a number'],
    ["a,b\n1e999,y\n", {}, 't.csv:2: column "a" holds 1e999, beyond float32\'s range'],
    ["a,b\n-1e999,y\n", { dtype: "float64" as const }, 't.csv:2: column "a" holds -1e999, beyond float64\'s range'],
    ["a,b\n1e-999,y\n", { dtype: "float64" as const }, 't.csv:2: column "a" holds 1e-999, which is too small for a float64 number (it would be 0'],
    ["a,b\n1,y\n1e39,z\n", {}, 't.csv:3: column "a" holds 1e39, beyond float32\'s range (at most about 3.4e38; --dtype float64'],
    ["a,b\n1,\n", {}, 't.csv:2: the label (column "b") is empty'],
    ["a,b\n1,x\n2,x\n", {}, 't.csv: the label column "b" holds one value ("x") in every row; a classifier needs at least two classes'],
    ["a,b\n", {}, "t.csv: a header and no rows"],
    ["", {}, "t.csv: empty; expected a header row"],
    ["a\n1\n", {}, "t.csv:1: the header has 1 column; expected at least two"],
    ["a,a\n1,2\n", {}, 't.csv:1: the header names column "a" twice'],
    ["a,b\n1,2\n", { label: "kind" }, "--label kind: t.csv has no such column (its columns: a, b)"],
    ['a,b\n1,"2\n', {}, `t.csv:2: a quoted cell opens on this line and its closing quote (") never comes; close it, or write a quote inside a quoted cell as ""`],
    ['a,b,c\n1,"2 ""q""",x\n3,"4\n' + "5,6,y\n".repeat(100), {}, "t.csv:3: a quoted cell opens on this line"], // where it opens, not the end of the file
    ["a,b\n1," + "z".repeat(200_000) + "\n", { label: "a" }, `t.csv:2: column "b" holds "${"z".repeat(40)}…${"z".repeat(20)}" (200,000 characters), expected a number`],
    ["a,b,c\n1," + "2".repeat(5_000) + ",x\n", {}, `t.csv:2: column "b" holds ${"2".repeat(40)}…${"2".repeat(20)} (5,000 characters), beyond float32's range`],
  ])("bad CSV %j %j", async (text, o, message) => {
    const error = await parseCsv(text, "t.csv", o).then(() => undefined, (e: Error) => e);
    expect(error?.message).toContain(message);
    expect(error!.message.length).toBeLessThan(400); // a huge cell is never copied whole into the message
  });

  test("mixed line endings (a CRLF header, LF rows, or any mix) are read as the lines they are", async () => {
    const ds = await parseCsv("a,b,label\r\n1,2,x\n3,4,y\r\n5,6,x\r7,8,y\n", "t.csv");
    expect([ds.length, Array.from(ds.x.toArray()), Array.from(ds.y.toArray())]).toEqual([4, [1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 0, 1]]);
    await expect(parseCsv("a,b,label\r\n1,2,x\n3,4\r\n", "t.csv")).rejects.toThrow("t.csv:3: 2 cells, but the header has 3 columns");
  });

  test("a file: read, split with a seed, features standardised by the training part; a missing file is an InputError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-csv-"));
    const path = join(dir, "d.csv");
    const rows = Array.from({ length: 50 }, (_, i) => `${i},${100 + 2 * i},${i % 2 ? "odd" : "even"}`);
    writeFileSync(path, "i,j,parity\n" + rows.join("\n") + "\n");
    expect((await loadCsv(path)).length).toBe(50);
    const { train, test, spec } = await loadDataset({ name: "csv", path });
    // the spec records the figures the features were scaled by (the training part's), for eval to scale other files by
    const { mean: m, deviation: d } = nn.featureStats(nn.trainTestSplit(await loadCsv(path), { testFraction: 0.2, seed: 0 }).train);
    // and the classes, in the order of the model's outputs, for eval to map another file's labels to
    expect(spec).toEqual({ name: "csv", path, label: "parity", classes: ["even", "odd"], sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rows: 50, seed: 0, testFraction: 0.2, normalize: true, featureStats: { features: ["i", "j"], mean: Array.from(m), deviation: Array.from(d) } });
    expect([train.length, test.length]).toEqual([40, 10]);
    const x = train.x.toArray();
    let mean = 0, sq = 0;
    for (let i = 0; i < 40; i++) mean += x[2 * i]! / 40;
    for (let i = 0; i < 40; i++) sq += (x[2 * i]! - mean) ** 2 / 40;
    expect(mean).toBeCloseTo(0, 5);
    expect(sq).toBeCloseTo(1, 5);
    await expect(loadCsv(join(dir, "nope.csv"))).rejects.toThrow(`${join(dir, "nope.csv")}: no such file`);
  });
});
