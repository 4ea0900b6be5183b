#!/usr/bin/python3
"""Writes the PyTorch reference values in tests/fixtures/conv/ read by
tests/test_conv.c (test torch_fixtures).

Reference: torch.nn.functional.conv2d / max_pool2d / avg_pool2d of Debian
12's python3-torch (torch 1.13, NumPy 1.24), CPU, float32, one thread,
gradients by autograd: for an op y = f(inputs) and a random upstream
gradient dy, y.backward(dy) gives dx (and dw, db for conv2d), i.e. the
gradient of sum(y * dy).

Conv cases (name: N, C, H, W, K, kh, kw, stride, pad, bias):
  a       2, 3, 7, 6, 4, 3, 2, 2, 1, yes   non-square kernel, stride 2, odd sizes
  b       3, 2, 9, 8, 5, 3, 3, 1, 2, yes   padding 2
  c       2, 1, 5, 5, 3, 5, 5, 1, 0, no    kernel = input size, no bias
  d       2, 2, 6, 7, 3, 2, 2, 3, 0, yes   stride 3 > kernel: skipped pixels
  lenet1  2, 1, 28, 28, 6, 5, 5, 1, 2, yes  LeNet-5 conv1 (input: N(0,1) "images")
  lenet2  2, 6, 14, 14, 16, 5, 5, 1, 0, yes LeNet-5 conv2, input relu(maxpool2(lenet1's y))
Dilated cases (the same, then the dilation; written after the others, so
that the earlier cases' random draws are unchanged):
  dil2    2, 3, 9, 8, 4, 3, 3, 2, 2, yes, 2   stride 2, padding 2
  dil3    2, 2, 12, 11, 3, 3, 2, 2, 3, no, 3  non-square kernel, stride 2, padding 3
  dil3s1  1, 2, 10, 9, 2, 2, 3, 1, 1, yes, 3  stride 1 (the contiguous im2col path)
Files conv_<name>_{shape,x,w,b,dy,y,dx,dw,db}.npy: shape int64 (10,) = the
sizes above with bias as 0/1 ((11,) with the dilation for the dilated cases); x (N,C,H,W), w (K,C,kh,kw), b and db (K,)
(absent without bias), dy and y (N,K,OH,OW), dx like x, dw like w; float32.
Weights are uniform(-1, 1)/sqrt(C*kh*kw) (torch's default scale), biases
uniform(-0.5, 0.5), inputs and dy N(0, 1).

Pool cases (name: op, N, C, H, W, k, stride; input):
  mp_a       max 2, 3, 7, 9, 3, 2  integers in {-2..2}: many ties, overlapping windows
  mp_b       max 1, 2, 7, 7, 2, 3  N(0,1), stride > window
  mp_lenet1  max 2, 6, 28, 28, 2, 2  relu(lenet1's y): ties at 0
  mp_lenet2  max 2, 16, 10, 10, 2, 2 relu(lenet2's y)
  ap_a       avg 2, 3, 7, 9, 3, 2  N(0,1), overlapping windows
  ap_b       avg 1, 2, 7, 7, 2, 3  N(0,1), stride > window
  ap_c       avg 2, 3, 8, 6, 2, 2  N(0,1)
Files pool_<name>_{shape,x,dy,y,dx}.npy and, for max, pool_<name>_idx.npy:
shape int64 (6,) = N, C, H, W, k, stride; x (N,C,H,W); dy, y (N,C,OH,OW);
dx like x; idx int32 (N,C,OH,OW): torch's return_indices (flat index
ih*W + iw within the plane). float32 otherwise.

Usage: /usr/bin/python3 scripts/make_conv_fixtures.py   (from anywhere)
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "conv")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
torch.manual_seed(20240611)


def save(name, arr):
    if isinstance(arr, torch.Tensor):
        arr = arr.detach().numpy()
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def conv_case(name, N, C, H, W, K, kh, kw, stride, pad, bias, x=None, dilation=1):
    if x is None:
        x = torch.randn(N, C, H, W)
    x = x.detach().clone().requires_grad_(True)
    bound = 1.0 / math.sqrt(C * kh * kw)
    w = ((torch.rand(K, C, kh, kw) * 2 - 1) * bound).requires_grad_(True)
    b = (torch.rand(K) - 0.5).requires_grad_(True) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dilation)
    dy = torch.randn_like(y)
    y.backward(dy)
    p = "conv_" + name + "_"
    shape = [N, C, H, W, K, kh, kw, stride, pad, int(bias)] + ([dilation] if dilation != 1 else [])
    save(p + "shape", np.array(shape, dtype=np.int64))
    save(p + "x", x)
    save(p + "w", w)
    save(p + "dy", dy)
    save(p + "y", y)
    save(p + "dx", x.grad)
    save(p + "dw", w.grad)
    if bias:
        save(p + "b", b)
        save(p + "db", b.grad)
    return y.detach()


def pool_case(name, op, x, k, stride):
    N, C, H, W = x.shape
    x = x.detach().clone().requires_grad_(True)
    if op == "max":
        y, idx = F.max_pool2d(x, k, stride, return_indices=True)
    else:
        y = F.avg_pool2d(x, k, stride)
    dy = torch.randn_like(y)
    y.backward(dy)
    p = "pool_" + name + "_"
    save(p + "shape", np.array([N, C, H, W, k, stride], dtype=np.int64))
    save(p + "x", x)
    save(p + "dy", dy)
    save(p + "y", y)
    save(p + "dx", x.grad)
    if op == "max":
        save(p + "idx", idx.numpy().astype(np.int32))


conv_case("a", 2, 3, 7, 6, 4, 3, 2, 2, 1, True)
conv_case("b", 3, 2, 9, 8, 5, 3, 3, 1, 2, True)
conv_case("c", 2, 1, 5, 5, 3, 5, 5, 1, 0, False)
conv_case("d", 2, 2, 6, 7, 3, 2, 2, 3, 0, True)
y1 = conv_case("lenet1", 2, 1, 28, 28, 6, 5, 5, 1, 2, True)
x2 = torch.relu(F.max_pool2d(y1, 2, 2))
y2 = conv_case("lenet2", 2, 6, 14, 14, 16, 5, 5, 1, 0, True, x=x2)

pool_case("mp_a", "max", torch.randint(-2, 3, (2, 3, 7, 9)).float(), 3, 2)
pool_case("mp_b", "max", torch.randn(1, 2, 7, 7), 2, 3)
pool_case("mp_lenet1", "max", torch.relu(y1), 2, 2)
pool_case("mp_lenet2", "max", torch.relu(y2), 2, 2)
pool_case("ap_a", "avg", torch.randn(2, 3, 7, 9), 3, 2)
pool_case("ap_b", "avg", torch.randn(1, 2, 7, 7), 2, 3)
pool_case("ap_c", "avg", torch.randn(2, 3, 8, 6), 2, 2)

conv_case("dil2", 2, 3, 9, 8, 4, 3, 3, 2, 2, True, dilation=2)
conv_case("dil3", 2, 2, 12, 11, 3, 3, 2, 2, 3, False, dilation=3)
conv_case("dil3s1", 1, 2, 10, 9, 2, 2, 3, 1, 1, True, dilation=3)

total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
print("wrote %s (%d files, %.0f KB)" % (os.path.normpath(OUT), len(os.listdir(OUT)), total / 1024))
