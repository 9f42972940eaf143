//! `nasbox worker`: trains one architecture for a search. Reads a job
//! (JSON) on standard input, writes one JSON line per epoch and a final
//! line on standard output. Run by `nasbox search`, not by hand.

use std::io::{Read, Write};
use std::process::ExitCode;

use nasbox::estimate::train::{run_job, TrainJob, WorkerLine};

pub fn run() -> anyhow::Result<ExitCode> {
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
    Ok(ExitCode::SUCCESS)
}
