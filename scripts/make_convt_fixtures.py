#!/usr/bin/python3
"""Writes the PyTorch reference values in tests/fixtures/convt/ read by
tests/test_convt.c.

Reference: torch.nn.functional.conv_transpose2d of Debian 12's
python3-torch (torch 1.13, NumPy 1.24), CPU, float32, one thread,
gradients by autograd: for y = conv_transpose2d(x, w, b, stride, padding,
output_padding) and a random upstream gradient dy, y.backward(dy) gives
dx, dw, db (the gradient of sum(y * dy)).

Cases (name: N, C_in, H, W, C_out, k, stride, pad, output_padding, bias):
  a    2, 3, 4, 5, 2, 3, 2, 1, 1, yes   the VAE/DCGAN up-sampling block (doubles H, W)
  b    2, 2, 3, 3, 3, 2, 1, 0, 0, no    stride 1, no padding
  c    1, 2, 3, 4, 2, 2, 3, 1, 2, yes   stride 3 > kernel, output_padding 2
  d    3, 4, 1, 1, 3, 3, 2, 1, 1, yes   1x1 -> 2x2 (the VAE decoder's first layer)
  e    2, 3, 5, 4, 2, 4, 2, 2, 0, yes   padding 2, kernel 4
Files convt_<name>_{shape,x,w,b,dy,y,dx,dw,db}.npy: shape int64 (10,) = the
sizes above with bias as 0/1; x (N,C_in,H,W), w (C_in,C_out,k,k), b and db
(C_out,) (absent without bias), dy and y (N,C_out,H_out,W_out), dx like x,
dw like w; float32. Weights uniform(-1, 1)/sqrt(C_out*k*k), biases
uniform(-0.5, 0.5), inputs and dy N(0, 1).

Usage: /usr/bin/python3 scripts/make_convt_fixtures.py   (from anywhere)
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "convt")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
torch.manual_seed(20261202)


def save(name, arr):
    if isinstance(arr, torch.Tensor):
        arr = arr.detach().numpy()
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def case(name, N, C, H, W, K, k, stride, pad, opad, bias):
    x = torch.randn(N, C, H, W, requires_grad=True)
    w = ((torch.rand(C, K, k, k) * 2 - 1) / math.sqrt(K * k * k)).requires_grad_(True)
    b = (torch.rand(K) - 0.5).requires_grad_(True) if bias else None
    y = F.conv_transpose2d(x, w, b, stride=stride, padding=pad, output_padding=opad)
    dy = torch.randn_like(y)
    y.backward(dy)
    p = "convt_" + name
    save(p + "_shape", np.array([N, C, H, W, K, k, stride, pad, opad, int(bias)], dtype=np.int64))
    save(p + "_x", x)
    save(p + "_w", w)
    save(p + "_dy", dy)
    save(p + "_y", y)
    save(p + "_dx", x.grad)
    save(p + "_dw", w.grad)
    if bias:
        save(p + "_b", b)
        save(p + "_db", b.grad)


case("a", 2, 3, 4, 5, 2, 3, 2, 1, 1, True)
case("b", 2, 2, 3, 3, 3, 2, 1, 0, 0, False)
case("c", 1, 2, 3, 4, 2, 2, 3, 1, 2, True)
case("d", 3, 4, 1, 1, 3, 3, 2, 1, 1, True)
case("e", 2, 3, 5, 4, 2, 4, 2, 2, 0, True)
