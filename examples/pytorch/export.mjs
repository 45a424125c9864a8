// Step 1 of 3 of moving weights to PyTorch and back: train a small MLP with gradgraph and save its state dict.
// The names ("0.weight", "0.bias", "2.weight", …) are those of torch.nn.Sequential(Linear, Tanh, Linear).
//
//   node examples/pytorch/export.mjs DIR         then   python3 examples/pytorch/roundtrip.py DIR
//                                                 then   node examples/pytorch/import.mjs DIR
import { nn } from "gradgraph";
import { saveSafetensors } from "gradgraph/node";

const dir = process.argv[2] ?? "runs/pytorch";
const data = nn.moons(200, { seed: 3 });
const model = new nn.MLP([2, 16, 2], "tanh", { seed: 0 });
const history = await nn.fit(model, data, { loss: "cross_entropy", optimizer: new nn.Adam(model.parameters(), { lr: 0.03 }), epochs: 20 });

// Some inputs and gradgraph's outputs for them, so that PyTorch can check it computes the same.
const sample = data.batch([0, 1, 2, 3, 100, 101, 102, 103]);
const metadata = {
  x: JSON.stringify(sample.x.toNested()),
  labels: JSON.stringify(sample.y.toNested()),
  outputs: JSON.stringify(nn.predict(model, sample.x).toNested()),
};
await saveSafetensors(`${dir}/gradgraph.safetensors`, model.stateDict(), metadata);
console.log(`trained: loss ${history.epochs.at(-1).train.loss.toFixed(4)}; wrote ${dir}/gradgraph.safetensors: ${[...model.stateDict().keys()].join(", ")}`);
