#!/usr/bin/python3
"""Writes tests/fixtures/builders/: PyTorch reference values for the ResNet,
VGG and U-Net builders of ncopt (nco_nn_resnet, nco_nn_vgg, nco_nn_unet in
src/nn/builders.c), read by tests/test_nn_builders.c.

Run with Debian 12's python3 and python3-torch (torch 1.13, NumPy 1.24), CPU,
one thread, from anywhere:
    /usr/bin/python3 scripts/make_builder_fixtures.py [OUTDIR]

The torch modules below are the builders' networks written out by hand: every
layer is a submodule of ONE module, registered (add_module) under the name of
its ncopt node and in the order ncopt adds the nodes, so that state_dict keys
equal ncopt's slice names ("s1b1c1.weight") and parameters() order equals
ncopt's θ layout (torch.nn.utils.parameters_to_vector ↔ params.npy).

Cases (the C test builds the same models from their options):
  resnet8_all   ResNet-8: input (2, 12, 12), channels 4, 8, 16, one BasicBlock
                per stage, skips all, BN, ReLU, 5 classes, cross-entropy
  resnet8_none  the same with skips none (plain two-conv blocks)
  vgg_all       VGG-mini: input (2, 12, 12), 3 blocks of 1, 2, 2 convs,
                channels 4, 8, 8, BN after every conv, ReLU, 5 classes, CE
  vgg_first     the same, BN after the first conv of each block only
  vgg_none      the same without BN (convs with bias)
  unet2         U-Net-mini: input (1, 8, 8), depth 2, channels 4, 8, 16, all
                skips, BN, ReLU; least squares against the input image
For each case, with N = 16 samples X (N(0, 1), float32; labels uniform in
0..4 for CE):
  * theta: parameters_to_vector of the module after torch's default init
    (torch.manual_seed per case) with every BN weight redrawn U(0.5, 1.5) and
    bias U(-0.5, 0.5) (1 and 0 are a special point), float32;
  * on the full batch (idx 0..15) in training mode (batch statistics), in
    float64 (module.double(), the same θ): the output (N, outputs), the loss,
    the gradient, and the Hessian-vector product H·v (double backward,
    autograd.grad of <∇loss, v>) along v = N(0, 1) float32;
  * 20 steps of torch.optim.SGD(lr, momentum = 0.9) in float64 from theta
    with fresh running statistics (0 and 1), minibatches of 4 given by idx
    (20, 4) (one permutation of 0..15 per epoch, 5 epochs), training mode:
    sgd_loss[t] is the loss of step t's minibatch at θ_t (before the step);
    then the running statistics after the 20 steps (one update per step, as
    torch's training forward), in ncopt's state layout: per BN module in
    registration order running_mean (C) then running_var (C);
  * the same 20 steps on the minibatches of `ncopt train`'s sampling =
    cyclic (step t: samples 4t … 4t + 3 mod 16): cyc_loss float64 (20), the
    step losses, and cyc_theta float32 (dim), θ after them — read by
    tests/test_builders_cli.sh through the command line (run.init = theta).
Losses: cross-entropy = F.cross_entropy (mean over the batch, ncopt's CE
default); least squares = 0.5·((y − t)²).sum() / N (the MEAN reduction of
ncopt's least squares: the mean over samples of ½‖y_i − t_i‖²), t = the input
image. lr = 0.01 for every case.
Files bld_<case>_<what>.npy: X float32 (N, C, H, W), y int64 (N) (CE only),
theta, v float32 (dim), out float32 (N, outputs), loss float64 (1), grad, hv
float32 (dim) (float64 values rounded once: 2⁻²⁴ relative, below every
tolerance of the test), idx int64 (20, 4), sgd_loss float64 (20), state
float32 (ncopt's nco_nn_state_dim), and bld_<case>_names.txt (one line per
parameter tensor: state_dict key and shape). bld_counts.npy int64: the
parameter counts of the COUNTS configurations below (larger nets, no values).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "builders")
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)

ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus}


class Net(nn.Module):
    """Modules registered by name in ncopt's node order; forward is a list
    of (name, inputs) steps interpreted by run()."""

    def __init__(self):
        super().__init__()
        self.steps = []  # (out_name, fn, input names)

    def mod(self, name, module, *inputs):
        self.add_module(name, module)
        self.steps.append((name, module, inputs))

    def op(self, name, fn, *inputs):
        self.steps.append((name, fn, inputs))

    def forward(self, x):
        v = {"input": x}
        last = None
        for name, fn, inputs in self.steps:
            v[name] = fn(*[v[i] for i in inputs])
            last = name
        return v[last]


def resnet(C, classes, channels, blocks, skips="all", bn=True, act="relu"):
    n = Net()
    A = ACTS[act]
    n.mod("stem", nn.Conv2d(C, channels[0], 3, 1, 1, bias=not bn), "input")
    cur = "stem"
    if bn:
        n.mod("stem_bn", nn.BatchNorm2d(channels[0]), cur)
        cur = "stem_bn"
    n.mod("stem_act", A(), cur)
    cur, cin = "stem_act", channels[0]
    for s, (ch, nb) in enumerate(zip(channels, blocks)):
        for b in range(nb):
            stride = 2 if s > 0 and b == 0 else 1
            keep = {"all": True, "first": b < 1, "first_two": b < 2, "none": False}[skips]
            p = "s%db%d" % (s + 1, b + 1)
            n.mod(p + "c1", nn.Conv2d(cin, ch, 3, stride, 1, bias=not bn), cur)
            h = p + "c1"
            if bn:
                n.mod(p + "bn1", nn.BatchNorm2d(ch), h)
                h = p + "bn1"
            n.mod(p + "a1", A(), h)
            n.mod(p + "c2", nn.Conv2d(ch, ch, 3, 1, 1, bias=not bn), p + "a1")
            h = p + "c2"
            if bn:
                n.mod(p + "bn2", nn.BatchNorm2d(ch), h)
                h = p + "bn2"
            if keep:
                sc = cur
                if stride != 1 or cin != ch:
                    n.mod(p + "sc", nn.Conv2d(cin, ch, 1, stride, 0, bias=not bn), cur)
                    sc = p + "sc"
                    if bn:
                        n.mod(p + "scbn", nn.BatchNorm2d(ch), sc)
                        sc = p + "scbn"
                n.op(p + "add", lambda a, b: a + b, h, sc)
                h = p + "add"
            n.mod(p + "a2", A(), h)
            cur, cin = p + "a2", ch
    n.op("pool", lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1), cur)
    n.mod("fc", nn.Linear(cin, classes), "pool")
    return n


def vgg(C, H, W, classes, convs, channels, bn="all", act="relu"):
    n = Net()
    A = ACTS[act]
    cur, cin = "input", C
    for k, (nc, ch) in enumerate(zip(convs, channels)):
        for j in range(nc):
            use = bn == "all" or (bn == "first" and j == 0)
            c = "b%dc%d" % (k + 1, j + 1)
            n.mod(c, nn.Conv2d(cin, ch, 3, 1, 1, bias=not use), cur)
            h = c
            if use:
                n.mod("b%dbn%d" % (k + 1, j + 1), nn.BatchNorm2d(ch), h)
                h = "b%dbn%d" % (k + 1, j + 1)
            n.mod("b%da%d" % (k + 1, j + 1), A(), h)
            cur, cin = "b%da%d" % (k + 1, j + 1), ch
        n.op("pool%d" % (k + 1), lambda t: F.max_pool2d(t, 2, 2), cur)
        cur = "pool%d" % (k + 1)
        H, W = H // 2, W // 2
    n.op("flatten", lambda t: t.flatten(1), cur)
    n.mod("fc", nn.Linear(cin * H * W, classes), "flatten")
    return n


def unet(C, depth, channels, skips=-1, bn=True, act="relu"):
    n = Net()
    A = ACTS[act]
    keep = depth if skips < 0 else skips

    def double_conv(pfx, inp, cin, ch):
        for j in (1, 2):
            n.mod("%sc%d" % (pfx, j), nn.Conv2d(cin, ch, 3, 1, 1, bias=not bn), inp)
            h = "%sc%d" % (pfx, j)
            if bn:
                n.mod("%sbn%d" % (pfx, j), nn.BatchNorm2d(ch), h)
                h = "%sbn%d" % (pfx, j)
            n.mod("%sa%d" % (pfx, j), A(), h)
            inp, cin = "%sa%d" % (pfx, j), ch
        return inp

    enc = []
    cur, cin = "input", C
    for l in range(depth + 1):
        e = double_conv("enc%d" % (l + 1), cur, cin, channels[l])
        enc.append(e)
        cin = channels[l]
        if l < depth:
            n.op("down%d" % (l + 1), lambda t: F.max_pool2d(t, 2, 2), e)
            cur = "down%d" % (l + 1)
        else:
            cur = e
    for l in reversed(range(depth)):
        up = "up%d" % (l + 1)
        n.mod(up, nn.ConvTranspose2d(channels[l + 1], channels[l], 2, 2), cur)
        into, cin = up, channels[l]
        if l < keep:
            n.op("cat%d" % (l + 1), lambda a, b: torch.cat([a, b], 1), up, enc[l])
            into, cin = "cat%d" % (l + 1), 2 * channels[l]
        cur = double_conv("dec%d" % (l + 1), into, cin, channels[l])
    n.mod("out", nn.Conv2d(channels[0], C, 1), cur)
    return n


# (name, builder, input shape, loss, seed)
CASES = [
    ("resnet8_all", lambda: resnet(2, 5, (4, 8, 16), (1, 1, 1), "all"), (2, 12, 12), "ce", 1),
    ("resnet8_none", lambda: resnet(2, 5, (4, 8, 16), (1, 1, 1), "none"), (2, 12, 12), "ce", 2),
    ("vgg_all", lambda: vgg(2, 12, 12, 5, (1, 2, 2), (4, 8, 8), "all"), (2, 12, 12), "ce", 3),
    ("vgg_first", lambda: vgg(2, 12, 12, 5, (1, 2, 2), (4, 8, 8), "first"), (2, 12, 12), "ce", 4),
    ("vgg_none", lambda: vgg(2, 12, 12, 5, (1, 2, 2), (4, 8, 8), "none"), (2, 12, 12), "ce", 5),
    ("unet2", lambda: unet(1, 2, (4, 8, 16)), (1, 8, 8), "ls", 6),
]

# Parameter counts only (the C test mirrors this list in its count table).
COUNTS = [
    resnet(3, 10, (16, 32, 64), (3, 3, 3), "all"),          # ResNet-20 (the builder's defaults)
    resnet(3, 10, (16, 32, 64), (3, 3, 3), "first"),
    resnet(3, 10, (16, 32, 64), (3, 3, 3), "first_two"),
    resnet(3, 10, (16, 32, 64), (3, 3, 3), "none"),
    resnet(3, 10, (16, 32, 64), (3, 3, 3), "all", bn=False),
    resnet(3, 100, (64, 128, 256, 512), (3, 4, 6, 3), "all"),  # ResNet-34's layout (CIFAR stem)
    vgg(3, 32, 32, 10, (2, 2, 3), (16, 32, 64), "all"),     # the builder's defaults
    vgg(3, 32, 32, 10, (2, 2, 3), (16, 32, 64), "first"),
    vgg(3, 32, 32, 10, (2, 2, 3), (16, 32, 64), "none"),
    vgg(3, 32, 32, 10, (2, 2, 3, 3, 3), (64, 128, 256, 512, 512), "all"),  # VGG-16's convs, no classifier MLP
    unet(3, 2, (16, 32, 64)),                               # the builder's defaults
    unet(3, 2, (16, 32, 64), 1),
    unet(3, 2, (16, 32, 64), 0, bn=False),
    unet(3, 4, (64, 128, 256, 512, 1024)),                  # Ronneberger's widths
]

N, NB, STEPS, LR, MOM = 16, 4, 20, 0.01, 0.9


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def loss_fn(kind, out, y, x):
    if kind == "ce":
        return F.cross_entropy(out, y)
    return 0.5 * ((out.flatten(1) - x.flatten(1)) ** 2).sum() / out.shape[0]


def bn_state(net):
    st = []
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            st.append(m.running_mean.detach().numpy())
            st.append(m.running_var.detach().numpy())
    return np.concatenate(st).astype(np.float32) if st else np.zeros(0, np.float32)


def main():
    for name, build, shape, kind, seed in CASES:
        torch.manual_seed(seed)
        net = build()
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
        theta = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy().astype(np.float32)
        g = torch.Generator().manual_seed(100 + seed)
        X = torch.randn((N,) + shape, generator=g).float()
        y = torch.randint(0, 5, (N,), generator=g) if kind == "ce" else None
        v = torch.randn(theta.size, generator=g).float()
        p = "bld_" + name
        save(p + "_X", X.numpy())
        if kind == "ce":
            save(p + "_y", y.numpy().astype(np.int64))
        save(p + "_theta", theta)
        save(p + "_v", v.numpy())
        with open(os.path.join(OUT, p + "_names.txt"), "w") as f:
            for k, t in net.named_parameters():
                f.write("%s %s\n" % (k, "x".join(str(s) for s in t.shape)))
        # full batch, float64, training mode
        net64 = build().double()
        torch.nn.utils.vector_to_parameters(torch.from_numpy(theta).double(), net64.parameters())
        net64.train()
        X64 = X.double()
        params = list(net64.parameters())
        out = net64(X64)
        loss = loss_fn(kind, out, y, X64)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        gv = torch.cat([t.reshape(-1) for t in grads])
        hv = torch.autograd.grad((gv * v.double()).sum(), params)
        save(p + "_out", out.detach().numpy().reshape(N, -1).astype(np.float32))
        save(p + "_loss", np.array([loss.item()], np.float64))
        save(p + "_grad", gv.detach().numpy().astype(np.float32))
        save(p + "_hv", torch.cat([t.reshape(-1) for t in hv]).detach().numpy().astype(np.float32))
        # 20 SGD-momentum steps from theta with fresh running statistics
        net64 = build().double()
        torch.nn.utils.vector_to_parameters(torch.from_numpy(theta).double(), net64.parameters())
        net64.train()
        rng = np.random.default_rng(200 + seed)
        idx = np.concatenate([rng.permutation(N) for _ in range(STEPS * NB // N)]).reshape(STEPS, NB)
        opt = torch.optim.SGD(net64.parameters(), lr=LR, momentum=MOM)
        losses = []
        for t in range(STEPS):
            b = torch.from_numpy(idx[t])
            opt.zero_grad()
            l = loss_fn(kind, net64(X64[b]), y[b] if y is not None else None, X64[b])
            l.backward()
            opt.step()
            losses.append(l.item())
        save(p + "_idx", idx.astype(np.int64))
        save(p + "_sgd_loss", np.array(losses, np.float64))
        save(p + "_state", bn_state(net64))
        # the same 20 steps with `ncopt train`'s sampling = cyclic order
        # (step t takes samples 4t … 4t + 3 mod 16), for tests/test_builders_cli.sh
        net64 = build().double()
        torch.nn.utils.vector_to_parameters(torch.from_numpy(theta).double(), net64.parameters())
        net64.train()
        opt = torch.optim.SGD(net64.parameters(), lr=LR, momentum=MOM)
        cyc = []
        for t in range(STEPS):
            b = torch.from_numpy(np.arange(NB * t, NB * (t + 1)) % N)
            opt.zero_grad()
            l = loss_fn(kind, net64(X64[b]), y[b] if y is not None else None, X64[b])
            l.backward()
            opt.step()
            cyc.append(l.item())
        save(p + "_cyc_loss", np.array(cyc, np.float64))
        save(p + "_cyc_theta", torch.nn.utils.parameters_to_vector(net64.parameters()).detach().numpy().astype(np.float32))
        print("%-13s dim %6d  loss %.6f  sgd %.6f -> %.6f" % (name, theta.size, loss.item(), losses[0], losses[-1]))
    counts = [sum(t.numel() for t in m.parameters()) for m in COUNTS]
    save("bld_counts", np.array(counts, np.int64))
    print("counts", counts)


if __name__ == "__main__":
    main()
