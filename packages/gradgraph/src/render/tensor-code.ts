/**
 * The lecture's vectorised `df` for a tensor expression: the forward assignments, then `dT = np.ones_like(T)` and
 * one line per node walking backwards, each gradient being its vector rule (./tensor-rules.ts: the ops' own vjp
 * rules run on names). Python uses NumPy; TypeScript uses gradgraph's `functional` functions, imported as `np`.
 *
 * ```python
 * def df(X, W, y, z):
 *     a = X @ W
 *     ...
 *     dT = np.ones_like(T)
 *     dz = np.sum(dT, axis=0)
 *     ...
 *     dX = da @ W.T
 *     return T, (dX, dW, dy, dz)
 * ```
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { InputError } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import type { CodeTarget } from "./code.js";
import { isIdentifier, RESERVED_NAMES } from "./format.js";
import { tensorGraphParts, type TensorNodeView } from "./tensor.js";
import { printRule, printTSym, tsymApplied, tsymName, type Needs, type TSym } from "./tensor-rules.js";

/**
 * Names a variable of the vectorised program must not take: {@link RESERVED_NAMES}, and the module and functions
 * the program itself refers to (`np` in Python; `np`, `tensor`, `onesLike`, `zerosLike`, `Tensor` in TypeScript).
 * An input named `np` would otherwise shadow NumPy inside `df`.
 */
const TENSOR_RESERVED: ReadonlySet<string> = new Set([...RESERVED_NAMES, "np", "tensor", "onesLike", "zerosLike", "Tensor"]);

/** Options of {@link generateTensorCode}. */
export interface TensorCodeOptions {
  /** Name of the generated function (default `df`). */
  name?: string;
  /** The output's name (a header's `T`). */
  rootName?: string;
}

/**
 * Writes the vectorised `df(inputs...)` for the graph ending at `root`, returning the value and the gradient of
 * its sum with respect to every input: `return T, (dX, dW)` in Python, `return [T, [dX, dW]]` in TypeScript.
 */
export function generateTensorCode(root: Tensor, inputs: readonly Tensor[], target: CodeTarget, options: TensorCodeOptions = {}): string {
  expectOptions("generateTensorCode", options, optionKeys<TensorCodeOptions>({ name: true, rootName: true }));
  if (!root.requiresGrad) throw new InputError("trace --code: the expression does not depend on its inputs");
  const { view, tensors, rules } = tensorGraphParts(root, inputs, options.rootName === undefined ? {} : { rootName: options.rootName });
  const py = target === "py";
  const ident = identifiers(view.nodes);
  const prefix = ["d", "d_", "grad_"].find((p) => ident.every((v) => !ident.includes(p + v) && !TENSOR_RESERVED.has(p + v))) ?? "grad_";
  const nameOf = (k: number, grad: boolean) => (grad ? prefix : "") + ident[k]!;
  const needs: Needs = new Set();
  const end = py ? "" : ";";
  const decl = py ? "" : "const ";
  const sym = (k: number): TSym => {
    const n = view.nodes[k]!;
    const t = tensors[k]!;
    return isLiteral(n) ? { kind: "const", value: n.value as number, shape: [], dtype: t.dtype } : tsymName(k, false, t.shape, t.dtype);
  };
  const params = inputs.map((x) => tensors.indexOf(x));
  const body: string[] = [];
  for (const n of view.nodes) {
    if (n.kind === "const" && !isLiteral(n)) body.push(`${decl}${nameOf(n.id, false)} = ${py ? "np.array" : "tensor"}(${nested(n.value, py)})${end}`);
  }
  for (const n of view.nodes) {
    if (n.kind !== "op") continue;
    const t = tensors[n.id]!;
    const expr = tsymApplied(t.op!, n.inputs.map(sym), t.params);
    body.push(`${decl}${nameOf(n.id, false)} = ${printTSym(expr, target, nameOf, needs, "pow").text}${end}`);
  }
  body.push("");
  const r = view.root;
  body.push(`${decl}${nameOf(r, true)} = ${py ? "np.ones_like" : "onesLike"}(${nameOf(r, false)})${end}`);
  for (let k = view.nodes.length - 1; k >= 0; k--) {
    if (k === r || view.nodes[k]!.grad === null || rules[k]!.length === 0) continue;
    body.push(`${decl}${nameOf(k, true)} = ${printRule(rules[k]!, target, nameOf, needs)}${end}`);
  }
  const grads = inputs.map((x, i) => {
    const k = params[i]!;
    if (k >= 0 && view.nodes[k]!.grad !== null) return nameOf(k, true);
    // Not in the graph, or no gradient reaches it: zeros of its shape.
    const arg = k >= 0 ? nameOf(k, false) : argName(x, i);
    return `${py ? "np.zeros_like" : "zerosLike"}(${arg})`;
  });
  const args = inputs.map((x, i) => (params[i]! >= 0 ? nameOf(params[i]!, false) : argName(x, i)));
  const fname = options.name ?? "df";
  const out = nameOf(r, false);
  const lines = py
    ? [
        "import numpy as np",
        "",
        ...[...needs].flatMap((h) => [h, ""]),
        `def ${fname}(${args.join(", ")}):`,
        ...body.map((l) => (l === "" ? l : `    ${l}`)),
        "",
        `    return ${out}, (${grads.join(", ")}${grads.length === 1 ? "," : ""})`,
      ]
    : [
        `import { functional as np, onesLike, tensor, zerosLike, type Tensor } from "gradgraph";`,
        "",
        `export function ${fname}(${args.map((a) => `${a}: Tensor`).join(", ")}): [Tensor, Tensor[]] {`,
        ...body.map((l) => (l === "" ? l : `  ${l}`)),
        "",
        `  return [${out}, [${grads.join(", ")}]];`,
        "}",
      ];
  return lines.join("\n") + "\n";
}

function isLiteral(n: TensorNodeView): boolean {
  return n.kind === "const" && typeof n.value === "number" && !/^[A-Za-z_]/.test(n.name);
}

function argName(x: Tensor, i: number): string {
  const label = x.label ?? `x${i}`;
  return isIdentifier(label) && !TENSOR_RESERVED.has(label) ? label : `x${i}`;
}

/** Variable names: the board names where they are identifiers, otherwise made into one, unique. */
function identifiers(nodes: readonly TensorNodeView[]): string[] {
  const taken = new Set(nodes.map((n) => n.name).filter((n) => isIdentifier(n) && !TENSOR_RESERVED.has(n)));
  return nodes.map((n) => {
    if (isIdentifier(n.name) && !TENSOR_RESERVED.has(n.name)) return n.name;
    let name = n.name.replace(/[^A-Za-z0-9_]/g, "_");
    if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
    while (taken.has(name) || TENSOR_RESERVED.has(name)) name += "_";
    taken.add(name);
    return name;
  });
}

/** A constant array as a literal. */
function nested(v: unknown, py: boolean): string {
  if (Array.isArray(v)) return `[${v.map((x) => nested(x, py)).join(", ")}]`;
  const x = v as number;
  if (Number.isNaN(x)) return py ? "np.nan" : "NaN";
  if (!Number.isFinite(x)) return `${x < 0 ? "-" : ""}${py ? "np.inf" : "Infinity"}`;
  return String(x);
}
