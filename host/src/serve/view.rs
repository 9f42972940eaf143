//! A run as the dashboard shows it, read from its journal (read-only) and
//! cached: however many clients watch a run, its journal is read at most
//! once per [`FRESH`], and again only when its files changed, so watching
//! costs the search nothing it would notice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::status;
use crate::run::journal::{Journal, Trial, TrialStatus};
use crate::run::search::JOURNAL;
use crate::run::{Budget, RunConfig};
use crate::space::SearchSpace;

/// How long a read stays fresh.
pub const FRESH: std::time::Duration = std::time::Duration::from_millis(250);

/// A run: what the runs page lists.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub name: String,
    /// running, finished, interrupted or unreadable.
    pub status: &'static str,
    pub strategy: String,
    pub space: String,
    pub estimator: String,
    pub budget: String,
    pub trials: usize,
    pub budget_trials: Option<u64>,
    pub ok: usize,
    pub failed: usize,
    pub invalid: usize,
    pub pending: usize,
    pub best: Option<f64>,
    pub best_trial: Option<u64>,
    pub best_arch: Option<String>,
    pub recommendation: Option<String>,
    /// Seconds the search has run (as of its last result).
    pub elapsed: f64,
    /// Why the journal could not be read.
    pub error: Option<String>,
}

/// A run read at one moment.
#[derive(Debug)]
pub struct View {
    pub summary: Summary,
    pub trials: Vec<Trial>,
    pub space: Option<SearchSpace>,
    /// Changes whenever what was read changes.
    pub version: u64,
}

impl View {
    /// Reads the run in `dir`; with the `previous` read of it, only the
    /// trials that were unfinished or new then.
    pub fn load(name: &str, dir: &Path, running: bool, previous: Option<&View>) -> View {
        match read(dir, previous.map(|v| v.trials.as_slice())) {
            Ok((config, trials, elapsed, strategy, recommendation)) => {
                let summary = summarize(name, &config, &trials, elapsed, strategy, recommendation, running);
                View { summary, space: SearchSpace::resolve(&config.space).ok(), trials, version: 0 }
            }
            Err(e) => View { summary: unreadable(name, format!("{e:#}")), trials: vec![], space: None, version: 0 },
        }
    }

    /// Best objective so far after each trial (NaN before the first).
    pub fn best_so_far(&self) -> Vec<f64> {
        let mut best = f64::NEG_INFINITY;
        self.trials
            .iter()
            .map(|t| {
                if ranked(t) {
                    best = best.max(t.objective);
                }
                if best.is_finite() {
                    best
                } else {
                    f64::NAN
                }
            })
            .collect()
    }
}

/// Whether a trial's objective is an architecture's result.
pub fn ranked(t: &Trial) -> bool {
    t.status == TrialStatus::Ok && t.relaxed.is_none()
}

type Read = (RunConfig, Vec<Trial>, f64, String, Option<String>);

fn read(dir: &Path, previous: Option<&[Trial]>) -> anyhow::Result<Read> {
    let j = Journal::open_read_only(&dir.join(JOURNAL))?;
    // Finished trials never change: keep those already read, unless the
    // last of them is not what the journal holds (the folder got a new run).
    let keep = previous.map_or(0, |p| p.iter().position(|t| t.status == TrialStatus::Pending).unwrap_or(p.len()));
    let trials = match previous {
        Some(p) if keep > 0 => {
            let fresh = j.trials_from(keep as u64 - 1)?;
            if fresh.first() == Some(&p[keep - 1]) {
                p[..keep].iter().cloned().chain(fresh.into_iter().skip(1)).collect()
            } else {
                j.trials()?
            }
        }
        _ => j.trials()?,
    };
    let config: RunConfig = serde_json::from_value(j.manifest("config")?.ok_or_else(|| anyhow::anyhow!("the journal has no config"))?)?;
    let elapsed = j.manifest("elapsed")?.and_then(|v| v.as_f64()).unwrap_or(0.0);
    let strategy = j.manifest("strategy")?.and_then(|v| v["name"].as_str().map(String::from)).unwrap_or_else(|| config.strategy.clone());
    let recommendation = j.manifest("recommendation")?.and_then(|v| v.as_str().map(String::from));
    Ok((config, trials, elapsed, strategy, recommendation))
}

fn summarize(name: &str, config: &RunConfig, trials: &[Trial], elapsed: f64, strategy: String, recommendation: Option<String>, running: bool) -> Summary {
    let count = |f: fn(&TrialStatus) -> bool| trials.iter().filter(|t| f(&t.status)).count();
    let best = trials.iter().filter(|t| ranked(t)).max_by(|a, b| a.objective.total_cmp(&b.objective).then(b.id.cmp(&a.id)));
    let budget = Budget::parse(&config.budget).unwrap_or_default();
    let pending = count(|s| *s == TrialStatus::Pending);
    let simulated: f64 = trials.iter().filter(|t| t.status != TrialStatus::Pending).map(|t| t.cost).sum();
    let spent = budget.trials.is_some_and(|n| trials.len() as u64 >= n)
        || budget.simulated.is_some_and(|s| simulated >= s)
        || budget.time.is_some_and(|t| elapsed >= t.as_secs_f64());
    // A search that ended on its own has spent its budget or been asked
    // for its recommendation; anything else was stopped.
    let status = if running {
        "running"
    } else if pending == 0 && (spent || recommendation.is_some()) {
        "finished"
    } else {
        "interrupted"
    };
    Summary {
        name: name.to_string(),
        status,
        strategy,
        space: config.space.clone(),
        estimator: config.estimator.clone(),
        budget: config.budget.clone(),
        trials: trials.len(),
        budget_trials: budget.trials,
        ok: count(|s| *s == TrialStatus::Ok),
        failed: count(|s| matches!(s, TrialStatus::Failed(_))),
        invalid: count(|s| matches!(s, TrialStatus::Invalid(_))),
        pending,
        best: best.map(|t| t.objective),
        best_trial: best.map(|t| t.id),
        best_arch: best.map(|t| t.arch.clone()),
        recommendation,
        elapsed,
        error: None,
    }
}

fn unreadable(name: &str, error: String) -> Summary {
    Summary {
        name: name.to_string(),
        status: "unreadable",
        strategy: String::new(),
        space: String::new(),
        estimator: String::new(),
        budget: String::new(),
        trials: 0,
        budget_trials: None,
        ok: 0,
        failed: 0,
        invalid: 0,
        pending: 0,
        best: None,
        best_trial: None,
        best_arch: None,
        recommendation: None,
        elapsed: 0.0,
        error: Some(error),
    }
}

/// What identifies a run's state on disk: its journal's and log's sizes
/// and times, and whether a process holds it.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    files: Vec<Option<(u64, SystemTime)>>,
    running: bool,
}

fn key(dir: &Path) -> Key {
    let stat = |suffix: &str| std::fs::metadata(dir.join(format!("{JOURNAL}{suffix}"))).ok().map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
    Key { files: vec![stat(""), stat("-wal")], running: status::running(dir) }
}

struct Cached {
    key: Key,
    checked: Instant,
    view: Arc<View>,
}

/// Views of runs, shared by every request.
#[derive(Default)]
pub struct Views {
    cache: Mutex<HashMap<PathBuf, Arc<Mutex<Option<Cached>>>>>,
    versions: std::sync::atomic::AtomicU64,
}

impl Views {
    /// The run in `dir`, read again only if the cached read is stale and
    /// the files changed. One reader per run at a time; other requests for
    /// it wait for that read instead of reading too.
    pub fn get(&self, name: &str, dir: &Path) -> Arc<View> {
        let slot = self.cache.lock().unwrap_or_else(|e| e.into_inner()).entry(dir.to_path_buf()).or_default().clone();
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = slot.as_mut() {
            if c.checked.elapsed() < FRESH {
                return c.view.clone();
            }
            let k = key(dir);
            if k == c.key {
                c.checked = Instant::now();
                return c.view.clone();
            }
        }
        let k = key(dir);
        let mut view = View::load(name, dir, k.running, slot.as_ref().map(|c| &*c.view));
        view.version = self.versions.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let view = Arc::new(view);
        *slot = Some(Cached { key: k, checked: Instant::now(), view: view.clone() });
        view
    }
}
