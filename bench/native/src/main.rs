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

use std::collections::HashMap;
use std::time::Instant;

use nasbox_sdk::native::Native;
use nasbox_sdk::{Decision, Genotype, Observation, Proposal, RunContext, Setting, Space, Status, Strategy};

/// NAS-Bench-201's operations and edges, in its architecture strings' order
/// (as nasbox's `nb201` space has them).
const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
const EDGES: [(usize, usize); 6] = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

/// Validation and test accuracy of every cell at full fidelity.
struct Table(HashMap<Genotype, (f64, f64)>);

impl Table {
    fn load(path: &str) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let mut cells = HashMap::new();
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

/// `N` → seeds 0..N, `A..B` → A to B − 1, as `nasbox bench --seeds` takes
/// them (that parser is in the host crate, which this does not link).
fn seed_range(text: &str) -> Option<std::ops::Range<u64>> {
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

/// One search: the answer's (validation, test) accuracy and genotype.
fn search<S: Strategy>(table: &Table, seed: u64, trials: u64, settings: &[Setting]) -> Result<(f64, f64, Genotype), String> {
    let context = RunContext { max_trials: Some(trials), parallelism: 1 };
    let mut strategy = Native::<S>::init(seed, space(), settings.to_vec(), context).map_err(|e| e.to_string())?;
    let mut best: Option<(f64, f64, Genotype)> = None;
    for trial in 0..trials {
        let proposal = strategy.ask(1).map_err(|e| e.to_string())?.pop().ok_or("proposed nothing")?;
        let Proposal::Genotype(candidate) = &proposal else { return Err("proposed a relaxed architecture".into()) };
        let &(valid, test) = table.0.get(&candidate.genotype).ok_or("proposed a genotype outside the space")?;
        // Ties go to the earlier trial, as the host's incumbent does.
        if best.as_ref().is_none_or(|b| valid > b.0) {
            best = Some((valid, test, candidate.genotype.clone()));
        }
        let observation = Observation { trial, proposal, status: Status::Ok, objective: valid, cost: 1.0, metrics: vec![], gradient: None };
        strategy.tell(vec![observation]).map_err(|e| e.to_string())?;
    }
    best.ok_or_else(|| "no trials".into())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("native-bench: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        return Err("usage: native-bench TABLE.jsonl TRIALS SEEDS(N or A..B) STRATEGY[:KEY=VALUE,...] ...".into());
    }
    let table = Table::load(&args[0])?;
    let trials: u64 = args[1].parse().map_err(|_| format!("TRIALS `{}` is not a number", args[1]))?;
    let seeds = seed_range(&args[2]).ok_or_else(|| format!("SEEDS `{}`: expected N or A..B with A < B", args[2]))?;
    const NAMES: [&str; 6] = ["random", "evolution", "local_search", "tpe", "bananas", "npenas"];
    if let Some(other) = args[3..].iter().map(|e| e.split_once(':').map_or(e.as_str(), |p| p.0)).find(|n| !NAMES.contains(n)) {
        return Err(format!("`{other}`: this runs {}", NAMES.join(", ")));
    }
    let mut by_valid: Vec<(f64, f64)> = table.0.values().copied().collect();
    by_valid.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (best_valid, top5) = (by_valid[0].0, by_valid[by_valid.len() / 20].0);
    println!("{} trials, seeds {}..{}; the best cell by validation: {best_valid:.4} ({:.4} test)", trials, seeds.start, seeds.end, by_valid[0].1);
    println!("{:<40} {:>24} {:>9} {:>7} {:>8}", "strategy", "test accuracy mean ± std", "at best", "stalls", "seconds");
    for entrant in &args[3..] {
        let (name, settings) = entrant.split_once(':').unwrap_or((entrant, ""));
        let settings: Vec<Setting> = settings
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                kv.split_once('=').map(|(k, v)| Setting { key: k.into(), value: v.into() }).ok_or_else(|| format!("`{entrant}`: `{kv}` is not KEY=VALUE"))
            })
            .collect::<Result<_, _>>()?;
        let started = Instant::now();
        let mut answers = vec![];
        for seed in seeds.clone() {
            let answer = match name {
                "random" => search::<random::RandomSearch>(&table, seed, trials, &settings),
                "evolution" => search::<evolution::Evolution>(&table, seed, trials, &settings),
                "local_search" => search::<local_search::LocalSearch>(&table, seed, trials, &settings),
                "tpe" => search::<tpe::TpeStrategy>(&table, seed, trials, &settings),
                "bananas" => search::<bananas::Bananas>(&table, seed, trials, &settings),
                "npenas" => search::<npenas::Npenas>(&table, seed, trials, &settings),
                _ => unreachable!("checked above"),
            };
            answers.push(answer.map_err(|e| format!("{entrant} seed {seed}: {e}"))?);
        }
        let n = answers.len() as f64;
        let mean = answers.iter().map(|a| a.1).sum::<f64>() / n;
        let std = (answers.iter().map(|a| (a.1 - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let at_best = answers.iter().filter(|a| a.0 == best_valid).count();
        let stalls = answers.iter().filter(|a| a.0 < top5).count();
        let seconds = started.elapsed().as_secs_f64();
        println!("{entrant:<40} {:>24} {:>9} {:>7} {seconds:>8.1}", format!("{mean:.4} ± {std:.4}"), format!("{at_best}/{}", answers.len()), stalls);
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
        assert_eq!(parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), None);
        assert_eq!(parse("|none~0|+|none~0|none~1|"), None);
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
