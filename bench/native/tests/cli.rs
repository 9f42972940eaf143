//! `native-bench` as a user runs it, on a constructed NAS-Bench-201 table:
//! what it prints, what it writes, and what it refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OPS: [&str; 5] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

/// Every cell, scored by how many of its edges hold a 3×3 convolution (the
/// best cell has one on every edge), with a lower-fidelity row to skip.
fn table(dir: &Path) -> PathBuf {
    let mut text = String::from("{\"nasbox_table\": 1}\n");
    for i in 0..15_625u32 {
        let ops: Vec<usize> = (0..6).map(|d| ((i / 5u32.pow(d)) % 5) as usize).collect();
        let arch = format!("|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|", OPS[ops[0]], OPS[ops[1]], OPS[ops[2]], OPS[ops[3]], OPS[ops[4]], OPS[ops[5]]);
        let score = ops.iter().filter(|&&o| o == 3).count() as f64 / 6.0 + ops.iter().sum::<usize>() as f64 * 1e-4;
        text.push_str(&format!("{{\"arch\": \"{arch}\", \"fidelity\": 1.0, \"valid_accuracy\": {score}, \"test_accuracy\": {}}}\n", score * 0.9));
        if i == 0 {
            text.push_str(&format!("{{\"arch\": \"{arch}\", \"fidelity\": 0.5, \"valid_accuracy\": 0.99, \"test_accuracy\": 0.99}}\n"));
        }
    }
    let path = dir.join("table.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn native_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_native-bench")).args(args).output().unwrap()
}

#[test]
fn prints_a_row_per_entrant_the_tests_against_one_and_writes_every_answer() {
    let dir = tempdir();
    let table = table(&dir);
    let csv = dir.join("answers.csv");
    let out = native_bench(&[
        table.to_str().unwrap(),
        "40",
        "10..16",
        "random",
        "local_search:initial=5",
        "--against",
        "random",
        "--draw",
        "3",
        "--alpha",
        "0.05,0.01",
        "--jobs",
        "2",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("40 trials, seeds 10..16; the best cell by validation: 1.0018 (0.9016 test)"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("random ") && l.contains("/6")), "{stdout}");
    assert_eq!(stdout.matches("against random (two-sided Mann–Whitney U; draws: disjoint, 3 seeds each").count(), 2, "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("local_search:initial=5") && l.ends_with("of 2")), "{stdout}");

    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "entrant,seed,valid_accuracy,test_accuracy,arch");
    assert_eq!(rows.len(), 1 + 12);
    assert!(rows[1].starts_with("\"random\",10,") && rows[12].starts_with("\"local_search:initial=5\",15,"), "{text}");
    // The same seeds search the same way: the answers do not depend on --jobs.
    let again = dir.join("again.csv");
    let out = native_bench(&[table.to_str().unwrap(), "40", "10..16", "random", "local_search:initial=5", "--jobs", "1", "--csv", again.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
}

#[test]
fn bad_input_is_refused_naming_it() {
    let dir = tempdir();
    let table = table(&dir);
    let t = table.to_str().unwrap();
    for (args, says) in [
        (vec![t, "10", "4", "reinforce"], "`reinforce`: this runs random"),
        (vec![t, "10", "4", "random", "--against", "tpe"], "--against `tpe` is not one of the entrants"),
        (vec![t, "10", "4", "random", "tpe", "--against", "tpe", "--draw", "5"], "--draw 5: 4 seeds fill no draw that large"),
        (vec![t, "10", "4", "random", "--alpha", "1.5"], "--alpha 1.5"),
        (vec![t, "10", "5..5", "random"], "expected N or A..B with A < B"),
        (vec!["/nonexistent/table.jsonl", "10", "4", "random"], "/nonexistent/table.jsonl"),
    ] {
        let out = native_bench(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{args:?}: {stderr}");
    }
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("native-bench-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
