/**
 * `dot --svg`: Graphviz's layout with a time budget. The layout runs in a worker thread (Graphviz's WebAssembly
 * cannot be interrupted otherwise), so a graph that would take minutes is stopped at the budget. A wide graph
 * (see `layoutFor`) is drawn compact from the start, with a note; a full layout over the budget is retried
 * compact; a compact one over the budget ends with a message saying what to do instead.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { GradgraphError, InputError } from "gradgraph";
import { type DotLayout, layoutFor, type LayoutNode, layoutSpan } from "gradgraph/lecture";
import type { Io } from "./io.js";

/** A graph that can be written as DOT in either layout. */
export interface Drawable {
  nodes: readonly LayoutNode[];
  dot: (layout: DotLayout) => string;
}

/** The default budget of `--svg-timeout`, in seconds. */
export const SVG_TIMEOUT_S = 20;
/** The largest `--svg-timeout`, in seconds: setTimeout's limit, 2^31 − 1 ms (a longer one fires at once). */
export const MAX_SVG_TIMEOUT_S = 2_147_483;

/** Lays `g` out as SVG within `seconds` per attempt; throws an InputError when even the compact layout does not finish. */
export async function svgWithin(g: Drawable, seconds: number, io: Io): Promise<string> {
  const ms = seconds * 1000;
  const layout = layoutFor(g.nodes);
  if (layout === "compact") {
    io.err(
      `note: --svg: the graph is wide (its edges span ${layoutSpan(g.nodes)} ranks, too many for Graphviz's full layout in good time): ` +
        "each input and constant is drawn once per use instead\n",
    );
  }
  let svg = await layOut(g.dot(layout), ms);
  if (svg === null && layout === "full") {
    io.err(`note: --svg: Graphviz did not finish in ${seconds} s; drawing each input and constant once per use instead\n`);
    svg = await layOut(g.dot("compact"), ms);
  }
  if (svg === null) {
    throw new InputError(
      `--svg: Graphviz did not finish laying out the graph (${g.nodes.length} nodes) in ${seconds} s; ` +
        "the DOT on stdout is complete: give more time with --svg-timeout, or lay it out with a system Graphviz (dot -Tsvg)",
    );
  }
  return svg;
}

/** The worker: loads the WebAssembly Graphviz and lays out one graph. */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.url)
  .then((m) => m.Graphviz.load())
  .then((g) => parentPort.postMessage({ svg: g.dot(workerData.dot, "svg") }))
  .catch((e) => parentPort.postMessage({ error: e instanceof Error ? e.message : String(e) }));
`;

/** Graphviz's SVG for `dot`, or null when it takes more than `ms`. */
function layOut(dot: string, ms: number): Promise<string | null> {
  const url = pathToFileURL(createRequire(import.meta.url).resolve("@hpcc-js/wasm-graphviz")).href;
  const worker = new Worker(WORKER, { eval: true, workerData: { url, dot } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(null);
    }, ms);
    const done = () => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once("message", (m: { svg?: string; error?: string }) => {
      done();
      if (m.svg !== undefined) resolve(m.svg);
      else reject(new GradgraphError(`svg: Graphviz could not lay out the graph: ${m.error ?? "no answer"}`));
    });
    worker.once("error", (e) => {
      done();
      reject(new GradgraphError(`svg: Graphviz could not lay out the graph: ${e.message}`));
    });
  });
}
