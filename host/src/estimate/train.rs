//! The training estimator: one trial is one `nasbox worker` process that
//! trains the architecture and streams its epochs back as JSON lines, so a
//! crash or out-of-memory fails that trial, not the search. A proposal's
//! fidelity scales the epochs (at least one).
//!
//! Early stopping uses the median stopping rule (Golovin et al. 2017,
//! Google Vizier): after an epoch, a trial whose best accuracy so far is
//! below the median of the finished trials' accuracies at that epoch is
//! stopped; its best accuracy so far is its result.

use serde::{Deserialize, Serialize};

use super::Evaluation;
use crate::data;
use crate::space::SearchSpace;
use crate::train::{self, Progress, Skeleton, TrainConfig};

/// How a run trains architectures (the `train` and `early-stop`
/// estimators), and the data every estimator uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainOptions {
    /// Epochs at fidelity 1.
    pub epochs: usize,
    pub batch_size: usize,
    /// Initial learning rate; unset: the space's recipe (see `train::default_lr`).
    /// In a `+hp` space, each trial's recipe sets the learning rate and the
    /// batch size instead (this and `batch_size` are then unused).
    pub lr: Option<f64>,
    pub data_fraction: f64,
    pub valid_fraction: f64,
    /// Skeleton size (nb201, darts); the default is a small, fast skeleton.
    pub channels: Option<i64>,
    pub cells: Option<usize>,
    /// libtorch threads per worker (default: the cores shared among workers).
    pub threads: Option<i32>,
    /// cpu, cuda, cuda:N or auto.
    pub device: String,
    /// CUDA devices to spread workers over, one trial per device at a time.
    pub devices: Vec<usize>,
    /// Layout of images and convolution weights: auto (channels-last, see
    /// `TrainConfig::with_device_defaults`), channels-last or contiguous.
    /// The layout changes the order of floating-point sums, so the two give
    /// slightly different (each deterministic) results for the same seed.
    pub memory_format: String,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            // Two epochs rank cells of the synthetic task much as 8 do
            // (bench/signal-ranking: ρ = 0.60–0.72 over two layouts, where
            // 8 epochs agree with themselves over two seeds at 0.79–0.82;
            // docs/src/performance.md).
            epochs: 2,
            batch_size: 64,
            lr: None,
            data_fraction: 0.5,
            valid_fraction: 0.1,
            channels: Some(8),
            cells: Some(1),
            threads: None,
            device: "cpu".into(),
            devices: vec![],
            memory_format: "auto".into(),
        }
    }
}

/// Everything a worker needs to train one architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainJob {
    /// `nb201`, `darts`, `chain` or a TOML file's path.
    pub space: String,
    pub arch: String,
    pub dataset: String,
    pub seed: u64,
    pub fidelity: Option<f64>,
    pub train: TrainOptions,
    /// Also evaluate on the test set (`test-accuracy`, `test-loss`): only
    /// for building benchmark tables, whose strategies ignore results.
    #[serde(default)]
    pub test: bool,
    /// Run the user's command instead of the built-in trainer (the
    /// `command` estimator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<super::command::CommandJob>,
}

impl TrainJob {
    /// Epochs at this job's fidelity.
    pub fn epochs_at_fidelity(&self) -> usize {
        ((self.train.epochs as f64 * self.fidelity.unwrap_or(1.0)).round() as usize).max(1)
    }
}

/// One line a worker writes to its standard output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerLine {
    /// An epoch finished: its validation accuracy.
    Epoch { epoch: usize, valid_accuracy: f64, train_loss: f64 },
    /// Training finished (or diverged).
    Done { valid_accuracy: f64, diverged: bool, seconds: f64, metrics: Vec<(String, f64)> },
    /// The job could not run (bad space, data, architecture).
    Error { message: String },
    /// The trial's command runs in this process group (the command
    /// estimator): if the worker itself is killed with SIGKILL, which it
    /// cannot catch, the executor ends the group for it, so that nothing the
    /// command started outlives the trial.
    Group { id: i32 },
}

/// Runs a job in this process, reporting each line to `emit`.
pub fn run_job(job: &TrainJob, emit: &mut dyn FnMut(WorkerLine)) -> anyhow::Result<()> {
    run_job_cached(job, &mut DataCache::default(), emit)
}

/// The data a persistent worker keeps between the trials it serves:
/// loading or generating a dataset and splitting it is most of a short
/// trial's fixed cost, and every trial of a run uses the same.
#[derive(Default)]
pub struct DataCache {
    key: Option<(String, u64, u64)>,
    data: Option<(data::Dataset, data::Splits)>,
}

impl DataCache {
    fn get(&mut self, dataset: &str, seed: u64, valid_fraction: f64) -> anyhow::Result<&(data::Dataset, data::Splits)> {
        let key = (dataset.to_string(), seed, valid_fraction.to_bits());
        if self.key.as_ref() != Some(&key) || self.data.is_none() {
            self.data = None;
            let d = data::load(dataset, seed)?;
            let splits = d.split(valid_fraction, seed);
            self.data = Some((d, splits));
            self.key = Some(key);
        }
        Ok(self.data.as_ref().expect("just loaded"))
    }
}

/// [`run_job`] with the data of earlier jobs kept in `cache`.
pub fn run_job_cached(job: &TrainJob, cache: &mut DataCache, emit: &mut dyn FnMut(WorkerLine)) -> anyhow::Result<()> {
    if let Some(command) = &job.command {
        return super::command::run(job, command, emit);
    }
    let o = &job.train;
    let space = SearchSpace::resolve(&job.space)?;
    let genotype = space.parse(&job.arch)?;
    let device = train::device(&o.device)?;
    tch::manual_seed(job.seed as i64);
    if let Some(t) = o.threads {
        tch::set_num_threads(t);
    }
    let (dataset, splits) = cache.get(&job.dataset, job.seed, o.valid_fraction)?;
    let skeleton = Skeleton::for_data(&space, o.channels, o.cells, &splits.train, dataset.classes.len());
    let vs = tch::nn::VarStore::new(device);
    let net = train::build(&vs.root(), &space, &genotype, &skeleton)?;
    let cfg = TrainConfig {
        epochs: job.epochs_at_fidelity(),
        batch_size: o.batch_size,
        lr: o.lr.unwrap_or_else(|| train::default_lr(&space)),
        data_fraction: o.data_fraction,
        seed: job.seed,
        device,
        ..TrainConfig::default()
    }
    .with_device_defaults()
    .with_memory_format(&o.memory_format)
    .map_err(|e| anyhow::anyhow!("[train] {e}"))?;
    // A +hp trial's recipe decides lr, batch size and the rest, over [train].
    let cfg = match space.recipe(&genotype) {
        Some(recipe) => cfg.with_recipe(&recipe, skeleton.image_size as usize),
        None => cfg,
    };
    let r = train::train_with_progress(&vs, net.as_ref(), splits, &cfg, dataset.flip_ok, &mut |p| {
        if let Progress::Epoch(e) = p {
            let train_loss = if e.train_loss.is_finite() { e.train_loss } else { f64::MAX };
            emit(WorkerLine::Epoch { epoch: e.epoch, valid_accuracy: e.valid_accuracy, train_loss });
        }
    })?;
    // JSON has no NaN or infinity (a diverged run's losses): leave those out.
    let finite = |m: Vec<(String, f64)>| m.into_iter().filter(|(_, v)| v.is_finite()).collect();
    let mut extra = vec![];
    if job.test && !r.diverged {
        let (acc, loss) = train::test(net.as_ref(), splits, &cfg);
        extra = vec![("test-accuracy".to_string(), acc), ("test-loss".to_string(), loss)];
    }
    emit(WorkerLine::Done {
        valid_accuracy: if r.valid_accuracy.is_finite() { r.valid_accuracy } else { 0.0 },
        diverged: r.diverged,
        seconds: r.seconds,
        metrics: finite(
            vec![
                ("params".into(), r.params as f64),
                ("flops".into(), r.flops as f64),
                ("latency-ms".into(), r.latency_ms),
                ("train-loss".into(), r.train_loss),
                ("valid-loss".into(), r.valid_loss),
                ("epochs".into(), r.epochs as f64),
                // The trainer's own time (training, validation, latency): the
                // rest of a trial's wall time is the fixed cost around it.
                ("train-seconds".into(), r.seconds),
            ]
            .into_iter()
            .chain(extra)
            .collect(),
        ),
    });
    Ok(())
}

/// What the median stopping rule knows: the curves of finished trials.
#[derive(Debug, Default, Clone)]
pub struct MedianRule {
    /// Per finished trial, validation accuracy per epoch.
    curves: Vec<Vec<f64>>,
    /// Finished trials needed before anything is stopped.
    pub min_trials: usize,
}

impl MedianRule {
    pub fn new(min_trials: usize) -> MedianRule {
        MedianRule { curves: vec![], min_trials }
    }

    /// Records a finished trial's curve.
    pub fn finished(&mut self, curve: Vec<f64>) {
        self.curves.push(curve);
    }

    /// Whether a trial whose curve so far is `curve` should stop.
    pub fn should_stop(&self, curve: &[f64]) -> bool {
        let epoch = curve.len();
        if epoch == 0 {
            return false;
        }
        let mut at: Vec<f64> = self.curves.iter().filter_map(|c| c.get(epoch - 1).copied()).collect();
        if at.len() < self.min_trials.max(1) {
            return false;
        }
        at.sort_by(f64::total_cmp);
        let median = if at.len() % 2 == 1 { at[at.len() / 2] } else { (at[at.len() / 2 - 1] + at[at.len() / 2]) / 2.0 };
        let best = curve.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        best < median
    }
}

/// The evaluation of a trial from its worker's lines and exit.
pub fn evaluation(curve: &[f64], done: Option<WorkerLine>, stopped: bool, seconds: f64, failure: Option<String>) -> Evaluation {
    let curve_metrics = || curve.iter().enumerate().map(|(i, a)| (format!("valid-accuracy-epoch-{}", i + 1), *a)).collect::<Vec<_>>();
    match done {
        Some(WorkerLine::Done { diverged: true, .. }) => Evaluation::failed(format!("diverged: the loss became NaN or infinite after {} epochs", curve.len())),
        Some(WorkerLine::Done { valid_accuracy, metrics, .. }) => {
            let mut m = metrics;
            m.extend(curve_metrics());
            Evaluation::ok(valid_accuracy, seconds, m)
        }
        Some(WorkerLine::Error { message }) => Evaluation::failed(message),
        _ if stopped && !curve.is_empty() => {
            let best = curve.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut m = curve_metrics();
            m.push(("stopped-at-epoch".into(), curve.len() as f64));
            Evaluation::ok(best, seconds, m)
        }
        _ => Evaluation::failed(failure.unwrap_or_else(|| "the worker exited without a result".into())),
    }
}

/// The curve a finished trial's metrics hold (for rebuilding the median
/// rule from a journal).
pub fn curve_of(metrics: &[(String, f64)]) -> Vec<f64> {
    let mut points: Vec<(usize, f64)> =
        metrics.iter().filter_map(|(k, v)| k.strip_prefix("valid-accuracy-epoch-").and_then(|e| e.parse().ok()).map(|e: usize| (e, *v))).collect();
    points.sort_by_key(|p| p.0);
    points.into_iter().map(|p| p.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::journal::TrialStatus;

    #[test]
    fn fidelity_scales_epochs_and_keeps_at_least_one() {
        let job = TrainJob {
            space: "nb201".into(),
            arch: String::new(),
            dataset: "synthetic".into(),
            seed: 0,
            fidelity: Some(0.25),
            train: TrainOptions { epochs: 12, ..TrainOptions::default() },
            test: false,
            command: None,
        };
        assert_eq!(job.epochs_at_fidelity(), 3);
        assert_eq!(TrainJob { fidelity: Some(0.01), ..job.clone() }.epochs_at_fidelity(), 1);
        assert_eq!(TrainJob { fidelity: None, ..job }.epochs_at_fidelity(), 12);
    }

    #[test]
    fn the_median_rule_stops_curves_below_the_median_only_after_enough_trials() {
        let mut rule = MedianRule::new(3);
        rule.finished(vec![0.5, 0.6]);
        rule.finished(vec![0.3, 0.7]);
        assert!(!rule.should_stop(&[0.1]), "too few finished trials");
        rule.finished(vec![0.4, 0.8]);
        assert!(rule.should_stop(&[0.35]));
        assert!(!rule.should_stop(&[0.45]));
        assert!(rule.should_stop(&[0.45, 0.6]), "median at epoch 2 is 0.7");
        assert!(!rule.should_stop(&[0.45, 0.71]));
        assert!(!rule.should_stop(&[0.1, 0.2, 0.3]), "no finished trial reached epoch 3");
    }

    #[test]
    fn worker_outcomes_become_evaluations() {
        let done = WorkerLine::Done { valid_accuracy: 0.8, diverged: false, seconds: 3.0, metrics: vec![("params".into(), 9.0)] };
        let e = evaluation(&[0.5, 0.8], Some(done), false, 3.5, None);
        assert_eq!((e.status.clone(), e.objective, e.cost), (TrialStatus::Ok, 0.8, 3.5));
        assert_eq!(curve_of(&e.metrics), vec![0.5, 0.8]);
        let diverged = WorkerLine::Done { valid_accuracy: 0.1, diverged: true, seconds: 1.0, metrics: vec![] };
        assert!(matches!(evaluation(&[], Some(diverged), false, 1.0, None).status, TrialStatus::Failed(r) if r.contains("diverged")));
        let stopped = evaluation(&[0.2, 0.3], None, true, 2.0, None);
        assert_eq!(stopped.objective, 0.3);
        assert!(stopped.metrics.contains(&("stopped-at-epoch".to_string(), 2.0)));
        let crashed = evaluation(&[0.2], None, false, 2.0, Some("the worker was killed by signal 9".into()));
        assert!(matches!(crashed.status, TrialStatus::Failed(r) if r.contains("signal 9")));
    }
}
