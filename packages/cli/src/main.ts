/**
 * The `gradgraph` command: what a person writes on the board, and a point, in; the graph, both passes,
 * lecture-style code and the gradients out. Bad input exits with code 2 and a message, never a stack trace.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { describeError, GradgraphError, Interrupted } from "gradgraph";
import { guardProcessStreams, processIo, type Io } from "./io.js";
import { registerCommands } from "./commands.js";

/**
 * Exit codes: 0 success, 2 bad input (usage, syntax, bindings, shapes), 1 an internal error, 130 stopped by Ctrl-C
 * (143 by SIGTERM, 129 by SIGHUP).
 */
export const EXIT = { ok: 0, internal: 1, usage: 2, interrupted: 130 } as const;

/** This package's version, from its package.json (one folder up from both src/ and dist/). */
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Builds the command tree, writing through `io`. */
export function buildProgram(io: Io): Command {
  const program = new Command("gradgraph")
    .description(
      "Computational graphs and backpropagation: give an expression as written on the board and a point;\n" +
        "get the graph, the forward and backward passes, lecture-style code and the gradients.",
    )
    .version(VERSION);
  registerCommands(program, io);
  // The parser's own errors (unknown command or option, missing argument) read like every other error:
  // `gradgraph: unknown option '--frob'`, then where to find the usage; exit code 2.
  for (const cmd of [program, ...program.commands]) {
    // commander's help lists a required option like any other: say it is required
    for (const o of cmd.options) if (o.mandatory) o.description += " (required)";
    const name = cmd === program ? "gradgraph" : `gradgraph ${cmd.name()}`;
    const takesExpression = cmd.registeredArguments[0]?.name() === "expr";
    const outputError = (text: string, write: (t: string) => void) => {
      const message = text.replace(/^error: /, "").trimEnd();
      const hint = takesExpression && message.startsWith("unknown option") ? `\n(an expression that starts with - goes first, or last after --: ${name} [options] -- '--x')` : "";
      write(`gradgraph: ${message}${hint}\n`);
    };
    cmd.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err, outputError }).showHelpAfterError(`(run ${name} --help for usage)`);
  }
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
    await program.parseAsync(protectExpressions(helpTopic(argv, program), program), { from: "user" });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander already printed its message.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof Interrupted) {
      io.err(`gradgraph: ${e.message}\n`);
      return e.exitCode;
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
 * An expression may start with a minus (`-x^2`, `--x`), which an option parser would take for an option. In a
 * command that takes an expression, an argument that starts with `-` and is none of that command's options is
 * the expression when no expression has come yet: it is moved behind `--`, where only positional arguments
 * stand. Option values (`--at -1,2`) stay where they are. Anything after a `--` the user wrote is positional.
 */
export function protectExpressions(argv: readonly string[], program: Command): string[] {
  const kept: string[] = [];
  const moved: string[] = [];
  let cmd: Command = program;
  let inCommand = false;
  let expressionDue = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      // What the user put behind `--` follows what was moved there (an expression moved comes first).
      for (const rest of argv.slice(i + 1)) moved.push(rest);
      break;
    }
    const option = optionNamed(cmd, a);
    if (option !== undefined) {
      kept.push(a);
      // A value given as the next word (`--at -1,2`) is kept as it is, whatever it starts with.
      if ((option.required || (option.optional && i + 1 < argv.length && !argv[i + 1]!.startsWith("-"))) && !a.includes("=")) {
        if (i + 1 < argv.length) kept.push(argv[++i]!);
      }
      continue;
    }
    if (!inCommand && !a.startsWith("-")) {
      inCommand = true;
      const found = program.commands.find((c) => c.name() === a || c.aliases().includes(a));
      if (found !== undefined) {
        cmd = found;
        expressionDue = found.registeredArguments[0]?.name() === "expr";
      }
      kept.push(a);
      continue;
    }
    if (inCommand && expressionDue && a.startsWith("-") && a.length > 1) {
      moved.push(a);
      expressionDue = false;
      continue;
    }
    if (inCommand && !a.startsWith("-")) expressionDue = false;
    kept.push(a);
  }
  return moved.length > 0 ? [...kept, "--", ...moved] : kept;
}

/**
 * `gradgraph help NAME` for a NAME that is no command is read as `gradgraph NAME`, which the parser refuses as
 * `unknown command 'NAME'` (with a suggestion); commander would print the general help (exit 2) without naming it.
 */
function helpTopic(argv: readonly string[], program: Command): readonly string[] {
  const [first, topic] = argv;
  if (first !== "help" || topic === undefined || topic.startsWith("-") || topic === "help") return argv;
  return program.commands.some((c) => c.name() === topic || c.aliases().includes(topic)) ? argv : argv.slice(1);
}

/** The option of `cmd` that `arg` names (`--at`, `--at=…`, `-h`), or undefined. */
function optionNamed(cmd: Command, arg: string): Option | undefined {
  if (!arg.startsWith("-")) return undefined;
  const name = arg.startsWith("--") ? arg.split("=")[0]! : arg;
  return [...cmd.options, cmd.createOption("-h, --help", "")].find((o) => o.long === name || o.short === name);
}
