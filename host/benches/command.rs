//! The fixed cost of a command-estimator trial against a built-in training
//! trial (issue 15), through the real search loop (strategy, local worker,
//! journal), one trial at a time, rounds of each kind interleaved so both
//! see the same machine:
//! - command: a script that only reports (a progress line, then its result),
//!   stamping when it started and when it wrote the result, so a trial splits
//!   into process start (trial start → script start: the `nasbox worker`
//!   and the shell), the script itself, and result → journal (result written →
//!   the search has it committed);
//! - built-in: `nasbox worker` training a 2-channel nb201 cell for one
//!   epoch on 1% of the synthetic data, i.e. almost all fixed cost (process
//!   start, libtorch, data generation, building the network, validation).
//!
//!     cargo bench -p nasbox --bench command     (after scripts/build-strategies)

mod common;
#[path = "../../tests/support/mod.rs"]
mod support;

use common::{median, unix_now as now};

use std::time::Instant;

use nasbox::estimate::command::CommandJob;
use nasbox::estimate::train::TrainJob;
use nasbox::run::executor::Workers;
use nasbox::run::search::{Event, Search};
use nasbox::run::{CommandOptions, RunConfig, TrainOptions};
use nasbox::strategy::{Limits, Plugin};

const TRIALS: usize = 6;
const ROUNDS: usize = 3;

/// When one trial started and when its result was journaled, with its metrics.
struct Timed {
    start: f64,
    journaled: f64,
    metrics: Vec<(String, f64)>,
}

/// One search of `TRIALS` trials, timed per trial.
fn search(dir: &std::path::Path, config: RunConfig, job: TrainJob) -> anyhow::Result<Vec<Timed>> {
    let wasm = support::guest("random");
    let plugin = Plugin::load(support::engine(), &wasm, 0, Limits::default())?;
    let mut s = Search::start(dir, config, plugin, &wasm, "bench")?;
    let mut executor = Workers::new(job, 1, None, None, dir.join("trials"))?.with_worker_binary(std::path::Path::new(env!("CARGO_BIN_EXE_nasbox")));
    let mut out = vec![];
    let mut start = now();
    s.run(&mut executor, vec![], &mut |e| {
        if let Event::Finished { trial, .. } = e {
            let journaled = now();
            out.push(Timed { start, journaled, metrics: trial.metrics.clone() });
            // One worker: the next trial starts once this one is recorded.
            start = journaled;
        }
    })?;
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let space = dir.path().join("space.toml");
    std::fs::write(&space, "[decisions]\na = [0, 1, 2, 3, 4, 5, 6, 7]\nb = [0, 1, 2, 3, 4, 5, 6, 7]\n")?;
    let script = dir.path().join("stamp.sh");
    std::fs::write(
        &script,
        "s=$(date +%s.%N)\necho '{\"epoch\": 1, \"objective\": 0.5}'\ne=$(date +%s.%N)\necho \"{\\\"objective\\\": 0.5, \\\"metrics\\\": {\\\"s\\\": $s, \\\"e\\\": $e}}\" > \"$NASBOX_RESULT_FILE\"\n",
    )?;
    let train = TrainOptions { epochs: 1, data_fraction: 0.01, channels: Some(2), cells: Some(1), threads: Some(1), ..TrainOptions::default() };
    let (mut start_cost, mut own, mut to_journal, mut command_total, mut builtin_total) = (vec![], vec![], vec![], vec![], vec![]);
    let began = Instant::now();
    for round in 0..ROUNDS {
        let run = format!("sh {}", script.display());
        let config = RunConfig {
            space: space.display().to_string(),
            estimator: "command".into(),
            budget: format!("trials={TRIALS}"),
            workers: 1,
            command: CommandOptions { run: run.clone(), dir: Some(dir.path().to_path_buf()) },
            ..RunConfig::default()
        };
        let job = TrainJob {
            space: config.space.clone(),
            command: Some(CommandJob { run, dir: dir.path().to_path_buf(), trial: 0, trial_dir: Default::default() }),
            ..common::synthetic_job(&train)
        };
        for Timed { start: t0, journaled, metrics } in search(&dir.path().join(format!("command-{round}")), config, job)? {
            let m = |k: &str| metrics.iter().find(|(n, _)| n == k).map(|(_, v)| *v).expect("stamped");
            start_cost.push(m("s") - t0);
            own.push(m("e") - m("s"));
            to_journal.push(journaled - m("e"));
            command_total.push(journaled - t0);
        }
        let config = RunConfig { budget: format!("trials={TRIALS}"), workers: 1, train: train.clone(), ..RunConfig::default() };
        let job = common::synthetic_job(&train);
        for Timed { start: t0, journaled, .. } in search(&dir.path().join(format!("builtin-{round}")), config, job)? {
            builtin_total.push(journaled - t0);
        }
    }
    println!("{} trials of each kind, {ROUNDS} interleaved rounds, {:.0} s; medians per trial:", command_total.len(), began.elapsed().as_secs_f64());
    println!();
    println!("| per trial | seconds |");
    println!("|---|---|");
    println!("| command: trial start → script running (nasbox worker + sh) | {:.3} |", median(start_cost));
    println!("| command: the script itself (one progress line, the result) | {:.3} |", median(own));
    println!("| command: result written → committed to the journal | {:.3} |", median(to_journal));
    let first = command_total.iter().step_by(TRIALS).sum::<f64>() / ROUNDS as f64;
    let c = median(command_total);
    let b = median(builtin_total);
    println!("| command: whole trial | {c:.3} |");
    println!("| command: a worker's first trial (it starts the worker) | {first:.3} |");
    println!("| built-in training trial with almost no training | {b:.3} |");
    println!("| ratio command / built-in | {:.2} |", c / b);
    Ok(())
}
