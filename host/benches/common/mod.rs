//! Shared by the benchmark programs; each uses some of it.

#![allow(dead_code)]

use std::path::PathBuf;

use nasbox::estimate::train::TrainJob;
use nasbox::run::TrainOptions;
use nasbox::space;

/// The workspace's target directory (honouring `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The worker job of a built-in training on NAS-Bench-201 cells and the
/// synthetic data, seed 0; the executors fill in each trial.
pub fn synthetic_job(train: &TrainOptions) -> TrainJob {
    TrainJob {
        space: "nb201".into(),
        arch: String::new(),
        dataset: "synthetic".into(),
        seed: 0,
        fidelity: None,
        train: train.clone(),
        test: false,
        command: None,
    }
}

/// The median of some timings.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Seconds since the Unix epoch: timestamps that a trial's own process can
/// take too (`date +%s.%N`), for timings across processes.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A host space as the SDK's native runner takes it.
pub fn sdk_space(s: &space::Space) -> nasbox_sdk::Space {
    nasbox_sdk::Space {
        name: s.name.clone(),
        decisions: s.decisions.iter().map(|d| nasbox_sdk::Decision { name: d.name.clone(), choices: d.choices.clone() }).collect(),
    }
}
