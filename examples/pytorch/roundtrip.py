#!/usr/bin/env python3
"""Step 2 of 3: load gradgraph's weights into torch.nn, check PyTorch computes the same outputs, train a few steps
in PyTorch, and save the new weights for gradgraph.

    python3 examples/pytorch/roundtrip.py DIR     (after node examples/pytorch/export.mjs DIR)

Uses the `safetensors` package when it is installed (pip install safetensors); otherwise the few lines below
read and write the format (an 8-byte header length, a JSON header, the raw little-endian data).
"""
import json
import struct
import sys

import torch

try:
    from safetensors import safe_open
    from safetensors.torch import save_file

    def load(path):
        with safe_open(path, "pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
except ImportError:
    def load(path):
        raw = open(path, "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        metadata = header.pop("__metadata__", {})
        dtypes = {"F32": torch.float32, "F64": torch.float64}
        return {k: torch.frombuffer(bytearray(raw[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]]),
                                    dtype=dtypes[e["dtype"]]).reshape(e["shape"]) for k, e in header.items()}, metadata

    def save_file(tensors, path, metadata):
        header, data = {"__metadata__": metadata}, b""
        for k, t in tensors.items():
            raw = t.detach().contiguous().numpy().tobytes()
            header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)

folder = sys.argv[1] if len(sys.argv) > 1 else "runs/pytorch"
state, meta = load(f"{folder}/gradgraph.safetensors")
model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
model.load_state_dict(state)  # strict: every name and shape must match

x, labels = torch.tensor(json.loads(meta["x"])), torch.tensor(json.loads(meta["labels"]))
diff = (model(x) - torch.tensor(json.loads(meta["outputs"]))).abs().max().item()
print(f"torch.nn.Sequential loaded {', '.join(state)}; outputs vs gradgraph's: max |difference| {diff:.2e}")

# Train a few steps in PyTorch, then hand the weights back, with PyTorch's outputs for gradgraph to check.
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(5):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), labels).backward()
    optimizer.step()
with torch.no_grad():
    outputs = model(x)
save_file(model.state_dict(), f"{folder}/torch.safetensors", {"x": meta["x"], "outputs": json.dumps(outputs.tolist())})
print(f"trained 5 SGD steps in PyTorch; wrote {folder}/torch.safetensors")
