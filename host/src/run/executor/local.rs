//! Training trials in `nasbox worker` processes on this machine, N at a
//! time. A worker reports one JSON line per epoch and a final line on its
//! standard output.
//!
//! Workers are persistent: `nasbox worker --serve` takes one job per line
//! on standard input and serves trial after trial with libtorch loaded and
//! the data in memory, so a short trial does not pay a process start and a
//! dataset load each time. A worker is replaced after a crash, a timeout or
//! an early stop (it is killed mid-trial) and after `worker_trials`
//! trials; a crash still fails only the trial it was running. With a
//! launcher (`NASBOX_WORKER_COMMAND`), which may read its job and exit,
//! each trial gets a process of its own, as with `worker_trials = 1`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Executor;
use crate::estimate::stopping::StopRule;
use crate::estimate::train::{self, TrainJob, WorkerLine};
use crate::estimate::Evaluation;

/// One job for a serving worker (`nasbox worker --serve`), one JSON line
/// each: the job, and the log its standard error goes to meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub job: TrainJob,
    pub log: PathBuf,
}

/// Trials a persistent worker serves before it is replaced (a bound on
/// whatever a long-lived libtorch process accumulates).
pub const WORKER_TRIALS: usize = 25;

/// How long a worker asked to stop may take before it is killed.
const GRACE: Duration = Duration::from_secs(3);

enum Message {
    Line(u64, WorkerLine),
    /// A line that is not a worker message (kept for the failure report).
    Other(u64, String),
    /// The worker's standard output closed (it exited or was killed).
    Closed(u64),
}

/// A worker process, by a key of its own (its trials come and go).
struct Worker {
    key: u64,
    child: Child,
    /// `None` once it is told to finish (end of input) or for a one-trial
    /// worker, whose job went in whole.
    stdin: Option<ChildStdin>,
    device: Option<String>,
    /// Trials it has been given.
    served: usize,
    /// The trial it runs now.
    trial: Option<u64>,
    /// When it was asked to stop.
    stopping: Option<Instant>,
    /// The process group of the command its trial runs, while it runs.
    group: Option<i32>,
}

impl Worker {
    /// Asks the worker to stop with SIGTERM, which lets a command worker
    /// take its command's processes with it (SIGKILL would orphan them);
    /// one that lingers past [`GRACE`] is killed.
    fn stop(&mut self) {
        if self.stopping.is_none() {
            // SAFETY: kill(2) on our own child's pid, not yet reaped.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            self.stopping = Some(Instant::now());
        }
    }

    /// Ends the command's process group after the worker died without
    /// doing so: its SIGTERM handler kills the group, but SIGKILL (the OOM
    /// killer, `kill -9`, or this executor after [`GRACE`]) leaves it no
    /// chance, and the command's shell dying with the worker would orphan
    /// what the shell started.
    fn end_group(&mut self, status: &std::io::Result<ExitStatus>) {
        let killed = status.as_ref().is_ok_and(|s| std::os::unix::process::ExitStatusExt::signal(s) == Some(libc::SIGKILL));
        if let (true, Some(group)) = (killed, self.group.take()) {
            // SAFETY: killpg(2) on a group id; an empty group is ESRCH.
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
    }
}

struct Running {
    id: u64,
    worker: u64,
    /// Epochs the trial trains (a command may do otherwise).
    epochs: usize,
    started: Instant,
    curve: Vec<f64>,
    stopped: bool,
    timed_out: bool,
    log: PathBuf,
    device: Option<String>,
    /// The last line of output that was not a worker message.
    other: Option<String>,
}

/// Training trials in worker processes.
pub struct Workers {
    /// The command that runs a worker: this binary's `worker` subcommand,
    /// or a launcher prefix from `NASBOX_WORKER_COMMAND`.
    command: Vec<String>,
    /// Whether workers serve many trials (no launcher, `worker_trials` > 1).
    persistent: bool,
    worker_trials: usize,
    job: TrainJob,
    capacity: usize,
    timeout: Option<Duration>,
    early_stop: Option<StopRule>,
    logs: PathBuf,
    /// Devices to spread trials over (`cuda:N`); empty: the job's device.
    devices: Vec<String>,
    workers: Vec<Worker>,
    running: Vec<Running>,
    next_key: u64,
    tx: mpsc::Sender<Message>,
    rx: mpsc::Receiver<Message>,
}

impl Workers {
    /// `job` is the template (its arch and fidelity are set per trial);
    /// worker logs go to `logs/<trial>.log`.
    pub fn new(job: TrainJob, capacity: usize, timeout: Option<Duration>, early_stop: Option<StopRule>, logs: PathBuf) -> anyhow::Result<Workers> {
        let command = super::worker_command()?;
        let launcher = std::env::var("NASBOX_WORKER_COMMAND").is_ok_and(|c| !c.trim().is_empty());
        std::fs::create_dir_all(&logs).map_err(|e| anyhow::anyhow!("creating {}: {e}", logs.display()))?;
        let (tx, rx) = mpsc::channel();
        Ok(Workers {
            command,
            persistent: !launcher,
            worker_trials: WORKER_TRIALS,
            job,
            capacity: capacity.max(1),
            timeout,
            early_stop,
            logs,
            devices: vec![],
            workers: vec![],
            running: vec![],
            next_key: 0,
            tx,
            rx,
        })
    }

    /// Spreads trials over these devices, the least busy first.
    pub fn with_devices(mut self, devices: Vec<String>) -> Workers {
        self.devices = devices;
        self
    }

    /// Workers are this `nasbox` binary's `worker` (for a program that is
    /// not `nasbox` itself: the benches).
    pub fn with_worker_binary(mut self, nasbox: &std::path::Path) -> Workers {
        self.command = vec![nasbox.display().to_string(), "worker".into()];
        self.persistent = self.worker_trials > 1;
        self
    }

    /// Trials each worker serves before it is replaced; 1: a fresh process
    /// per trial.
    pub fn with_worker_trials(mut self, n: usize) -> Workers {
        self.worker_trials = n.max(1);
        self.persistent &= self.worker_trials > 1;
        self
    }

    /// Starts a worker; its first standard error goes to `log`.
    fn spawn(&mut self, device: Option<String>, log: &PathBuf) -> anyhow::Result<usize> {
        let stderr = std::fs::File::create(log).map_err(|e| anyhow::anyhow!("creating {}: {e}", log.display()))?;
        let mut command = Command::new(&self.command[0]);
        command.args(&self.command[1..]);
        if self.persistent {
            command.arg("--serve");
        }
        // Its own process group: Ctrl-C at the terminal reaches only the
        // search, which cancels the trials itself and keeps them pending.
        // And it dies with the search, even a search killed with -9.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting a worker ({}): {e}", self.command.join(" ")))?;
        let key = self.next_key;
        self.next_key += 1;
        let stdout = child.stdout.take().expect("piped");
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message = match serde_json::from_str::<WorkerLine>(&line) {
                    Ok(parsed) => Message::Line(key, parsed),
                    Err(_) => Message::Other(key, line),
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
            let _ = tx.send(Message::Closed(key));
        });
        let stdin = child.stdin.take();
        self.workers.push(Worker { key, child, stdin, device, served: 0, trial: None, stopping: None, group: None });
        Ok(self.workers.len() - 1)
    }

    /// Hands `job` to a worker: an idle one for the same device, or a new
    /// one. `false`: the idle worker was gone (try again).
    fn hand_over(&mut self, id: u64, job: &TrainJob, log: &PathBuf, device: &Option<String>) -> anyhow::Result<bool> {
        let idle = self.workers.iter().position(|w| w.trial.is_none() && w.stopping.is_none() && w.stdin.is_some() && &w.device == device);
        let index = match idle {
            Some(i) => {
                std::fs::File::create(log).map_err(|e| anyhow::anyhow!("creating {}: {e}", log.display()))?;
                i
            }
            None => self.spawn(device.clone(), log)?,
        };
        let w = &mut self.workers[index];
        let text = if self.persistent { serde_json::to_string(&Request { job: job.clone(), log: log.clone() })? + "\n" } else { serde_json::to_string(job)? };
        let stdin = w.stdin.as_mut().expect("a worker that takes jobs");
        let written = stdin.write_all(text.as_bytes()).and_then(|_| stdin.flush());
        if written.is_err() && idle.is_some() {
            // It died while idle; its end is collected in `poll`.
            w.stdin = None;
            return Ok(false);
        }
        // A new worker that dies at once closes its stdin; its exit is
        // reported as this trial's failure.
        w.trial = Some(id);
        w.served += 1;
        if !self.persistent || w.served >= self.worker_trials {
            w.stdin = None; // the end of its input: it exits after this job
        }
        Ok(true)
    }

    /// A finished trial's evaluation; `status` when its worker ended.
    fn finish(&mut self, index: usize, done: Option<WorkerLine>, status: Option<std::io::Result<ExitStatus>>) -> (u64, Evaluation) {
        let mut r = self.running.swap_remove(index);
        let seconds = r.started.elapsed().as_secs_f64();
        let failure = if r.timed_out {
            Some(format!("timed out after {:.0} s", self.timeout.map_or(0.0, |t| t.as_secs_f64())))
        } else {
            let tail = std::fs::read_to_string(&r.log)
                .ok()
                .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()).map(String::from))
                .or_else(|| r.other.take().map(|l| format!("unexpected output `{l}`")));
            let how = match status {
                Some(Ok(s)) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (_, Some(sig)) => format!("the worker was killed by signal {sig}"),
                    (Some(code), _) => format!("the worker exited with status {code}"),
                    _ => "the worker ended".into(),
                },
                Some(Err(e)) => format!("waiting for the worker: {e}"),
                None => "the worker ended".into(),
            };
            Some(match tail {
                Some(t) => format!("{how}: {t} (log: {})", r.log.display()),
                None => format!("{how} (log: {})", r.log.display()),
            })
        };
        let e = train::evaluation(&r.curve, done, r.stopped, seconds, failure);
        if let Some(rule) = &mut self.early_stop {
            if e.status == crate::run::journal::TrialStatus::Ok && !r.stopped {
                rule.finished(r.curve.clone());
            }
        }
        (r.id, e)
    }

    fn worker_of(&mut self, trial: u64) -> Option<&mut Worker> {
        let key = self.running.iter().find(|r| r.id == trial)?.worker;
        self.workers.iter_mut().find(|w| w.key == key)
    }
}

impl Executor for Workers {
    fn capacity(&self) -> usize {
        self.capacity
    }

    fn in_flight(&self) -> usize {
        self.running.len()
    }

    fn submit(&mut self, id: u64, _genotype: &[u32], arch: &str, fidelity: Option<f64>) -> anyhow::Result<()> {
        let device = self.devices.iter().min_by_key(|d| self.running.iter().filter(|r| r.device.as_ref() == Some(*d)).count()).cloned();
        let mut job = TrainJob { arch: arch.to_string(), fidelity, ..self.job.clone() };
        if let Some(d) = &device {
            job.train.device = d.clone();
        }
        if let Some(c) = &mut job.command {
            c.trial = id;
            c.trial_dir = self.logs.join(id.to_string());
        }
        let log = self.logs.join(format!("{id}.log"));
        // Idle workers of other devices would only hold their memory.
        for w in self.workers.iter_mut().filter(|w| w.trial.is_none() && w.device != device) {
            w.stdin = None;
        }
        while !self.hand_over(id, &job, &log, &device)? {}
        let worker = self.workers.iter().find(|w| w.trial == Some(id)).expect("handed over").key;
        // A command's epochs are its own: `epochs` only suggests them.
        let epochs = if job.command.is_some() { usize::MAX } else { job.epochs_at_fidelity() };
        self.running.push(Running { id, worker, epochs, started: Instant::now(), curve: vec![], stopped: false, timed_out: false, log, device, other: None });
        Ok(())
    }

    fn poll(&mut self, wait: bool) -> anyhow::Result<Vec<(u64, Evaluation)>> {
        let mut finished = Vec::new();
        loop {
            let waiting = wait && finished.is_empty() && !self.running.is_empty() && !crate::run::interrupt::requested();
            let message = if waiting {
                match self.rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => anyhow::bail!("worker channel closed"),
                }
            } else {
                self.rx.try_recv().ok()
            };
            if let Some(timeout) = self.timeout {
                let over: Vec<u64> = self
                    .running
                    .iter_mut()
                    .filter(|r| !r.timed_out && r.started.elapsed() > timeout)
                    .map(|r| {
                        r.timed_out = true;
                        r.id
                    })
                    .collect();
                for id in over {
                    if let Some(w) = self.worker_of(id) {
                        w.stop();
                    }
                }
            }
            for w in &mut self.workers {
                if w.stopping.is_some_and(|t| t.elapsed() > GRACE) {
                    let _ = w.child.kill();
                }
            }
            let Some(message) = message else {
                if !waiting {
                    return Ok(finished);
                }
                continue;
            };
            match message {
                Message::Line(key, line) => {
                    let Some(index) = self.running.iter().position(|r| r.worker == key) else { continue };
                    match line {
                        WorkerLine::Group { id } => {
                            if let Some(w) = self.workers.iter_mut().find(|w| w.key == key) {
                                w.group = Some(id);
                            }
                        }
                        WorkerLine::Epoch { valid_accuracy, .. } => {
                            let r = &mut self.running[index];
                            r.curve.push(valid_accuracy);
                            // After its last epoch a trial is finishing anyway:
                            // stopping it then would only lose its result.
                            if !r.stopped && r.curve.len() < r.epochs && self.early_stop.as_ref().is_some_and(|rule| rule.should_stop(&r.curve)) {
                                r.stopped = true;
                                let id = r.id;
                                if let Some(w) = self.worker_of(id) {
                                    w.stop();
                                }
                            }
                        }
                        done => {
                            // The trial is over (even if it was being
                            // stopped: its result came first); its worker
                            // is free, or on its way out.
                            if let Some(w) = self.workers.iter_mut().find(|w| w.key == key) {
                                w.trial = None;
                                w.group = None;
                            }
                            finished.push(self.finish(index, Some(done), None));
                        }
                    }
                }
                Message::Other(key, line) => {
                    if let Some(r) = self.running.iter_mut().find(|r| r.worker == key) {
                        r.other = Some(line);
                    }
                }
                Message::Closed(key) => {
                    let Some(wi) = self.workers.iter().position(|w| w.key == key) else { continue };
                    let mut w = self.workers.swap_remove(wi);
                    drop(w.stdin.take());
                    let status = w.child.wait();
                    w.end_group(&status);
                    if let Some(index) = self.running.iter().position(|r| r.worker == key) {
                        finished.push(self.finish(index, None, Some(status)));
                    }
                }
            }
        }
    }

    fn cancel_all(&mut self) -> Vec<u64> {
        let ids = self.running.drain(..).map(|r| r.id).collect();
        for w in &mut self.workers {
            w.stdin = None;
            w.stop();
        }
        let deadline = Instant::now() + GRACE;
        for mut w in self.workers.drain(..) {
            while Instant::now() < deadline && matches!(w.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = w.child.kill();
            let status = w.child.wait();
            w.end_group(&status);
        }
        ids
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

impl Drop for Workers {
    /// Idle workers end with their input; any still running are stopped.
    fn drop(&mut self) {
        self.cancel_all();
    }
}
