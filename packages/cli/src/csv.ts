/**
 * A user's own table as a classification dataset: a CSV file with a header row, one column of labels (any text:
 * each distinct value is a class, in sorted order — numerically when all are numbers; or, for a trained model, the
 * classes it was trained on, matched by name) and numeric feature columns.
 * Parsed by `csv-parse` (quotes, CRLF, a byte-order mark); a row with the wrong number of cells or a cell that is
 * not a number is refused with its line number.
 */
import { createHash } from "node:crypto";
import { fromTypedArray, InputError, nn, type DType } from "gradgraph";
import { numberRangeProblem } from "gradgraph/lecture";
import { readFileLimited } from "gradgraph/node";

const { Dataset } = nn;
type Dataset = nn.Dataset;
/** A float array of the dtype. */
const floats = (dtype: DType, n: number) => (dtype === "float64" ? new Float64Array(n) : new Float32Array(n));

export interface CsvOptions {
  /** The label column's name (default: the last column). */
  label?: string;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** The dataset's name (default "csv"). */
  name?: string;
  /**
   * The classes a model was trained on (index = the model's output): each label is mapped to its class by name,
   * and these are the dataset's classes whichever of them the file holds (one class, even one row, is fine). A
   * label that is not among them is an {@link InputError} naming it and them. Default: the file's own labels.
   */
  classes?: readonly string[];
  /** With `classes`: a label may also be a class's index, 0 … k−1 (for a named dataset's classes, which a file may give as numbers). */
  indexLabels?: boolean;
  /**
   * The feature columns a model was trained on, in its order: a file whose feature columns are exactly these names
   * in another order has them taken by name, in this order (said in a {@link CsvOptions.note}); otherwise, in the
   * file's order.
   */
  features?: readonly string[];
  /**
   * The figures a model's features will be standardised by, one per feature in the order read (`(x − mean) /
   * deviation`, as `nn.standardizedBy`): a cell finite in the file but beyond the dtype's range once standardised
   * is an {@link InputError} naming its line. Ignored when they are for another number of features.
   */
  standardizedBy?: nn.FeatureStats;
  /** Read for a trained model (eval): its label column and dtype come from training, not options, and errors say so. */
  forModel?: boolean;
  /** Receives a one-line note when the file is read otherwise than it is laid out (its columns taken by name). */
  note?: (text: string) => void;
}

/** What a dataset read from a CSV file was read from: its label column's name and (read from a file) the SHA-256 of the file's bytes. */
const sources = new WeakMap<Dataset, { label: string; sha256?: string }>();

/** The label column's name and the file's SHA-256 (hex) of a dataset {@link parseCsv} or {@link loadCsv} made. */
export function csvSource(ds: Dataset): { label: string; sha256?: string } | undefined {
  return sources.get(ds);
}

/** The largest CSV file read. */
export const MAX_CSV_BYTES = 500_000_000;

/** A number as written in a cell (`1`, `-0.5`, `1e-3`, `.5`); not `""`, `0x10`, `Infinity` or `NaN` (nor, checked apart, `1e999`). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses CSV text into a dataset: x [rows, features] (the columns other than the label, in file order), y [rows]
 * (class indices); `info.classes` are the label values, `info.features` the feature columns' names. `where` names
 * the file in errors (`data.csv:7: …`).
 *
 * @example
 * const ds = await parseCsv("a,b,kind\n1,2,x\n3,4,y\n", "t.csv"); // x [[1, 2], [3, 4]], y [0, 1], classes ["x", "y"]
 */
export async function parseCsv(text: string, where: string, o: CsvOptions = {}): Promise<Dataset> {
  const { parse } = await import("csv-parse/sync");
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    // CRLF and LF (and CR) each end a record, mixed in one file too (csv-parse would take the first line's for all)
    const options = { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, record_delimiter: ["\r\n", "\n", "\r"] };
    rows = parse(text, options) as unknown as typeof rows;
  } catch (e) {
    const opened = (e as { code?: string }).code === "CSV_QUOTE_NOT_CLOSED" ? unclosedQuoteLine(text) : undefined;
    if (opened !== undefined) throw new InputError(`${where}:${opened}: a quoted cell opens on this line and its closing quote (") never comes; close it, or write a quote inside a quoted cell as ""`);
    const line = (e as { lines?: number }).lines;
    throw new InputError(`${where}${line === undefined ? "" : `:${line}`}: not valid CSV (${shown((e as Error).message, 200)})`);
  }
  const [head, ...body] = rows;
  if (head === undefined) throw new InputError(`${where}: empty; expected a header row (the column names) and rows of numbers`);
  const header = head.record;
  if (header.length < 2) throw new InputError(`${where}:${head.info.lines}: the header has ${header.length} column; expected at least two (features and a label)`);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new InputError(`${where}:${head.info.lines}: the header names column ${quote(dup)} twice`);
  const labelName = o.label ?? header[header.length - 1]!;
  const li = header.indexOf(labelName);
  if (li < 0) {
    const columns = `(its columns: ${shown(header.join(", "), 300)})`;
    throw new InputError(o.forModel ? `the model's label column ${labelName} (from training) is missing from ${where} ${columns}` : `--label ${shown(labelName)}: ${where} has no such column ${columns}`);
  }
  if (body.length === 0) throw new InputError(`${where}: a header and no rows; expected rows of numbers below it`);
  const f = header.length - 1, n = body.length;
  const at = featurePositions(header, li, o.features);
  if (at.reordered) o.note?.(`${where}'s feature columns are ${header.filter((_, c) => c !== li).join(", ")}; the model was trained on ${o.features!.join(", ")}: they are taken by name`);
  const dtype = o.dtype ?? "float32";
  const scale = o.standardizedBy?.mean.length === f && o.standardizedBy.deviation.length === f ? o.standardizedBy : undefined;
  const X = floats(dtype, n * f);
  const labels: string[] = new Array<string>(n);
  body.forEach(({ record, info }, r) => {
    if (record.length !== header.length) throw new InputError(`${where}:${info.lines}: ${record.length} cells, but the header has ${header.length} columns`);
    record.forEach((cell, c) => {
      if (c === li) {
        if (cell === "") throw new InputError(`${where}:${info.lines}: the label (column ${quote(labelName)}) is empty`);
        labels[r] = cell;
        return;
      }
      const j = at.position[c]!, cellAt = `${where}:${info.lines}: column ${quote(header[c]!)}`;
      const x = cellValue(cell, cellAt, dtype, o.forModel === true);
      if (scale !== undefined) checkStandardized(x, cell, cellAt, dtype, scale.mean[j]!, scale.deviation[j]!);
      X[r * f + j] = x;
    });
  });
  const { classes, index } = o.classes === undefined ? ownClasses(labels, labelName, where) : givenClasses(o.classes, o.indexLabels === true);
  const Y = floats(o.dtype ?? "float32", n);
  labels.forEach((l, r) => {
    const c = index.get(l);
    if (c === undefined) {
      const byIndex = o.indexLabels ? `, or their indices 0 to ${classes.length - 1}` : "";
      throw new InputError(`${where}:${body[r]!.info.lines}: label ${quote(l)} (column ${quote(labelName)}) is not a class the model was trained on (${shown(classes.join(", "), 300)}${byIndex})`);
    }
    Y[r] = c;
  });
  const ds = new Dataset(fromTypedArray(X, [n, f]), fromTypedArray(Y, [n]), {
    name: o.name ?? "csv",
    task: "classification",
    classes,
    features: at.names,
  });
  sources.set(ds, { label: labelName });
  return ds;
}

/**
 * The line where the quoted cell left open at the end of `text` opens (a quote at a cell's start, `""` inside
 * one being a quote), or undefined when every quoted cell closes.
 */
function unclosedQuoteLine(text: string): number | undefined {
  let line = 1, opened = 0, quoted = false, cellStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"' && cellStart) (quoted = true), (opened = line);
    else if (c === "," || c === "\n" || c === "\r") cellStart = true;
    else if (c !== " " && c !== "\t" && c !== "\uFEFF") cellStart = false;
  }
  return quoted ? opened : undefined;
}

/** The longest cell quoted whole in a message. */
const SHOWN_CHARS = 60;

/** `text` cut to `max` characters around a `…` (its start and its end), or undefined when it fits. */
function cut(text: string, max: number): string | undefined {
  if (text.length <= max) return undefined;
  const head = Math.ceil((max * 2) / 3);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - head))}`;
}
const characters = (text: string) => `(${text.length.toLocaleString("en-US")} characters)`;

/** A cell (or any text from the file) for a message: whole when short, else cut as expression errors are, with its length. */
export function shown(text: string, max = SHOWN_CHARS): string {
  const c = cut(text, max);
  return c === undefined ? text : `${c} ${characters(text)}`;
}

/** A cell quoted for a message (`"n/a"`), a long one cut as {@link shown} cuts it. */
function quote(cell: string): string {
  const c = cut(cell, SHOWN_CHARS);
  return c === undefined ? JSON.stringify(cell) : `${JSON.stringify(c)} ${characters(cell)}`;
}

/**
 * Where each column of the file goes among the features (the label's, -1): in file order, or, when `names` (a
 * model's) are exactly the file's feature columns in another order, in the order of `names`.
 */
function featurePositions(header: string[], li: number, names?: readonly string[]): { position: number[]; names: string[]; reordered: boolean } {
  const own = header.filter((_, c) => c !== li);
  const same = names !== undefined && names.length === own.length && new Set(names).size === names.length && names.every((n) => own.includes(n));
  const reordered = same && names.some((n, i) => n !== own[i]);
  const order = reordered ? [...names] : own;
  return { position: header.map((h, c) => (c === li ? -1 : order.indexOf(h))), names: order, reordered };
}

/** The largest finite number of each dtype, as messages write it. */
const MAX = { float32: "3.4e38", float64: "1.8e308" } as const;

/**
 * A feature cell's number, as the dtype stores it; `at` (`file:7: column "x"`) names it in errors, which suggest
 * --dtype float64 for a float32 too small, unless the dtype is a trained model's (`forModel`).
 */
function cellValue(cell: string, at: string, dtype: DType, forModel: boolean): number {
  if (!NUMBER.test(cell)) throw new InputError(`${at} holds ${quote(cell)}, expected a number`);
  const x = Number(cell);
  // 1e-999 would be read as 0, silently: refused as everywhere numbers are read
  if (x === 0 && numberRangeProblem(cell, x) !== null) throw new InputError(`${at} holds ${shown(cell)}, which ${numberRangeProblem(cell, x)}`);
  // 1e999 matches NUMBER but is Infinity; 1e39 is Infinity in float32: either would make every loss NaN.
  if (!Number.isFinite(dtype === "float32" ? Math.fround(x) : x)) {
    const fix = forModel ? `): the model's dtype, float32, cannot hold it` : `; --dtype float64 reads up to about ${MAX.float64})`;
    const hint = dtype === "float32" && Number.isFinite(x) ? ` (at most about ${MAX.float32}${fix}` : "";
    throw new InputError(`${at} holds ${shown(cell)}, beyond ${dtype}'s range${hint}`);
  }
  return dtype === "float32" ? Math.fround(x) : x;
}

/**
 * Refuses a value that standardising as `nn.standardizedBy` does ((x − mean) / deviation, a deviation of 0 only
 * centring) takes beyond the dtype's range: the model would see ±Infinity, and every loss would be NaN.
 */
function checkStandardized(x: number, cell: string, at: string, dtype: DType, mean: number, deviation: number): void {
  const z = deviation > 0 ? (x - mean) / deviation : x - mean;
  if (Number.isFinite(dtype === "float32" ? Math.fround(z) : z)) return;
  const figure = (v: number) => Number(v.toPrecision(6));
  const how = deviation > 0 ? `(x − ${figure(mean)}) / ${figure(deviation)}` : `x − ${figure(mean)}`;
  throw new InputError(`${at} holds ${shown(cell)}, which standardised by the model's figures, ${how}, is beyond ${dtype}'s range (at most about ${MAX[dtype as keyof typeof MAX]}), the model's dtype`);
}

/** The file's own classes: its distinct labels, sorted (numerically when all are numbers); at least two. */
function ownClasses(labels: string[], labelName: string, where: string): { classes: string[]; index: Map<string, number> } {
  const distinct = [...new Set(labels)];
  if (distinct.length < 2) throw new InputError(`${where}: the label column ${quote(labelName)} holds one value (${quote(distinct[0]!)}) in every row; a classifier needs at least two classes`);
  const numeric = distinct.every((l) => NUMBER.test(l));
  const classes = distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  return { classes, index: new Map(classes.map((c, i) => [c, i])) };
}

/** Given classes, each label mapped by name (and, with `byIndex`, by its index written as a whole number). */
function givenClasses(given: readonly string[], byIndex: boolean): { classes: string[]; index: Map<string, number> } {
  const index = new Map<string, number>(byIndex ? given.map((_, i) => [String(i), i]) : []);
  given.forEach((c, i) => index.set(c, i)); // a name wins over an index written the same
  return { classes: [...given], index };
}

/** Reads a CSV file (Node only) and parses it with {@link parseCsv}. */
export async function loadCsv(path: string, o: CsvOptions = {}): Promise<Dataset> {
  let bytes: Uint8Array;
  try {
    bytes = readFileLimited(path, MAX_CSV_BYTES, "a CSV file");
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${path}: not UTF-8 text; expected a CSV file`);
  }
  const ds = await parseCsv(text, path, o);
  sources.set(ds, { label: sources.get(ds)!.label, sha256: createHash("sha256").update(bytes).digest("hex") });
  return ds;
}
