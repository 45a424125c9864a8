/**
 * The folder a training run is saved to (`train --out`), written so that it is never seen half done:
 *
 * - a folder that is not empty is refused unless `--overwrite`, and even then only when it holds a gradgraph
 *   run (its `config.json`) and nothing else (only the files a run writes), so that no other folder, and no file
 *   of the user's beside a run (notes, another run saved inside it), is ever replaced;
 * - a lock file beside it (`.NAME.lock`, holding the process id) keeps a second `train` out while one runs; a lock
 *   whose process is gone is taken over;
 * - the files are written into a temporary folder beside it (`.NAME.PID.RANDOM.tmp`), which then takes its place
 *   by renaming — synchronously, so that no signal handler runs in between — and the previous run is removed
 *   only after that. Until then the previous run is untouched, whatever happens.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "gradgraph";
import { CONFIG_FILE, makeFolders, readFileLimited } from "gradgraph/node";

/** What is at `path`: nothing, an empty folder, a folder with files, or something else. */
function whatIsAt(path: string): "nothing" | "empty" | "full" | "other" {
  try {
    if (!statSync(path).isDirectory()) return "other";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "nothing";
    throw e;
  }
  return readdirSync(path).length === 0 ? "empty" : "full";
}

/** The files a run writes into its folder (`--overwrite` replaces a folder holding only these). */
export const RUN_FILES = ["model.safetensors", "config.json", "metrics.csv", "report.html", "optimizer.safetensors", "training-state.json"] as const;

/** What `dir` holds besides a run's own files: `notes.txt`, `old-run/` (a folder with a slash). */
function foreignEntries(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !(RUN_FILES as readonly string[]).includes(e.name) || !e.isFile())
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
}

/** Whether `dir` holds a gradgraph run (a config.json of a gradgraph model). */
function isRun(dir: string): boolean {
  try {
    const config = JSON.parse(new TextDecoder().decode(readFileLimited(join(dir, CONFIG_FILE), 16_000_000))) as { format?: unknown };
    return config.format === "gradgraph-mlp";
  } catch {
    return false;
  }
}

export class RunFolder {
  private tmp: string | null = null;
  private locked = false;

  private constructor(
    /** `--out` as given (for messages). */
    readonly out: string,
    /** The folder's real path (a link to a folder is followed). */
    readonly target: string,
    private readonly overwrite: boolean,
  ) {}

  private get lockPath(): string {
    return join(dirname(this.target), `.${basename(this.target)}.lock`);
  }

  /**
   * Checks `--out` (refusing a folder with files in it unless `overwrite`, and then anything but a previous
   * run), creates its missing parents and takes the lock. Errors are {@link InputError}s naming `--out`.
   */
  static async open(out: string, overwrite: boolean): Promise<RunFolder> {
    let target = resolve(out);
    try {
      target = realpathSync(out);
    } catch {
      // Not there yet.
    }
    const folder = new RunFolder(out, target, overwrite);
    await makeParents(out, target);
    folder.check();
    folder.lock();
    try {
      folder.check(); // again, under the lock: another run may have finished meanwhile
    } catch (e) {
      folder.release();
      throw e;
    }
    return folder;
  }

  /** Refuses what may not be replaced. */
  private check(): void {
    const at = whatIsAt(this.target);
    if (at === "other") throw new InputError(`--out ${this.out}: cannot create the folder (${this.target} exists and is not a folder)`);
    if (at !== "full") return;
    if (!this.overwrite) throw new InputError(`--out ${this.out}: the folder is not empty; add --overwrite to replace a previous run there, or choose a new folder`);
    if (!isRun(this.target)) {
      throw new InputError(`--out ${this.out}: the folder is not empty and holds no gradgraph run (no ${CONFIG_FILE} of one), so --overwrite does not replace it; choose a new or empty folder`);
    }
    const foreign = foreignEntries(this.target);
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : "");
      throw new InputError(
        `--out ${this.out}: the folder holds a previous run and also ${shown}, which a run does not write; --overwrite replaces only a run's own files (${RUN_FILES.join(", ")}), so it refuses to replace this folder: move those elsewhere, or choose another --out`,
      );
    }
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, "wx");
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new InputError(`--out ${this.out}: cannot create the lock file ${this.lockPath} (${(e as Error).message})`);
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(new TextDecoder().decode(readFileLimited(this.lockPath, 100)), 10);
      } catch {
        // Unreadable: treated as stale below.
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new InputError(`--out ${this.out}: another gradgraph train (process ${pid}) is writing there; wait for it to end, or choose another --out (the lock is ${this.lockPath})`);
      }
      rmSync(this.lockPath, { force: true }); // its process is gone
    }
    throw new InputError(`--out ${this.out}: cannot take the lock ${this.lockPath}`);
  }

  /** The temporary folder to write into (created on first use). */
  workDir(): string {
    if (this.tmp === null) {
      const tmp = join(dirname(this.target), `.${basename(this.target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
      mkdirSync(tmp);
      this.tmp = tmp;
    }
    return this.tmp;
  }

  /** Puts the written folder in place of `--out` (the previous run, if any, is removed after) and unlocks. */
  commit(): void {
    const tmp = this.workDir();
    this.check();
    if (whatIsAt(this.target) === "full") {
      const old = `${tmp}.old`;
      renameSync(this.target, old);
      renameSync(tmp, this.target);
      this.tmp = null;
      rmSync(old, { recursive: true, force: true });
    } else {
      if (whatIsAt(this.target) === "empty") rmSync(this.target, { recursive: true });
      renameSync(tmp, this.target);
      this.tmp = null;
    }
    this.release();
  }

  /** Removes the temporary folder and unlocks: whatever was at `--out` stays as it was. Synchronous. */
  discard(): void {
    if (this.tmp !== null) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = null;
    this.release();
  }

  private release(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // Already gone.
    }
  }
}

/** Whether a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates the missing parents of `target` (writable ones), or says which folder and why not. */
async function makeParents(out: string, target: string): Promise<void> {
  await makeFolders(dirname(target), { writable: true }).catch((e: Error) => {
    throw new InputError(`--out ${out}: cannot create the folder (${e.message})`);
  });
}
