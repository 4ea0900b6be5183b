#!/usr/bin/python3
"""bench/bench_nn_torch.py — the PyTorch side of bench/bench_nn.c.

    bench_nn_torch.py mlp|lenet [EPOCHS] [--threads T]

Same models, losses, optimisers, batch sizes and data as bench_nn.c:
Fashion-MNIST's 60 000 training images read from the IDX .gz files
(/usr/share/datasets/fashion-mnist, or $NCOPT_DATA_DIR/fashion-mnist), scaled
to [0, 1] in float32 and held in memory as tensors before the clock starts
(torch.from_numpy: no copy); each epoch a seeded permutation, minibatches by
index_select, zero_grad / forward / loss / backward / step. Prints the same
key=value lines as bench_nn.c (impl=torch).
"""
import argparse
import gzip
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(split):
    base = os.environ.get("NCOPT_DATA_DIR")
    d = os.path.join(base, "fashion-mnist") if base else "/usr/share/datasets/fashion-mnist"
    pre = "train" if split == "train" else "t10k"
    x = idx(os.path.join(d, f"{pre}-images-idx3-ubyte.gz")).astype(np.float32) / np.float32(255)
    y = idx(os.path.join(d, f"{pre}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["mlp", "lenet"])
    ap.add_argument("epochs", nargs="?", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X, y = load("train")
    Xt, yt = load("test")
    n = X.shape[0]
    if a.model == "mlp":
        X, Xt = X.reshape(n, 784), Xt.reshape(-1, 784)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        lossf = nn.CrossEntropyLoss()
        T = y
        batch = 128
    else:
        model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                              nn.Linear(84, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        T = nn.functional.one_hot(y, 10).to(torch.float32)
        lossf = lambda out, t: 0.5 * ((out - t) ** 2).sum()
        batch = 100
    g = torch.Generator().manual_seed(1)
    best = 1e30
    for e in range(a.epochs):
        perm = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        total, steps = 0.0, 0
        for s in range(0, n, batch):
            ib = perm[s:s + batch]
            xb, tb = X.index_select(0, ib), T.index_select(0, ib)
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xb), tb)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        dt = time.perf_counter() - t0
        best = min(best, dt)
        print(f"impl=torch model={a.model} epoch={e + 1} train_seconds={dt:.3f} steps={steps} "
              f"mean_batch_loss={total / steps:.5f}", flush=True)
    with torch.no_grad():
        acc = (model(Xt).argmax(1) == yt).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    d = sum(p.numel() for p in model.parameters())
    print(f"impl=torch model={a.model} summary best_epoch_seconds={best:.3f} test_acc={acc:.4f} "
          f"peak_rss_mb={rss:.1f} d={d}")


if __name__ == "__main__":
    main()
