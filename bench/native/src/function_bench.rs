//! `function-bench`: the built-in strategies on mixed spaces, natively.
//!
//! Standard global-optimisation test functions with known optima (Branin,
//! Hartmann-3 and -6, Rosenbrock, Levy, Ackley, Styblinski–Tang), maximised,
//! each on spaces of four kinds (an 11-point grid per input, a continuous
//! range per input, grid inputs with irrelevant categorical decisions, and a
//! categorical switch between two functions whose inputs are conditional);
//! see `suite.rs`. Each strategy is told what each decision is (contract
//! 0.1.2's shape, through `Native::init_shaped`), or, as `NAME/cat` (or with
//! `--categorical`), nothing: every decision categorical.
//!
//! ```sh
//! cargo run --release -p nasbox-bench-native --bin function-bench -- random tpe --trials 50,100 --seeds 20 --against tpe --csv runs/functions.csv
//! cargo run --release -p nasbox-bench-native --bin function-bench -- --export-suite runs/suite.json
//! python3 bench/function_peers.py --suite runs/suite.json --out runs/optuna.csv
//! cargo run --release -p nasbox-bench-native --bin function-bench -- --peers runs/functions.csv --peers runs/optuna.csv --against optuna-tpe
//! ```
//!
//! Per problem and trial budget it prints each entry's mean best ± sd, its
//! regret to the grid optimum (the best value a genotype has), how many
//! seeds found that optimum, and, with `--against`, a two-sided
//! Mann–Whitney U test of every other entry against that one with Holm's
//! correction over the block; then a summary over the problems. `--workers
//! 1,2,4` runs each search with that many proposals pending (entries
//! `tpe@2`, `tpe@4`). The random stream is the SDK's native stand-in, so
//! compare distributions, not seeds.

mod functions;
mod report;
mod runs;
mod suite;

use std::ops::Range;
use std::path::PathBuf;

use clap::Parser;

use report::{entry, Record};
use runs::{Entrant, Job};
use suite::{Problem, NAMES};

#[derive(Parser)]
#[command(name = "function-bench", about = "Built-in strategies on test functions over grid, continuous, mixed and conditional spaces, natively")]
struct Args {
    /// Strategies to run, each optionally with settings (`tpe:startup=5`); `NAME/cat` runs it without the
    /// shape (every decision categorical).
    entrants: Vec<String>,
    /// Problems, by name (default: all; `--list` names them).
    #[arg(long, value_delimiter = ',')]
    problems: Vec<String>,
    /// Trials per search; several run a search per budget.
    #[arg(long, value_delimiter = ',', default_value = "50,100")]
    trials: Vec<u64>,
    /// Seeds: N (0 to N − 1) or A..B (A to B − 1).
    #[arg(long, value_parser = parse_seeds, default_value = "20")]
    seeds: Range<u64>,
    /// Proposals kept pending (ask until that many are pending, tell the oldest); several run each.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    workers: Vec<usize>,
    /// Also run every strategy without the shape (as `NAME/cat`).
    #[arg(long)]
    categorical: bool,
    /// Searches run at once (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Test every other entry against this one (`tpe`, `tpe@4` for 4 workers, `optuna-tpe` from --peers).
    #[arg(long)]
    against: Option<String>,
    /// Significance level for the Holm-adjusted p-values.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write one row per search: problem, strategy, trials, workers, seed, best, regret, seconds.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also report the searches in this CSV (an earlier run's --csv, or bench/function_peers.py's --out).
    #[arg(long)]
    peers: Vec<PathBuf>,
    /// Write the problems' spaces and functions as JSON for bench/function_peers.py.
    #[arg(long)]
    export_suite: Option<PathBuf>,
    /// Write each problem (of --problems) that has no conditions and at most 200,000 genotypes as DIR/NAME.toml (a
    /// decision space) and DIR/NAME.jsonl (a table of every genotype, values scaled into [0, 1]), for `nasbox
    /// search` and `nasbox bench` in the sandbox.
    #[arg(long, value_name = "DIR")]
    export_tables: Option<PathBuf>,
    /// List the problems with their optima.
    #[arg(long)]
    list: bool,
    /// Print every function's value at fixed points (the checks bench/function_peers.py compares with).
    #[arg(long)]
    points: bool,
}

fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let range = match text.split_once("..") {
        Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()).map(|(a, b)| a..b),
        None => text.trim().parse().ok().map(|n| 0..n),
    };
    range.filter(|r| !r.is_empty()).ok_or_else(|| format!("`{text}`: expected N or A..B with A < B"))
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("function-bench: {e}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<(), String> {
    let mut entrants: Vec<Entrant> = args.entrants.iter().map(|e| Entrant::parse(e)).collect::<Result<_, _>>()?;
    if args.categorical {
        let twins: Vec<Entrant> = entrants.iter().filter(|e| !e.label.ends_with("/cat")).map(Entrant::categorical).collect();
        entrants.extend(twins);
    }
    let mut labels: Vec<&str> = entrants.iter().map(|e| e.label.as_str()).collect();
    labels.sort();
    if let Some(w) = labels.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("`{}` is named twice", w[0]));
    }
    if let Some(t) = args.trials.iter().find(|&&t| t == 0) {
        return Err(format!("--trials {t}: a search takes at least one trial"));
    }
    if let Some(w) = args.workers.iter().find(|&&w| w == 0) {
        return Err(format!("--workers {w}: at least one proposal is pending"));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(format!("--alpha {}: expected a level between 0 and 1", args.alpha));
    }
    if args.jobs == Some(0) {
        return Err("--jobs 0: at least one search runs at a time".into());
    }
    let names: Vec<&str> = if args.problems.is_empty() { NAMES.to_vec() } else { args.problems.iter().map(String::as_str).collect() };
    if let Some(n) = names.iter().find(|n| !NAMES.contains(n)) {
        return Err(format!("--problems `{n}`: the suite has {}", NAMES.join(", ")));
    }
    let mut peers = vec![];
    for path in &args.peers {
        peers.extend(report::read_csv(path)?);
    }
    if let Some(a) = &args.against {
        let known = entrants.iter().any(|e| args.workers.iter().any(|&w| &entry(&e.label, w) == a)) || peers.iter().any(|r| &r.entry() == a);
        if !known {
            return Err(format!("--against `{a}` is neither an entry run here (STRATEGY or STRATEGY@WORKERS) nor one in --peers"));
        }
    }
    let nothing_to_compare = entrants.is_empty() && peers.is_empty();
    if nothing_to_compare && !args.list && !args.points && args.export_suite.is_none() && args.export_tables.is_none() {
        return Err(format!("name strategies to run ({}), or --peers, --export-suite, --export-tables, --list or --points", runs::linked().join(", ")));
    }
    // Building a problem finds its grid optimum (brute force: up to a few million evaluations).
    let problems: Vec<Problem> = names.iter().map(|n| Problem::named(n).expect("a problem of the suite")).collect();
    if args.list {
        println!("{:<18} {:>6} {:>10} {:>14} {:>14}  description", "problem", "kind", "decisions", "optimum", "grid optimum");
        for p in &problems {
            let grid = format!("{}{:.6}", if p.exact { "" } else { "≥ " }, p.grid_optimum);
            println!("{:<18} {:>6} {:>10} {:>14.6} {:>14}  {}", p.name, p.kind, p.decisions.len(), p.optimum, grid, p.describe());
        }
    }
    if args.points {
        for f in functions::all() {
            println!("{} (optimum {})", f.name, f.optimum);
            for x in f.checks() {
                println!("  {:?} {}", x, f.value(&x));
            }
        }
    }
    if let Some(path) = &args.export_suite {
        let suite = serde_json::json!({
            "nasbox_function_suite": 1,
            "range_points": suite::RANGE_POINTS,
            "grid_points": suite::GRID_POINTS,
            "functions": suite::export_functions(),
            "problems": problems.iter().map(Problem::export).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&suite).unwrap() + "\n").map_err(|e| format!("--export-suite {}: {e}", path.display()))?;
        eprintln!("function-bench: wrote {} problems to {}", problems.len(), path.display());
    }
    if let Some(dir) = &args.export_tables {
        std::fs::create_dir_all(dir).map_err(|e| format!("--export-tables {}: {e}", dir.display()))?;
        for p in &problems {
            match p.table(200_000) {
                Some((toml, table)) => {
                    for (ext, text) in [("toml", toml), ("jsonl", table)] {
                        let path = dir.join(format!("{}.{ext}", p.name));
                        std::fs::write(&path, text).map_err(|e| format!("--export-tables {}: {e}", path.display()))?;
                    }
                    eprintln!("function-bench: wrote {0}.toml and {0}.jsonl to {1}", p.name, dir.display());
                }
                None => eprintln!("function-bench: {} has conditions or over 200,000 genotypes: no table", p.name),
            }
        }
    }
    if nothing_to_compare {
        return Ok(());
    }

    let mut work = vec![];
    for problem in 0..problems.len() {
        for entrant in 0..entrants.len() {
            for &trials in &args.trials {
                for &workers in &args.workers {
                    work.extend(args.seeds.clone().map(|seed| Job { problem, entrant, trials, workers, seed }));
                }
            }
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let results = runs::run(&problems, &entrants, &work, jobs)?;
    let mut records: Vec<Record> = work
        .iter()
        .zip(&results)
        .map(|(job, &(best, seconds))| {
            let p = &problems[job.problem];
            Record {
                problem: p.name.clone(),
                strategy: entrants[job.entrant].label.clone(),
                trials: job.trials,
                workers: job.workers,
                seed: job.seed,
                best,
                regret: p.reference() - best,
                seconds,
            }
        })
        .collect();
    if !work.is_empty() {
        println!(
            "{} searches ({} problems × {} strategies × trials {:?} × workers {:?} × seeds {}..{}) in {:.1} s on {jobs} threads",
            work.len(),
            problems.len(),
            entrants.len(),
            args.trials,
            args.workers,
            args.seeds.start,
            args.seeds.end,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, report::to_csv(&records)).map_err(|e| format!("--csv {}: {e}", path.display()))?;
    }
    // Peers' regrets are recomputed to this suite's reference, so every row measures the same thing.
    for mut r in peers {
        if let Some(p) = problems.iter().find(|p| p.name == r.problem) {
            r.regret = p.reference() - r.best;
        }
        records.push(r);
    }
    report::print(&problems, &records, args.against.as_deref(), args.alpha);
    Ok(())
}
