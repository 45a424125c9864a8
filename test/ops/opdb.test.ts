import { describe, expect, test } from "vitest";
import { opList, ops } from "../../src/ops/index.js";
import { gradcheck } from "../../src/autodiff/gradcheck.js";
import { compositeDb, opdb, type OpInfo } from "./opdb.js";

function checkAll(name: string, info: OpInfo) {
  for (const s of info.samples()) {
    test(`${name}: ${s.name}`, () => {
      const opts = { ...(info.eps ? { eps: info.eps } : {}), ...(info.atol ? { atol: info.atol } : {}), ...(info.rtol ? { rtol: info.rtol } : {}) };
      const report = gradcheck(s.f, s.inputs, opts);
      expect(report.message).toBe("gradcheck: ok");
      expect(report.ok).toBe(true);
    });
  }
}

describe("op database coverage", () => {
  test("every op of the table has an entry, and every entry an op", () => {
    const inTable = opList.map((o) => o.name).sort();
    expect(Object.keys(opdb).sort()).toEqual(inTable);
    expect(Object.keys(ops).sort()).toEqual(inTable);
  });

  test("every entry has samples, binary elementwise ops all broadcasting pairs", () => {
    for (const op of opList) {
      const samples = opdb[op.name].samples();
      expect(samples.length, op.name).toBeGreaterThan(0);
      if (op.kind === "elementwise" && op.arity === 2) expect(samples.length, op.name).toBeGreaterThanOrEqual(22);
    }
  });

  test("every op entry carries its math, print info and both rules", () => {
    for (const op of opList) {
      expect(op.doc.length, op.name).toBeGreaterThan(0);
      expect(typeof op.vjp, op.name).toBe("function");
      expect(typeof op.jvp, op.name).toBe("function");
      expect(["infix", "prefix", "call", "compare"]).toContain(op.print.kind);
    }
  });
});

describe("float64 gradcheck of every op, reverse and forward mode", () => {
  for (const [name, info] of Object.entries(opdb)) checkAll(name, info);
});

describe("float64 gradcheck of the composites", () => {
  for (const [name, info] of Object.entries(compositeDb)) checkAll(name, info);
});
