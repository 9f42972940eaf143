//! `native-bench`: built-in strategies searching a NAS-Bench-201 table,
//! natively (the SDK's [`Native`] runner, no sandbox), over many seeds.
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

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use nasbox_sdk::native::Native;
use nasbox_sdk::{Decision, Genotype, Observation, Proposal, RunContext, Setting, Space, Status, Strategy};
use nasbox_stats::{mann_whitney_u, mean_std, Alternative};

/// NAS-Bench-201's operations and edges, in its architecture strings' order
/// (as nasbox's `nb201` space has them).
const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
const EDGES: [(usize, usize); 6] = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

/// The strategies this links, by the names `nasbox bench` gives them.
const NAMES: [&str; 6] = ["random", "evolution", "local_search", "tpe", "bananas", "npenas"];

#[derive(Parser)]
#[command(name = "native-bench", about = "Built-in strategies searching a NAS-Bench-201 table natively, over many seeds")]
struct Args {
    /// A nasbox NAS-Bench-201 table (`make_table.py`'s output).
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
    /// Test every other entrant against this one, over all seeds and over disjoint draws of `--draw` seeds.
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

/// Validation and test accuracy of every cell at full fidelity.
struct Table(std::collections::HashMap<Genotype, (f64, f64)>);

impl Table {
    fn load(path: &std::path::Path) -> Result<Table, String> {
        let path = path.display();
        let text = std::fs::read_to_string(path.to_string()).map_err(|e| format!("{path}: {e}"))?;
        let mut cells = std::collections::HashMap::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            let bad = |why: &str| format!("{path}:{}: {why}", n + 1);
            let row: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
            if row["fidelity"].as_f64() != Some(1.0) {
                continue;
            }
            let arch = row["arch"].as_str().ok_or_else(|| bad("no `arch`"))?;
            let genotype = parse(arch).ok_or_else(|| bad(&format!("`{arch}` is not a NAS-Bench-201 cell")))?;
            let valid = row["valid_accuracy"].as_f64().ok_or_else(|| bad("no `valid_accuracy`"))?;
            let test = row["test_accuracy"].as_f64().ok_or_else(|| bad("no `test_accuracy`"))?;
            cells.insert(genotype, (valid, test));
        }
        if cells.len() != 15_625 {
            return Err(format!("{path}: {} cells at fidelity 1, NAS-Bench-201 has 15625", cells.len()));
        }
        Ok(Table(cells))
    }
}

/// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` → one choice per edge.
fn parse(arch: &str) -> Option<Genotype> {
    let ops: Vec<u32> = arch
        .split('|')
        .filter(|t| !t.is_empty() && *t != "+")
        .map(|t| t.split_once('~').and_then(|(op, _)| OPS.iter().position(|o| *o == op)).map(|i| i as u32))
        .collect::<Option<_>>()?;
    (ops.len() == EDGES.len()).then_some(ops)
}

/// The inverse of [`parse`], for the CSV.
fn arch(genotype: &Genotype) -> String {
    let mut s = String::from("|");
    for (k, ((to, from), op)) in EDGES.iter().zip(genotype).enumerate() {
        if k > 0 && EDGES[k - 1].0 != *to {
            s.push_str("+|");
        }
        s.push_str(&format!("{}~{from}|", OPS[*op as usize]));
    }
    s
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

fn space() -> Space {
    Space {
        name: "nb201".into(),
        decisions: EDGES.iter().map(|(t, s)| Decision { name: format!("{t}<-{s}"), choices: OPS.iter().map(|o| o.to_string()).collect() }).collect(),
    }
}

/// One search's answer: its best trial by validation.
#[derive(Clone)]
struct Answer {
    valid: f64,
    test: f64,
    genotype: Genotype,
}

fn search<S: Strategy>(table: &Table, seed: u64, trials: u64, settings: &[Setting]) -> Result<Answer, String> {
    let context = RunContext { max_trials: Some(trials), parallelism: 1 };
    let mut strategy = Native::<S>::init(seed, space(), settings.to_vec(), context).map_err(|e| e.to_string())?;
    let mut best: Option<Answer> = None;
    for trial in 0..trials {
        let proposal = strategy.ask(1).map_err(|e| e.to_string())?.pop().ok_or("proposed nothing")?;
        let Proposal::Genotype(candidate) = &proposal else { return Err("proposed a relaxed architecture".into()) };
        let &(valid, test) = table.0.get(&candidate.genotype).ok_or("proposed a genotype outside the space")?;
        // Ties go to the earlier trial, as the host's incumbent does.
        if best.as_ref().is_none_or(|b| valid > b.valid) {
            best = Some(Answer { valid, test, genotype: candidate.genotype.clone() });
        }
        let observation = Observation { trial, proposal, status: Status::Ok, objective: valid, cost: 1.0, metrics: vec![], gradient: None };
        strategy.tell(vec![observation]).map_err(|e| e.to_string())?;
    }
    best.ok_or_else(|| "no trials".into())
}

/// A strategy by its name, with its settings.
#[derive(Debug)]
struct Entrant {
    label: String,
    name: String,
    settings: Vec<Setting>,
}

impl Entrant {
    fn parse(label: &str) -> Result<Entrant, String> {
        let (name, settings) = label.split_once(':').unwrap_or((label, ""));
        if !NAMES.contains(&name) {
            return Err(format!("`{name}`: this runs {}", NAMES.join(", ")));
        }
        let settings = settings
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').map(|(k, v)| Setting { key: k.into(), value: v.into() }).ok_or_else(|| format!("`{label}`: `{kv}` is not KEY=VALUE")))
            .collect::<Result<_, _>>()?;
        Ok(Entrant { label: label.into(), name: name.into(), settings })
    }

    fn search(&self, table: &Table, seed: u64, trials: u64) -> Result<Answer, String> {
        let s = &self.settings;
        match self.name.as_str() {
            "random" => search::<random::RandomSearch>(table, seed, trials, s),
            "evolution" => search::<evolution::Evolution>(table, seed, trials, s),
            "local_search" => search::<local_search::LocalSearch>(table, seed, trials, s),
            "tpe" => search::<tpe::TpeStrategy>(table, seed, trials, s),
            "bananas" => search::<bananas::Bananas>(table, seed, trials, s),
            "npenas" => search::<npenas::Npenas>(table, seed, trials, s),
            other => unreachable!("`{other}` was checked in Entrant::parse"),
        }
    }

    /// Every seed's answer, in seed order, `jobs` searches at a time.
    fn run(&self, table: &Table, seeds: &Range<u64>, trials: u64, jobs: usize) -> Result<Vec<Answer>, String> {
        let seeds: Vec<u64> = seeds.clone().collect();
        let answers = Mutex::new(vec![None; seeds.len()]);
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..jobs.min(seeds.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(i) else { break };
                    let answer = self.search(table, seed, trials).map_err(|e| format!("{} seed {seed}: {e}", self.label));
                    answers.lock().unwrap()[i] = Some(answer);
                });
            }
        });
        answers.into_inner().unwrap().into_iter().map(|a| a.expect("every seed was searched")).collect()
    }
}

/// An entrant tested against the reference: over all seeds, and over each
/// draw of seeds (indices into both, the same seeds for both).
struct Versus {
    difference: f64,
    p: f64,
    draws: usize,
    higher: usize,
    lower: usize,
}

fn versus(scores: &[f64], reference: &[f64], draws: &[Vec<usize>], alpha: f64) -> Versus {
    let (mut higher, mut lower) = (0, 0);
    for draw in draws {
        let a: Vec<f64> = draw.iter().map(|&i| scores[i]).collect();
        let b: Vec<f64> = draw.iter().map(|&i| reference[i]).collect();
        let t = mann_whitney_u(&a, &b, Alternative::TwoSided);
        // The direction the test found: U above half the pairs means the
        // entrant's answers tend to be the higher ones (its mean may still be
        // lower, if a few of its searches stall far below).
        if t.p < alpha {
            if t.u > (a.len() * b.len()) as f64 / 2.0 {
                higher += 1;
            } else {
                lower += 1;
            }
        }
    }
    let p = mann_whitney_u(scores, reference, Alternative::TwoSided).p;
    Versus { difference: mean_std(scores).0 - mean_std(reference).0, p, draws: draws.len(), higher, lower }
}

/// `resamples` = 0: the seeds cut into disjoint draws of `size` (a draw that
/// does not fill is left out), each seed used once, so the draws are
/// independent. Otherwise that many draws of `size` seeds with replacement
/// (a bootstrap: for sizes the seeds do not fill many times), from a fixed
/// stream, so a rerun prints the same counts.
fn draws(seeds: usize, size: usize, resamples: usize) -> Vec<Vec<usize>> {
    if resamples == 0 {
        return (0..seeds / size).map(|d| (d * size..(d + 1) * size).collect()).collect();
    }
    let mut state = 0x6e61_7362_6f78u64;
    let mut next = move || {
        // SplitMix64.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..resamples).map(|_| (0..size).map(|_| (next() % seeds as u64) as usize).collect()).collect()
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
    fn cells_parse_in_the_spaces_edge_order() {
        let arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
        assert_eq!(parse(arch), Some(vec![3, 2, 3, 1, 3, 0]));
        assert_eq!(space().decisions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]);
        assert_eq!(super::arch(&vec![3, 2, 3, 1, 3, 0]), arch, "the CSV writes cells as the table does");
        assert_eq!(parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), None);
        assert_eq!(parse("|none~0|+|none~0|none~1|"), None);
    }

    #[test]
    fn draws_count_significant_differences_in_either_direction() {
        // Three draws of five: clearly higher, clearly lower, the same.
        let a = [0.9, 0.91, 0.92, 0.93, 0.94, 0.1, 0.11, 0.12, 0.13, 0.14, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99];
        let b = [0.1, 0.11, 0.12, 0.13, 0.14, 0.9, 0.91, 0.92, 0.93, 0.94, 0.5, 0.6, 0.7, 0.8, 0.9, 0.0];
        let disjoint = draws(a.len(), 5, 0);
        assert_eq!(disjoint.len(), 3, "the 16th seed fills no draw");
        let v = versus(&a, &b, &disjoint, 0.05);
        assert_eq!((v.draws, v.higher, v.lower), (3, 1, 1));
        assert!(v.p > 0.05 && v.difference > 0.0);
        let v = versus(&a, &b, &disjoint, 0.001);
        assert_eq!((v.higher, v.lower), (0, 0), "five against five cannot reach p < 0.001");
    }

    #[test]
    fn a_draw_counts_the_direction_of_the_ranks_not_of_the_means() {
        // Nineteen searches just above the reference's and one that stalls
        // far below: the rank test finds the entrant higher, its mean is lower.
        let b: Vec<f64> = (0..20).map(|i| 0.50 + i as f64 * 0.001).collect();
        let mut a: Vec<f64> = b.iter().map(|x| x + 0.03).collect();
        a[0] = -1.0;
        let v = versus(&a, &b, &draws(20, 20, 0), 0.05);
        assert!(v.difference < 0.0);
        assert_eq!((v.higher, v.lower), (1, 0));
    }

    #[test]
    fn resampled_draws_are_fixed_and_may_exceed_the_seeds() {
        let d = draws(10, 40, 7);
        assert_eq!(d.len(), 7);
        assert!(d.iter().all(|draw| draw.len() == 40 && draw.iter().all(|&i| i < 10)));
        assert_eq!(d, draws(10, 40, 7), "a rerun prints the same counts");
        // A lead that 5 seeds cannot show, 200 resampled seeds show every time.
        let a: Vec<f64> = (0..10).map(|i| 0.5 + i as f64 * 0.01).collect();
        let b: Vec<f64> = (0..10).map(|i| 0.49 + i as f64 * 0.01).collect();
        assert_eq!(versus(&a, &b, &draws(10, 5, 0), 0.05).higher, 0);
        assert_eq!(versus(&a, &b, &draws(10, 200, 20), 0.05).higher, 20);
    }

    #[test]
    fn entrants_name_a_linked_strategy_and_key_value_settings() {
        let e = Entrant::parse("npenas:design=uniform,recombine=0").unwrap();
        assert_eq!((e.name.as_str(), e.settings.len()), ("npenas", 2));
        assert!(Entrant::parse("reinforce").unwrap_err().contains("this runs random"));
        assert!(Entrant::parse("tpe:startup").unwrap_err().contains("`startup` is not KEY=VALUE"));
    }

    #[test]
    fn seeds_are_a_count_or_a_range() {
        assert_eq!(seed_range("600"), Some(0..600));
        assert_eq!(seed_range("20..40"), Some(20..40));
        for bad in ["0", "5..5", "6..2", "x", "1..", "-1"] {
            assert_eq!(seed_range(bad), None, "{bad}");
        }
    }
}
