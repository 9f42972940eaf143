# ---- the operations, named as nasbox names its parameters ----------------


# The activation everywhere nasbox's networks have one (ReLU unless a +hp
# search chose another); GELU is the exact (erf) one, as nasbox's.
ACTIVATIONS = {"relu": F.relu, "hardswish": F.hardswish, "gelu": F.gelu, "mish": F.mish}
act = ACTIVATIONS[CONFIG.get("activation", "relu")]


class ReLUConvBN(nn.Module):
    """Activation (ReLU) -> convolution -> batch norm (NAS-Bench-201's and DARTS' ReLUConvBN)."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(act(x)))


class DwSep(nn.Module):
    """Activation (ReLU) -> depthwise k x k (strided, dilated) -> pointwise 1x1 -> batch norm."""

    def __init__(self, cin, cout, k, stride, dilation):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, k, stride, dilation * (k // 2), dilation, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.pw(self.dw(act(x))))


class FactorizedReduce(nn.Module):
    """Two 1x1 stride-2 convolutions, on the input and on it shifted by a pixel."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.conv2 = nn.Conv2d(cin, cout - cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = act(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv1(x), self.conv2(shifted)], dim=1))


def avg_pool(x, k, stride):
    return F.avg_pool2d(x, k, stride, k // 2, count_include_pad=False)


def max_pool(x, k, stride):
    return F.max_pool2d(x, k, stride, k // 2)
