// A custom module with attention: declare parameters and sub-modules, train it a few steps, save it, load it back.
//
//   node examples/attention-module.mjs [folder]     (default: a new temporary folder)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nn, randn, rand, Generator } from "gradgraph";
import { saveModule, loadModuleState } from "gradgraph/node";

const SEQ = 6, EMBED = 16, HEADS = 2;

/** Reads a sequence of numbers and predicts their maximum: embedding, self-attention, a learned pooling query. */
class MaxFinder extends nn.Module {
  constructor(seed) {
    super();
    const generator = new Generator(seed);
    // Sub-modules in fields are found by parameters(), stateDict() and saveModule, under the field's name.
    this.embed = new nn.Linear(1, EMBED, { generator });
    this.attention = new nn.MultiheadAttention(EMBED, HEADS, { batchFirst: true, generator });
    this.head = new nn.Linear(EMBED, 1, { generator });
    // Two ways to declare a parameter: a field holding an nn.Parameter, or registerParameter(name, tensor).
    this.position = new nn.Parameter(randn([SEQ, EMBED], { generator }).mul(0.1));
    this.registerParameter("query", randn([1, 1, EMBED], { generator }).mul(0.1));
  }

  forward(x) {
    // x [batch, SEQ] -> tokens [batch, SEQ, EMBED]
    const tokens = this.embed.forward(x.unsqueeze(-1)).add(this.position);
    const mixed = this.attention.forward(tokens, tokens, tokens);
    // One query per batch element attends over the mixed tokens: [batch, 1, EMBED].
    const query = this.query.broadcastTo([x.shape[0], 1, EMBED]);
    const pooled = this.attention.forward(query, mixed, mixed);
    return this.head.forward(pooled.reshape([x.shape[0], EMBED])).reshape([x.shape[0]]);
  }
}

const model = new MaxFinder(0);
const optimizer = new nn.Adam(model.parameters(), { lr: 0.01 });
const data = new Generator(1);
console.log(`parameters: ${[...model.namedParameters()].map(([name, p]) => `${name} [${p.shape}]`).join(", ")}`);

const losses = [];
for (let step = 0; step < 150; step++) {
  const x = rand([32, SEQ], { generator: data });
  const loss = nn.mseLoss(model.forward(x), x.amax(-1));
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  losses.push(loss.item());
}
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(`loss: first 10 steps ${mean(losses.slice(0, 10)).toFixed(4)}, last 10 steps ${mean(losses.slice(-10)).toFixed(4)}`);

// Save: model.safetensors (PyTorch's state_dict names) and config.json naming the class.
const dir = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), "gradgraph-example-")), "max-finder");
await saveModule(dir, model, { model: { seq: SEQ, embed: EMBED, heads: HEADS } });

// Load into a fresh instance (other random weights), then compare outputs on new data.
const again = new MaxFinder(99);
await loadModuleState(dir, again);
const x = rand([4, SEQ], { generator: new Generator(2) });
const before = model.forward(x).toArray(), after = again.forward(x).toArray();
const same = before.every((v, i) => Object.is(v, after[i]));
console.log(`saved to ${dir}; reloaded outputs ${same ? "identical" : "DIFFERENT"}`);
console.log(`max of ${x.toNested()[0].map((v) => v.toFixed(2)).join(" ")}: ${x.amax(-1).toArray()[0].toFixed(3)}, predicted ${after[0].toFixed(3)}`);
