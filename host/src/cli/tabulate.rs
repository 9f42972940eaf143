//! `nasbox tabulate`: trains every architecture of a space (or a seeded
//! sample) at one or more epoch budgets into a benchmark table, so
//! strategies can then be compared in seconds with `nasbox bench`. Each
//! budget is an ordinary search run (grid or random strategy, training
//! estimator, test accuracy recorded): parallel with `--workers`, and
//! resumable by running the same command again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use nasbox::estimate::train::{TrainJob, TrainOptions};
use nasbox::run::executor::Workers;
use nasbox::run::journal::{Journal, TrialStatus};
use nasbox::run::search::{Search, JOURNAL};
use nasbox::run::{find_strategy, RunConfig};
use nasbox::space::SearchSpace;
use nasbox::strategy::{Engine, Limits, Plugin};

#[derive(Args, Debug)]
pub struct TabulateArgs {
    /// nb201, darts, chain, or a chain space's FILE.toml.
    #[arg(long, default_value = "nb201")]
    space: String,
    /// synthetic, cifar10:DIR, cifar100:DIR, mnist:DIR, fashion-mnist:DIR or folder:DIR.
    #[arg(long, default_value = "synthetic")]
    dataset: String,
    /// Epoch budgets, e.g. 4,12: one table fidelity each (budget / largest).
    #[arg(long, value_delimiter = ',', required = true)]
    epochs: Vec<usize>,
    /// Train a seeded random sample of N architectures instead of all.
    #[arg(long)]
    sample: Option<u64>,
    /// Skeleton size (nb201, darts).
    #[arg(long)]
    channels: Option<i64>,
    /// Cells: per stage for nb201, in all for darts.
    #[arg(long)]
    cells: Option<usize>,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Fraction of the training set used (for quick tables).
    #[arg(long, default_value_t = 1.0)]
    data_fraction: f64,
    /// Seed of the trainings and of --sample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Trainings at once.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Where the runs and table.jsonl go.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: TabulateArgs, engine: &Engine) -> anyhow::Result<ExitCode> {
    let space = SearchSpace::resolve(&a.space).context("--space")?;
    let mut budgets = a.epochs.clone();
    budgets.sort_unstable();
    budgets.dedup();
    anyhow::ensure!(budgets.first().is_some_and(|&e| e > 0), "--epochs: give positive epoch budgets, e.g. 4,12");
    let size = space.space().size().context("the space is too large to tabulate whole: use --sample N")?;
    let (strategy, trials) = match a.sample {
        Some(n) => ("random", n.min(size.min(u64::MAX as u128) as u64)),
        None => ("grid", u64::try_from(size).context("the space is too large to tabulate whole: use --sample N")?),
    };
    let strategy = find_strategy(strategy)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max_epochs = *budgets.last().expect("checked above") as f64;
    let mut per_budget: Vec<(usize, Vec<nasbox::run::journal::Trial>)> = vec![];
    for &epochs in &budgets {
        let dir = a.out.join(format!("epochs-{epochs}"));
        let train = TrainOptions {
            epochs,
            batch_size: a.batch_size,
            data_fraction: a.data_fraction,
            channels: a.channels,
            cells: a.cells,
            threads: Some((cores / a.workers.max(1)).max(1) as i32),
            ..TrainOptions::default()
        };
        let config = RunConfig {
            strategy: strategy.display().to_string(),
            space: a.space.clone(),
            dataset: a.dataset.clone(),
            estimator: "train".into(),
            budget: format!("trials={trials}"),
            workers: a.workers.max(1),
            seed: a.seed,
            train: train.clone(),
            ..RunConfig::default()
        };
        let plugin = Plugin::load(engine, &strategy, a.seed, Limits::default())?;
        let (mut search, pending) = if dir.join(JOURNAL).exists() {
            Search::resume(&dir, plugin, &|_| {}, &mut |_| {})?
        } else {
            (Search::start(&dir, config, plugin, &strategy, "nasbox tabulate")?, vec![])
        };
        println!("tabulating {} architectures of {} at {epochs} epochs → {}", trials, space.name(), dir.display());
        let job = TrainJob {
            space: a.space.clone(),
            arch: String::new(),
            dataset: a.dataset.clone(),
            seed: a.seed,
            fidelity: None,
            train,
            test: true,
            command: None,
        };
        let mut workers = Workers::new(job, a.workers.max(1), None, None, dir.join("trials"))?;
        let mut done = 0usize;
        search.run(&mut workers, pending, &mut |e| {
            if let nasbox::run::search::Event::Finished { trial, .. } = e {
                done += 1;
                if done % 10 == 0 || trial.status != TrialStatus::Ok {
                    println!("  {done} trained (trial {}: {:?})", trial.id, trial.status);
                }
            }
        })?;
        per_budget.push((epochs, Journal::open(&dir.join(JOURNAL))?.trials()?));
    }

    // One line per architecture and budget that trained successfully.
    let mut lines = vec![serde_json::json!({
        "nasbox_table": 1,
        "space": space.name(),
        "source": format!("nasbox tabulate: {} at epochs {:?}, C={:?}, cells={:?}, batch {}, data fraction {}, seed {}", a.dataset, budgets, a.channels, a.cells, a.batch_size, a.data_fraction, a.seed),
    })
    .to_string()];
    let mut failed = 0;
    for (epochs, trials) in &per_budget {
        for t in trials {
            if t.status != TrialStatus::Ok {
                failed += 1;
                continue;
            }
            let m: BTreeMap<&str, f64> = t.metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let metrics: BTreeMap<&str, f64> = m
                .iter()
                .filter(|(k, _)| ["params", "flops", "latency-ms", "valid-loss", "test-loss", "train-loss"].contains(k))
                .map(|(k, v)| (*k, *v))
                .collect();
            let mut row = serde_json::json!({
                "arch": t.arch,
                "fidelity": *epochs as f64 / max_epochs,
                "valid_accuracy": t.objective,
                "cost": t.cost,
                "metrics": metrics,
            });
            if let Some(test) = m.get("test-accuracy") {
                row["test_accuracy"] = serde_json::json!(test);
            }
            lines.push(row.to_string());
        }
    }
    let path = a.out.join("table.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {} ({} entries{})",
        path.display(),
        lines.len() - 1,
        if failed > 0 { format!(", {failed} failed trainings left out") } else { String::new() }
    );
    Ok(ExitCode::SUCCESS)
}
