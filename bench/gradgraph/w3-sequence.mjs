// W3 profile tool (not a judge): the side-by-side judge's process as it runs — 52 float32 512×512 products of two
// `fromTypedArray` matrices, each read back — printing each product's time and minor page faults, so one sees
// whether and when the fresh result arrays stop costing page faults in a process (they do after some products on
// 2 threads, not within 52 on one: BENCHMARKS.md, "Why W3 misses"). Run after `npm run build`:
//   node bench/gradgraph/w3-sequence.mjs 1   (or 2: the thread count)
const gg = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
const threads = Number(process.argv[2] ?? 1);
gg.setNumThreads(threads);
const n = 512;
const rand = () => new Float32Array(n * n).map(() => Math.random() * 2 - 1);
const A = gg.fromTypedArray(rand(), [n, n]), B = gg.fromTypedArray(rand(), [n, n]);
const seen = [];
for (let i = 0; i < 52; i++) {
  const f0 = process.resourceUsage().minorPageFault, t0 = performance.now();
  A.matmul(B).toArray();
  seen.push(`${(performance.now() - t0).toFixed(2)} ms/${process.resourceUsage().minorPageFault - f0}`);
}
console.log(`${threads} thread(s), each product's time/page faults: ${seen.join(" ")}`);
process.exit(0);
