/** Where the CLI writes: process streams by default, buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress bars, colours). */
  isTTY: boolean;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
};

let guarded = false;
let outputMayFail = false;

/**
 * While on, output that cannot be written is dropped instead of ending the process: a run that is saving its
 * results goes on when its terminal has closed (SIGHUP, then EIO) or its reader has gone.
 */
export function keepRunningWithoutOutput(on: boolean): void {
  outputMayFail = on;
}

/**
 * Output that cannot be written ends the process without a stack trace: a closed pipe (`gradgraph ... | head`)
 * quietly, as other command-line tools do; any other failure (a full disk) with a one-line message and exit
 * code 2.
 */
export function guardProcessStreams(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (outputMayFail) return;
      if (e.code === "EPIPE") process.exit(0);
      if (stream !== process.stderr) process.stderr.write(`gradgraph: cannot write the output: ${e.message}\n`);
      process.exit(2);
    });
  }
}

/** Collects output in memory (for tests and embedding). */
export function memoryIo(): Io & { stdout: () => string; stderr: () => string; combined: () => string } {
  let out = "";
  let err = "";
  let both = "";
  return {
    out: (t) => void ((out += t), (both += t)),
    err: (t) => void ((err += t), (both += t)),
    isTTY: false,
    stdout: () => out,
    stderr: () => err,
    /** Both streams in the order they were written, as a terminal shows them. */
    combined: () => both,
  };
}
