//! `nasbox worker`: trains architectures for a search. Run by `nasbox
//! search`, not by hand. A local worker reads one job (JSON) on standard
//! input, or with `--serve` one job per line until its input ends, and
//! writes one JSON line per epoch and a final line per job on standard
//! output; a Slurm job's worker (`--trial-dir`) reads and writes the files
//! of its job folder instead.

use std::io::{BufRead, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use nasbox::estimate::train::{run_job_cached, DataCache, TrainJob, WorkerLine};
use nasbox::run::executor::local::Request;
use nasbox::run::executor::slurm::job::JobFolder;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// A job folder written by the Slurm executor (RUN/jobs/TRIAL.ATTEMPT).
    #[arg(long, value_name = "DIR")]
    trial_dir: Option<PathBuf>,
    /// Serve jobs, one JSON line each, until standard input ends (libtorch
    /// and the data stay loaded between them).
    #[arg(long)]
    serve: bool,
}

fn emit(line: WorkerLine) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(&line).expect("serialises"));
    let _ = out.flush();
}

/// Sends this process's standard error (libtorch's warnings, a command's
/// output) to the trial's log from now on.
fn stderr_to(log: &Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(log).with_context(|| format!("opening {}", log.display()))?;
    // SAFETY: dup2 onto fd 2; `file` stays open until the call returns.
    if unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
        anyhow::bail!("redirecting standard error to {}: {}", log.display(), std::io::Error::last_os_error());
    }
    Ok(())
}

pub fn run(a: WorkerArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = a.trial_dir {
        JobFolder { dir }.work()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut cache = DataCache::default();
    let one = |job: &TrainJob, cache: &mut DataCache| {
        if let Err(e) = run_job_cached(job, cache, &mut emit) {
            emit(WorkerLine::Error { message: format!("{e:#}") });
        }
    };
    if a.serve {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("worker: reading standard input")?;
            if line.trim().is_empty() {
                continue;
            }
            let request: Request = serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("worker: a request on standard input is not valid: {e}"))?;
            stderr_to(&request.log)?;
            one(&request.job, &mut cache);
        }
    } else {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        let job: TrainJob = serde_json::from_str(&input).map_err(|e| anyhow::anyhow!("worker: the job on standard input is not valid: {e}"))?;
        one(&job, &mut cache);
    }
    // Every line is written and flushed, and the executor goes by standard
    // output: skip libtorch's static destructors, which take a tenth of a
    // second or more at exit (`cargo bench -p nasbox --bench command`).
    let _ = std::io::stdout().flush();
    // SAFETY: _exit ends the process without running anything else.
    unsafe { libc::_exit(0) }
}
