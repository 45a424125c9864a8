// W1 profile tool (not a judge): what one object per graph node costs by itself. The forward of the judge's W1
// step (65,138 nodes up to the data loss) recorded on the typed-array tape's arrays, three ways:
//   ints     the tape's own form: an op takes and returns entry indices (no object);
//   handle   an op returns a new 1-field object holding the entry's index;
//   inputs   an op returns a new 3-field object holding the index and its input objects (what `Value` must hold:
//            `inputs`, the renderers and the lecture's graph walks need the inputs, with identity).
// Each in a process of its own, twice, interleaved; prints each one's minimum forward time over 580 steps.
// Run: node bench/gradgraph/w1-objects.mjs   (one form: node bench/gradgraph/w1-objects.mjs inputs)
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { lcg, SEEDS, moons, w1Params } from "../lib/common.mjs";

const FORMS = ["ints", "handle", "inputs"];
const form = process.argv[2];
if (form === undefined) {
  const me = fileURLToPath(import.meta.url), best = {};
  for (let round = 0; round < 2; round++)
    for (const f of FORMS) best[f] = Math.min(best[f] ?? Infinity, Number(execFileSync(process.execPath, [me, f], { encoding: "utf8" })));
  for (const f of FORMS) console.log(`${f.padEnd(7)} forward ${best[f].toFixed(3)} ms  (${(best[f] / best.ints).toFixed(2)}x ints)`);
  process.exit(0);
}
if (!FORMS.includes(form)) throw new Error(`w1-objects: form must be one of ${FORMS.join(", ")}, got ${form}`);

const cap = 1 << 17;
const op = new Uint8Array(cap), ia = new Int32Array(cap), ib = new Int32Array(cap), val = new Float64Array(cap), grad = new Float64Array(cap);
let n = 0;
function push(o, a, b, v) { const i = n++; op[i] = o; ia[i] = a; ib[i] = b; val[i] = v; grad[i] = 0; return i; }
class Handle { constructor(i) { this.i = i; } }
class Node { constructor(i, a, b) { this.i = i; this.a = a; this.b = b; } }
const engines = {
  ints: { leaf: (v) => push(0, -1, -1, v), add: (x, y) => push(1, x, y, val[x] + val[y]), mul: (x, y) => push(2, x, y, val[x] * val[y]), relu: (x) => push(3, x, -1, Math.max(val[x], 0)) },
  handle: {
    leaf: (v) => new Handle(push(0, -1, -1, v)),
    add: (x, y) => new Handle(push(1, x.i, y.i, val[x.i] + val[y.i])),
    mul: (x, y) => new Handle(push(2, x.i, y.i, val[x.i] * val[y.i])),
    relu: (x) => new Handle(push(3, x.i, -1, Math.max(val[x.i], 0))),
  },
  inputs: {
    leaf: (v) => new Node(push(0, -1, -1, v), null, null),
    add: (x, y) => new Node(push(1, x.i, y.i, val[x.i] + val[y.i]), x, y),
    mul: (x, y) => new Node(push(2, x.i, y.i, val[x.i] * val[y.i]), x, y),
    relu: (x) => new Node(push(3, x.i, -1, Math.max(val[x.i], 0)), x, null),
  },
};
const T = engines[form];
const rnd = lcg(SEEDS.w1);
const { X, y } = moons(100, rnd);
const layers = w1Params(rnd).map((neurons, l, all) => neurons.map((u) => ({ w: u.w.map((v) => T.leaf(v)), b: T.leaf(u.b), nonlin: l !== all.length - 1 })));
const kept = n; // the parameters stay; each step records after them
function forward(x) {
  for (const layer of layers) x = layer.map((u) => {
    let act = u.b;
    for (let i = 0; i < u.w.length; i++) act = T.add(act, T.mul(u.w[i], x[i]));
    return u.nonlin ? T.relu(act) : act;
  });
  return x[0];
}
let best = Infinity;
for (let step = 0; step < 600; step++) {
  const t0 = performance.now();
  n = kept;
  const losses = X.map((row, i) => T.relu(T.add(T.mul(forward(row.map((v) => T.leaf(v))), T.leaf(-y[i])), T.leaf(1))));
  let data = T.leaf(0);
  for (const l of losses) data = T.add(data, l);
  if (step >= 20) best = Math.min(best, performance.now() - t0);
}
console.log(best.toFixed(4));
