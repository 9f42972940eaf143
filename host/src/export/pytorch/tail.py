

# ---- weights, inputs, entry points -----------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))


def read_safetensors(path):
    """Reads a safetensors file with torch alone (no safetensors package needed)."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BF16": torch.bfloat16, "F16": torch.float16}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        t = torch.frombuffer(data[start:end], dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def build():
    """The network with freshly initialised weights (to train it yourself)."""
    return Network(CONFIG)


def load(weights=None):
    """The trained network in eval mode; weights default to model.safetensors beside this file."""
    path = weights or os.path.join(HERE, "model.safetensors")
    model = build()
    state = read_safetensors(path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not match {CONFIG['arch']!r}: missing {missing}, unexpected {unexpected}")
    return model.eval()


def preprocess(images_uint8):
    """uint8 images (N, C, H, W) -> the normalised floats the network was trained on."""
    x = images_uint8.float() / 255.0
    mean = torch.tensor(CONFIG["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(CONFIG["std"]).view(1, -1, 1, 1)
    return (x - mean) / std


def probe_input():
    """A fixed input (a ramp over all elements), the one nasbox's tests compare on."""
    c, s = CONFIG["in_channels"], CONFIG["image_size"]
    return torch.linspace(-1.0, 1.0, c * s * s).view(1, c, s, s)


if __name__ == "__main__":
    if "--probe" in sys.argv:
        with torch.no_grad():
            print(json.dumps(load()(probe_input())[0].tolist()))
    else:
        net = build()
        params = sum(p.numel() for p in net.parameters())
        print(f"{CONFIG['space']}: {CONFIG['arch']}")
        print(f"{params} parameters, {CONFIG['classes']} classes, input {CONFIG['in_channels']}x{CONFIG['image_size']}x{CONFIG['image_size']}")
