"""Convert NAS-Bench-201 into a nasbox benchmark table.

    pip install nas-bench-201 numpy          # the benchmark's own API package
    python scripts/nb201_to_table.py NAS-Bench-201-v1_1-096897.pth \
        [--dataset cifar10-valid|cifar100|ImageNet16-120] [--out nb201-cifar10.jsonl]

Every architecture becomes two lines: the 200-epoch schedule (fidelity 1) and the
12-epoch one (fidelity 12/200), with the validation accuracy strategies select on,
the test accuracy reports show, and NAS-Bench-201's own simulated cost (training
time plus one validation pass, as its `simulate_train_eval`), averaged over the
benchmark's trials. Accuracies are fractions (the benchmark's percentages / 100).
Architecture strings are NAS-Bench-201's, which is nasbox's nb201 notation.

Then: nasbox bench --strategies random evolution reinforce --seeds 500 \
          --estimator table:nb201-cifar10.jsonl --budget sim=12000
reproduces the paper's multi-trial comparison on CIFAR-10 (12,000 simulated seconds).
"""
import argparse
import json
import sys

# (schedule name in the benchmark, epochs)
SCHEDULES = [("12", 12), ("200", 200)]


def rows(api, dataset):
    """Yield the table's lines for every architecture of the benchmark."""
    longest = max(epochs for _, epochs in SCHEDULES)
    for index, arch in enumerate(api.meta_archs):
        for hp, epochs in SCHEDULES:
            info = api.get_more_info(index, dataset, iepoch=None, hp=hp, is_random=False)
            if "valid-accuracy" not in info:
                raise SystemExit(f"{dataset} has no validation split in NAS-Bench-201; use cifar10-valid for CIFAR-10")
            cost = api.get_cost_info(index, dataset, hp=hp)
            row = {
                "arch": arch,
                "fidelity": epochs / longest,
                "valid_accuracy": info["valid-accuracy"] / 100.0,
                "cost": info["train-all-time"] + info["valid-per-time"],
                "metrics": {"params": cost["params"] * 1e6, "flops": cost["flops"] * 1e6},
            }
            if info.get("test-accuracy") is not None:
                row["test_accuracy"] = info["test-accuracy"] / 100.0
            if cost.get("latency"):
                row["metrics"]["latency-ms"] = cost["latency"] * 1000.0
            yield row


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("benchmark", help="NAS-Bench-201's .pth file")
    p.add_argument("--dataset", default="cifar10-valid", choices=["cifar10-valid", "cifar100", "ImageNet16-120"])
    p.add_argument("--out", default="-", help="where to write the table (default: standard output)")
    a = p.parse_args()
    try:
        import torch
        from nas_201_api import NASBench201API
    except ImportError:
        raise SystemExit("the NAS-Bench-201 API is not installed: pip install nas-bench-201 numpy")
    # The benchmark file pickles numpy values, which torch >= 2.6 refuses to
    # load by default; it is the user's own trusted download.
    data = torch.load(a.benchmark, map_location="cpu", weights_only=False)
    api = NASBench201API(data, verbose=False)
    api.filename = a.benchmark.rsplit("/", 1)[-1]
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    header = {"nasbox_table": 1, "space": "nb201", "source": f"NAS-Bench-201 ({api.filename}), {a.dataset}, mean over trials"}
    out.write(json.dumps(header) + "\n")
    n = 0
    for row in rows(api, a.dataset):
        out.write(json.dumps(row) + "\n")
        n += 1
    if out is not sys.stdout:
        out.close()
        print(f"wrote {n} lines for {len(api.meta_archs)} architectures to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
