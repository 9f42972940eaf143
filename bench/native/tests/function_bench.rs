//! `function-bench` as a user runs it: the suite it exports (functions at
//! their known optima, grid optima below them, the Python peer agreeing),
//! a tiny run's tables and CSV, and the flags it refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn function_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_function-bench")).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn the_exported_suite_has_known_optima_and_grid_optima_below_them() {
    let dir = tempdir();
    let path = dir.join("suite.json");
    ok(&function_bench(&["--export-suite", path.to_str().unwrap()]));
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();

    let functions = suite["functions"].as_array().unwrap();
    let names: Vec<&str> = functions.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for wanted in ["branin", "hartmann3", "hartmann6", "rosenbrock4", "styblinski4"] {
        assert!(names.contains(&wanted), "{names:?}");
    }
    assert!(names.contains(&"levy5") || names.contains(&"ackley5"));
    for f in functions {
        // The checks start with the known argmaxes: each reaches the optimum.
        let optimum = f["optimum"].as_f64().unwrap();
        let argmax = f["argmax"].as_array().unwrap();
        assert!(!argmax.is_empty());
        for (k, x) in argmax.iter().enumerate() {
            let check = &f["checks"][k];
            assert_eq!(&check["x"], x);
            assert!((check["value"].as_f64().unwrap() - optimum).abs() < 1e-4, "{}: {check} vs {optimum}", f["name"]);
        }
        for check in f["checks"].as_array().unwrap() {
            assert!(check["value"].as_f64().unwrap() <= optimum + 1e-9, "{}: {check}", f["name"]);
        }
    }

    let problems = suite["problems"].as_array().unwrap();
    assert!(problems.len() >= 6);
    let mut kinds: Vec<&str> = problems.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, ["cond", "cont", "grid", "mixed"]);
    for p in problems {
        let (optimum, grid) = (p["optimum"].as_f64().unwrap(), p["grid_optimum"].as_f64().unwrap());
        assert!(grid <= optimum + 1e-12, "{}: grid optimum {grid} above the optimum {optimum}", p["name"]);
        let reference = p["reference"].as_f64().unwrap();
        assert_eq!(reference, if p["grid_optimum_exact"].as_bool().unwrap() { grid } else { optimum }, "{}", p["name"]);
        for param in p["params"].as_array().unwrap() {
            match param["type"].as_str().unwrap() {
                "grid" => assert_eq!(param["values"].as_array().unwrap().len(), 11),
                "continuous" => assert_eq!(param["points"], 1001),
                "categorical" => assert!(param["choices"].as_array().unwrap().len() >= 2),
                other => panic!("{other}"),
            }
        }
    }
    // Branin on an 11-point grid misses its optimum; the Rosenbrock grid holds (1, 1, 1, 1).
    let by_name = |n: &str| problems.iter().find(|p| p["name"] == n).unwrap();
    assert!(by_name("branin-grid")["grid_optimum"].as_f64().unwrap() < -1.0);
    assert_eq!(by_name("rosenbrock4-grid")["grid_optimum"], 0.0);
    // The conditional problem's inputs are active only under their variant.
    let cond = by_name("cond-grid");
    assert_eq!(cond["params"][1]["condition"], serde_json::json!({"param": "variant", "choices": ["a"]}));

    // bench/function_peers.py's functions agree with these (it needs no Optuna for --check).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../function_peers.py");
    match Command::new("python3").arg(&script).args(["--suite", path.to_str().unwrap(), "--check"]).output() {
        Ok(out) => assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => eprintln!("python3 not run ({e}): the Python functions are not checked"),
    }
}

#[test]
fn a_tiny_run_prints_its_tables_and_writes_every_search() {
    let dir = tempdir();
    let csv = dir.join("runs.csv");
    let args = ["random", "tpe", "--problems", "branin-grid,cond-grid", "--trials", "10", "--seeds", "3..5", "--workers", "1,2"];
    let out = function_bench(&[&args[..], &["--jobs", "2", "--against", "tpe", "--csv", csv.to_str().unwrap()]].concat());
    let stdout = ok(&out);
    assert!(stdout.contains("branin-grid: branin; 2 ordered decisions of 11 values"), "{stdout}");
    assert!(stdout.contains("cond-grid: branin | hartmann3; 5 ordered decisions of 11 values, 1 categorical, 5 conditional"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("10") && l.contains("tpe@2") && l.contains("/2")), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains(" tpe ") && l.contains("reference")), "{stdout}");
    assert!(stdout.contains("summary over problems: against tpe"), "{stdout}");

    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "problem,strategy,trials,workers,seed,best,regret,seconds");
    // 2 problems × 2 strategies × 1 budget × 2 worker counts × 2 seeds.
    assert_eq!(rows.len(), 1 + 16, "{text}");
    assert!(rows[1].starts_with("branin-grid,random,10,1,3,"), "{text}");
    for row in &rows[1..] {
        let f: Vec<&str> = row.split(',').collect();
        let regret: f64 = f[6].parse().unwrap();
        assert!(regret >= 0.0, "{row}: every problem here has an exact grid optimum");
    }
    // The same seeds search the same way whatever the threads.
    let again = dir.join("again.csv");
    ok(&function_bench(&[&args[..], &["--jobs", "1", "--csv", again.to_str().unwrap()]].concat()));
    let strip = |t: &str| t.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&std::fs::read_to_string(&again).unwrap()), strip(&text));

    // --categorical runs each strategy a second time without the shape.
    let stdout = ok(&function_bench(&["random", "--categorical", "--problems", "hartmann3-cont", "--trials", "5", "--seeds", "1"]));
    assert!(stdout.lines().any(|l| l.starts_with("5") && l.contains("random/cat")), "{stdout}");

    // A CSV is reported again without running (as the Optuna peers' are).
    let stdout = ok(&function_bench(&["--peers", csv.to_str().unwrap(), "--problems", "branin-grid,cond-grid", "--against", "tpe@2"]));
    assert!(!stdout.contains("searches ("), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("tpe@2") && l.contains("reference")), "{stdout}");
}

#[test]
fn bad_flags_are_refused_naming_them() {
    let dir = tempdir();
    let bad_csv = dir.join("bad.csv");
    std::fs::write(&bad_csv, "problem,strategy\n").unwrap();
    let bad = bad_csv.to_str().unwrap();
    for (args, says) in [
        (vec!["reinforce"], "`reinforce`: this runs random"),
        (vec!["random", "--workers", "0"], "--workers 0"),
        (vec!["random", "--trials", "0"], "--trials 0"),
        (vec!["random", "--problems", "sphere-grid"], "--problems `sphere-grid`"),
        (vec!["random", "--against", "tpe"], "--against `tpe`"),
        (vec!["random", "--seeds", "5..5"], "expected N or A..B with A < B"),
        (vec!["random", "--alpha", "1.5"], "--alpha 1.5"),
        (vec!["random", "--jobs", "0"], "--jobs 0"),
        (vec!["random", "--peers", "/nonexistent/peers.csv"], "--peers /nonexistent/peers.csv"),
        (vec!["--peers", bad], "is not `problem,strategy,trials,workers,seed,best,regret,seconds`"),
        (vec!["random", "random"], "`random` is named twice"),
        (vec![], "name strategies to run"),
        (vec!["random", "--bogus"], "--bogus"),
    ] {
        let out = function_bench(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn a_problem_exports_as_a_decision_space_and_a_table_of_every_genotype() {
    let dir = tempdir();
    let out = function_bench(&["--export-tables", dir.to_str().unwrap(), "--problems", "branin-mixed,hartmann6-grid,cond-grid"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    // Too many genotypes, or conditions: no table, and it says so.
    assert!(said.contains("hartmann6-grid has conditions or over 200,000 genotypes") && said.contains("cond-grid has conditions"), "{said}");
    assert!(!dir.join("hartmann6-grid.jsonl").exists() && !dir.join("cond-grid.toml").exists());
    let toml = std::fs::read_to_string(dir.join("branin-mixed.toml")).unwrap();
    assert!(toml.contains("[decisions]\nx1 = [-5.0, -3.5,") && toml.contains("activation = [\"relu\", \"gelu\", \"silu\", \"tanh\"]"), "{toml}");
    let table = std::fs::read_to_string(dir.join("branin-mixed.jsonl")).unwrap();
    let rows: Vec<Value> = table.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    // 11 × 11 grid points × 4 × 3 × 3 nuisance choices, each once.
    assert_eq!(rows.len(), 11 * 11 * 36);
    let archs: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["arch"].as_str().unwrap()).collect();
    assert_eq!(archs.len(), rows.len());
    let scores: Vec<f64> = rows.iter().map(|r| r["valid_accuracy"].as_f64().unwrap()).collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    assert_eq!(scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max), 1.0);
    assert_eq!(scores.iter().cloned().fold(f64::INFINITY, f64::min), 0.0);
    // Each row keeps the function's own value, of which the score is the scaled image.
    let f: Vec<f64> = rows.iter().map(|r| r["metrics"]["f"].as_f64().unwrap()).collect();
    let (low, high) = f.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(f.iter().zip(&scores).all(|(v, s)| ((v - low) / (high - low) - s).abs() < 1e-12));
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("function-bench-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
