

# ---- a chain space: stem, layers with skips, pooled reductions -----------


class Layer(nn.Module):
    def __init__(self, spec, cin, skip_widths):
        super().__init__()
        self.spec = spec
        op, w = spec["op"], spec["width"]
        kind, k = (op, 1) if op == "identity" else (op.rsplit("_", 1)[0], int(op.rsplit("x", 1)[1]))
        self.kind, self.k = kind, k
        for j, wj in skip_widths.items():
            if wj != cin:
                self.add_module(f"skip{j}", ReLUConvBN(wj, cin, 1, 1))
        if kind == "conv":
            self.op = ReLUConvBN(cin, w, k, 1)
        elif kind == "sep_conv":
            self.op = DwSep(cin, w, k, 1, 1)
        elif cin != w:
            self.proj = ReLUConvBN(cin, w, 1, 1)

    def forward(self, x, outputs):
        if self.spec["reduce"]:
            x = F.max_pool2d(x, 2, 2)
        for j in self.spec["skips"]:
            s = outputs[j]
            f = max(s.shape[2] // x.shape[2], 1)
            if f > 1:
                s = F.avg_pool2d(s, f, f)
            if hasattr(self, f"skip{j}"):
                s = getattr(self, f"skip{j}")(s)
            x = x + s
        if self.kind in ("conv", "sep_conv"):
            return self.op(x)
        if self.kind == "max_pool":
            y = max_pool(x, self.k, 1)
        elif self.kind == "avg_pool":
            y = avg_pool(x, self.k, 1)
        else:
            y = x
        return self.proj(y) if hasattr(self, "proj") else y


class Network(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        stem = cfg["stem_channels"]
        self.stem = nn.Conv2d(cfg["in_channels"], stem, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(stem)
        cin, widths = stem, []
        for i, spec in enumerate(cfg["layers"]):
            self.add_module(f"layer{i}", Layer(spec, cin, {j: widths[j] for j in spec["skips"]}))
            widths.append(spec["width"])
            cin = spec["width"]
        self.n = len(cfg["layers"])
        self.classifier = nn.Linear(cin, cfg["classes"])

    def forward(self, x):
        x = self.stem_bn(self.stem(x))
        outputs = []
        for i in range(self.n):
            x = getattr(self, f"layer{i}")(x, outputs)
            outputs.append(x)
        return self.classifier(act(x).mean((2, 3)))
