/**
 * Graph layout off the page's thread, with a time budget and a cancel. Graphviz's `dot` takes time that grows
 * with a graph's width far faster than with its node count (a sum of 100 terms in x: ten seconds; 200 separate
 * inputs: minutes) and cannot be interrupted, so it runs in a Web Worker (layout-worker.ts) that is terminated
 * when a layout runs past its budget, is cancelled, or is overtaken by a newer one; the next layout starts a
 * fresh worker.
 */
import type { LayoutReply, LayoutRequest } from "./layout-worker.js";

/** What a layout came to. */
export type LayoutResult = { svg: string } | { error: string } | { stopped: "timeout" | "cancelled" };

export class Layouts {
  private worker: Worker | null = null;
  private pending: { id: number; finish: (r: LayoutResult) => void; timer: number } | null = null;
  private next = 0;

  /** Lays `dot` out within `budgetMs`; a newer call or {@link cancel} ends this one (as cancelled). */
  lay(dot: string, budgetMs: number): Promise<LayoutResult> {
    this.stop("cancelled");
    const id = ++this.next;
    const worker = (this.worker ??= this.start());
    return new Promise((resolve) => {
      const timer = window.setTimeout(() => this.stop("timeout"), budgetMs);
      this.pending = { id, timer, finish: resolve };
      worker.postMessage({ id, dot } satisfies LayoutRequest);
    });
  }

  /** Stops the layout in progress, if any. */
  cancel(): void {
    this.stop("cancelled");
  }

  private start(): Worker {
    const worker = new Worker(new URL("./layout-worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<LayoutReply>) => {
      const p = this.pending;
      if (p === null || p.id !== e.data.id) return;
      this.pending = null;
      window.clearTimeout(p.timer);
      p.finish("svg" in e.data ? { svg: e.data.svg } : { error: e.data.error });
    };
    worker.onerror = (e) => {
      const p = this.pending;
      this.pending = null;
      if (p === null) return;
      window.clearTimeout(p.timer);
      p.finish({ error: e.message || "the layout worker failed" });
    };
    return worker;
  }

  private stop(why: "timeout" | "cancelled"): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    window.clearTimeout(p.timer);
    // Graphviz cannot be interrupted: the worker goes, the next layout gets a fresh one.
    this.worker?.terminate();
    this.worker = null;
    p.finish({ stopped: why });
  }
}
