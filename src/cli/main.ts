/**
 * The `gradgraph` command: what a person writes on the board, and a point, in; the graph, both passes,
 * lecture-style code and the gradients out. Bad input exits with code 2 and a message, never a stack trace.
 */
import { Command, CommanderError } from "commander";
import { GradgraphError, Interrupted, describeError } from "../core/errors.js";
import { guardProcessStreams, processIo, type Io } from "./io.js";
import { registerCommands } from "./commands.js";

/** Exit codes: 0 success, 2 bad input (usage, syntax, bindings, shapes), 1 an internal error, 130 stopped by Ctrl-C. */
export const EXIT = { ok: 0, internal: 1, usage: 2, interrupted: 130 } as const;

/** Builds the command tree, writing through `io`. */
export function buildProgram(io: Io): Command {
  const program = new Command("gradgraph")
    .description(
      "Computational graphs and backpropagation: give an expression as written on the board and a point;\n" +
        "get the graph, the forward and backward passes, lecture-style code and the gradients.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  registerCommands(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  return program;
}

/** Runs the CLI on `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  if (io === processIo) guardProcessStreams();
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(protectExpressions(argv, program), { from: "user" });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander already printed its message.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof Interrupted) {
      io.err(`gradgraph: ${e.message}\n`);
      return EXIT.interrupted;
    }
    if (e instanceof GradgraphError) {
      io.err(`gradgraph: ${describeError(e)}\n`);
      return EXIT.usage;
    }
    const detail = process.env.GRADGRAPH_DEBUG ? `\n${(e as Error).stack ?? ""}` : " (set GRADGRAPH_DEBUG=1 for details)";
    io.err(`gradgraph: internal error: ${describeError(e)}${detail}\n`);
    return EXIT.internal;
  }
}

/**
 * An expression may start with a minus (`-x^2`), which an option parser would take for an option. Such an
 * argument (a single dash followed by anything but a known short flag) is moved behind `--`, where only
 * positional arguments stand. Option values (`--at -1,2`) are left where they are.
 */
export function protectExpressions(argv: readonly string[], program: Command): string[] {
  const takesValue = new Set<string>();
  for (const cmd of [program, ...program.commands]) {
    for (const o of cmd.options) {
      if (o.required || o.optional) {
        if (o.long) takesValue.add(o.long);
        if (o.short) takesValue.add(o.short);
      }
    }
  }
  // Before the command, the program's own flags (-h, -V); after it, only that command's (-h): there `-V` is
  // an expression.
  const flagsOf = (cmd: Command) => new Set(["-h", ...cmd.options.filter((o) => o.short && !(o.required || o.optional)).map((o) => o.short!)]);
  let shortFlags = new Set(["-V", ...flagsOf(program)]);
  let inCommand = false;
  const kept: string[] = [];
  const moved: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      moved.push(...argv.slice(i + 1));
      break;
    }
    const previous = argv[i - 1];
    const isValue = previous !== undefined && takesValue.has(previous);
    if (!inCommand && !a.startsWith("-")) {
      const cmd = program.commands.find((c) => c.name() === a);
      if (cmd !== undefined) shortFlags = flagsOf(cmd);
      inCommand = true;
    }
    if (!isValue && /^-[^-]/.test(a) && !shortFlags.has(a)) moved.push(a);
    else kept.push(a);
  }
  return moved.length > 0 ? [...kept, "--", ...moved] : kept;
}
