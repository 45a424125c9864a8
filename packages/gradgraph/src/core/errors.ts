/**
 * Typed errors. Every error says what was expected and what came; the CLI prints `message` (never a stack)
 * and exits with code 2 for any {@link GradgraphError}.
 */
export class GradgraphError extends Error {
  override name = "GradgraphError";
}

/** Shapes that do not fit an op, e.g. `matmul: inner dimensions differ: [2,3] @ [4,5]`. */
export class ShapeError extends GradgraphError {
  override name = "ShapeError";
}

/** A value that is not of the expected kind (bad binding, wrong count of positional values, ...). */
export class InputError extends GradgraphError {
  override name = "InputError";
}

/**
 * An error at a position in a source text. `format()` shows the source line with a caret under the position,
 * the way a compiler does.
 */
export class SourceError extends GradgraphError {
  override name = "SourceError";
  constructor(
    message: string,
    /** The whole source text. */
    readonly source: string,
    /** 0-based character offset of the problem. */
    readonly pos: number,
    /** Length of the span to underline (at least 1). */
    readonly length = 1,
    /** What the source is called in the message, e.g. `expression` or `--at`. */
    readonly where = "expression",
  ) {
    super(message);
  }

  /** `where:1:5: message`, the source line, and a caret line. */
  format(): string {
    return `${this.where}:${this.column()}: ${this.message}\n${caretLines(this.source, this.pos, this.length)}`;
  }

  /** 1-based column of the position. */
  column(): number {
    return this.pos + 1;
  }
}

/** Several source errors found at once (e.g. every unknown name in an expression). */
export class SourceErrors extends GradgraphError {
  override name = "SourceErrors";
  constructor(readonly errors: SourceError[]) {
    super(errors.map((e) => e.message).join("; "));
  }
  /** Every error formatted with its source line and caret, one after the other. */
  format(): string {
    return this.errors.map((e) => e.format()).join("\n");
  }
}

/** The widest source excerpt an error shows; a longer line is cut to a window around the caret, with `…` marks. */
export const CARET_WINDOW = 76;

/**
 * The source line (single line; tabs kept) and a line with `^` under `[pos, pos+length)`. A line longer than
 * {@link CARET_WINDOW} characters is shown as a window around the caret (a 120 kB expression gives two short
 * lines, not 240 kB); the column in the message still counts from the start of the line.
 */
export function caretLines(source: string, pos: number, length = 1): string {
  const line = source.replace(/\r?\n/g, " ");
  const at = Math.max(0, Math.min(pos, line.length));
  const n = Math.max(1, Math.min(length, Math.max(1, line.length - at)));
  if (line.length <= CARET_WINDOW) return `  ${line}\n  ${" ".repeat(at)}${"^".repeat(n)}`;
  const start = Math.max(0, Math.min(at - Math.floor(CARET_WINDOW / 3), line.length - CARET_WINDOW));
  const end = Math.min(line.length, start + CARET_WINDOW);
  const head = start > 0 ? "…" : "";
  const shown = `${head}${line.slice(start, end)}${end < line.length ? "…" : ""}`;
  return `  ${shown}\n  ${" ".repeat(head.length + at - start)}${"^".repeat(Math.max(1, Math.min(n, end - at)))}`;
}

/**
 * A command stopped by the user (Ctrl-C) or a signal after finishing cleanly: the CLI prints the message and
 * exits with 128 + the signal's number (130 for SIGINT), as a shell expects of an interrupted program. Not a {@link GradgraphError}: nothing was wrong.
 */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor(
    message: string,
    /** The exit code: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
    readonly exitCode = 130,
  ) {
    super(message);
  }
}

/** Text for any thrown value, without a stack: the formatted source error, or the message. */
export function describeError(e: unknown): string {
  if (e instanceof SourceError || e instanceof SourceErrors) return e.format();
  if (e instanceof Error) return e.message;
  return String(e);
}
