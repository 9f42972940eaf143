//! A search run: the configuration it was started with, its budget, the
//! journal that records it, where trials are evaluated, and the loop that
//! ties strategy, estimator and journal together.
//!
//! A run folder holds `journal.sqlite` (manifest, trials, calls, cluster
//! jobs), `trials/<id>.log` (local worker output) and, for Slurm,
//! `jobs/<trial>.<attempt>/` (each job's input, progress and result). Everything needed to resume or
//! report on a run is in the journal.

pub mod budget;
pub mod executor;
pub mod interrupt;
pub mod journal;
pub mod lock;
pub mod search;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::estimate::train::TrainOptions;
pub use budget::Budget;
pub use crate::estimate::one_shot::OneShotOptions;
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
    /// nb201, darts, chain or a chain space's .toml file.
    pub space: String,
    pub dataset: String,
    /// train, early-stop, zero-cost, supernet or table:FILE.
    pub estimator: String,
    /// e.g. `trials=50,time=8m`; see [`Budget`].
    pub budget: String,
    /// Trials in flight at once (for Slurm: jobs queued or running).
    pub workers: usize,
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
    pub train: TrainOptions,
    /// How the supernet estimator trains the shared weights.
    pub supernet: OneShotOptions,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            strategy: "evolution".into(),
            space: "nb201".into(),
            dataset: "synthetic".into(),
            estimator: "train".into(),
            budget: "trials=50,time=8m".into(),
            // Two single-threaded workers use a 2-core machine best: one
            // libtorch process with two OpenMP threads slows to a crawl as
            // soon as anything else wants a core.
            workers: 2,
            executor: ExecutorKind::Local,
            slurm: SlurmOptions::default(),
            seed: 0,
            set: BTreeMap::new(),
            trial_timeout: None,
            early_stop_min_trials: 4,
            train: TrainOptions::default(),
            supernet: OneShotOptions::default(),
        }
    }
}

impl RunConfig {
    /// Reads a run.toml; errors name the file.
    pub fn from_toml(path: &Path) -> anyhow::Result<RunConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))
    }
}

/// Finds a strategy component: a path that exists, or a built-in name
/// looked up in `$NASBOX_STRATEGIES` (colon-separated folders), then next
/// to the binary (`target/wasm32-wasip2/release` for a cargo build, or a
/// `strategies/` folder beside an installed binary).
pub fn find_strategy(spec: &str) -> anyhow::Result<PathBuf> {
    let direct = PathBuf::from(spec);
    if direct.exists() {
        return Ok(direct);
    }
    let file = if spec.ends_with(".wasm") { spec.to_string() } else { format!("{spec}.wasm") };
    let mut dirs: Vec<PathBuf> = std::env::var_os("NASBOX_STRATEGIES").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    if let Some(bin) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        dirs.push(bin.join("../wasm32-wasip2/release"));
        dirs.push(bin.join("strategies"));
    }
    for d in &dirs {
        let candidate = d.join(&file);
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    anyhow::bail!(
        "strategy `{spec}`: no such file, and no built-in strategy of that name in {} (build them with scripts/build-strategies)",
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README shows a run.toml with every setting at its default; it
    /// must parse, and say what the defaults are.
    #[test]
    fn the_readme_run_toml_is_the_defaults() {
        let readme = include_str!("../../../README.md");
        let block = readme.split("`run.toml` holds any setting").nth(1).and_then(|s| s.split("```toml").nth(1)).and_then(|s| s.split("```").next()).expect("the README has the run.toml block");
        let parsed: RunConfig = toml::from_str(block).unwrap_or_else(|e| panic!("the README's run.toml: {e}"));
        assert_eq!(parsed, RunConfig::default());
    }
}
