#!/usr/bin/python3
"""Writes the PyTorch reference values in tests/fixtures/bn/ read by
tests/test_batchnorm.c.

Reference: torch.nn.BatchNorm1d / BatchNorm2d of Debian 12's python3-torch
(torch 1.13, NumPy 1.24), CPU, float32, one thread. For each case a module
with the case's eps, momentum and affine is built; its running statistics
are set to rm0, rv0 and (affine) its weight and bias to gamma, beta. Then
  * training mode: y = bn(x); y.backward(dy) gives dx, dgamma, dbeta (the
    gradient of sum(y * dy)); the running statistics after that one
    forward are rm1, rv1;
  * evaluation mode (bn.eval()): y2 = bn(x2), normalised by rm1, rv1.

Cases (name: N, C, H, W, flat, affine, eps, momentum):
  a1   5, 4, -, -, flat, affine,   1e-5, 0.1   BatchNorm1d, torch's defaults
  b1   2, 3, -, -, flat, affine,   1e-5, 0.1   two samples (M = 2, the smallest)
  a2   4, 3, 3, 2, -,    affine,   1e-5, 0.1   BatchNorm2d, torch's defaults
  b2   6, 2, 2, 2, -,    no affine, 1e-3, 0.3  other eps and momentum
  c2   1, 2, 3, 3, -,    affine,   1e-5, 0.1   one sample, 3x3 per channel
Files bn_<name>_{shape,hyper,x,gamma,beta,rm0,rv0,y,rm1,rv1,dy,dx,dgamma,
dbeta,x2,y2}.npy: shape int64 (6,) = N, C, H, W (1, 1 when flat), flat,
affine; hyper float64 (2,) = eps, momentum; gamma, beta, dgamma, dbeta
absent without affine; the rest float32, x, y, dy, dx, x2, y2 of shape
(N, C) or (N, C, H, W), the statistics (C,). x = N(0, 1)·2 + 0.5 (a mean
and a scale away from the normalised ones), x2 likewise, dy N(0, 1),
gamma uniform(0.5, 1.5), beta uniform(-0.5, 0.5), rm0 N(0, 1)·0.3, rv0
uniform(0.5, 2).

Second order (bn_hvp_*): the network Linear(4, 3) → BatchNorm1d(3) → Tanh →
Linear(3, 2) in float64, training mode, least squares 1/2·sum((y − t)²) on
N = 6 samples: the loss, its gradient and the Hessian-vector product H·v
(double backward through autograd), at a θ and v stored as float32 (so
that ncopt's float32 interface holds them exactly), in
model.parameters() order (fc1.weight, fc1.bias, bn.weight, bn.bias,
fc2.weight, fc2.bias). Files bn_hvp_{x,t,theta,v}.npy float32 (x (6, 4),
t (6, 2)), bn_hvp_{loss,grad,hv}.npy float64.

Usage: /usr/bin/python3 scripts/make_bn_fixtures.py   (from anywhere)
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "bn")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
torch.manual_seed(20261212)


def save(name, arr):
    if isinstance(arr, torch.Tensor):
        arr = arr.detach().numpy()
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def case(name, N, C, H, W, flat, affine, eps, momentum):
    shape = (N, C) if flat else (N, C, H, W)
    mod = (torch.nn.BatchNorm1d if flat else torch.nn.BatchNorm2d)(C, eps=eps, momentum=momentum, affine=affine)
    x = (torch.randn(*shape) * 2 + 0.5).requires_grad_(True)
    x2 = torch.randn(*shape) * 2 + 0.5
    dy = torch.randn(*shape)
    rm0 = torch.randn(C) * 0.3
    rv0 = torch.rand(C) * 1.5 + 0.5
    with torch.no_grad():
        mod.running_mean.copy_(rm0)
        mod.running_var.copy_(rv0)
        if affine:
            mod.weight.copy_(torch.rand(C) + 0.5)
            mod.bias.copy_(torch.rand(C) - 0.5)
    p = "bn_" + name
    if affine:
        save(p + "_gamma", mod.weight)
        save(p + "_beta", mod.bias)
    mod.train()
    y = mod(x)
    y.backward(dy)
    mod.eval()
    with torch.no_grad():
        y2 = mod(x2)
    save(p + "_shape", np.array([N, C, 1 if flat else H, 1 if flat else W, int(flat), int(affine)], dtype=np.int64))
    save(p + "_hyper", np.array([eps, momentum], dtype=np.float64))
    save(p + "_x", x)
    save(p + "_rm0", rm0)
    save(p + "_rv0", rv0)
    save(p + "_y", y)
    save(p + "_rm1", mod.running_mean)
    save(p + "_rv1", mod.running_var)
    save(p + "_dy", dy)
    save(p + "_dx", x.grad)
    if affine:
        save(p + "_dgamma", mod.weight.grad)
        save(p + "_dbeta", mod.bias.grad)
    save(p + "_x2", x2)
    save(p + "_y2", y2)


case("a1", 5, 4, 1, 1, True, True, 1e-5, 0.1)
case("b1", 2, 3, 1, 1, True, True, 1e-5, 0.1)
case("a2", 4, 3, 3, 2, False, True, 1e-5, 0.1)
case("b2", 6, 2, 2, 2, False, False, 1e-3, 0.3)
case("c2", 1, 2, 3, 3, False, True, 1e-5, 0.1)


def hvp_case():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Tanh(),
                                torch.nn.Linear(3, 2)).double().train()
    params = list(model.parameters())
    dim = sum(p.numel() for p in params)
    theta = (torch.rand(dim) * 2 - 1).float()
    theta[12 + 3:12 + 6] = torch.rand(3).float() + 0.5  # bn.weight in (0.5, 1.5)
    v = torch.randn(dim).float()
    x = (torch.randn(6, 4) * 1.5 + 0.3).float()
    t = torch.randn(6, 2).float()
    torch.nn.utils.vector_to_parameters(theta.double(), params)
    loss = 0.5 * ((model(x.double()) - t.double()) ** 2).sum()
    g = torch.autograd.grad(loss, params, create_graph=True)
    gflat = torch.cat([q.reshape(-1) for q in g])
    hv = torch.autograd.grad((gflat * v.double()).sum(), params)
    save("bn_hvp_x", x)
    save("bn_hvp_t", t)
    save("bn_hvp_theta", theta)
    save("bn_hvp_v", v)
    save("bn_hvp_loss", np.array([loss.item()], dtype=np.float64))
    save("bn_hvp_grad", gflat.detach().double())
    save("bn_hvp_hv", torch.cat([q.reshape(-1) for q in hv]).double())


hvp_case()
