//! The built-in strategy library, end to end in the sandbox: conformance on
//! every space, asynchronous use, determinism across processes, and whether
//! the model-based strategies actually beat random search.

mod support;

use std::collections::HashMap;

use nasbox::report::stats::{mann_whitney_u, mean_std, Alternative};
use nasbox::space::{self, Space};
use nasbox::strategy::{check, Candidate, Limits, Observation, Plugin, Proposal, RunContext, Status};
use support::{engine, guest, nasbox, path};

/// Every built-in strategy component, and the SDK example.
const STRATEGIES: &[&str] =
    &["random", "grid", "evolution", "local_search", "tpe", "gp", "hyperband", "bohb", "reinforce", "darts", "gdas", "bananas", "npenas", "nsga2", "mutator"];

#[test]
fn every_strategy_passes_the_check_on_every_space() {
    let mut failures = vec![];
    for name in STRATEGIES {
        let loaded = engine().load(&guest(name)).unwrap();
        for space_name in space::builtin_names() {
            let mut opts = check::Options::new(space::builtin(space_name).unwrap());
            opts.seed = 3;
            let report = check::run(&loaded, &opts);
            for v in report.violations() {
                failures.push(format!("{name} on {space_name}: {}: {:?}", v.check, v.result));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// nsga2 with objectives (the check's results carry `params`) passes the
/// check on every space, as it does with its defaults above.
#[test]
fn nsga2_with_objectives_passes_the_check_on_every_space() {
    let loaded = engine().load(&guest("nsga2")).unwrap();
    let mut failures = vec![];
    for space_name in space::builtin_names() {
        let mut opts = check::Options::new(space::builtin(space_name).unwrap());
        opts.seed = 5;
        opts.settings = vec![("objectives".into(), "accuracy,-params".into()), ("population".into(), "4".into())];
        let report = check::run(&loaded, &opts);
        assert!(report.outcomes.len() >= 5, "{space_name}: {:?}", report.outcomes);
        for v in report.violations() {
            failures.push(format!("nsga2 on {space_name}: {}: {:?}", v.check, v.result));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_strategy_copes_with_many_pending_and_shuffled_results() {
    let space = space::builtin("wide").unwrap();
    for name in STRATEGIES {
        let mut p = Plugin::load(engine(), &guest(name), 1, Limits::default()).unwrap();
        p.init(&space, &[], RunContext { max_trials: None, parallelism: 16 }).unwrap();
        let mut trial = 0u64;
        let mut pending: Vec<Observation> = vec![];
        for round in 0..4 {
            for proposal in p.ask(16).unwrap_or_else(|e| panic!("{e}")) {
                pending.push(synthetic(&space, trial, proposal));
                trial += 1;
            }
            // Tell a scattered half now, keep the rest pending into the next round.
            pending.reverse();
            let keep = pending.split_off(pending.len() / 2);
            let mut now = std::mem::replace(&mut pending, keep);
            let shift = (round + 1) % now.len().max(1);
            now.rotate_left(shift);
            p.tell(&now).unwrap_or_else(|e| panic!("{e}"));
        }
        p.tell(&pending).unwrap_or_else(|e| panic!("{e}"));
        p.recommend().unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_strategy_gives_the_same_search_in_two_processes() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in STRATEGIES {
        let transcript = |run: &str| {
            let file = dir.path().join(format!("{name}-{run}.jsonl"));
            let wasm = guest(name);
            let args = ["strategy", "check", path(&wasm), "--space", "wide", "--seed", "17", "--transcript"];
            let o = nasbox(cache.path(), &[&args[..], &[path(&file)]].concat());
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stdout));
            std::fs::read_to_string(file).unwrap()
        };
        assert_eq!(transcript("a"), transcript("b"), "{name} differs between processes with the same seed");
    }
}

/// A fixed benchmark table over the nb201 space, computed instead of trained:
/// convolutions help, `none` hurts, a cell whose output has no input
/// collapses, two stacked 3x3 convolutions help more than their parts, and
/// every architecture gets a fixed pseudo-random "training noise".
fn table_accuracy(g: &[u32]) -> f64 {
    const QUALITY: [f64; 5] = [0.0, 0.45, 0.7, 1.0, 0.3];
    const WEIGHT: [f64; 6] = [1.0, 0.6, 0.9, 0.5, 0.8, 1.2];
    if g[3] == 0 && g[4] == 0 && g[5] == 0 {
        return 0.10;
    }
    let score: f64 = g.iter().zip(WEIGHT).map(|(&c, w)| w * QUALITY[c as usize]).sum::<f64>() / WEIGHT.iter().sum::<f64>();
    let stacked = if g[0] == 3 && g[4] == 3 { 0.03 } else { 0.0 };
    let mut h = g.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ c as u64).wrapping_mul(0x1000_0000_01b3));
    h ^= h >> 29;
    let noise = (h % 1000) as f64 / 1000.0 * 0.02 - 0.01;
    0.15 + 0.75 * score + stacked + noise
}

fn synthetic(space: &Space, trial: u64, proposal: Proposal) -> Observation {
    let objective = match &proposal {
        Proposal::Genotype(Candidate { genotype, fidelity }) => {
            let base = if space.decisions.len() == 6 { table_accuracy(genotype) } else { 0.5 };
            base * (0.6 + 0.4 * fidelity.unwrap_or(1.0))
        }
        Proposal::Relaxed(_) => 0.5,
    };
    // A relaxed proposal is answered as the supernet estimator answers it:
    // with the gradient of a loss for its weights (here, each option's index).
    let gradient = match &proposal {
        Proposal::Relaxed(w) => Some(w.iter().map(|v| (0..v.len()).map(|k| k as f64).collect()).collect()),
        Proposal::Genotype(_) => None,
    };
    Observation { trial, proposal, status: Status::Ok, objective, cost: 1.0, metrics: vec![], gradient }
}

/// Best table accuracy found by `name` within `trials` trials, asking in
/// batches of 2 so that one result is always pending.
fn best_found(name: &str, settings: &[(&str, &str)], seed: u64, trials: usize) -> f64 {
    let space = space::builtin("nb201").unwrap();
    let settings: Vec<(String, String)> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut p = Plugin::load(engine(), &guest(name), seed, Limits::default()).unwrap();
    p.init(&space, &settings, RunContext { max_trials: Some(trials as u64), parallelism: 2 }).unwrap();
    let mut best = f64::NEG_INFINITY;
    let mut trial = 0u64;
    let mut pending: Vec<Observation> = vec![];
    while (trial as usize) < trials {
        let asked = p.ask(2.min((trials - trial as usize) as u32)).unwrap();
        let waiting = asked.is_empty();
        for proposal in asked {
            let o = synthetic(&space, trial, proposal);
            best = best.max(o.objective);
            pending.push(o);
            trial += 1;
        }
        if pending.is_empty() {
            break; // exhausted
        }
        // Tell the older results and keep the newest pending, unless the
        // strategy is waiting for results: then tell everything.
        let newest = if waiting { None } else { pending.pop() };
        p.tell(&pending).unwrap();
        pending = newest.into_iter().collect();
    }
    best
}

#[test]
fn evolution_tpe_and_local_search_beat_random_search_over_20_seeds() {
    const SEEDS: u64 = 20;
    const TRIALS: usize = 100;
    let runs: Vec<(&str, Vec<(&str, &str)>)> =
        vec![("random", vec![]), ("evolution", vec![("population", "20"), ("sample", "5")]), ("tpe", vec![]), ("local_search", vec![])];
    let results: HashMap<&str, Vec<f64>> =
        runs.iter().map(|(name, settings)| (*name, (0..SEEDS).map(|seed| best_found(name, settings, seed, TRIALS)).collect())).collect();
    let random = &results["random"];
    let mut report = vec![];
    for (name, _) in &runs[1..] {
        let r = mann_whitney_u(&results[name], random, Alternative::Greater);
        let (m, s) = mean_std(&results[name]);
        let (mr, sr) = mean_std(random);
        report.push(format!("{name}: {m:.4}±{s:.4} vs random {mr:.4}±{sr:.4}, U={}, p={:.2e}", r.u, r.p));
        // Three comparisons: Bonferroni at 5% family-wise.
        assert!(r.p < 0.05 / 3.0, "{name} does not beat random search:\n{}", report.join("\n"));
        assert!(m > mr, "{}", report.join("\n"));
    }
    eprintln!("{}", report.join("\n"));
}

/// The predictor-based strategies train networks inside the guest at every
/// `ask`; with their defaults that must fit the default fuel per call with
/// a quarter to spare, on every space, at the trial counts NAS benchmarks use.
/// Fuel counts WebAssembly instructions, so these numbers are the same on
/// every machine.
#[test]
fn predictor_strategies_fit_the_default_fuel_at_150_trials() {
    const TRIALS: u64 = 150;
    let limit = Limits::default().fuel;
    let mut report = vec![];
    for name in ["bananas", "npenas"] {
        for space_name in ["nb201", "wide", "darts", "chain"] {
            let space = space::builtin(space_name).unwrap();
            let mut p = Plugin::load(engine(), &guest(name), 5, Limits::default()).unwrap();
            p.init(&space, &[], RunContext { max_trials: Some(TRIALS), parallelism: 1 }).unwrap();
            let (mut ask, mut tell) = (0u64, 0u64);
            for trial in 0..TRIALS {
                let proposal = p.ask(1).unwrap_or_else(|e| panic!("{name} on {space_name}, trial {trial}: {e}")).pop().unwrap();
                ask = ask.max(p.fuel_used_last_call());
                p.tell(&[synthetic(&space, trial, proposal)]).unwrap();
                tell = tell.max(p.fuel_used_last_call());
            }
            report.push(format!("{name} on {space_name}: most fuel per ask {ask}, per tell {tell} (limit {limit})"));
            assert!(ask < limit * 3 / 4 && tell < limit / 100, "{}", report.join("\n"));
        }
    }
    eprintln!("{}", report.join("\n"));
}

/// Predictor-based search on the fixed table: how often the best
/// architecture of all 15,625 is found within 60 trials, over 10 seeds,
/// against random search (which finds one given architecture in 60 draws
/// with probability 0.4%). Measured: bananas 9, npenas 9, random 0.
#[test]
fn predictor_strategies_find_the_table_optimum_more_often_than_random() {
    const SEEDS: u64 = 10;
    const TRIALS: usize = 60;
    let optimum =
        (0..15_625u32).map(|i| (0..6).map(|d| (i / 5u32.pow(d)) % 5).collect::<Vec<u32>>()).map(|g| table_accuracy(&g)).fold(f64::NEG_INFINITY, f64::max);
    let hits = |name: &str| (0..SEEDS).filter(|&seed| best_found(name, &[], seed, TRIALS) == optimum).count();
    let random = hits("random");
    let report: Vec<(&str, usize)> = ["bananas", "npenas"].into_iter().map(|name| (name, hits(name))).collect();
    let message = format!("optimum {optimum:.4} found within {TRIALS} trials, of {SEEDS} seeds: random {random}, {report:?}");
    for (_, found) in &report {
        assert!(*found >= 6 && random <= 1, "{message}");
    }
    eprintln!("{message}");
}

/// The first 30 genotypes `tests/data/contract-0-1-1/tpe.wasm` proposes on
/// nb201 with seed 11, answered by [`best_found`]'s protocol: pinned when
/// contract 0.1.2 landed, so a host change that alters what a 0.1.1
/// strategy sees (its space, its random stream, its calls) shows here.
const TPE_0_1_1_SEARCH: &[[u32; 6]] = &[
    [1, 0, 1, 2, 1, 4],
    [1, 1, 4, 0, 1, 4],
    [1, 0, 4, 0, 0, 0],
    [1, 3, 1, 1, 4, 1],
    [0, 2, 0, 2, 3, 1],
    [0, 3, 1, 2, 2, 1],
    [2, 3, 0, 2, 0, 2],
    [4, 1, 1, 2, 0, 0],
    [1, 0, 4, 0, 3, 3],
    [0, 2, 4, 3, 4, 0],
    [2, 3, 0, 4, 3, 3],
    [2, 3, 4, 4, 3, 3],
    [2, 4, 4, 4, 3, 3],
    [2, 4, 0, 4, 3, 3],
    [2, 4, 3, 4, 3, 3],
    [2, 3, 3, 4, 3, 3],
    [2, 3, 3, 4, 3, 2],
    [2, 4, 3, 4, 3, 2],
    [3, 4, 3, 4, 3, 3],
    [3, 3, 3, 4, 3, 3],
    [3, 3, 3, 4, 3, 2],
    [3, 4, 3, 4, 3, 2],
    [3, 2, 3, 4, 3, 2],
    [3, 2, 3, 4, 3, 3],
    [3, 3, 3, 4, 2, 2],
    [3, 3, 2, 4, 3, 3],
    [3, 2, 3, 4, 4, 3],
    [3, 3, 3, 3, 3, 3],
    [3, 1, 2, 4, 3, 3],
    [3, 4, 2, 4, 3, 3],
];

#[test]
fn a_strategy_built_against_contract_0_1_1_loads_and_searches_as_before() {
    let old = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/contract-0-1-1/tpe.wasm");
    let loaded = engine().load(&old).unwrap();
    assert!(loaded.imports.iter().any(|i| i == "nasbox:strategy/random@0.1.1"), "{:?}", loaded.imports);
    assert!(!loaded.imports.iter().any(|i| i.contains("shape")), "{:?}", loaded.imports);
    let space = space::builtin("nb201").unwrap();
    let mut p = Plugin::load(engine(), &old, 11, Limits::default()).unwrap();
    p.init(&space, &[], RunContext { max_trials: Some(30), parallelism: 1 }).unwrap();
    let mut proposed = vec![];
    for trial in 0..30u64 {
        let proposal = p.ask(1).unwrap().pop().unwrap();
        let Proposal::Genotype(c) = &proposal else { panic!("{proposal:?}") };
        proposed.push(c.genotype.clone());
        p.tell(&[synthetic(&space, trial, proposal)]).unwrap();
    }
    let pinned: Vec<Vec<u32>> = TPE_0_1_1_SEARCH.iter().map(|g| g.to_vec()).collect();
    assert_eq!(proposed, pinned, "the 0.1.1 component's search changed");
    // On an ordered space it still sees plain choices and proposes in range.
    let hp = space::builtin("nb201+hp").unwrap();
    let mut p = Plugin::load(engine(), &old, 3, Limits::default()).unwrap();
    p.init(&hp, &[], RunContext { max_trials: None, parallelism: 1 }).unwrap();
    for proposal in p.ask(5).unwrap() {
        let Proposal::Genotype(c) = proposal else { panic!() };
        hp.validate(&c.genotype).unwrap();
    }
}

/// `gp` in the sandbox, where its linear algebra runs on WebAssembly SIMD
/// (`strategies/gp/src/linalg.rs`), against random search on a smooth
/// function of two 21-point grids peaked off the centre: within 25 trials it
/// lands on the peak in most seeds, where random search lands on one given
/// point of 441 with probability 5.5%. A GP whose factorisation or variances
/// were wrong in the sandbox alone (the native unit tests cannot see it)
/// would stop finding it. Measured: 10 of 10 seeds.
#[test]
fn gp_in_the_sandbox_finds_the_peak_of_a_smooth_function() {
    let grid: Vec<String> = (0..21).map(|i| format!("{}", i as f64 / 20.0)).collect();
    let toml = format!("[decisions]\nx = [{0}]\ny = [{0}]\n", grid.join(", "));
    let spec = nasbox::space::decisions::DecisionSpec::from_text(&toml, "peak").unwrap();
    let space = spec.space();
    let value = |g: &[u32]| {
        let (x, y) = (g[0] as f64 / 20.0, g[1] as f64 / 20.0);
        -((x - 0.7).powi(2) + 2.0 * (y - 0.25).powi(2))
    };
    let peak = value(&[14, 5]);
    let mut hits = 0;
    for seed in 0..10 {
        let mut p = Plugin::load(engine(), &guest("gp"), seed, Limits::default()).unwrap();
        p.init(&space, &[], RunContext { max_trials: Some(25), parallelism: 1 }).unwrap();
        let mut best = f64::NEG_INFINITY;
        for trial in 0..25 {
            let proposal = p.ask(1).unwrap().pop().unwrap();
            let Proposal::Genotype(Candidate { genotype, .. }) = &proposal else { panic!("gp proposed relaxed weights") };
            let objective = value(genotype);
            best = best.max(objective);
            p.tell(&[Observation { trial, proposal, status: Status::Ok, objective, cost: 1.0, metrics: vec![], gradient: None }]).unwrap();
        }
        hits += usize::from(best == peak);
    }
    assert!(hits >= 8, "gp reached the peak in {hits} of 10 seeds");
}
