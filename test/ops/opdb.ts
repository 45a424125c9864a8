/**
 * The op database (PyTorch OpInfo style): one entry per primitive of the op table — the type makes tsc reject
 * a missing one, and a coverage test checks it at run time — with sample inputs (broadcasting shape pairs
 * included), a domain where the op is smooth (away from kinks and ties), and tolerances. Composites have
 * entries too. Tests drive float64 gradcheck in reverse and forward mode from it.
 */
import type { OpName } from "../../packages/gradgraph/src/ops/index.js";
import { ops, tensorOps } from "../../packages/gradgraph/src/ops/index.js";
import { Generator, NDArray, Tensor, concat, einsum, stack, where } from "../../packages/gradgraph/src/tensor/index.js";
import { adaptiveAvgPool2d, avgPool2d, conv1d, conv2d, maxPool2d } from "../../packages/gradgraph/src/nn/conv-functional.js";

/** One way to call an op: float64 inputs and the function of them to check. */
export interface Sample {
  name: string;
  inputs: Tensor[];
  f: (...xs: Tensor[]) => Tensor;
}

export interface OpInfo {
  samples: () => Sample[];
  /**
   * Samples at the op's ties and kinks (max/min at a = b, amax over tied elements, relu and abs at 0), where
   * central differences cannot check it: there reverse and forward mode must still give the same Jacobian
   * (the vjp and the jvp make the same choice, e.g. split evenly at a tie). Required for ops with a tie rule.
   */
  ties?: () => Sample[];
  /** Central-difference step, tolerances (gradcheck defaults when absent). */
  eps?: number;
  atol?: number;
  rtol?: number;
}

/** The broadcasting shape pairs every binary elementwise op is checked on. */
export const BROADCAST_PAIRS: readonly (readonly [number[], number[]])[] = [
  [[1], []],
  [[2], []],
  [[1], [2]],
  [[2, 1], [2]],
  [[1, 2], [2]],
  [[3, 2], [2]],
  [[1, 3, 2], [2]],
  [[1, 3, 2], [3, 2]],
  [[3, 1, 2], [3, 2]],
  [[2, 3, 2], []],
  [[3, 1, 2], [1, 3, 2]],
];

/** A domain: draws one value. */
type Domain = (g: Generator) => number;

const uniform = (lo: number, hi: number): Domain => (g) => lo + (hi - lo) * g.uniform();
/** |x| in [lo, hi] with a random sign: away from the kink at 0. */
const awayFromZero = (lo: number, hi: number): Domain => (g) => (g.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * g.uniform());
/** Values on the grid 0.1·k + offset in [-1, 1]: two grids with different offsets never tie (gap ≥ 0.05). */
const grid = (offset: number): Domain => (g) => 0.1 * Math.floor(g.uniform() * 20 - 10) + offset;

let seed = 1;
/** A float64 tensor of `shape` drawn from `domain` (each call a fresh seed, so samples differ). */
function make(shape: readonly number[], domain: Domain): Tensor {
  const g = new Generator(seed++);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = domain(g);
  return new Tensor(new NDArray(data, shape));
}

/** Distinct values (a shuffled grid): no ties for max/min reductions. */
function distinct(shape: readonly number[]): Tensor {
  const g = new Generator(seed++);
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.37);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return new Tensor(new NDArray(Float64Array.from(vals), shape));
}

const fmt = (s: readonly number[]) => `(${s.join(",")})`;

function binary(name: OpName, da: Domain, db: Domain = da): OpInfo {
  return {
    samples: () =>
      BROADCAST_PAIRS.flatMap(([sa, sb]) => [
        { name: `${fmt(sa)}/${fmt(sb)}`, inputs: [make(sa, da), make(sb, db)], f: (a: Tensor, b: Tensor) => Tensor.apply(opOf(name), [a, b]) },
        { name: `${fmt(sb)}/${fmt(sa)}`, inputs: [make(sb, da), make(sa, db)], f: (a: Tensor, b: Tensor) => Tensor.apply(opOf(name), [a, b]) },
      ]).concat([
        {
          name: "non-contiguous (transposed) operands",
          inputs: [make([3, 2], da), make([2, 3], db)],
          f: (a, b) => Tensor.apply(opOf(name), [a!.T, b!]),
        },
      ]),
  };
}

function unary(name: OpName, d: Domain): OpInfo {
  return {
    samples: () => [
      ...[[], [1], [4], [2, 3], [2, 1, 3]].map((s) => ({ name: fmt(s), inputs: [make(s, d)], f: (x: Tensor) => Tensor.apply(opOf(name), [x]) })),
      { name: "transposed view", inputs: [make([3, 2], d)], f: (x: Tensor) => Tensor.apply(opOf(name), [x.T]) },
    ],
  };
}

const opOf = (name: OpName) => ops[name];

const R = uniform(-2, 2);

function reduction(name: "sum" | "amax" | "amin"): OpInfo {
  const cases: [number[], number[]][] = [
    [[5], [0]],
    [[3, 4], [0]],
    [[3, 4], [1]],
    [[3, 4], [0, 1]],
    [[3, 4], []],
    [[2, 3, 4], [1]],
    [[2, 3, 4], [0, 2]],
    [[], []],
  ];
  const src = (s: number[]) => (name === "sum" ? make(s, R) : distinct(s));
  return {
    samples: () => [
      ...cases.flatMap(([s, axes]) =>
        [false, true].map((keepdims) => ({
          name: `${fmt(s)} axes [${axes}] keepdims=${keepdims}`,
          inputs: [src(s)],
          f: (x: Tensor) => Tensor.apply(tensorOps[name], [x], { axes, keepdims }),
        })),
      ),
      { name: "transposed view, axis 0", inputs: [src([4, 3])], f: (x) => Tensor.apply(tensorOps[name], [x.T], { axes: [0], keepdims: false }) },
    ],
  };
}

const idx = (data: number[][] | number[], shape: number[]) => ({ data: Int32Array.from(data.flat()), shape });

/** A float64 tensor of exactly these values. */
const exact = (v: number[] | number[][]) => new Tensor(new NDArray(Float64Array.from(v.flat()), Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length]));

/** Elementwise max/min where the operands tie, same shape, broadcast and transposed. */
function binaryTies(name: "max" | "min"): () => Sample[] {
  const f = (a: Tensor, b: Tensor) => Tensor.apply(opOf(name), [a, b]);
  return () => [
    { name: "ties elementwise", inputs: [exact([2, 1, 3, -1, 0]), exact([2, 2, 2, -1, 0])], f },
    { name: "ties against a broadcast operand", inputs: [exact([[2, 1], [3, 2]]), exact([2])], f },
    { name: "ties, the broadcast operand first", inputs: [exact([2]), exact([[2, 1], [3, 2]])], f },
    { name: "ties, transposed", inputs: [exact([[1, 2], [2, 0], [5, 5]]), exact([[1, 2, 5], [0, 0, 5]])], f: (a, b) => f(a!.T, b!) },
  ];
}

/** amax/amin over tied elements: two- and three-way ties, along an axis and over everything. */
function reductionTies(name: "amax" | "amin"): () => Sample[] {
  // Ties for both: max along each axis (rows 0 and 2, column 1), min along each axis (row 3, column 2).
  const x = () => exact([[1, 4, 4], [2, 2, 1], [4, 4, 1], [1, 3, 1]]);
  const red = (axes: number[], keepdims: boolean) => (v: Tensor) => Tensor.apply(tensorOps[name], [v], { axes, keepdims });
  return () => [
    { name: "ties along axis 1", inputs: [x()], f: red([1], false) },
    { name: "ties along axis 0, keepdims", inputs: [x()], f: red([0], true) },
    { name: "ties over everything", inputs: [x()], f: red([0, 1], false) },
    { name: "all equal", inputs: [exact([3, 3, 3, 3])], f: red([0], false) },
  ];
}

/** A unary op at its kink 0 (and beside it). */
const kink = (name: OpName) => () => [{ name: "at 0", inputs: [exact([0, -1, 1, 0])], f: (x: Tensor) => Tensor.apply(opOf(name), [x]) }];

/** The database: one entry per primitive of the table. */
export const opdb: { readonly [K in OpName]: OpInfo } = {
  add: binary("add", R),
  sub: binary("sub", R),
  mul: binary("mul", R),
  div: binary("div", R, awayFromZero(0.5, 2)),
  neg: unary("neg", R),
  pow: binary("pow", uniform(0.5, 2), uniform(-2, 2)),
  exp: unary("exp", R),
  log: unary("log", uniform(0.5, 2)),
  sqrt: unary("sqrt", uniform(0.5, 2)),
  abs: { ...unary("abs", awayFromZero(0.1, 2)), ties: kink("abs") },
  relu: { ...unary("relu", awayFromZero(0.1, 2)), ties: kink("relu") },
  sigmoid: unary("sigmoid", R),
  tanh: unary("tanh", R),
  sin: unary("sin", R),
  cos: unary("cos", R),
  max: { ...binary("max", grid(0.05), grid(0)), ties: binaryTies("max") },
  min: { ...binary("min", grid(0.05), grid(0)), ties: binaryTies("min") },
  gt: binary("gt", grid(0.05), grid(0)),
  eq: binary("eq", grid(0.05), grid(0)),
  sign: unary("sign", awayFromZero(0.1, 2)),
  lt: binary("lt", grid(0.05), grid(0)),
  le: binary("le", grid(0.05), grid(0)),
  ge: binary("ge", grid(0.05), grid(0)),
  ne: binary("ne", grid(0.05), grid(0)),
  log1p: unary("log1p", uniform(-0.5, 2)),
  expm1: unary("expm1", R),
  square: unary("square", R),

  sum: reduction("sum"),
  amax: { ...reduction("amax"), ties: reductionTies("amax") },
  amin: { ...reduction("amin"), ties: reductionTies("amin") },
  reshape: {
    samples: () =>
      ([
        [[2, 3], [3, 2]],
        [[6], [1, 2, 3]],
        [[], [1, 1]],
        [[2, 3, 1], [6]],
      ] as [number[], number[]][]).map(([from, to]) => ({
        name: `${fmt(from)} -> ${fmt(to)}`,
        inputs: [make(from, R)],
        f: (x: Tensor) => Tensor.apply(tensorOps.reshape, [x], { shape: to }),
      })).concat([{ name: "of a transposed view (copies)", inputs: [make([2, 3], R)], f: (x) => Tensor.apply(tensorOps.reshape, [x.T], { shape: [6] }) }]),
  },
  permute: {
    samples: () => [
      { name: "(2,3) [1,0]", inputs: [make([2, 3], R)], f: (x) => Tensor.apply(tensorOps.permute, [x], { perm: [1, 0] }) },
      { name: "(2,3,4) [2,0,1]", inputs: [make([2, 3, 4], R)], f: (x) => Tensor.apply(tensorOps.permute, [x], { perm: [2, 0, 1] }) },
    ],
  },
  broadcastTo: {
    samples: () =>
      ([
        [[3], [2, 3]],
        [[2, 1], [2, 3]],
        [[], [2, 2]],
        [[1, 3], [2, 2, 3]],
        [[3, 1, 2], [3, 3, 2]],
      ] as [number[], number[]][]).map(([from, to]) => ({
        name: `${fmt(from)} -> ${fmt(to)}`,
        inputs: [make(from, R)],
        f: (x) => Tensor.apply(tensorOps.broadcastTo, [x], { shape: to }),
      })),
  },
  slice: {
    samples: () => [
      { name: "(4,5) [1:3, 0:5:2]", inputs: [make([4, 5], R)], f: (x) => Tensor.apply(tensorOps.slice, [x], { starts: [1, 0], ends: [3, 5], steps: [1, 2] }) },
      { name: "(6) [1:6:3]", inputs: [make([6], R)], f: (x) => Tensor.apply(tensorOps.slice, [x], { starts: [1], ends: [6], steps: [3] }) },
      { name: "empty slice", inputs: [make([3], R)], f: (x) => Tensor.apply(tensorOps.slice, [x], { starts: [1], ends: [1], steps: [1] }) },
    ],
  },
  pad: {
    samples: () => [
      { name: "(2,3) into (4,6) at [1,2]", inputs: [make([2, 3], R)], f: (x) => Tensor.apply(tensorOps.pad, [x], { shape: [4, 6], starts: [1, 2], steps: [1, 1] }) },
      { name: "(3) into (7) at 1 step 2", inputs: [make([3], R)], f: (x) => Tensor.apply(tensorOps.pad, [x], { shape: [7], starts: [1], steps: [2] }) },
    ],
  },
  concat: {
    samples: () => [
      { name: "axis 0, three inputs", inputs: [make([1, 3], R), make([2, 3], R), make([1, 3], R)], f: (...xs) => Tensor.apply(tensorOps.concat, xs, { axis: 0 }) },
      { name: "axis 1", inputs: [make([2, 2], R), make([2, 3], R)], f: (a, b) => Tensor.apply(tensorOps.concat, [a!, b!], { axis: 1 }) },
      { name: "one input twice", inputs: [make([2], R)], f: (a) => Tensor.apply(tensorOps.concat, [a!, a!], { axis: 0 }) },
    ],
  },
  gather: {
    samples: () => [
      { name: "axis 1, repeated indices", inputs: [make([3, 4], R)], f: (x) => Tensor.apply(tensorOps.gather, [x], { axis: 1, index: idx([[0, 3], [1, 1], [2, 0]], [3, 2]) }) },
      { name: "axis 0", inputs: [make([3, 2], R)], f: (x) => Tensor.apply(tensorOps.gather, [x], { axis: 0, index: idx([[2, 0], [2, 2]], [2, 2]) }) },
      { name: "1-D", inputs: [make([4], R)], f: (x) => Tensor.apply(tensorOps.gather, [x], { axis: 0, index: idx([3, 3, 0], [3]) }) },
    ],
  },
  scatterAdd: {
    samples: () => [
      { name: "axis 1 into (3,4)", inputs: [make([3, 2], R)], f: (x) => Tensor.apply(tensorOps.scatterAdd, [x], { axis: 1, index: idx([[0, 3], [1, 1], [2, 0]], [3, 2]), shape: [3, 4] }) },
      { name: "1-D into (5)", inputs: [make([3], R)], f: (x) => Tensor.apply(tensorOps.scatterAdd, [x], { axis: 0, index: idx([4, 0, 4], [3]), shape: [5] }) },
    ],
  },
  matmul: {
    samples: () =>
      ([
        [[2, 3], [3, 4]],
        [[3], [3, 2]],
        [[2, 3], [3]],
        [[3], [3]],
        [[2, 2, 3], [3, 4]],
        [[2, 3], [2, 3, 2]],
        [[2, 1, 2, 3], [3, 3, 2]],
        [[3], [2, 3, 2]],
        [[2, 2, 3], [3]],
        [[1, 1], [1, 1]],
      ] as [number[], number[]][]).map(([a, b]) => ({
        name: `${fmt(a)} @ ${fmt(b)}`,
        inputs: [make(a, R), make(b, R)],
        f: (x: Tensor, y: Tensor) => Tensor.apply(tensorOps.matmul, [x, y]),
      })).concat([{ name: "transposed operands", inputs: [make([3, 2], R), make([4, 3], R)], f: (x, y) => Tensor.apply(tensorOps.matmul, [x!.T, y!.T]) }]),
  },
  where: {
    samples: () =>
      BROADCAST_PAIRS.map(([sa, sb]) => {
        const cond = make(sa.length >= sb.length ? sa : sb, (g) => (g.uniform() < 0.5 ? 0 : 1));
        return { name: `${fmt(sa)}/${fmt(sb)}`, inputs: [make(sa, R), make(sb, R)], f: (a: Tensor, b: Tensor) => Tensor.apply(tensorOps.where, [cond, a, b]) };
      }),
  },
  im2col: {
    samples: () => [
      { name: "(2,2,4,5) k3 pad 1", inputs: [make([2, 2, 4, 5], R)], f: (x) => x.im2col({ kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], padValue: 0 }) },
      { name: "(1,2,6,7) k(2,3) stride (2,3) dilation (2,1)", inputs: [make([1, 2, 6, 7], R)], f: (x) => x.im2col({ kernel: [2, 3], stride: [2, 3], padding: [0, 1], dilation: [2, 1], padValue: 0 }) },
      { name: "padValue 0.5, a permuted input", inputs: [make([3, 1, 4, 2], R)], f: (x) => x.permute(1, 0, 2, 3).im2col({ kernel: [2, 2], stride: [1, 1], padding: [1, 1], dilation: [1, 1], padValue: 0.5 }) },
    ],
  },
  col2im: {
    samples: () => [
      { name: "into (2,2,4,5) k3 pad 1", inputs: [make([2, 3, 3, 2, 4, 5], R)], f: (c) => c.col2im({ kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], shape: [2, 2, 4, 5] }) },
      { name: "into (1,2,6,7) stride (2,3) dilation (2,1)", inputs: [make([2, 2, 3, 1, 2, 3], R)], f: (c) => c.col2im({ kernel: [2, 3], stride: [2, 3], padding: [0, 1], dilation: [2, 1], shape: [1, 2, 6, 7] }) },
    ],
  },
  cast: {
    // Through float32 and back: the central differences see float32 rounding, so a larger step.
    eps: 1e-2,
    atol: 1e-4,
    samples: () => [
      { name: "float64 -> float32 -> float64", inputs: [make([2, 3], R)], f: (x) => Tensor.apply(tensorOps.cast, [Tensor.apply(tensorOps.cast, [x], { dtype: "float32" })], { dtype: "float64" }) },
    ],
  },
  cumsum: {
    samples: () => [
      ...([[[5], 0], [[3, 4], 1], [[3, 4], 0], [[2, 3, 2], 1]] as [number[], number][]).flatMap(([sh, axis]) =>
        [false, true].map((reverse) => ({ name: `${fmt(sh)} axis ${axis}${reverse ? " reversed" : ""}`, inputs: [make(sh, R)], f: (x: Tensor) => Tensor.apply(tensorOps.cumsum, [x], { axis, reverse }) })),
      ),
      { name: "transposed view", inputs: [make([3, 4], R)], f: (x) => Tensor.apply(tensorOps.cumsum, [x.T], { axis: 1, reverse: false }) },
    ],
  },
  // No gradient of their own: x · (1 + argmax(x)) checks that the graph treats the positions as constants.
  argmax: argExtremum("argmax"),
  argmin: argExtremum("argmin"),
};

function argExtremum(name: "argmax" | "argmin"): OpInfo {
  const cases: [number[], number, boolean][] = [[[5], 0, false], [[3, 4], 1, true], [[3, 4], 0, false], [[2, 3, 4], 2, true]];
  return {
    samples: () => cases.map(([sh, axis, keepdims]) => ({
      name: `${fmt(sh)} axis ${axis} keepdims=${keepdims}`,
      inputs: [distinct(sh)],
      f: (x: Tensor) => x.mul(Tensor.apply(tensorOps[name], [x], { axis, keepdims }).add(1).sum()),
    })),
  };
}

/** Composites: no rules of their own, checked all the same. */
export const compositeDb: Record<string, OpInfo> = {
  mean: { samples: () => [{ name: "(3,4) axis 1", inputs: [make([3, 4], R)], f: (x) => x.mean(1) }, { name: "all", inputs: [make([2, 3], R)], f: (x) => x.mean() }] },
  logsumexp: {
    samples: () => [
      { name: "(3,4) axis 1", inputs: [make([3, 4], R)], f: (x) => x.logsumexp(1) },
      { name: "(2,3,2) axes [0,2] keepdims", inputs: [make([2, 3, 2], R)], f: (x) => x.logsumexp([0, 2], true) },
      { name: "large values", inputs: [make([2, 3], uniform(999, 1001))], f: (x) => x.logsumexp(1) },
    ],
  },
  softmax: { samples: () => [{ name: "(3,4) axis 1", inputs: [make([3, 4], R)], f: (x) => x.softmax(1) }, { name: "(3,4) axis 0", inputs: [make([3, 4], R)], f: (x) => x.softmax(0) }] },
  logSoftmax: { samples: () => [{ name: "(3,4) axis -1", inputs: [make([3, 4], R)], f: (x) => x.logSoftmax() }] },
  clamp: { samples: () => [{ name: "[-0.5, 0.5]", inputs: [make([3, 4], grid(0.05))], f: (x) => x.clamp(-0.5, 0.5) }] },
  stack: { samples: () => [{ name: "axis 1", inputs: [make([2, 3], R), make([2, 3], R)], f: (a, b) => stack([a!, b!], 1) }] },
  concatFn: { samples: () => [{ name: "axis -1", inputs: [make([2, 1], R), make([2, 2], R)], f: (a, b) => concat([a!, b!], -1) }] },
  whereFn: { samples: () => [{ name: "scalar branch", inputs: [make([2, 3], R)], f: (a) => where(a.gt(0), a, 0) }] },
  transpose: { samples: () => [{ name: "(2,3,4) axes 0,2", inputs: [make([2, 3, 4], R)], f: (x) => x.transpose(0, 2) }] },
  squeeze: { samples: () => [{ name: "(2,1,3)", inputs: [make([2, 1, 3], R)], f: (x) => x.squeeze().unsqueeze(0) }] },
  slicing: { samples: () => [{ name: "x[1, ::2]", inputs: [make([3, 4], R)], f: (x) => x.slice(1, [undefined, undefined, 2]) }] },
  padWidths: { samples: () => [{ name: "(2,2) pad 1", inputs: [make([2, 2], R)], f: (x) => x.pad([[1, 1], [0, 2]]) }] },
  crossEntropy: {
    samples: () => [
      {
        name: "logSoftmax + gather + mean",
        inputs: [make([4, 3], R)],
        f: (x) => x.logSoftmax(1).gather(1, [[0], [2], [1], [2]]).mean().neg(),
      },
    ],
  },
  conv2d: {
    samples: () => [
      { name: "(2,3,5,5) * (4,3,3,3) + b, pad 1", inputs: [make([2, 3, 5, 5], R), make([4, 3, 3, 3], R), make([4], R)], f: (x, w, b) => conv2d(x!, w!, b!, { padding: 1 }) },
      { name: "groups 2, stride 2, dilation 2", inputs: [make([1, 4, 7, 6], R), make([6, 2, 2, 2], R)], f: (x, w) => conv2d(x!, w!, null, { groups: 2, stride: 2, dilation: 2 }) },
    ],
  },
  conv1d: { samples: () => [{ name: "(2,2,7) * (3,2,3) + b, stride 2, pad 1", inputs: [make([2, 2, 7], R), make([3, 2, 3], R), make([3], R)], f: (x, w, b) => conv1d(x!, w!, b!, { stride: 2, padding: 1 }) }] },
  maxPool2d: {
    samples: () => [
      { name: "(2,2,4,4) k2 (tiles)", inputs: [distinct([2, 2, 4, 4])], f: (x) => maxPool2d(x!, 2) },
      { name: "(1,2,5,7) k(2,3) (tiles, a remainder cut)", inputs: [distinct([1, 2, 5, 7])], f: (x) => maxPool2d(x!, [2, 3]) },
      { name: "(1,2,5,5) k3 stride 2 pad 1", inputs: [distinct([1, 2, 5, 5])], f: (x) => maxPool2d(x!, 3, { stride: 2, padding: 1 }) },
    ],
  },
  avgPool2d: {
    samples: () => [
      { name: "(2,2,5,5) k3 stride 2 pad 1", inputs: [make([2, 2, 5, 5], R)], f: (x) => avgPool2d(x!, 3, { stride: 2, padding: 1 }) },
      { name: "(1,2,5,4) k2 (tiles, a remainder cut)", inputs: [make([1, 2, 5, 4], R)], f: (x) => avgPool2d(x!, 2) },
    ],
  },
  adaptiveAvgPool2d: {
    samples: () => [
      { name: "(1,2,5,7) -> (3,2)", inputs: [make([1, 2, 5, 7], R)], f: (x) => adaptiveAvgPool2d(x!, [3, 2]) },
      { name: "(2,1,4,4) -> 2", inputs: [make([2, 1, 4, 4], R)], f: (x) => adaptiveAvgPool2d(x!, 2) },
    ],
  },
  var: {
    samples: () => [
      { name: "(3,4) axis 1", inputs: [make([3, 4], R)], f: (x) => x.var(1) },
      { name: "all, correction 0", inputs: [make([2, 3], R)], f: (x) => x.var(undefined, { correction: 0 }) },
      { name: "(2,3,2) axes [0,2] keepdims", inputs: [make([2, 3, 2], R)], f: (x) => x.var([0, 2], { keepdims: true }) },
    ],
  },
  std: { samples: () => [{ name: "(3,4) axis 0 unbiased=false", inputs: [make([3, 4], R)], f: (x) => x.std(0, { unbiased: false }) }] },
  norm: {
    samples: () => [
      { name: "p=2, all", inputs: [make([3, 4], R)], f: (x) => x.norm() },
      { name: "p=2, axis 1 keepdims", inputs: [make([3, 4], R)], f: (x) => x.norm(2, 1, true) },
      { name: "p=1, axis 0", inputs: [make([3, 4], awayFromZero(0.1, 2))], f: (x) => x.norm(1, 0) },
      { name: "p=inf, axis 1", inputs: [make([3, 4], awayFromZero(0.1, 2))], f: (x) => x.norm(Infinity, 1) },
      { name: "p=3", inputs: [make([5], awayFromZero(0.1, 2))], f: (x) => x.norm(3) },
    ],
  },
  sort: {
    samples: () => [
      { name: "(3,4) axis 1", inputs: [distinct([3, 4])], f: (x) => x.sort(1).values },
      { name: "(3,4) axis 0 descending", inputs: [distinct([3, 4])], f: (x) => x.sort(0, true).values },
    ],
  },
  topk: { samples: () => [{ name: "(3,5) k=2", inputs: [distinct([3, 5])], f: (x) => x.topk(2).values }, { name: "smallest 3, axis 0", inputs: [distinct([4, 2])], f: (x) => x.topk(3, 0, false).values }] },
  split: { samples: () => [{ name: "sizes [1,3] axis 1", inputs: [make([2, 4], R)], f: (x) => { const [a, b] = x.split([1, 3], 1); return a!.mul(b!.sum(1, true)); } }] },
  chunk: { samples: () => [{ name: "3 chunks of 7", inputs: [make([7], R)], f: (x) => { const c = x.chunk(3); return concat([c[2]!, c[0]!.mul(c[1]!)]); } }] },
  padConstant: { samples: () => [{ name: "F.pad (1,2,0,1) value 3, crop -1", inputs: [make([2, 3], R)], f: (x) => x.pad([1, -1, 0, 1], 3).mul(x.sum()) }] },
  einsum: {
    samples: () => [
      { name: "ij,jk->ik", inputs: [make([2, 3], R), make([3, 4], R)], f: (a, b) => einsum("ij,jk->ik", a!, b!) },
      { name: "i,j->ij", inputs: [make([3], R), make([2], R)], f: (a, b) => einsum("i,j->ij", a!, b!) },
      { name: "ii->", inputs: [make([3, 3], R)], f: (a) => einsum("ii->", a!) },
      { name: "bij,bjk->bik", inputs: [make([2, 2, 3], R), make([2, 3, 2], R)], f: (a, b) => einsum("bij,bjk->bik", a!, b!) },
      { name: "ij,ij->i (row dots), implicit ij->j sums", inputs: [make([3, 2], R), make([3, 2], R)], f: (a, b) => einsum("ij,ij->i", a!, b!).add(einsum("ij", a!).sum()) },
      { name: "ab,bc,cd->ad (three operands)", inputs: [make([2, 3], R), make([3, 2], R), make([2, 2], R)], f: (a, b, c) => einsum("ab,bc,cd->ad", a!, b!, c!) },
    ],
  },
  // Dims 0 and -1 of a 0-d tensor (PyTorch's one axis of a scalar): each op runs over no axis.
  scalarDims: {
    samples: () => [
      { name: "sum, mean, amax, logsumexp, var along 0 / -1 of a 0-d x", inputs: [make([], R)], f: (x) => x.sum(0).mul(x.mean(-1)).add(x.amax(0, true).mul(x.logsumexp(-1))).add(x.var(0, { correction: 0 })) },
      { name: "cumsum, gather, argmax, softmax along 0 / -1 of a 0-d x", inputs: [make([], R)], f: (x) => x.cumsum(-1).mul(x.gather(0, 0)).mul(x.argmax(-1).add(2)).add(x.softmax(0).mul(x)) },
      { name: "norms along 0 / -1 of a 0-d x", inputs: [make([], awayFromZero(0.1, 2))], f: (x) => x.norm(2, 0).add(x.norm(1, -1, true)).add(x.norm(3, 0).mul(x)) },
    ],
  },
  mlp: {
    samples: () => [
      {
        name: "relu(X W1 + b1) W2, squared error",
        inputs: [make([4, 3], R), make([3, 5], R), make([5], R), make([5, 2], R)],
        f: (X, W1, b1, W2) => X!.matmul(W1!).add(b1!).relu().matmul(W2!).sub(1).pow(2).mean(),
      },
    ],
  },
};
