#!/usr/bin/python3
"""bench/bench_optim_torch.py — the PyTorch side of bench/bench_optim.c.

For n float32 parameters (default 10^7) and each of SGD (momentum 0.9),
Adam and AdamW (torch.optim, foreach=True, torch.set_num_threads(2) unless
--threads says otherwise): warm up 3 steps, time `reps` calls of .step()
and print, per method,

  torch METHOD ns_per_param=MIN median=MED gbps=G threads=T

gbps counts the bytes a fused update must move (20 B/param for
SGD-momentum, 28 for Adam/AdamW) over the best time, as bench_optim.c does.

Usage: /usr/bin/python3 bench/bench_optim_torch.py [n] [reps] [--threads T]
           [--method sgd_momentum|adam|adamw]
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser(description="torch.optim step timing (see bench_optim.c)")
    ap.add_argument("n", type=int, nargs="?", default=10_000_000)
    ap.add_argument("reps", type=int, nargs="?", default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--method", choices=["sgd_momentum", "adam", "adamw"], default=None)
    a = ap.parse_args()
    n, reps, threads = a.n, a.reps, a.threads
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(1)
    methods = [
        ("sgd_momentum", lambda p: torch.optim.SGD([p], lr=1e-3, momentum=0.9, foreach=True), 20),
        ("adam", lambda p: torch.optim.Adam([p], lr=1e-3, foreach=True), 28),
        ("adamw", lambda p: torch.optim.AdamW([p], lr=1e-3, foreach=True), 28),
    ]
    for name, make, nbytes in methods:
        if a.method and name != a.method:
            continue
        p = torch.randn(n, generator=gen).requires_grad_(True)
        p.grad = torch.randn(n, generator=gen)
        opt = make(p)
        for _ in range(3):
            opt.step()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            opt.step()
            ts.append(time.perf_counter() - t0)
        ts.sort()
        best = ts[0] / n * 1e9
        med = ts[len(ts) // 2] / n * 1e9
        print(f"torch {name} ns_per_param={best:.4f} median={med:.4f} gbps={nbytes / best:.1f} "
              f"threads={threads}", flush=True)
        del opt, p


if __name__ == "__main__":
    main()
