# Copied from ../shared/peer-bench/lib/common.py (the project's peer benchmarks), unchanged: the data and timer of
# anchors/torch_bench.py.
"""Shared helpers for the Python peer benchmarks; mirrors lib/common.mjs (same LCG, data, timing)."""
import json, math, os, sys, time, datetime

SEEDS = {"w1": 1337, "w2": 42, "w3": 7, "w4": 123}


def lcg(seed):
    s = seed & 0xFFFFFFFF

    def rnd():
        nonlocal s
        s = (1664525 * s + 1013904223) % 4294967296
        return s / 4294967296
    return rnd


def moons(n, rnd):
    X, y = [], []
    half = n // 2
    for i in range(n):
        k = i % half
        t = math.pi * k / (half - 1)
        outer = i < half
        x0 = math.cos(t) if outer else 1 - math.cos(t)
        x1 = math.sin(t) if outer else 0.5 - math.sin(t)
        X.append([x0 + 0.2 * (rnd() - 0.5), x1 + 0.2 * (rnd() - 0.5)])
        y.append(-1 if outer else 1)
    return X, y


def w1_params(rnd, sizes=(2, 16, 16, 1)):
    layers = []
    for l in range(len(sizes) - 1):
        neurons = []
        for j in range(sizes[l + 1]):
            w = [rnd() * 2 - 1 for _ in range(sizes[l])]
            neurons.append({"w": w, "b": 0.0})
        layers.append(neurons)
    return layers


W2 = {"batch": 128, "sizes": [784, 256, 256, 10], "lr": 0.01}


def w2_data(rnd=None):
    """Same numbers as w2Data() in common.mjs (before float32 rounding)."""
    rnd = rnd or lcg(SEEDS["w2"])
    B, sizes = W2["batch"], W2["sizes"]
    X = [rnd() for _ in range(B * sizes[0])]
    labels = [min(9, int(math.floor(rnd() * 10))) for _ in range(B)]
    Ws, bs = [], []
    for l in range(len(sizes) - 1):
        fin, fout = sizes[l], sizes[l + 1]
        a = 1 / math.sqrt(fin)
        Ws.append([(rnd() * 2 - 1) * a for _ in range(fin * fout)])
        bs.append([0.0] * fout)
    return X, labels, Ws, bs


def w2_flops():
    B, sizes = W2["batch"], W2["sizes"]
    fwd = sum(2 * B * sizes[l] * sizes[l + 1] for l in range(len(sizes) - 1))
    return 3 * fwd - 2 * B * sizes[0] * sizes[1]


def rand_matrix(n, rnd):
    return [rnd() * 2 - 1 for _ in range(n * n)]


W4N = 1_000_000


def w4_data(rnd=None):
    rnd = rnd or lcg(SEEDS["w4"])
    return [[rnd() * 2 - 1 for _ in range(W4N)] for _ in range(3)]


def bench(fn, warmup=3, min_runs=5, max_runs=50, budget_s=3.0):
    """BENCH_FIXED_RUNS=N (environment) forces exactly N timed calls, for whole-process timing."""
    if os.environ.get("BENCH_FIXED_RUNS") is not None:
        min_runs = max_runs = int(os.environ["BENCH_FIXED_RUNS"])
        budget_s = 0
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    m = len(times)
    if m == 0:
        return {"median_ms": None, "min_ms": None, "max_ms": None, "runs": 0, "warmup": warmup}
    med = times[(m - 1) // 2] if m % 2 else (times[m // 2 - 1] + times[m // 2]) / 2
    return {"median_ms": round(med, 4), "min_ms": round(times[0], 4), "max_ms": round(times[-1], 4), "runs": m, "warmup": warmup}


def emit(rec):
    out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "python": sys.version.split()[0], "cpus": os.cpu_count()}
    out.update(rec)
    print(json.dumps(out), flush=True)


def arg(name, default=None):
    a = sys.argv
    return a[a.index("--" + name) + 1] if ("--" + name) in a else default
