"""Writes a small file in NAS-Bench-201's own format (two architectures, both
schedules, two trials each), built with the benchmark's API classes, for
testing scripts/nb201_to_table.py.

    python tests/data/make_nb201_fixture.py OUT.pth

Per architecture i (0 or 1) and schedule (12 or 200 epochs), the trials with
seeds 777 and 888 report validation accuracy 80 + 10*(1-i) + 5*(epochs == 200)
plus 0 and 2 (so the mean adds 1), test accuracy 1 below that, 10 s of training
per epoch and 2 s per validation pass.
"""
import sys

import torch
from nas_201_api.api_utils import ArchResults, ResultsCount

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",
]


def trial(arch, epochs, seed, valid, test):
    r = ResultsCount("cifar10-valid", None, {e: 50.0 for e in range(epochs)}, {e: 1.0 for e in range(epochs)},
                     1.07, 150.0, {"arch_str": arch}, seed, epochs, [0.01])
    r.reset_pseudo_train_times(10.0)
    accs = {f"x-valid@{e}": valid for e in range(epochs)}
    accs.update({f"ori-test@{e}": test for e in range(epochs)})
    r.update_eval(accs, {k: 0.5 for k in accs}, {k: 2.0 for k in accs})
    return r


def main():
    arch2infos = {}
    for i, arch in enumerate(ARCHS):
        infos = {}
        for key, epochs in (("less", 12), ("full", 200)):
            results = ArchResults(i, arch)
            for seed, shift in ((777, 0.0), (888, 2.0)):
                valid = 80.0 + 10.0 * (1 - i) + 5.0 * (epochs == 200) + shift
                results.update("cifar10-valid", seed, trial(arch, epochs, seed, valid, valid - 1.0))
            infos[key] = results.state_dict()
        arch2infos[i] = infos
    torch.save({"meta_archs": ARCHS, "arch2infos": arch2infos, "evaluated_indexes": [0, 1], "total_archs": 2}, sys.argv[1])


if __name__ == "__main__":
    main()
