//! What running trials through Slurm costs: the same short training search
//! (8 trials of a small nb201 network, 2 epochs) on local workers with one
//! slot, on the local single-node Slurm with one slot and with two, the
//! three alternated and repeated. Reports trials per hour and, for Slurm,
//! the per-trial overhead: submission to the worker's start (queueing,
//! scheduling, job launch) plus the worker's end to the result collected
//! by the coordinator (the squeue poll).
//!
//!     scripts/slurm-local up && cargo bench -p nasbox --bench slurm

mod common;

use std::path::Path;
use std::process::Command;

use nasbox::run::journal::Journal;

const TRIALS: usize = 8;
const REPEATS: usize = 2;

fn main() -> anyhow::Result<()> {
    let up = Command::new("sinfo")
        .args(["--noheader", "--format=%t"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle"));
    if !up {
        println!("no idle Slurm node here: start one with scripts/slurm-local up");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!("estimator = \"train\"\nbudget = \"trials={TRIALS}\"\nseed = 1\n\n[slurm]\npoll_seconds = 1.0\n\n[train]\nepochs = 2\ndata_fraction = 0.1\nchannels = 4\ncells = 1\nthreads = 1\n"),
    )?;
    let setups = [("local", "1"), ("slurm", "1"), ("slurm", "2")];
    let mut rates: Vec<Vec<f64>> = vec![vec![]; setups.len()];
    let mut overheads: Vec<Vec<f64>> = vec![vec![]; setups.len()];
    let mut queue: Vec<f64> = vec![];
    let mut collect: Vec<f64> = vec![];
    for round in 0..REPEATS {
        for (k, (executor, workers)) in setups.iter().enumerate() {
            let out = dir.path().join(format!("{executor}-{workers}-{round}"));
            let o = Command::new(env!("CARGO_BIN_EXE_nasbox"))
                .args([
                    "search",
                    "--strategy",
                    "random",
                    "--config",
                    config.to_str().unwrap(),
                    "--executor",
                    executor,
                    "--workers",
                    workers,
                    "--out",
                    out.to_str().unwrap(),
                ])
                .output()?;
            anyhow::ensure!(o.status.success(), "{executor} x{workers}: {}", String::from_utf8_lossy(&o.stderr));
            let (seconds, per_trial) = read(&out)?;
            rates[k].push(TRIALS as f64 / seconds * 3600.0);
            for (q, c) in per_trial {
                overheads[k].push(q + c);
                if *executor == "slurm" {
                    queue.push(q);
                    collect.push(c);
                }
            }
        }
    }
    println!("{TRIALS} training trials per run, {REPEATS} runs each, alternated; medians:");
    println!("| executor | slots | trials/hour | overhead per trial (s) |");
    println!("|---|---|---|---|");
    for (k, (executor, workers)) in setups.iter().enumerate() {
        let overhead = if *executor == "slurm" { format!("{:.2}", common::median(overheads[k].clone())) } else { "-".into() };
        println!("| {executor} | {workers} | {:.0} | {overhead} |", common::median(rates[k].clone()));
    }
    println!(
        "Slurm overhead split: submit → worker start {:.2} s, worker end → result collected {:.2} s (median over {} trials)",
        common::median(queue.clone()),
        common::median(collect.clone()),
        queue.len()
    );
    println!(
        "ratios: slurm x1 / local x1 = {:.2}, slurm x2 / slurm x1 = {:.2}",
        common::median(rates[1].clone()) / common::median(rates[0].clone()),
        common::median(rates[2].clone()) / common::median(rates[1].clone())
    );
    Ok(())
}

/// A run's wall time and, per trial, (submit → start, end → collected).
fn read(dir: &Path) -> anyhow::Result<(f64, Vec<(f64, f64)>)> {
    let journal = Journal::open(&dir.join("journal.sqlite"))?;
    let seconds = journal.manifest("elapsed")?.and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    let metric = |m: &[(String, f64)], name: &str| m.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let per_trial =
        journal.trials()?.iter().filter_map(|t| Some((metric(&t.metrics, "slurm-queue-seconds")?, metric(&t.metrics, "slurm-collect-seconds")?))).collect();
    Ok((seconds, per_trial))
}
