//! One trial's job folder, `RUN/jobs/<trial>.<attempt>/`, the only thing
//! a cluster job and the coordinator share. The coordinator writes
//! `job.json` (the training job) and `job.sh` (what sbatch runs); the
//! worker appends one line per epoch to `progress.jsonl` (read for early
//! stopping) and writes `result.json` atomically at the end, so the
//! coordinator never reads half a result, however the job ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::estimate::train::{run_job, TrainJob, WorkerLine};

/// The files of one attempt at one trial.
#[derive(Debug, Clone)]
pub struct JobFolder {
    pub dir: PathBuf,
}

/// What a worker leaves behind when training ends (well or not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// Validation accuracy after each epoch.
    pub curve: Vec<f64>,
    /// The worker's last line: done (with metrics) or an error.
    pub done: Option<WorkerLine>,
    /// Unix times the worker started and finished (for the queue and
    /// collection overheads).
    pub started_at: f64,
    pub finished_at: f64,
    /// The node it ran on.
    pub host: String,
}

impl JobFolder {
    pub fn new(jobs: &Path, trial: u64, attempt: u32) -> JobFolder {
        JobFolder { dir: jobs.join(format!("{trial}.{attempt}")) }
    }

    pub fn job(&self) -> PathBuf {
        self.dir.join("job.json")
    }

    pub fn script(&self) -> PathBuf {
        self.dir.join("job.sh")
    }

    pub fn progress(&self) -> PathBuf {
        self.dir.join("progress.jsonl")
    }

    /// One line per time a worker started on this job: more than one
    /// when Slurm requeued it.
    pub fn starts(&self) -> PathBuf {
        self.dir.join("starts")
    }

    /// Times the job started over after a requeue.
    pub fn restarts(&self) -> u32 {
        let text = std::fs::read_to_string(self.starts()).unwrap_or_default();
        (text.lines().count() as u32).saturating_sub(1)
    }

    pub fn result(&self) -> PathBuf {
        self.dir.join("result.json")
    }

    /// Slurm's output file for a job (`--output=slurm-%j.out`).
    pub fn output(&self, job: &str) -> PathBuf {
        self.dir.join(format!("slurm-{job}.out"))
    }

    /// Writes the job and the script that runs `worker` on it.
    pub fn prepare(&self, job: &TrainJob, worker: &[String], header: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::write(self.job(), serde_json::to_string_pretty(job)?).with_context(|| format!("writing {}", self.job().display()))?;
        let mut command: Vec<String> = worker.iter().map(|a| quote(a)).collect();
        command.push("--trial-dir".into());
        command.push(quote(&self.dir.display().to_string()));
        let script = format!("#!/bin/sh\n# {header}\nexec {}\n", command.join(" "));
        std::fs::write(self.script(), script).with_context(|| format!("writing {}", self.script().display()))?;
        Ok(())
    }

    /// The result, if the worker finished.
    pub fn read_result(&self) -> anyhow::Result<Option<JobResult>> {
        match std::fs::read_to_string(self.result()) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| format!("{}: not a worker result", self.result().display()))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.result().display())),
        }
    }

    /// The validation curve so far (an unfinished last line is skipped).
    pub fn read_progress(&self) -> Vec<f64> {
        let text = std::fs::read_to_string(self.progress()).unwrap_or_default();
        text.lines()
            .filter_map(|l| match serde_json::from_str::<WorkerLine>(l) {
                Ok(WorkerLine::Epoch { valid_accuracy, .. }) => Some(valid_accuracy),
                _ => None,
            })
            .collect()
    }

    /// The last non-empty line of Slurm's output file for `job`.
    pub fn output_tail(&self, job: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.output(job)).ok()?;
        text.lines().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_string())
    }

    /// The worker's side: trains the job of this folder and leaves the
    /// result. A requeued job starts over, so progress starts empty.
    pub fn work(&self) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(self.job()).with_context(|| format!("reading {}", self.job().display()))?;
        let job: TrainJob = serde_json::from_str(&text).with_context(|| format!("{}: not a training job", self.job().display()))?;
        let started_at = unix_now();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        let mut starts =
            std::fs::OpenOptions::new().create(true).append(true).open(self.starts()).with_context(|| format!("opening {}", self.starts().display()))?;
        writeln!(starts, "{started_at} {host}").and_then(|_| starts.sync_all()).with_context(|| format!("writing {}", self.starts().display()))?;
        let mut progress = std::fs::File::create(self.progress()).with_context(|| format!("creating {}", self.progress().display()))?;
        let mut curve = Vec::new();
        let mut done = None;
        let outcome = run_job(&job, &mut |line| match &line {
            WorkerLine::Epoch { valid_accuracy, .. } => {
                curve.push(*valid_accuracy);
                let _ = writeln!(progress, "{}", serde_json::to_string(&line).expect("serialises")).and_then(|_| progress.flush());
            }
            // Slurm ends every process of a cancelled or failed job itself.
            WorkerLine::Group { .. } => {}
            _ => done = Some(line),
        });
        if let Err(e) = outcome {
            done = Some(WorkerLine::Error { message: format!("{e:#}") });
        }
        let result = JobResult { curve, done, started_at, finished_at: unix_now(), host };
        write_atomically(&self.result(), serde_json::to_string(&result)?.as_bytes())
    }
}

/// Writes next to `path`, syncs, then renames over it: readers see the old
/// file or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Quotes a word for sh.
fn quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@".contains(&b)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_what_sh_would_split() {
        let dir = tempfile::tempdir().unwrap();
        let folder = JobFolder::new(&dir.path().join("it's here"), 3, 1);
        let job = TrainJob {
            space: "nb201".into(),
            arch: "|nor_conv_3x3~0|".into(),
            dataset: "synthetic".into(),
            seed: 0,
            fidelity: None,
            train: Default::default(),
            test: false,
            command: None,
        };
        folder.prepare(&job, &["/opt/my nasbox/nasbox".into(), "worker".into()], "trial 3").unwrap();
        let script = std::fs::read_to_string(folder.script()).unwrap();
        let out = std::process::Command::new("sh").arg("-n").arg(folder.script()).output().unwrap();
        assert!(out.status.success(), "{script}");
        assert!(script.contains("exec '/opt/my nasbox/nasbox' worker --trial-dir '"), "{script}");
        assert!(script.contains("it'\\''s here/3.1'"), "{script}");
        assert_eq!(serde_json::from_str::<TrainJob>(&std::fs::read_to_string(folder.job()).unwrap()).unwrap(), job);
    }

    #[test]
    fn results_are_whole_or_absent_and_progress_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let folder = JobFolder::new(dir.path(), 0, 0);
        std::fs::create_dir_all(&folder.dir).unwrap();
        assert_eq!(folder.read_result().unwrap(), None);
        let result = JobResult { curve: vec![0.5], done: None, started_at: 1.0, finished_at: 2.0, host: "n1".into() };
        write_atomically(&folder.result(), serde_json::to_string(&result).unwrap().as_bytes()).unwrap();
        assert_eq!(folder.read_result().unwrap(), Some(result));
        assert!(!folder.result().with_extension("tmp").exists());
        std::fs::write(folder.progress(), "{\"epoch\":{\"epoch\":1,\"valid_accuracy\":0.25,\"train_loss\":1.0}}\n{\"epoch\":{\"ep").unwrap();
        assert_eq!(folder.read_progress(), vec![0.25]);
        std::fs::write(folder.result(), "{").unwrap();
        assert!(folder.read_result().unwrap_err().to_string().contains("not a worker result"));
    }
}
