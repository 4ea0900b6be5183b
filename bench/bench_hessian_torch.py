#!/usr/bin/python3
"""bench/bench_hessian_torch.py — the PyTorch side of bench/bench_hessian.c.

    bench_hessian_torch.py [ITERS] [REPS] [--theta THETA.npy] [--threads T]

Same model, loss and data as bench_hessian.c: MLP 784-256-256-10, ReLU,
nn.CrossEntropyLoss (mean) on the first 1 000 Fashion-MNIST training images
scaled to [0, 1] (IDX .gz files in /usr/share/datasets/fashion-mnist or
$NCOPT_DATA_DIR/fashion-mnist); parameters from THETA.npy (written by
bench_hessian: the flat vector in PyTorch's parameter order) or torch's
default init.

PyHessian-style (Yao et al. 2020, pyhessian/hessian.py): the gradient is
computed once with create_graph=True, and every Hessian-vector product is a
second backward pass through it, torch.autograd.grad(grads, params,
grad_outputs=v, retain_graph=True) ("double backward"). Lanczos with full
reorthogonalisation (classical Gram–Schmidt against every previous vector,
as PyHessian's orthnormal), float32 vectors as PyHessian, ITERS iterations
from the start vector (1, …, 1) as bench_hessian.c (same Krylov space, so
the same λ_max up to rounding);
λ_max is the largest eigenvalue of the tridiagonal (numpy eigvalsh in
double). Timed: graph construction (forward + create_graph backward) plus
the ITERS iterations, best of REPS after one warm-up; also one HVP alone.
"""
import argparse
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn

from bench_nn_torch import idx  # the IDX reader of the MLP benchmark


def load(n):
    base = os.environ.get("NCOPT_DATA_DIR")
    d = os.path.join(base, "fashion-mnist") if base else "/usr/share/datasets/fashion-mnist"
    x = idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:n].astype(np.float32) / np.float32(255)
    y = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:n].astype(np.int64)
    return torch.from_numpy(x.reshape(n, 784)), torch.from_numpy(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iters", nargs="?", type=int, default=20)
    ap.add_argument("reps", nargs="?", type=int, default=3)
    ap.add_argument("--theta", default=None)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X, y = load(1000)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    params = [p for p in model.parameters() if p.requires_grad]
    if a.theta:
        th = torch.from_numpy(np.load(a.theta).astype(np.float32))
        with torch.no_grad():
            off = 0
            for p in params:
                p.copy_(th[off:off + p.numel()].view_as(p))
                off += p.numel()
        assert off == th.numel(), "theta has the wrong length"
    d = sum(p.numel() for p in params)
    lossf = nn.CrossEntropyLoss()

    def graph():
        loss = lossf(model(X), y)
        return torch.autograd.grad(loss, params, create_graph=True)

    def hvp(gradsH, v):
        vs = list(torch.split(v, [p.numel() for p in params]))
        vs = [t.view_as(p) for t, p in zip(vs, params)]
        hv = torch.autograd.grad(gradsH, params, grad_outputs=vs, only_inputs=True, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    def lanczos(iters):
        gradsH = graph()
        v = torch.ones(d)  # the same start as bench_hessian.c
        v /= v.norm()
        V, alpha, beta = [v], [], []
        for i in range(iters):
            w = hvp(gradsH, v)
            al = torch.dot(w, v)
            w = w - al * v
            if i > 0:
                w = w - beta[-1] * V[-2]
            for u in V:  # full reorthogonalisation
                w = w - torch.dot(w, u) * u
            alpha.append(al.item())
            b = w.norm()
            if i + 1 < iters:
                beta.append(b.item())
                v = w / b
                V.append(v)
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        return np.linalg.eigvalsh(T)[-1]

    gradsH = graph()
    v = torch.randn(d)
    hvp(gradsH, v)
    t_hvp = 1e30
    for r in range(a.reps):
        t0 = time.perf_counter()
        hvp(gradsH, v)
        t_hvp = min(t_hvp, time.perf_counter() - t0)
    del gradsH
    best, lam = 1e30, 0.0
    for r in range(a.reps + 1):  # r = 0: warm-up
        t0 = time.perf_counter()
        lam = lanczos(a.iters)
        dt = time.perf_counter() - t0
        if r > 0:
            best = min(best, dt)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"impl=torch iters={a.iters} seconds={best:.4f} hvp_seconds={t_hvp:.4f} lambda_max={lam:.8g} "
          f"d={d} n={X.shape[0]} threads={a.threads} torch={torch.__version__} peak_rss_mb={rss:.1f}")


if __name__ == "__main__":
    main()
