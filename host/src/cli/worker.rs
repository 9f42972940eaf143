//! `nasbox worker`: trains one architecture for a search. Run by `nasbox
//! search`, not by hand: a local worker reads its job (JSON) on standard
//! input and writes one JSON line per epoch and a final line on standard
//! output; a Slurm job's worker (`--trial-dir`) reads and writes the files
//! of its job folder instead.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use nasbox::estimate::train::{run_job, TrainJob, WorkerLine};
use nasbox::run::executor::slurm::job::JobFolder;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// A job folder written by the Slurm executor (RUN/jobs/TRIAL.ATTEMPT).
    #[arg(long, value_name = "DIR")]
    trial_dir: Option<PathBuf>,
}

pub fn run(a: WorkerArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = a.trial_dir {
        JobFolder { dir }.work()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let job: TrainJob = serde_json::from_str(&input).map_err(|e| anyhow::anyhow!("worker: the job on standard input is not valid: {e}"))?;
    let stdout = std::io::stdout();
    let mut emit = |line: WorkerLine| {
        let mut out = stdout.lock();
        let _ = writeln!(out, "{}", serde_json::to_string(&line).expect("serialises"));
        let _ = out.flush();
    };
    if let Err(e) = run_job(&job, &mut emit) {
        emit(WorkerLine::Error { message: format!("{e:#}") });
    }
    // Every line is written and flushed, and the trial ends when the
    // executor sees standard output close: skip libtorch's static
    // destructors, which take a tenth of a second or more at exit
    // (`cargo bench -p nasbox --bench command`).
    let _ = std::io::stdout().flush();
    // SAFETY: _exit ends the process without running anything else.
    unsafe { libc::_exit(0) }
}
