"""PyTorch eager baseline for `nasbox train`: trains the identical network
(the module `nasbox space pytorch` generates), with the same recipe and data,
and prints images/s per epoch.

    python3 bench/pytorch_eager.py MODEL.py DATA_DIR [--epochs E] [--batch-size B]
        [--threads T] [--data-fraction F] [--device cpu|cuda] [--bf16] [--channels-last]

DATA_DIR holds CIFAR-10's binary format (`nasbox data export synthetic DIR`
writes the synthetic dataset that way). No augmentation on either side:
compare with `nasbox train --crop-pad 0`. Like nasbox, batches are gathered
on the CPU and copied to the device each step.
"""
import argparse
import importlib.util
import json
import math
import os
import time

import torch
import torch.nn.functional as F


def load_cifar(path):
    raw = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.uint8).view(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32).float() / 255.0, raw[:, 0].long()


def channels_last(t):
    return t.contiguous(memory_format=torch.channels_last)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("module")
    p.add_argument("dir")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--data-fraction", type=float, default=1.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    spec = importlib.util.spec_from_file_location("model", a.module)
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    device = torch.device(a.device)

    x, y = load_cifar(os.path.join(a.dir, "data_batch_1.bin"))
    n_valid = round(len(x) * a.valid_fraction)
    xv, yv, xt, yt = x[:n_valid], y[:n_valid], x[n_valid:], y[n_valid:]
    n_train = max(1, round(len(xt) * a.data_fraction))
    xt, yt = xt[:n_train], yt[:n_train]
    mean, std = xt.mean((0, 2, 3), keepdim=True), xt.std((0, 2, 3), keepdim=True)
    xt, xv = (xt - mean) / std, (xv - mean) / std

    net = model.build().to(device)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = math.ceil(len(xt) / a.batch_size) * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    autocast = lambda: torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16)  # noqa: E731
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xt))
        if device.type == "cuda":
            torch.cuda.synchronize()
        t, seen, total = time.time(), 0, 0.0
        for i in range(0, len(xt), a.batch_size):
            idx = perm[i : i + a.batch_size]
            xb, yb = xt[idx].to(device), yt[idx].to(device)
            if a.channels_last:
                xb = channels_last(xb)
            with autocast():
                logits = net(xb)
            loss = F.cross_entropy(logits.float(), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            total += loss.item() * len(idx)
        rate = seen / (time.time() - t)
        net.eval()
        with torch.no_grad(), autocast():
            acc = (net(xv.to(device)).argmax(1).cpu() == yv).float().mean().item()
        print(json.dumps({"epoch": epoch + 1, "train_loss": total / seen, "valid_accuracy": acc, "images_per_second": rate}))


if __name__ == "__main__":
    main()
