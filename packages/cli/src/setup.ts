/**
 * From the command line's words to a graph: parse the expression, bind `--at`, compile. Shared by every
 * command, so each reports bad input the same way.
 */
import { InputError, type Value } from "gradgraph";
import { compileScalar, didYouMean, formatValue, parseBindings, parseProgram, type Program, type ScalarGraph } from "gradgraph/lecture";

export interface Problem {
  program: Program;
  graph: ScalarGraph;
  /** The output's name: the header's (`L`), or `f`. */
  output: string;
}

/** Parses `expr` and binds every input from the `--at` texts (all must be bound unless `partial`). */
export function setUp(expr: string, at: readonly string[], options: { partial?: boolean } = {}): Problem {
  const program = parseProgram(expr);
  const bindings = parseBindings(at, program, { partial: options.partial ?? false });
  if (options.partial) {
    // Without a point the graph's structure is all that is wanted: unbound inputs take 0.
    for (const name of program.inputs) if (!bindings.has(name)) bindings.set(name, 0);
  }
  const graph = compileScalar(program, bindings);
  return { program, graph, output: graph.output ?? "f" };
}

/** The input called `name`, or an error listing the inputs (with a suggestion). */
export function inputNamed(graph: ScalarGraph, name: string, option: string): Value {
  const i = graph.names.indexOf(name);
  if (i < 0) {
    throw new InputError(
      `${option} ${name}: not an input of the expression${didYouMean(name, graph.names)} (its inputs: ${graph.names.join(", ") || "none"})`,
    );
  }
  return graph.inputs[i]!;
}

/** `  at x=2, y=10` for the point a graph was built at (nothing for a graph without inputs). */
export function describePoint(graph: ScalarGraph): string {
  if (graph.names.length === 0) return "";
  return "  at " + graph.names.map((n, i) => `${n}=${formatValue(graph.inputs[i]!.data)}`).join(", ");
}
