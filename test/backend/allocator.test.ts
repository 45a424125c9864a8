// The allocator warm-up (backend/ndarray.ts, `uninitArray`): before the first large storage, one 32 MB buffer is
// allocated and dropped, so that glibc's malloc raises its mmap threshold when it is freed and large results
// freed by a garbage collection are reused, instead of fresh mappings whose pages fault in again on every op.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fromTypedArray } from "gradgraph";
import { allocator } from "../../packages/gradgraph/src/backend/ndarray.js";

const dist = fileURLToPath(new URL("../../packages/gradgraph/dist/index.js", import.meta.url));

describe("allocator warm-up", () => {
  it("runs at the first storage of 128 KB or more, not before", () => {
    fromTypedArray(new Float32Array(1 << 14).fill(1), [1 << 14]).add(1); // 64 KB results: no warm-up needed
    expect(allocator.warm).toBe(false);
    fromTypedArray(new Float32Array(1 << 16).fill(1), [1 << 16]).add(1); // 256 KB
    expect(allocator.warm).toBe(true);
  });

  // Page faults are what the warm-up removes: a process that makes 1 MB results, collecting garbage every 8,
  // counts the minor page faults of each op. Without the warm-up each result is a fresh mapping (about 256 faults
  // per op, every op); with it, ops after the first collection reuse freed results' pages.
  // The child sweeps dead buffers in the collection itself (--no-concurrent-array-buffer-sweeping): by default V8
  // frees them on a background thread, and on a busy machine the first ops after a collection may run before the
  // free and map fresh pages (CI saw 3 such ops), which is the sweeper's timing, not the allocator's.
  // glibc only: another malloc (musl on Alpine) keeps no such threshold, and the warm-up changes nothing there.
  const glibc = process.platform === "linux" && (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime !== undefined;
  it.runIf(glibc)("large results reuse freed memory after a collection (glibc)", () => {
    const script = `
      const gg = await import(${JSON.stringify(dist)});
      const A = gg.fromTypedArray(new Float32Array(1 << 18).fill(1), [1 << 18]);
      const per = [];
      for (let i = 0; i < 40; i++) {
        if (i % 8 === 7) globalThis.gc();
        const f0 = process.resourceUsage().minorPageFault;
        A.add(1);
        per.push(process.resourceUsage().minorPageFault - f0);
      }
      console.log(JSON.stringify(per));`;
    const per = JSON.parse(execFileSync(process.execPath, ["--expose-gc", "--no-concurrent-array-buffer-sweeping", "--input-type=module", "-e", script], { encoding: "utf8" })) as number[];
    const late = per.slice(16); // after two collections
    const faults = late.reduce((s, f) => s + f, 0);
    // Without the warm-up: about 256 × 24 = 6,100; with it, a handful (one op now and then maps a page anew).
    expect(faults, `faults per op: ${per.join(" ")}`).toBeLessThan(late.length * 32);
  });
});
