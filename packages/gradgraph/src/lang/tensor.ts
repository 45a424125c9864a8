/**
 * The expression language on the tensor engine: the same programs, parsed against a function table that adds
 * the tensor functions of the op table (`src/ops/functions.ts`: the primitives callable by name — `sum(x,
 * axis=0)`, `max(x, axis=1)`, `matmul(a, b)` — and the composites — `mean`, `softmax(x, axis=1)`, `logsumexp`,
 * `transpose`, ...), evaluated by the same walk as the scalar compiler on the tensor engine's graph algebra. None
 * is declared here. `@` is matmul. A tensor function with the board name of a scalar one is an overload decided
 * by the number of arguments: with one argument (and optionally `axis=`/`keepdims=`) `max` and `min` reduce; with
 * two they are the elementwise maximum/minimum, as the lecture's `max(P, 0)` means.
 */
import { expectOptions, optionKeys } from "../core/expect.js";
import { InputError, ShapeError, SourceError } from "../core/errors.js";
import { elementwiseList } from "../ops/elementwise.js";
import { tensorFunctionList } from "../ops/functions.js";
import type { CallKeywords, DType, TensorFunction } from "../ops/op.js";
import { graphAlgebra, tensor, type Tensor } from "../tensor/tensor.js";
import { postOrder, type Binary, type Call, type Expr, type Program } from "./ast.js";
import type { BindingValue } from "./bindings.js";
import { boundInputs, evaluate } from "./compile.js";
import { tokenize } from "./lexer.js";
import { functionTable, scalarFunctions, type FunctionSpec } from "./table.js";

/** The op-table name of a tensor function (`FunctionSpec.op`): no algebra method has it, so calls come here. */
const opOf = (name: string) => `tensor:${name}`;

/** The tensor functions of the op table by board name, and the scalar functions they overload. */
const tensorByName: ReadonlyMap<string, TensorFunction> = new Map(tensorFunctionList.map((f) => [f.name, f]));
const scalarByName = functionTable(scalarFunctions);

/**
 * The language's entry for a tensor function. With a scalar function of the same name (`max`), one entry takes
 * either argument count: fewer (the tensor function's) reduces, the scalar function's count is elementwise.
 */
function specOf(f: TensorFunction): FunctionSpec {
  const keywords = Object.keys(f.keywords);
  const flags = keywords.filter((k) => f.keywords[k] === "bool");
  const kws = keywords.length === 0 ? {} : { keywords, ...(flags.length === 0 ? {} : { flags }) };
  const scalar = scalarByName.get(f.name);
  if (scalar === undefined) return { name: f.name, op: opOf(f.name), arity: f.arity, params: f.params, ...kws };
  if (scalar.arity <= f.arity) {
    throw new Error(`${f.name}: a tensor function overloading a scalar one must take fewer arguments (${f.arity} ≥ ${scalar.arity})`);
  }
  const params = [...f.params, ...(scalar.params ?? []).slice(f.params.length)];
  return { name: f.name, op: opOf(f.name), arity: scalar.arity, minArity: f.arity, params, ...kws };
}

/** The functions that exist only on tensors (not in the scalar language). */
export const tensorOnlyFunctions: readonly FunctionSpec[] = tensorFunctionList.filter((f) => !scalarByName.has(f.name)).map(specOf);

/**
 * The functions of the tensor language: the scalar ones (applied elementwise, with broadcasting), those
 * overloaded by a tensor function (`max`/`min` with one or two arguments), and {@link tensorOnlyFunctions}.
 */
export const tensorFunctions: readonly FunctionSpec[] = [
  ...scalarFunctions.map((f) => {
    const t = tensorByName.get(f.name);
    return t === undefined ? f : specOf(t);
  }),
  ...tensorOnlyFunctions,
];

/** Whether a program needs the tensor engine whatever its values: it uses `@` or a tensor-only function. */
export function usesTensorFeatures(program: Program): boolean {
  return postOrder(program.body).some(
    (n) =>
      (n.kind === "binary" && !elementwiseNames.has(n.op)) ||
      (n.kind === "call" && tensorByName.has(n.callee) && !isScalarCall(n)),
  );
}

/** Operators of elementwise ops work on numbers; the others (`@`) need tensors. */
const elementwiseNames: ReadonlySet<string> = new Set(elementwiseList.map((op) => op.name));

/** Whether a call of an overloaded name is the scalar function's (its argument count, no keywords). */
function isScalarCall(n: Call): boolean {
  const scalar = scalarByName.get(n.callee);
  return scalar !== undefined && n.args.length === scalar.arity && n.keywords.length === 0;
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

/** Options of {@link compileTensor}: the inputs' dtype. */
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
  expectOptions("compileTensor", options, optionKeys<TensorCompileOptions>({ dtype: true }));
  const { values, names } = boundInputs(program, bindings);
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

/**
 * Applies a tensor function of the op table (the calls whose `op` is `tensor:<name>`); undefined for anything
 * else. Keyword values become numbers (`int` keywords) and booleans (`bool` keywords) for the function.
 */
function applyTensorFunction(op: string, args: Tensor[], keywords: ReadonlyMap<string, Tensor>, node: Binary | Call, program: Program): Tensor | undefined {
  if (node.kind !== "call") return undefined;
  const f = tensorByName.get(node.callee);
  if (f === undefined || op !== opOf(f.name)) return undefined;
  const scalar = scalarByName.get(f.name);
  if (scalar !== undefined && args.length === scalar.arity) {
    // max(a, b), min(a, b): the scalar function, elementwise, which takes no keywords.
    if (keywords.size > 0) {
      const k = node.keywords[0]!;
      const doc = elementwiseList.find((e) => e.name === scalar.op)?.doc;
      throw new SourceError(
        `${node.callee}(${(scalar.params ?? []).join(", ")}) is elementwise${doc === undefined ? "" : ` (${doc})`} and takes no ${k.name}; ` +
          `reduce with ${node.callee}(x, ${k.name}=...)`,
        program.source,
        k.nameSpan.pos,
        k.nameSpan.length,
      );
    }
    return (graphAlgebra[scalar.op as keyof typeof graphAlgebra] as (...xs: Tensor[]) => Tensor)(...args);
  }
  const kw: Record<string, number | boolean> = {};
  for (const [name, v] of keywords) {
    const n = intKeyword(name, v, node, program);
    kw[name] = f.keywords[name] === "bool" ? n !== 0 : n;
  }
  return f.apply(graphAlgebra, args, kw as CallKeywords);
}
