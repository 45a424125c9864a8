/** The layer-spec language of `--model`: parsing, shape inference, building, and the errors that name the layer. */
import { describe, expect, test } from "vitest";
import { zeros } from "../../packages/gradgraph/src/tensor/creation.js";
import { buildLayerNet, inferShapes, isSizes, layerText, NAMED_SPECS, parseLayers } from "../../packages/gradgraph/src/nn/spec.js";

describe("layer specs", () => {
  test("parse → written form round trips; defaults left out; named specs expand", () => {
    const text = "conv(6,5,pad=2)-relu-maxpool(2)-conv(16,5,stride=2)-tanh-avgpool(2)-flatten-dropout(0.25)-linear(10)";
    expect(parseLayers(text).map(layerText).join("-")).toBe(text);
    expect(parseLayers("conv(6,5,stride=1,pad=0)").map(layerText)).toEqual(["conv(6,5)"]);
    expect(parseLayers("cnn").map(layerText).join("-")).toBe(NAMED_SPECS.cnn);
    expect([isSizes("784-128-10"), isSizes("mlp:784-10"), isSizes("2-x-2"), isSizes("cnn"), isSizes("linear(10)")]).toEqual([true, true, true, false, false]);
  });

  test("LeNet on MNIST: each layer's shape, ending in the 10 classes", () => {
    const shapes = inferShapes("cnn", parseLayers("cnn"), [784], [1, 28, 28], 10);
    expect(shapes.map((s) => s.join("x"))).toEqual(["6x28x28", "6x28x28", "6x14x14", "16x10x10", "16x10x10", "16x5x5", "400", "120", "120", "84", "84", "10"]);
  });

  test.each([
    ["linear(10", [784], undefined, 10, 'cannot read the layer "linear(10"'],
    ["relu--linear(10)", [784], undefined, 10, "an empty layer"],
    ["lin(10)", [784], undefined, 10, 'unknown layer "lin" (expected linear, conv, maxpool, avgpool, flatten, dropout or an activation'],
    ["linear(10,2)", [784], undefined, 10, "linear(10,2): linear takes N, as linear(N)"],
    ["linear(x)", [784], undefined, 10, 'linear(x): "x" is not a number'],
    ["linear(0)", [784], undefined, 10, "linear(0): N must be a whole number from 1 to 100,000, got 0"],
    ["conv(6,5,padding=2)", [784], undefined, 10, "conv(6,5,padding=2): conv has no argument padding (expected conv(N,K,stride=1,pad=0))"],
    ["dropout(1)", [784], undefined, 10, "dropout(1): P must be in [0, 1), got 1"],
    ["relu(2)", [784], undefined, 10, "relu(2): relu takes no arguments"],
    ["conv(6,5)-flatten-linear(10)", [4], undefined, 10, "conv(6,5) takes images [channels, height, width], got a sample of shape [4]"],
    ["conv(6,30)-flatten-linear(10)", [784], [1, 28, 28], 10, "conv(6,30) has a 30×30 kernel, larger than its input of 28×28"],
    ["conv(6,5)-linear(10)", [784], [1, 28, 28], 10, "linear(10) takes features, got a sample of shape [6, 24, 24]: put flatten before it"],
    ["linear(12)", [784], undefined, 10, "the network ends in shape [12], but the data has 10 classes: end with linear(10)"],
  ] as const)("%s is refused", (text, input, image, classes, message) => {
    expect(() => inferShapes(text, parseLayers(text), input, image, classes)).toThrow(`--model ${text}: ${message}`);
  });

  test("a network of linear layers: built from one seed, named like PyTorch's Sequential, forward gives the classes", () => {
    const a = buildLayerNet("flatten-linear(32)-gelu-dropout(0.1)-linear(10)", [784], { image: [1, 28, 28], classes: 10, seed: 3 });
    const b = buildLayerNet("flatten-linear(32)-gelu-dropout(0.1)-linear(10)", [784], { image: [1, 28, 28], classes: 10, seed: 3 });
    expect(a.namedParameters().map(([n, t]) => `${n} ${t.shape.join("x")}`)).toEqual(["1.weight 32x784", "1.bias 32", "4.weight 10x32", "4.bias 10"]);
    expect(a.parameters()[0]!.toArray()).toEqual(b.parameters()[0]!.toArray());
    expect(a.forward(zeros([5, 784])).shape).toEqual([5, 10]);
    expect(a.spec).toBe("flatten-linear(32)-gelu-dropout(0.1)-linear(10)");
  });

  test("cnn is LeNet-5: 61,706 parameters named as PyTorch's Sequential (after the Unflatten), [n, 784] rows → [n, 10]", () => {
    const net = buildLayerNet("cnn", [784], { image: [1, 28, 28], classes: 10, seed: 0 });
    expect(net.numParameters()).toBe(61706);
    expect(net.namedParameters().map(([n, t]) => `${n} ${t.shape.join("x")}`)).toEqual([
      "1.weight 6x1x5x5", "1.bias 6", "4.weight 16x6x5x5", "4.bias 16", "8.weight 120x400", "8.bias 120", "10.weight 84x120", "10.bias 84", "12.weight 10x84", "12.bias 10",
    ]);
    expect(net.forward(zeros([2, 784])).shape).toEqual([2, 10]);
  });
});
