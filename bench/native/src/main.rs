//! `native-bench`: built-in strategies searching a NAS-Bench-201 table,
//! natively (the SDK's [`Native`](nasbox_sdk::native::Native) runner, no sandbox), over many seeds.
//!
//! `nasbox bench` is the reference: the components as users run them, in
//! the sandbox, with journals and reports. But a strategy change that moves
//! the chance of finding the best cell by five points needs hundreds of
//! seeds to tell from noise, and the sandboxed bench spends about a second
//! per search on journals and compilation. This runs the same strategy code
//! in-process on a table held in memory: 600 seeds of NPENAS at 50 trials
//! take about three minutes on one core. Its random stream is the SDK's
//! native stand-in (SplitMix64), not the host's ChaCha8, so seeds do not give
//! the searches `nasbox bench` gives: compare distributions, not seeds.
//!
//! ```sh
//! cargo run --release -p nasbox-bench-native -- runs/tables/in16.jsonl 50 0..600 npenas npenas:design=uniform
//! ```
//!
//! prints, per entrant, the mean and standard deviation of the test
//! accuracy of each search's answer (its best trial by validation), the
//! seeds whose answer is the table's best architecture by validation, and
//! the seeds that answered a cell outside the table's best 5% by
//! validation (stalls).
//!
//! `--against tpe` also answers the question a 20-seed comparison cannot
//! answer about itself: how often 20 seeds would show a difference this
//! large. The seeds are cut into disjoint draws of `--draw` seeds (or,
//! with `--resamples`, drawn with replacement), and each
//! draw is tested as `nasbox bench` tests its seeds (two-sided Mann–Whitney
//! U); the count of draws where an entrant comes out significantly higher is
//! the power of a 20-seed comparison to show what the 600 seeds show.

mod entrant;
mod power;
mod table;

use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use nasbox_stats::mean_std;

use entrant::Entrant;
use power::{draws, versus};
use table::{arch, Table};

#[derive(Parser)]
#[command(name = "native-bench", about = "Built-in strategies searching a NAS-Bench-201 table natively, over many seeds")]
struct Args {
    /// A nasbox NAS-Bench-201 table (`scripts/nb201_12ep_table.py`'s output).
    table: PathBuf,
    /// Trials per search.
    trials: u64,
    /// Seeds: N (0 to N − 1) or A..B (A to B − 1), as `nasbox bench --seeds`.
    #[arg(value_parser = parse_seeds)]
    seeds: Range<u64>,
    /// Strategies, each optionally with settings: `npenas:design=uniform,recombine=0`.
    #[arg(required = true)]
    entrants: Vec<String>,
    /// Searches run at once (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Test every other entrant against this one, over all seeds and over draws of `--draw` seeds.
    #[arg(long)]
    against: Option<String>,
    /// Seeds per draw for `--against`; several (`20,130`) print a block each.
    #[arg(long, value_delimiter = ',', default_value = "20")]
    draw: Vec<usize>,
    /// Draw `--draw` seeds this many times with replacement, instead of cutting the seeds into disjoint draws:
    /// how often would N seeds show it, for N larger than the seeds divide into.
    #[arg(long, default_value_t = 0)]
    resamples: usize,
    /// Significance level for a draw's test (Holm's correction over k comparisons asks at most α/k of the
    /// smallest p); several (`0.05,0.0125`) print a block each.
    #[arg(long, value_delimiter = ',', default_value = "0.05")]
    alpha: Vec<f64>,
    /// Also write every search's answer to this CSV (entrant, seed, validation and test accuracy, cell).
    #[arg(long)]
    csv: Option<PathBuf>,
}

fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    seed_range(text).ok_or_else(|| format!("`{text}`: expected N or A..B with A < B"))
}

/// `N` → seeds 0..N, `A..B` → A to B − 1, as `nasbox bench --seeds` takes
/// them (that parser is in the host crate, which this does not link).
fn seed_range(text: &str) -> Option<Range<u64>> {
    let range = match text.split_once("..") {
        Some((a, b)) => a.trim().parse().ok()?..b.trim().parse().ok()?,
        None => 0..text.trim().parse().ok()?,
    };
    (!range.is_empty()).then_some(range)
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("native-bench: {e}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<(), String> {
    let entrants: Vec<Entrant> = args.entrants.iter().map(|e| Entrant::parse(e)).collect::<Result<_, _>>()?;
    let reference = match &args.against {
        Some(label) => Some(args.entrants.iter().position(|e| e == label).ok_or_else(|| format!("--against `{label}` is not one of the entrants"))?),
        None => None,
    };
    let seed_count = (args.seeds.end - args.seeds.start) as usize;
    // The draws matter only to --against (and 20 seeds are a fine run without it).
    for &draw in args.draw.iter().filter(|_| reference.is_some()) {
        if draw < 2 {
            return Err(format!("--draw {draw}: a draw takes at least 2 seeds"));
        }
        if args.resamples == 0 && draw > seed_count {
            return Err(format!("--draw {draw}: {seed_count} seeds fill no draw that large (--resamples draws with replacement)"));
        }
    }
    if let Some(alpha) = args.alpha.iter().find(|a| !(**a > 0.0 && **a < 1.0)) {
        return Err(format!("--alpha {alpha}: expected a level between 0 and 1"));
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let table = Table::load(&args.table)?;
    let mut by_valid: Vec<(f64, f64)> = table.0.values().copied().collect();
    by_valid.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (best_valid, top5) = (by_valid[0].0, by_valid[by_valid.len() / 20].0);
    println!(
        "{} trials, seeds {}..{}; the best cell by validation: {best_valid:.4} ({:.4} test)",
        args.trials, args.seeds.start, args.seeds.end, by_valid[0].1
    );
    println!("{:<40} {:>24} {:>9} {:>7} {:>8}", "strategy", "test accuracy mean ± std", "at best", "stalls", "seconds");
    let mut results = vec![];
    for entrant in &entrants {
        let started = Instant::now();
        let answers = entrant.run(&table, &args.seeds, args.trials, jobs)?;
        let tests: Vec<f64> = answers.iter().map(|a| a.test).collect();
        let (mean, std) = mean_std(&tests);
        let at_best = answers.iter().filter(|a| a.valid == best_valid).count();
        let stalls = answers.iter().filter(|a| a.valid < top5).count();
        let seconds = started.elapsed().as_secs_f64();
        println!("{:<40} {:>24} {:>9} {:>7} {seconds:>8.1}", entrant.label, format!("{mean:.4} ± {std:.4}"), format!("{at_best}/{}", answers.len()), stalls);
        results.push(answers);
    }
    if let Some(r) = reference {
        let reference_scores: Vec<f64> = results[r].iter().map(|a| a.test).collect();
        let how = if args.resamples == 0 { "disjoint" } else { "resampled" };
        for &size in &args.draw {
            let draws = draws(seed_count, size, args.resamples);
            for &alpha in &args.alpha {
                println!("\nagainst {} (two-sided Mann–Whitney U; draws: {how}, {size} seeds each, significant at p < {alpha})", args.entrants[r]);
                println!("{:<40} {:>11} {:>10} {:>20}", "strategy", "difference", "p", "draws higher/lower");
                for (k, answers) in results.iter().enumerate().filter(|(k, _)| *k != r) {
                    let scores: Vec<f64> = answers.iter().map(|a| a.test).collect();
                    let v = versus(&scores, &reference_scores, &draws, alpha);
                    println!("{:<40} {:>+11.4} {:>10.2e} {:>20}", entrants[k].label, v.difference, v.p, format!("{}/{} of {}", v.higher, v.lower, v.draws));
                }
            }
        }
    }
    if let Some(path) = &args.csv {
        let mut csv = String::from("entrant,seed,valid_accuracy,test_accuracy,arch\n");
        for (entrant, answers) in entrants.iter().zip(&results) {
            for (seed, a) in args.seeds.clone().zip(answers) {
                csv.push_str(&format!("\"{}\",{seed},{},{},{}\n", entrant.label, a.valid, a.test, arch(&a.genotype)));
            }
        }
        std::fs::write(path, csv).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_a_count_or_a_range() {
        assert_eq!(seed_range("600"), Some(0..600));
        assert_eq!(seed_range("20..40"), Some(20..40));
        for bad in ["0", "5..5", "6..2", "x", "1..", "-1"] {
            assert_eq!(seed_range(bad), None, "{bad}");
        }
    }
}
