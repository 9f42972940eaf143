

# ---- NAS-Bench-201: stem, 3 stages of N cells, residual reductions -------

EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


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
                if op == "skip_connect":
                    y = nodes[s]
                elif op == "avg_pool_3x3":
                    y = avg_pool(nodes[s], 3, 1)
                else:
                    y = getattr(self, f"e{k}")(nodes[s])
                total = y if total is None else total + y
            nodes[target] = total
        return nodes[3] if nodes[3] is not None else torch.zeros_like(x)


class Stage(nn.Sequential):
    def __init__(self, ops, c, n):
        super().__init__()
        for i in range(n):
            self.add_module(f"cell{i}", Cell(ops, c))


class Network(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ops, c, n = cfg["ops"], cfg["channels"], cfg["cells"]
        self.stem = nn.Conv2d(cfg["in_channels"], c, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c)
        self.stage0 = Stage(ops, c, n)
        self.reduce1 = Reduction(c, 2 * c)
        self.stage1 = Stage(ops, 2 * c, n)
        self.reduce2 = Reduction(2 * c, 4 * c)
        self.stage2 = Stage(ops, 4 * c, n)
        self.last_bn = nn.BatchNorm2d(4 * c)
        self.classifier = nn.Linear(4 * c, cfg["classes"])

    def forward(self, x):
        x = self.stage0(self.stem_bn(self.stem(x)))
        x = self.stage1(self.reduce1(x))
        x = self.stage2(self.reduce2(x))
        return self.classifier(act(self.last_bn(x)).mean((2, 3)))
