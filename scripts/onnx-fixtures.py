#!/usr/bin/env python3
"""ONNX models exported by PyTorch, with a fixed input and PyTorch's output for each: the fixtures of importOnnx.

Writes, for each model NAME below, test/fixtures/onnx/NAME.onnx (torch.onnx.export, opset 17, float32, weights as
initializers named after the state dict: `fc1.weight`, ...; the batch axis is dynamic, `batch`) and test/fixtures/onnx/NAME.json:

    { "name", "opset", "torch": torch's version, "inputs": [{ "name", "shape", "data" }],
      "outputs": [{ "name", "shape", "data" }] }

with the data flat, in row-major order; every number is a float32 value written exactly. test/onnx/import.test.ts
imports each model with gradgraph-onnx's importOnnx, runs it on the inputs and compares with the outputs, so no
Python is needed at test time.

The models are small, seeded, and use only layers gradgraph's nn also has:
- mlp: Linear(4, 8) - ReLU - Linear(8, 3)                                   (Gemm, Relu)
- cnn: Conv2d(1, 4, 3, padding=1) - ReLU - MaxPool2d(2) - Conv2d(4, 6, 3) - ReLU - AvgPool2d(2) - Flatten
       - Linear(6, 5)                                                        (Conv, MaxPool, AveragePool, Flatten)
- bn: Linear(4, 6) - BatchNorm1d(6) - ReLU - Linear(6, 2), its running statistics from three training batches,
      exported in eval mode                                                 (BatchNormalization: buffers)
- act: Linear(4, 8) - LayerNorm(8) - GELU - Linear(8, 8) - ELU - Hardswish - Linear(8, 3) - Softplus
                                                    (LayerNormalization, Erf, Elu, HardSwish, Softplus)
- ops: x.view(x.size(0), -1) (Shape, Gather, Unsqueeze, Concat, Reshape), tanh, sigmoid, a residual add,
       softmax and log-softmax, a mean over an axis, sqrt/exp/abs/pow/div/sub/neg, a transpose and a matmul, min
       and max against constants, a slice, where with a comparison

Regenerate (Debian's PyTorch, `apt-get install -y python3-torch`; torch.onnx.export needs no onnx package):

    /usr/bin/python3 scripts/onnx-fixtures.py

The exporter's node names and constant folding depend on torch's version (1.13 wrote the committed files), so a
regenerated .onnx file may differ in bytes; the outputs agree within float32 rounding.
"""
import json
import os
import struct
import warnings

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "onnx")
OPSET = 17


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.pool2 = nn.AvgPool2d(2)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def bn():
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 4) * 2 + 1)
    return model


def act():
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 8), nn.ELU(), nn.Hardswish(),
                         nn.Linear(8, 3), nn.Softplus())


class Ops(nn.Module):
    """Ops PyTorch emits around MLPs and CNNs, beyond Gemm and Conv."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.scale = nn.Parameter(torch.randn(6))

    def forward(self, x):
        h = x.view(x.size(0), -1)                       # [N, 2, 3] -> [N, 6] through Shape/Gather/Concat/Reshape
        h = torch.tanh(self.fc(h)) + h                  # Gemm, Tanh, Add
        h = torch.sigmoid(h) * self.scale - h / 3.0     # Sigmoid, Mul, Div, Sub
        p = torch.softmax(h, dim=-1)                    # Softmax
        q = torch.log_softmax(h, dim=1)                 # LogSoftmax
        m = h.mean(dim=1, keepdim=True)                 # ReduceMean
        s = torch.sqrt(torch.abs(h) + 1.0) ** 2         # Abs, Sqrt, Pow
        e = torch.exp(-torch.clamp(h, min=-2.0, max=2.0))  # Neg, Exp, Max/Min (clamp)
        t = h.t() @ p                                   # Transpose, MatMul: [6, 6]
        w = torch.where(h > m, s, e)                    # Greater, Where
        return torch.cat([w, q[:, 1:4], t[:2, :]], dim=1)  # Slice, Concat -> [N, 6 + 3 + 6] when N = 2


def floats(t):
    """The elements of a float32 tensor as Python floats (each a float32 value, printed exactly by json)."""
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in t.detach().reshape(-1).tolist()]


def export(name, model, x, seed):
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                          do_constant_folding=True, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with torch.no_grad():
        y = model(x)
    fixture = {
        "name": name,
        "opset": OPSET,
        "torch": torch.__version__,
        "seed": seed,
        "inputs": [{"name": "input", "shape": list(x.shape), "data": floats(x)}],
        "outputs": [{"name": "output", "shape": list(y.shape), "data": floats(y)}],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{name}: {os.path.getsize(path)} bytes, output {list(y.shape)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make, shape, seed in [
        ("mlp", Mlp, [5, 4], 1),
        ("cnn", Cnn, [2, 1, 8, 8], 2),
        ("ops", Ops, [2, 2, 3], 3),
        ("bn", bn, [3, 4], 4),
        ("act", act, [5, 4], 5),
    ]:
        torch.manual_seed(seed)
        model = make()
        x = torch.randn(shape)
        export(name, model, x, seed)


if __name__ == "__main__":
    main()
