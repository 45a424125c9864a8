/**
 * `gradgraph lecture` (what `npm start` runs): the lecture's goal solved end to end on the engine — the graph
 * of L_MLP, the forward pass, the backward pass, the four gradients the lecture asks for, the three methods'
 * operation counts, and the generated lecture-style code.
 */
import { backwardTable, compileScalar, differentiate, formatGraph, formatPaths, formatValue, forwardTable, generateCode, parseBindings, parseProgram, pathsData, snapshot } from "gradgraph/lecture";
import { Adam, crossEntropy, DataLoader, evaluate, MLP, moons } from "gradgraph/nn";

export const LECTURE_EXPR = "L(x, y, w1, b1, w2, b2) = (max(max(w1*x + b1, 0)*w2 + b2, 0) - y)^2";
export const LECTURE_POINT = "2,10,-1,4,3,1";
/** The gradients the lecture asks for. */
export const LECTURE_WANTED = ["w1", "b1", "w2", "b2"] as const;

export function runLecture(): string {
  const program = parseProgram(LECTURE_EXPR);
  const graph = compileScalar(program, parseBindings([LECTURE_POINT], program));
  const snap = snapshot(graph.root, graph.inputs);
  const grads = differentiate(graph.root, graph.inputs, "reverse");
  const wanted = LECTURE_WANTED.map((n) => grads.grads[graph.names.indexOf(n)]!);
  const paths = pathsData(graph.root, graph.inputs, graph.inputs[graph.names.indexOf("w1")]!);
  const rule = "─".repeat(78);
  const section = (title: string) => `\n${rule}\n${title}\n${rule}\n`;
  return [
    "The lecture's goal: given",
    `  ${LECTURE_EXPR}`,
    `and the point L(${LECTURE_POINT.split(",").join(", ")}), compute [∂L/∂w1, ∂L/∂b1, ∂L/∂w2, ∂L/∂b2].`,
    section("1. The computational graph: nodes are operations, edges are values"),
    formatGraph(snap),
    section("2. Forward pass: evaluate left to right"),
    forwardTable(snap),
    section("3. Backward pass: start at the right, walk leftwards, ∂f/∂i = ∂j/∂i · ∂f/∂j"),
    backwardTable(snap),
    section("4. The gradients"),
    `  L = ${formatValue(grads.value)}`,
    `  [∂L/∂w1, ∂L/∂b1, ∂L/∂w2, ∂L/∂b2] = [${wanted.map(formatValue).join(", ")}]`,
    `  (and ∂L/∂x = ${formatValue(grads.grads[0]!)}, ∂L/∂y = ${formatValue(grads.grads[1]!)})`,
    section(`5. Three ways to get them (the output node ${paths.output} is L): path products for w1, and each method's cost`),
    formatPaths(paths),
    section("6. The same backward pass as the lecture writes it (generated Python)"),
    generateCode(snap, "py"),
    section("7. Training: Sample, Forward, Backprop, Update — an MLP 2-16-16-2 learns two moons"),
    trainingDemo(),
    "More: gradgraph --help   (grad, trace, dot, paths for any expression; train and eval for networks)",
    "",
  ].join("\n");
}

/**
 * The lecture's training loop, written out: a 2-16-16-2 ReLU MLP on 200 points of two moons, minibatches of 20,
 * Adam, 40 epochs (a fraction of a second). Prints the loss and accuracy every 10 epochs.
 */
export function trainingDemo(): string {
  const data = moons(200, { noise: 0.1, seed: 0 });
  const model = new MLP([2, 16, 16, 2], "relu", { seed: 0 });
  const optimizer = new Adam(model.parameters(), { lr: 0.02 });
  const loader = new DataLoader(data, { batchSize: 20, shuffle: true, seed: 0 });
  const lines = [
    "  for each epoch, for each minibatch of 20 points:",
    "    Sample    x, y = next batch            (shuffled with a seed: the same run every time)",
    "    Forward   loss = crossEntropy(model.forward(x), y)",
    `    Backprop  loss.backward()              (∂loss/∂w for all ${model.numParameters()} weights and biases)`,
    "    Update    optimizer.step()             (Adam, lr 0.02)",
    "",
  ];
  const report = (epoch: number) => {
    const r = evaluate(model, data, { loss: "cross_entropy", metrics: ["accuracy"] });
    lines.push(`  epoch ${String(epoch).padStart(2)}   loss ${r.loss!.toFixed(4)}   accuracy ${(100 * r.accuracy!).toFixed(1)}%`);
  };
  report(0);
  for (let epoch = 1; epoch <= 40; epoch++) {
    for (const { x, y } of loader) {
      const loss = crossEntropy(model.forward(x), y); // Forward
      optimizer.zeroGrad();
      loss.backward(); // Backprop
      optimizer.step(); // Update
    }
    if (epoch % 10 === 0) report(epoch);
  }
  lines.push("", "  Train on more data: gradgraph train --data moons --out runs/moons   (or --data mnist; see gradgraph train --help)", "");
  return lines.join("\n");
}
