// W1 profile tool (not a judge): the "one object per node" floor as a module exporting `Value` (add, mul, relu,
// backward, data, grad, Value.constant), for `w1-phases.mjs`. A node is a 4-field object (tape, index, inputs) over
// typed arrays reset every step: no requires-grad flags, no use counts, no imports, no stale checks. The arrays are
// `const`s of a closure made once, which V8 compiles as constants; FIELDS=1 reads them from the tape's fields,
// written twice (as a real tape's change when it grows or passes its storage on), which shows what that costs
// (BENCHMARKS.md, "W1").
const fields = process.env.FIELDS === "1";
// The same code either way; only how an array is reached differs (`OP` or `t.op`).
const at = (name) => (fields ? `t.${name.toLowerCase()}` : name);
const [OP, A, B, VAL, GRAD] = ["OP", "A", "B", "VAL", "GRAD"].map(at);
const source = `
  const t = { n: 0, np: 0, op: new Uint8Array(cap), a: new Int32Array(cap), b: new Int32Array(cap), val: new Float64Array(cap), grad: new Float64Array(cap) };
  ${fields ? 'for (const k of ["op", "a", "b", "val", "grad"]) t[k] = new t[k].constructor(cap);' : ""}
  const OP = t.op, A = t.a, B = t.b, VAL = t.val, GRAD = t.grad;
  function leaf(x) { const n = t.n++; ${OP}[n] = 0; ${VAL}[n] = x; ${GRAD}[n] = 0; return n; }
  class Value {
    constructor(x, i, a, b) {
      if (typeof x === "number") { i = leaf(x); x = t; a = b = null; t.np = t.n; } // a parameter: below the reset point
      this.t = x; this.i = i; this.a = a; this.b = b;
    }
    get data() { return ${VAL}[this.i]; }
    set data(v) { ${VAL}[this.i] = v; }
    get grad() { return ${GRAD}[this.i]; }
    set grad(g) { ${GRAD}[this.i] = g; }
    static constant(x) { return new Value(t, leaf(x), null, null); }
    add(o) { if (!(o instanceof Value)) o = Value.constant(o); const n = t.n++; ${OP}[n] = 1; ${A}[n] = this.i; ${B}[n] = o.i; ${VAL}[n] = ${VAL}[this.i] + ${VAL}[o.i]; ${GRAD}[n] = 0; return new Value(t, n, this, o); }
    mul(o) { if (!(o instanceof Value)) o = Value.constant(o); const n = t.n++; ${OP}[n] = 2; ${A}[n] = this.i; ${B}[n] = o.i; ${VAL}[n] = ${VAL}[this.i] * ${VAL}[o.i]; ${GRAD}[n] = 0; return new Value(t, n, this, o); }
    relu() { const n = t.n++, x = ${VAL}[this.i]; ${OP}[n] = 3; ${A}[n] = this.i; ${VAL}[n] = x < 0 ? 0 : x; ${GRAD}[n] = 0; return new Value(t, n, this, null); }
    backward() {
      const op = ${OP}, a = ${A}, b = ${B}, val = ${VAL}, grad = ${GRAD};
      grad[this.i] = 1;
      for (let i = this.i; i >= t.np; i--) {
        const g = grad[i];
        switch (op[i]) {
          case 1: grad[a[i]] += g; grad[b[i]] += g; break;
          case 2: grad[a[i]] += val[b[i]] * g; grad[b[i]] += val[a[i]] * g; break;
          case 3: if (val[i] > 0) grad[a[i]] += g; break;
        }
      }
      t.n = t.np; // the next step overwrites this one
    }
  }
  return Value;`;
export const Value = new Function("cap", source)(1 << 18);
