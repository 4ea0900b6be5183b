#!/usr/bin/python3
"""bench/bench_resnet_torch.py — the PyTorch side of bench/bench_resnet.sh.

    bench_resnet_torch.py [EPOCHS] [--threads T] [--steps S] [--model M]

The ResNet-8 of bench/resnet8.ini in torch 1.13: stem conv3x3(1->16, no
bias) + BatchNorm2d + ReLU, three stages of one BasicBlock (16, 32, 64
channels; conv3x3-BN-ReLU-conv3x3-BN, + identity or a 1x1 stride-2
conv+BN projection, ReLU), stride 2 between stages, global average pool,
Linear(64, 10); cross-entropy (mean over the batch), SGD lr 0.05 momentum
0.9, batch 128, Fashion-MNIST's 60 000 training images scaled to [0, 1]
(float32, in memory before the clock starts), one seeded permutation per
epoch, the last batch partial (469 steps), zero_grad / forward / loss /
backward / step per batch in training mode — what `ncopt train` does with
the spec. Prints key=value lines (impl=torch), the last with the process's
peak resident memory (peak_rss_mb).

--model vgg | unet: the VGG-mini and U-Net-mini of bench/vgg.ini and
bench/unet.ini (ncopt's builders' default keys), as the builder fixtures'
script defines them in torch (scripts/make_builder_fixtures.py: vgg(),
unet()); U-Net's loss is MSELoss to the input image.
"""
import argparse
import importlib.util
import os
import resource
import time

import torch
import torch.nn as nn

from bench_nn_torch import load as load_split  # Fashion-MNIST as tensors, the same reader


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.n1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.n2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.n1(self.c1(x)))
        h = self.n2(self.c2(h))
        return torch.relu(h + (x if self.short is None else self.short(x)))


def resnet8():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def builders():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "make_builder_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_builder_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def model_of(name):
    if name == "resnet8":
        return resnet8(), nn.CrossEntropyLoss(), False
    b = builders()
    if name == "vgg":
        return b.vgg(1, 28, 28, 10, [2, 2, 3], [16, 32, 64], bn="all"), nn.CrossEntropyLoss(), False
    return b.unet(1, 2, [16, 32, 64]), nn.MSELoss(), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet8", choices=["resnet8", "vgg", "unet"])
    ap.add_argument("epochs", nargs="?", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="stop each epoch after S steps (0: all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    X, y = load_split("train")
    n = X.shape[0]
    model, lossf, recon = model_of(a.model)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batch = 128
    g = torch.Generator().manual_seed(1)
    for e in range(a.epochs):
        perm = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        total, steps = 0.0, 0
        for s in range(0, n, batch):
            ib = perm[s:s + batch]
            xb, tb = X.index_select(0, ib), y.index_select(0, ib)
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xb), xb if recon else tb)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
            if a.steps and steps >= a.steps:
                break
        dt = time.perf_counter() - t0
        print(f"impl=torch model={a.model} epoch={e + 1} train_seconds={dt:.3f} steps={steps} "
              f"mean_batch_loss={total / steps:.5f}", flush=True)
    print(f"impl=torch model={a.model} peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
