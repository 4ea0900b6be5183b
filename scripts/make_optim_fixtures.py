#!/usr/bin/python3
"""Writes the torch.optim reference trajectories in tests/fixtures/optim/
read by tests/test_optim.c (test torch_fixtures).

Reference: PyTorch's own optimisers (Debian 12 python3-torch, torch 1.13,
NumPy 1.24), single-tensor implementation (foreach=False), float32
parameters, 50 .step() calls from a fixed start, on two objectives that
tests/test_optim.c rebuilds through ncopt's problem interface:

  quad: f(x) = 1/2 x^T Q x - b^T x, d = 5, Q symmetric positive definite
        (diagonally dominant, eigenvalues 0.65 .. 3.41); Q, b, x0 are exact
        binary fractions written out below.
  glm:  f(x) = 1/2 sum_i (sigmoid(a_i^T x) - b_i)^2, n = 8, d = 4 (ncopt's
        nco_glm_create with the sigmoid and the sum reduction); A, b, x0
        exact binary fractions from the formulas below.

The gradient handed to torch is computed in float64 at the float32
iterate and rounded to float32 (p.grad), as ncopt's problems do (double
accumulation); so the comparison isolates the optimisers' float32 update
arithmetic. Some cases set maximize=True: their gradient is that of -f, so
they still descend f.

Each case's hyper-parameters are saved with it (a float64 vector, layout
HP_KEYS below), so the C test reads them instead of repeating them.

Files (P in {quad, glm}, C a case name from CASES):
  P_C.npy        float32 (51, d): x0 and the iterate after each of 50 steps
  P_C_hp.npy     float64 (len(HP_KEYS),): the case's hyper-parameters
  quad_Q.npy float32 (5, 5), quad_b.npy (5,), quad_x0.npy (5,)
  glm_A.npy float32 (8, 4), glm_b.npy (8,), glm_x0.npy (4,)

Usage: /usr/bin/python3 scripts/make_optim_fixtures.py  (from anywhere)
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optim")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)
STEPS = 50

# method ids in the hp vector (the C test maps them to ncopt types)
METHODS = ["sgd", "adagrad", "rmsprop", "adam", "adamw"]
HP_KEYS = ["method", "lr", "momentum", "dampening", "nesterov", "weight_decay", "alpha", "centered",
           "beta1", "beta2", "eps", "amsgrad", "lr_decay", "initial_accumulator_value", "maximize"]

# name, method, torch keyword arguments (everything else torch's default)
CASES = [
    ("sgd", "sgd", dict(lr=0.05)),
    ("sgd_momentum", "sgd", dict(lr=0.02, momentum=0.9)),
    ("sgd_nesterov", "sgd", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("sgd_wd_damp", "sgd", dict(lr=0.03, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("sgd_maximize", "sgd", dict(lr=0.05, maximize=True)),
    ("adagrad", "adagrad", dict(lr=0.3, lr_decay=0.05, initial_accumulator_value=0.5, eps=1e-3,
                                weight_decay=0.05)),
    ("rmsprop", "rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-3)),
    ("rmsprop_centered", "rmsprop", dict(lr=0.005, alpha=0.9, eps=1e-3, centered=True, momentum=0.5,
                                         weight_decay=0.05)),
    ("adam", "adam", dict(lr=0.05)),
    ("adam_l2_maximize", "adam", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1,
                                      maximize=True)),
    ("adam_amsgrad", "adam", dict(lr=0.05, betas=(0.8, 0.5), eps=1e-3, amsgrad=True)),
    ("adamw", "adamw", dict(lr=0.05, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)),
    ("adamw_amsgrad", "adamw", dict(lr=0.05, betas=(0.8, 0.5), eps=1e-3, weight_decay=0.2, amsgrad=True)),
]

TORCH = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
         "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def hp_vector(method, kw):
    """The case's complete hyper-parameters (torch's defaults filled in)."""
    opt = TORCH[method]([torch.zeros(1, requires_grad=True)], **kw)
    g = opt.param_groups[0]
    betas = g.get("betas", (0.9, 0.999))
    v = {
        "method": METHODS.index(method), "lr": g["lr"], "momentum": g.get("momentum", 0.0),
        "dampening": g.get("dampening", 0.0), "nesterov": float(g.get("nesterov", False)),
        "weight_decay": g.get("weight_decay", 0.0), "alpha": g.get("alpha", 0.99),
        "centered": float(g.get("centered", False)), "beta1": betas[0], "beta2": betas[1],
        "eps": g.get("eps", 1e-8), "amsgrad": float(g.get("amsgrad", False)),
        "lr_decay": g.get("lr_decay", 0.0),
        "initial_accumulator_value": g.get("initial_accumulator_value", 0.0),
        "maximize": float(g.get("maximize", False)),
    }
    return np.array([float(v[k]) for k in HP_KEYS], dtype=np.float64)


# ---- objectives (float64 gradients at float32 points) ----------------------

QUAD_Q = np.array([[3.0, 0.5, 0.25, 0.0, 0.125],
                   [0.5, 2.5, 0.25, 0.375, 0.0],
                   [0.25, 0.25, 1.5, 0.25, 0.25],
                   [0.0, 0.375, 0.25, 1.0, 0.125],
                   [0.125, 0.0, 0.25, 0.125, 0.75]])
QUAD_B = np.array([1.0, -2.0, 0.5, 1.5, -1.0])
QUAD_X0 = np.array([2.0, -1.5, 3.0, -2.5, 1.0])


def quad_grad(x):
    return QUAD_Q @ x - QUAD_B


def glm_data():
    # A[i][j] = ((3 i + 5 j + 1) mod 9 - 4)/4, b[i] = (1 + (5 i mod 7))/8:
    # features in [-1, 1], targets in (0, 1), exact in binary
    A = np.array([[((3 * i + 5 * j + 1) % 9 - 4) / 4.0 for j in range(4)] for i in range(8)])
    b = np.array([(1 + (5 * i) % 7) / 8.0 for i in range(8)])
    x0 = np.array([1.5, -1.0, 0.5, 2.0])
    return A, b, x0


GLM_A, GLM_B, GLM_X0 = glm_data()


def glm_grad(x):
    z = GLM_A @ x
    s = 1.0 / (1.0 + np.exp(-z))
    return GLM_A.T @ ((s - GLM_B) * s * (1.0 - s))


PROBLEMS = {"quad": (quad_grad, QUAD_X0), "glm": (glm_grad, GLM_X0)}


def run(method, kw, grad, x0):
    p = torch.tensor(x0, dtype=torch.float32, requires_grad=True)
    opt = TORCH[method]([p], foreach=False, **kw)
    sign = -1.0 if kw.get("maximize", False) else 1.0
    traj = [p.detach().numpy().copy()]
    for _ in range(STEPS):
        x = p.detach().numpy().astype(np.float64)
        p.grad = torch.tensor(sign * grad(x), dtype=torch.float32)
        opt.step()
        traj.append(p.detach().numpy().copy())
    return np.array(traj, dtype=np.float32)


def main():
    np.save(os.path.join(OUT, "quad_Q.npy"), QUAD_Q.astype(np.float32))
    np.save(os.path.join(OUT, "quad_b.npy"), QUAD_B.astype(np.float32))
    np.save(os.path.join(OUT, "quad_x0.npy"), QUAD_X0.astype(np.float32))
    np.save(os.path.join(OUT, "glm_A.npy"), GLM_A.astype(np.float32))
    np.save(os.path.join(OUT, "glm_b.npy"), GLM_B.astype(np.float32))
    np.save(os.path.join(OUT, "glm_x0.npy"), GLM_X0.astype(np.float32))
    assert np.all(np.linalg.eigvalsh(QUAD_Q) > 0)
    for pname, (grad, x0) in PROBLEMS.items():
        for name, method, kw in CASES:
            traj = run(method, kw, grad, x0)
            assert np.all(np.isfinite(traj))
            np.save(os.path.join(OUT, f"{pname}_{name}.npy"), traj)
            np.save(os.path.join(OUT, f"{pname}_{name}_hp.npy"), hp_vector(method, kw))
            print(f"{pname}_{name}: x_50 = {traj[-1]}")


if __name__ == "__main__":
    main()
