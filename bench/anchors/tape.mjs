// Copied from ../shared/peer-bench/w1_scalar/tape.mjs (the project's peer benchmarks: the workloads gradgraph is judged on), unchanged.
// Reference point for W1: a scalar engine WITHOUT per-node objects. Nodes are indices into
// preallocated typed arrays (a Wengert tape); creation order is already a topological order,
// so backward is one reverse loop with a switch. Same graph as micrograd (constants are nodes).
const ADD = 1, MUL = 2, RELU = 3, POW = 4, LEAF = 0;
export class Tape {
  constructor(cap = 1 << 17) {
    this.cap = cap; this.n = 0;
    this.op = new Uint8Array(cap); this.a = new Int32Array(cap); this.b = new Int32Array(cap);
    this.val = new Float64Array(cap); this.grad = new Float64Array(cap); this.k = new Float64Array(cap);
    this.nParams = 0;
  }
  push(op, a, b, v) {
    const i = this.n++;
    this.op[i] = op; this.a[i] = a; this.b[i] = b; this.val[i] = v; this.grad[i] = 0;
    return i;
  }
  leaf(v) { return this.push(LEAF, -1, -1, v); }
  // Params live at the bottom of the tape and survive reset().
  param(v) { const i = this.leaf(v); this.nParams = this.n; return i; }
  reset() { this.n = this.nParams; }
  add(x, y) { return this.push(ADD, x, y, this.val[x] + this.val[y]); }
  addc(x, c) { return this.add(x, this.leaf(c)); }
  mul(x, y) { return this.push(MUL, x, y, this.val[x] * this.val[y]); }
  mulc(x, c) { return this.mul(x, this.leaf(c)); }
  relu(x) { const v = this.val[x]; return this.push(RELU, x, -1, v < 0 ? 0 : v); }
  backward(root) {
    const { op, a, b, val, grad } = this;
    for (let i = 0; i < this.nParams; i++) grad[i] = 0;
    grad[root] = 1;
    for (let i = root; i >= 0; i--) {
      const g = grad[i];
      switch (op[i]) {
        case ADD: grad[a[i]] += g; grad[b[i]] += g; break;
        case MUL: grad[a[i]] += val[b[i]] * g; grad[b[i]] += val[a[i]] * g; break;
        case RELU: if (val[i] > 0) grad[a[i]] += g; break;
      }
    }
    return root + 1;
  }
}
