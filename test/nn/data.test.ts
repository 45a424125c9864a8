/** Datasets, loaders, splits, toy data, Iris, and the MNIST loader. */
import { describe, expect, test } from "vitest";
import { circles, DataLoader, Dataset, featureStats, iris, loadDataset, moons, randomShift, regression1d, spirals, standardized, standardizedBy, trainTestSplit, xor } from "../../packages/gradgraph/src/nn/index.js";
import { loadMnist } from "gradgraph/node";
import { arange, Generator, tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { InputError } from "../../packages/gradgraph/src/core/errors.js";

const range = (n: number) => new Dataset(arange(n).reshape(n, 1), arange(n), { name: "range", task: "regression" });

describe("DataLoader", () => {
  test("batches in order, the last one short unless dropLast", () => {
    const ds = range(10);
    const sizes = [...new DataLoader(ds, { batchSize: 4 })].map((b) => Array.from(b.y.toArray()));
    expect(sizes).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect([...dropped].length).toBe(2);
  });

  test("a seeded shuffle: every sample once per epoch, a new order each epoch, the same run every time", () => {
    const epochs = (seed: number) => {
      const loader = new DataLoader(range(20), { batchSize: 6, shuffle: true, seed });
      return [0, 1].map(() => [...loader].flatMap((b) => Array.from(b.y.toArray())));
    };
    const [e1, e2] = epochs(7);
    expect([...e1!].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(e1).not.toEqual(e2);
    expect(epochs(7)).toEqual([e1, e2]);
    expect(epochs(8)[0]).not.toEqual(e1);
  });

  test("a batch's inputs and targets are the same samples", () => {
    const ds = new Dataset(tensor([[0, 0], [1, 10], [2, 20]]), tensor([0, 1, 2]));
    const b = ds.batch([2, 0]);
    expect(b.x.toNested()).toEqual([[2, 20], [0, 0]]);
    expect(b.y.toNested()).toEqual([2, 0]);
    expect(() => ds.batch([3])).toThrow("Dataset: index 3 out of range for 3 samples");
  });
});

describe("trainTestSplit", () => {
  test("disjoint, complete, stratified by class, seeded", () => {
    const ds = iris();
    const { train, test } = trainTestSplit(ds, { testFraction: 0.2, seed: 3 });
    expect([train.length, test.length]).toEqual([120, 30]);
    const counts = (d: Dataset) => [0, 1, 2].map((c) => Array.from(d.y.toArray()).filter((v) => v === c).length);
    expect(counts(test)).toEqual([10, 10, 10]);
    const rows = (d: Dataset) => (d.x.toNested() as number[][]).map((r) => r.join());
    const all = new Set([...rows(train), ...rows(test)]);
    // (Iris has one duplicated row; the 150 samples are 149 distinct rows.)
    expect(all.size).toBe(new Set(rows(ds)).size);
    expect(rows(trainTestSplit(ds, { seed: 3 }).test)).toEqual(rows(test));
    expect(rows(trainTestSplit(ds, { seed: 4 }).test)).not.toEqual(rows(test));
  });

  test("testSize is exact, stratified too: each class's share rounded down, the rest to the largest remainders", () => {
    const counts = (d: Dataset, k: number) => Array.from({ length: k }, (_, c) => Array.from(d.y.toArray()).filter((v) => v === c).length);
    const two = trainTestSplit(moons(100, { seed: 0 }), { testSize: 7, seed: 0 }); // 3.5 + 3.5: was 4 + 4
    expect([two.train.length, two.test.length]).toEqual([93, 7]);
    expect(counts(two.test, 2)).toEqual([4, 3]); // a tie goes to the first class
    const three = trainTestSplit(iris(), { testSize: 10, seed: 0 }); // 3.33 each: 3 + 3 + 3, then one more
    expect(counts(three.test, 3)).toEqual([4, 3, 3]);
    for (const size of [0, 1, 149, 150]) expect(trainTestSplit(iris(), { testSize: size }).test.length).toBe(size);
    expect(() => trainTestSplit(iris(), { testSize: 2.5 })).toThrow("trainTestSplit: testSize must be a whole number of samples, got 2.5");
    // a fraction still rounds each class's share (the splits of saved runs stay as they were)
    expect(trainTestSplit(moons(100, { seed: 0 }), { testFraction: 0.07, seed: 0 }).test.length).toBe(8);
  });

  test("a stratified split of 400,000 samples (the CLI allows a million): no stack overflow", () => {
    const { train, test } = trainTestSplit(moons(400_000, { seed: 0 }), { testFraction: 0.2, seed: 0 });
    expect([train.length, test.length]).toEqual([320_000, 80_000]);
  });
});

describe("standardising", () => {
  test("standardizedBy scales new data by given figures, as standardized scales the test part by the training part's", () => {
    const train = new Dataset(tensor([[1, 10], [3, 10], [5, 10]]), tensor([0, 1, 0]));
    const test = new Dataset(tensor([[7, 12]]), tensor([1]));
    const stats = featureStats(train); // mean [3, 10], deviation [√(8/3), 0]
    expect(Array.from(standardizedBy(test, stats).x.toArray())).toEqual(Array.from(standardized(train, test).test.x.toArray()));
    expect(Array.from(standardizedBy(test, stats).x.toArray())).toEqual([Math.fround(4 / Math.sqrt(8 / 3)), 2]); // a constant column is only centred
    // recorded figures (plain arrays, as a saved model's config holds them) give the same
    expect(standardizedBy(test, { mean: [3, 10], deviation: Array.from(stats.deviation) }).x.toArray()).toEqual(standardizedBy(test, stats).x.toArray());
    expect(() => standardizedBy(test, { mean: [0], deviation: [1] })).toThrow("standardizedBy: the data has 2 features, but the figures are for 1 (mean) and 1 (deviation)");
  });
});

describe("toy datasets", () => {
  test("shapes, labels, balance and reproducibility", () => {
    for (const [ds, k] of [[moons(101), 2], [circles(100), 2], [spirals(90, { classes: 3 }), 3], [xor(40), 2]] as const) {
      expect(ds.x.shape).toEqual([ds.length, 2]);
      expect(ds.y.shape).toEqual([ds.length]);
      expect(ds.outputSize).toBe(k);
      const y = Array.from(ds.y.toArray());
      for (let c = 0; c < k; c++) expect(Math.abs(y.filter((v) => v === c).length - ds.length / k)).toBeLessThanOrEqual(1);
    }
    expect(moons(50, { seed: 1 }).x.toNested()).toEqual(moons(50, { seed: 1 }).x.toNested());
    expect(moons(50, { seed: 1 }).x.toNested()).not.toEqual(moons(50, { seed: 2 }).x.toNested());
  });

  test("a noise that is not a finite number ≥ 0, or that puts points beyond the dtype, is refused", () => {
    expect(() => moons(10, { noise: NaN })).toThrow("moons: noise must be a finite number ≥ 0, got NaN");
    expect(() => circles(10, { noise: -0.1 })).toThrow("circles: noise must be a finite number ≥ 0, got -0.1");
    expect(() => regression1d(10, { noise: Infinity })).toThrow("regression1d: noise must be a finite number ≥ 0, got Infinity");
    expect(() => xor(8, { noise: 1e300 })).toThrow("xor: noise 1e+300 puts points beyond float32's range");
    expect(moons(10, { noise: 1e300, dtype: "float64" }).length).toBe(10); // within float64
    expect(spirals(9, { noise: 1e300 }).length).toBe(9); // the noise is in the angle
  });

  test("moons without noise lie on the two half circles", () => {
    const ds = moons(20, { noise: 0, shuffle: false, dtype: "float64" });
    const x = ds.x.toNested() as number[][];
    const y = Array.from(ds.y.toArray());
    x.forEach(([a, b], i) => {
      const r = y[i] === 0 ? Math.hypot(a!, b!) : Math.hypot(a! - 1, b! - 0.5);
      expect(r).toBeCloseTo(1, 12);
    });
  });

  test("xor(4, no noise) is the truth table", () => {
    const ds = xor(4, { noise: 0 });
    expect(ds.x.toNested()).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    expect(ds.y.toNested()).toEqual([0, 1, 1, 0]);
  });

  test("1-D regression: y = sin(x) + noise", () => {
    const ds = regression1d(50, { noise: 0, dtype: "float64" });
    expect(ds.info.task).toBe("regression");
    const x = ds.x.toArray(), y = ds.y.toArray();
    for (let i = 0; i < 50; i++) expect(y[i]).toBeCloseTo(Math.sin(x[i]!), 14);
  });
});

describe("real datasets", () => {
  test("Iris: 150 rows, 4 features, 50 of each species, Fisher's values", () => {
    const ds = iris();
    expect(ds.x.shape).toEqual([150, 4]);
    expect(ds.info.classes).toEqual(["setosa", "versicolor", "virginica"]);
    expect([0, 1, 2].map((c) => Array.from(ds.y.toArray()).filter((v) => v === c).length)).toEqual([50, 50, 50]);
    const x = ds.x.toNested() as number[][];
    expect(x[0]).toEqual([5.099999904632568, 3.5, 1.399999976158142, 0.20000000298023224]); // float32 of 5.1, 3.5, 1.4, 0.2
    expect(iris({ dtype: "float64" }).x.toNested()).toContainEqual([4.9, 3.6, 1.4, 0.1]); // sample 38 as Fisher printed it
  });

  test("MNIST: the official 60,000 training and 10,000 test digits of the IDX files, grey levels in [0, 1]", async () => {
    const { train, test } = await loadMnist();
    expect(train.x.shape).toEqual([60000, 784]);
    expect(test.x.shape).toEqual([10000, 784]);
    expect(train.info.imageShape).toEqual([1, 28, 28]);
    const px = train.x.toArray();
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < px.length; i++) (lo = Math.min(lo, px[i]!)), (hi = Math.max(hi, px[i]!));
    expect([lo, hi]).toEqual([0, 1]);
    // The files' first labels (torchvision's MNIST gives the same): 5 0 4 1 9 2 1 3 1 4, and 7 2 1 0 4 1 4 9 5 9.
    expect(Array.from(train.y.toArray().subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.y.toArray().subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const counts = (y: ArrayLike<number>) => Array.from({ length: 10 }, (_, d) => Array.from(y).filter((v) => v === d).length);
    expect(counts(test.y.toArray())).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(counts(train.y.toArray())).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // The training set's mean grey level is MNIST's usual constant.
    let sum = 0;
    for (let i = 0; i < px.length; i++) sum += px[i]!;
    expect(sum / px.length).toBeCloseTo(0.1307, 4);
    const small = await loadMnist({ trainLimit: 30, testLimit: 20, normalize: true });
    expect(small.train.length).toBe(30);
    expect(small.test.length).toBe(20);
    expect(small.train.x.toArray()[0]).toBeCloseTo(-0.1307 / 0.3081, 6);
    expect(Array.from(small.train.y.toArray().subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  });

  test("loadDataset: named datasets with their split, and the spec to rebuild it", async () => {
    const a = await loadDataset({ name: "moons" });
    expect([a.train.length, a.test.length]).toEqual([400, 100]);
    expect(a.spec).toEqual({ name: "moons", n: 500, noise: 0.1, seed: 0, testFraction: 0.2 });
    const b = await loadDataset(a.spec);
    expect(b.test.x.toNested()).toEqual(a.test.x.toNested());
    await expect(loadDataset({ name: "cifar" as never })).rejects.toThrow("unknown dataset cifar");
  });
});

describe("augmentation", () => {
  test("randomShift moves each image by at most one pixel and fills with the background", () => {
    const img = new Float32Array(9).fill(-1);
    img[4] = 5; // the centre pixel of a 3×3 image
    const x = tensor([Array.from(img), Array.from(img), Array.from(img), Array.from(img)]);
    const out = randomShift(x, { height: 3, width: 3, maxShift: 1, generator: new Generator(0) }).toNested() as number[][];
    for (const row of out) {
      expect(row.filter((v) => v === 5).length).toBe(1);
      expect(row.filter((v) => v === -1).length).toBe(8);
    }
    expect(new Set(out.map((r) => r.indexOf(5))).size).toBeGreaterThan(1);
    expect(() => randomShift(tensor([[1, 2, 3]]), { height: 2, width: 2, generator: new Generator(0) })).toThrow("is not 1 images of 2×2");
  });
});

describe("what a dataset holds is checked", () => {
  test("batch and subset take whole indices in range (batch([0.5]) read a made-up row from across two samples)", () => {
    const ds = new Dataset(tensor([[1, 5], [2, 5], [3, 5]]), tensor([0, 1, 0]));
    expect(() => ds.batch([0.5])).toThrow(InputError);
    expect(() => ds.batch([0.5])).toThrow("Dataset: index 0.5 at position 0 is not an integer");
    expect(() => ds.subset([1, NaN])).toThrow("Dataset: index NaN at position 1 is not an integer");
    expect(() => ds.batch([3])).toThrow("Dataset: index 3 out of range for 3 samples");
    expect(() => ds.batch([-1])).toThrow("Dataset: index -1 out of range for 3 samples");
    expect(ds.batch(new Int32Array([2, 0])).x.toNested()).toEqual([[3, 5], [1, 5]]);
  });

  test("a classification dataset's labels are class indices: integers in [0, classes) (outputSize was 1.5 or NaN)", () => {
    const x = tensor([[1], [2], [3]]);
    const cases: [number[], string[] | undefined, string][] = [
      [[0, 0.5, 1], undefined, "Dataset: label 0.5 at sample 1 is not a class index: a classification dataset's labels are integers ≥ 0; for values give { task: \"regression\" }"],
      [[0, 1, NaN], undefined, "Dataset: label NaN at sample 2 is not a class index"],
      [[-1, 0, 1], undefined, "Dataset: label -1 at sample 0 is not a class index"],
      [[0, 2, 1], ["a", "b"], "Dataset: label 2 at sample 1 is not a class index: a classification dataset's labels are integers in [0, 2) (its 2 classes)"],
    ];
    for (const [y, classes, message] of cases) {
      const make = () => new Dataset(x, tensor(y), { task: "classification", ...(classes ? { classes } : {}) });
      expect(make, JSON.stringify(y)).toThrow(InputError);
      expect(make).toThrow(message);
    }
    // The default task is classification; values are a regression dataset's.
    expect(() => new Dataset(x, tensor([0.5, 1, 2]))).toThrow("label 0.5 at sample 0");
    expect(new Dataset(x, tensor([0.5, 1, 2]), { task: "regression" }).outputSize).toBe(1);
    expect(new Dataset(x, tensor([0, 2, 1])).outputSize).toBe(3);
    expect(new Dataset(x, tensor([0, 1, 1]), { classes: ["a", "b", "c"] }).outputSize).toBe(3);
    // A 2-D y: the sample and the element are named.
    expect(() => new Dataset(tensor([[1], [2]]), tensor([[0, 1], [1, 0.5]]))).toThrow("label 0.5 at sample 1 (element 3 of y)");
  });

  test("the task is one of the two (an unknown one became undefined)", () => {
    expect(() => new Dataset(tensor([[1]]), tensor([0]), { task: "classify" as never })).toThrow('Dataset: task must be "classification" or "regression", got "classify"');
    expect(new Dataset(tensor([[1]]), tensor([0]), { task: undefined }).info.task).toBe("classification");
  });
});
