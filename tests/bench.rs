//! `nasbox bench`: strategies × seeds on a table, the report's files, and
//! determinism and resumption of the comparison.

mod support;

use std::process::Command;

use support::{guest, text, write_table};

fn nasbox(args: &[&str]) -> std::process::Output {
    let cache = std::env::temp_dir().join("nasbox-test-cache");
    Command::new(env!("CARGO_BIN_EXE_nasbox")).arg("--cache-dir").arg(cache).args(args).output().unwrap()
}

/// The test table (`support::write_table`) in `dir`, as the estimator
/// `table:PATH`.
fn test_table(dir: &std::path::Path) -> String {
    let table = dir.join("t.jsonl");
    write_table(&table);
    format!("table:{}", table.display())
}

#[test]
fn bench_writes_a_report_that_parses_and_is_deterministic_and_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let estimator = test_table(dir.path());
    let (random, evolution) = (guest("random"), guest("evolution"));
    let bench = |out: &std::path::Path| {
        nasbox(&[
            "bench",
            "--strategies",
            random.to_str().unwrap(),
            evolution.to_str().unwrap(),
            "--seeds",
            "6",
            "--estimator",
            &estimator,
            "--budget",
            "trials=150",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let out = dir.path().join("cmp");
    let o = bench(&out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("random") && text(&o).contains("evolution") && text(&o).contains("test accuracy"), "{}", text(&o));

    // The HTML is well-formed XML; every SVG too, with one line per strategy.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let doc = roxmltree::Document::parse_with_options(&html, roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() }).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("svg")).count(), 4, "validation and test accuracy, against trials and time");
    assert!(doc.descendants().any(|n| n.has_tag_name("td") && n.text().map(str::trim) == Some("evolution")));
    for svg in ["anytime-trials.svg", "anytime-time.svg", "test-trials.svg", "test-time.svg"] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("polygon")).count(), 2, "{svg}: a band per strategy");
        let labels: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
        assert!(labels.contains(&"random") && labels.contains(&"evolution"), "{svg}: {labels:?}");
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let rows = summary["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["runs"], 6);
    let csv = std::fs::read_to_string(out.join("final.csv")).unwrap();
    assert_eq!(csv.lines().count(), 13);
    // Seeds at the best: those whose answer has the table's best validation
    // accuracy, as final.csv lists them.
    let best_valid = summary["best_valid"].as_f64().unwrap();
    for row in rows {
        let name = row["strategy"].as_str().unwrap();
        let at_best = csv.lines().filter(|l| l.starts_with(&format!("{name},")) && l.split(',').nth(3).unwrap().parse::<f64>().unwrap() == best_valid).count();
        assert_eq!(row["at_best"].as_u64(), Some(at_best as u64), "{name}");
    }
    assert!(text(&o).contains("at best") && text(&o).contains(&format!("{}/6", rows[1]["at_best"])), "{}", text(&o));
    // Stalled: seeds that end more than a point below the oracle's score
    // (the mean score plus the mean regret), as final.csv lists them.
    assert!(text(&o).contains("stalled"), "{}", text(&o));
    for row in rows {
        let name = row["strategy"].as_str().unwrap();
        let oracle = row["score_mean"].as_f64().unwrap() + row["regret_mean"].as_f64().unwrap();
        let stalled =
            csv.lines().filter(|l| l.starts_with(&format!("{name},")) && oracle - l.split(',').nth(4).unwrap().parse::<f64>().unwrap() > 0.01).count();
        assert_eq!(row["stalled"].as_u64(), Some(stalled as u64), "{name}");
    }

    // Evolution climbs this table's smooth landscape better than random search.
    let score = |k: usize| rows[k]["score_mean"].as_f64().unwrap();
    assert!(score(1) > score(0), "evolution {} vs random {}", score(1), score(0));

    // The same command again resumes every finished search (no new trials)
    // and writes the same numbers; a fresh folder gives them too.
    let o = bench(&out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(out.join("final.csv")).unwrap(), csv);
    let again = dir.path().join("again");
    assert!(bench(&again).status.success());
    assert_eq!(std::fs::read_to_string(again.join("final.csv")).unwrap(), csv);

    // Another comparison into the same folder is refused, not resumed as if
    // it were this one (issue 18: objectives were silently dropped).
    let o = nasbox(&[
        "bench",
        "--strategies",
        random.to_str().unwrap(),
        "--seeds",
        "2",
        "--estimator",
        &estimator,
        "--budget",
        "trials=150",
        "--constraint",
        "params<=1200",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("holds a search of another comparison"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(out.join("final.csv")).unwrap(), csv, "the earlier comparison is untouched");

    let o = nasbox(&["bench", "--strategies", "random", "--estimator", "train", "--out", dir.path().join("x").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("table:FILE"), "{}", text(&o));
}

#[test]
fn tabulate_trains_a_sample_into_a_table_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tab");
    let args = [
        "tabulate",
        "--epochs",
        "2,1",
        "--sample",
        "3",
        "--channels",
        "2",
        "--cells",
        "1",
        "--data-fraction",
        "0.05",
        "--workers",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = nasbox(&args);
    assert!(o.status.success(), "{}", text(&o));
    let table_path = out.join("table.jsonl");
    let table = std::fs::read_to_string(&table_path).unwrap();
    let rows: Vec<serde_json::Value> = table.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows[0]["nasbox_table"], 1);
    assert_eq!(rows.len(), 1 + 6, "3 architectures at 2 budgets");
    for r in &rows[1..] {
        assert!(r["fidelity"] == 0.5 || r["fidelity"] == 1.0, "{r}");
        let test = r["test_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&test) && r["metrics"]["params"].as_f64().unwrap() > 0.0, "{r}");
    }
    // The same architectures at both budgets, and the table loads.
    let archs = |f: f64| {
        let mut a: Vec<String> = rows[1..].iter().filter(|r| r["fidelity"] == f).map(|r| r["arch"].as_str().unwrap().to_string()).collect();
        a.sort();
        a
    };
    assert_eq!(archs(0.5), archs(1.0));
    let t = nasbox::estimate::table::Table::load(&table_path, &nasbox::space::SearchSpace::Nb201).unwrap();
    assert_eq!(t.len(), 3);
    // Running it again trains nothing new and writes the same table.
    let o = nasbox(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&table_path).unwrap(), table);
}

#[test]
fn bench_with_a_cold_cache_compiles_each_strategy_once() {
    let dir = tempfile::tempdir().unwrap();
    let estimator = test_table(dir.path());
    let cold = dir.path().join("cache");
    let (random, evolution) = (guest("random"), guest("evolution"));
    let o = Command::new(env!("CARGO_BIN_EXE_nasbox"))
        .args(["-v", "--cache-dir", cold.to_str().unwrap(), "bench", "--strategies", random.to_str().unwrap(), evolution.to_str().unwrap()])
        .args(["--seeds", "4", "--jobs", "4", "--estimator", &estimator, "--budget", "trials=20"])
        .args(["--out", dir.path().join("cmp").to_str().unwrap()])
        .env_remove("NASBOX_LOG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    // Parallel searches of one process once wrote the same temporary file.
    assert!(!said.contains("could not write the compile cache"), "{said}");
    // Eight searches, two distinct components: two compiles.
    assert_eq!(said.matches("compiled strategy ").count(), 2, "{said}");
}

/// Variants of one strategy (`NAME:KEY=VALUE,...`) are entrants of their
/// own: each searches with its settings, recorded in its runs, and is
/// resumed only with the same settings; a setting the strategy refuses fails
/// that variant's searches with the strategy's reason.
#[test]
fn bench_compares_variants_of_one_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let estimator = test_table(dir.path());
    let evolution = guest("evolution").display().to_string();
    let variant = format!("{evolution}:population=10,sample=3");
    let out = dir.path().join("cmp");
    let bench = |strategies: &[&str], out: &std::path::Path| {
        let mut args = vec!["bench", "--strategies"];
        args.extend_from_slice(strategies);
        args.extend_from_slice(&["--seeds", "2", "--estimator", &estimator, "--budget", "trials=60", "--out", out.to_str().unwrap()]);
        nasbox(&args)
    };
    let o = bench(&[&evolution, &variant], &out);
    assert!(o.status.success(), "{}", text(&o));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let names: Vec<&str> = summary["rows"].as_array().unwrap().iter().map(|r| r["strategy"].as_str().unwrap()).collect();
    assert!(names.contains(&"evolution") && names.contains(&"evolution:population=10,sample=3"), "{names:?}");
    // final.csv quotes the variant's name, whose commas would split it.
    let csv = std::fs::read_to_string(out.join("final.csv")).unwrap();
    let row = csv.lines().find(|l| l.contains("sample=3")).unwrap();
    assert!(row.starts_with("\"evolution:population=10,sample=3\",0,"), "{row}");

    // Each variant ran with its own settings: at 60 trials the default
    // population is 12 (a fifth of the budget), the variant's 10, so their
    // searches part after the tenth trial.
    let runs = std::fs::read_dir(out.join("runs")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<Vec<_>>();
    assert_eq!(runs.len(), 4, "{runs:?}");
    let archs = |run: &str| support::trials(&out.join("runs").join(run)).iter().map(|t| t.genotype.clone()).collect::<Vec<_>>();
    let (plain, var) = (archs("evolution-0"), archs("evolution_population_10_sample_3-0"));
    assert_eq!(plain[..10], var[..10], "the same seed draws the same random start");
    assert_ne!(plain, var, "and the settings change the search after it");
    let (config, _, _) = nasbox::run::search::Search::config_of(&out.join("runs").join("evolution_population_10_sample_3-0")).unwrap();
    assert_eq!(config.set.get("population").map(String::as_str), Some("10"), "{config:?}");

    // Resuming the same comparison adds nothing; the same folder under other
    // settings is another comparison.
    let o = bench(&[&evolution, &variant], &out);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::rename(out.join("runs/evolution_population_10_sample_3-0"), out.join("runs/evolution_population_10_sample_4-0")).unwrap();
    let o = bench(&[&format!("{evolution}:population=10,sample=4")], &out);
    assert!(!o.status.success() && text(&o).contains("another comparison") && text(&o).contains("\"sample\": \"3\""), "{}", text(&o));

    // Bad variants are refused before any search, naming the entrant.
    let o = bench(&[&evolution, &evolution], &dir.path().join("twice"));
    assert!(!o.status.success() && text(&o).contains("is given twice"), "{}", text(&o));
    let o = bench(&[&format!("{evolution}:population")], &dir.path().join("bad"));
    assert!(!o.status.success() && text(&o).contains("`population` is not a setting"), "{}", text(&o));
    let o = bench(&[&format!("{evolution}:population=0")], &dir.path().join("refused"));
    assert!(!o.status.success() && text(&o).contains("evolution:population=0 seed 0") && text(&o).contains("population"), "{}", text(&o));
}

/// `--fuel` reaches every search of a comparison, and a comparison whose
/// searches ran out of it continues when the command is run again with
/// enough (here the default): the limits are the command's, not the folders'.
#[test]
fn bench_takes_the_sandbox_limits_and_a_rerun_continues_with_others() {
    let dir = tempfile::tempdir().unwrap();
    let estimator = test_table(dir.path());
    let variant = format!("{}:startup=3", guest("bananas").display());
    let out = dir.path().join("cmp");
    let bench = |more: &[&str]| {
        let mut args = vec![
            "bench",
            "--strategies",
            &variant,
            "--seeds",
            "2",
            "--estimator",
            &estimator,
            "--budget",
            "trials=8",
            "--jobs",
            "1",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(more);
        nasbox(&args)
    };
    let o = bench(&["--fuel", "5e6"]);
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("2 searches failed") && t.contains("ran out of fuel (budget 5000000 units per call)"), "{t}");
    let o = bench(&[]);
    assert!(o.status.success(), "{}", text(&o));
    for seed in 0..2 {
        let run = out.join("runs").join(format!("bananas_startup_3-{seed}"));
        assert_eq!(support::trials(&run).len(), 8, "seed {seed}");
        let (recorded, _, _) = nasbox::run::search::Search::config_of(&run).unwrap();
        assert_eq!(recorded.sandbox, Default::default(), "seed {seed}: the rerun's limits are recorded");
    }
}

/// `--seeds A..B` runs only those seeds, so a comparison can be split across
/// machines: the halves' run folders copied into one `--out` and run with
/// the whole range resume without a new trial and report what one run of
/// every seed reports.
#[test]
fn a_bench_split_by_seed_ranges_merges_into_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let estimator = test_table(dir.path());
    let random = guest("random");
    let bench = |seeds: &str, out: &std::path::Path| {
        let o = nasbox(&[
            "bench",
            "--strategies",
            support::path(&random),
            "--seeds",
            seeds,
            "--estimator",
            &estimator,
            "--budget",
            "trials=30",
            "--out",
            support::path(out),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        (text(&o), std::fs::read_to_string(out.join("final.csv")).unwrap())
    };
    let (first, second, whole) = (dir.path().join("first"), dir.path().join("second"), dir.path().join("whole"));
    let (said, csv) = bench("2..4", &second);
    assert!(said.contains("2 seeds (2..4)"), "{said}");
    let seeds: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(seeds, ["2", "3"]);
    let folders = |out: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(out.join("runs")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(folders(&second), ["random-2", "random-3"]);
    bench("2", &first);
    for name in folders(&second) {
        std::fs::rename(second.join("runs").join(&name), first.join("runs").join(&name)).unwrap();
    }
    let trials = |seed: u64| support::trials(&first.join("runs").join(format!("random-{seed}"))).len();
    let (_, merged) = bench("4", &first);
    assert_eq!((0..4).map(trials).collect::<Vec<_>>(), [30; 4], "every search was finished: none ran again");
    assert_eq!(merged, bench("4", &whole).1);

    for (bad, says) in [("5..5", "holds no seeds"), ("0", "holds no seeds"), ("ten", "expected a number of seeds N, or a range A..B")] {
        let o = nasbox(&["bench", "--strategies", "random", "--seeds", bad, "--estimator", &estimator, "--out", support::path(&dir.path().join("x"))]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(text(&o).contains("--seeds") && text(&o).contains(says), "{bad}: {}", text(&o));
    }
}
