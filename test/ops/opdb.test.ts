import { describe, expect, test } from "vitest";
import { opList, ops } from "../../packages/gradgraph/src/ops/index.js";
import { gradcheck } from "../../packages/gradgraph/src/autodiff/gradcheck.js";
import { engine, tensor, type Tensor } from "../../packages/gradgraph/src/tensor/index.js";
import { topoOrder } from "../../packages/gradgraph/src/core/graph.js";
import { forEachBackend } from "../backends.js";
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

  test("every primitive declares a batching rule for vmap, or is an exemption listed here with its reason", () => {
    // vmap runs an op on a batch through its entry's \`batch\` rule (test/functional/vmap.test.ts checks each
    // against a loop over examples). A new primitive without one fails here: give it a rule, or list it below.
    const exempt: Record<string, string> = {};
    const missing = opList.filter((op) => typeof op.batch !== "function" && !(op.name in exempt)).map((op) => op.name);
    expect(missing).toEqual([]);
  });

  test("every op whose nodes carry parameters prints them (printParams)", () => {
    // The samples' graphs show which ops have parameters: each of those must say how they print, or the
    // printers would drop them silently.
    const missing = new Set<string>();
    for (const op of opList) {
      for (const s of opdb[op.name].samples()) {
        const y = s.f(...s.inputs.map((x) => tensor(x.toNested(), { dtype: "float64", requiresGrad: true })));
        for (const n of topoOrder<Tensor>(y)) {
          if (n.op !== null && n.params !== undefined && !("printParams" in n.op && typeof n.op.printParams === "function")) missing.add(n.op.name);
        }
      }
    }
    expect([...missing]).toEqual([]);
  });
});

/** The Jacobian of f at xs, row by row (output elements) by reverse mode, or column by column by forward mode. */
function jacobian(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], mode: "reverse" | "forward"): number[][] {
  const xs = inputs.map((x) => tensor(x.toNested(), { dtype: "float64", requiresGrad: true }));
  const y = f(...xs);
  const n = xs.reduce((s, x) => s + x.size, 0);
  const rows: number[][] = Array.from({ length: y.size }, () => new Array<number>(n).fill(0));
  const oneHot = (shape: readonly number[], size: number, k: number) => {
    const t = new Array<number>(size).fill(0);
    t[k] = 1;
    return tensor(t, { dtype: "float64" }).reshape(shape);
  };
  if (mode === "reverse") {
    for (let k = 0; k < y.size; k++) {
      const gs = engine.gradients([y], xs, [oneHot(y.shape, y.size, k)]);
      let col = 0;
      for (const g of gs) for (const v of g.toArray()) rows[k]![col++] = v;
    }
  } else {
    let col = 0;
    for (const x of xs) {
      for (let j = 0; j < x.size; j++, col++) {
        const [ty] = engine.tangents([y], [x], [oneHot(x.shape, x.size, j)]);
        ty!.toArray().forEach((v, k) => (rows[k]![col] = v));
      }
    }
  }
  return rows;
}

forEachBackend(() => {
  describe("at ties and kinks, reverse and forward mode give the same Jacobian", () => {
    test("every op with a tie rule (max, min, amax, amin) has tie samples", () => {
      for (const name of ["max", "min", "amax", "amin"] as const) expect(opdb[name].ties, name).toBeDefined();
    });
    for (const [name, info] of Object.entries(opdb)) {
      for (const s of info.ties?.() ?? []) {
        test(`${name}: ${s.name}`, () => {
          // (+ 0 makes -0 and 0 the same entry: one mode may compute 0·(-1), the other 0.)
          const reverse = jacobian(s.f, s.inputs, "reverse").map((r) => r.map((v) => v + 0));
          expect(jacobian(s.f, s.inputs, "forward").map((r) => r.map((v) => v + 0))).toEqual(reverse);
          // A tie splits: some entry is strictly between 0 and 1 (kinks of relu/abs take a side instead).
          if (name !== "relu" && name !== "abs") expect(reverse.flat().some((v) => v > 0 && v < 1), "a split at a tie").toBe(true);
        });
      }
    }
  });

  describe("float64 gradcheck of every op, reverse and forward mode", () => {
    for (const [name, info] of Object.entries(opdb)) checkAll(name, info);
  });

  describe("float64 gradcheck of the composites", () => {
    for (const [name, info] of Object.entries(compositeDb)) checkAll(name, info);
  });
});
