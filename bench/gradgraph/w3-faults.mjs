// W3 profile tool (not a judge): 512×512 float32 products read back (the side-by-side script's timed call), in
// rounds of 40, printing each round's time per product and the minor page faults per product
// (process.resourceUsage()). Shows the first-touch cost of each fresh result array and the point where it stops.
// THREADS=n (default 1), ROUNDS=r (default 6). Run after `npm run build`: node bench/gradgraph/w3-faults.mjs
// For comparison: MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 node bench/gradgraph/w3-faults.mjs
const { randn, setNumThreads } = await import(new URL("../../packages/gradgraph/dist/index.js", import.meta.url).href);
const n = 512, threads = Number(process.env.THREADS ?? 1), rounds = Number(process.env.ROUNDS ?? 6);
setNumThreads(threads);
const a = randn([n, n], { dtype: "float32" }), b = randn([n, n], { dtype: "float32" });
for (let r = 0; r < rounds; r++) {
  const faults0 = process.resourceUsage().minorPageFault, t0 = performance.now();
  for (let i = 0; i < 40; i++) a.matmul(b).toArray();
  const ms = (performance.now() - t0) / 40, faults = (process.resourceUsage().minorPageFault - faults0) / 40;
  console.log(`round ${r + 1}: ${ms.toFixed(2)} ms per product (${((2 * n ** 3) / ms / 1e6).toFixed(1)} GFLOP/s), ${faults.toFixed(0)} page faults per product, ${threads} thread(s)`);
}
process.exit(0);
