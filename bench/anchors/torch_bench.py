# Copied from ../shared/peer-bench/peers_py/torch_bench.py (the project's peer benchmarks); added: the mnist
# workload (one epoch of MLP 784-128-10, ReLU, Adam lr 1e-3, batch 64, shuffled, on the 7,996 training digits that
# bench/run.mjs writes out from gradgraph's loadMnist: --mnist DIR with x.f32 [n, 784] and y.u8 [n]).
"""W2/W3/W4 (and mnist) on PyTorch CPU (Debian python3-torch 1.13.1), float32, eager mode.
Usage: /usr/bin/python3 torch_bench.py [--threads N] [--workloads w2,w3,w4] [--sizes 256,512,1024]
BLAS: python3-torch links libblas.so.3; pick the implementation with LD_LIBRARY_PATH, e.g.
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack  (reference BLAS: what
      `apt-get install python3-torch` alone gives)
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1|2  (libopenblas0-pthread)"""
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from common import lcg, SEEDS, W2, w2_data, w2_flops, rand_matrix, w4_data, W4N, bench, emit, arg
import torch

default_threads = torch.get_num_threads()
threads = int(arg("threads", default_threads))
torch.set_num_threads(threads)
workloads = arg("workloads", "w2,w3,w4").split(",")
sizes = [int(s) for s in arg("sizes", "256,512,1024").split(",")]


def blas_kind():
    """Which file libtorch's libblas.so.3 dependency resolved to (it provides sgemm_)."""
    with open("/proc/self/maps") as f:
        paths = {l.split()[-1] for l in f if "/libblas.so" in l or "/libopenblas" in l}
    if any("/blas/libblas.so" in p for p in paths):
        return "reference"
    return "openblas" if any("openblas" in p for p in paths) else "none"


blas = blas_kind()
# OpenBLAS (pthread build) runs its own pool, sized by OPENBLAS_NUM_THREADS (default: all cores),
# independent of torch.set_num_threads.
ob_threads = os.environ.get("OPENBLAS_NUM_THREADS", "all") if blas == "openblas" else "-"
peer = f"pytorch-{blas}-t{threads}" + (f"-ob{ob_threads}" if blas == "openblas" else "")
info = {"version": torch.__version__, "threads": threads, "default_threads": default_threads, "blas": blas,
        "openblas_threads": ob_threads}

if "w2" in workloads:
    X, labels, Ws, bs = w2_data()
    B, S, lr = W2["batch"], W2["sizes"], W2["lr"]
    x = torch.tensor(X, dtype=torch.float32).reshape(B, S[0])
    y = torch.tensor(labels, dtype=torch.long)
    model = torch.nn.Sequential(torch.nn.Linear(S[0], S[1]), torch.nn.ReLU(), torch.nn.Linear(S[1], S[2]),
                                torch.nn.ReLU(), torch.nn.Linear(S[2], S[3]))
    with torch.no_grad():
        for l, lin in enumerate([model[0], model[2], model[4]]):
            lin.weight.copy_(torch.tensor(Ws[l], dtype=torch.float32).reshape(S[l], S[l + 1]).t())
            lin.bias.copy_(torch.tensor(bs[l], dtype=torch.float32))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    st = {"loss0": None}

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        v = loss.item()
        if st["loss0"] is None:
            st["loss0"] = v

    r = bench(step, warmup=5, min_runs=10, max_runs=100, budget_s=4.0)
    emit({"workload": "W2", "peer": peer, "size": "784-256-256-10 b128", "loss_step1": st["loss0"],
          "gflops": round(w2_flops() / r["median_ms"] / 1e6, 2), **info, **r})

if "w3" in workloads:
    for n in sizes:
        rnd = lcg(SEEDS["w3"])
        a = torch.tensor(rand_matrix(n, rnd), dtype=torch.float32).reshape(n, n)
        b = torch.tensor(rand_matrix(n, rnd), dtype=torch.float32).reshape(n, n)
        r = bench(lambda: torch.mm(a, b), warmup=2, min_runs=3, max_runs=50, budget_s=3.0)
        emit({"workload": "W3", "peer": peer, "size": n, "gflops": round(2 * n ** 3 / r["median_ms"] / 1e6, 2), **info, **r})

if "w4" in workloads:
    xs, ys, zs = w4_data()
    x, y, z = (torch.tensor(v, dtype=torch.float32, requires_grad=True) for v in (xs, ys, zs))
    st = {"v0": None}

    def w4():
        for t in (x, y, z):
            t.grad = None
        out = torch.relu(x * y + z).sum()
        out.backward()
        v = out.item()
        if st["v0"] is None:
            st["v0"] = v

    r = bench(w4, warmup=3, min_runs=10, max_runs=100, budget_s=3.0)
    emit({"workload": "W4", "peer": peer, "size": W4N, "value": st["v0"], **info, **r})

if "mnist" in workloads:
    import numpy as np
    d = arg("mnist")
    xs = torch.from_numpy(np.fromfile(os.path.join(d, "x.f32"), dtype=np.float32).reshape(-1, 784))
    ys = torch.from_numpy(np.fromfile(os.path.join(d, "y.u8"), dtype=np.uint8).astype(np.int64))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n, bsz = xs.shape[0], 64

    def epoch(limit=None):
        perm = torch.randperm(n)
        steps, last = 0, None
        for i in range(0, n, bsz):
            idx = perm[i:i + bsz]
            loss = torch.nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            last = loss.item()
            steps += 1
            if limit is not None and steps >= limit:
                break
        return steps, last

    epoch(limit=20)  # warm-up, as bench/gradgraph/mnist.mjs
    t0 = time.perf_counter()
    steps, last = epoch()
    ms = (time.perf_counter() - t0) * 1000
    emit({"workload": "mnist", "peer": peer, "size": "784-128-10 b64", "steps": steps, "last_loss": last,
          "min_ms": round(ms, 3), "median_ms": round(ms, 3), "runs": 1, **info})
