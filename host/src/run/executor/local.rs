//! Training trials in `nasbox worker` processes on this machine, N at a
//! time. Each worker gets its job on standard input and reports one JSON
//! line per epoch on standard output.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::estimate::stopping::StopRule;
use crate::estimate::train::{self, TrainJob, WorkerLine};
use super::Executor;
use crate::estimate::Evaluation;

enum Message {
    Line(u64, WorkerLine),
    /// A line that is not a worker message (kept for the failure report).
    Other(u64, String),
    /// The worker's standard output closed (it exited or was killed).
    Closed(u64),
}

struct Running {
    id: u64,
    child: Child,
    started: Instant,
    curve: Vec<f64>,
    done: Option<WorkerLine>,
    stopped: bool,
    timed_out: bool,
    log: PathBuf,
    device: Option<String>,
    /// The last line of output that was not a worker message.
    other: Option<String>,
    /// When it was asked to stop.
    stopping: Option<Instant>,
}

/// How long a worker asked to stop may take before it is killed.
const GRACE: Duration = Duration::from_secs(3);

impl Running {
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
}

/// Training trials in worker processes.
pub struct Workers {
    /// The command that runs a worker: this binary's `worker` subcommand,
    /// or a launcher prefix from `NASBOX_WORKER_COMMAND`.
    command: Vec<String>,
    job: TrainJob,
    capacity: usize,
    timeout: Option<Duration>,
    early_stop: Option<StopRule>,
    logs: PathBuf,
    /// Devices to spread trials over (`cuda:N`); empty: the job's device.
    devices: Vec<String>,
    running: Vec<Running>,
    tx: mpsc::Sender<Message>,
    rx: mpsc::Receiver<Message>,
}

impl Workers {
    /// `job` is the template (its arch and fidelity are set per trial);
    /// worker logs go to `logs/<trial>.log`.
    pub fn new(job: TrainJob, capacity: usize, timeout: Option<Duration>, early_stop: Option<StopRule>, logs: PathBuf) -> anyhow::Result<Workers> {
        let command = super::worker_command()?;
        std::fs::create_dir_all(&logs).map_err(|e| anyhow::anyhow!("creating {}: {e}", logs.display()))?;
        let (tx, rx) = mpsc::channel();
        Ok(Workers { command, job, capacity: capacity.max(1), timeout, early_stop, logs, devices: vec![], running: vec![], tx, rx })
    }

    /// Spreads trials over these devices, the least busy first.
    pub fn with_devices(mut self, devices: Vec<String>) -> Workers {
        self.devices = devices;
        self
    }

    fn finish(&mut self, index: usize) -> (u64, Evaluation) {
        let mut r = self.running.swap_remove(index);
        let status = r.child.wait();
        let seconds = r.started.elapsed().as_secs_f64();
        let failure = if r.timed_out {
            Some(format!("timed out after {:.0} s", self.timeout.map_or(0.0, |t| t.as_secs_f64())))
        } else {
            let tail = std::fs::read_to_string(&r.log)
                .ok()
                .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()).map(String::from))
                .or_else(|| r.other.take().map(|l| format!("unexpected output `{l}`")));
            let how = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (_, Some(sig)) => format!("the worker was killed by signal {sig}"),
                    (Some(code), _) => format!("the worker exited with status {code}"),
                    _ => "the worker ended".into(),
                },
                Err(e) => format!("waiting for the worker: {e}"),
            };
            Some(match tail {
                Some(t) => format!("{how}: {t} (log: {})", r.log.display()),
                None => format!("{how} (log: {})", r.log.display()),
            })
        };
        let e = train::evaluation(&r.curve, r.done.take(), r.stopped, seconds, failure);
        if let Some(rule) = &mut self.early_stop {
            if e.status == crate::run::journal::TrialStatus::Ok && !r.stopped {
                rule.finished(r.curve.clone());
            }
        }
        (r.id, e)
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
        let device = self
            .devices
            .iter()
            .min_by_key(|d| self.running.iter().filter(|r| r.device.as_ref() == Some(*d)).count())
            .cloned();
        let mut job = TrainJob { arch: arch.to_string(), fidelity, ..self.job.clone() };
        if let Some(c) = &mut job.command {
            c.trial = id;
            c.trial_dir = self.logs.join(id.to_string());
        }
        if let Some(d) = &device {
            job.train.device = d.clone();
        }
        let log = self.logs.join(format!("{id}.log"));
        let stderr = std::fs::File::create(&log).map_err(|e| anyhow::anyhow!("creating {}: {e}", log.display()))?;
        let mut command = Command::new(&self.command[0]);
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
            .args(&self.command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting a worker ({}): {e}", self.command.join(" ")))?;
        let mut stdin = child.stdin.take().expect("piped");
        // A worker that dies at once closes its stdin; its exit is reported below.
        let _ = stdin.write_all(serde_json::to_string(&job)?.as_bytes()).and_then(|_| stdin.flush());
        drop(stdin);
        let stdout = child.stdout.take().expect("piped");
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message = match serde_json::from_str::<WorkerLine>(&line) {
                    Ok(parsed) => Message::Line(id, parsed),
                    Err(_) => Message::Other(id, line),
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
            let _ = tx.send(Message::Closed(id));
        });
        self.running.push(Running { id, child, started: Instant::now(), curve: vec![], done: None, stopped: false, timed_out: false, log, device, other: None, stopping: None });
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
                for r in &mut self.running {
                    if !r.timed_out && r.started.elapsed() > timeout {
                        r.timed_out = true;
                        r.stop();
                    }
                }
            }
            for r in &mut self.running {
                if r.stopping.is_some_and(|t| t.elapsed() > GRACE) {
                    let _ = r.child.kill();
                }
            }
            let Some(message) = message else {
                if !waiting {
                    return Ok(finished);
                }
                continue;
            };
            match message {
                Message::Line(id, line) => {
                    let Some(r) = self.running.iter_mut().find(|r| r.id == id) else { continue };
                    match line {
                        WorkerLine::Epoch { valid_accuracy, .. } => {
                            r.curve.push(valid_accuracy);
                            if self.early_stop.as_ref().is_some_and(|rule| rule.should_stop(&r.curve)) && !r.stopped {
                                r.stopped = true;
                                r.stop();
                            }
                        }
                        other => r.done = Some(other),
                    }
                }
                Message::Other(id, line) => {
                    if let Some(r) = self.running.iter_mut().find(|r| r.id == id) {
                        r.other = Some(line);
                    }
                }
                Message::Closed(id) => {
                    if let Some(index) = self.running.iter().position(|r| r.id == id) {
                        finished.push(self.finish(index));
                    }
                }
            }
        }
    }

    fn cancel_all(&mut self) -> Vec<u64> {
        let ids = self.running.iter().map(|r| r.id).collect();
        for r in &mut self.running {
            r.stop();
        }
        let deadline = Instant::now() + GRACE;
        for mut r in self.running.drain(..) {
            while Instant::now() < deadline && matches!(r.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = r.child.kill();
            let _ = r.child.wait();
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
