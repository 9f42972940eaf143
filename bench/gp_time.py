"""Time per trial of nasbox's `gp` in the sandbox against Optuna's GPSampler, side by side in one run.

    python3 bench/gp_time.py [--problems branin-grid,hartmann3-grid,...] [--seeds 5] [--trials 100] [--out runs/gp-time]

For each problem of function-bench's suite that has a table (no conditions, at most 200,000 genotypes:
`function-bench --export-tables`), it runs, one after the other on this machine:
- `nasbox search --strategy gp` on the problem's decision space with the table as estimator, as a user runs it: the
  component in the sandbox, through the CLI, each seed a fresh process;
- the same with `--strategy random`, whose time is the fixed part (process start, loading the component and the
  table, the journal): gp's time per trial is (gp − random) / trials;
- Optuna's GPSampler on the same problem and seeds (bench/function_peers.py), whose study time per trial is the
  sampler's, the function costing microseconds.
It prints per problem both times per trial, their ratio, and each side's mean best (as regret to the grid optimum,
from function_peers.py's CSV and, for nasbox, the function value each table row keeps as metric `f`).

Needs the release builds of `nasbox` and `function-bench` (cargo build --release -p nasbox -p nasbox-bench-native) and
a Python with optuna, scipy and torch for GPSampler (`pip install optuna scipy torch`).
"""
import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"gp_time: {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def nasbox_search(nasbox, strategy, toml, table, trials, seed, out):
    start = time.perf_counter()
    run([nasbox, "search", "--strategy", strategy, "--space", toml, "--estimator", f"table:{table}",
         "--budget", f"trials={trials}", "--seed", str(seed), "--out", out])
    seconds = time.perf_counter() - start
    # The answer's function value: the table row's metric `f` (function-bench --export-tables), which the journal keeps.
    metrics = sqlite3.connect(os.path.join(out, "journal.sqlite")).execute(
        "SELECT metrics FROM trials WHERE status = 'ok' ORDER BY objective DESC, id LIMIT 1").fetchone()[0]
    return seconds, dict(json.loads(metrics))["f"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default="branin-grid,hartmann3-grid,styblinski4-grid,rosenbrock4-grid,branin-mixed")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--out", default="runs/gp-time")
    ap.add_argument("--nasbox", default=os.path.join(TARGET, "release", "nasbox"))
    args = ap.parse_args()
    bench = os.path.join(TARGET, "release", "function-bench")
    problems = args.problems.split(",")
    tables = os.path.join(args.out, "tables")
    os.makedirs(tables, exist_ok=True)
    run([bench, "--export-tables", tables, "--problems", ",".join(problems)])
    suite = os.path.join(args.out, "suite.json")
    run([bench, "--export-suite", suite, "--problems", ",".join(problems)])
    grid_best = {p["name"]: p["reference"] for p in json.load(open(suite))["problems"]}
    rows = []
    # The first search with a component compiles it into the user's cache (a second or so, once per build): not part
    # of any trial's time, so one short search per strategy comes first, untimed.
    for strategy in ("gp", "random"):
        toml, table = os.path.join(tables, f"{problems[0]}.toml"), os.path.join(tables, f"{problems[0]}.jsonl")
        warm = os.path.join(args.out, "runs", f"warm-{strategy}")
        subprocess.run(["rm", "-rf", warm])
        nasbox_search(args.nasbox, strategy, toml, table, 12, 0, warm)
    for problem in problems:
        toml, table = os.path.join(tables, f"{problem}.toml"), os.path.join(tables, f"{problem}.jsonl")
        if not os.path.exists(table):
            sys.exit(f"gp_time: {problem} has no table (conditions, or too many genotypes)")
        times = {"gp": [], "random": []}
        regrets = []
        for seed in range(args.seeds):
            for strategy in ("gp", "random"):
                out = os.path.join(args.out, "runs", f"{problem}-{strategy}-{seed}")
                subprocess.run(["rm", "-rf", out])
                seconds, best = nasbox_search(args.nasbox, strategy, toml, table, args.trials, seed, out)
                times[strategy].append(seconds)
                if strategy == "gp":
                    regrets.append(grid_best[problem] - best)
        optuna_csv = os.path.join(args.out, f"optuna-{problem}.csv")
        run([sys.executable, os.path.join(ROOT, "bench", "function_peers.py"), "--suite", suite, "--out", optuna_csv, "--samplers", "gp",
             "--trials", str(args.trials), "--seeds", str(args.seeds), "--problems", problem])
        with open(optuna_csv) as f:
            optuna = [r for r in csv.DictReader(f) if int(r["trials"]) == args.trials]
        gp = (statistics.mean(times["gp"]) - statistics.mean(times["random"])) / args.trials
        op = statistics.mean(float(r["seconds"]) for r in optuna) / args.trials
        rows.append((problem, gp, op, statistics.mean(regrets), statistics.mean(float(r["regret"]) for r in optuna)))
        print(f"gp_time: {problem} done", file=sys.stderr)
    print(f"{args.trials} trials, {args.seeds} seeds; seconds per trial (nasbox gp: in the sandbox, random's time taken off)")
    print(f"{'problem':<18} {'nasbox gp':>10} {'optuna gp':>10} {'ratio':>7}  {'regret gp':>10} {'regret optuna':>13}")
    for problem, gp, op, rg, ro in rows:
        print(f"{problem:<18} {gp:>10.4f} {op:>10.4f} {gp / op:>7.3f}  {rg:>10.4g} {ro:>13.4g}")


if __name__ == "__main__":
    main()
