/**
 * DOT to SVG with a WebAssembly build of Graphviz (`@hpcc-js/wasm-graphviz`): no system Graphviz needed, in
 * Node or a browser. The module (a few MB) is loaded on first use only.
 */
import { GradgraphError } from "gradgraph";

type Graphviz = Awaited<ReturnType<(typeof import("@hpcc-js/wasm-graphviz"))["Graphviz"]["load"]>>;
let graphviz: Promise<Graphviz> | undefined;

/**
 * Lays out `dot` with Graphviz's `dot` engine and returns the SVG document.
 *
 * @example
 * const svg = await renderSvg(toDot(snapshot(d, [x, y])));
 * svg.includes("<svg"); // true
 */
export async function renderSvg(dot: string): Promise<string> {
  graphviz ??= import("@hpcc-js/wasm-graphviz").then((m) => m.Graphviz.load());
  const g = await graphviz;
  try {
    return g.dot(dot, "svg");
  } catch (e) {
    throw new GradgraphError(`svg: Graphviz could not lay out the graph: ${e instanceof Error ? e.message : String(e)}`);
  }
}
