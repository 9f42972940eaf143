"""Optuna's samplers on a nasbox benchmark table, with `nasbox bench`'s protocol, printed next to a `nasbox bench` run.

    python3 bench/peers.py --table T.jsonl --bench-out DIR --budget trials=100 [--seeds 20 | --seeds 20..40] [--samplers random tpe nsga2]

Protocol, as `nasbox bench` runs its strategies: the six NAS-Bench-201 edges are six categorical parameters (five
operations each); each seed is one study with the sampler seeded by it; a trial looks its architecture up in the table
(the entry at the highest fidelity, which is what a proposal without a fidelity gets); a repeated architecture counts as
a trial and costs nothing (nasbox answers it from the journal); the study stops when the trial or simulated-seconds
budget is reached, checked before each trial as nasbox does; the answer is the trial with the best validation accuracy
(ties to the earlier trial), scored by its test accuracy, which the sampler never sees. Regret is to the test accuracy
of the table's best architecture by validation, as in `nasbox bench`.

With --objectives accuracy,-params (as given to `nasbox bench --objectives`), a multi-objective comparison: each study
has one direction per objective (`accuracy` is the validation accuracy, other names the table's metrics, `-` for
smaller is better) and its score is the hypervolume of its trials' Pareto front as a fraction of the table front's,
with `nasbox bench`'s reference point (the table's worst value of each objective, or --reference), exactly as
`nasbox bench` scores its strategies (which hand the objectives only to those that take them); regret is 1 minus it.

Reads DIR/final.csv (written by `nasbox bench --out DIR`) and prints one table with both: mean ± std of the score,
regret, mean rank per seed over all strategies, trials, the seeds whose answer has the table's best validation
accuracy (accuracy only); then each strategy against the one with the lowest mean regret (two-sided Mann–Whitney U,
normal approximation with tie correction, Holm over those comparisons).
"""
import argparse
import csv
import json
import math
import re

import optuna

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]  # nasbox's nb201 decisions, in order


def arch_string(params):
    """nasbox's (and NAS-Bench-201's) string for one cell."""
    e = [params[name] for name in EDGES]
    return f"|{e[0]}~0|+|{e[1]}~0|{e[2]}~1|+|{e[3]}~0|{e[4]}~1|{e[5]}~2|"


def read_table(path, metrics=()):
    """Architecture → (validation, test, cost, {metric: value} for `metrics`) at its highest fidelity."""
    entries = {}
    with open(path) as f:
        header = json.loads(f.readline())
        if header.get("space") != "nb201":
            raise SystemExit(f"{path}: the peers run on nb201 tables; this one is for space {header.get('space')!r}")
        for line in f:
            row = json.loads(line)
            old = entries.get(row["arch"])
            if old is None or row["fidelity"] > old[0]:
                m = {k: row.get("metrics", {}).get(k) for k in metrics}
                entries[row["arch"]] = (row["fidelity"], row["valid_accuracy"], row.get("test_accuracy"), row["cost"], m)
    return {a: (v, t, c, m) for a, (_, v, t, c, m) in entries.items()}


def parse_objectives(text):
    """[(name, maximize)] from `accuracy,-params`."""
    out = []
    for part in text.split(","):
        part = part.strip()
        out.append((part[1:], False) if part.startswith("-") else (part.lstrip("+"), True))
    return out


def turned(entry, objectives):
    """An entry's values for the objectives, larger is better; None when one is missing."""
    valid, _, _, metrics = entry
    values = []
    for name, maximize in objectives:
        v = valid if name == "accuracy" else metrics.get(name)
        if v is None:
            return None
        values.append(v if maximize else -v)
    return values


def dominates(a, b):
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def hypervolume(points, reference):
    """Exact hypervolume above `reference` (larger is better): a sweep in 2-D, slices along the last coordinate above
    (as nasbox's report::pareto::hypervolume)."""
    points = [p for p in points if all(x > r for x, r in zip(p, reference))]
    d = len(reference)
    if not points:
        return 0.0
    if d == 1:
        return max(p[0] for p in points) - reference[0]
    if d == 2:
        hv, top = 0.0, reference[1]
        for p in sorted(points, key=lambda p: -p[0]):
            if p[1] > top:
                hv += (p[0] - reference[0]) * (p[1] - top)
                top = p[1]
        return hv
    points = sorted(points, key=lambda p: -p[-1])
    hv = 0.0
    for i, p in enumerate(points):
        below = points[i + 1][-1] if i + 1 < len(points) else reference[-1]
        if p[-1] > below:
            hv += hypervolume([q[:-1] for q in points[: i + 1]], reference[:-1]) * (p[-1] - below)
    return hv


def non_dominated(points):
    front = []
    for p in sorted(points, reverse=True):
        if not any(q == p or dominates(q, p) for q in front):
            front.append(p)
    return front


def one_study_mo(table, objectives, reference, table_hv, name, seed, trials, sim):
    """(trials used, hypervolume fraction of the study's front)."""
    directions = ["maximize" if m else "minimize" for _, m in objectives]
    study = optuna.create_study(directions=directions, sampler=sampler(name, seed))
    space = {e: optuna.distributions.CategoricalDistribution(OPS) for e in EDGES}
    seen, spent, used, front = set(), 0.0, 0, []
    while (trials is None or used < trials) and (sim is None or spent < sim):
        trial = study.ask(space)
        arch = arch_string(trial.params)
        values = turned(table[arch], objectives) if arch in table else None
        if values is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, [v if m else -v for v, (_, m) in zip(values, objectives)])
            spent += 0.0 if arch in seen else table[arch][2]
            if not any(q == values or dominates(q, values) for q in front):
                front = [q for q in front if not dominates(values, q)] + [values]
        seen.add(arch)
        used += 1
    return used, hypervolume(front, reference) / table_hv


def seed_range(text):
    """N → seeds 0..N; A..B → A to B-1, as `nasbox bench --seeds` takes them."""
    a, sep, b = text.partition("..")
    try:
        seeds = range(int(a), int(b)) if sep else range(int(a))
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}`: expected a number of seeds N, or a range A..B such as 20..40")
    if not seeds or seeds.start < 0:
        raise argparse.ArgumentTypeError(f"`{text}` holds no seeds")
    return seeds


def parse_budget(text):
    trials, sim = None, None
    for part in text.split(","):
        key, value = part.split("=", 1)
        if key == "trials":
            trials = int(value)
        elif key == "sim":
            m = re.fullmatch(r"([0-9.]+)(s|m|h)?", value.strip())
            if not m:
                raise SystemExit(f"budget `{part}`: a number of seconds, optionally with s, m or h")
            sim = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
        else:
            raise SystemExit(f"budget `{part}`: the peers understand trials=N and sim=SECONDS")
    return trials, sim


def sampler(name, seed):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    raise SystemExit(f"unknown sampler `{name}` (random, tpe, nsga2)")


def one_study(table, name, seed, trials, sim):
    """(trials used, validation and test accuracy of the answer)."""
    study = optuna.create_study(direction="maximize", sampler=sampler(name, seed))
    space = {e: optuna.distributions.CategoricalDistribution(OPS) for e in EDGES}
    seen, spent, used, best = set(), 0.0, 0, None
    while (trials is None or used < trials) and (sim is None or spent < sim):
        trial = study.ask(space)
        arch = arch_string(trial.params)
        if arch not in table:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            valid, test, cost, _ = table[arch]
            study.tell(trial, valid)
            spent += 0.0 if arch in seen else cost
            if best is None or valid > best[0]:
                best = (valid, test)
        seen.add(arch)
        used += 1
    return used, best


def mann_whitney_p(a, b):
    """Two-sided p-value of the Mann–Whitney U test (normal approximation, tie-corrected)."""
    values = sorted((v, k) for k, xs in enumerate((a, b)) for v in xs)
    ranks, i = [0.0] * len(values), 0
    ties = 0.0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1][0] == values[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, k) in zip(ranks, values) if k == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def mean_std(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--table", required=True)
    p.add_argument("--bench-out", required=True, help="the --out folder of the `nasbox bench` run to print next to")
    p.add_argument("--budget", required=True, help="trials=N and/or sim=SECONDS, as given to nasbox bench")
    p.add_argument("--seeds", type=seed_range, default="20", help="N (seeds 0..N) or A..B, as given to nasbox bench")
    p.add_argument("--samplers", nargs="+", default=["random", "tpe", "nsga2"])
    p.add_argument("--objectives", help="e.g. accuracy,-params: compare fronts by hypervolume, as nasbox bench --objectives")
    p.add_argument("--reference", help="the hypervolume's reference point, as measured, e.g. 0.5,1e6 [default: the table's worst values]")
    a = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objectives = parse_objectives(a.objectives) if a.objectives else None
    table = read_table(a.table, [n for n, _ in objectives or [] if n != "accuracy"])
    trials, sim = parse_budget(a.budget)
    if objectives:
        points = [v for v in (turned(e, objectives) for e in table.values()) if v is not None]
        if a.reference:
            reference = [float(x) if m else -float(x) for x, (_, m) in zip(a.reference.split(","), objectives)]
        else:
            reference = [min(p[k] for p in points) for k in range(len(objectives))]
        table_hv = hypervolume(non_dominated(points), reference)
        oracle, score_col, score_name = 1.0, "final_valid", "hypervolume"
        best_valid = None
    else:
        best_valid, oracle = max(table.values(), key=lambda e: e[0])[:2]
        score_col, score_name = "final_test", "test accuracy"

    finals = {}  # strategy → (per-seed scores, per-seed trials, per-seed validation accuracy of the answer)
    with open(f"{a.bench_out}/final.csv") as f:
        for row in csv.DictReader(f):
            s = finals.setdefault(row["strategy"], ([], [], []))
            s[0].append(float(row[score_col]))
            s[1].append(int(row["trials"]))
            s[2].append(float(row["final_valid"]))
    for name in a.samplers:
        if objectives:
            runs = [one_study_mo(table, objectives, reference, table_hv, name, seed, trials, sim) for seed in a.seeds]
            finals[f"optuna-{name}"] = ([r[1] for r in runs], [r[0] for r in runs], [])
        else:
            runs = [one_study(table, name, seed, trials, sim) for seed in a.seeds]
            finals[f"optuna-{name}"] = ([r[1][1] for r in runs], [r[0] for r in runs], [r[1][0] for r in runs])
    names = list(finals)
    seeds = min(len(finals[n][0]) for n in names)

    # Mean rank per seed over every strategy (1 = best test accuracy; ties share).
    rank_sum = {n: 0.0 for n in names}
    for seed in range(seeds):
        scores = sorted(((finals[n][0][seed], n) for n in names), reverse=True)
        for n in names:
            s = finals[n][0][seed]
            better = sum(1 for v, _ in scores if v > s)
            equal = sum(1 for v, _ in scores if v == s)
            rank_sum[n] += better + (equal + 1) / 2
    rows = []
    for n in names:
        m, sd = mean_std(finals[n][0])
        rm, rsd = mean_std([oracle - v for v in finals[n][0]])
        # Seeds whose answer has the table's best validation accuracy (as `nasbox bench` counts them).
        at_best = "-" if best_valid is None else f"{sum(v == best_valid for v in finals[n][2])}/{len(finals[n][2])}"
        rows.append((n, m, sd, rm, rsd, rank_sum[n] / seeds, sum(finals[n][1]) / len(finals[n][1]), at_best))
    rows.sort(key=lambda r: r[3])
    if objectives:
        shown = [r if m else -r for r, (_, m) in zip(reference, objectives)]
        print(f"table {a.table}: objectives {a.objectives}, hypervolume as a fraction of the table front's ({table_hv:.6e}), reference point {shown}; budget {a.budget}; {seeds} seeds; optuna {optuna.__version__}")
    else:
        print(f"table {a.table}: oracle (best by validation) test accuracy {oracle:.4f}; budget {a.budget}; {seeds} seeds; optuna {optuna.__version__}")
    # Columns as wide as their widest cell, names flush left (as `nasbox bench` prints them).
    lines = [("strategy", f"{score_name} mean ± std", "regret mean ± std", "mean rank", "trials", "at best")]
    lines += [(n, f"{m:.4f} ± {sd:.4f}", f"{rm:.4f} ± {rsd:.4f}", f"{rank:.2f}", f"{t:.0f}", at_best) for n, m, sd, rm, rsd, rank, t, at_best in rows]
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    for line in lines:
        print("  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(line, widths))))
    best = rows[0][0]
    tests = sorted((mann_whitney_p(finals[best][0], finals[n][0]), n) for n in names if n != best)
    k = len(tests)
    print(f"{best} (lowest mean regret) against each (two-sided Mann–Whitney U, Holm over {k}):")
    running = 0.0
    for i, (pv, n) in enumerate(tests):
        running = max(running, min(1.0, pv * (k - i)))
        print(f"  vs {n:<{widths[0]}} p = {pv:.2e}, Holm {running:.2e}{'  *' if running < 0.05 else ''}")


if __name__ == "__main__":
    main()
