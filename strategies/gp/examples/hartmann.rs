//! GP on the 6-dimensional Hartmann function, natively, and the time per
//! `ask` as results accumulate.
//!
//! ```sh
//! cargo run --release -p nasbox-gp --example hartmann -- [SEEDS] [key=value ...]
//! ```
//!
//! Each decision is ordered with values 0, 0.1, …, 1 (11 choices, 11⁶
//! points); the objective is −f (maximised; its global maximum is 3.32237,
//! the grid's a little lower, printed). Prints the mean ± sd of the best
//! value at 50 and 100 trials over SEEDS seeds (N: 0 to N − 1, default 10;
//! or A..B), the seeds that
//! reached the grid's maximum, and the mean time per `ask`; then the time
//! per `ask` at 50, 100 and 200 results on a 10-decision space (6 ordered
//! grids, 4 categorical decisions of 5 choices). Settings as `key=value`
//! (`startup=20`, `candidates=2048`, …).

use std::time::Instant;

use gp::Gp;
use nasbox_sdk::native::Native;
use nasbox_sdk::shape::{DecisionShape, Kind, Numbers};
use nasbox_sdk::{genotype, Candidate, Decision, Observation, Proposal, RunContext, Setting, Space, Status};

const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const A: [[f64; 6]; 4] =
    [[10.0, 3.0, 17.0, 3.5, 1.7, 8.0], [0.05, 10.0, 17.0, 0.1, 8.0, 14.0], [3.0, 3.5, 1.7, 10.0, 17.0, 8.0], [17.0, 8.0, 0.05, 10.0, 0.1, 14.0]];
const P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/// −Hartmann6 at `x` in [0, 1]⁶.
fn hartmann(x: &[f64]) -> f64 {
    (0..4).map(|i| ALPHA[i] * (-(0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum::<f64>()).exp()).sum()
}

fn at(g: &[u32]) -> f64 {
    let x: Vec<f64> = g.iter().map(|&c| c as f64 / 10.0).collect();
    hartmann(&x)
}

fn grid_shape() -> DecisionShape {
    DecisionShape {
        kind: Kind::Ordered(Numbers { values: (0..11).map(|i| i as f64 / 10.0).collect(), integer: false, log: false, continuous: false }),
        conditions: vec![],
    }
}

fn space(arities: &[usize]) -> Space {
    Space {
        name: "bench".into(),
        decisions: arities.iter().enumerate().map(|(i, &a)| Decision { name: format!("x{i}"), choices: (0..a).map(|c| c.to_string()).collect() }).collect(),
    }
}

fn genotype_of(p: &Proposal) -> Vec<u32> {
    match p {
        Proposal::Genotype(Candidate { genotype, .. }) => genotype.clone(),
        Proposal::Relaxed(_) => unreachable!(),
    }
}

fn observe(trial: u64, g: Vec<u32>, y: f64) -> Observation {
    Observation { trial, proposal: genotype::propose(g), status: Status::Ok, objective: y, cost: 1.0, metrics: vec![], gradient: None }
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (m, (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let range = args.first().map(String::as_str).unwrap_or("10");
    let (first, end): (u64, u64) = match range.split_once("..") {
        Some((a, b)) => (a.parse().expect("seeds A..B"), b.parse().expect("seeds A..B")),
        None => (0, range.parse().expect("seeds N")),
    };
    let seeds = end - first;
    let settings: Vec<Setting> = args
        .iter()
        .skip(1)
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            Setting { key: k.into(), value: v.into() }
        })
        .collect();

    // The grid's maximum, by enumeration.
    let mut grid_max = f64::NEG_INFINITY;
    let mut g = [0u32; 6];
    for i in 0..11usize.pow(6) {
        let mut k = i;
        for c in g.iter_mut() {
            *c = (k % 11) as u32;
            k /= 11;
        }
        grid_max = grid_max.max(at(&g));
    }
    println!("Hartmann6 on 11-point grids: grid max {grid_max:.5} (continuous max 3.32237)");

    let context = RunContext { max_trials: Some(100), parallelism: 1 };
    let (mut at50, mut at100, mut asks, mut reached) = (vec![], vec![], 0.0, 0);
    let mut ask_time = 0.0;
    for seed in first..end {
        let mut s = Native::<Gp>::init_shaped(seed, space(&[11; 6]), vec![grid_shape(); 6], settings.clone(), context).unwrap();
        let mut best = f64::NEG_INFINITY;
        for trial in 0..100u64 {
            let t = Instant::now();
            let p = s.ask(1).unwrap();
            ask_time += t.elapsed().as_secs_f64();
            asks += 1.0;
            let g = genotype_of(&p[0]);
            let y = at(&g);
            best = best.max(y);
            s.tell(vec![observe(trial, g, y)]).unwrap();
            if trial == 49 {
                at50.push(best);
            }
        }
        at100.push(best);
        reached += (best >= grid_max - 1e-9) as usize;
        println!("  seed {seed:>2}: best {:.4} at 50, {:.4} at 100", at50.last().unwrap(), best);
    }
    let (m50, s50) = mean_sd(&at50);
    let (m100, s100) = mean_sd(&at100);
    println!("{seeds} seeds: best at 50 trials {m50:.4} ± {s50:.4}; at 100 trials {m100:.4} ± {s100:.4}; grid max reached by 100 in {reached}/{seeds}");
    println!("mean time per ask over 100 trials: {:.1} ms", 1e3 * ask_time / asks);

    // Time per ask at 50, 100, 200 results: 6 grids + 4 categorical (5).
    let mut shapes = vec![grid_shape(); 6];
    shapes.extend(vec![DecisionShape { kind: Kind::Categorical, conditions: vec![] }; 4]);
    let f = |g: &[u32]| at(&g[..6]) + 0.1 * g[6..].iter().filter(|&&c| c == 2).count() as f64;
    let mut s = Native::<Gp>::init_shaped(1, space(&[11, 11, 11, 11, 11, 11, 5, 5, 5, 5]), shapes, settings, context).unwrap();
    let mut times = vec![];
    for trial in 0..205u64 {
        let t = Instant::now();
        let p = s.ask(1).unwrap();
        let dt = t.elapsed().as_secs_f64();
        if [50, 51, 52, 100, 101, 102, 200, 201, 202].contains(&trial) {
            times.push((trial, dt));
        }
        let g = genotype_of(&p[0]);
        let y = f(&g);
        s.tell(vec![observe(trial, g, y)]).unwrap();
    }
    for n in [50u64, 100, 200] {
        let ts: Vec<f64> = times.iter().filter(|(t, _)| (n..n + 3).contains(t)).map(|(_, d)| *d).collect();
        println!("10 decisions, {n} results: {:.1} ms per ask (mean of 3)", 1e3 * ts.iter().sum::<f64>() / ts.len() as f64);
    }
}
