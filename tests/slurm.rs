//! `nasbox search --executor slurm` against a real Slurm: a single-node
//! one on this machine (`scripts/slurm-local up`, which `.ci/run` does).
//! Without a Slurm these tests say so on the terminal and pass, so the
//! rest of the suite runs anywhere; with `NASBOX_REQUIRE_SLURM=1` (CI)
//! a missing Slurm fails them instead.
//!
//! The tests share the node's two CPUs, so they take turns.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nasbox::run::executor::slurm::job::{JobFolder, JobResult};
use nasbox::run::journal::{JobRecord, Journal, Trial, TrialStatus};
use support::{command, guest, text, trials};

static TURN: Mutex<()> = Mutex::new(());

/// Whether a Slurm is up; says so visibly (past the test harness's
/// capture) when it is not.
fn slurm_up() -> bool {
    let idle = Command::new("sinfo").args(["--noheader", "--format=%t"]).output().is_ok_and(|o| {
        o.status.success() && String::from_utf8_lossy(&o.stdout).lines().any(|l| ["idle", "mix", "alloc"].contains(&l.trim().trim_end_matches('*')))
    });
    if !idle {
        if std::env::var_os("NASBOX_REQUIRE_SLURM").is_some() {
            panic!("NASBOX_REQUIRE_SLURM is set but no Slurm node is up: start one with scripts/slurm-local up");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED: no Slurm node is up here; `scripts/slurm-local up` installs and starts one");
    }
    idle
}

fn nasbox(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// A run.toml for short training trials on Slurm.
fn config(dir: &Path, trials: u32, epochs: u32, extra: &str) -> PathBuf {
    let path = dir.join(format!("slurm-{trials}-{epochs}.toml"));
    std::fs::write(
        &path,
        format!(
            "estimator = \"train\"\nbudget = \"trials={trials}\"\nseed = 4\nexecutor = \"slurm\"\n{extra}\n[slurm]\npoll_seconds = 0.3\n\n[train]\nepochs = {epochs}\nbatch_size = 64\ndata_fraction = 0.1\nchannels = 2\ncells = 1\n"
        ),
    )
    .unwrap();
    path
}

fn search(config: &Path, out: &Path, workers: &str, more: &[&str]) -> Command {
    let strategy = guest("random");
    let mut args =
        vec!["search", "--strategy", strategy.to_str().unwrap(), "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--workers", workers];
    args.extend_from_slice(more);
    let mut c = command(&args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn jobs(dir: &Path, trial: u64) -> Vec<JobRecord> {
    Journal::open(&dir.join("journal.sqlite")).ok().map(|j| j.jobs_of(trial).unwrap()).unwrap_or_default()
}

/// The job's state as squeue shows it (`None`: not in the queue).
fn squeue_state(job: &str) -> Option<String> {
    let o = Command::new("squeue").args(["--noheader", "--format=%T", &format!("--jobs={job}")]).output().unwrap();
    let state = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !state.is_empty()).then_some(state)
}

fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the trial's latest job is running; its id.
fn running_job(dir: &Path, trial: u64) -> String {
    wait_for(&format!("trial {trial}'s job to run"), Duration::from_secs(60), || {
        let job = jobs(dir, trial).last()?.job.clone();
        (squeue_state(&job).as_deref() == Some("RUNNING")).then_some(job)
    })
}

fn finish(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

fn result(dir: &Path, trial: u64, attempt: u32) -> JobResult {
    JobFolder::new(&dir.join("jobs"), trial, attempt).read_result().unwrap().expect("a result")
}

#[test]
fn a_search_runs_its_trials_as_concurrent_slurm_jobs() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = finish(search(&config(dir.path(), 4, 2, ""), &out, "2", &[]).spawn().unwrap());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 Slurm job(s) at a time"), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 4);
    let mut spans = vec![];
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
        assert!(t.metrics.iter().any(|(k, v)| k == "slurm-queue-seconds" && *v >= 0.0), "{t:?}");
        let records = jobs(&out, t.id);
        assert_eq!(records.len(), 1, "one job per trial: {records:?}");
        let r = result(&out, t.id, 0);
        assert!((t.objective - r.curve.last().copied().unwrap()).abs() < 1e-9, "the journal holds what the job computed");
        spans.push((r.started_at, r.finished_at));
    }
    let overlapping = spans.iter().enumerate().any(|(i, a)| spans[i + 1..].iter().any(|b| a.0 < b.1 && b.0 < a.1));
    assert!(overlapping, "no two jobs ran at the same time: {spans:?}");
}

#[test]
fn a_job_cancelled_outside_nasbox_fails_its_trial_or_is_retried() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for policy in ["fail", "retry"] {
        let out = dir.path().join(policy);
        // Twelve epochs, so the job is still training when scancel lands,
        // also on a loaded machine (with three, one finished first in a CI run).
        let child = search(&config(dir.path(), 2, 12, ""), &out, "1", &["--on-lost", policy]).spawn().unwrap();
        let job = running_job(&out, 0);
        assert!(Command::new("scancel").arg(&job).status().unwrap().success());
        let o = finish(child);
        assert!(o.status.success(), "{}", text(&o));
        let all = trials(&out);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].status, TrialStatus::Ok, "{:?}", all[1]);
        let records = jobs(&out, 0);
        match policy {
            "fail" => {
                assert!(
                    matches!(&all[0].status, TrialStatus::Failed(r) if r.contains(&format!("Slurm job {job} was cancelled outside nasbox"))),
                    "{:?}",
                    all[0]
                );
                assert_eq!(records.len(), 1, "{records:?}");
            }
            _ => {
                assert_eq!(all[0].status, TrialStatus::Ok, "{:?}", all[0]);
                assert_eq!(records.iter().map(|r| r.attempt).collect::<Vec<_>>(), vec![0, 1], "{records:?}");
                assert_eq!(records[0].job, job);
                assert!(text(&o).contains("submitting it again"), "{}", text(&o));
            }
        }
    }
}

#[test]
fn a_killed_coordinator_reattaches_to_its_jobs_on_resume() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = config(dir.path(), 3, 6, "");
    let mut child = search(&cfg, &out, "2", &[]).spawn().unwrap();
    let first = running_job(&out, 0);
    let second = running_job(&out, 1);
    child.kill().unwrap(); // SIGKILL: no chance to cancel anything
    child.wait().unwrap();
    assert!(squeue_state(&first).is_some() && squeue_state(&second).is_some(), "Slurm keeps the jobs of a dead coordinator");
    let o = nasbox(&["resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for job in [&first, &second] {
        assert!(text(&o).contains(&format!("re-attached to Slurm job {job}")), "{}", text(&o));
    }
    let all = trials(&out);
    assert_eq!(all.len(), 3);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
    }
    assert_eq!(jobs(&out, 0).iter().map(|r| r.job.clone()).collect::<Vec<_>>(), vec![first], "not submitted again");
    assert_eq!(jobs(&out, 1).iter().map(|r| r.job.clone()).collect::<Vec<_>>(), vec![second]);
}

#[test]
fn ctrl_c_cancels_the_jobs_in_flight_and_resume_finishes_the_run() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = search(&config(dir.path(), 3, 6, ""), &out, "2", &[]).spawn().unwrap();
    let first = running_job(&out, 0);
    // SAFETY: signalling a child process we own.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = finish(child);
    assert!(!o.status.success() && text(&o).contains("trial(s) in flight were cancelled"), "{}", text(&o));
    wait_for("the cancelled job to leave the queue", Duration::from_secs(30), || squeue_state(&first).is_none().then_some(()));
    let pending: Vec<Trial> = trials(&out).into_iter().filter(|t| t.status == TrialStatus::Pending).collect();
    assert!(pending.iter().any(|t| t.id == 0), "cancelled trials stay pending: {pending:?}");
    assert!(jobs(&out, 0)[0].cancelled);
    let o = nasbox(&["resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|t| t.status == TrialStatus::Ok), "{all:?}");
    assert_eq!(jobs(&out, 0).len(), 2, "a cancelled trial is submitted again on resume");
}

#[test]
fn a_requeued_job_starts_over_and_its_trial_succeeds() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = search(&config(dir.path(), 1, 4, ""), &out, "1", &[]).spawn().unwrap();
    let job = running_job(&out, 0);
    let progress = JobFolder::new(&out.join("jobs"), 0, 0).progress();
    wait_for("the worker to start", Duration::from_secs(30), || progress.exists().then_some(()));
    assert!(Command::new("scontrol").args(["requeue", &job]).status().unwrap().success());
    // Slurm holds a requeued job back for a while; let the coordinator see
    // it pending, then let it start again now.
    wait_for("the job to be pending", Duration::from_secs(10), || (squeue_state(&job).as_deref() == Some("PENDING")).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    assert!(Command::new("scontrol").args(["update", &format!("JobId={job}"), "StartTime=now"]).status().unwrap().success());
    let o = finish(child);
    assert!(o.status.success(), "{}", text(&o));
    let t = &trials(&out)[0];
    assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
    assert!(t.metrics.iter().any(|(k, v)| k == "slurm-requeues" && *v == 1.0), "{t:?}");
    assert_eq!(jobs(&out, 0).len(), 1, "a requeued job is the same job");
}

#[test]
fn slurm_refuses_estimators_that_do_not_train() {
    let dir = tempfile::tempdir().unwrap();
    let o = nasbox(&["search", "--executor", "slurm", "--estimator", "zero-cost", "--out", dir.path().join("run").to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("--executor slurm runs training trials"), "{}", text(&o));
    assert!(!dir.path().join("run").exists(), "nothing is created for a refused run");
}

#[test]
fn a_command_estimator_search_runs_the_users_script_as_slurm_jobs() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/command");
    let config = dir.path().join("command.toml");
    std::fs::write(
        &config,
        format!(
            "space = \"{}\"\nestimator = \"command\"\nbudget = \"trials=4\"\nseed = 2\nexecutor = \"slurm\"\n[command]\nrun = \"sh {}\"\n[slurm]\npoll_seconds = 0.3\n",
            examples.join("space.toml").display(),
            examples.join("sum.sh").display()
        ),
    )
    .unwrap();
    let o = finish(search(&config, &out, "2", &[]).spawn().unwrap());
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 4);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
        // The script's score: the sum of the choice indices.
        assert_eq!(t.objective, t.genotype.iter().sum::<u32>() as f64, "{t:?}");
        assert_eq!(jobs(&out, t.id).len(), 1);
        let folder = JobFolder::new(&out.join("jobs"), t.id, 0);
        assert!(folder.dir.join("trial/trial.json").exists() && folder.dir.join("trial/result.json").exists());
        assert!(t.metrics.iter().any(|(k, _)| k == "slurm-queue-seconds"), "{t:?}");
    }
}
