//! Where trials are evaluated: in this process for cheap estimators
//! (tables, zero-cost proxies), in `nasbox worker` processes on this
//! machine ([`local`]), or as Slurm jobs on a cluster ([`slurm`]), so that a
//! crash, an out-of-memory kill or a timeout fails one trial and the search
//! goes on.

pub mod local;
pub mod one_shot;
pub mod slurm;

use std::collections::VecDeque;

use crate::estimate::Evaluation;

pub use local::Workers;
pub use one_shot::OneShotExecutor;
pub use slurm::Slurm;

/// The command that runs a worker: this binary's `worker` subcommand, or
/// the launcher prefix in `NASBOX_WORKER_COMMAND` (a container, `srun`, …).
pub fn worker_command() -> anyhow::Result<Vec<String>> {
    Ok(match std::env::var("NASBOX_WORKER_COMMAND") {
        Ok(c) if !c.trim().is_empty() => c.split_whitespace().map(String::from).collect(),
        _ => vec![std::env::current_exe()?.display().to_string(), "worker".into()],
    })
}

/// Runs trials and hands back their evaluations.
pub trait Executor {
    /// Trials it runs at once.
    fn capacity(&self) -> usize;
    fn in_flight(&self) -> usize;
    fn submit(&mut self, id: u64, genotype: &[u32], arch: &str, fidelity: Option<f64>) -> anyhow::Result<()>;
    /// Finished trials, in the order they finished. With `wait`, blocks
    /// until at least one finishes (if any is in flight).
    fn poll(&mut self, wait: bool) -> anyhow::Result<Vec<(u64, Evaluation)>>;
    /// Stops every trial in flight and returns their ids.
    fn cancel_all(&mut self) -> Vec<u64>;
    /// A trial finished in an earlier session (for early stopping).
    fn remember(&mut self, _metrics: &[(String, f64)]) {}
    /// Evaluates a relaxed proposal (weights per decision), read as `kind`
    /// says (the strategy's `relaxation`); `false`: this executor evaluates
    /// discrete architectures only.
    fn submit_relaxed(&mut self, _id: u64, _weights: &[Vec<f64>], _kind: crate::strategy::RelaxedKind) -> anyhow::Result<bool> {
        Ok(false)
    }
    /// Whether a repeated architecture may be answered with the earlier
    /// result; not when evaluation has state (shared weights that train on).
    fn reuses_results(&self) -> bool {
        true
    }
}

/// Evaluates each trial at once, in this process, in submission order.
pub struct InProcess<F: FnMut(&[u32], Option<f64>) -> Evaluation> {
    evaluate: F,
    done: VecDeque<(u64, Evaluation)>,
}

impl<F: FnMut(&[u32], Option<f64>) -> Evaluation> InProcess<F> {
    pub fn new(evaluate: F) -> Self {
        InProcess { evaluate, done: VecDeque::new() }
    }
}

impl<F: FnMut(&[u32], Option<f64>) -> Evaluation> Executor for InProcess<F> {
    fn capacity(&self) -> usize {
        1
    }

    fn in_flight(&self) -> usize {
        self.done.len()
    }

    fn submit(&mut self, id: u64, genotype: &[u32], _arch: &str, fidelity: Option<f64>) -> anyhow::Result<()> {
        let e = (self.evaluate)(genotype, fidelity);
        self.done.push_back((id, e));
        Ok(())
    }

    fn poll(&mut self, _wait: bool) -> anyhow::Result<Vec<(u64, Evaluation)>> {
        Ok(self.done.drain(..).collect())
    }

    fn cancel_all(&mut self) -> Vec<u64> {
        vec![]
    }
}
