#!/usr/bin/python3
"""Writes tests/fixtures/nn/layermap_torch.json: for a few torch.nn.Sequential
networks, what PyTorch itself says about their parameters — the state_dict
names, shapes, offsets and lengths in the order of model.parameters(), the
repr of every module (print(model)) — and the outputs of the network after
torch.nn.utils.vector_to_parameters(θ, model.parameters()) with one flat θ,
for tests/test_layermap.c. That test builds the same networks with ncopt,
checks nco_nn_layer_map_json against the names/shapes/offsets/modules here,
and checks that ncopt's forward pass at the same flat θ gives these outputs
(so params.npy loads into the module of params.json with
vector_to_parameters and computes the same function).

Run with Debian's python3 and python3-torch (float32, one thread):
    /usr/bin/python3 scripts/make_layermap_fixtures.py [OUTFILE]

θ and the inputs are NOT stored: both this script and the C test generate
them from the same integer hash as scripts/make_nn_fixtures.py (gen():
splitmix64 of seed·φ + (j+1)·c, bit-identical in NumPy and C): θ =
gen(theta_seed, dim, theta_bound), inputs gen(x_seed, n·in, 1). Dropout is
off (model.eval(); ncopt's evaluation mode).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

# the generator of the fixtures, shared with the C tests (tests/testlib.c
# nco_test_gen) and make_nn_fixtures.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_nn_fixtures import gen  # noqa: E402


# name, input shape (per sample), modules, batch. The ncopt side of each
# case is built in tests/test_layermap.c (build()), by the same name.
CASES = [
    # nco_nn_mlp(20, {16, 12}, 2, 5, tanh)
    ("mlp", (20,), [nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 5)], 3),
    # nco_nn_lenet5(1, 28, 28, 10): the LeNet of make_nn_fixtures.py
    ("lenet", (1, 28, 28),
     [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
      nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
      nn.Linear(84, 10)], 2),
    # the CLI's lenet (src/run/build.c) with ELU(0.5) and dropout 0.25: no
    # explicit flatten in ncopt (dense flattens), torch needs nn.Flatten()
    ("lenet_cli", (1, 28, 28),
     [nn.Conv2d(1, 6, 5, padding=2), nn.ELU(0.5), nn.MaxPool2d(2),
      nn.Conv2d(6, 16, 5), nn.ELU(0.5), nn.MaxPool2d(2), nn.Flatten(),
      nn.Linear(400, 120), nn.ELU(0.5), nn.Dropout(0.25),
      nn.Linear(120, 84), nn.ELU(0.5), nn.Dropout(0.25),
      nn.Linear(84, 10)], 2),
    # every other layer kind and option: no-bias conv and dense, a
    # non-square kernel, stride and padding, overlapping max pooling,
    # average pooling, sigmoid, softplus, leaky ReLU, identity
    ("misc", (2, 11, 11),
     [nn.Conv2d(2, 3, (3, 2), bias=False), nn.Sigmoid(), nn.MaxPool2d(3, stride=1),
      nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Softplus(), nn.AvgPool2d(2),
      nn.Flatten(), nn.Linear(16, 5, bias=False), nn.LeakyReLU(0.2), nn.Identity(),
      nn.Linear(5, 3)], 2),
]


def main():
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fixtures", "nn",
                                                             "layermap_torch.json")
    models = []
    for k, (name, shape, layers, n) in enumerate(CASES):
        model = nn.Sequential(*layers).eval()
        params, off = [], 0
        for pname, p in model.state_dict().items():
            params.append({"name": pname, "shape": list(p.shape), "offset": off, "length": p.numel()})
            off += p.numel()
        # state_dict and parameters() agree (no buffers in these modules)
        assert [p.numel() for p in model.parameters()] == [q["length"] for q in params]
        dim = off
        seed_t, seed_x, bound = 7000 + 10 * k, 7001 + 10 * k, 0.25
        theta = torch.from_numpy(gen(seed_t, dim, bound))
        nn.utils.vector_to_parameters(theta, model.parameters())
        din = int(np.prod(shape))
        X = torch.from_numpy(gen(seed_x, n * din, 1.0)).reshape((n,) + shape)
        with torch.no_grad():
            y = model(X).reshape(n, -1)
        models.append({
            "name": name,
            "input_shape": list(shape),
            "modules": [repr(m) for m in model],
            "params": params,
            "total": dim,
            "theta_seed": seed_t,
            "theta_bound": bound,
            "x_seed": seed_x,
            "n": n,
            "out": [float(v) for v in y.numpy().astype(np.float32).reshape(-1)],
        })
    doc = {"written_by": "scripts/make_layermap_fixtures.py", "torch": torch.__version__, "models": models}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(models)} models")


if __name__ == "__main__":
    main()
