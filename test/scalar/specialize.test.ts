/**
 * The kernels specialized to tape storages (scalar/kernels.ts, `Storage`; value.ts, `specialize`), in a file of
 * its own: a process (a test file) specializes at most 64 times, and these tests spend them all.
 */
import { expect, test } from "vitest";
import { RETIRE_AT, Tape, tapes } from "../../packages/gradgraph/src/scalar/tape.js";
import { specializedStorages, Value } from "../../packages/gradgraph/src/scalar/value.js";

test("a method a user replaced on Value.prototype stays replaced when the kernels are specialized", () => {
  // E.g. counting the multiplications of a training loop: the kernels made at a tape's retirement install their
  // methods again, over the user's.
  const proto = Value.prototype as unknown as Record<string, (this: Value, other: unknown) => Value>;
  const mul = proto.mul!;
  let calls = 0;
  proto.mul = function (this: Value, other: unknown) {
    calls++;
    return mul.call(this, other);
  };
  try {
    tapes.current = new Tape();
    const before = specializedStorages();
    const w = new Value(0.5);
    for (let s = 0; s < 3; s++) {
      let sum = Value.constant(0);
      for (let k = 0; k < RETIRE_AT / 2; k++) sum = sum.add(w.mul(k % 5));
      sum.backward();
    }
    expect(specializedStorages()).not.toBe(before); // the kernels were made again
    expect(calls).toBe((3 * RETIRE_AT) / 2);
  } finally {
    proto.mul = mul;
  }
});

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
