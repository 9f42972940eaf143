#!/usr/bin/env python3
"""A nasbox benchmark table of NAS-Bench-201's real 12-epoch results, from the copy in bench/nb201/.

    python3 scripts/nb201_12ep_table.py cifar100|imagenet16 OUT.jsonl

bench/nb201/nb201_c100_in16_12ep.csv.gz holds, for each of NAS-Bench-201's 15,625 cells, the parameter count (MB)
and the validation and test accuracy (%) after NAS-Bench-201's 12-epoch schedule on CIFAR-100 and ImageNet16-120
(see bench/nb201/README.md for where it comes from). Each cell becomes one entry at fidelity 1.0: the 12-epoch
validation accuracy is what a search sees, the 12-epoch test accuracy is `test_accuracy` (reports only). The source
has no training times, so `cost` is modelled from the parameter count: 12 epochs x (3 + 12 x params_MB) seconds on
CIFAR-100 and a quarter of that on ImageNet16-120's 16x16 images; trial budgets are exact, simulated-time budgets
approximate. Needs only Python 3's standard library.
"""
import csv
import gzip
import json
import os
import sys

DATASETS = {"cifar100": ("c100", 1.0), "imagenet16": ("in16", 0.25)}


def main(argv):
    if len(argv) != 3 or argv[1] not in DATASETS:
        sys.exit(f"usage: {argv[0]} {'|'.join(DATASETS)} OUT.jsonl")
    dataset, out = argv[1], argv[2]
    col, scale = DATASETS[dataset]
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "nb201", "nb201_c100_in16_12ep.csv.gz")
    n = 0
    with gzip.open(source, "rt") as f, open(out, "w") as o:
        o.write(json.dumps({"nasbox_table": 1, "space": "nb201",
                            "source": f"NAS-Bench-201 {dataset}, 12-epoch validation/test accuracy; cost modelled from params"}) + "\n")
        for r in csv.DictReader(f):
            params = float(r["params_mb"])
            o.write(json.dumps({"arch": r["arch_str"], "fidelity": 1.0,
                                "valid_accuracy": float(r[f"{col}_valid_12ep"]) / 100,
                                "test_accuracy": float(r[f"{col}_test_12ep"]) / 100,
                                "cost": scale * 12 * (3 + 12 * params),
                                "metrics": {"params": params * 1e6}}) + "\n")
            n += 1
    print(f"nb201_12ep_table: {n} cells of NAS-Bench-201 on {dataset} → {out}")


if __name__ == "__main__":
    main(sys.argv)
