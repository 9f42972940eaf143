//! Shaped against all-categorical search on the 6-dimensional Hartmann
//! function (maximise −f; the maximum over [0, 1]⁶ is 3.32237), each
//! coordinate an ordered decision of 11 values 0, 0.1, …, 1 (or, with
//! `--fine`, a continuous range of 1001 values). Every strategy runs twice
//! per seed: told the shape (`Native::init_shaped`), and told nothing, so
//! that it sees 11 unrelated categories per decision.
//!
//! ```text
//! cargo run --release -p nasbox-evolution --example hartmann -- [--trials 100] [--seeds 20] [--fine] [--each] [--shaped] [ENTRANT...]
//! ```
//!
//! An entrant is a strategy name (`evolution`, `local_search`, `bananas`,
//! `npenas`, `random`, `nsga2`) with optional settings, `evolution:local=0.5`; by
//! default all five with their defaults. Prints mean ± sd (over seeds) of
//! the best value found (and with `--each`, every seed's); `--shaped` skips
//! the all-categorical runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nasbox_sdk::native::Native;
use nasbox_sdk::shape::{DecisionShape, Kind, Numbers};
use nasbox_sdk::{Decision, Observation, Proposal, RunContext, Setting, Space, Status, Strategy};

const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const A: [[f64; 6]; 4] =
    [[10.0, 3.0, 17.0, 3.5, 1.7, 8.0], [0.05, 10.0, 17.0, 0.1, 8.0, 14.0], [3.0, 3.5, 1.7, 10.0, 17.0, 8.0], [17.0, 8.0, 0.05, 10.0, 0.1, 14.0]];
const P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/// −Hartmann6: larger is better, at most 3.32237.
fn objective(x: &[f64]) -> f64 {
    (0..4).map(|i| ALPHA[i] * (-(0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum::<f64>()).exp()).sum()
}

struct Problem {
    values: Vec<f64>,
    space: Space,
    shapes: Vec<DecisionShape>,
}

impl Problem {
    fn new(fine: bool) -> Problem {
        let n = if fine { 1001 } else { 11 };
        let values: Vec<f64> = (0..n).map(|k| k as f64 / (n - 1) as f64).collect();
        let space = Space {
            name: "hartmann6".into(),
            decisions: (0..6).map(|d| Decision { name: format!("x{d}"), choices: values.iter().map(|v| format!("{v}")).collect() }).collect(),
        };
        let numbers = Numbers { values: values.clone(), integer: false, log: false, continuous: fine };
        let shapes = (0..6).map(|_| DecisionShape { kind: Kind::Ordered(numbers.clone()), conditions: vec![] }).collect();
        Problem { values, space, shapes }
    }

    fn value(&self, genotype: &[u32]) -> f64 {
        objective(&genotype.iter().map(|&c| self.values[c as usize]).collect::<Vec<_>>())
    }
}

/// The best value one search finds in `trials` trials.
fn search<S: Strategy>(problem: &Problem, shaped: bool, seed: u64, trials: u64, settings: &[Setting]) -> f64 {
    let shapes = if shaped { problem.shapes.clone() } else { vec![] };
    let context = RunContext { max_trials: Some(trials), parallelism: 1 };
    let mut s = Native::<S>::init_shaped(seed, problem.space.clone(), shapes, settings.to_vec(), context).expect("init");
    let mut best = f64::NEG_INFINITY;
    for trial in 0..trials {
        let Some(proposal) = s.ask(1).expect("ask").pop() else { break };
        let Proposal::Genotype(c) = &proposal else { panic!("relaxed proposal") };
        let y = problem.value(&c.genotype);
        best = best.max(y);
        s.tell(vec![Observation { trial, proposal, status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }]).expect("tell");
    }
    best
}

type Search = fn(&Problem, bool, u64, u64, &[Setting]) -> f64;

fn strategy(name: &str) -> Option<Search> {
    Some(match name {
        "evolution" => search::<evolution::Evolution>,
        "local_search" => search::<local_search::LocalSearch>,
        "bananas" => search::<bananas::Bananas>,
        "npenas" => search::<npenas::Npenas>,
        "random" => search::<random::RandomSearch>,
        "nsga2" => search::<nsga2::Nsga2>,
        _ => return None,
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut trials, mut seeds, mut fine, mut each, mut entrants) = (100u64, 20u64, false, false, vec![]);
    let mut modes = vec![true, false];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--trials" => trials = args.next().and_then(|v| v.parse().ok()).expect("--trials N"),
            "--seeds" => seeds = args.next().and_then(|v| v.parse().ok()).expect("--seeds N"),
            "--fine" => fine = true,
            "--each" => each = true,
            "--shaped" => modes = vec![true],
            _ => entrants.push(a),
        }
    }
    if entrants.is_empty() {
        entrants = ["evolution", "local_search", "bananas", "npenas", "random"].map(String::from).to_vec();
    }
    let problem = Problem::new(fine);
    let n = problem.values.len() as u64;
    if !fine {
        let grid_best = (0..n.pow(6))
            .map(|mut k| {
                let g: Vec<u32> = (0..6)
                    .map(|_| {
                        let c = (k % n) as u32;
                        k /= n;
                        c
                    })
                    .collect();
                problem.value(&g)
            })
            .fold(f64::NEG_INFINITY, f64::max);
        println!("hartmann6 on {n}-point grids: best grid point {grid_best:.5} (continuous maximum 3.32237)");
    } else {
        println!("hartmann6 on {n}-point continuous ranges (continuous maximum 3.32237)");
    }
    println!("{trials} trials, seeds 0..{seeds}: mean ± sd of the best value");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for label in &entrants {
        let (name, rest) = label.split_once(':').unwrap_or((label, ""));
        let run = strategy(name).unwrap_or_else(|| panic!("`{name}`: not one of evolution, local_search, bananas, npenas, random, nsga2"));
        let settings: Vec<Setting> = rest
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("KEY=VALUE");
                Setting { key: k.into(), value: v.into() }
            })
            .collect();
        for &shaped in &modes {
            let results = Mutex::new(vec![0.0; seeds as usize]);
            let next = AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= seeds as usize {
                            break;
                        }
                        let best = run(&problem, shaped, i as u64, trials, &settings);
                        results.lock().unwrap()[i] = best;
                    });
                }
            });
            let r = results.into_inner().unwrap();
            let mean = r.iter().sum::<f64>() / r.len() as f64;
            let sd = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r.len() as f64 - 1.0).max(1.0)).sqrt();
            println!("{label:40} {:12} {mean:.3} ± {sd:.3}", if shaped { "shaped" } else { "categorical" });
            if each {
                println!("    {}", r.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" "));
            }
        }
    }
}
