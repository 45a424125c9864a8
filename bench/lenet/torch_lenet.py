"""LeNet-5 training step on PyTorch (batch 64, 1x28x28, SGD lr 0.01, float32, 1 thread): the anchor of
side-by-side.sh. Loads the data and weights gg.mjs wrote (weights.safetensors read by hand: PyTorch's key names)."""
import json, struct, sys, time
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
d = sys.argv[1]
x = torch.from_numpy(np.fromfile(f"{d}/x.f32", dtype="<f4").copy()).reshape(64, 1, 28, 28)
y = torch.from_numpy(np.fromfile(f"{d}/y.u8", dtype=np.uint8).astype(np.int64))
raw = open(f"{d}/weights.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
state = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype="<f4").copy()).reshape(v["shape"])
         for k, v in header.items() if k != "__metadata__"}
model = nn.Sequential(
    nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
model.load_state_dict(state, strict=True)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
first = None


def step():
    global first
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    v = loss.item()
    if first is None:
        first = v


for _ in range(5):
    step()
times, t0 = [], time.perf_counter()
while len(times) < 10 or (len(times) < 200 and time.perf_counter() - t0 < 4):
    t = time.perf_counter()
    step()
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"peer": "pytorch-t1", "threads": torch.get_num_threads(), "loss_step1": first, "min_ms": times[0],
                  "median_ms": times[len(times) // 2], "runs": len(times)}))
