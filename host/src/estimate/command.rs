//! The command estimator: a trial is the user's own training command, so
//! nasbox can search any model (a transformer, a U-Net, a tabular net) in
//! any language. The worker that would train a built-in network runs the
//! command instead and speaks the protocol below for it; everything around
//! a trial (local workers, `--devices`, timeouts, early stopping, Slurm,
//! the journal, resume) stays the same.
//!
//! Protocol version 1 (docs/src/reference/command-protocol.md):
//! - in: `trial.json` in the trial's own folder (also `$NASBOX_TRIAL_FILE`),
//!   the same facts as `NASBOX_*` environment variables;
//! - progress: JSON lines on standard output, `{"epoch": 3, "objective": 0.71}`
//!   (`valid_accuracy` is read as `objective`); any other output is kept in
//!   the trial's log;
//! - out: `result.json` (`$NASBOX_RESULT_FILE`), written atomically before
//!   exiting 0: `{"objective": 0.83, "metrics": {"params": 1.2e6}, "test_accuracy": 0.81}`.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::train::{TrainJob, WorkerLine};
use crate::space::SearchSpace;

/// The protocol's version, in `trial.json` and `$NASBOX_PROTOCOL`. A
/// change that an existing script could misread gets a new number.
pub const PROTOCOL: u32 = 1;

/// Lines of the command's output kept for a failed trial's reason.
const TAIL_LINES: usize = 5;

/// `[command]` of a run: what to run per trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandOptions {
    /// A shell command line (`sh -c`), e.g. `python train.py`.
    pub run: String,
    /// Where it runs; unset: the folder the search was started in (the
    /// search records it, so `resume` from elsewhere runs it there too).
    pub dir: Option<PathBuf>,
}

/// What a worker needs to run one trial's command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandJob {
    pub run: String,
    /// Absolute working directory.
    pub dir: PathBuf,
    pub trial: u64,
    /// The trial's own folder (`RUN/trials/<id>/`, or a Slurm job's
    /// `trial/`), which holds `trial.json` and `result.json`.
    pub trial_dir: PathBuf,
}

/// `trial.json`: everything the command is told about its trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialFile {
    pub protocol: u32,
    pub trial: u64,
    pub space: String,
    /// `{decision: choice}`; a decision space's numbers stay numbers.
    pub arch: serde_json::Value,
    /// The architecture in the space's notation (for a decision space, the
    /// same JSON object as text).
    pub arch_text: String,
    /// Each decision's choice index.
    pub genotype: Vec<u32>,
    /// The strategy's fidelity in (0, 1], or null for full fidelity.
    pub fidelity: Option<f64>,
    /// `[train] epochs` scaled by the fidelity (at least 1): a suggestion
    /// the command may follow.
    pub epochs: usize,
    pub seed: u64,
    pub trial_dir: PathBuf,
    pub result_file: PathBuf,
    /// `cpu`, or `cuda` for the one device `CUDA_VISIBLE_DEVICES` leaves
    /// visible.
    pub device: String,
    /// Threads the trial may use (`OMP_NUM_THREADS` is set to it too).
    pub threads: i32,
}

/// `result.json`, as the command writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultFile {
    /// Higher is better (report `-loss` for a loss).
    pub objective: f64,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub test_accuracy: Option<f64>,
}

impl ResultFile {
    /// Reads and checks a result file; errors say what is wrong with it.
    pub fn read(path: &Path) -> Result<ResultFile, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(format!("it exited 0 without writing {}", path.display())),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        let r: ResultFile = serde_json::from_str(&text).map_err(|e| {
            format!("{} is malformed: {e} (expected {{\"objective\": NUMBER, \"metrics\": {{NAME: NUMBER}}, \"test_accuracy\": NUMBER}})", path.display())
        })?;
        if !r.objective.is_finite() {
            return Err(format!("{}: objective {} is not a finite number", path.display(), r.objective));
        }
        if let Some((k, v)) = r.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("{}: metric `{k}` = {v} is not a finite number", path.display()));
        }
        if let Some(t) = r.test_accuracy.filter(|t| !t.is_finite()) {
            return Err(format!("{}: test_accuracy {t} is not a finite number", path.display()));
        }
        Ok(r)
    }
}

/// One progress line: `{"epoch": N, "objective": X}` (or
/// `valid_accuracy`). `None` for any other output.
pub fn progress(line: &str) -> Option<(usize, f64)> {
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let epoch = value.get("epoch")?.as_f64()?;
    let objective = value.get("objective").or_else(|| value.get("valid_accuracy"))?.as_f64()?;
    (epoch >= 0.0 && objective.is_finite()).then_some((epoch as usize, objective))
}

/// The command's process group, for the worker's SIGTERM handler.
static GROUP: AtomicI32 = AtomicI32::new(0);

extern "C" fn terminate(_: libc::c_int) {
    // Only async-signal-safe calls here.
    let group = GROUP.load(Ordering::SeqCst);
    unsafe {
        if group > 0 {
            libc::killpg(group, libc::SIGKILL);
        }
        libc::_exit(143);
    }
}

/// Makes sure the command dies with this worker: the executor stops a
/// worker with SIGTERM (a timeout, early stopping, Ctrl-C), and a worker
/// whose search died gets SIGTERM too; either way the handler kills the
/// command's whole process group (a shell and whatever it started).
fn die_with_the_command() {
    unsafe {
        libc::signal(libc::SIGTERM, terminate as *const () as libc::sighandler_t);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
    }
}

/// Runs one trial's command, reporting its progress and result to `emit`.
pub fn run(job: &TrainJob, command: &CommandJob, emit: &mut dyn FnMut(WorkerLine)) -> anyhow::Result<()> {
    let space = SearchSpace::resolve(&job.space)?;
    let genotype = space.parse(&job.arch)?;
    std::fs::create_dir_all(&command.trial_dir).with_context(|| format!("creating the trial folder {}", command.trial_dir.display()))?;
    // The command runs elsewhere: hand it absolute paths.
    let dir = &std::fs::canonicalize(&command.trial_dir).with_context(|| format!("the trial folder {}", command.trial_dir.display()))?;
    let result_file = dir.join("result.json");
    // A rerun (resume, a retried Slurm job) must not read an earlier result.
    match std::fs::remove_file(&result_file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).with_context(|| format!("removing the old {}", result_file.display())),
        _ => {}
    }
    let (device, visible) = match job.train.device.strip_prefix("cuda:") {
        Some(n) => ("cuda".to_string(), Some(n.to_string())),
        None => (job.train.device.clone(), None),
    };
    let threads = job.train.threads.unwrap_or(1).max(1);
    let trial = TrialFile {
        protocol: PROTOCOL,
        trial: command.trial,
        space: space.name(),
        arch: space.to_json(&genotype),
        arch_text: job.arch.clone(),
        genotype: genotype.clone(),
        fidelity: job.fidelity,
        epochs: job.epochs_at_fidelity(),
        seed: job.seed,
        trial_dir: dir.clone(),
        result_file: result_file.clone(),
        device,
        threads,
    };
    let trial_file = dir.join("trial.json");
    crate::run::executor::slurm::job::write_atomically(&trial_file, serde_json::to_string_pretty(&trial)?.as_bytes())?;

    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(&command.run).current_dir(&command.dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let env = [
        ("NASBOX_PROTOCOL", PROTOCOL.to_string()),
        ("NASBOX_TRIAL", command.trial.to_string()),
        ("NASBOX_TRIAL_FILE", trial_file.display().to_string()),
        ("NASBOX_TRIAL_DIR", dir.display().to_string()),
        ("NASBOX_RESULT_FILE", result_file.display().to_string()),
        ("NASBOX_ARCH", trial.arch.to_string()),
        ("NASBOX_GENOTYPE", genotype.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
        ("NASBOX_FIDELITY", job.fidelity.map_or(String::new(), |f| f.to_string())),
        ("NASBOX_EPOCHS", trial.epochs.to_string()),
        ("NASBOX_SEED", job.seed.to_string()),
        ("NASBOX_DEVICE", trial.device.clone()),
        ("NASBOX_THREADS", threads.to_string()),
        ("OMP_NUM_THREADS", threads.to_string()),
        ("MKL_NUM_THREADS", threads.to_string()),
    ];
    cmd.envs(env);
    if let Some(v) = visible {
        cmd.env("CUDA_VISIBLE_DEVICES", v);
    }
    // Its own process group, so that everything it starts can be stopped
    // at once; and the shell dies if this worker does.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    die_with_the_command();
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting `{}` in {}", command.run, command.dir.display()))?;
    GROUP.store(child.id() as i32, Ordering::SeqCst);
    emit(WorkerLine::Group { id: child.id() as i32 });

    // Both streams go to this worker's standard error (the trial's log);
    // the last lines of either are kept for a failure's reason.
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let keep = |tail: &Arc<Mutex<VecDeque<String>>>, line: &str| {
        if !line.trim().is_empty() {
            let mut t = tail.lock().expect("not poisoned");
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(line.chars().take(300).collect::<String>());
        }
    };
    let stderr = child.stderr.take().expect("piped");
    let err_tail = tail.clone();
    let copier = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(std::io::stderr(), "{line}");
            keep(&err_tail, &line);
        }
    });
    let mut curve = 0usize;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        let _ = writeln!(std::io::stderr(), "{line}");
        match progress(&line) {
            Some((epoch, objective)) => {
                curve += 1;
                emit(WorkerLine::Epoch { epoch: if epoch == 0 { curve } else { epoch }, valid_accuracy: objective, train_loss: 0.0 });
            }
            None => keep(&tail, &line),
        }
    }
    let status = child.wait().context("waiting for the command")?;
    let _ = copier.join();
    let seconds = started.elapsed().as_secs_f64();
    let last = || {
        let t = tail.lock().expect("not poisoned");
        if t.is_empty() {
            " (no output)".to_string()
        } else {
            format!("; its last output: {}", t.iter().cloned().collect::<Vec<_>>().join(" | "))
        }
    };
    if !status.success() {
        let how = match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
            (_, Some(sig)) => format!("the command was killed by signal {sig}"),
            // What a shell reports when a process it ran was killed.
            (Some(code), _) if (129..=128 + 64).contains(&code) => {
                format!("the command exited with status {code} (a process it ran was killed by signal {})", code - 128)
            }
            (Some(code), _) => format!("the command exited with status {code}"),
            _ => "the command ended abnormally".into(),
        };
        anyhow::bail!("{how}{}", last());
    }
    let result = ResultFile::read(&result_file).map_err(|why| anyhow::anyhow!("the command's result: {why}{}", last()))?;
    let mut metrics: Vec<(String, f64)> = result.metrics.into_iter().collect();
    if let Some(t) = result.test_accuracy {
        metrics.push(("test-accuracy".into(), t));
    }
    emit(WorkerLine::Done { valid_accuracy: result.objective, diverged: false, seconds, metrics });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_are_json_objects_with_an_epoch_and_an_objective() {
        assert_eq!(progress(r#"{"epoch": 3, "valid_accuracy": 0.71}"#), Some((3, 0.71)));
        assert_eq!(progress(r#"{"epoch": 1, "objective": -0.5, "loss": 2}"#), Some((1, -0.5)));
        assert_eq!(progress("epoch 3: 0.71"), None);
        assert_eq!(progress(r#"{"epoch": 3}"#), None);
        assert_eq!(progress(r#"{"objective": 0.3}"#), None);
        assert_eq!(progress(r#"[1, 2]"#), None);
    }

    #[test]
    fn result_files_are_checked_and_errors_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        assert!(ResultFile::read(&path).unwrap_err().contains("exited 0 without writing"));
        let write = |text: &str| {
            std::fs::write(&path, text).unwrap();
            ResultFile::read(&path)
        };
        let r = write(r#"{"objective": 0.8, "metrics": {"params": 1200}, "test_accuracy": 0.75}"#).unwrap();
        assert_eq!((r.objective, r.metrics["params"], r.test_accuracy), (0.8, 1200.0, Some(0.75)));
        assert!(write("{\"objective\": 0.8").unwrap_err().contains("is malformed"));
        assert!(write(r#"{"objetive": 0.8}"#).unwrap_err().contains("unknown field `objetive`"));
        assert!(write(r#"{"metrics": {}}"#).unwrap_err().contains("missing field `objective`"));
        assert!(write(r#"{"objective": "high"}"#).unwrap_err().contains("is malformed"));
    }
}
