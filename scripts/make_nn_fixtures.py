#!/usr/bin/python3
"""Writes tests/fixtures/nn/: PyTorch's forward outputs, losses, gradients and
Hessian-vector products for small networks of every layer type, an MLP and
LeNet-5, at fixed weights and inputs, for tests/test_nn_torch.c.

Run with Debian's python3 and python3-torch (float32, one thread):
    /usr/bin/python3 scripts/make_nn_fixtures.py [OUTDIR]

Weights, inputs, targets and HVP directions are NOT stored: both this script
and the C test generate them from the same integer hash (splitmix64 of
seed·φ + (j+1)·c, see gen()), whose float values are produced by IEEE-exact
double operations and one rounding to float32, so they are bit-identical in
NumPy and C. Parameter slice i of case c (torch's parameters() order, which
is ncopt's θ layout) uses seed 1000·c + i and bound 1/√fan_in (fan_in =
weight.numel()/weight.shape[0], the bias uses its layer's weight's); inputs
seed 1000·c + 500, bound 1; real targets 1000·c + 600, bound 1; labels
(hash(1000·c + 600, i) >> 11) mod K; the HVP direction 1000·c + 700,
bound 1.

Losses: cross-entropy = torch.nn.CrossEntropyLoss() (mean over the batch);
least squares = 0.5·((out − t)²).sum() (ncopt's default SUM reduction),
t = real rows or one-hot rows of the labels.
Keep the total under 2 MB (LeNet's θ has 61 706 entries, 247 kB a vector).
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

M1 = np.uint64(0x9E3779B97F4A7C15)
M2 = np.uint64(0xBF58476D1CE4E5B9)
M3 = np.uint64(0x94D049BB133111EB)


def hash_u64(seed, n):
    j = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * M1 + (j + np.uint64(1)) * M2
        z ^= z >> np.uint64(30)
        z *= M2
        z ^= z >> np.uint64(27)
        z *= M3
        z ^= z >> np.uint64(31)
    return z


def gen(seed, n, bound):
    """float32 values (2u − 1)·bound, u = (hash >> 11)·2⁻⁵³ ∈ [0, 1)."""
    u = (hash_u64(seed, n) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return ((2.0 * u - 1.0) * bound).astype(np.float32)


def labels(seed, n, k):
    return ((hash_u64(seed, n) >> np.uint64(11)) % np.uint64(k)).astype(np.int64)


def lenet():
    return [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10)]


def mlp(act):
    return [nn.Linear(20, 16), act(), nn.Linear(16, 12), act(), nn.Linear(12, 5)]


# (case id, name, layers, input shape per sample, loss, targets, batch, hvp)
# The C test (tests/test_nn_torch.c) builds the same models by id.
CASES = [
    (1, "dense", [nn.Linear(7, 5)], (7,), "ls", "rows", 4, True),
    (2, "dense_nobias", [nn.Linear(6, 4, bias=False)], (6,), "ce", "labels", 4, True),
    (3, "act_sigmoid", [nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (4, "act_tanh", [nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (5, "act_relu", [nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (6, "act_leaky_relu", [nn.Linear(6, 8), nn.LeakyReLU(0.01), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (7, "act_elu", [nn.Linear(6, 8), nn.ELU(1.0), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (8, "act_softplus", [nn.Linear(6, 8), nn.Softplus(), nn.Linear(8, 3)], (6,), "ls", "rows", 4, True),
    (9, "conv", [nn.Conv2d(2, 3, 3, stride=2, padding=1)], (2, 7, 7), "ls", "rows", 3, True),
    (10, "conv_nobias", [nn.Conv2d(2, 3, (3, 2), bias=False), nn.Flatten(), nn.Linear(90, 4)],
     (2, 7, 7), "ce", "labels", 3, True),
    (11, "maxpool", [nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2)], (1, 6, 6), "ls", "rows", 3, True),
    (12, "maxpool_overlap", [nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(3, stride=1)],
     (1, 6, 6), "ls", "rows", 3, True),
    (13, "avgpool", [nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(2)], (1, 6, 6), "ls", "rows", 3, True),
    (14, "avgpool_k3s2", [nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(3, stride=2)],
     (1, 7, 7), "ls", "rows", 3, True),
    (15, "mlp_ce", mlp(nn.ReLU), (20,), "ce", "labels", 6, True),
    (16, "mlp_ls", mlp(nn.Tanh), (20,), "ls", "labels", 6, True),
    (17, "lenet_ce", lenet(), (1, 28, 28), "ce", "labels", 3, False),
    (18, "lenet_ls", lenet(), (1, 28, 28), "ls", "labels", 3, True),
]


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fixtures", "nn")
    os.makedirs(out, exist_ok=True)
    for cid, name, layers, shape, loss, tkind, n, want_hvp in CASES:
        model = nn.Sequential(*layers)
        params = list(model.parameters())
        with torch.no_grad():
            i = 0
            for mod in model:
                w = getattr(mod, "weight", None)
                if w is None:
                    continue
                fan_in = w.numel() // w.shape[0]
                bound = 1.0 / math.sqrt(fan_in)
                for p in ([w] + ([mod.bias] if mod.bias is not None else [])):
                    p.copy_(torch.from_numpy(gen(1000 * cid + i, p.numel(), bound)).reshape(p.shape))
                    i += 1
            assert i == len(params)
        din = int(np.prod(shape))
        X = torch.from_numpy(gen(1000 * cid + 500, n * din, 1.0)).reshape((n,) + shape)
        y = model(X)
        K = y[0].numel()
        if tkind == "labels":
            lab = torch.from_numpy(labels(1000 * cid + 600, n, K))
            T = nn.functional.one_hot(lab, K).to(torch.float32)
        else:
            T = torch.from_numpy(gen(1000 * cid + 600, n * K, 1.0)).reshape(n, K)
        yf = y.reshape(n, K)
        if loss == "ce":
            L = nn.CrossEntropyLoss()(yf, lab)
        else:
            L = 0.5 * ((yf - T) ** 2).sum()
        g = torch.autograd.grad(L, params, create_graph=want_hvp)
        flat_g = torch.cat([t.reshape(-1) for t in g])
        np.save(os.path.join(out, f"{name}_out.npy"), yf.detach().numpy().astype(np.float32))
        np.save(os.path.join(out, f"{name}_loss.npy"), np.array([L.item()], dtype=np.float32))
        np.save(os.path.join(out, f"{name}_grad.npy"), flat_g.detach().numpy().astype(np.float32))
        if want_hvp:
            d = flat_g.numel()
            v = torch.from_numpy(gen(1000 * cid + 700, d, 1.0))
            gv = (flat_g * v).sum()
            hv = torch.autograd.grad(gv, params)
            flat_hv = torch.cat([t.reshape(-1) for t in hv])
            np.save(os.path.join(out, f"{name}_hvp.npy"), flat_hv.numpy().astype(np.float32))
        print(f"{name}: d={flat_g.numel()} K={K} loss={L.item():.6g}")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(
            "# Network fixtures (tests/test_nn_torch.c)\n\n"
            "Written by `scripts/make_nn_fixtures.py` with Debian's python3-torch "
            f"{torch.__version__} and NumPy {np.__version__} (float32, 1 thread). Do not edit: rerun\n"
            "the script. For each case NAME: `NAME_out.npy` (forward outputs, (N, K)),\n"
            "`NAME_loss.npy` (the loss, (1,)), `NAME_grad.npy` (gradient over θ in\n"
            "torch's parameters() order = ncopt's layout) and `NAME_hvp.npy` (Hessian\n"
            "times the generated direction). Weights, inputs, targets and directions are\n"
            "generated by the hash described in the script, identically in the C test.\n")


if __name__ == "__main__":
    main()
