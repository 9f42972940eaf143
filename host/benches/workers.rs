//! The fixed cost of a built-in training trial (issue 16): everything in a
//! trial's wall time (trial start → result committed to the journal) but
//! the trainer's own time (`train-seconds`: training, validation, latency).
//! A fresh `nasbox worker` per trial (`worker_trials = 1`, how every trial
//! ran before) against persistent workers (the default), through the real
//! search loop, one trial at a time, rounds of each interleaved so both see
//! the same machine. The trials are tiny (nb201, 2 channels, 1 epoch on 1%
//! of the synthetic data) so that the fixed cost is most of them; each
//! search is 25 trials, what one persistent worker serves by default.
//!
//!     cargo bench -p nasbox --bench workers     (after scripts/build-strategies)

mod common;
#[path = "../../tests/support/mod.rs"]
mod support;

use common::{median, unix_now as now};

use std::time::Instant;

use nasbox::run::executor::Workers;
use nasbox::run::search::{Event, Search};
use nasbox::run::{RunConfig, TrainOptions};
use nasbox::strategy::{Limits, Plugin};

const TRIALS: usize = 25;
const ROUNDS: usize = 2;

/// Per trial of one search: (wall seconds, train-seconds).
fn search(dir: &std::path::Path, worker_trials: usize, train: &TrainOptions) -> anyhow::Result<Vec<(f64, f64)>> {
    let wasm = support::guest("random");
    let plugin = Plugin::load(support::engine(), &wasm, 0, Limits::default())?;
    let config = RunConfig { budget: format!("trials={TRIALS}"), workers: 1, worker_trials, train: train.clone(), ..RunConfig::default() };
    let job = common::synthetic_job(train);
    let mut s = Search::start(dir, config, plugin, &wasm, "bench")?;
    let mut executor = Workers::new(job, 1, None, None, dir.join("trials"))?
        .with_worker_trials(worker_trials)
        .with_worker_binary(std::path::Path::new(env!("CARGO_BIN_EXE_nasbox")));
    let mut out = vec![];
    let mut start = now();
    s.run(&mut executor, vec![], &mut |e| {
        if let Event::Finished { trial, .. } = e {
            let journaled = now();
            let train = trial.metrics.iter().find(|(k, _)| k == "train-seconds").map_or(f64::NAN, |(_, v)| *v);
            out.push((journaled - start, train));
            // One worker: the next trial starts once this one is recorded.
            start = journaled;
        }
    })?;
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let train = TrainOptions { epochs: 1, data_fraction: 0.01, channels: Some(2), cells: Some(1), threads: Some(1), ..TrainOptions::default() };
    let (mut fresh, mut persistent) = (vec![], vec![]);
    let began = Instant::now();
    for round in 0..ROUNDS {
        fresh.extend(search(&dir.path().join(format!("fresh-{round}")), 1, &train)?);
        persistent.extend(search(&dir.path().join(format!("persistent-{round}")), nasbox::run::executor::local::WORKER_TRIALS, &train)?);
    }
    let overhead = |v: &[(f64, f64)]| median(v.iter().map(|(w, t)| w - t).collect());
    // The mean counts each worker's start, spread over the trials it serves.
    let mean = |v: &[(f64, f64)]| v.iter().map(|(w, t)| w - t).sum::<f64>() / v.len() as f64;
    let wall = |v: &[(f64, f64)]| median(v.iter().map(|(w, _)| *w).collect());
    let trainer = |v: &[(f64, f64)]| median(v.iter().map(|(_, t)| *t).collect());
    println!("{} trials of each kind, {ROUNDS} interleaved rounds, {:.0} s; medians per trial:", fresh.len(), began.elapsed().as_secs_f64());
    println!();
    println!("| workers | whole trial, s | trainer's own time, s | fixed cost (the rest), s | fixed cost, mean over all trials, s |");
    println!("|---|---|---|---|---|");
    println!(
        "| a fresh process per trial (`worker_trials = 1`) | {:.3} | {:.3} | {:.3} | {:.3} |",
        wall(&fresh),
        trainer(&fresh),
        overhead(&fresh),
        mean(&fresh)
    );
    println!(
        "| persistent (`worker_trials = {}`) | {:.3} | {:.3} | {:.3} | {:.3} |",
        nasbox::run::executor::local::WORKER_TRIALS,
        wall(&persistent),
        trainer(&persistent),
        overhead(&persistent),
        mean(&persistent)
    );
    println!("| ratio persistent / fresh | | | {:.3} | {:.3} |", overhead(&persistent) / overhead(&fresh), mean(&persistent) / mean(&fresh));
    Ok(())
}
