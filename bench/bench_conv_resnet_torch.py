#!/usr/bin/env python3
"""bench/bench_conv_resnet_torch.py — PyTorch's side of bench_conv_resnet.c:
ResNet-8's eight conv shapes at batch N (float32), forward under autograd
and backward of (y·dy).sum() with the same requires_grad pattern (the stem:
weights only; the others: input and weights), best of REPS calls, the same
flop count. Usage: bench_conv_resnet_torch.py [N] [REPS] [THREADS]"""
import sys
import time

import torch

N = int(sys.argv[1]) if len(sys.argv) > 1 else 128
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
SHAPES = [("stem 1->16 3x3", 1, 28, 16, 3, 1, 1, 1), ("b1 16->16 3x3", 16, 28, 16, 3, 1, 1, 2),
          ("b2c1 16->32 s2", 16, 28, 32, 3, 2, 1, 1), ("b2c2 32->32 3x3", 32, 14, 32, 3, 1, 1, 1),
          ("b2s 16->32 1x1 s2", 16, 28, 32, 1, 2, 0, 1), ("b3c1 32->64 s2", 32, 14, 64, 3, 2, 1, 1),
          ("b3c2 64->64 3x3", 64, 7, 64, 3, 1, 1, 1), ("b3s 32->64 1x1 s2", 32, 14, 64, 1, 2, 0, 1)]
step, step_flop = 0.0, 0.0
for name, C, H, K, k, s, p, count in SHAPES:
    first = C == 1
    x = torch.randn(N, C, H, H, requires_grad=not first)
    w = torch.randn(K, C, k, k, requires_grad=True)
    OH = (H + 2 * p - k) // s + 1
    dy = torch.randn(N, K, OH, OH)
    tf = tb = 1e9
    for r in range(REPS + 1):
        t0 = time.perf_counter()
        y = torch.nn.functional.conv2d(x, w, None, s, p)
        t1 = time.perf_counter()
        y.backward(dy)
        t2 = time.perf_counter()
        if r:
            tf, tb = min(tf, t1 - t0), min(tb, t2 - t1)
    fl = 2.0 * N * K * C * k * k * OH * OH
    print(f"{name:20s} fwd {tf * 1e3:7.3f} ms {fl / tf * 1e-9:6.1f} GFLOP/s | "
          f"bwd {tb * 1e3:7.3f} ms {(1 if first else 2) * fl / tb * 1e-9:6.1f} GFLOP/s")
    step += count * (tf + tb)
    step_flop += count * fl * (2 if first else 3)
print(f"step (batch {N}, {torch.get_num_threads()} threads): torch {step * 1e3:.2f} ms "
      f"({step_flop / step * 1e-9:.1f} GFLOP/s); torch {torch.__version__}, mkldnn {torch.backends.mkldnn.is_available()}")
