"""PyTorch eager baseline for `nasbox train`: the identical NAS-Bench-201
network, recipe and data, for checking accuracy and measuring images/s.

    python bench/nb201_torch.py DIR ARCH [--epochs E] [--channels C] [--cells N]
        [--batch-size B] [--threads T] [--lr LR]

DIR holds the data in CIFAR-10's binary format (`nasbox data export`
writes the synthetic dataset that way). No augmentation is applied here;
compare with `nasbox train --crop-pad 0`.
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def parse(arch):
    ops = {}
    for target, group in enumerate(arch.strip().split("+"), start=1):
        for e in group.strip("|").split("|"):
            op, src = e.split("~")
            ops[(target, int(src))] = op
    return [ops[e] for e in EDGES]


class ReLUConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, stride):
        super().__init__(nn.ReLU(), nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class Reduction(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReLUConvBN(cin, cout, 3, 2)
        self.b = ReLUConvBN(cout, cout, 3, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.b(self.a(x)) + self.shortcut(x)


class Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = ops
        self.convs = nn.ModuleDict()
        for k, op in enumerate(ops):
            if op == "nor_conv_1x1":
                self.convs[str(k)] = ReLUConvBN(c, c, 1, 1)
            elif op == "nor_conv_3x3":
                self.convs[str(k)] = ReLUConvBN(c, c, 3, 1)

    def forward(self, x):
        nodes = [x, None, None, None]
        for target in (1, 2, 3):
            total = None
            for k, ((t, s), op) in enumerate(zip(EDGES, self.ops)):
                if t != target or op == "none" or nodes[s] is None:
                    continue
                inp = nodes[s]
                if op == "skip_connect":
                    y = inp
                elif op == "avg_pool_3x3":
                    y = F.avg_pool2d(inp, 3, 1, 1, count_include_pad=False)
                else:
                    y = self.convs[str(k)](inp)
                total = y if total is None else total + y
            nodes[target] = total
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class Net(nn.Module):
    def __init__(self, ops, c, n, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers = []
        for s in range(3):
            w = c << s
            if s > 0:
                layers.append(Reduction(w // 2, w))
            layers += [Cell(ops, w) for _ in range(n)]
        self.layers = nn.Sequential(*layers)
        self.last = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, classes)

    def forward(self, x):
        x = self.last(self.layers(self.stem(x)))
        return self.classifier(x.mean((2, 3)))


def load(path):
    raw = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.uint8).view(-1, 3073)
    return raw[:, 1:].view(-1, 3, 32, 32).float() / 255.0, raw[:, 0].long()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("arch")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--valid", type=int, default=500)
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    x, y = load(os.path.join(a.dir, "data_batch_1.bin"))
    xv, yv, xt, yt = x[: a.valid], y[: a.valid], x[a.valid :], y[a.valid :]
    mean, std = xt.mean((0, 2, 3), keepdim=True), xt.std((0, 2, 3), keepdim=True)
    xt, xv = (xt - mean) / std, (xv - mean) / std
    net = Net(parse(a.arch), a.channels, a.cells, 10)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = math.ceil(len(xt) / a.batch_size) * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xt))
        t, seen, total = time.time(), 0, 0.0
        for i in range(0, len(xt), a.batch_size):
            idx = perm[i : i + a.batch_size]
            loss = F.cross_entropy(net(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            total += loss.item() * len(idx)
        rate = seen / (time.time() - t)
        net.eval()
        with torch.no_grad():
            acc = (net(xv).argmax(1) == yv).float().mean().item()
        print(f"epoch {epoch + 1}  train loss {total / seen:.4f}  valid accuracy {acc * 100:.2f}%  {rate:.0f} images/s")


if __name__ == "__main__":
    main()
