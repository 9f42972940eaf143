//! A search run: the configuration it was started with, its budget, the
//! journal that records it, where trials are evaluated, and the loop that
//! ties strategy, estimator and journal together.
//!
//! A run folder holds `journal.sqlite` (manifest, trials, calls, cluster
//! jobs), `trials/<id>.log` (local worker output) and, for Slurm,
//! `jobs/<trial>.<attempt>/` (each job's input, progress and result). Everything needed to resume or
//! report on a run is in the journal.

pub mod budget;
pub mod constraint;
pub mod executor;
pub mod folder;
pub mod interrupt;
pub mod journal;
pub mod lock;
pub mod objectives;
pub mod repeats;
pub mod search;
pub mod strategy_log;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::estimate::command::CommandOptions;
pub use crate::estimate::one_shot::OneShotOptions;
pub use crate::estimate::train::TrainOptions;
pub use crate::strategy::SandboxOptions;
pub use budget::Budget;
pub use executor::slurm::SlurmOptions;

/// Where training trials run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// `nasbox worker` processes on this machine.
    Local,
    /// One Slurm job per trial (see `[slurm]`).
    Slurm,
}

/// Everything a run is started with: `--config run.toml` holds it, flags
/// override it, and the journal's manifest keeps it for `resume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// A strategy component: a path, or the name of a built-in one.
    pub strategy: String,
    /// nb201, darts, chain, or a .toml file (a chain space, or a decision
    /// space for the command estimator).
    pub space: String,
    pub dataset: String,
    /// train, early-stop, zero-cost, supernet, command, command+early-stop
    /// or table:FILE.
    pub estimator: String,
    /// e.g. `trials=50,time=8m`; see [`Budget`].
    pub budget: String,
    /// Trials in flight at once (for Slurm: jobs queued or running).
    pub workers: usize,
    /// Trials a local worker process serves before it is replaced (1: a
    /// fresh process per trial).
    pub worker_trials: usize,
    /// Where training trials run.
    pub executor: ExecutorKind,
    /// How trials are submitted with `executor = "slurm"`.
    pub slurm: SlurmOptions,
    pub seed: u64,
    /// Strategy settings (`--set key=value`).
    pub set: BTreeMap<String, String>,
    /// A trial running longer is stopped and failed, e.g. `10m`.
    pub trial_timeout: Option<String>,
    /// Finished trials before early stopping may stop any (early-stop).
    pub early_stop_min_trials: usize,
    /// `median` (the median stopping rule) or `curve` (learning-curve
    /// extrapolation); see `estimate::stopping`.
    pub early_stop_rule: String,
    pub train: TrainOptions,
    /// How the supernet estimator trains the shared weights.
    pub supernet: OneShotOptions,
    /// The user's training command, for the command estimator.
    pub command: CommandOptions,
    /// Bounds on reported metrics, e.g. `["params<=1e6", "latency-ms<=5"]`;
    /// a trial breaking one is infeasible (see [`constraint`]).
    pub constraints: Vec<String>,
    /// A multi-objective search's objectives, e.g. `["accuracy", "-params"]`:
    /// handed to the strategy as its `objectives` setting (see [`objectives`]).
    pub objectives: Vec<String>,
    /// The strategy's sandbox limits where they differ from the defaults.
    pub sandbox: SandboxOptions,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            strategy: AUTO.into(),
            space: "nb201".into(),
            dataset: "synthetic".into(),
            estimator: "train".into(),
            budget: "trials=50,time=8m".into(),
            // Two single-threaded workers use a 2-core machine best: one
            // libtorch process with two OpenMP threads slows to a crawl as
            // soon as anything else wants a core.
            workers: 2,
            worker_trials: executor::local::WORKER_TRIALS,
            executor: ExecutorKind::Local,
            slurm: SlurmOptions::default(),
            seed: 0,
            set: BTreeMap::new(),
            trial_timeout: None,
            early_stop_min_trials: 4,
            early_stop_rule: "median".into(),
            train: TrainOptions::default(),
            supernet: OneShotOptions::default(),
            command: CommandOptions::default(),
            constraints: vec![],
            objectives: vec![],
            sandbox: SandboxOptions::default(),
        }
    }
}

impl RunConfig {
    /// Reads a run.toml and checks its values; errors name the file.
    pub fn from_toml(path: &Path) -> anyhow::Result<RunConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let config: RunConfig = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        config.check().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// The first value that cannot work, naming its key: the space,
    /// estimator, budget and trial timeout as the search will read them, and the
    /// ranges of the numbers (which would otherwise fail deep inside a
    /// worker, or stop the search with a panic).
    #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "`!(x > 0.0)` refuses NaN too")]
    pub fn check(&self) -> Result<(), String> {
        let space = crate::space::SearchSpace::resolve(&self.space).map_err(|e| format!("space: {e}"))?;
        let estimator = crate::estimate::EstimatorSpec::parse(&self.estimator).map_err(|e| format!("estimator: {e}"))?;
        if !space.is_network() && estimator.needs_network() {
            return Err(format!("estimator = \"{}\": {}", self.estimator, space.no_network()));
        }
        if matches!(estimator, crate::estimate::EstimatorSpec::Command { .. }) && self.command.run.trim().is_empty() {
            return Err(format!("estimator = \"{}\" needs the command to run: `[command] run = \"python train.py\"` (or --command)", self.estimator));
        }
        crate::space::hp::check_estimator(&space, &estimator)?;
        Budget::parse(&self.budget).map_err(|e| format!("budget: {e}"))?;
        constraint::Constraints::parse(&self.constraints).map_err(|e| format!("constraints: {e}"))?;
        crate::estimate::stopping::StopRule::of(&self.early_stop_rule, 1, 1)?;
        objectives::of(&self.objectives)?;
        self.sandbox.limits()?;
        if !self.objectives.is_empty() && self.set.contains_key(objectives::KEY) {
            return Err("objectives: given twice, as objectives and as the setting objectives (set); give objectives only".into());
        }
        if let Some(t) = &self.trial_timeout {
            crate::units::duration(t).map_err(|e| format!("trial_timeout: {e}"))?;
        }
        let positive = |x: f64| x > 0.0 && x.is_finite();
        let t = &self.train;
        let s = &self.supernet;
        let problems = [
            (self.workers == 0, format!("workers = {}: at least 1", self.workers)),
            (self.worker_trials == 0, "worker_trials = 0: at least 1 (1: a fresh process per trial)".to_string()),
            (t.epochs == 0, format!("[train] epochs = {}: at least 1", t.epochs)),
            (t.batch_size == 0, format!("[train] batch_size = {}: at least 1", t.batch_size)),
            (t.lr.is_some_and(|lr| !positive(lr)), format!("[train] lr = {:?}: a positive number", t.lr.unwrap_or_default())),
            (!(t.data_fraction > 0.0 && t.data_fraction <= 1.0), format!("[train] data_fraction = {:?} is not in (0, 1]", t.data_fraction)),
            (!(t.valid_fraction > 0.0 && t.valid_fraction < 1.0), format!("[train] valid_fraction = {:?} is not in (0, 1)", t.valid_fraction)),
            (t.channels.is_some_and(|c| c < 1), format!("[train] channels = {}: at least 1", t.channels.unwrap_or_default())),
            (t.cells == Some(0), "[train] cells = 0: at least 1".to_string()),
            (t.threads.is_some_and(|n| n < 1), format!("[train] threads = {}: at least 1", t.threads.unwrap_or_default())),
            (
                crate::train::TrainConfig::default().with_memory_format(&t.memory_format).is_err(),
                format!("[train] memory_format = {:?}: use auto, channels-last or contiguous", t.memory_format),
            ),
            (s.steps == 0 || s.valid_batches == 0, format!("[supernet] steps = {} and valid_batches = {}: at least 1 each", s.steps, s.valid_batches)),
            (!positive(s.lr), format!("[supernet] lr = {:?}: a positive number", s.lr)),
            (!(s.momentum >= 0.0 && s.momentum < 1.0), format!("[supernet] momentum = {:?} is not in [0, 1)", s.momentum)),
            (!(s.weight_decay >= 0.0 && s.weight_decay.is_finite()), format!("[supernet] weight_decay = {:?}: zero or a positive number", s.weight_decay)),
            (!(s.grad_clip > 0.0), format!("[supernet] grad_clip = {:?}: a positive number (inf: no clipping)", s.grad_clip)),
            (self.slurm.cpus == 0, "[slurm] cpus = 0: at least 1".to_string()),
            (
                !(positive(self.slurm.poll_seconds) && self.slurm.poll_seconds < 1e9),
                format!("[slurm] poll_seconds = {:?}: a positive number of seconds", self.slurm.poll_seconds),
            ),
        ];
        match problems.into_iter().find(|(bad, _)| *bad) {
            Some((_, why)) => Err(why),
            None => Ok(()),
        }
    }
}

/// The strategy name that lets `search` choose by the space: see
/// [`auto_strategy`].
pub const AUTO: &str = "auto";

/// Trial budgets up to this get the Gaussian process on numeric decision
/// spaces; above it, TPE (the GP models at most its 200 most useful
/// results, and its cost per proposal grows with them).
pub const AUTO_GP_TRIALS: u64 = 300;

/// The strategy a search runs when none is named (`strategy = "auto"`), and
/// why, for `search` to say. The rules follow what measured best
/// (docs/src/guide/benchmarking.md, "Mixed spaces"): on decision spaces with
/// numbers or conditions the Gaussian process beat TPE (ours and Optuna's)
/// on most test functions at 50 and 100 trials and lost on none, so it is
/// the default up to [`AUTO_GP_TRIALS`] trials, and TPE beyond (or with no
/// trial budget); several objectives need NSGA-II; cell and chain spaces
/// keep regularized evolution.
pub fn auto_strategy(space: &crate::space::SearchSpace, objectives: &[String], trials: Option<u64>) -> (&'static str, String) {
    if !objectives.is_empty() {
        return ("nsga2", "several objectives: NSGA-II searches for their Pareto front".into());
    }
    let decisions = space.space().decisions;
    let numeric = decisions.iter().any(|d| matches!(d.kind, crate::space::shape::Kind::Ordered(_)) || !d.conditions.is_empty());
    match (space, trials) {
        (crate::space::SearchSpace::Decisions(_), Some(n)) if numeric && n <= AUTO_GP_TRIALS => (
            "gp",
            format!("a decision space with ordered or conditional decisions and {n} trials (at most {AUTO_GP_TRIALS}): Bayesian optimisation with a Gaussian process measured best there"),
        ),
        (crate::space::SearchSpace::Decisions(_), _) if numeric => (
            "tpe",
            format!("a decision space with ordered or conditional decisions and more than {AUTO_GP_TRIALS} trials (or no trial budget): TPE, which stays cheap per proposal"),
        ),
        (crate::space::SearchSpace::Decisions(_), _) => ("evolution", "a decision space of categorical decisions: regularized evolution".into()),
        _ => ("evolution", "a network space: regularized evolution, the cell-search default".into()),
    }
}

/// The user's own strategy folders: `NASBOX_STRATEGIES`, a path list.
pub fn own_strategy_dirs() -> Vec<PathBuf> {
    std::env::var_os("NASBOX_STRATEGIES").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default()
}

/// The folders searched for a strategy given by name, in order:
/// `NASBOX_STRATEGIES` (a path list), then beside the binary: the build
/// folder (`target/wasm32-wasip2/release`, so a rebuilt strategy is used
/// without rebuilding the host) and `strategies/`.
pub fn strategy_dirs() -> Vec<PathBuf> {
    let mut dirs = own_strategy_dirs();
    if let Some(bin) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        dirs.push(bin.join("../wasm32-wasip2/release"));
        dirs.push(bin.join("strategies"));
    }
    dirs
}

/// A strategy component by path, or by name: a `NAME.wasm` in
/// [`strategy_dirs`], else the built-in of that name embedded in this binary
/// (see [`crate::strategy::builtin`]).
pub fn find_strategy(spec: &str) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let direct = PathBuf::from(spec);
    if direct.exists() {
        return Ok(direct);
    }
    // A path is not looked up among the built-in names.
    if spec.contains(std::path::MAIN_SEPARATOR) {
        anyhow::bail!("cannot read {spec}: no such file");
    }
    let name = spec.strip_suffix(".wasm").unwrap_or(spec);
    let dirs = strategy_dirs();
    for d in &dirs {
        let candidate = d.join(format!("{name}.wasm"));
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    if let Some(path) = crate::strategy::builtin::file(name).with_context(|| format!("strategy `{spec}`: unpacking the built-in component"))? {
        return Ok(path);
    }
    let known = crate::strategy::builtin::BUILTINS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let why = if crate::strategy::builtin::describe(name).is_some() {
        "this binary was built without it (build the strategies with scripts/build-strategies, then the host)".to_string()
    } else {
        format!("the built-in strategies are {known} (`nasbox strategy list`)")
    };
    anyhow::bail!(
        "strategy `{spec}`: no such file, and no strategy of that name in {}; {why}",
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user guide (docs/src/guide/search.md) shows a run.toml with every setting at its default; it
    /// must parse, and say what the defaults are.
    #[test]
    fn the_readme_run_toml_is_the_defaults() {
        let block = readme_run_toml();
        let parsed: RunConfig = toml::from_str(&block).unwrap_or_else(|e| panic!("the user guide's run.toml: {e}"));
        assert_eq!(parsed, RunConfig::default());
        assert_eq!(parsed.check(), Ok(()));
    }

    #[test]
    fn auto_picks_gp_or_tpe_for_numbers_and_conditions_and_evolution_for_cells() {
        use crate::space::{decisions::DecisionSpec, SearchSpace};
        let decisions = |text: &str| SearchSpace::Decisions(DecisionSpec::from_text(text, "d").unwrap());
        let lr = decisions("[decisions]\nlr = { low = 1e-4, high = 1e-1, scale = \"log\" }\n");
        assert_eq!(auto_strategy(&lr, &[], Some(100)).0, "gp");
        assert_eq!(auto_strategy(&lr, &[], Some(AUTO_GP_TRIALS + 1)).0, "tpe");
        assert_eq!(auto_strategy(&lr, &[], None).0, "tpe");
        let gated = decisions("[decisions]\na = [\"x\", \"y\"]\nb = { values = [\"p\"], when = { a = \"x\" } }\n");
        assert_eq!(auto_strategy(&gated, &[], Some(50)).0, "gp");
        assert_eq!(auto_strategy(&decisions("[decisions]\na = [\"x\", \"y\"]\n"), &[], Some(50)).0, "evolution");
        assert_eq!(auto_strategy(&SearchSpace::Nb201, &[], Some(50)).0, "evolution");
        assert_eq!(auto_strategy(&SearchSpace::Nb201, &["accuracy".into(), "-params".into()], Some(50)).0, "nsga2");
    }

    /// The user guide's run.toml (every setting at its default).
    pub(super) fn readme_run_toml() -> String {
        let readme = include_str!("../../../docs/src/guide/search.md");
        let block = readme.split("`run.toml` holds any setting").nth(1).and_then(|s| s.split("```toml").nth(1)).and_then(|s| s.split("```").next());
        block.expect("docs/src/guide/search.md has the run.toml block").to_string()
    }
}

/// Bad run.toml files, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz::{apply, config, edits};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 256;
    pub const BAD_VALUES: u32 = 256;

    /// Read, or refused naming the file; a configuration that was read
    /// goes through what the search does with it without a panic or a
    /// late refusal.
    fn reads_or_names_the_file(body: &[u8]) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, body).unwrap();
        match RunConfig::from_toml(&path) {
            Ok(c) => {
                prop_assert!(crate::estimate::EstimatorSpec::parse(&c.estimator).is_ok(), "{}", c.estimator);
                prop_assert!(Budget::parse(&c.budget).is_ok(), "{}", c.budget);
                if let Some(t) = &c.trial_timeout {
                    prop_assert!(crate::units::duration(t).is_ok(), "{}", t);
                }
                prop_assert!(c.workers > 0);
                prop_assert!(c.sandbox.limits().is_ok(), "{:?}", c.sandbox);
                // What the estimators and executors do with the numbers.
                let used = std::panic::catch_unwind(|| {
                    let d = crate::data::synthetic::generate(&crate::data::synthetic::Options { seed: 1, train: 40, test: 10, size: 4 });
                    let s = d.split(c.train.valid_fraction, c.seed);
                    let _ = s.train.pixels.chunks(c.train.batch_size * s.train.image_len()).count();
                    let _ = std::time::Duration::from_secs_f64(c.slurm.poll_seconds);
                });
                prop_assert!(used.is_ok(), "{:?}", c);
            }
            Err(e) => {
                let e = e.to_string();
                let why = e.strip_prefix(&format!("{}: ", path.display()));
                prop_assert!(why.is_some_and(|w| w.trim().len() > 3), "{}", e);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_run_tomls_read_or_name_the_file(edits in edits()) {
            reads_or_names_the_file(&apply(tests::readme_run_toml().into_bytes(), &edits))?;
        }
    }

    /// A key of run.toml (with its table) and a value, right or wrong.
    fn setting() -> impl Strategy<Value = (&'static str, &'static str, &'static str)> {
        let numbers = vec!["0", "1", "-1", "0.5", "1.5", "nan", "inf", "-inf", "1e300", "9223372036854775807", "18446744073709551616", "\"3\"", "true", "[]"];
        let texts = vec![
            "\"\"", "\"train\"", "\"table:\"", "\"table:x.jsonl\"", "\"trials=0\"", "\"trials=5\"", "\"time=-1m\"", "\"time=nan\"", "\"sim=1e999\"", "\"10m\"",
            "\"soon\"", "5", "\"cuda:x\"",
        ];
        let top = prop::sample::select(vec!["strategy", "space", "dataset", "estimator", "budget", "trial_timeout", "executor"]).prop_flat_map({
            let texts = texts.clone();
            move |k| (Just(""), Just(k), prop::sample::select(texts.clone()))
        });
        let top_numbers = prop::sample::select(vec!["workers", "worker_trials", "seed", "early_stop_min_trials"]).prop_flat_map({
            let numbers = numbers.clone();
            move |k| (Just(""), Just(k), prop::sample::select(numbers.clone()))
        });
        let train =
            prop::sample::select(vec!["epochs", "batch_size", "lr", "data_fraction", "valid_fraction", "channels", "cells", "threads", "memory_format"])
                .prop_flat_map({
                    let numbers = numbers.clone();
                    move |k| (Just("train"), Just(k), prop::sample::select(numbers.clone()))
                });
        let supernet = prop::sample::select(vec!["steps", "valid_batches", "lr", "momentum", "weight_decay", "grad_clip"]).prop_flat_map({
            let numbers = numbers.clone();
            move |k| (Just("supernet"), Just(k), prop::sample::select(numbers.clone()))
        });
        let slurm = prop::sample::select(vec!["gpus", "cpus", "retries", "poll_seconds"]).prop_flat_map({
            let numbers = numbers.clone();
            move |k| (Just("slurm"), Just(k), prop::sample::select(numbers.clone()))
        });
        let values: Vec<&str> = numbers.into_iter().chain(texts.clone()).chain(["\"256MiB\"", "\"0s\"", "\"lots\""]).collect();
        let sandbox =
            prop::sample::select(vec!["fuel", "timeout", "memory"]).prop_flat_map(move |k| (Just("sandbox"), Just(k), prop::sample::select(values.clone())));
        prop_oneof![top, top_numbers, train, supernet, slurm, sandbox]
    }

    proptest! {
        #![proptest_config(config(BAD_VALUES))]
        #[test]
        fn run_tomls_with_bad_values_read_or_name_the_file(settings in prop::collection::vec(setting(), 1..4)) {
            // The defaults with these settings replaced, each in its table,
            // written as text (values such as 2^64 are no TOML value).
            let defaults: toml::Table = toml::from_str(&tests::readme_run_toml()).unwrap();
            let mut tables: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
            for (key, value) in &defaults {
                match value.as_table() {
                    Some(t) => tables.entry(key.clone()).or_default().extend(t.iter().map(|(k, v)| (k.clone(), v.to_string()))),
                    None => tables.entry(String::new()).or_default().push((key.clone(), value.to_string())),
                }
            }
            for (table, key, value) in &settings {
                let lines = tables.entry(table.to_string()).or_default();
                lines.retain(|(k, _)| k != key);
                lines.push((key.to_string(), value.to_string()));
            }
            let text: String = tables
                .iter()
                .map(|(table, lines)| {
                    let header = if table.is_empty() { String::new() } else { format!("[{table}]\n") };
                    header + &lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()
                })
                .collect();
            reads_or_names_the_file(text.as_bytes())?;
        }
    }

    #[test]
    fn values_that_would_fail_late_are_refused_naming_file_and_key() {
        // Regressions: valid_fraction = 1.5 reached `Dataset::split` (an
        // assertion: the supernet estimator panicked); poll_seconds = inf
        // passed the Slurm executor's `> 0` check and panicked in
        // `Duration::from_secs_f64`.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        let bad = |body: &str| {
            std::fs::write(&path, body).unwrap();
            RunConfig::from_toml(&path).unwrap_err().to_string()
        };
        let e = bad("estimator = \"supernet\"\n[train]\nvalid_fraction = 1.5\n");
        assert!(e.contains("run.toml: [train] valid_fraction = 1.5 is not in (0, 1)"), "{e}");
        let e = bad("executor = \"slurm\"\n[slurm]\npoll_seconds = inf\n");
        assert!(e.contains("run.toml: [slurm] poll_seconds = inf: a positive number of seconds"), "{e}");
        let e = bad("[sandbox]\nmemory = \"lots\"\n");
        assert!(e.contains("run.toml: [sandbox] memory = \"lots\": `lots` is not a size"), "{e}");
        let e = bad("[sandbox]\nfuel = 0\n");
        assert!(e.contains("run.toml: [sandbox] fuel = 0: at least 1"), "{e}");
        let e = bad("[sandbox]\nfuel = -5\n");
        assert!(e.contains("run.toml") && e.contains("fuel"), "{e}");
        let e = bad("budget = \"trials=0\"\n");
        assert!(e.contains("run.toml: budget: budget `trials=0`: trials must be a positive integer"), "{e}");
        let e = bad("[train]\nbatch_size = 0\n");
        assert!(e.contains("run.toml: [train] batch_size = 0: at least 1"), "{e}");
        // A misspelt layout would otherwise fail every trial, in the worker.
        let e = bad("[train]\nmemory_format = \"nhwc\"\n");
        assert!(e.contains("run.toml: [train] memory_format = \"nhwc\": use auto, channels-last or contiguous"), "{e}");
        // The command estimator needs its command; a decision space needs
        // an estimator that does not build networks.
        let e = bad("estimator = \"command\"\n");
        assert!(e.contains("run.toml: estimator = \"command\" needs the command to run: `[command] run"), "{e}");
        let space = dir.path().join("mine.toml");
        std::fs::write(&space, "[decisions]\nlr = [0.1, 0.01]\n").unwrap();
        let e = bad(&format!("space = {:?}\n", space.display().to_string()));
        assert!(e.contains("estimator = \"train\": space `mine` is a decision space"), "{e}");
        std::fs::write(&path, format!("space = {:?}\nestimator = \"command\"\n[command]\nrun = \"python train.py\"\n", space.display().to_string())).unwrap();
        assert!(RunConfig::from_toml(&path).is_ok());
    }
}
