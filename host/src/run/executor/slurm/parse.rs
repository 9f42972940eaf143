//! Reading what Slurm's commands print. Only the few fields the executor
//! acts on are read (job id, state, reason, exit code, restarts), by name,
//! so extra fields and reordered lines of other Slurm releases do not
//! matter. Both the long state names (`RUNNING`) and the compact codes of
//! older `squeue` formats (`R`) are understood.

use thiserror::Error;

/// Output that is not what the command prints.
#[derive(Debug, Error, PartialEq)]
#[error("{command}: unexpected output `{output}` ({detail})")]
pub struct ParseError {
    pub command: &'static str,
    pub output: String,
    pub detail: &'static str,
}

/// A job's state, as squeue, scontrol and sacct name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Configuring,
    Running,
    Suspended,
    Completing,
    /// Put back in the queue (preempted with requeue, `scontrol requeue`).
    Requeued,
    Completed,
    Cancelled,
    Failed,
    Timeout,
    NodeFail,
    BootFail,
    Preempted,
    OutOfMemory,
    Deadline,
    /// A state this parser does not know; treated as still in the queue
    /// only if squeue lists it.
    Other(String),
}

impl JobState {
    /// Reads a long name (`RUNNING`, `CANCELLED by 1000`) or a compact
    /// code (`R`, `PD`, `CA`).
    pub fn parse(text: &str) -> JobState {
        let word = text.split_whitespace().next().unwrap_or("").trim_end_matches('+').to_ascii_uppercase();
        match word.as_str() {
            "PENDING" | "PD" => JobState::Pending,
            "CONFIGURING" | "CF" => JobState::Configuring,
            "RUNNING" | "R" => JobState::Running,
            "SUSPENDED" | "S" | "STOPPED" | "ST" => JobState::Suspended,
            "COMPLETING" | "CG" | "STAGE_OUT" | "SO" | "SIGNALING" | "SI" => JobState::Completing,
            "REQUEUED" | "RQ" | "REQUEUE_HOLD" | "RH" | "REQUEUE_FED" | "RF" => JobState::Requeued,
            "COMPLETED" | "CD" => JobState::Completed,
            "CANCELLED" | "CA" => JobState::Cancelled,
            "FAILED" | "F" => JobState::Failed,
            "TIMEOUT" | "TO" => JobState::Timeout,
            "NODE_FAIL" | "NF" => JobState::NodeFail,
            "BOOT_FAIL" | "BF" => JobState::BootFail,
            "PREEMPTED" | "PR" => JobState::Preempted,
            "OUT_OF_MEMORY" | "OOM" => JobState::OutOfMemory,
            "DEADLINE" | "DL" => JobState::Deadline,
            _ => JobState::Other(word),
        }
    }

    /// Whether the job has ended for good (it will not run again unless
    /// resubmitted).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Completed
                | JobState::Cancelled
                | JobState::Failed
                | JobState::Timeout
                | JobState::NodeFail
                | JobState::BootFail
                | JobState::Preempted
                | JobState::OutOfMemory
                | JobState::Deadline
        )
    }
}

/// A job as squeue lists it (`--format=%i|%T|%r`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedJob {
    pub id: String,
    pub state: JobState,
    pub reason: String,
}

/// A job as `scontrol show job` or sacct describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    pub id: String,
    pub state: JobState,
    pub reason: Option<String>,
    /// `EXIT:SIGNAL`, e.g. `3:0` or `0:15`.
    pub exit_code: Option<String>,
    /// How often Slurm requeued it.
    pub restarts: Option<u32>,
}

/// The job id `sbatch --parsable` printed: `ID` or `ID;CLUSTER`. An sbatch
/// wrapper that ignores `--parsable` prints `Submitted batch job ID`.
pub fn sbatch(output: &str) -> Result<String, ParseError> {
    let err = |detail| ParseError { command: "sbatch", output: output.trim().to_string(), detail };
    let line = output.lines().map(str::trim).rfind(|l| !l.is_empty()).ok_or_else(|| err("no job id"))?;
    let id = line.strip_prefix("Submitted batch job ").unwrap_or(line).split(';').next().unwrap_or("").trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(err("expected a job id"));
    }
    Ok(id.to_string())
}

/// squeue's `%i|%T|%r` lines. squeue asked about ids it no longer knows
/// fails with `Invalid job id specified`: that is an empty queue.
pub fn squeue(output: &str) -> Result<Vec<QueuedJob>, ParseError> {
    let mut jobs = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains("Invalid job id") {
            continue;
        }
        let mut fields = line.splitn(3, '|');
        let (Some(id), Some(state)) = (fields.next(), fields.next()) else {
            return Err(ParseError { command: "squeue", output: line.to_string(), detail: "expected ID|STATE|REASON" });
        };
        if id.is_empty() || !id.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            return Err(ParseError { command: "squeue", output: line.to_string(), detail: "expected a job id first" });
        }
        jobs.push(QueuedJob { id: id.to_string(), state: JobState::parse(state), reason: fields.next().unwrap_or("").to_string() });
    }
    Ok(jobs)
}

/// `scontrol show job ID` (multi-line or `--oneliner`). `None`: Slurm no
/// longer knows the job (it ended more than `MinJobAge` ago).
pub fn scontrol_job(output: &str) -> Result<Option<JobInfo>, ParseError> {
    if output.contains("Invalid job id") {
        return Ok(None);
    }
    let mut id = None;
    let mut state = None;
    let mut reason = None;
    let mut exit_code = None;
    let mut restarts = None;
    for token in output.split_whitespace() {
        let Some((key, value)) = token.split_once('=') else { continue };
        match key {
            "JobId" if id.is_none() => id = Some(value.to_string()),
            "JobState" => state = Some(JobState::parse(value)),
            "Reason" => reason = Some(value.to_string()),
            "ExitCode" => exit_code = Some(value.to_string()),
            "Restarts" => restarts = value.parse().ok(),
            _ => {}
        }
    }
    match (id, state) {
        (Some(id), Some(state)) => Ok(Some(JobInfo { id, state, reason, exit_code, restarts })),
        _ => Err(ParseError { command: "scontrol show job", output: output.trim().chars().take(200).collect(), detail: "no JobId and JobState" }),
    }
}

/// `sacct -n -P -j ID -o JobID,State,ExitCode`: the line of the job itself
/// (not its `.batch` or `.extern` steps). `Ok(None)`: sacct has no record.
/// A cluster without accounting makes sacct print `accounting storage is
/// disabled`; the caller falls back to scontrol.
pub fn sacct(output: &str, job: &str) -> Result<Option<JobInfo>, ParseError> {
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() < 3 {
            return Err(ParseError { command: "sacct", output: line.to_string(), detail: "expected JobID|State|ExitCode" });
        }
        if fields[0] == job {
            return Ok(Some(JobInfo {
                id: job.to_string(),
                state: JobState::parse(fields[1]),
                reason: None,
                exit_code: Some(fields[2].to_string()),
                restarts: None,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/run/executor/slurm/testdata").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn sbatch_ids_of_every_release() {
        assert_eq!(sbatch(&fixture("sbatch-22.05.txt")).unwrap(), "4");
        assert_eq!(sbatch(&fixture("sbatch-24.05-federated.txt")).unwrap(), "1234");
        assert_eq!(sbatch(&fixture("sbatch-17.11-not-parsable.txt")).unwrap(), "42");
        assert!(sbatch("").is_err());
        let e = sbatch("sbatch: error: Batch job submission failed: Invalid partition name specified").unwrap_err();
        assert!(e.to_string().contains("Invalid partition"), "{e}");
    }

    #[test]
    fn squeue_long_and_compact_states() {
        let jobs = squeue(&fixture("squeue-22.05.txt")).unwrap();
        let states: Vec<_> = jobs.iter().map(|j| (j.id.as_str(), j.state.clone(), j.reason.as_str())).collect();
        assert_eq!(states, vec![("6", JobState::Pending, "Resources"), ("4", JobState::Running, "None"), ("5", JobState::Running, "None")]);
        let requeued = squeue(&fixture("squeue-requeued-22.05.txt")).unwrap();
        assert_eq!(requeued[0].state, JobState::Pending);
        assert_eq!(requeued[0].reason, "BeginTime");
        let old = squeue(&fixture("squeue-17.11-compact.txt")).unwrap();
        assert_eq!(
            old.iter().map(|j| j.state.clone()).collect::<Vec<_>>(),
            vec![JobState::Running, JobState::Pending, JobState::Completing, JobState::Pending]
        );
        assert_eq!(old[3].id, "45_3");
        let new = squeue(&fixture("squeue-24.05.txt")).unwrap();
        assert_eq!(
            new.iter().map(|j| j.state.clone()).collect::<Vec<_>>(),
            vec![JobState::Running, JobState::Pending, JobState::Requeued, JobState::Suspended, JobState::Completing]
        );
        assert!(squeue(&fixture("squeue-unknown-22.05.txt")).unwrap().is_empty());
        assert!(squeue("").unwrap().is_empty());
        assert!(squeue("JOBID|STATE|REASON").is_err(), "a header line is not a job");
    }

    #[test]
    fn scontrol_states_restarts_and_exit_codes() {
        let running = scontrol_job(&fixture("scontrol-running-22.05.txt")).unwrap().unwrap();
        assert_eq!((running.id.as_str(), &running.state, running.restarts), ("4", &JobState::Running, Some(0)));
        let pending = scontrol_job(&fixture("scontrol-pending-oneliner-22.05.txt")).unwrap().unwrap();
        assert_eq!((pending.state, pending.reason.as_deref()), (JobState::Pending, Some("Resources")));
        let cancelled = scontrol_job(&fixture("scontrol-cancelled-22.05.txt")).unwrap().unwrap();
        assert_eq!((cancelled.state, cancelled.exit_code.as_deref()), (JobState::Cancelled, Some("0:15")));
        let requeued = scontrol_job(&fixture("scontrol-requeued-22.05.txt")).unwrap().unwrap();
        assert_eq!((requeued.state, requeued.restarts), (JobState::Pending, Some(1)));
        let failed = scontrol_job(&fixture("scontrol-failed-22.05.txt")).unwrap().unwrap();
        assert_eq!((failed.state, failed.reason.as_deref(), failed.exit_code.as_deref()), (JobState::Failed, Some("NonZeroExitCode"), Some("3:0")));
        let node = scontrol_job(&fixture("scontrol-nodefail-17.11.txt")).unwrap().unwrap();
        assert_eq!((node.id.as_str(), node.state, node.reason.as_deref()), ("42", JobState::NodeFail, Some("NodeDown")));
        let preempted = scontrol_job(&fixture("scontrol-preempted-24.05.txt")).unwrap().unwrap();
        assert_eq!((preempted.state, preempted.restarts), (JobState::Preempted, Some(2)));
        assert_eq!(scontrol_job(&fixture("scontrol-unknown-22.05.txt")).unwrap(), None);
        assert!(scontrol_job("slurm_load_jobs error: Unable to contact slurm controller").is_err());
    }

    #[test]
    fn sacct_reads_the_job_line_not_its_steps() {
        let text = fixture("sacct-24.05.txt");
        assert_eq!(sacct(&text, "1234").unwrap().unwrap().state, JobState::Timeout);
        assert_eq!(sacct(&text, "1240").unwrap().unwrap().state, JobState::Cancelled);
        assert_eq!(sacct(&text, "1241").unwrap().unwrap().state, JobState::OutOfMemory);
        assert_eq!(sacct(&text, "9").unwrap(), None);
        assert!(sacct(&fixture("sacct-disabled-22.05.txt"), "7").is_err(), "the caller falls back to scontrol");
    }

    #[test]
    fn final_states() {
        for s in ["COMPLETED", "CANCELLED by 0", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "CD", "CA", "F", "TO", "NF"] {
            assert!(JobState::parse(s).is_final(), "{s}");
        }
        for s in ["PENDING", "RUNNING", "REQUEUED", "COMPLETING", "SUSPENDED", "R", "PD", "CG", "RQ", "MYSTERY"] {
            assert!(!JobState::parse(s).is_final(), "{s}");
        }
    }
}
