/**
 * A small language for networks, as `gradgraph train --model` takes it: layers joined by dashes, each a name with
 * optional arguments, e.g. `conv(6,5,pad=2)-relu-maxpool(2)-conv(16,5)-relu-maxpool(2)-flatten-linear(120)-relu-linear(10)`.
 * The input's shape comes from the data (`[784]`, or `[1, 28, 28]` for images, whose flat rows are viewed as
 * images before the first layer that needs them); each layer's output shape is inferred, so a layer that does not
 * fit (a convolution on flat features, a kernel larger than its input, a linear layer on images without
 * `flatten`, a last size that is not the number of classes) is refused naming the layer and the shapes.
 *
 * Plain sizes (`784-256-10`, or `mlp:784-256-10`) stay an {@link MLP}; `cnn` names a LeNet-style network.
 */
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import type { DType } from "../ops/op.js";
import { checkSeed, Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { ACTIVATIONS, type ActivationName } from "./functional.js";
import { AvgPool2d, Conv2d, MaxPool2d } from "./conv.js";
import { activationModule, Dropout, Flatten, Linear, Module, Sequential } from "./module.js";

/** One layer of a spec, parsed. */
export type LayerSpec =
  | { kind: "linear"; out: number }
  | { kind: "conv"; out: number; kernel: number; stride: number; pad: number }
  | { kind: "maxpool" | "avgpool"; kernel: number }
  | { kind: "flatten" }
  | { kind: "dropout"; p: number }
  | { kind: "act"; name: ActivationName };

/** Named networks: `cnn` is LeNet-5 with ReLU and max pooling (61,706 parameters on MNIST). */
export const NAMED_SPECS: Record<string, string> = {
  cnn: "conv(6,5,pad=2)-relu-maxpool(2)-conv(16,5)-relu-maxpool(2)-flatten-linear(120)-relu-linear(84)-relu-linear(10)",
};

/** The spec language, for `--help`. */
export const SPEC_HELP = [
  "A --model is layer sizes (784-256-10: an MLP with --act between layers) or layers joined by dashes:",
  "  linear(N)              fully connected, N outputs",
  "  conv(N,K[,stride=S][,pad=P])  2-D convolution, N channels out, K×K kernel",
  "  maxpool(K), avgpool(K) K×K pooling, stride K",
  "  flatten                images → features (before the first linear after convolutions)",
  "  dropout(P)             zeroes a fraction P in training",
  `  ${Object.keys(ACTIVATIONS).join(", ")}`,
  `  cnn                    = ${NAMED_SPECS.cnn}`,
].join("\n");

const bad = (text: string, why: string) => new InputError(`--model ${text}: ${why}`);

/** Splits at dashes outside parentheses. */
function items(text: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "-" && depth === 0) (out.push(text.slice(start, i)), (start = i + 1));
  }
  out.push(text.slice(start));
  return out;
}

/** Parses `name(1,2,k=3)` into its name, positional and named arguments (all numbers). */
function call(text: string, item: string): { name: string; args: number[]; named: Map<string, number> } {
  const m = /^([a-z_]+)(?:\(([^()]*)\))?$/.exec(item);
  if (!m) throw bad(text, `cannot read the layer ${JSON.stringify(item)}; expected a name like relu or a call like conv(6,5)`);
  const args: number[] = [], named = new Map<string, number>();
  for (const a of m[2] === undefined || m[2] === "" ? [] : m[2].split(",")) {
    const [k, v] = a.includes("=") ? (a.split("=") as [string, string]) : [undefined, a];
    const x = Number(v.trim());
    if (v.trim() === "" || !Number.isFinite(x)) throw bad(text, `${item}: ${JSON.stringify(a)} is not a number`);
    if (k === undefined) args.push(x);
    else named.set(k.trim(), x);
  }
  return { name: m[1]!, args, named };
}

/** Checks a layer's arguments: `want` positional (names), `optional` named with defaults. */
function argsOf(text: string, item: string, c: ReturnType<typeof call>, want: string[], optional: Record<string, number> = {}): number[] {
  const usage = `${c.name}(${[...want, ...Object.keys(optional).map((k) => `${k}=${optional[k]}`)].join(",")})`;
  if (c.args.length !== want.length) throw bad(text, `${item}: ${c.name} takes ${want.length === 0 ? "no arguments" : want.join(", ")}, as ${usage}`);
  for (const k of c.named.keys()) if (!(k in optional)) throw bad(text, `${item}: ${c.name} has no argument ${k} (expected ${usage})`);
  return [...c.args, ...Object.keys(optional).map((k) => c.named.get(k) ?? optional[k]!)];
}

function positiveInt(text: string, item: string, what: string, x: number, min = 1): number {
  if (!Number.isInteger(x) || x < min || x > 100_000) throw bad(text, `${item}: ${what} must be a whole number from ${min} to 100,000, got ${x}`);
  return x;
}

/** Parses a layer spec (a name from {@link NAMED_SPECS} too); plain sizes are not a layer spec (see {@link isSizes}). */
export function parseLayers(text: string): LayerSpec[] {
  const src = NAMED_SPECS[text] ?? text;
  return items(src).map((item): LayerSpec => {
    if (item === "") throw bad(text, "an empty layer (two dashes in a row, or one at an end)");
    const c = call(text, item);
    if (Object.hasOwn(ACTIVATIONS, c.name)) return (argsOf(text, item, c, []), { kind: "act", name: c.name as ActivationName });
    switch (c.name) {
      case "linear": {
        const [out] = argsOf(text, item, c, ["N"]);
        return { kind: "linear", out: positiveInt(text, item, "N", out!) };
      }
      case "conv": {
        const [out, k, stride, pad] = argsOf(text, item, c, ["N", "K"], { stride: 1, pad: 0 });
        return { kind: "conv", out: positiveInt(text, item, "N", out!), kernel: positiveInt(text, item, "K", k!), stride: positiveInt(text, item, "stride", stride!), pad: positiveInt(text, item, "pad", pad!, 0) };
      }
      case "maxpool":
      case "avgpool": {
        const [k] = argsOf(text, item, c, ["K"]);
        return { kind: c.name, kernel: positiveInt(text, item, "K", k!) };
      }
      case "flatten":
        return (argsOf(text, item, c, []), { kind: "flatten" });
      case "dropout": {
        const [p] = argsOf(text, item, c, ["P"]);
        if (!(p! >= 0 && p! < 1)) throw bad(text, `${item}: P must be in [0, 1), got ${p}`);
        return { kind: "dropout", p: p! };
      }
      default:
        throw bad(text, `unknown layer ${JSON.stringify(c.name)} (expected linear, conv, maxpool, avgpool, flatten, dropout or an activation: ${Object.keys(ACTIVATIONS).join(", ")})`);
    }
  });
}

/** Whether `--model` text is meant as plain layer sizes (`784-128-10`, `mlp:784-128-10`): it starts with a digit (no layer does). */
export function isSizes(text: string): boolean {
  return /^(mlp:)?\s*[0-9]/.test(text) && !text.includes("(");
}

/** How each layer changes the shape of one sample (without the batch axis), or why it cannot. */
function outShape(l: LayerSpec, s: readonly number[], image: readonly number[] | undefined): number[] | string {
  const flat = s.length === 1;
  const img = flat && image && s[0] === image.reduce((a, b) => a * b, 1) ? image : s;
  switch (l.kind) {
    case "linear":
      return s.length === 1 ? [l.out] : `takes features, got a sample of shape [${s.join(", ")}]: put flatten before it`;
    case "conv":
    case "maxpool":
    case "avgpool": {
      if (img.length !== 3) return `takes images [channels, height, width], got a sample of shape [${s.join(", ")}]`;
      const [c, h, w] = img as [number, number, number];
      const k = l.kernel, st = l.kind === "conv" ? l.stride : l.kernel, pad = l.kind === "conv" ? l.pad : 0;
      if (k > h + 2 * pad || k > w + 2 * pad) return `has a ${k}×${k} kernel, larger than its input of ${h}×${w}${pad ? ` padded by ${pad}` : ""}`;
      const size = (n: number) => Math.floor((n + 2 * pad - k) / st) + 1;
      return [l.kind === "conv" ? l.out : c, size(h), size(w)];
    }
    case "flatten":
      return [s.reduce((a, b) => a * b, 1)];
    case "dropout":
    case "act":
      return [...s];
    default: {
      const never: never = l;
      return `unknown layer ${JSON.stringify(never)}`;
    }
  }
}

/** The written form of a layer (as parsed: defaults left out). */
export function layerText(l: LayerSpec): string {
  switch (l.kind) {
    case "linear":
      return `linear(${l.out})`;
    case "conv":
      return `conv(${l.out},${l.kernel}${l.stride !== 1 ? `,stride=${l.stride}` : ""}${l.pad !== 0 ? `,pad=${l.pad}` : ""})`;
    case "maxpool":
    case "avgpool":
      return `${l.kind}(${l.kernel})`;
    case "dropout":
      return `dropout(${l.p})`;
    case "flatten":
      return "flatten";
    case "act":
      return l.name;
  }
}

/**
 * The shape of one sample after each layer, from the input's shape (`image`: the [C, H, W] a flat row holds); a
 * layer that does not fit, or a last shape that is not `[classes]`, is an {@link InputError}.
 */
export function inferShapes(text: string, layers: readonly LayerSpec[], input: readonly number[], image: readonly number[] | undefined, classes: number): number[][] {
  const shapes: number[][] = [];
  let s: readonly number[] = input;
  for (const l of layers) {
    const next = outShape(l, s, image);
    if (typeof next === "string") throw bad(text, `${layerText(l)} ${next}`);
    if (next.some((n) => n < 1)) throw bad(text, `${layerText(l)} leaves nothing of its input [${s.join(", ")}]`);
    shapes.push(next);
    s = next;
  }
  if (s.length !== 1 || s[0] !== classes) throw bad(text, `the network ends in shape [${s.join(", ")}], but the data has ${classes} classes: end with linear(${classes})`);
  return shapes;
}

/** Views flat rows as images (the first layer's input) — one reshape, no copy. */
export class Unflatten extends Module {
  constructor(readonly shape: readonly number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.reshape(x.shape[0] ?? 1, ...this.shape);
  }
  override describe(): string {
    return `Unflatten([${this.shape.join(", ")}])`;
  }
}

/**
 * A network built from a layer spec: a {@link Sequential} whose children are the layers (parameters named
 * `0.weight`, … as PyTorch's `nn.Sequential` would, an `Unflatten` first when flat rows are viewed as images).
 */
export class LayerNet extends Sequential {
  constructor(
    readonly spec: string,
    readonly inputShape: readonly number[],
    readonly image: readonly number[] | undefined,
    readonly classes: number,
    layers: Module[],
  ) {
    super(...layers);
  }
  override describe(): string {
    return `LayerNet(${this.spec})`;
  }
}

/** The module of one layer, given its input shape. */
type Builder = (l: LayerSpec, input: readonly number[], o: { generator: Generator; dtype: DType }) => Module;

const BUILDERS: { [K in LayerSpec["kind"]]: Builder } = {
  linear: (l, s, o) => new Linear(s[0]!, (l as { out: number }).out, o),
  conv: (l, s, o) => {
    const c = l as Extract<LayerSpec, { kind: "conv" }>;
    return new Conv2d(s[0]!, c.out, c.kernel, { stride: c.stride, padding: c.pad, generator: o.generator, dtype: o.dtype });
  },
  maxpool: (l) => new MaxPool2d((l as { kernel: number }).kernel),
  avgpool: (l) => new AvgPool2d((l as { kernel: number }).kernel),
  flatten: () => new Flatten(),
  dropout: (l, _s, o) => new Dropout((l as { p: number }).p, { generator: o.generator }),
  act: (l) => activationModule((l as { name: ActivationName }).name),
};

/**
 * Builds the network a layer spec describes for samples of shape `input` (flat rows of images of shape `image`
 * are viewed as images before the first convolution or pooling). Weights come from one generator seeded by
 * `seed`, layer by layer (PyTorch's default initialisation of each layer).
 *
 * @example
 * const net = buildLayerNet("conv(6,5)-relu-maxpool(2)-flatten-linear(10)", [784], { image: [1, 28, 28], classes: 10, seed: 0 });
 */
export function buildLayerNet(text: string, input: readonly number[], o: { image?: readonly number[]; classes: number; seed?: number; dtype?: DType }): LayerNet {
  expectOptions("buildLayerNet", o ?? null, optionKeys<Parameters<typeof buildLayerNet>[2]>({ image: true, classes: true, seed: true, dtype: true }));
  const layers = parseLayers(text);
  const shapes = inferShapes(text, layers, input, o.image, o.classes);
  const generator = new Generator(checkSeed(o.seed ?? 0, "buildLayerNet")), dtype = o.dtype ?? "float32";
  const modules: Module[] = [];
  let s: readonly number[] = input;
  layers.forEach((l, i) => {
    if (s.length === 1 && o.image && (l.kind === "conv" || l.kind === "maxpool" || l.kind === "avgpool")) {
      modules.push(new Unflatten(o.image));
      s = o.image;
    }
    modules.push(BUILDERS[l.kind](l, s, { generator, dtype }));
    s = shapes[i]!;
  });
  return new LayerNet(layers.map(layerText).join("-"), input, o.image, o.classes, modules);
}
