#!/usr/bin/python3
"""Writes tests/fixtures/mse/: torch.nn.MSELoss() (reduction 'mean') of a
small conv net with a dilated conv reconstructing an image target, its
gradient and a Hessian-vector product, read by tests/test_nn_torch.c
(test_mse_torch) for ncopt's NCO_NN_LOSS_MSE.

Model (input (1, 6, 6), batch 3):
  Conv2d(1, 2, 3, padding=2, dilation=2), Tanh, Conv2d(2, 1, 3, padding=1)
output (1, 6, 6) per sample, target an image of the same shape.
Weights, inputs, targets and the HVP direction come from the integer hash
of scripts/make_nn_fixtures.py (gen(), bit-identical in the C test):
parameter slice i: seed 1000·c + i, bound 1/√fan_in (the layer's weight's);
inputs 1000·c + 500, targets 1000·c + 600, direction 1000·c + 700, bound 1;
c = 19. Files mse_conv_{out,loss,grad,hvp}.npy (float32).

Usage: /usr/bin/python3 scripts/make_mse_fixtures.py   (from anywhere)
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_nn_fixtures import gen  # noqa: E402

CID, N, SHAPE = 19, 3, (1, 6, 6)


def main():
    torch.set_num_threads(1)
    out = os.path.join(HERE, "..", "tests", "fixtures", "mse")
    os.makedirs(out, exist_ok=True)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=2, dilation=2), nn.Tanh(), nn.Conv2d(2, 1, 3, padding=1))
    params = list(model.parameters())
    with torch.no_grad():
        i = 0
        for mod in model:
            w = getattr(mod, "weight", None)
            if w is None:
                continue
            bound = 1.0 / math.sqrt(w.numel() // w.shape[0])
            for p in [w, mod.bias]:
                p.copy_(torch.from_numpy(gen(1000 * CID + i, p.numel(), bound)).reshape(p.shape))
                i += 1
    din = int(np.prod(SHAPE))
    X = torch.from_numpy(gen(1000 * CID + 500, N * din, 1.0)).reshape((N,) + SHAPE)
    y = model(X)
    K = y[0].numel()
    T = torch.from_numpy(gen(1000 * CID + 600, N * K, 1.0)).reshape(y.shape)
    L = nn.MSELoss()(y, T)
    g = torch.autograd.grad(L, params, create_graph=True)
    flat_g = torch.cat([t.reshape(-1) for t in g])
    v = torch.from_numpy(gen(1000 * CID + 700, flat_g.numel(), 1.0))
    hv = torch.autograd.grad((flat_g * v).sum(), params)
    flat_hv = torch.cat([t.reshape(-1) for t in hv])
    save = lambda what, a: np.save(os.path.join(out, f"mse_conv_{what}.npy"), a.astype(np.float32))
    save("out", y.detach().reshape(N, K).numpy())
    save("loss", np.array([L.item()]))
    save("grad", flat_g.detach().numpy())
    save("hvp", flat_hv.numpy())
    print(f"mse_conv: d={flat_g.numel()} K={K} loss={L.item():.6g}")


if __name__ == "__main__":
    main()
