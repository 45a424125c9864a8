/**
 * The expression language on the tensor engine: the same programs, parsed against a function table that adds
 * the tensor functions (`sum(x, axis=0)`, `mean`, `max(x, axis=1)`, `softmax(x, axis=1)`, `logsumexp`,
 * `transpose`, `matmul`), evaluated by the same walk as the scalar compiler on the tensor engine's graph algebra.
 * `@` is matmul. With one argument (and optionally `axis=`/`keepdims=`) `max` and `min` reduce; with two they are
 * the elementwise maximum/minimum, as the lecture's `max(P, 0)` means.
 */
import { InputError, ShapeError, SourceError } from "../core/errors.js";
import type { DType } from "../ops/op.js";
import { graphAlgebra, tensor, type Tensor } from "../tensor/tensor.js";
import { postOrder, type Binary, type Call, type Expr, type Program } from "./ast.js";
import { missingValues, type BindingValue } from "./bindings.js";
import { evaluate } from "./compile.js";
import { tokenize } from "./lexer.js";
import { scalarFunctions, type FunctionSpec } from "./table.js";

const REDUCE = ["axis", "keepdims"] as const;

/** The functions that exist only on tensors (not in the scalar language). */
export const tensorOnlyFunctions: readonly FunctionSpec[] = [
  { name: "sum", op: "tensor:sum", arity: 1, params: ["x"], keywords: REDUCE },
  { name: "mean", op: "tensor:mean", arity: 1, params: ["x"], keywords: REDUCE },
  { name: "logsumexp", op: "tensor:logsumexp", arity: 1, params: ["x"], keywords: REDUCE },
  { name: "softmax", op: "tensor:softmax", arity: 1, params: ["x"], keywords: ["axis"] },
  { name: "log_softmax", op: "tensor:logSoftmax", arity: 1, params: ["x"], keywords: ["axis"] },
  { name: "transpose", op: "tensor:transpose", arity: 1, params: ["x"] },
  { name: "matmul", op: "matmul", arity: 2, params: ["a", "b"] },
];

/**
 * The functions of the tensor language: the scalar ones (applied elementwise, with broadcasting), `max`/`min`
 * with one or two arguments, and {@link tensorOnlyFunctions}.
 */
export const tensorFunctions: readonly FunctionSpec[] = [
  ...scalarFunctions.filter((f) => f.name !== "max" && f.name !== "min"),
  { name: "max", op: "tensor:max", arity: 2, minArity: 1, params: ["x", "b"], keywords: REDUCE },
  { name: "min", op: "tensor:min", arity: 2, minArity: 1, params: ["x", "b"], keywords: REDUCE },
  ...tensorOnlyFunctions,
];

/** Whether a program needs the tensor engine whatever its values: it uses `@` or a tensor-only function. */
export function usesTensorFeatures(program: Program): boolean {
  const only = new Set(tensorOnlyFunctions.map((f) => f.name));
  return postOrder(program.body).some(
    (n) => (n.kind === "binary" && n.op === "matmul") || (n.kind === "call" && (only.has(n.callee) || ((n.callee === "max" || n.callee === "min") && (n.args.length === 1 || n.keywords.length > 0)))),
  );
}

/** Whether a source text calls a tensor-only function (decided on tokens: the text may not parse). */
export function callsTensorFunction(source: string): boolean {
  try {
    const tokens = tokenize(source);
    const only = new Set(tensorOnlyFunctions.map((f) => f.name));
    return tokens.some((t, i) => t.kind === "name" && only.has(t.text) && tokens[i + 1]?.kind === "(");
  } catch {
    return false;
  }
}

/** A tensor computational graph compiled from a program. */
export interface TensorGraph {
  /** The output tensor. */
  root: Tensor;
  /** One leaf per input (float64 unless asked otherwise, requiring grad), labelled with its name. */
  inputs: Tensor[];
  /** The input names, in the program's order. */
  names: string[];
  /** The name the header gives the output, if any. */
  output: string | undefined;
}

export interface TensorCompileOptions {
  /** Element type of the inputs (default float64, as the CLI computes). */
  dtype?: DType;
}

/**
 * Builds the tensor graph of a program at a point (numbers bind 0-d tensors, nested arrays n-d tensors). Op
 * nodes carry the span of the source they came from; a shape error becomes a {@link SourceError} with the
 * engine's message (`matmul: inner dimensions differ: [2,3] @ [4,5]`) and a caret under the operator.
 *
 * @example
 * const p = parseProgram("sum(relu(X @ W))", { functions: tensorFunctions });
 * const g = compileTensor(p, { X: [[1, 2], [3, 4]], W: [[1, -1], [0, 2]] });
 * g.root.item(); // 12
 */
export function compileTensor(
  program: Program,
  bindings: ReadonlyMap<string, BindingValue> | Readonly<Record<string, BindingValue>>,
  options: TensorCompileOptions = {},
): TensorGraph {
  const values: ReadonlyMap<string, BindingValue> =
    bindings instanceof Map ? bindings : new Map(Object.entries(bindings as Record<string, BindingValue>));
  const names = [...program.inputs];
  const extra = [...values.keys()].filter((n) => !names.includes(n));
  if (extra.length > 0) {
    throw new InputError(`the expression has no input${extra.length > 1 ? "s" : ""} ${extra.join(", ")} (its inputs: ${names.join(", ") || "none"})`);
  }
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw missingValues(missing);
  const dtype = options.dtype ?? "float64";
  const inputs = names.map((name) => tensor(values.get(name)!, { dtype, requiresGrad: true, label: name }));
  const root = evaluateTensor(program, inputs);
  return { root, inputs, names, output: program.header?.names[0]?.name };
}

/**
 * The program as a function of tensors, one per input in `program.inputs` order: evaluated on the graph algebra
 * as {@link compileTensor} does (op nodes keep their source spans; a shape error is a {@link SourceError} with a
 * caret), so functional transforms (`grad`, `jvp`, `hessian`) can be applied to an expression.
 *
 * @example
 * const f = tensorFunction(parseProgram("f(x, y) = x * y^2"));
 * f(tensor(3), tensor(2)).item(); // 12
 */
export function tensorFunction(program: Program): (...xs: Tensor[]) => Tensor {
  return (...xs: Tensor[]) => {
    if (xs.length !== program.inputs.length) {
      throw new InputError(`the expression takes ${program.inputs.length} input${program.inputs.length === 1 ? "" : "s"} (${program.inputs.join(", ")}), got ${xs.length}`);
    }
    return evaluateTensor(program, xs);
  };
}

/** Evaluates a program on tensors bound to its inputs (in order), recording spans and locating shape errors. */
function evaluateTensor(program: Program, inputs: readonly Tensor[]): Tensor {
  const env = new Map(program.inputs.map((n, i) => [n, inputs[i]!]));
  const order = postOrder(program.body);
  let done = 0;
  const sourceError = (message: string, node: Expr): SourceError => {
    const at = node.kind === "binary" ? node.opSpan : node.kind === "call" ? node.calleeSpan : node.span;
    return new SourceError(message, program.source, at.pos, at.length);
  };
  try {
    return evaluate(program, graphAlgebra, env, {
      node: (t, node) => {
        done++;
        if (node.kind === "const") t.label = node.name;
        if (node.kind !== "name" && !(node.kind === "unary" && node.op === "pos") && t.span === undefined && !inputs.includes(t)) {
          t.span = node.span;
        }
      },
      apply: (op, args, keywords, node) => applyTensorFunction(op, args, keywords, node, program),
    });
  } catch (e) {
    if (e instanceof ShapeError && order[done] !== undefined) throw sourceError(e.message, order[done]!);
    throw e;
  }
}

/** A keyword argument's value as a constant integer (0-d, not depending on any input). */
function intKeyword(name: string, v: Tensor, node: Call, program: Program): number {
  const k = node.keywords.find((kw) => kw.name === name)!;
  const ok = !v.requiresGrad && v.size === 1 && Number.isInteger(v.item());
  if (!ok) {
    throw new SourceError(`${name} must be a constant integer`, program.source, k.value.span.pos, k.value.span.length);
  }
  return v.item();
}

/** A call's reduction options, read from its keyword arguments. */
interface CallOptions {
  axis: number | undefined;
  keepdims: boolean;
}

/** How each tensor function of the language calls the engine (keyed by the function spec's op). */
const handlers: Readonly<Record<string, (x: Tensor, o: CallOptions) => Tensor>> = {
  "tensor:max": (x, o) => x.amax(o.axis, o.keepdims),
  "tensor:min": (x, o) => x.amin(o.axis, o.keepdims),
  "tensor:sum": (x, o) => x.sum(o.axis, o.keepdims),
  "tensor:mean": (x, o) => x.mean(o.axis, o.keepdims),
  "tensor:logsumexp": (x, o) => x.logsumexp(o.axis, o.keepdims),
  "tensor:softmax": (x, o) => x.softmax(o.axis ?? -1),
  "tensor:logSoftmax": (x, o) => x.logSoftmax(o.axis ?? -1),
  "tensor:transpose": (x) => x.transpose(),
};

/** The tensor functions that the graph algebra has no method for (or that take keywords). */
function applyTensorFunction(op: string, args: Tensor[], keywords: ReadonlyMap<string, Tensor>, node: Binary | Call, program: Program): Tensor | undefined {
  const handler = handlers[op];
  if (node.kind !== "call" || handler === undefined) return undefined;
  const [x, b] = args as [Tensor, Tensor | undefined];
  if (b !== undefined) {
    // max(a, b), min(a, b): the elementwise maximum/minimum, which takes no reduction keywords.
    if (keywords.size > 0) {
      const k = node.keywords[0]!;
      throw new SourceError(
        `${node.callee}(a, b) is the elementwise ${node.callee === "max" ? "maximum" : "minimum"} and takes no ${k.name}; ` +
          `reduce with ${node.callee}(x, ${k.name}=...)`,
        program.source,
        k.nameSpan.pos,
        k.nameSpan.length,
      );
    }
    return node.callee === "max" ? x.max(b) : x.min(b);
  }
  const axis = keywords.has("axis") ? intKeyword("axis", keywords.get("axis")!, node, program) : undefined;
  const keepdims = keywords.has("keepdims") ? intKeyword("keepdims", keywords.get("keepdims")!, node, program) !== 0 : false;
  return handler(x, { axis, keepdims });
}
