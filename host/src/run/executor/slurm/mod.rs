//! Training trials as Slurm jobs, for searches that outgrow one machine.
//! Each trial is one `sbatch` job running `nasbox worker --trial-dir` on a
//! folder of the run (see [`job`]), so the run folder must be on a
//! filesystem the nodes share. The coordinator polls `squeue`; for a job
//! that left the queue without a result it asks `sacct`, and `scontrol`
//! where the cluster keeps no accounting.
//!
//! Every submission is recorded in the journal before the search goes on,
//! so a coordinator killed and resumed re-attaches to its jobs still
//! queued or running rather than submitting them again. A job Slurm
//! requeues (preemption, `scontrol requeue`) simply runs again; a job lost
//! otherwise (node failure, cancelled outside nasbox, preempted for good)
//! fails its trial or is retried, as [`SlurmOptions::on_lost`] says.

pub mod job;
pub mod parse;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::Executor;
use crate::estimate::stopping::StopRule;
use crate::estimate::train::{self, TrainJob};
use crate::estimate::Evaluation;
use crate::run::journal::{JobRecord, Journal};
use job::{unix_now, JobFolder};
use parse::JobState;

/// What to do with a trial whose job was lost: the node failed, somebody
/// cancelled it outside nasbox, or it was preempted without requeue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OnLost {
    /// The trial fails, with the reason; the strategy hears of it.
    Fail,
    /// The trial is submitted again, up to `retries` times, then fails.
    Retry,
}

/// How trials are submitted (`[slurm]` in a run's TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub account: Option<String>,
    /// Slurm's time limit for one trial (`--time`), e.g. `30:00`.
    pub time: Option<String>,
    /// GPUs per trial (`--gres=gpu:N`); with GPUs, train on `cuda`.
    pub gpus: u32,
    /// CPUs per trial (`--cpus-per-task`), also the worker's threads.
    pub cpus: u32,
    /// Further sbatch arguments, e.g. `["--qos=short", "--mem=8G"]`.
    pub sbatch_args: Vec<String>,
    pub on_lost: OnLost,
    /// Submissions after the first, per trial, when `on_lost = "retry"`.
    pub retries: u32,
    /// Seconds between two `squeue` polls.
    pub poll_seconds: f64,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        SlurmOptions { partition: None, account: None, time: None, gpus: 0, cpus: 1, sbatch_args: vec![], on_lost: OnLost::Fail, retries: 2, poll_seconds: 2.0 }
    }
}

/// A submitted job the coordinator is following.
struct Job {
    trial: u64,
    attempt: u32,
    id: String,
    folder: JobFolder,
    submitted_at: f64,
    arch: String,
    fidelity: Option<f64>,
    /// When the coordinator first saw it running (for the trial timeout).
    running_since: Option<Instant>,
    /// Times Slurm put it back in the queue after it had started.
    requeues: u32,
    curve: Vec<f64>,
    /// Cancelled by the early-stopping rule or the trial timeout.
    stopped: bool,
    timed_out: bool,
    /// Polls since it left the queue without a result (a shared
    /// filesystem may show the result a little late).
    missing: u32,
}

impl Job {
    /// A job the coordinator follows from now on: just submitted, or
    /// re-attached to on resume; what it learns by polling starts empty.
    fn followed(record: &JobRecord, folder: JobFolder, arch: &str, fidelity: Option<f64>) -> Job {
        Job {
            trial: record.trial,
            attempt: record.attempt,
            id: record.job.clone(),
            folder,
            submitted_at: record.submitted_at,
            arch: arch.to_string(),
            fidelity,
            running_since: None,
            requeues: 0,
            curve: vec![],
            stopped: false,
            timed_out: false,
            missing: 0,
        }
    }
}

/// Runs each trial as a Slurm job.
pub struct Slurm {
    options: SlurmOptions,
    job: TrainJob,
    capacity: usize,
    timeout: Option<Duration>,
    early_stop: Option<StopRule>,
    jobs_dir: PathBuf,
    name: String,
    worker: Vec<String>,
    journal: Journal,
    running: Vec<Job>,
    last_poll: Option<Instant>,
    /// Whether sacct has data here; `None` until first asked.
    accounting: Option<bool>,
}

impl Slurm {
    /// `run_dir` holds the journal; job folders go to `run_dir/jobs`.
    /// Checks that sbatch is there before anything is submitted.
    #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "`!(x > 0.0)` refuses NaN too")]
    pub fn new(
        run_dir: &Path,
        job: TrainJob,
        capacity: usize,
        options: SlurmOptions,
        timeout: Option<Duration>,
        early_stop: Option<StopRule>,
    ) -> anyhow::Result<Slurm> {
        if which("sbatch").is_none() || which("squeue").is_none() {
            bail!("the slurm executor needs sbatch and squeue on PATH (this machine must be a Slurm submit host)");
        }
        if options.cpus == 0 {
            bail!("slurm.cpus must be at least 1");
        }
        if !(options.poll_seconds > 0.0) {
            bail!("slurm.poll_seconds must be positive, not {}", options.poll_seconds);
        }
        let run_dir = std::fs::canonicalize(run_dir).with_context(|| format!("the run folder {}", run_dir.display()))?;
        let jobs_dir = run_dir.join("jobs");
        std::fs::create_dir_all(&jobs_dir).with_context(|| format!("creating {}", jobs_dir.display()))?;
        let worker = super::worker_command()?;
        let base = run_dir.file_name().map_or("run".into(), |n| n.to_string_lossy().into_owned());
        let name = format!("nasbox-{}", base.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect::<String>());
        let journal = Journal::open(&run_dir.join(crate::run::search::JOURNAL))?;
        let mut job = job;
        job.train.threads = Some(options.cpus as i32);
        if options.gpus > 0 && job.train.device == "cpu" {
            job.train.device = "cuda".into();
        }
        Ok(Slurm {
            options,
            job,
            capacity: capacity.max(1),
            timeout,
            early_stop,
            jobs_dir,
            name,
            worker,
            journal,
            running: vec![],
            last_poll: None,
            accounting: None,
        })
    }

    /// Submits one attempt at a trial and records it.
    fn launch(&mut self, trial: u64, attempt: u32, arch: &str, fidelity: Option<f64>) -> anyhow::Result<()> {
        let folder = JobFolder::new(&self.jobs_dir, trial, attempt);
        let mut job = TrainJob { arch: arch.to_string(), fidelity, ..self.job.clone() };
        if let Some(c) = &mut job.command {
            c.trial = trial;
            c.trial_dir = folder.dir.join("trial");
        }
        folder.prepare(&job, &self.worker, &format!("nasbox trial {trial}, attempt {attempt}: {arch}"))?;
        let o = &self.options;
        let mut args = vec![
            "--parsable".to_string(),
            format!("--job-name={}-{trial}", self.name),
            format!("--output={}", folder.dir.join("slurm-%j.out").display()),
            format!("--chdir={}", folder.dir.display()),
            "--ntasks=1".into(),
            format!("--cpus-per-task={}", o.cpus),
            "--requeue".into(),
        ];
        if let Some(p) = &o.partition {
            args.push(format!("--partition={p}"));
        }
        if let Some(a) = &o.account {
            args.push(format!("--account={a}"));
        }
        if let Some(t) = &o.time {
            args.push(format!("--time={t}"));
        }
        if o.gpus > 0 {
            args.push(format!("--gres=gpu:{}", o.gpus));
        }
        args.extend(o.sbatch_args.iter().cloned());
        args.push(folder.script().display().to_string());
        let out = slurm_command("sbatch", &args).with_context(|| format!("submitting trial {trial}"))?;
        let id = parse::sbatch(&out)?;
        let record = JobRecord { trial, attempt, job: id, submitted_at: unix_now(), cancelled: false };
        self.journal.record_job(&record)?;
        tracing::debug!("trial {trial} attempt {attempt}: Slurm job {}", record.job);
        self.running.push(Job::followed(&record, folder, arch, fidelity));
        Ok(())
    }

    /// Jobs squeue still lists, by id.
    fn queue(&self, ids: &[&str]) -> anyhow::Result<Vec<parse::QueuedJob>> {
        let args = vec!["--noheader".to_string(), "--format=%i|%T|%r".into(), format!("--jobs={}", ids.join(","))];
        match run_command("squeue", &args)? {
            (true, out, _) => Ok(parse::squeue(&out)?),
            // Asked only about jobs it no longer knows, squeue fails.
            (false, _, err) if err.contains("Invalid job id") => Ok(vec![]),
            (false, out, err) => bail!("squeue failed: {}", first_line(&err, &out)),
        }
    }

    /// How a job that left the queue ended: sacct where the cluster keeps
    /// accounting, scontrol (which remembers jobs for `MinJobAge`)
    /// otherwise. `None`: neither knows.
    fn ended(&mut self, id: &str) -> Option<parse::JobInfo> {
        if self.accounting != Some(false) {
            let args = vec!["-n".to_string(), "-P".into(), format!("--jobs={id}"), "--format=JobID,State,ExitCode".into()];
            match run_command("sacct", &args) {
                Ok((true, out, _)) => match parse::sacct(&out, id) {
                    Ok(Some(info)) => {
                        self.accounting = Some(true);
                        return Some(info);
                    }
                    Ok(None) => {}
                    Err(_) => self.accounting = Some(false),
                },
                _ => self.accounting = Some(false),
            }
        }
        match run_command("scontrol", &["show".into(), "job".into(), id.into()]) {
            Ok((_, out, err)) => parse::scontrol_job(&format!("{out}{err}")).ok().flatten(),
            Err(_) => None,
        }
    }

    fn cancel(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        if let Err(e) = run_command("scancel", ids) {
            tracing::warn!("scancel {}: {e:#}", ids.join(" "));
        }
    }

    /// One look at the queue: follows running jobs, collects ended ones.
    fn check(&mut self, finished: &mut Vec<(u64, Evaluation)>) -> anyhow::Result<()> {
        self.last_poll = Some(Instant::now());
        if self.running.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = self.running.iter().map(|j| j.id.clone()).collect();
        let queue = match self.queue(&ids.iter().map(String::as_str).collect::<Vec<_>>()) {
            Ok(q) => q,
            Err(e) => {
                // A controller restarting is not a reason to fail trials.
                tracing::warn!("{e:#}; trying again at the next poll");
                return Ok(());
            }
        };
        let mut to_cancel = Vec::new();
        // Only the jobs squeue was asked about: a retry submitted below is
        // not in its answer.
        for id in &ids {
            let Some(index) = self.running.iter().position(|j| &j.id == id) else { continue };
            let listed = queue.iter().find(|q| &q.id == id).map(|q| q.state.clone());
            let j = &mut self.running[index];
            match listed {
                Some(state) if !state.is_final() => {
                    match state {
                        JobState::Running | JobState::Completing => {
                            j.running_since.get_or_insert_with(Instant::now);
                        }
                        JobState::Pending | JobState::Requeued if j.running_since.is_some() => {
                            // Requeued: it starts over when it runs again.
                            j.running_since = None;
                            j.requeues += 1;
                            j.curve.clear();
                            tracing::info!("trial {}: Slurm requeued job {}; it will start over", j.trial, j.id);
                        }
                        _ => {}
                    }
                    if j.running_since.is_some() && !j.stopped {
                        j.curve = j.folder.read_progress();
                        // After its last epoch a job is finishing anyway.
                        let epochs = match self.job.command {
                            Some(_) => usize::MAX, // a command's epochs are its own
                            None => TrainJob { fidelity: j.fidelity, ..self.job.clone() }.epochs_at_fidelity(),
                        };
                        if j.curve.len() < epochs && self.early_stop.as_ref().is_some_and(|rule| rule.should_stop(&j.curve)) {
                            j.stopped = true;
                            to_cancel.push(j.id.clone());
                        } else if let (Some(t), Some(since)) = (self.timeout, j.running_since) {
                            if since.elapsed() > t {
                                j.stopped = true;
                                j.timed_out = true;
                                to_cancel.push(j.id.clone());
                            }
                        }
                    }
                }
                // Gone from the queue (or listed in a final state).
                _ => finished.extend(self.collect(index)?),
            }
        }
        if !to_cancel.is_empty() {
            self.journal.mark_jobs_cancelled(&to_cancel)?;
            self.cancel(&to_cancel);
        }
        Ok(())
    }

    /// A job that left the queue: its result, its failure, a retry
    /// (`None`: it stays followed, as the retry or for another look).
    fn collect(&mut self, index: usize) -> anyhow::Result<Option<(u64, Evaluation)>> {
        let folder = self.running[index].folder.clone();
        if let Some(result) = folder.read_result()? {
            let j = self.running.swap_remove(index);
            let seconds = (result.finished_at - result.started_at).max(0.0);
            let mut e = train::evaluation(&result.curve, result.done, false, seconds, None);
            self.learn(&e, &result.curve, false);
            e.metrics.push(("slurm-queue-seconds".into(), (result.started_at - j.submitted_at).max(0.0)));
            e.metrics.push(("slurm-collect-seconds".into(), (unix_now() - result.finished_at).max(0.0)));
            let requeues = j.requeues.max(j.folder.restarts());
            if requeues > 0 {
                e.metrics.push(("slurm-requeues".into(), requeues as f64));
            }
            return Ok(Some((j.trial, e)));
        }
        let (stopped, timed_out) = (self.running[index].stopped, self.running[index].timed_out);
        if timed_out {
            let j = self.running.swap_remove(index);
            let limit = self.timeout.map_or(0.0, |t| t.as_secs_f64());
            return Ok(Some((j.trial, Evaluation::failed(format!("timed out after {limit:.0} s (Slurm job {} cancelled)", j.id)))));
        }
        if stopped {
            let j = self.running.swap_remove(index);
            let seconds = j.running_since.map_or(0.0, |s| s.elapsed().as_secs_f64());
            let curve = j.folder.read_progress();
            let e = train::evaluation(&curve, None, true, seconds, Some(format!("stopped early before its first epoch (Slurm job {})", j.id)));
            return Ok(Some((j.trial, e)));
        }
        let id = self.running[index].id.clone();
        let info = self.ended(&id);
        let state = info.as_ref().map(|i| i.state.clone());
        if matches!(state, Some(JobState::Completed) | None) && self.running[index].missing < 3 {
            // The worker writes its result before the job ends; give a
            // shared filesystem a few polls to show it.
            self.running[index].missing += 1;
            return Ok(None);
        }
        let j = self.running.swap_remove(index);
        let tail = j.folder.output_tail(&j.id).map(|t| format!(": {t}")).unwrap_or_default();
        let log = j.folder.output(&j.id).display().to_string();
        let exit = info.as_ref().and_then(|i| i.exit_code.clone()).unwrap_or_else(|| "?".into());
        let lost = match state {
            Some(JobState::Completed) => return Ok(Some((j.trial, Evaluation::failed(format!("Slurm job {id} ended without a result{tail} (log: {log})"))))),
            Some(JobState::Failed) => {
                return Ok(Some((j.trial, Evaluation::failed(format!("Slurm job {id} failed with exit code {exit}{tail} (log: {log})")))))
            }
            Some(JobState::Timeout) => {
                let limit = self.options.time.clone().unwrap_or_else(|| "the partition's".into());
                return Ok(Some((j.trial, Evaluation::failed(format!("Slurm job {id} reached its time limit ({limit})")))));
            }
            Some(JobState::OutOfMemory) => return Ok(Some((j.trial, Evaluation::failed(format!("Slurm job {id} ran out of memory (log: {log})"))))),
            Some(JobState::Cancelled) => "was cancelled outside nasbox".to_string(),
            Some(JobState::NodeFail) => "lost its node (NODE_FAIL)".to_string(),
            Some(JobState::BootFail) => "could not boot its node (BOOT_FAIL)".to_string(),
            Some(JobState::Preempted) => "was preempted and not requeued".to_string(),
            Some(JobState::Deadline) => "passed its deadline".to_string(),
            Some(other) => format!("left the queue in state {other:?}"),
            None => "left the queue and Slurm no longer knows how it ended".to_string(),
        };
        if self.options.on_lost == OnLost::Retry && j.attempt < self.options.retries {
            tracing::warn!("trial {}: Slurm job {id} {lost}; submitting it again (attempt {} of {})", j.trial, j.attempt + 2, self.options.retries + 1);
            self.launch(j.trial, j.attempt + 1, &j.arch, j.fidelity)?;
            return Ok(None);
        }
        let tries = if j.attempt > 0 { format!(" (after {} attempts)", j.attempt + 1) } else { String::new() };
        Ok(Some((j.trial, Evaluation::failed(format!("Slurm job {id} {lost}{tries}")))))
    }

    fn learn(&mut self, e: &Evaluation, curve: &[f64], stopped: bool) {
        if let Some(rule) = &mut self.early_stop {
            if e.status == crate::run::journal::TrialStatus::Ok && !stopped {
                rule.finished(curve.to_vec());
            }
        }
    }
}

impl Executor for Slurm {
    fn capacity(&self) -> usize {
        self.capacity
    }

    fn in_flight(&self) -> usize {
        self.running.len()
    }

    /// Re-attaches to the trial's last job if it is still queued or
    /// running, or finished with a result while nobody was looking;
    /// otherwise submits a new attempt.
    fn submit(&mut self, id: u64, _genotype: &[u32], arch: &str, fidelity: Option<f64>) -> anyhow::Result<()> {
        let records = self.journal.jobs_of(id)?;
        if let Some(last) = records.last().filter(|r| !r.cancelled) {
            let folder = JobFolder::new(&self.jobs_dir, id, last.attempt);
            let queued = self.queue(&[last.job.as_str()])?.into_iter().any(|q| q.id == last.job && !q.state.is_final());
            if queued || folder.result().exists() {
                tracing::info!("trial {id}: re-attached to Slurm job {}", last.job);
                self.running.push(Job::followed(last, folder, arch, fidelity));
                return Ok(());
            }
        }
        let attempt = records.last().map_or(0, |r| r.attempt + 1);
        self.launch(id, attempt, arch, fidelity)
    }

    fn poll(&mut self, wait: bool) -> anyhow::Result<Vec<(u64, Evaluation)>> {
        let interval = Duration::from_secs_f64(self.options.poll_seconds);
        let mut finished = Vec::new();
        loop {
            if self.last_poll.is_none_or(|t| t.elapsed() >= interval) {
                self.check(&mut finished)?;
            }
            if !wait || !finished.is_empty() || self.running.is_empty() || crate::run::interrupt::requested() {
                return Ok(finished);
            }
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
    }

    fn cancel_all(&mut self) -> Vec<u64> {
        let ids: Vec<String> = self.running.iter().map(|j| j.id.clone()).collect();
        if let Err(e) = self.journal.mark_jobs_cancelled(&ids) {
            tracing::warn!("recording the cancellation of {}: {e}", ids.join(" "));
        }
        self.cancel(&ids);
        self.running.drain(..).map(|j| j.trial).collect()
    }

    fn remember(&mut self, metrics: &[(String, f64)]) {
        if let Some(rule) = &mut self.early_stop {
            let curve = train::curve_of(metrics);
            if !curve.is_empty() && !metrics.iter().any(|(k, _)| k == "stopped-at-epoch") {
                rule.finished(curve);
            }
        }
    }
}

/// Runs a Slurm command: (succeeded, stdout, stderr). An error only if it
/// could not be started.
fn run_command(program: &str, args: &[String]) -> anyhow::Result<(bool, String, String)> {
    let out = Command::new(program).args(args).output().with_context(|| format!("running {program}"))?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// Runs a command that must succeed; its stdout.
fn slurm_command(program: &str, args: &[String]) -> anyhow::Result<String> {
    match run_command(program, args)? {
        (true, out, _) => Ok(out),
        (false, out, err) => bail!("{program} failed: {}", first_line(&err, &out)),
    }
}

fn first_line(err: &str, out: &str) -> String {
    let text = if err.trim().is_empty() { out } else { err };
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}
