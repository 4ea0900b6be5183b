#!/usr/bin/python3
"""Writes the torch.optim.LBFGS reference trajectories in tests/fixtures/optim/
read by tests/test_optim_extra.c (test lbfgs_vs_torch).

Reference: PyTorch's own torch.optim.LBFGS (Debian 12 python3-torch,
torch 1.13, NumPy 1.24), history_size=10, max_iter=20, defaults otherwise
(lr=1, max_eval=25, tolerance_grad=1e-7, tolerance_change=1e-9), run for 5
.step(closure) calls, on two least-squares objectives f(x) = 1/2 ||r(x)||^2
that tests/test_optim_extra.c defines identically:

  quad: r(x) = M x - b, M (6, 4), b (6) exact binary fractions below,
        x0 = [0.5, -0.25, 0.75, -1.0]
  rosen: r(x) = [10 (x1 - x0^2), 1 - x0], x0 = [-1.2, 1.0]
         (Rosenbrock's function halved)

each with line_search_fn=None and "strong_wolfe". Parameters are float32
(as in ncopt); the closure evaluates the residual and the loss in float64
and the gradient comes back rounded to float32, as ncopt's problems do.

Files, for P in {quad, rosen} and L in {none, strong_wolfe}:
  lbfgs_P_L_x.npy      float32 (6, d): x0 and x after each of the 5 steps
  lbfgs_P_L_loss.npy   float64 (5,):   the loss each .step() returned
                                       (at the step's starting point)
  lbfgs_P_L_count.npy  int64 (5, 2):   state n_iter, func_evals after each step
  lbfgs_P_L_x64.npy    float64 (6, d): the same run with float64 parameters
                                       (how far rounding alone moves the
                                       trajectory: the test's tolerance)

Usage: /usr/bin/python3 scripts/make_lbfgs_fixtures.py  (from the repo root)
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optim")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)


def quad_M():
    # M[i][j] = ((3 i + 5 j) mod 7 - 3)/8 + 2 [i == j]: exact in binary
    M = np.zeros((6, 4))
    for i in range(6):
        for j in range(4):
            M[i, j] = ((3 * i + 5 * j) % 7 - 3) / 8.0 + (2.0 if i == j else 0.0)
    b = np.array([(i % 3) - 0.5 for i in range(6)])
    return torch.tensor(M, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)


def residual(name, x):
    if name == "quad":
        M, b = quad_M()
        return M @ x - b
    return torch.stack([10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]])


STARTS = {"quad": [0.5, -0.25, 0.75, -1.0], "rosen": [-1.2, 1.0]}


def run(name, ls, dtype=torch.float32):
    x = torch.tensor(STARTS[name], dtype=dtype, requires_grad=True)
    opt = torch.optim.LBFGS([x], history_size=10, max_iter=20,
                            line_search_fn=None if ls == "none" else "strong_wolfe")

    def closure():
        opt.zero_grad()
        r = residual(name, x.double())
        loss = 0.5 * (r * r).sum()
        loss.backward()
        return loss

    xs = [x.detach().double().numpy().copy()]
    losses, counts = [], []
    for _ in range(5):
        loss = opt.step(closure)
        losses.append(float(loss))
        st = opt.state[x]
        counts.append([st["n_iter"], st["func_evals"]])
        xs.append(x.detach().double().numpy().copy())
    base = os.path.join(OUT, "lbfgs_%s_%s" % (name, ls))
    if dtype == torch.float64:
        # the same run with float64 parameters: its distance to the float32
        # run measures how much rounding alone moves this trajectory
        np.save(base + "_x64.npy", np.array(xs, dtype=np.float64))
        return
    np.save(base + "_x.npy", np.array(xs, dtype=np.float32))
    np.save(base + "_loss.npy", np.array(losses, dtype=np.float64))
    np.save(base + "_count.npy", np.array(counts, dtype=np.int64))
    print(name, ls, "final x", xs[-1], "losses", losses, "counts", counts)


for name in ("quad", "rosen"):
    for ls in ("none", "strong_wolfe"):
        run(name, ls)
        run(name, ls, torch.float64)
