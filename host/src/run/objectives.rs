//! The objectives of a multi-objective search: `nasbox search --objectives
//! accuracy,-params` (or `objectives = ["accuracy", "-params"]` in
//! run.toml). `accuracy` is the trial's objective (validation accuracy);
//! any other name is a metric the estimator reports; `-` means smaller is
//! better.
//!
//! No contract addition carries them: the host hands them to the strategy
//! as its `objectives` setting (`accuracy,-params`), and refuses them with a
//! strategy whose `info` lists no such key; the strategy reads the values
//! from the metrics every observation already carries. `results` lists the
//! run's front over them and `report` draws it (see [`crate::report::pareto`]).

use std::path::PathBuf;

use super::constraint::Constraints;
use crate::estimate::table::Table;
use crate::estimate::zero_cost::Scores;
use crate::estimate::EstimatorSpec;
use crate::report::pareto::{self, Objective};
use crate::space::SearchSpace;

/// The config key a multi-objective strategy lists in its `info`.
pub const KEY: &str = "objectives";

/// The run's objectives (none for a single-objective run); an error names
/// the part and the problem.
pub fn of(list: &[String]) -> Result<Vec<Objective>, String> {
    if list.is_empty() {
        return Ok(vec![]);
    }
    pareto::parse(&list.join(","))
}

/// The metrics `estimator` reports on `space` (a table: its columns).
pub fn reported(estimator: &EstimatorSpec, space: &SearchSpace, run_dir: Option<&std::path::Path>) -> anyhow::Result<Vec<String>> {
    let names: &[&str] = match estimator {
        EstimatorSpec::Train | EstimatorSpec::EarlyStop => &["params", "flops", "latency-ms", "train-loss", "valid-loss", "epochs", "train-seconds"],
        // Whatever its script writes into `metrics`.
        EstimatorSpec::Command { .. } => &[],
        EstimatorSpec::ZeroCost => &Scores::NAMES,
        EstimatorSpec::Supernet => &["train-loss", "valid-loss", "supernet-steps"],
        EstimatorSpec::Table(path) => {
            // As the search resolves it: relative to the run folder when it is not here.
            let path: PathBuf = match run_dir {
                Some(dir) if path.is_relative() && !path.exists() => dir.join(path),
                _ => path.clone(),
            };
            return Ok(Table::load(&path, space)?.metric_names());
        }
    };
    Ok(names.iter().map(|s| s.to_string()).collect())
}

/// Checks `--constraint` against what the estimator reports (a command's
/// metrics are known only once trials ran).
pub fn check_constraints(
    constraints: &[String],
    estimator: &EstimatorSpec,
    estimator_text: &str,
    space: &SearchSpace,
    run_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let constraints = Constraints::parse(constraints).map_err(|e| anyhow::anyhow!("--constraint: {e}"))?;
    if constraints.is_empty() || matches!(estimator, EstimatorSpec::Command { .. }) {
        return Ok(());
    }
    let kind = estimator_text.split(':').next().unwrap_or(estimator_text);
    constraints.check_reported(&reported(estimator, space, run_dir)?, kind).map_err(|e| anyhow::anyhow!("--constraint: {e}"))
}

/// Checks `--objectives` against what the estimator reports, naming the
/// flag and the metric.
pub fn check(list: &[String], estimator: &EstimatorSpec, estimator_text: &str, space: &SearchSpace, run_dir: Option<&std::path::Path>) -> anyhow::Result<()> {
    let objectives = of(list).map_err(|e| anyhow::anyhow!("--objectives: {e}"))?;
    if objectives.is_empty() {
        return Ok(());
    }
    // A command reports whatever metrics its script writes: known only
    // once trials ran.
    if matches!(estimator, EstimatorSpec::Command { .. }) {
        return Ok(());
    }
    let reported = reported(estimator, space, run_dir)?;
    let kind = estimator_text.split(':').next().unwrap_or(estimator_text);
    pareto::check_reported(&objectives, &reported, kind).map_err(|e| anyhow::anyhow!("--objectives: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `--objectives` and `--constraint` are checked against must be
    /// the names trials carry: zero-cost's `grad-norm` was listed as
    /// `grad_norm`, which refused the real name and passed one no trial has.
    #[test]
    fn zero_cost_metrics_are_checked_under_the_names_trials_carry() {
        let names = reported(&EstimatorSpec::ZeroCost, &SearchSpace::Nb201, None).unwrap();
        assert_eq!(names, ["synflow", "naswot", "grad-norm", "snip"]);
        assert!(check(&["accuracy".into(), "-grad-norm".into()], &EstimatorSpec::ZeroCost, "zero-cost", &SearchSpace::Nb201, None).is_ok());
        assert!(check_constraints(&["grad-norm>=1".into()], &EstimatorSpec::ZeroCost, "zero-cost", &SearchSpace::Nb201, None).is_ok());
        let e = check_constraints(&["params<=1e6".into()], &EstimatorSpec::ZeroCost, "zero-cost", &SearchSpace::Nb201, None).unwrap_err().to_string();
        assert!(e.starts_with("--constraint: constraint `params<=1000000`: `params` is not a metric the zero-cost estimator reports"), "{e}");
    }
}
