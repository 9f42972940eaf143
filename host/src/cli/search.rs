//! `nasbox search` and `nasbox resume`: the main job. The strategy
//! proposes, the estimator scores, the journal records, the strategy hears.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nasbox::estimate::command::CommandJob;
use nasbox::estimate::one_shot::OneShot;
use nasbox::estimate::stopping::StopRule;
use nasbox::estimate::table::Table;
use nasbox::estimate::train::TrainJob;
use nasbox::estimate::EstimatorSpec;
use nasbox::run::executor::slurm::OnLost;
use nasbox::run::executor::{Executor, InProcess, OneShotExecutor, Slurm, Workers};
use nasbox::run::journal::TrialStatus;
use nasbox::run::search::{sha256, Event, Search};
use nasbox::run::{find_strategy, ExecutorKind, RunConfig};
use nasbox::strategy::{Engine, Plugin};
use nasbox::units::duration;

use super::sandbox::LimitArgs;

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Strategy component (FILE.wasm) or built-in name [default: auto: for a decision space with numbers or
    /// conditions gp up to 300 trials and tpe beyond, nsga2 for several objectives, evolution otherwise; `search`
    /// says which].
    #[arg(long)]
    strategy: Option<String>,
    /// nb201, darts, chain, or FILE.toml (a chain space, or a decision space); a network space with +hp
    /// searches its training recipe too [default: nb201].
    #[arg(long)]
    space: Option<String>,
    /// synthetic, cifar10:DIR, ... [default: synthetic].
    #[arg(long)]
    dataset: Option<String>,
    /// train, early-stop, zero-cost, supernet, command, command+early-stop or table:FILE [default: train].
    #[arg(long)]
    estimator: Option<String>,
    /// Your own training command per trial, run with sh -c (docs: the command protocol); implies
    /// --estimator command unless another estimator is given.
    #[arg(long, value_name = "SHELL COMMAND")]
    command: Option<String>,
    /// trials=N, time=DURATION, sim=DURATION, comma-separated [default: trials=50,time=8m].
    #[arg(long)]
    budget: Option<String>,
    /// Trials in flight at once [default: 2].
    #[arg(long)]
    workers: Option<usize>,
    /// CUDA devices for workers, e.g. 0,1 (one trial per device at a time).
    #[arg(long, value_delimiter = ',')]
    devices: Option<Vec<usize>>,
    /// Seed of the strategy's randomness, the data and the training: one seed, one search on CPU [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Strategy setting KEY=VALUE (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::cli::parse::setting)]
    settings: Vec<(String, String)>,
    /// Epochs at full fidelity for the training estimators [default: 2].
    #[arg(long)]
    epochs: Option<usize>,
    /// A trial running longer is stopped and failed, e.g. 10m.
    #[arg(long)]
    trial_timeout: Option<String>,
    /// Bounds on reported metrics, e.g. params<=1e6,latency-ms<=5 (repeatable): a trial over one is infeasible,
    /// recorded and told to the strategy as invalid (`infeasible: …`), never the best.
    #[arg(long = "constraint", value_name = "METRIC<=BOUND")]
    constraints: Vec<String>,
    /// A multi-objective search over these, e.g. accuracy,-params: `accuracy` and metrics the estimator reports,
    /// `-` for smaller is better; handed to the strategy as its `objectives` setting (nsga2 takes it).
    #[arg(long, value_name = "LIST")]
    objectives: Option<String>,
    /// With --estimator early-stop: `median` (the median stopping rule) or `curve` (learning-curve extrapolation)
    /// [default: median].
    #[arg(long)]
    early_stop_rule: Option<String>,
    /// A TOML file holding any of these settings (flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The run folder [default: runs/<strategy>-<space>-<seed>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where training trials run: local worker processes, or one Slurm job each [default: local].
    #[arg(long, value_enum)]
    executor: Option<ExecutorKind>,
    #[command(flatten)]
    slurm: SlurmArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Slurm submission (`[slurm]` in the TOML); used with `--executor slurm`.
/// The run folder must be on a filesystem the nodes share.
#[derive(Args, Debug)]
#[command(next_help_heading = "Slurm")]
struct SlurmArgs {
    /// Slurm partition the jobs are submitted to (sbatch --partition).
    #[arg(long)]
    partition: Option<String>,
    /// Slurm account the jobs are charged to (sbatch --account).
    #[arg(long)]
    account: Option<String>,
    /// Slurm time limit per trial (sbatch --time), e.g. 30:00.
    #[arg(long, value_name = "TIME")]
    time_limit: Option<String>,
    /// GPUs per trial (--gres=gpu:N); trials then train on cuda.
    #[arg(long, value_name = "N")]
    gpus_per_trial: Option<u32>,
    /// CPUs per trial (--cpus-per-task), also the worker's threads [default: 1].
    #[arg(long, value_name = "N")]
    cpus_per_trial: Option<u32>,
    /// A further sbatch argument, e.g. --sbatch-arg=--qos=short (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// A job lost to a node failure, a scancel outside nasbox or preemption without requeue: fail the trial or retry it [default: fail].
    #[arg(long, value_enum)]
    on_lost: Option<OnLost>,
    /// Retries per trial with --on-lost retry [default: 2].
    #[arg(long, value_name = "N")]
    retries: Option<u32>,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The run folder of a search that was stopped or killed.
    dir: PathBuf,
    /// Replace the run's budget (to extend a finished run).
    #[arg(long)]
    budget: Option<String>,
    /// Continue with this strategy file (or built-in name) instead of the
    /// recorded one: a rebuild of it, accepted when its replay reproduces
    /// every recorded proposal.
    #[arg(long, value_name = "FILE")]
    strategy: Option<String>,
    // Given limits replace the recorded ones from now on (more fuel for a strategy that ran out).
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn search(a: SearchArgs, engine: &Engine) -> anyhow::Result<ExitCode> {
    let mut config = match &a.config {
        Some(path) => RunConfig::from_toml(path)?,
        None => RunConfig::default(),
    };
    macro_rules! set {
        ($field:expr, $value:expr) => {
            if let Some(v) = $value {
                $field = v;
            }
        };
    }
    set!(config.strategy, a.strategy);
    set!(config.space, a.space);
    set!(config.dataset, a.dataset);
    if let Some(run) = a.command {
        config.command.run = run;
        if a.estimator.is_none() && config.estimator == "train" {
            config.estimator = "command".into();
        }
    }
    set!(config.estimator, a.estimator);
    // The command runs where the search started, also when resumed from
    // elsewhere: record the folder.
    if !config.command.run.trim().is_empty() {
        let here = std::env::current_dir().context("the current folder")?;
        let dir = config.command.dir.take().map_or(here.clone(), |d| here.join(d));
        let dir = std::fs::canonicalize(&dir).with_context(|| format!("[command] dir {}", dir.display()))?;
        config.command.dir = Some(dir);
    }
    set!(config.budget, a.budget);
    set!(config.workers, a.workers);
    set!(config.seed, a.seed);
    set!(config.train.epochs, a.epochs);
    set!(config.train.devices, a.devices);
    set!(config.executor, a.executor);
    let sl = a.slurm;
    if sl.partition.is_some() {
        config.slurm.partition = sl.partition;
    }
    if sl.account.is_some() {
        config.slurm.account = sl.account;
    }
    if sl.time_limit.is_some() {
        config.slurm.time = sl.time_limit;
    }
    set!(config.slurm.gpus, sl.gpus_per_trial);
    set!(config.slurm.cpus, sl.cpus_per_trial);
    set!(config.slurm.on_lost, sl.on_lost);
    set!(config.slurm.retries, sl.retries);
    config.slurm.sbatch_args.extend(sl.sbatch_args);
    if a.trial_timeout.is_some() {
        config.trial_timeout = a.trial_timeout;
    }
    config.set.extend(a.settings);
    config.constraints.extend(a.constraints);
    if let Some(list) = a.objectives {
        config.objectives = list.split(',').map(|o| o.trim().to_string()).collect();
    }
    set!(config.early_stop_rule, a.early_stop_rule);
    config.sandbox = config.sandbox.overridden_by(&a.limits.sandbox());
    // Flags override run.toml: check the values again, as the search will
    // read them.
    config.check().map_err(anyhow::Error::msg).context("the search's configuration (run.toml and flags)")?;
    let chosen = if config.strategy == nasbox::run::AUTO {
        let space = nasbox::space::SearchSpace::resolve(&config.space)?;
        let trials = nasbox::run::Budget::parse(&config.budget).map_err(anyhow::Error::msg).context("--budget")?.trials;
        let (name, why) = nasbox::run::auto_strategy(&space, &config.objectives, trials);
        config.strategy = name.into();
        Some(why)
    } else {
        None
    };
    let strategy = find_strategy(&config.strategy)?;
    if let Some(why) = chosen {
        println!("strategy: {} (no --strategy given; {why})", config.strategy);
    }
    // Check everything before creating the run folder.
    let estimator = EstimatorSpec::parse(&config.estimator).map_err(anyhow::Error::msg).context("--estimator")?;
    nasbox::run::Budget::parse(&config.budget).map_err(anyhow::Error::msg).context("--budget")?;
    let space = nasbox::space::SearchSpace::resolve(&config.space)?;
    nasbox::run::objectives::check(&config.objectives, &estimator, &config.estimator, &space, a.out.as_deref())?;
    nasbox::run::objectives::check_constraints(&config.constraints, &estimator, &config.estimator, &space, a.out.as_deref())?;
    let timeout = config.trial_timeout.as_deref().map(duration).transpose().map_err(anyhow::Error::msg).context("--trial-timeout")?;
    if config.executor == ExecutorKind::Slurm && !estimator.trains() {
        bail!("--executor slurm runs training trials as jobs; the {} estimator is evaluated in the search's own process (use --estimator train, early-stop or command)", config.estimator);
    }
    // Without --out, the first free runs/<strategy>-<space>-<seed>[-k]: a
    // repeated demo never collides with an earlier run.
    let dir = a.out.clone().unwrap_or_else(|| {
        let name = strategy.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
        let space = nasbox::space::SearchSpace::resolve(&config.space).map_or("space".into(), |s| s.name());
        let base = format!("{name}-{space}-{}", config.seed);
        (1..).map(|k| PathBuf::from("runs").join(if k == 1 { base.clone() } else { format!("{base}-{k}") })).find(|d| !d.exists()).expect("some name is free")
    });
    let plugin = Plugin::load(engine, &strategy, config.seed, config.sandbox.limits().map_err(anyhow::Error::msg)?)?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut s = Search::start(&dir, config, plugin, &strategy, &command)?;
    // A search that cannot begin leaves nothing behind, so the same --out can be given again.
    let mut executor = match executor(&s, &estimator, timeout, false) {
        Ok(executor) => executor,
        Err(e) => {
            s.discard()?;
            return Err(e);
        }
    };
    nasbox::run::strategy_log::record_into(&dir);
    nasbox::run::interrupt::install()?;
    announce(&s, &strategy, false);
    drive(&mut s, executor.as_mut(), vec![])
}

pub fn resume(a: ResumeArgs, engine: &Engine) -> anyhow::Result<ExitCode> {
    let (mut config, recorded, sha) = Search::config_of(&a.dir)?;
    let sandbox = config.sandbox.overridden_by(&a.limits.sandbox());
    config.sandbox = sandbox.clone();
    config.check().map_err(anyhow::Error::msg).with_context(|| format!("{}: the configuration its journal records", a.dir.display()))?;
    let strategy = match &a.strategy {
        Some(spec) => find_strategy(spec)?,
        // A built-in unpacked into a cache that has since been cleared (or
        // a run moved to another machine) is unpacked again.
        None if !recorded.exists() => match recorded.file_stem().and_then(|s| s.to_str()).filter(|s| nasbox::strategy::builtin::is_embedded(s)) {
            Some(name) => nasbox::strategy::builtin::file(name)?.unwrap_or(recorded.clone()),
            None => recorded.clone(),
        },
        None => recorded.clone(),
    };
    let now = sha256(&strategy).with_context(|| match a.strategy {
        Some(_) => format!("reading --strategy {}", strategy.display()),
        None => format!("the run's strategy {} is gone; give its rebuild with --strategy FILE", strategy.display()),
    })?;
    // A rebuilt strategy (builds are rarely byte-for-byte reproducible) is
    // accepted when it behaves the same: the replay below compares every
    // proposal it makes with the journal's.
    let rebuilt = now != sha;
    if rebuilt {
        println!(
            "{}: not the strategy file the run started with (sha256 {} then, {} now); continuing only if its replay reproduces every recorded proposal",
            strategy.display(),
            &sha[..sha.len().min(16)],
            &now[..16]
        );
    }
    let estimator = EstimatorSpec::parse(&config.estimator).map_err(anyhow::Error::msg)?;
    let timeout = config.trial_timeout.as_deref().map(duration).transpose().map_err(anyhow::Error::msg)?;
    let plugin = Plugin::load(engine, &strategy, config.seed, config.sandbox.limits().map_err(anyhow::Error::msg)?)?;
    let amend = |c: &mut RunConfig| {
        if let Some(b) = &a.budget {
            c.budget = b.clone();
        }
        c.sandbox = sandbox.clone();
    };
    let resumed = Search::resume(&a.dir, plugin, &amend, &mut |e| {
        if let Event::Resumed { calls, finished, pending } = e {
            println!("resumed {}: replayed {calls} strategy calls, {finished} trials done, {pending} in flight to rerun", a.dir.display());
        }
    });
    let (mut s, pending) = match resumed {
        Err(e) if rebuilt => return Err(e.context(format!("{} does not replay the run's search", strategy.display()))),
        r => r?,
    };
    if rebuilt {
        s.adopt_strategy(&strategy, &now)?;
    }
    nasbox::run::strategy_log::record_into(&a.dir);
    let mut executor = executor(&s, &estimator, timeout, true)
        .with_context(|| format!("the run's estimator `{}` (a resume uses the one the search started with)", s.config.estimator))?;
    for t in s.finished_trials()? {
        executor.remember(&t.metrics);
    }
    nasbox::run::interrupt::install()?;
    announce(&s, &strategy, true);
    drive(&mut s, executor.as_mut(), pending)
}

/// Where a run's trials are evaluated.
fn executor(s: &Search, estimator: &EstimatorSpec, timeout: Option<std::time::Duration>, resuming: bool) -> anyhow::Result<Box<dyn Executor>> {
    let c = &s.config;
    Ok(match estimator {
        EstimatorSpec::Supernet => {
            let supernet = OneShot::new(&s.space, &c.dataset, &c.train, c.seed, c.supernet.clone())?;
            let mut executor = OneShotExecutor::new(supernet, &s.dir)?;
            if resuming {
                executor.resume(&s.all_trials()?)?;
            }
            Box::new(executor)
        }
        EstimatorSpec::Table(path) => {
            let path = if path.is_relative() && !path.exists() { s.dir.join(path) } else { path.clone() };
            let table = Table::load(&path, &s.space)?;
            Box::new(InProcess::new(move |g: &[u32], f: Option<f64>| table.evaluate(g, f)))
        }
        EstimatorSpec::ZeroCost => zero_cost_executor(s)?,
        EstimatorSpec::Train | EstimatorSpec::EarlyStop | EstimatorSpec::Command { .. } => {
            let workers = c.workers.max(1);
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mut train = c.train.clone();
            train.threads = Some(train.threads.unwrap_or((cores / workers).max(1) as i32));
            // The executors fill in each trial's id and folder.
            let command = matches!(estimator, EstimatorSpec::Command { .. }).then(|| CommandJob {
                run: c.command.run.clone(),
                dir: c.command.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
                trial: 0,
                trial_dir: PathBuf::new(),
            });
            let job =
                TrainJob { space: c.space.clone(), arch: String::new(), dataset: c.dataset.clone(), seed: c.seed, fidelity: None, train, test: false, command };
            let rule = match estimator.stops_early() {
                true => Some(StopRule::of(&c.early_stop_rule, c.early_stop_min_trials, c.train.epochs).map_err(anyhow::Error::msg)?),
                false => None,
            };
            match c.executor {
                ExecutorKind::Local => {
                    let devices = c.train.devices.iter().map(|d| format!("cuda:{d}")).collect();
                    Box::new(Workers::new(job, workers, timeout, rule, s.dir.join("trials"))?.with_devices(devices).with_worker_trials(c.worker_trials))
                }
                ExecutorKind::Slurm => Box::new(Slurm::new(&s.dir, job, workers, c.slurm.clone(), timeout, rule)?),
            }
        }
    })
}

fn zero_cost_executor(s: &Search) -> anyhow::Result<Box<dyn Executor>> {
    println!("zero-cost: scoring a reference sample of {} architectures…", nasbox::estimate::proxies::REFERENCE);
    let c = &s.config;
    let scorer = nasbox::estimate::proxies::ZeroCost::new(&s.space, &c.dataset, c.train.channels, c.train.cells, c.seed)?;
    Ok(Box::new(InProcess::new(move |g: &[u32], _f: Option<f64>| scorer.evaluate(g))))
}

fn announce(s: &Search, strategy: &Path, resumed: bool) {
    let c = &s.config;
    if !resumed {
        // A user's command brings its own data: the dataset setting is not used.
        let data = if c.estimator.starts_with("command") { String::new() } else { format!(" on {}", c.dataset) };
        println!(
            "searching {} ({} decisions) with {}{data}, estimator {}, budget {}, {} {}, seed {} → {}",
            s.space.name(),
            s.decisions().decisions.len(),
            strategy.display(),
            c.estimator,
            s.budget().describe(),
            c.workers,
            if c.executor == ExecutorKind::Slurm { "Slurm job(s) at a time" } else { "worker(s)" },
            c.seed,
            s.dir.display()
        );
    }
}

/// Runs the loop with progress on a terminal (plain lines otherwise) and
/// prints the summary.
fn drive(s: &mut Search, executor: &mut dyn Executor, pending: Vec<nasbox::run::journal::Trial>) -> anyhow::Result<ExitCode> {
    let total = s.budget().trials;
    let bar = std::io::stdout().is_terminal().then(|| {
        let bar = ProgressBar::new(total.unwrap_or(0));
        let template =
            if total.is_some() { "[{bar:30}] {pos}/{len} trials  {msg}  {elapsed_precise} eta {eta}" } else { "{pos} trials  {msg}  {elapsed_precise}" };
        bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
        bar
    });
    let outcome = s.run(executor, pending, &mut |e| {
        if let Event::Finished { trial, best, spent } = e {
            let what = match &trial.status {
                TrialStatus::Ok if trial.reused_from.is_some() => format!("{:.4} (repeat of trial {})", trial.objective, trial.reused_from.unwrap_or(0)),
                TrialStatus::Ok => format!("{:.4}", trial.objective),
                TrialStatus::Failed(r) => format!("failed: {r}"),
                TrialStatus::Invalid(r) => format!("invalid: {r}"),
                TrialStatus::Pending => "pending".into(),
            };
            let best = best.map_or("-".into(), |b| format!("{:.4}", b.objective));
            match &bar {
                Some(bar) => {
                    bar.set_position(spent.trials);
                    bar.set_message(format!("best {best}"));
                    if !matches!(trial.status, TrialStatus::Ok) {
                        bar.println(format!("trial {} {what}", trial.id));
                    }
                }
                None => println!("trial {:>4}  {what}  {}  ({:.1} s)  best {best}", trial.id, trial.arch, trial.cost),
            }
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    outcome?;
    let spent = s.spent_now()?;
    println!("done: {} trials in {:.1} s → {}", spent.trials, spent.time.as_secs_f64(), s.dir.display());
    match s.best() {
        Some(b) => {
            println!("best trial {}: {:.4}  {}", b.id, b.objective, b.arch);
            let metrics: Vec<String> = b.metrics.iter().filter(|(k, _)| !k.starts_with("valid-accuracy-epoch")).map(|(k, v)| format!("{k} {v}")).collect();
            if !metrics.is_empty() {
                println!("  {}", metrics.join("  "));
            }
            if let Some((k, start, best)) = Search::beyond_start(&s.all_trials()?) {
                println!("  {:+.4} on {start:.4}, the best of its first {k} trials (for most strategies a random start)", best - start);
            }
            let objectives = nasbox::run::objectives::of(&s.config.objectives).unwrap_or_default();
            if !objectives.is_empty() {
                let trials = s.all_trials()?;
                let front = nasbox::report::pareto::front(&trials, &objectives);
                println!(
                    "Pareto front over {}: {} trials (nasbox results {} lists them)",
                    nasbox::report::pareto::list(&objectives),
                    front.len(),
                    s.dir.display()
                );
            }
        }
        None if s.config.estimator == "supernet" => println!("{} differentiable steps; the architecture is derived from the strategy's weights", spent.trials),
        None => {
            // Nothing to show is a failed search: say why, by reason, and
            // exit non-zero so that scripts and CI notice.
            let trials = s.all_trials()?;
            println!("no trial succeeded ({} trials):", trials.len());
            for (count, reason) in failure_counts(&trials) {
                println!("  {count:>4} × {reason}");
            }
            println!("each trial's log: {}/trials/ID.log", s.dir.display());
            return Ok(ExitCode::FAILURE);
        }
    }
    if let Some(r) = s.recommendation()? {
        println!("the strategy recommends: {r}");
    }
    // Only a network space has a network of nasbox's to retrain; a decision space's best is the user's to train.
    match s.space.is_network() {
        true => println!("leaderboard: nasbox results {0}   retrain the best: nasbox train --from {0}", s.dir.display()),
        false => println!("leaderboard: nasbox results {0}   every trial as JSON: nasbox results {0} --json FILE", s.dir.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The trials' failure reasons with how many trials had each, most common
/// first (`failed: …`, `invalid: …`, `pending`).
fn failure_counts(trials: &[nasbox::run::journal::Trial]) -> Vec<(usize, String)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for t in trials {
        let reason = match &t.status {
            TrialStatus::Ok => continue,
            TrialStatus::Failed(r) => format!("failed: {r}"),
            TrialStatus::Invalid(r) => format!("invalid: {r}"),
            TrialStatus::Pending => "pending: no result".into(),
        };
        // A reason's first line, capped: a command's error output can run to
        // many lines, and the trial's log has all of it.
        let mut line = reason.lines().next().unwrap_or_default().to_string();
        if line.chars().count() > 160 || reason.lines().nth(1).is_some() {
            line = line.chars().take(160).collect::<String>() + " …";
        }
        *counts.entry(line).or_default() += 1;
    }
    let mut counts: Vec<(usize, String)> = counts.into_iter().map(|(r, n)| (n, r)).collect();
    counts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    counts
}

#[cfg(test)]
mod tests {
    use clap::{Args, Command};
    use nasbox::run::RunConfig;

    use super::SearchArgs;

    #[test]
    fn failures_are_counted_by_the_first_line_of_their_reason() {
        use nasbox::run::journal::{Trial, TrialStatus};
        let trial = |id: u64, status: TrialStatus| Trial {
            id,
            genotype: vec![],
            arch: String::new(),
            fidelity: None,
            status,
            objective: 0.0,
            cost: 0.0,
            metrics: vec![],
            reused_from: None,
            relaxed: None,
            gradient: None,
        };
        let trials = [
            trial(0, TrialStatus::Failed("exit status 1: Traceback\n  File x\nValueError".into())),
            trial(1, TrialStatus::Failed("exit status 1: Traceback\n  File y\nKeyError".into())),
            trial(2, TrialStatus::Invalid("not a network".into())),
            trial(3, TrialStatus::Ok),
            trial(4, TrialStatus::Failed("x".repeat(300))),
        ];
        let counts = super::failure_counts(&trials);
        assert_eq!(counts[0], (2, "failed: exit status 1: Traceback …".to_string()));
        assert_eq!(counts[1].0, 1);
        assert!(counts[1].1.starts_with("failed: xxx") && counts[1].1.chars().count() == 162, "{:?}", counts[1]);
        assert_eq!(counts[2], (1, "invalid: not a network".to_string()));
        assert_eq!(counts.len(), 3);
    }

    /// The flags override `RunConfig`'s fields, so their defaults are the
    /// config's and clap cannot show them by itself: each `[default: …]`
    /// written in a flag's help must be what `RunConfig::default()` holds.
    #[test]
    fn every_default_the_help_states_is_the_configs() {
        let c = RunConfig::default();
        let ser = |v: serde_json::Value| v.as_str().map_or(v.to_string(), String::from);
        let expected = [
            ("space", c.space.clone()),
            ("dataset", c.dataset.clone()),
            ("estimator", c.estimator.clone()),
            ("budget", c.budget.clone()),
            ("workers", c.workers.to_string()),
            ("seed", c.seed.to_string()),
            ("epochs", c.train.epochs.to_string()),
            ("early_stop_rule", c.early_stop_rule.clone()),
            ("executor", ser(serde_json::to_value(c.executor).unwrap())),
            ("cpus_per_trial", c.slurm.cpus.to_string()),
            ("on_lost", ser(serde_json::to_value(c.slurm.on_lost).unwrap())),
            ("retries", c.slurm.retries.to_string()),
        ];
        let cmd = SearchArgs::augment_args(Command::new("search"));
        for (id, want) in expected {
            let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap_or_else(|| panic!("no flag {id}"));
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let stated = help.split("[default: ").nth(1).and_then(|t| t.split(']').next()).unwrap_or_else(|| panic!("--{id} states no default: {help}"));
            assert_eq!(stated, want, "--{id}'s help says [default: {stated}], the config's default is {want}");
        }
    }
}
