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
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
from nasbox_nb201 import NB201  # noqa: E402  (the one PyTorch definition of the network)



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
    net = NB201(a.arch, a.channels, a.cells, 3, 10)
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
