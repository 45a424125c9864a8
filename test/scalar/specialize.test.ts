/**
 * The kernels specialized to tape storages (scalar/kernels.ts, `Storage`; value.ts, `specialize`), in a file of
 * its own: a process (a test file) specializes at most 64 times, and these tests spend them all.
 */
import { expect, test } from "vitest";
import { RETIRE_AT, Tape, tapes } from "../../packages/gradgraph/src/scalar/tape.js";
import { specializedStorages, Value } from "../../packages/gradgraph/src/scalar/value.js";

test("past the 64 specializations, the kernels keep no storage that no tape uses", () => {
  // Each step gets storage of its own (as steps over a tape's capacity do: a fresh tape continues the full one),
  // so every retirement wants other storages; past the cap, kernels still bound to the old ones would keep those
  // arrays alive for good (two tapes of up to 38 MB each).
  const w = new Value(0.5);
  const want = Array.from({ length: RETIRE_AT / 2 }, (_, k) => k % 5).reduce((t, c) => t + c, 0);
  let changes = 0;
  for (let s = 0; s < 70; s++) {
    tapes.current = new Tape();
    const before = specializedStorages();
    let sum = Value.constant(0);
    for (let k = 0; k < RETIRE_AT / 2; k++) sum = sum.add(w.mul(k % 5));
    w.grad = 0;
    sum.backward();
    expect(w.grad).toBe(want);
    if (specializedStorages() !== before) changes++;
  }
  expect(changes).toBeGreaterThanOrEqual(64);
  const inUse = [tapes.current.op, tapes.retired!.op];
  for (const s of specializedStorages()) expect(inUse).toContain(s.op);
});
