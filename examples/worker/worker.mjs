// Runs in a Web Worker: trains a small MLP without blocking the page, posting the loss after every epoch.
import { nn } from "gradgraph";

self.onmessage = async ({ data: { epochs } }) => {
  const data = nn.moons(200, { seed: 0 });
  const model = new nn.MLP([2, 16, 16, 2], "tanh", { seed: 0 });
  const optimizer = new nn.Adam(model.parameters(), { lr: 0.02 });
  const history = await nn.fit(model, data, {
    loss: "cross_entropy",
    optimizer,
    epochs,
    metrics: ["accuracy"],
    onEpoch: (r) => self.postMessage({ epoch: r.epoch, loss: r.train.loss }),
  });
  const losses = history.epochs.map((r) => r.train.loss);
  self.postMessage({ done: true, first: losses[0], last: losses.at(-1), accuracy: history.epochs.at(-1).train.accuracy });
};
