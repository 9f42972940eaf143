//! The supernet estimator as an executor: proposals are evaluated one at a
//! time, in this process, on the shared weights; after each one the
//! supernet's state is saved to `RUN/supernet/after-<trial>.safetensors`
//! before the search records the result, so that on resume the state that
//! matches the journal's last evaluated trial is always there.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Executor;
use crate::estimate::one_shot::OneShot;
use crate::estimate::Evaluation;
use crate::run::journal::{Trial, TrialStatus};

/// Checkpoints kept: the newest may be ahead of the journal by one trial.
const KEEP: usize = 3;

/// Evaluates proposals on a supernet and checkpoints it.
pub struct OneShotExecutor {
    supernet: OneShot,
    dir: PathBuf,
    done: VecDeque<(u64, Evaluation)>,
    saved: VecDeque<PathBuf>,
}

impl OneShotExecutor {
    /// Checkpoints go to `run_dir/supernet`.
    pub fn new(supernet: OneShot, run_dir: &Path) -> anyhow::Result<OneShotExecutor> {
        let dir = run_dir.join("supernet");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(OneShotExecutor { supernet, dir, done: VecDeque::new(), saved: VecDeque::new() })
    }

    fn checkpoint_of(&self, trial: u64) -> PathBuf {
        self.dir.join(format!("after-{trial}.safetensors"))
    }

    /// Restores the state after the last trial the journal holds a result
    /// for (nothing to restore before the first).
    pub fn resume(&mut self, trials: &[Trial]) -> anyhow::Result<()> {
        let finished: Vec<&Trial> = trials.iter().filter(|t| t.status != TrialStatus::Pending).collect();
        let Some(last) = finished.iter().rev().find(|t| self.checkpoint_of(t.id).exists()) else {
            if let Some(t) = finished.iter().find(|t| !matches!(t.status, TrialStatus::Invalid(_))) {
                anyhow::bail!("{}: no supernet checkpoint for trial {} or later; the shared weights of this run are lost", self.dir.display(), t.id);
            }
            return Ok(());
        };
        if let Some(t) = finished.iter().find(|t| t.id > last.id && !matches!(t.status, TrialStatus::Invalid(_))) {
            anyhow::bail!("{}: trial {} is recorded but its supernet checkpoint is missing", self.dir.display(), t.id);
        }
        let path = self.checkpoint_of(last.id);
        self.supernet.load(&path)?;
        tracing::info!("supernet restored from {} ({} training steps)", path.display(), self.supernet.steps());
        Ok(())
    }

    fn finish(&mut self, id: u64, e: Evaluation) -> anyhow::Result<()> {
        let path = self.checkpoint_of(id);
        self.supernet.save(&path)?;
        self.saved.push_back(path);
        while self.saved.len() > KEEP {
            if let Some(old) = self.saved.pop_front() {
                let _ = std::fs::remove_file(old);
            }
        }
        self.done.push_back((id, e));
        Ok(())
    }
}

impl Executor for OneShotExecutor {
    fn capacity(&self) -> usize {
        1
    }

    fn in_flight(&self) -> usize {
        self.done.len()
    }

    fn submit(&mut self, id: u64, genotype: &[u32], _arch: &str, _fidelity: Option<f64>) -> anyhow::Result<()> {
        let e = self.supernet.evaluate_path(genotype);
        self.finish(id, e)
    }

    fn submit_relaxed(&mut self, id: u64, weights: &[Vec<f64>], kind: crate::strategy::RelaxedKind) -> anyhow::Result<bool> {
        let e = self.supernet.evaluate_relaxed(weights, kind);
        self.finish(id, e)?;
        Ok(true)
    }

    fn poll(&mut self, _wait: bool) -> anyhow::Result<Vec<(u64, Evaluation)>> {
        Ok(self.done.drain(..).collect())
    }

    fn cancel_all(&mut self) -> Vec<u64> {
        vec![]
    }

    fn reuses_results(&self) -> bool {
        false
    }
}
