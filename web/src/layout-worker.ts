/**
 * The Web Worker that lays graphs out: Graphviz (WebAssembly, through the library's `renderSvg`) runs here, so
 * a slow layout never holds the page; the page terminates this worker when a layout runs past its budget or is
 * cancelled (see layout.ts).
 */
import { renderSvg } from "./graphviz.js";

/** A layout request, and its answer: the SVG, or why there is none. */
export interface LayoutRequest {
  id: number;
  dot: string;
}
export type LayoutReply = { id: number; svg: string } | { id: number; error: string };

self.onmessage = (e: MessageEvent<LayoutRequest>) => {
  const { id, dot } = e.data;
  renderSvg(dot).then(
    (svg) => self.postMessage({ id, svg } satisfies LayoutReply),
    (err: unknown) => self.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies LayoutReply),
  );
};
