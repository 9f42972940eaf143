//! The command estimator end to end (issue 15): `nasbox search` over a
//! decision space with the user's own script as the trainer — the examples
//! in `examples/command` and `examples/pytorch-mlp`, each way a script can
//! fail, and kill -9 with resume.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use nasbox::run::journal::{Trial, TrialStatus};
use support::{command, guest, text, trials};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn nasbox(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

fn arch(t: &Trial) -> serde_json::Value {
    serde_json::from_str(&t.arch).unwrap_or_else(|e| panic!("trial {} arch {:?} is not JSON: {e}", t.id, t.arch))
}

#[test]
fn a_python_script_scores_a_decision_space_and_results_show_json_architectures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let ex = examples().join("command");
    let script = format!("python3 {}", ex.join("quadratic.py").display());
    let o = nasbox(&[
        "search",
        "--strategy",
        guest("evolution").to_str().unwrap(),
        "--space",
        ex.join("space.toml").to_str().unwrap(),
        "--command",
        &script,
        "--budget",
        "trials=30",
        "--seed",
        "3",
        "--set",
        "population=8",
        "--set",
        "sample=3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // The closing hints are commands that work on a decision space: no `train --from`.
    let hint = format!("leaderboard: nasbox results {0}   every trial as JSON: nasbox results {0} --json FILE", out.display());
    assert!(text(&o).contains(&hint) && !text(&o).contains("train --from"), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 30);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
        // The script's known function of the architecture, as it received it.
        let a = arch(t);
        let (x, y) = (a["x"].as_f64().unwrap(), a["y"].as_f64().unwrap());
        let want = -((x - 3.0).powi(2)) - (y + 1.0).powi(2) + if a["kind"] == "b" { 0.5 } else { 0.0 };
        assert!((t.objective - want).abs() < 1e-9, "trial {}: {} for {a}", t.id, t.objective);
        assert!(t.metrics.iter().any(|(k, v)| k == "x" && *v == x), "{:?}", t.metrics);
        if t.reused_from.is_some() {
            continue; // a repeat is answered from the journal, not run again
        }
        let trial_file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join(format!("trials/{}/trial.json", t.id))).unwrap()).unwrap();
        assert_eq!(trial_file["arch"], a);
        assert_eq!(trial_file["protocol"], 1);
        assert!(Path::new(trial_file["result_file"].as_str().unwrap()).is_absolute());
    }
    let best = all.iter().max_by(|a, b| a.objective.total_cmp(&b.objective)).unwrap();
    let json = dir.path().join("trials.json");
    let o = nasbox(&["results", out.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert!(o.status.success() && text(&o).contains(&best.arch), "{}", text(&o));
    // The export has each trial's decisions as a JSON object, numbers typed.
    let exported: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(exported[best.id as usize]["decisions"], arch(best));
    let report = dir.path().join("report.html");
    let o = nasbox(&["report", out.to_str().unwrap(), "--out", report.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(&best.arch.replace('"', "&quot;")) || html.contains(&best.arch), "the report shows the best architecture");
    // Nothing of nasbox's own to retrain or export: said plainly.
    let o = nasbox(&["train", "--from", out.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("is a decision space"), "{}", text(&o));
}

/// A script that fails in the way its `mode` decision says.
fn failing_script(dir: &Path) -> (PathBuf, PathBuf) {
    let space = dir.join("modes.toml");
    std::fs::write(&space, "[decisions]\nmode = [\"ok\", \"exit\", \"missing\", \"malformed\", \"hang\", \"signal\"]\nvalue = [1, 2]\n").unwrap();
    let script = dir.join("trial.sh");
    std::fs::write(
        &script,
        r#"#!/bin/sh
mode=$(echo "$NASBOX_ARCH" | sed 's/.*"mode":"\([a-z]*\)".*/\1/')
value=$(echo "$NASBOX_ARCH" | sed 's/.*"value":\([0-9]*\).*/\1/')
echo '{"epoch": 1, "objective": 0.5}'
case $mode in
  ok) echo "{\"objective\": $value}" > "$NASBOX_RESULT_FILE" ;;
  exit) echo "boom: out of patience" >&2; exit 3 ;;
  missing) echo "forgot the result" ;;
  malformed) echo '{"objective": ' > "$NASBOX_RESULT_FILE" ;;
  hang) sleep 977 & echo $! > "$NASBOX_TRIAL_DIR/child.pid"; wait ;;
  signal) kill -9 $$ ;;
esac
"#,
    )
    .unwrap();
    (space, script)
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.split(") ").nth(1).is_some_and(|rest| rest.starts_with('Z')))
}

#[test]
fn each_way_a_script_fails_fails_only_its_trial_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (space, script) = failing_script(dir.path());
    let out = dir.path().join("run");
    let run = format!("sh {}", script.display());
    let o = nasbox(&[
        "search",
        "--strategy",
        guest("grid").to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &run,
        "--budget",
        "trials=12",
        "--trial-timeout",
        "3s",
        "--workers",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 12, "the search went on past every failure");
    for t in &all {
        let a = arch(t);
        let reason = match &t.status {
            TrialStatus::Failed(r) => r.clone(),
            TrialStatus::Ok => String::new(),
            other => panic!("trial {}: {other:?}", t.id),
        };
        let expect = match a["mode"].as_str().unwrap() {
            "ok" => {
                assert_eq!(t.objective, a["value"].as_f64().unwrap());
                continue;
            }
            "exit" => "the command exited with status 3; its last output: boom: out of patience",
            "missing" => "exited 0 without writing",
            "malformed" => "result.json is malformed",
            "hang" => "timed out after 3 s",
            "signal" => "killed by signal 9",
            m => panic!("mode {m}"),
        };
        assert!(reason.contains(expect), "trial {} ({a}): {reason:?} lacks {expect:?}", t.id);
        if a["mode"] == "missing" {
            assert!(reason.contains("forgot the result"), "the tail of its output: {reason}");
        }
        if a["mode"] == "hang" {
            // The timeout took the command's own children with it.
            let pid: u32 = std::fs::read_to_string(out.join(format!("trials/{}/child.pid", t.id))).unwrap().trim().parse().unwrap();
            let start = std::time::Instant::now();
            while alive(pid) {
                assert!(start.elapsed() < Duration::from_secs(10), "the timed-out trial's `sleep` ({pid}) outlived it");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn key(t: &Trial) -> (u64, Vec<u32>, String, String) {
    (t.id, t.genotype.clone(), format!("{:?}", t.status), format!("{:.9}", t.objective))
}

/// A search's arguments with `--out OUT` appended.
fn with_out<'a>(args: &[&'a str], out: &'a Path) -> Vec<&'a str> {
    args.iter().copied().chain(["--out", out.to_str().unwrap()]).collect()
}

/// Runs `nasbox <args>` writing to `out`, `kill -9`s it once the journal
/// holds each of `at` trials, and resumes it each time, until it finishes.
/// Returns how many times it was killed.
fn run_killed(args: &[&str], out: &Path, at: &[usize]) -> usize {
    let mut child = command(&with_out(args, out)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut kills = 0;
    for &count in at {
        let start = std::time::Instant::now();
        loop {
            let done = nasbox::run::journal::Journal::open(&out.join("journal.sqlite")).ok().and_then(|j| j.trials().ok()).map_or(0, |t| t.len());
            if done >= count || child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        child = command(&["resume", out.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    kills
}

#[test]
fn kill_9_and_resume_give_the_trials_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let ex = examples().join("command");
    // The sum example, a little slower, so that kills land mid-search.
    let slow = dir.path().join("slow.sh");
    std::fs::write(&slow, format!("sleep 0.1\n. {}\n", ex.join("sum.sh").display())).unwrap();
    let run = format!("sh {}", slow.display());
    let (evolution, space) = (guest("evolution"), ex.join("space.toml"));
    let args = [
        "search",
        "--strategy",
        evolution.to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &run,
        "--budget",
        "trials=24",
        "--workers",
        "1",
        "--seed",
        "5",
        "--set",
        "population=6",
        "--set",
        "sample=2",
    ];
    let whole = dir.path().join("whole");
    let o = nasbox(&with_out(&args, &whole));
    assert!(o.status.success(), "{}", text(&o));

    let cut = dir.path().join("cut");
    let kills = run_killed(&args, &cut, &[4, 10, 16]);
    assert!(kills >= 2, "killed {kills} times");
    let (a, b) = (trials(&whole), trials(&cut));
    assert_eq!(a.len(), 24);
    assert_eq!(a.iter().map(key).collect::<Vec<_>>(), b.iter().map(key).collect::<Vec<_>>(), "after {kills} kills");
}

#[test]
fn the_pytorch_example_searches_architecture_and_recipe_together() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let ex = examples().join("pytorch-mlp");
    // The example's command as its README gives it, run from the repository root.
    let o = command(&[
        "search",
        "--strategy",
        guest("random").to_str().unwrap(),
        "--space",
        "examples/pytorch-mlp/space.toml",
        "--command",
        ".venv/bin/python examples/pytorch-mlp/train.py",
        "--estimator",
        "command+early-stop",
        "--budget",
        "trials=4",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ])
    .current_dir(examples().join(".."))
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(ex.join("train.py").exists());
    let all = trials(&out);
    assert_eq!(all.len(), 4);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?} (log: {})", std::fs::read_to_string(out.join(format!("trials/{}.log", t.id))).unwrap_or_default());
        assert!(t.objective > 0.0 && t.objective <= 1.0);
        let m = |k: &str| t.metrics.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        assert!(m("params").is_some_and(|p| p > 0.0) && m("test-accuracy").is_some(), "{:?}", t.metrics);
        // Its progress lines are the trial's curve, as for built-in training.
        assert!(m("valid-accuracy-epoch-1").is_some(), "{:?}", t.metrics);
        let a = arch(t);
        assert!(a["lr"].is_f64() && a["activation"].is_string() && a["layers"].is_u64(), "{a}");
        // A continuous learning rate, and a momentum only for SGD.
        assert!((1e-3..=0.1).contains(&a["lr"].as_f64().unwrap()), "{a}");
        assert_eq!(a.get("momentum").is_some(), a["optimizer"] == "sgd", "{a}");
    }
}

#[test]
fn a_table_of_a_decision_space_benchmarks_strategies_like_any_table() {
    // A user who has tabulated their own model's results (here the
    // quadratic example's function) compares strategies on them.
    let dir = tempfile::tempdir().unwrap();
    let space = examples().join("command/space.toml");
    let table = dir.path().join("quadratic.jsonl");
    let mut rows = String::from("{\"nasbox_table\": 1, \"space\": \"quadratic\", \"source\": \"examples/command/quadratic.py's function\"}\n");
    for x in 0..=6 {
        for y in (0..9).map(|k| -2.0 + 0.5 * k as f64) {
            for kind in ["a", "b", "c"] {
                let raw = -((x as f64 - 3.0).powi(2)) - (y + 1.0f64).powi(2) + if kind == "b" { 0.5 } else { 0.0 };
                let score = (raw + 18.0) / 18.5; // into [0, 1], as tables hold accuracies
                let arch = serde_json::json!({"x": x, "y": y, "kind": kind}).to_string();
                rows.push_str(&format!(
                    "{{\"arch\": {}, \"fidelity\": 1.0, \"valid_accuracy\": {score}, \"test_accuracy\": {score}, \"cost\": 1.0}}\n",
                    serde_json::Value::String(arch)
                ));
            }
        }
    }
    std::fs::write(&table, rows).unwrap();
    let out = dir.path().join("bench");
    let o = nasbox(&[
        "bench",
        "--strategies",
        "random",
        "evolution",
        "--seeds",
        "3",
        "--space",
        space.to_str().unwrap(),
        "--estimator",
        &format!("table:{}", table.display()),
        "--budget",
        "trials=20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("random") && text(&o).contains("evolution"), "{}", text(&o));
}

#[test]
fn devices_threads_and_early_stopping_reach_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let space = dir.path().join("quality.toml");
    std::fs::write(&space, "[decisions]\nquality = [6, 5, 4, 3, 2, 1]\n").unwrap();
    // Five epochs, more than `[train] epochs` (3): the same curve for
    // every trial up to epoch 3, then quality × epoch / 1000; the result
    // says which GPU and how many threads the trial was given.
    let script = dir.path().join("curve.sh");
    std::fs::write(
        &script,
        r#"q=$(echo "$NASBOX_ARCH" | sed 's/.*"quality":\([0-9]*\).*/\1/')
for e in 1 2 3 4 5; do v=$e; [ $e -gt 3 ] && v=$((q * e)); printf '{"epoch": %d, "objective": 0.%03d}\n' $e $v; sleep 0.05; done
echo "{\"objective\": $(printf 0.%03d $((q * 5))), \"metrics\": {\"gpu\": $CUDA_VISIBLE_DEVICES, \"threads\": $OMP_NUM_THREADS, \"nasbox-threads\": $NASBOX_THREADS}}" > "$NASBOX_RESULT_FILE"
"#,
    )
    .unwrap();
    let config = dir.path().join("run.toml");
    std::fs::write(&config, "early_stop_min_trials = 2\n").unwrap();
    let out = dir.path().join("run");
    let run = format!("sh {}", script.display());
    let o = nasbox(&[
        "search",
        "--config",
        config.to_str().unwrap(),
        "--strategy",
        guest("grid").to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &run,
        "--estimator",
        "command+early-stop",
        "--budget",
        "trials=6",
        "--workers",
        "1",
        "--devices",
        "0,1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 6);
    let m = |t: &Trial, k: &str| t.metrics.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
        let trial_file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join(format!("trials/{}/trial.json", t.id))).unwrap()).unwrap();
        assert_eq!(trial_file["device"], "cuda", "with --devices a trial sees its one GPU as cuda");
    }
    // The grid runs the best first: after two finished trials, each worse
    // one falls below the median at epoch 4, past the 3 epochs nasbox would
    // train (a command's epochs are its own), and is stopped there.
    for t in &all[..2] {
        assert!(m(t, "stopped-at-epoch").is_none() && m(t, "valid-accuracy-epoch-5").is_some(), "{t:?}");
        assert!(m(t, "gpu").is_some_and(|g| g == 0.0 || g == 1.0), "{t:?}");
        assert_eq!(m(t, "threads"), m(t, "nasbox-threads"));
        assert!(m(t, "threads").is_some_and(|n| n >= 1.0));
    }
    for t in &all[2..] {
        assert_eq!(m(t, "stopped-at-epoch"), Some(4.0), "{t:?}");
    }
}

#[test]
fn a_worker_serves_trial_after_trial_and_a_crashed_one_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let space = dir.path().join("steps.toml");
    std::fs::write(&space, "[decisions]\nstep = [0, 1, 2, 3, 4, 5, 6, 7]\n").unwrap();
    // Each trial notes the worker process serving it (the parent of the
    // shell that runs the script); step 3 starts a background process and
    // kills that worker mid-trial.
    let script = dir.path().join("serve.sh");
    std::fs::write(
        &script,
        r#"w=$(cut -d' ' -f4 /proc/$PPID/stat)
echo "$w" > "$NASBOX_TRIAL_DIR/worker"
step=$(echo "$NASBOX_ARCH" | sed 's/.*"step":\([0-9]*\).*/\1/')
if [ "$step" = 3 ]; then sleep 977 & echo $! > "$NASBOX_TRIAL_DIR/child.pid"; kill -9 "$w"; sleep 5; fi
echo "{\"objective\": $step}" > "$NASBOX_RESULT_FILE"
"#,
    )
    .unwrap();
    let out = dir.path().join("run");
    let run = format!("sh {}", script.display());
    let o = nasbox(&[
        "search",
        "--strategy",
        guest("grid").to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &run,
        "--budget",
        "trials=8",
        "--workers",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&out);
    assert_eq!(all.len(), 8);
    let worker = |t: &Trial| std::fs::read_to_string(out.join(format!("trials/{}/worker", t.id))).unwrap().trim().to_string();
    for t in &all {
        if t.genotype == [3] {
            assert!(matches!(&t.status, TrialStatus::Failed(r) if r.contains("the worker was killed by signal 9")), "{t:?}");
        } else {
            assert_eq!((t.status.clone(), t.objective), (TrialStatus::Ok, t.genotype[0] as f64), "{t:?}");
        }
    }
    let before: Vec<String> = all.iter().filter(|t| t.genotype[0] <= 3).map(worker).collect();
    let after: Vec<String> = all.iter().filter(|t| t.genotype[0] > 3).map(worker).collect();
    assert!(before.iter().all(|w| *w == before[0]), "one worker served the first trials: {before:?}");
    assert!(after.iter().all(|w| *w == after[0]), "one new worker served the rest: {after:?}");
    assert_ne!(before[0], after[0], "the crashed worker was replaced");
    // What the killed worker's command started died with it: the executor
    // ended the command's process group, which the worker could not.
    let crashed = all.iter().find(|t| t.genotype == [3]).unwrap();
    let pid: u32 = std::fs::read_to_string(out.join(format!("trials/{}/child.pid", crashed.id))).unwrap().trim().parse().unwrap();
    let start = std::time::Instant::now();
    while alive(pid) {
        assert!(start.elapsed() < Duration::from_secs(10), "the `sleep` ({pid}) of the killed worker's command outlived it");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A space as HPO users write it (issue 31): a continuous log range, a
/// range of whole numbers, and decisions that exist only under others.
const MIXED: &str = r#"
name = "mixed"
[decisions]
optimizer = ["sgd", "adam"]
lr = { low = 1e-4, high = 1e-1, scale = "log" }
layers = { low = 1, high = 4 }
width2 = { values = [16, 32, 64], when = { layers = { min = 2 } } }
momentum = { low = 0.5, high = 0.99, when = { optimizer = "sgd" } }
nesterov = { values = [true, false], when = { optimizer = "sgd", momentum = { min = 0.9 } } }
"#;

/// Scores a `MIXED` architecture, and fails the trial (exit 1) if the
/// architecture has an inactive decision or lacks an active one.
const MIXED_SCRIPT: &str = r#"
import json, math, os, sys
trial = json.load(open(os.environ["NASBOX_TRIAL_FILE"]))
a = trial["arch"]
sgd = a["optimizer"] == "sgd"
want = {"optimizer", "lr", "layers"} | ({"width2"} if a["layers"] >= 2 else set()) | ({"momentum"} if sgd else set())
if sgd and a["momentum"] >= 0.9:
    want.add("nesterov")
if set(a) != want:
    sys.exit("decisions %s, expected %s" % (sorted(a), sorted(want)))
assert isinstance(a["lr"], float) and 1e-4 <= a["lr"] <= 1e-1, a["lr"]
assert isinstance(a["layers"], int), a["layers"]
score = -(math.log10(a["lr"]) + 2) ** 2 - (a["layers"] - 3) ** 2 + (a.get("momentum", 0.9) - 0.9) + (0.5 if a.get("nesterov") else 0)
with open(trial["result_file"] + ".tmp", "w") as f:
    json.dump({"objective": score}, f)
os.replace(trial["result_file"] + ".tmp", trial["result_file"])
"#;

#[test]
fn ranges_and_conditions_reach_the_command_and_round_trip_through_journal_results_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let space = dir.path().join("mixed.toml");
    std::fs::write(&space, MIXED).unwrap();
    let script = dir.path().join("score.py");
    std::fs::write(&script, MIXED_SCRIPT).unwrap();

    // `space show` says what each decision is and when it counts.
    let o = nasbox(&["space", "show", space.to_str().unwrap()]);
    let shown = text(&o);
    assert!(o.status.success(), "{shown}");
    for want in [
        "optimizer        categorical",
        "lr               continuous real log  0.0001 to 0.1 (1001 points)",
        "layers           continuous int       1 | 2 | 3 | 4",
        "(when layers in 2 | 3 | 4)",
        "(when optimizer = sgd)",
        "(when optimizer = sgd, momentum in 0.90033 … 0.99 (184 values))",
        "at most",
    ] {
        assert!(shown.contains(want), "`space show` lacks {want:?}:\n{shown}");
    }

    let run = format!("python3 {}", script.display());
    let tpe = guest("tpe");
    let args = [
        "search",
        "--strategy",
        tpe.to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &run,
        "--budget",
        "trials=24",
        "--workers",
        "1",
        "--seed",
        "7",
    ];
    let whole = dir.path().join("whole");
    let o = nasbox(&with_out(&args, &whole));
    assert!(o.status.success(), "{}", text(&o));
    let all = trials(&whole);
    assert_eq!(all.len(), 24);
    let json = dir.path().join("trials.json");
    let o = nasbox(&["results", whole.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let exported: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut continuous_values = std::collections::BTreeSet::new();
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?} (log: {})", std::fs::read_to_string(whole.join(format!("trials/{}.log", t.id))).unwrap_or_default());
        let a = arch(t);
        // The journal, `results --json` and (for trials that ran) the
        // command's trial.json agree, inactive decisions absent from all.
        assert_eq!(exported[t.id as usize]["decisions"], a);
        if t.reused_from.is_none() {
            let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(whole.join(format!("trials/{}/trial.json", t.id))).unwrap()).unwrap();
            assert_eq!(file["arch"], a);
        }
        continuous_values.insert(a["lr"].to_string());
        // The journal holds the canonical genotype: inactive decisions at 0.
        if a["optimizer"] != "sgd" {
            assert_eq!(t.genotype[4], 0, "{t:?}");
        }
    }
    assert!(continuous_values.len() >= 10, "a continuous range is searched as one: {continuous_values:?}");

    // Killed twice and resumed, the same trials.
    let cut = dir.path().join("cut");
    let kills = run_killed(&args, &cut, &[5, 12]);
    assert!(kills >= 1, "killed {kills} times");
    let (a, b) = (trials(&whole), trials(&cut));
    assert_eq!(a.iter().map(key).collect::<Vec<_>>(), b.iter().map(key).collect::<Vec<_>>(), "after {kills} kills");
    assert_eq!(a.iter().map(|t| t.arch.clone()).collect::<Vec<_>>(), b.iter().map(|t| t.arch.clone()).collect::<Vec<_>>());
}

#[test]
fn genotypes_that_differ_only_in_inactive_decisions_are_one_architecture() {
    // Half the space switches `a` off. A strategy of contract 0.1.1 knows
    // nothing of conditions and proposes `a` anyway; the host counts the
    // genotypes it makes that differ only there as repeats, and answers
    // them from the journal instead of running the command again. With two
    // workers, and `off` taking a second, repeats of `off` come while the
    // first is still running: they wait for its result (CI once saw one run
    // twice).
    let dir = tempfile::tempdir().unwrap();
    let space = dir.path().join("gated.toml");
    std::fs::write(&space, "[decisions]\ngate = [\"off\", \"on\"]\na = { values = [1, 2, 3, 4, 5, 6, 7, 8], when = { gate = \"on\" } }\nb = [1, 2]\n").unwrap();
    let script = dir.path().join("count.sh");
    // Fails the trial if `a` reaches the command while `gate` is off.
    std::fs::write(
        &script,
        "case \"$NASBOX_ARCH\" in *'\"off\"'*'\"a\"'*) echo \"inactive a: $NASBOX_ARCH\"; exit 1;; *'\"off\"'*) sleep 1;; esac\necho '{\"objective\": 1}' > \"$NASBOX_RESULT_FILE\"\n",
    )
    .unwrap();
    let old = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/contract-0-1-1/tpe.wasm");
    let out = dir.path().join("run");
    let o = nasbox(&[
        "search",
        "--strategy",
        old.to_str().unwrap(),
        "--space",
        space.to_str().unwrap(),
        "--command",
        &format!("sh {}", script.display()),
        "--budget",
        "trials=30",
        "--workers",
        "2",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // The command brings its own data: no dataset is named.
    let said = text(&o);
    assert!(said.contains("tpe.wasm, estimator command, budget 30 trials") && !said.contains(" on synthetic"), "{said}");
    let all = trials(&out);
    let mut run: Vec<&Vec<u32>> = vec![];
    let mut reused_off = 0;
    for t in &all {
        assert_eq!(t.status, TrialStatus::Ok, "{t:?}");
        let a = arch(t);
        if a["gate"] == "off" {
            assert!(a.get("a").is_none() && t.genotype[1] == 0, "{t:?}");
            reused_off += t.reused_from.is_some() as usize;
        }
        if t.reused_from.is_none() {
            assert!(!run.contains(&&t.genotype), "trial {} ran {:?} again", t.id, t.arch);
            run.push(&t.genotype);
        }
    }
    // With `a` ignored, `off` has 2 architectures; 30 trials repeat them.
    assert!(reused_off >= 3, "{reused_off} repeats of `off` answered from the journal");
    assert!(run.len() <= 2 + 16, "{} architectures ran", run.len());
}

#[test]
fn bad_conditions_and_ranges_are_refused_at_load_naming_file_decision_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown",
            "[decisions]\nopt = [\"sgd\"]\nm = { values = [0.9], when = { optimiser = \"sgd\" } }\n",
            "decisions.m.when: `optimiser` is not a decision",
        ),
        (
            "cycle",
            "[decisions]\na = { values = [1, 2], when = { b = 1 } }\nb = { values = [1, 2], when = { a = 1 } }\n",
            "the conditions form a cycle (a → needs b → needs a)",
        ),
        ("itself", "[decisions]\na = { values = [1, 2], when = { a = 1 } }\n", "decisions.a.when: `a` is this decision itself"),
        (
            "wrong-type",
            "[decisions]\nopt = [\"sgd\", \"adam\"]\nm = { values = [0.9], when = { opt = 1 } }\n",
            "decisions.m.when: opt = 1: a number where `opt` takes strings",
        ),
        ("no-such-value", "[decisions]\nopt = [\"sgd\", \"adam\"]\nm = { values = [0.9], when = { opt = \"rmsprop\" } }\n", "rmsprop is not a choice of `opt`"),
        ("never", "[decisions]\nlayers = [1, 2, 3]\nw = { values = [8], when = { layers = { min = 4 } } }\n", "no value of `layers` meets it"),
        (
            "min-on-names",
            "[decisions]\nopt = [\"sgd\"]\nw = { values = [8], when = { opt = { min = 1 } } }\n",
            "need an ordered decision, and `opt` is categorical",
        ),
        ("narrow", "[decisions]\nlr = { low = 1.0, high = 1.000001 }\n", "decisions.lr: the range from 1 to 1.000001 is too narrow"),
        ("log-zero", "[decisions]\nlr = { low = 0.0, high = 0.1, scale = \"log\" }\n", "decisions.lr: scale = \"log\" needs low > 0"),
        ("ordered-names", "[decisions]\nact = { values = [\"relu\"], ordered = true }\n", "decisions.act: ordered = true needs every choice to be a number"),
    ];
    for (name, toml, want) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, toml).unwrap();
        let out = dir.path().join(format!("run-{name}"));
        let o = nasbox(&["search", "--space", file.to_str().unwrap(), "--command", "true", "--budget", "trials=1", "--out", out.to_str().unwrap()]);
        let said = text(&o);
        assert!(!o.status.success(), "{name}: accepted");
        assert!(said.contains(&format!("{name}.toml")) && said.contains(want), "{name}: {said}");
        assert!(!out.exists(), "{name}: a run folder was made");
    }
}
