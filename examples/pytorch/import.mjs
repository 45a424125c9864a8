// Step 3 of 3: load the weights PyTorch trained back into a gradgraph MLP and check both compute the same.
//
//   node examples/pytorch/import.mjs DIR          (after export.mjs and roundtrip.py)
import { readFileSync } from "node:fs";
import { nn, tensor } from "gradgraph";
import { loadSafetensors } from "gradgraph/node";

const dir = process.argv[2] ?? "runs/pytorch";
const file = `${dir}/torch.safetensors`;
const { tensors, metadata } = await loadSafetensors(file);
const model = new nn.MLP([2, 16, 2], "tanh");
model.loadStateDict(tensors); // strict: the names and shapes must be the model's

// The weights are PyTorch's to the bit: re-encoded, gradgraph's data section equals the file's.
const bytes = readFileSync(file);
const dataOf = (b) => b.subarray(8 + Number(Buffer.from(b).readBigUInt64LE(0)));
const ours = nn.encodeSafetensors([...tensors.keys()].map((k) => [k, model.stateDict().get(k)]));
console.log(`weights read back exactly: ${Buffer.compare(dataOf(ours), dataOf(bytes)) === 0}`);

const x = tensor(JSON.parse(metadata.x));
const theirs = JSON.parse(metadata.outputs).flat();
const mine = nn.predict(model, x).toArray();
console.log(`gradgraph's outputs vs PyTorch's: max |difference| ${Math.max(...theirs.map((v, i) => Math.abs(v - mine[i]))).toExponential(2)}`);
