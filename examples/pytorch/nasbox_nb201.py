"""Load a network trained by `nasbox train --export DIR` into PyTorch.

    import nasbox_nb201
    model, meta = nasbox_nb201.load("DIR")      # eval mode, weights loaded
    logits = model(nasbox_nb201.preprocess(images_uint8, meta))

The module rebuilds NAS-Bench-201's network with the same parameter names
nasbox uses, so the safetensors file loads as it is. Only torch is needed
(the safetensors file is read directly).

    python nasbox_nb201.py DIR [--probe]   # summary; --probe prints logits of a fixed input as JSON
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def parse(arch):
    """NAS-Bench-201 string -> op name per edge, in EDGES order."""
    ops = {}
    for target, group in enumerate(arch.strip().split("+"), start=1):
        for e in group.strip("|").split("|"):
            op, src = e.split("~")
            ops[(target, int(src))] = op
    return [ops[e] for e in EDGES]


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class Reduction(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReLUConvBN(cin, cout, 3, 2)
        self.b = ReLUConvBN(cout, cout, 3, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.b(self.a(x)) + self.shortcut(F.avg_pool2d(x, 2, 2))


class Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = ops
        for k, op in enumerate(ops):
            if op == "nor_conv_1x1":
                self.add_module(f"e{k}", ReLUConvBN(c, c, 1, 1))
            elif op == "nor_conv_3x3":
                self.add_module(f"e{k}", ReLUConvBN(c, c, 3, 1))

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
                    y = getattr(self, f"e{k}")(inp)
                total = y if total is None else total + y
            nodes[target] = total
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class Stage(nn.Module):
    def __init__(self, ops, c, n):
        super().__init__()
        for i in range(n):
            self.add_module(f"cell{i}", Cell(ops, c))

    def forward(self, x):
        for cell in self.children():
            x = cell(x)
        return x


class NB201(nn.Module):
    def __init__(self, arch, channels, cells, in_channels, classes):
        super().__init__()
        ops = parse(arch)
        c = channels
        self.stem = nn.Conv2d(in_channels, c, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c)
        self.stage0 = Stage(ops, c, cells)
        self.reduce1 = Reduction(c, 2 * c)
        self.stage1 = Stage(ops, 2 * c, cells)
        self.reduce2 = Reduction(2 * c, 4 * c)
        self.stage2 = Stage(ops, 4 * c, cells)
        self.last_bn = nn.BatchNorm2d(4 * c)
        self.classifier = nn.Linear(4 * c, classes)

    def forward(self, x):
        x = self.stage0(self.stem_bn(self.stem(x)))
        x = self.stage1(self.reduce1(x))
        x = self.stage2(self.reduce2(x))
        x = F.relu(self.last_bn(x)).mean((2, 3))
        return self.classifier(x)


def read_safetensors(path):
    """A minimal reader of the safetensors format (f32/f64/i64 tensors)."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(data[start:end], dtype=dtypes[info["dtype"]]) if end > start else torch.empty(0, dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def load(directory):
    """The exported network in eval mode, and its metadata (arch.json)."""
    with open(os.path.join(directory, "arch.json")) as f:
        meta = json.load(f)
    if meta.get("space") != "nb201":
        raise ValueError(f"{directory}: space {meta.get('space')!r} is not nb201")
    model = NB201(meta["arch"], meta["channels"], meta["cells"], meta["in_channels"], meta["classes"])
    state = read_safetensors(os.path.join(directory, "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{directory}: weights do not match the architecture: missing {missing}, unexpected {unexpected}")
    return model.eval(), meta


def preprocess(images_uint8, meta):
    """uint8 images (N, C, H, W) -> the normalised floats the network was trained on."""
    x = images_uint8.float() / 255.0
    mean = torch.tensor(meta["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(meta["std"]).view(1, -1, 1, 1)
    return (x - mean) / std


def probe_input(meta):
    """A fixed input, the same one nasbox's tests use: a ramp over all elements."""
    c, s = meta["in_channels"], meta["image_size"]
    return torch.linspace(-1.0, 1.0, c * s * s).view(1, c, s, s)


if __name__ == "__main__":
    model, meta = load(sys.argv[1])
    if "--probe" in sys.argv:
        with torch.no_grad():
            print(json.dumps(model(probe_input(meta))[0].tolist()))
    else:
        params = sum(p.numel() for p in model.parameters())
        print(f"{meta['arch']}: {params} parameters, {meta['classes']} classes, validation accuracy {meta['valid_accuracy']:.4f}")
