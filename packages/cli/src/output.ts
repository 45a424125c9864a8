/** Files the CLI writes on request (`-o`, `--onnx`, `--svg`): the name checked first, the write atomic. */
import { InputError } from "gradgraph";
import { writeFileAtomic } from "gradgraph/node";

/**
 * Throws unless `file`, given with `option`, names a file: not empty, and not `-` (which would be a file named
 * "-", where a user means standard output: this command's standard output is its summary, or the DOT text).
 * Called before the work, so that a bad name costs nothing.
 */
export function checkOutputName(option: string, file: string): void {
  if (file.trim() === "") throw new InputError(`${option}: no file name given`);
  if (file === "-") throw new InputError(`${option} -: give a file name (this command writes it to a file; its standard output is for what it prints)`);
}

/** Writes `data` to `file` atomically (creating folders); an error names the option and says why. */
export async function writeOutput(option: string, file: string, data: string | Uint8Array): Promise<void> {
  checkOutputName(option, file);
  await writeFileAtomic(file, data).catch((e: unknown) => {
    throw e instanceof InputError ? new InputError(`${option} ${e.message}`) : e;
  });
}
