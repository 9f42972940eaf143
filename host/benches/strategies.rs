//! Per strategy: what one trial's ask(1)+tell(1) costs in the sandbox and
//! natively (the same crate through `nasbox_sdk::native`), on the nb201
//! space, measured side by side in one run.
//!
//! `cargo bench --bench strategies` (after `scripts/build-strategies`). Each
//! repetition starts fresh instances on both sides and runs TRIALS trials
//! against a fixed synthetic objective, so the cost includes the strategy's
//! state growing over a search of realistic length; instantiation is not
//! timed. Medians over REPS, sides alternated.

use std::time::{Duration, Instant};

mod common;

use common::{median, sdk_space, target_dir};
use nasbox::space;
use nasbox::strategy::{self as host, CachePolicy, Engine, Limits, Plugin};
use nasbox_sdk::{native::Native, Strategy};

const REPS: usize = 7;
const TRIALS: u64 = 200;

fn objective(g: &[u32]) -> f64 {
    g.iter().enumerate().map(|(i, &c)| if c as usize == (i * 3 + 1) % 5 { 0.15 } else { 0.0 }).sum::<f64>() + 0.05
}

fn native<S: Strategy>(space: &nasbox_sdk::Space, seed: u64) -> Duration {
    let ctx = nasbox_sdk::RunContext { max_trials: Some(TRIALS), parallelism: 1 };
    let mut s = Native::<S>::init(seed, space.clone(), vec![], ctx).unwrap();
    let t = Instant::now();
    for trial in 0..TRIALS {
        let Some(p) = s.ask(1).unwrap().pop() else { break };
        let y = match &p {
            nasbox_sdk::Proposal::Genotype(c) => objective(&c.genotype) * c.fidelity.unwrap_or(1.0),
            nasbox_sdk::Proposal::Relaxed(_) => 0.0,
        };
        let o = nasbox_sdk::Observation { trial, proposal: p, status: nasbox_sdk::Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None };
        s.tell(vec![o]).unwrap();
    }
    t.elapsed()
}

fn sandboxed(loaded: &host::Loaded, space: &space::Space, seed: u64) -> Duration {
    let mut p = Plugin::instantiate(loaded, seed, Limits::default()).unwrap();
    p.init(space, &[], host::RunContext { max_trials: Some(TRIALS), parallelism: 1 }).unwrap();
    let t = Instant::now();
    for trial in 0..TRIALS {
        let Some(proposal) = p.ask(1).unwrap().pop() else { break };
        let y = match &proposal {
            host::Proposal::Genotype(c) => objective(&c.genotype) * c.fidelity.unwrap_or(1.0),
            host::Proposal::Relaxed(_) => 0.0,
        };
        let o = host::Observation { trial, proposal, status: host::Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None };
        p.tell(&[o]).unwrap();
    }
    t.elapsed()
}

fn main() {
    let target = target_dir();
    let wasm = |name: &str| target.join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    let space = space::builtin("nb201").unwrap();
    let sdk = sdk_space(&space);
    let cache = tempfile::tempdir().unwrap();
    let engine = Engine::new(CachePolicy::Dir(cache.path().to_path_buf())).unwrap();

    type NativeRun = fn(&nasbox_sdk::Space, u64) -> Duration;
    let strategies: Vec<(&str, NativeRun)> = vec![
        ("random", native::<random::RandomSearch>),
        ("grid", native::<grid::Grid>),
        ("evolution", native::<evolution::Evolution>),
        ("local_search", native::<local_search::LocalSearch>),
        ("tpe", native::<tpe::TpeStrategy>),
        ("hyperband", native::<hyperband::HyperbandStrategy>),
        ("bohb", native::<bohb::Bohb>),
        ("reinforce", native::<reinforce::Reinforce>),
    ];
    println!("ask(1)+tell(1) per trial on nb201 (6 decisions x 5 ops), {TRIALS}-trial searches, median of {REPS}\n");
    println!("| strategy | native µs/trial | sandbox µs/trial | ratio |");
    println!("|---|---|---|---|");
    for (name, native_run) in strategies {
        let path = wasm(name);
        assert!(path.exists(), "{} missing: run scripts/build-strategies first", path.display());
        let loaded = engine.load(&path).unwrap();
        let (mut n, mut s) = (vec![], vec![]);
        for rep in 0..REPS as u64 {
            n.push(native_run(&sdk, rep).as_secs_f64() * 1e6 / TRIALS as f64);
            s.push(sandboxed(&loaded, &space, rep).as_secs_f64() * 1e6 / TRIALS as f64);
        }
        let (n, s) = (median(n), median(s));
        println!("| {name} | {n:.1} | {s:.1} | {:.1}x |", s / n);
    }
}
