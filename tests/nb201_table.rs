//! scripts/nb201_to_table.py: NAS-Bench-201's own file format (a small
//! file built with the benchmark's API classes) becomes a nasbox table that
//! `estimate::table` loads, with the numbers the benchmark's API reports.

use std::path::PathBuf;
use std::process::Command;

use nasbox::estimate::table::Table;
use nasbox::space::SearchSpace;

#[test]
fn a_nas_bench_201_file_converts_to_a_table() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    let ok = python.exists() && Command::new(&python).args(["-c", "import nas_201_api, numpy"]).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: NAS-Bench-201's API is not installed in .venv (scripts/setup installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pth = dir.path().join("NAS-Bench-201-mini.pth");
    let o = Command::new(&python).arg(root.join("tests/data/make_nb201_fixture.py")).arg(&pth).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table_path = dir.path().join("table.jsonl");
    let o = Command::new(&python).arg(root.join("scripts/nb201_to_table.py")).arg(&pth).arg("--out").arg(&table_path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 4 lines for 2 architectures"));

    let table = Table::load(&table_path, &SearchSpace::Nb201).unwrap();
    assert_eq!(table.len(), 2);
    let conv = SearchSpace::Nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|").unwrap();
    let full = table.lookup(&conv, None).unwrap();
    // Mean of the two trials (95 and 97), as fractions; 200 epochs × 10 s + one 2 s validation.
    assert_eq!(full.fidelity, 1.0);
    assert!((full.valid_accuracy - 0.96).abs() < 1e-12 && (full.test_accuracy.unwrap() - 0.95).abs() < 1e-12, "{full:?}");
    assert!((full.cost - 2002.0).abs() < 1e-9, "{full:?}");
    assert!(full.metrics.contains(&("params".to_string(), 1.07e6)), "{full:?}");
    let short = table.lookup(&conv, Some(0.06)).unwrap();
    assert!((short.fidelity - 0.06).abs() < 1e-12 && (short.valid_accuracy - 0.91).abs() < 1e-12 && (short.cost - 122.0).abs() < 1e-9, "{short:?}");
    assert_eq!(table.best().unwrap().valid_accuracy, full.valid_accuracy);
}

#[test]
fn the_shipped_12_epoch_results_make_both_tables() {
    // scripts/nb201_12ep_table.py over bench/nb201/: the tables the docs'
    // comparisons use, made from inside the repository.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    for (dataset, best) in [("cifar100", 0.61), ("imagenet16", 0.38)] {
        let path = dir.path().join(format!("{dataset}.jsonl"));
        let o = Command::new("python3").arg(root.join("scripts/nb201_12ep_table.py")).arg(dataset).arg(&path).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let table = Table::load(&path, &SearchSpace::Nb201).unwrap();
        assert_eq!(table.len(), 15_625);
        // NAS-Bench-201's best 12-epoch validation accuracy, to two places.
        let top = table.best().unwrap().valid_accuracy;
        assert!((top - best).abs() < 0.01, "{dataset}: best {top}");
    }
    let o = Command::new("python3").arg(root.join("scripts/nb201_12ep_table.py")).arg("cifar10").arg("x.jsonl").output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("cifar100|imagenet16"));
}
