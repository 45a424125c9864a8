/** The run report: CSV, SVG charts, decision boundary, self-contained HTML. */
import { describe, expect, test } from "vitest";
import { confusionMatrix, decisionBoundary, historyCharts, lineChart, metricsCsv, reportHtml } from "../../packages/cli/src/report.js";
import { MLP, moons, type History } from "../../packages/gradgraph/src/nn/index.js";

const history: History = {
  epochs: [
    { epoch: 1, step: 4, train: { loss: 0.5, accuracy: 0.75 }, validation: { loss: 0.6, accuracy: 0.7 }, lr: 0.01, seconds: 0.1234, complete: true },
    { epoch: 2, step: 6, train: { loss: 0.25, accuracy: 0.875 }, lr: 0.01, seconds: 0.2, complete: false },
  ],
  stepLosses: [0.9, 0.6, 0.4, 0.3, 0.2, 0.25],
  stopped: true,
  seconds: 0.2,
};

describe("report", () => {
  test("metrics.csv: one row per epoch, empty cells where there is no value", () => {
    expect(metricsCsv(history)).toBe(
      "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,complete\n" +
        "1,4,0.5,0.75,0.6,0.7,0.01,0.123,true\n" +
        "2,6,0.25,0.875,,,0.01,0.200,false\n",
    );
  });

  test("a line chart is an SVG with one polyline per series and escaped labels", () => {
    const svg = lineChart([{ name: "a<b", points: [[1, 2], [2, 3]], color: "#123456" }, { name: "empty", points: [], color: "#000" }], { title: "T & U", xLabel: "epoch" });
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg).toContain("a&lt;b");
    expect(svg).toContain("<title>T &amp; U</title>");
  });

  test("a line chart of a million points (a long run's per-step losses): no stack overflow, the right axis", () => {
    const points = Array.from({ length: 1_000_000 }, (_, i) => [i, 1 + 1 / (i + 1)] as const);
    const svg = lineChart([{ name: "loss", points, color: "#123456" }], { title: "Loss", xLabel: "step", yMin: 0 });
    expect(svg).toContain(">800000</text>");
    expect(svg).toContain(">2</text>"); // y from 0 to 2 (the largest loss)
  });

  test("a big run's report stays small: at most 2,000 points drawn per set, per-step losses averaged to 2,000", () => {
    const data = moons(10_000, { seed: 0 });
    const svg = decisionBoundary(new MLP([2, 4, 2], "relu"), data, null, { grid: 10 });
    expect(svg.match(/<circle/g)).toHaveLength(2000);
    const long: History = { epochs: [{ epoch: 1, step: 1_000_000, train: { loss: 1 }, lr: 0.1, seconds: 1, complete: true }], stepLosses: Array.from({ length: 1_000_000 }, (_, i) => (i < 500 ? 3 : 1)), stopped: false, seconds: 1 };
    const [loss] = historyCharts(long, []);
    const points = /<polyline points="([^"]*)"/.exec(loss!)![1]!.trim().split(/\s+/);
    expect(points).toHaveLength(2000);
    expect(loss!.length).toBeLessThan(100_000);
  });

  test("decision boundary and confusion matrix of a 2-D classifier; the HTML has nothing external", () => {
    const data = moons(40, { seed: 0 });
    const model = new MLP([2, 4, 2], "relu");
    const svg = decisionBoundary(model, data, null, { grid: 20 });
    expect(svg.match(/<circle/g)).toHaveLength(40);
    expect(svg).toContain('shape-rendering="crispEdges"');
    const counts = confusionMatrix(model, data, 2);
    expect(counts.flat().reduce((a, b) => a + b, 0)).toBe(40);
    const html = reportHtml({ title: "run <1>", summary: [["data", "moons"]], history, metrics: ["accuracy"], boundary: svg, confusion: { classes: ["a", "b"], counts, split: "test" }, note: "stopped early", config: { x: 1 } });
    expect(html).toContain("<title>run &lt;1&gt;</title>");
    expect(html).toContain('<p class="note">stopped early</p>');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|src=/);
  });
});
