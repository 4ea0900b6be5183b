#!/usr/bin/python3
"""Writes the PyTorch reference values in tests/fixtures/resample/ read by
tests/test_resample.c.

Reference: torch.nn.functional.interpolate (mode nearest / bilinear with
align_corners=False, integer scale_factor) and adaptive_avg_pool2d(x, 1)
of Debian 12's python3-torch (torch 1.13, NumPy 1.24), CPU, float32, one
thread; dx by autograd for a random upstream gradient dy (y.backward(dy)).

Cases (name: op, N, C, H, W, scale):
  near2  nearest   2, 3, 3, 4, 2
  near3  nearest   1, 2, 2, 3, 3
  bil2   bilinear  2, 3, 3, 4, 2
  bil3   bilinear  1, 2, 5, 3, 3
  bil1   bilinear  1, 1, 4, 4, 1   (scale 1: the identity)
  gap    global average pool 2, 3, 5, 4
Files resample_<name>_{shape,x,dy,y,dx}.npy: shape int64 (6,) = N, C, H, W,
scale (1 for gap), mode (0 nearest, 1 bilinear, 2 gap); float32 x
(N,C,H,W), dy and y (N,C,OH,OW), dx like x.

Usage: /usr/bin/python3 scripts/make_resample_fixtures.py   (from anywhere)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "resample")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
torch.manual_seed(20261203)


def save(name, arr):
    if isinstance(arr, torch.Tensor):
        arr = arr.detach().numpy()
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def case(name, mode, N, C, H, W, s):
    x = torch.randn(N, C, H, W, requires_grad=True)
    if mode == 2:
        y = F.adaptive_avg_pool2d(x, 1)
    elif mode == 1:
        y = F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)
    else:
        y = F.interpolate(x, scale_factor=s, mode="nearest")
    dy = torch.randn_like(y)
    y.backward(dy)
    p = "resample_" + name
    save(p + "_shape", np.array([N, C, H, W, s, mode], dtype=np.int64))
    save(p + "_x", x)
    save(p + "_dy", dy)
    save(p + "_y", y)
    save(p + "_dx", x.grad)


case("near2", 0, 2, 3, 3, 4, 2)
case("near3", 0, 1, 2, 2, 3, 3)
case("bil2", 1, 2, 3, 3, 4, 2)
case("bil3", 1, 1, 2, 5, 3, 3)
case("bil1", 1, 1, 1, 4, 4, 1)
case("gap", 2, 2, 3, 5, 4, 1)
