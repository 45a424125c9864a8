// A classifier for a CSV file: read the rows, build a Dataset from your own arrays, train an MLP, evaluate it.
//
//   node examples/csv-classifier.mjs [file.csv]     (default: examples/data/fruit.csv; the last column is the label)
import { readFileSync } from "node:fs";
import { nn, tensor } from "gradgraph";

const file = process.argv[2] ?? new URL("data/fruit.csv", import.meta.url);
const [head, ...lines] = readFileSync(file, "utf8").trim().split(/\r?\n/);
const columns = head.split(",");
const features = columns.slice(0, -1);

// Parse: every column but the last is a number; the last one is the class name.
const rows = lines.map((line) => line.split(","));
const classes = [...new Set(rows.map((r) => r.at(-1)))].sort();
const x = rows.map((r) => r.slice(0, -1).map(Number));
const y = rows.map((r) => classes.indexOf(r.at(-1)));

// Standardize each feature (mean 0, standard deviation 1): the network trains much faster on such inputs.
const mean = features.map((_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
const std = features.map((_, j) => Math.sqrt(x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / x.length));
const scaled = x.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));

// A Dataset is two tensors, x [n, features] and y [n] (class indices), and what they mean.
const data = new nn.Dataset(tensor(scaled), tensor(y), { name: "fruit", task: "classification", classes, features });
const { train, test } = nn.trainTestSplit(data, { testFraction: 0.25, seed: 1 });

const model = new nn.MLP([features.length, 16, classes.length], "relu", { seed: 0 });
const optimizer = new nn.Adam(model.parameters(), { lr: 0.02 });
const history = await nn.fit(model, train, { loss: "cross_entropy", optimizer, epochs: 60, batchSize: 16, metrics: ["accuracy"] });

const first = history.epochs[0], last = history.epochs.at(-1);
console.log(`${rows.length} rows, features ${features.join(", ")}; classes ${classes.join(", ")}`);
console.log(`train loss ${first.train.loss.toFixed(3)} -> ${last.train.loss.toFixed(3)} in ${history.epochs.length} epochs`);
const { loss, accuracy } = nn.evaluate(model, test, { loss: "cross_entropy", metrics: ["accuracy"] });
console.log(`test loss ${loss.toFixed(3)}, test accuracy ${accuracy.toFixed(3)} (${test.length} rows)`);

// Predict a new fruit: scale it the same way, take the most likely class.
const fruit = [160, 7.6, 24];
const probs = model.forward(tensor([fruit.map((v, j) => (v - mean[j]) / std[j])])).softmax(-1);
const best = probs.argmax(-1).item();
console.log(`${features.map((f, j) => `${f} ${fruit[j]}`).join(", ")}: ${classes[best]} (p = ${probs.max().item().toFixed(2)})`);
