"""One nasbox trial: trains an MLP on a three-armed spiral, as the architecture
and recipe in trial.json say, and reports through nasbox's command protocol.

    nasbox search --space examples/pytorch-mlp/space.toml \
        --command "python examples/pytorch-mlp/train.py" --budget trials=20

Protocol (docs/src/reference/command-protocol.md): read $NASBOX_TRIAL_FILE,
print one JSON line per epoch, write the result to result_file atomically.
"""
import json
import math
import os

import torch
from torch import nn

EPOCHS = 10  # at full fidelity; a strategy's fidelity scales it


def spirals(n, generator, arms=3, noise=0.25):
    """n points on `arms` interleaved spirals: a task where depth, width and
    activation matter. The same points for every trial (a fixed seed)."""
    label = torch.randint(0, arms, (n,), generator=generator)
    r = torch.rand(n, generator=generator) * 4 + 0.3
    angle = r * 3.0 + label * (2 * math.pi / arms)
    xy = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1)
    return xy + noise * torch.randn(n, 2, generator=generator), label


def network(arch):
    act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[arch["activation"]]
    layers, width = [], 2
    for _ in range(arch["layers"]):
        layers += [nn.Linear(width, arch["width"]), act(), nn.Dropout(arch["dropout"])]
        width = arch["width"]
    return nn.Sequential(*layers, nn.Linear(width, 3))


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def main():
    trial = json.load(open(os.environ["NASBOX_TRIAL_FILE"]))
    arch = trial["arch"]
    torch.set_num_threads(trial["threads"])
    data = torch.Generator().manual_seed(1234)
    x, y = spirals(3000, data)
    (xt, yt), (xv, yv), (xs, ys) = (x[:2000], y[:2000]), (x[2000:2500], y[2000:2500]), (x[2500:], y[2500:])

    torch.manual_seed(trial["seed"])
    net = network(arch)
    if arch["optimizer"] == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=arch["lr"])
    else:
        # `momentum` is conditional: only present when optimizer = "sgd".
        opt = torch.optim.SGD(net.parameters(), lr=arch["lr"], momentum=arch["momentum"], nesterov=True)
    epochs = max(1, round(EPOCHS * (trial["fidelity"] or 1.0)))
    order = torch.Generator().manual_seed(trial["seed"])
    for epoch in range(1, epochs + 1):
        net.train()
        for batch in torch.randperm(len(xt), generator=order).split(arch["batch_size"]):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xt[batch]), yt[batch])
            loss.backward()
            opt.step()
        print(json.dumps({"epoch": epoch, "valid_accuracy": accuracy(net, xv, yv), "train_loss": loss.item()}), flush=True)

    result = {
        "objective": accuracy(net, xv, yv),
        "metrics": {"params": sum(p.numel() for p in net.parameters()), "epochs": epochs},
        "test_accuracy": accuracy(net, xs, ys),
    }
    tmp = trial["result_file"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, trial["result_file"])


if __name__ == "__main__":
    main()
