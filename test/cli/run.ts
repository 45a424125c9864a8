import { main } from "../../packages/cli/src/main.js";
import { memoryIo } from "../../packages/cli/src/io.js";

/** Runs the CLI in-process and returns what it printed and its exit code. */
export async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string; combined: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr(), combined: io.combined() };
}

/** Splits a shell command line into words (single and double quotes; no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}
