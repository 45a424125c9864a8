import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GradgraphError } from "../../packages/gradgraph/src/core/errors.js";
import { toDot } from "../../packages/gradgraph/src/render/dot.js";
import { writeFileAtomic } from "../../packages/gradgraph/src/node/files.js";
import { snapshot } from "../../packages/gradgraph/src/render/snapshot.js";
import { renderSvg } from "../../web/src/graphviz.js";
import { lectureMlp } from "./graphs.js";

describe("renderSvg", () => {
  it("renders the MLP loss graph to an SVG document with its labels, without a system Graphviz", async () => {
    const e = lectureMlp();
    const svg = await renderSvg(toDot(snapshot(e.root, e.inputs)));
    expect(svg).toContain("<svg");
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    for (const label of ["w1", "b2", "max", "w1 = &#45;1 | ∂ = &#45;36", "j = 9 | ∂ = 1"]) expect(svg).toContain(label);
  });

  it("reports a DOT syntax error as a GradgraphError", async () => {
    await expect(renderSvg("digraph { a -> }")).rejects.toThrow(GradgraphError);
  });
});

describe("writeFileAtomic", () => {
  it("writes a new file and replaces an old one, leaving no temporary file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-files-"));
    const file = join(dir, "graph.svg");
    await writeFileAtomic(file, "first");
    expect(readFileSync(file, "utf8")).toBe("first");
    writeFileSync(file, "old");
    await writeFileAtomic(file, "<svg>ü</svg>");
    expect(readFileSync(file, "utf8")).toBe("<svg>ü</svg>");
    expect(readdirSync(dir)).toEqual(["graph.svg"]);
  });

  it("fails without leaving a temporary file when the folder cannot be made (a file is in the way)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradgraph-files-"));
    writeFileSync(join(dir, "missing"), "");
    await expect(writeFileAtomic(join(dir, "missing", "graph.svg"), "x")).rejects.toThrow("exists and is not a folder");
    expect(readdirSync(dir)).toEqual(["missing"]);
  });
});
