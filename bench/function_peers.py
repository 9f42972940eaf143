"""Optuna's samplers on function-bench's problems (the same spaces, functions and regret), written in function-bench's CSV.

    cargo run --release -p nasbox-bench-native --bin function-bench -- --export-suite suite.json
    python3 bench/function_peers.py --suite suite.json --out optuna.csv [--samplers tpe gp cmaes random] [--trials 50,100]
                                   [--seeds 20 | --seeds 20..40] [--problems branin-grid,cond-grid] [--jobs 2]
    cargo run --release -p nasbox-bench-native --bin function-bench -- --peers nasbox.csv --peers optuna.csv --against optuna-tpe

Needs optuna, torch and scipy for GPSampler, cmaes for CmaEsSampler (`pip install optuna scipy torch cmaes`).

The suite file (function-bench --export-suite) holds every problem's parameters and every function's values at fixed
points; this script implements the functions again and refuses to run when they disagree (`--check` only checks).
Each parameter becomes Optuna's natural distribution: an ordered grid `suggest_float(low, high, step=step)` (or
`suggest_int` when its values are whole; the suggestion is then snapped to the grid's exact value), a continuous range
`suggest_float(low, high)` (truly continuous: nasbox's strategies see the same range as 1001 points, which can differ
from the continuous optimum by less than 3e-5 on these problems, so a regret here may be a hair below nasbox's floor),
a categorical `suggest_categorical`, and a conditional parameter is suggested only when its condition holds. CMA-ES
runs only on problems without categorical or conditional parameters.

One study per problem, sampler and seed (the sampler seeded by it), maximising, of the largest trial budget: none of
these samplers knows the budget, so the best value after the first 50 trials of a 100-trial study is what a 50-trial
study finds, and one study gives a row per budget (its seconds are those up to that trial). Regret is to the
problem's `reference` (the grid optimum where exact, else the true optimum), as function-bench measures it.

The comparison (means, regret, seeds at the optimum, Mann–Whitney U with Holm's correction) is function-bench's own,
`--peers` this CSV: one implementation of the statistics (nasbox-stats) for both sides.
"""
import argparse
import csv
import json
import math
import sys
import time
from multiprocessing import Pool

# ---------------------------------------------------------------------------------------------------------------------
# The functions, maximised, as bench/native/src/functions.rs defines them.


def branin(x):
    x1, x2 = x
    b, c, r, s, t = 5.1 / (4.0 * math.pi * math.pi), 5.0 / math.pi, 6.0, 10.0, 1.0 / (8.0 * math.pi)
    return -((x2 - b * x1 * x1 + c * x1 - r) ** 2 + s * (1.0 - t) * math.cos(x1) + s)


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H3_A = [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]]
H3_P = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]
H6_A = [[10.0, 3.0, 17.0, 3.5, 1.7, 8.0], [0.05, 10.0, 17.0, 0.1, 8.0, 14.0], [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0]]
H6_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann(x, a, p):
    return sum(H_ALPHA[i] * math.exp(-sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(len(x)))) for i in range(4))


def rosenbrock(x):
    return -sum(100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (x[i] - 1.0) ** 2 for i in range(len(x) - 1))


def levy(x):
    w = [1.0 + (v - 1.0) / 4.0 for v in x]
    middle = sum((wi - 1.0) ** 2 * (1.0 + 10.0 * math.sin(math.pi * wi + 1.0) ** 2) for wi in w[:-1])
    last = (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)
    return -(math.sin(math.pi * w[0]) ** 2 + middle + last)


def ackley(x):
    n = len(x)
    squares = sum(v * v for v in x) / n
    cosines = sum(math.cos(2.0 * math.pi * v) for v in x) / n
    return -(-20.0 * math.exp(-0.2 * math.sqrt(squares)) - math.exp(cosines) + 20.0 + math.e)


def styblinski_tang(x):
    return -0.5 * sum(v**4 - 16.0 * v * v + 5.0 * v for v in x)


FUNCTIONS = {
    "branin": branin,
    "hartmann3": lambda x: hartmann(x, H3_A, H3_P),
    "hartmann6": lambda x: hartmann(x, H6_A, H6_P),
    "rosenbrock4": rosenbrock,
    "levy5": levy,
    "ackley5": ackley,
    "styblinski4": styblinski_tang,
}


def check(suite):
    """The functions agree with function-bench's at its fixed points (relative 1e-9), and reach their optima."""
    worst, problems = 0.0, []
    for f in suite["functions"]:
        fn = FUNCTIONS.get(f["name"])
        if fn is None:
            problems.append(f"{f['name']}: not implemented here")
            continue
        for c in f["checks"]:
            mine = fn(c["x"])
            err = abs(mine - c["value"]) / max(1.0, abs(c["value"]))
            worst = max(worst, err)
            if err > 1e-9:
                problems.append(f"{f['name']} at {c['x']}: {mine!r} here, {c['value']!r} in function-bench")
        for x in f["argmax"]:
            if abs(fn(x) - f["optimum"]) > 1e-4:
                problems.append(f"{f['name']}: {fn(x)} at its argmax {x}, optimum {f['optimum']}")
    return worst, problems


# ---------------------------------------------------------------------------------------------------------------------
# A problem as an Optuna objective.


def suggest(trial, p):
    if p["type"] == "categorical":
        return trial.suggest_categorical(p["name"], p["choices"])
    if p["type"] == "continuous":
        return trial.suggest_float(p["name"], p["low"], p["high"], log=p["log"])
    if p["integer"]:
        v = trial.suggest_int(p["name"], int(p["low"]), int(p["high"]), step=int(p["step"]))
    else:
        v = trial.suggest_float(p["name"], p["low"], p["high"], step=p["step"])
    # The grid's exact value (Optuna's low + i·step can differ in the last bits, and a stepped range may be shortened).
    return min(p["values"], key=lambda g: abs(g - v))


def evaluate(problem, trial):
    """Suggests the active parameters in order (a condition's parameter comes first) and returns the active branch's
    value."""
    values = {}
    for p in problem["params"]:
        c = p["condition"]
        if c is None or (c["param"] in values and values[c["param"]] in c["choices"]):
            values[p["name"]] = suggest(trial, p)
    for b in problem["branches"]:
        w = b["when"]
        if w is None or values.get(w["param"]) == w["choice"]:
            x = [float(values[name]) for name in b["inputs"]]
            return b["offset"] + b["scale"] * FUNCTIONS[b["function"]](x)
    raise AssertionError(f"{problem['name']}: no branch is active for {values}")


def plain(problem):
    """Only ordered, unconditional parameters: what CMA-ES applies to."""
    return all(p["type"] != "categorical" and p["condition"] is None for p in problem["params"])


def sampler(name, seed):
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise SystemExit(f"--samplers: unknown sampler `{name}` (tpe, gp, cmaes, random)")


def one_study(job):
    """Rows (problem, strategy, trials, workers, seed, best, regret, seconds) of one study, one per budget."""
    problem, name, seed, budgets = job
    import optuna
    import warnings

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    if name == "gp":
        import torch

        torch.set_num_threads(1)  # one core per study: --jobs runs studies side by side
    study = optuna.create_study(direction="maximize", sampler=sampler(name, seed))
    best, rows, start = -math.inf, [], time.perf_counter()
    for t in range(1, max(budgets) + 1):
        trial = study.ask()
        value = evaluate(problem, trial)
        study.tell(trial, value)
        best = max(best, value)
        if t in budgets:
            rows.append((problem["name"], f"optuna-{name}", t, 1, seed, best, problem["reference"] - best, time.perf_counter() - start))
    return rows


# ---------------------------------------------------------------------------------------------------------------------
# The CSV, as function-bench writes and reads it (--csv, --peers).

HEADER = ["problem", "strategy", "trials", "workers", "seed", "best", "regret", "seconds"]


def seed_range(text):
    a, sep, b = text.partition("..")
    try:
        seeds = range(int(a), int(b)) if sep else range(int(a))
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}`: expected N or A..B with A < B")
    if not seeds or seeds.start < 0:
        raise argparse.ArgumentTypeError(f"`{text}` holds no seeds")
    return seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", required=True, help="function-bench --export-suite's file")
    ap.add_argument("--out", help="the CSV to write (function-bench's --csv format)")
    ap.add_argument("--samplers", nargs="+", default=["tpe", "gp", "cmaes", "random"])
    ap.add_argument("--trials", default="50,100", help="budgets, comma-separated")
    ap.add_argument("--seeds", type=seed_range, default=seed_range("20"), help="N (0..N) or A..B")
    ap.add_argument("--problems", help="comma-separated names (default: every problem of the suite)")
    ap.add_argument("--jobs", type=int, default=1, help="studies run at once (processes)")
    ap.add_argument("--check", action="store_true", help="only check the functions against function-bench's")
    a = ap.parse_args()
    with open(a.suite) as f:
        suite = json.load(f)
    if suite.get("nasbox_function_suite") != 1:
        raise SystemExit(f"{a.suite}: not a function-bench --export-suite file")
    worst, problems = check(suite)
    if problems:
        raise SystemExit("the functions disagree with function-bench's:\n  " + "\n  ".join(problems))
    checks = sum(len(f["checks"]) for f in suite["functions"])
    print(f"functions agree with function-bench's at {checks} points (largest relative difference {worst:.1e})", file=sys.stderr)
    if a.check:
        return
    if a.problems:
        wanted = a.problems.split(",")
        unknown = [n for n in wanted if n not in {p["name"] for p in suite["problems"]}]
        if unknown:
            raise SystemExit(f"--problems: {', '.join(unknown)} not in {a.suite}")
        suite["problems"] = [p for p in suite["problems"] if p["name"] in wanted]
    if not a.out:
        raise SystemExit("--out: name the CSV to write (or give --check)")
    budgets = sorted({int(t) for t in a.trials.split(",")})
    if budgets[0] < 1:
        raise SystemExit("--trials: a study takes at least one trial")
    needs = {"random": [], "tpe": [], "gp": ["torch", "scipy"], "cmaes": ["cmaes"]}
    for s in a.samplers:
        if s not in needs:
            raise SystemExit(f"--samplers: unknown sampler `{s}` (tpe, gp, cmaes, random)")
        for module in ["optuna"] + needs[s]:
            try:
                __import__(module)
            except ImportError:
                raise SystemExit(f"--samplers {s}: needs the Python package `{module}` (pip install {module})")
    jobs = [(p, s, seed, budgets) for p in suite["problems"] for s in a.samplers if s != "cmaes" or plain(p) for seed in a.seeds]
    start, rows = time.perf_counter(), []
    with Pool(a.jobs) as pool:
        for k, out in enumerate(pool.imap(one_study, jobs, chunksize=1), 1):
            rows += out
            if k % max(1, len(jobs) // 20) == 0:
                print(f"{k}/{len(jobs)} studies, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    rows.sort(key=lambda r: ([p["name"] for p in suite["problems"]].index(r[0]), a.samplers.index(r[1][len("optuna-"):]), r[2], r[4]))
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r[0], r[1], r[2], r[3], r[4], repr(r[5]), repr(r[6]), f"{r[7]:.6f}"])
    print(f"{len(jobs)} studies in {time.perf_counter() - start:.0f} s; wrote {a.out}", file=sys.stderr)
    print(f"compare: cargo run --release -p nasbox-bench-native --bin function-bench -- --peers {a.out} --against optuna-tpe", file=sys.stderr)


if __name__ == "__main__":
    main()
