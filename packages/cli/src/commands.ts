/** The commands of `gradgraph`. Each parses, binds and compiles through `setUp`, then renders. */
import { Command, Option } from "commander";
import { InputError } from "gradgraph";
import { type CodeTarget, differentiate, formatPaths, formatTrace, formatValue, generateCode, type Mode, MODES, pathsData, snapshot, toDot } from "gradgraph/lecture";
import { checkOutputName, writeOutput } from "./output.js";
import type { Io } from "./io.js";
import { jsonNumber } from "./json.js";
import { DECIMAL } from "./options.js";
import { MAX_SVG_TIMEOUT_S, SVG_TIMEOUT_S, svgWithin, type Drawable } from "./svg.js";
import { describePoint, inputNamed, setUp } from "./setup.js";
import { runLecture } from "./lecture.js";
import { tensorCode, tensorDot, tensorGrad, tensorSetUp, tensorTrace } from "./tensor.js";
import { registerTrainCommands } from "./train.js";
import { registerOnnxCommands } from "./onnx.js";
import {
  anomalyOption,
  checkScalarAnomaly,
  dotOrder2,
  gradOrder2,
  orderOption,
  registerFunctionalCommands,
  traceOrder2,
  wantsOrder2,
  withTensorAnomalyCheck,
  wrtOption,
} from "./functional.js";

const collect = (value: string, previous: string[]) => [...previous, value];

const atOption = () =>
  new Option(
    "--at <bindings>",
    "the point: x=0,y=1 by name, or 2,10,-1 by position when the expression has a header (repeatable; " +
      "values may be JSON arrays, e.g. 'X=[[1,2],[3,4]]', or @file.json; arrays use the tensor engine)",
  )
    .argParser(collect)
    .default([] as string[], "none");

const EXPR_HELP =
  "the expression as written on the board, optionally with a header naming the function and ordering its " +
  "parameters, e.g. 'L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2'; one that starts with " +
  "- ('-x^2', '--x') is read as the expression where it stands first, or may come last, after --";

/** `python` and `typescript` are accepted for `py` and `ts`. */
function codeTarget(value: string): CodeTarget {
  const t = ({ py: "py", python: "py", ts: "ts", typescript: "ts" } as Record<string, CodeTarget>)[value.toLowerCase()];
  if (t === undefined) throw new InputError(`--code ${value}: expected python (py) or ts (typescript)`);
  return t;
}

function modeOf(value: string): Mode {
  if (!(MODES as readonly string[]).includes(value)) {
    throw new InputError(`--mode ${value}: expected one of ${MODES.join(", ")}`);
  }
  return value as Mode;
}

export function registerCommands(program: Command, io: Io): void {
  program
    .command("grad")
    .description("the value and every partial derivative at a point")
    .argument("<expr>", EXPR_HELP)
    .addOption(atOption())
    .addOption(new Option("--mode <mode>", "reverse (backprop), forward, or paths (the lecture's path products)").default("reverse"))
    .option("--json", 'print exactly {"value": v, "grad": {"x": ..., ...}} on stdout (with --order 2 also "hessian": {"x": {"x": ..., "y": ...}, ...})')
    .addOption(orderOption("2: also the Hessian (second derivatives) of an expression of numbers, forward-over-reverse (--mode forward: forward-over-forward)"))
    .addOption(anomalyOption())
    .addHelpText(
      "after",
      "\nExamples:\n  gradgraph grad 'f(x, y) = 1/(y + exp(-x))' --at 0,1\n" +
        "  gradgraph grad '(x + y)*z' --at x=1,y=2,z=-3 --mode forward --json\n" +
        "  gradgraph grad 'max(X @ W, 0)' --at 'X=[[1,2],[3,4]]' --at 'W=[[1,-1],[0,2]]' --json\n" +
        "  gradgraph grad 'f(x, y) = x^2*y + sin(y)' --at 1,2 --order 2",
    )
    .action((expr: string, opts: { at: string[]; mode: string; json?: boolean; order: string; detectAnomaly?: boolean }) => {
      const mode = modeOf(opts.mode);
      const anomalies = opts.detectAnomaly === true;
      if (wantsOrder2(opts)) return gradOrder2(expr, opts.at, { mode, json: opts.json === true, detectAnomaly: anomalies }, io);
      const tensors = tensorSetUp(expr, opts.at, { command: "grad" });
      if (tensors !== null) {
        const run = () => tensorGrad(tensors, mode, opts.json === true, io);
        return anomalies ? withTensorAnomalyCheck(tensors.graph.root, tensors.program.source, run) : run();
      }
      const { graph, output, program } = setUp(expr, opts.at);
      if (anomalies) checkScalarAnomaly(graph, program);
      const r = differentiate(graph.root, graph.inputs, mode);
      if (opts.json) {
        const grad: Record<string, number | null> = {};
        graph.names.forEach((n, i) => (grad[n] = jsonNumber(r.grads[i]!, `∂${output}/∂${n}`, io)));
        io.out(JSON.stringify({ value: jsonNumber(r.value, output, io), grad }) + "\n");
        return;
      }
      const width = graph.names.reduce((w, n) => Math.max(w, n.length), 0);
      io.out(`${output} = ${formatValue(r.value)}${describePoint(graph)}\n`);
      graph.names.forEach((n, i) => io.out(`∂${output}/∂${n.padEnd(width)} = ${formatValue(r.grads[i]!)}\n`));
      io.out(`(${mode} mode: ${r.multiplications} local-derivative multiplication${r.multiplications === 1 ? "" : "s"})\n`);
    });

  program
    .command("trace")
    .description("the forward and backward passes as tables, or as the lecture's straight-line code")
    .argument("<expr>", EXPR_HELP)
    .addOption(atOption())
    .option("--code <lang>", "print the lecture-style program instead: python (py) or ts")
    .addOption(orderOption("2: trace the graph of a first derivative, as the backward pass records it with createGraph"))
    .addOption(wrtOption())
    .addHelpText(
      "after",
      "\nExamples:\n  gradgraph trace 'f(x, y, z) = (max(3*x, 0) - y)^2 + z' --at 1,0,-2 --code python\n" +
        "  gradgraph trace 'f(x) = x^3' --at x=2 --order 2",
    )
    .action((expr: string, opts: { at: string[]; code?: string; order: string; wrt?: string }) => {
      const target = opts.code === undefined ? undefined : codeTarget(opts.code);
      if (wantsOrder2(opts)) {
        if (target !== undefined) throw new InputError("trace --order 2 shows the derivative's graph as tables; --code writes first-order scalar programs only");
        return traceOrder2(expr, opts.at, opts.wrt, io);
      }
      const tensors = tensorSetUp(expr, opts.at, { command: "trace" });
      if (tensors !== null) {
        return target === undefined ? tensorTrace(tensors, io) : tensorCode(tensors, target, io);
      }
      const { graph } = setUp(expr, opts.at);
      const snap = snapshot(graph.root, graph.inputs);
      io.out(target === undefined ? formatTrace(snap) : generateCode(snap, target));
    });

  program
    .command("dot")
    .description("the computational graph in Graphviz DOT (values and gradients on the edges with --at)")
    .argument("<expr>", EXPR_HELP)
    .addOption(atOption())
    .option("--svg <file>", "also render the graph to an SVG file (no system Graphviz needed)")
    .option("--svg-timeout <seconds>", "stop Graphviz's layout after this long (a wide graph is drawn compact first)", String(SVG_TIMEOUT_S))
    .addOption(orderOption("2: draw the graph of a first derivative, as the backward pass records it with createGraph"))
    .addOption(wrtOption())
    .addHelpText(
      "after",
      "\nExamples:\n  gradgraph dot 'w = (x + y)*z' --at x=1,y=2,z=-3 --svg graph.svg\n  gradgraph dot 'f(x) = sin(x)*x' --at x=1 --order 2",
    )
    .action(async (expr: string, opts: { at: string[]; svg?: string; svgTimeout: string; order: string; wrt?: string }) => {
      if (opts.svg !== undefined) checkOutputName("--svg", opts.svg);
      const withPoint = opts.at.length > 0;
      const order2 = wantsOrder2(opts);
      const seconds = Number(opts.svgTimeout);
      // setTimeout takes at most 2^31 − 1 ms: beyond (1e10, Infinity) it fires at once and the layout "did not finish"
      if (!DECIMAL.test(opts.svgTimeout) || !(seconds > 0 && seconds <= MAX_SVG_TIMEOUT_S)) {
        throw new InputError(`--svg-timeout: expected a positive number of seconds, at most ${MAX_SVG_TIMEOUT_S.toLocaleString("en-US")} (about 24 days), got ${JSON.stringify(opts.svgTimeout)}`);
      }
      const tensors = order2 ? null : tensorSetUp(expr, opts.at, { partial: !withPoint, command: "dot" });
      let drawn: Drawable;
      if (order2) drawn = dotOrder2(expr, opts.at, opts.wrt, io);
      else if (tensors !== null) drawn = tensorDot(tensors);
      else {
        const { graph } = setUp(expr, opts.at, { partial: !withPoint });
        const snap = snapshot(graph.root, graph.inputs, { values: withPoint });
        drawn = { nodes: snap.nodes, dot: (layout) => toDot(snap, { layout }) };
      }
      // The DOT first: it is complete even when the SVG cannot be laid out in time.
      io.out(drawn.dot("full"));
      if (opts.svg !== undefined) {
        const svg = await svgWithin(drawn, seconds, io);
        await writeOutput("--svg", opts.svg, svg); // creates missing folders; a failure names the file and says why
        io.err(`note: wrote ${opts.svg}\n`);
      }
    });

  program
    .command("paths")
    .description("the lecture's path-product algorithm for one input, and the cost of all three methods")
    .argument("<expr>", EXPR_HELP)
    .addOption(atOption())
    .requiredOption("--wrt <name>", "the input to differentiate with respect to, even when the expression has only one")
    .addHelpText("after", "\nExample:\n  gradgraph paths 'w = x^2 + 3*x' --at x=2 --wrt x")
    .action((expr: string, opts: { at: string[]; wrt: string }) => {
      if (tensorSetUp(expr, opts.at, { command: "paths" }) !== null) {
        throw new InputError("paths: the path-product algorithm runs on scalar expressions, not on tensors");
      }
      const { graph } = setUp(expr, opts.at);
      const wrt = inputNamed(graph, opts.wrt, "--wrt");
      io.out(formatPaths(pathsData(graph.root, graph.inputs, wrt)));
    });

  registerFunctionalCommands(program, io);

  program
    .command("lecture")
    .description("the lecture's goal end to end: L_MLP at (2, 10, -1, 4, 3, 1) (what `npm start` runs)")
    .action(() => {
      io.out(runLecture());
    });

  registerTrainCommands(program, io);
  registerOnnxCommands(program, io, atOption);
}
