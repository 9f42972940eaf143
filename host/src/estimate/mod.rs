//! Performance estimation strategies: how a proposed architecture gets its
//! score. Training ([`train`], optionally with early stopping), training-free
//! proxies ([`zero_cost`]) and benchmark tables ([`table`]).

pub mod command;
pub mod one_shot;
pub mod proxies;
pub mod stopping;
pub mod table;
pub mod train;
pub mod zero_cost;

use std::path::PathBuf;

use crate::run::journal::TrialStatus;

/// The outcome of evaluating one architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub status: TrialStatus,
    /// Higher is better: validation accuracy for training and tables, the
    /// rank vote in [0, 1] for zero-cost proxies. 0 unless ok.
    pub objective: f64,
    /// Seconds spent (simulated seconds for tables).
    pub cost: f64,
    pub metrics: Vec<(String, f64)>,
    /// For a relaxed proposal: the gradient of the validation loss with
    /// respect to its weights.
    pub gradient: Option<Vec<Vec<f64>>>,
}

impl Evaluation {
    pub fn ok(objective: f64, cost: f64, metrics: Vec<(String, f64)>) -> Evaluation {
        Evaluation { status: TrialStatus::Ok, objective, cost, metrics, gradient: None }
    }

    pub fn failed(reason: impl Into<String>) -> Evaluation {
        Evaluation { status: TrialStatus::Failed(reason.into()), objective: 0.0, cost: 0.0, metrics: vec![], gradient: None }
    }

    pub fn invalid(reason: impl Into<String>) -> Evaluation {
        Evaluation { status: TrialStatus::Invalid(reason.into()), ..Evaluation::failed("") }
    }
}

/// Which estimator a run uses, as given to `--estimator`.
#[derive(Debug, Clone, PartialEq)]
pub enum EstimatorSpec {
    /// Train from scratch; fidelity scales the epochs.
    Train,
    /// Train, stopping trials whose curve falls below the median of
    /// finished trials' curves at the same epoch.
    EarlyStop,
    /// Training-free proxies on one minibatch, ranked by their vote.
    ZeroCost,
    /// Look results up in a benchmark table.
    Table(PathBuf),
    /// Shared weights for the whole space (one-shot): a discrete proposal
    /// trains and is scored on its path, a relaxed one takes a
    /// differentiable step.
    Supernet,
    /// The user's own command (`[command] run`) trains each trial and
    /// reports through the protocol of [`command`]; with `early_stop`, its
    /// progress lines feed the run's early-stopping rule.
    Command { early_stop: bool },
}

impl EstimatorSpec {
    pub fn parse(text: &str) -> Result<EstimatorSpec, String> {
        match text {
            "train" => Ok(EstimatorSpec::Train),
            "early-stop" => Ok(EstimatorSpec::EarlyStop),
            "zero-cost" => Ok(EstimatorSpec::ZeroCost),
            "supernet" => Ok(EstimatorSpec::Supernet),
            "command" => Ok(EstimatorSpec::Command { early_stop: false }),
            "command+early-stop" => Ok(EstimatorSpec::Command { early_stop: true }),
            _ => match text.strip_prefix("table:") {
                Some(path) if !path.is_empty() => Ok(EstimatorSpec::Table(crate::units::path(path))),
                _ => Err(format!("unknown estimator `{text}` (use train, early-stop, zero-cost, supernet, command, command+early-stop or table:FILE)")),
            },
        }
    }

    /// Training estimators (the built-in trainer or the user's command)
    /// run in worker processes; the others in-process.
    pub fn trains(&self) -> bool {
        matches!(self, EstimatorSpec::Train | EstimatorSpec::EarlyStop | EstimatorSpec::Command { .. })
    }

    /// Whether it stops unpromising trials early.
    pub fn stops_early(&self) -> bool {
        matches!(self, EstimatorSpec::EarlyStop | EstimatorSpec::Command { early_stop: true })
    }

    /// Whether it needs nasbox to build the space's networks.
    pub fn needs_network(&self) -> bool {
        !matches!(self, EstimatorSpec::Table(_) | EstimatorSpec::Command { .. })
    }

    pub fn to_text(&self) -> String {
        match self {
            EstimatorSpec::Train => "train".into(),
            EstimatorSpec::EarlyStop => "early-stop".into(),
            EstimatorSpec::ZeroCost => "zero-cost".into(),
            EstimatorSpec::Table(p) => format!("table:{}", p.display()),
            EstimatorSpec::Supernet => "supernet".into(),
            EstimatorSpec::Command { early_stop: false } => "command".into(),
            EstimatorSpec::Command { early_stop: true } => "command+early-stop".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimator_specs_parse_and_print() {
        for text in ["train", "early-stop", "zero-cost", "command", "command+early-stop", "table:runs/t.jsonl"] {
            assert_eq!(EstimatorSpec::parse(text).unwrap().to_text(), text);
        }
        assert!(EstimatorSpec::parse("table:").unwrap_err().contains("table:FILE"));
        assert!(EstimatorSpec::parse("oracle").unwrap_err().contains("unknown estimator `oracle`"));
    }
}
