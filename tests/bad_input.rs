//! Bad input through the `nasbox` binary (issue 13): broken chain spaces,
//! run.toml files, benchmark tables, architecture strings and dataset
//! files, and damaged journals given to `resume` and `results`. Each is a
//! valid input mutated at random (see host/src/fuzz.rs) or a known way of
//! being wrong. The process must never panic: it runs (exit status 0, or 1 when
//! no trial succeeded), or it exits with
//! status 2 and an error that names the file and says what is wrong; a
//! damaged journal keeps the trials it held.

mod support;

#[path = "../host/src/fuzz.rs"]
#[allow(dead_code)]
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::Output;

use fuzz::{apply, apply_text, config, edits};
use nasbox::run::journal::{Journal, Trial};
use proptest::prelude::*;
use support::{command, guest, path, text};

/// Cases per run (docs/src/reference/bad-input.md).
const SPACE_FILES: u32 = 12;
const RUN_TOMLS: u32 = 10;
const TABLES: u32 = 10;
const ARCHS: u32 = 12;
const DATASETS: u32 = 15;
const JOURNALS: u32 = 10;

fn nasbox(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// Ran (true), or refused with status 2 and an error (false); never a panic.
fn ran_or_refused(o: &Output) -> Result<bool, TestCaseError> {
    let t = text(o);
    prop_assert!(!t.contains("panicked") && !t.contains("RUST_BACKTRACE"), "a panic:\n{}", t);
    match o.status.code() {
        Some(0) => Ok(true),
        // It ran, and none of its trials succeeded (the small table has
        // three architectures): a failed search, said as such.
        Some(1) => {
            prop_assert!(t.contains("no trial succeeded"), "exit status 1 without saying why:\n{}", t);
            Ok(true)
        }
        Some(2) => {
            prop_assert!(String::from_utf8_lossy(&o.stderr).contains("error: "), "{}", t);
            Ok(false)
        }
        other => Err(TestCaseError::fail(format!("exit status {other:?}:\n{t}"))),
    }
}

const CHAIN: &str = "name = \"gray\"\nlayers = 4\nops = [\"conv_3x3\", \"sep_conv_5x5\", \"max_pool_3x3\", \"identity\"]\nwidths = [16, 32]\nskips = true\nreduce_at = [2]\nstem_channels = 16\n";

proptest! {
    #![proptest_config(config(SPACE_FILES))]
    #[test]
    fn space_show_of_a_broken_chain_space(edits in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gray.toml");
        std::fs::write(&file, apply(CHAIN.as_bytes().to_vec(), &edits)).unwrap();
        let o = nasbox(&["space", "show", path(&file)]);
        if !ran_or_refused(&o)? {
            prop_assert!(text(&o).contains(&format!("error: space: {}: ", file.display())), "{}", text(&o));
        }
    }
}

/// A three-row nb201 table.
fn small_table() -> String {
    let mut out = String::from("{\"nasbox_table\": 1, \"space\": \"nb201\"}\n");
    for (i, g) in [[3u32, 3, 1, 2, 0, 4], [1, 1, 1, 1, 1, 1], [4, 0, 2, 3, 3, 2]].iter().enumerate() {
        let arch = nasbox::space::nb201::to_string(g);
        out.push_str(&format!("{{\"arch\": \"{arch}\", \"fidelity\": 1.0, \"valid_accuracy\": 0.{}5, \"cost\": 12.5}}\n", i + 1));
    }
    out
}

#[test]
fn search_in_a_broken_space_stops_before_making_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.jsonl");
    std::fs::write(&table, small_table()).unwrap();
    let cases = [
        ("layers = 4\nops = [\"conv_4x4\"]\nwidths = [8]\n", "the kernel must be square and odd"),
        ("layers = 4\nops = [\"conv_3x3\"]\nwidths = [8]\nreduce_at = [1, 1]\n", "reduce_at lists layer 1 twice"),
        ("layers = 64\nops = [\"conv_3x3\"]\nwidths = [8, 16]\nreduce_at = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n", "17 reductions"),
        ("layers = 4\nops = [\"conv_3x3\"\nwidths = [8]\n", "TOML parse error"),
    ];
    for (body, why) in cases {
        let space = dir.path().join("broken.toml");
        std::fs::write(&space, body).unwrap();
        let out = dir.path().join("run");
        let o = nasbox(&[
            "search",
            "--strategy",
            path(&guest("random")),
            "--space",
            path(&space),
            "--estimator",
            &format!("table:{}", table.display()),
            "--budget",
            "trials=2",
            "--out",
            path(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(&format!("{}: ", space.display())) && text(&o).contains(why), "{why}:\n{}", text(&o));
        assert!(!out.exists(), "a run folder for a space that does not load");
    }
}

/// The user guide's run.toml (docs/src/guide/search.md), every setting at its default.
fn readme_run_toml() -> String {
    let readme = include_str!("../docs/src/guide/search.md");
    readme.split("`run.toml` holds any setting").nth(1).and_then(|s| s.split("```toml").nth(1)).and_then(|s| s.split("```").next()).unwrap().to_string()
}

proptest! {
    #![proptest_config(config(RUN_TOMLS))]
    #[test]
    fn search_with_a_broken_run_toml(edits in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let (table, file, out) = (dir.path().join("t.jsonl"), dir.path().join("run.toml"), dir.path().join("run"));
        std::fs::write(&table, small_table()).unwrap();
        std::fs::write(&file, apply(readme_run_toml().into_bytes(), &edits)).unwrap();
        let o = nasbox(&["search", "--config", path(&file), "--strategy", path(&guest("random")), "--estimator", &format!("table:{}", table.display()), "--budget", "trials=3", "--out", path(&out)]);
        if ran_or_refused(&o)? {
            prop_assert_eq!(support::trials(&out).len(), 3);
        }
    }
}

#[test]
fn run_toml_values_that_used_to_fail_late_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.toml");
    for (body, why) in [
        ("estimator = \"supernet\"\n[train]\nvalid_fraction = 1.5\n", "[train] valid_fraction = 1.5 is not in (0, 1)"),
        ("[slurm]\npoll_seconds = inf\n", "[slurm] poll_seconds = inf: a positive number of seconds"),
        ("space = \"nb2O1\"\n", "space: unknown space `nb2O1`"),
    ] {
        std::fs::write(&file, body).unwrap();
        let out = dir.path().join("run");
        let o = nasbox(&["search", "--config", path(&file), "--strategy", path(&guest("random")), "--out", path(&out)]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(&format!("{}: {why}", file.display())), "{}", text(&o));
        assert!(!out.exists());
    }
}

proptest! {
    #![proptest_config(config(TABLES))]
    #[test]
    fn search_on_a_broken_table(edits in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let (table, out) = (dir.path().join("t.jsonl"), dir.path().join("run"));
        std::fs::write(&table, apply(small_table().into_bytes(), &edits)).unwrap();
        let o = nasbox(&["search", "--strategy", path(&guest("random")), "--estimator", &format!("table:{}", table.display()), "--budget", "trials=3", "--out", path(&out)]);
        if !ran_or_refused(&o)? {
            // `PATH:LINE: why`
            let t = text(&o);
            let at = t.find(&format!("{}:", table.display())).ok_or_else(|| TestCaseError::fail(format!("the table is not named:\n{t}")))?;
            let rest = &t[at + table.display().to_string().len() + 1..];
            prop_assert!(rest.split_once(": ").is_some_and(|(line, why)| line.parse::<usize>().is_ok() && why.trim().len() > 3), "{}", t);
            // The run folder the refused search made is gone, so the same --out can be given again.
            prop_assert!(!out.exists(), "a refused search left {}", out.display());
        }
    }
}

#[test]
fn a_search_whose_table_does_not_load_leaves_its_out_for_the_next_try() {
    let dir = tempfile::tempdir().unwrap();
    let (table, out) = (dir.path().join("t.jsonl"), dir.path().join("run"));
    std::fs::create_dir(&out).unwrap(); // the user's folder: kept, with nothing of the search's in it
    let search = || {
        nasbox(&[
            "search",
            "--strategy",
            path(&guest("random")),
            "--estimator",
            &format!("table:{}", table.display()),
            "--budget",
            "trials=3",
            "--out",
            path(&out),
        ])
    };
    let o = search();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(&format!("{}: No such file", table.display())), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "left in the folder: {:?}", std::fs::read_dir(&out).unwrap().collect::<Vec<_>>());
    // Before, the journal it left made this "already holds a run", and resume would have retried the missing table.
    std::fs::write(&table, small_table()).unwrap();
    let o = search();
    // It runs (random search rarely meets the small table's three
    // architectures: a search with no successful trial exits with 1).
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert_eq!(Journal::open(&out.join("journal.sqlite")).unwrap().trials().unwrap().len(), 3);
    // A resume after the table moved names the estimator it must use, and keeps the trials.
    std::fs::rename(&table, dir.path().join("moved.jsonl")).unwrap();
    let o = nasbox(&["resume", path(&out), "--budget", "trials=5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let named = format!("the run's estimator `table:{}` (a resume uses the one the search started with): {}: No such file", table.display(), table.display());
    assert!(text(&o).contains(&named), "{}", text(&o));
    assert_eq!(Journal::open(&out.join("journal.sqlite")).unwrap().trials().unwrap().len(), 3);
}

proptest! {
    #![proptest_config(config(ARCHS))]
    #[test]
    fn pytorch_export_of_a_broken_architecture(space in 0usize..3, seed in any::<u64>(), edits in edits()) {
        let (name, s) = [("nb201", nasbox::space::SearchSpace::Nb201), ("darts", nasbox::space::SearchSpace::Darts), ("chain", nasbox::space::SearchSpace::resolve("chain").unwrap())][space].clone();
        let g = s.sample(seed, 1).unwrap().remove(0);
        let arch = apply_text(&s.to_string(&g).unwrap(), &edits);
        // An argument cannot hold NUL; the shell would not pass one either.
        let arch = arch.replace('\0', "");
        let o = nasbox(&["space", "pytorch", "--space", name, &format!("--arch={arch}")]);
        if ran_or_refused(&o)? {
            prop_assert!(String::from_utf8_lossy(&o.stdout).contains("import torch"), "{}", text(&o));
        } else {
            prop_assert!(text(&o).contains(arch.trim()) || text(&o).contains("no input"), "{}", text(&o));
        }
    }
}

/// The files of a small dataset of each kind the loaders read.
fn dataset(kind: usize, dir: &Path) -> (String, Vec<PathBuf>) {
    match kind {
        0 => {
            support::write_mnist(dir, 12, 6);
            let files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
            (format!("mnist:{}", dir.display()), files.iter().map(|f| dir.join(f)).collect())
        }
        1 => {
            let record = |label: u8| -> Vec<u8> { std::iter::once(label).chain((0..3072).map(|p| (p % 251) as u8)).collect() };
            let mut files = vec![];
            for (name, labels) in [
                ("data_batch_1.bin", [0u8, 1]),
                ("data_batch_2.bin", [2, 3]),
                ("data_batch_3.bin", [4, 5]),
                ("data_batch_4.bin", [6, 7]),
                ("data_batch_5.bin", [8, 9]),
                ("test_batch.bin", [1, 2]),
            ] {
                std::fs::write(dir.join(name), labels.iter().flat_map(|&l| record(l)).collect::<Vec<u8>>()).unwrap();
                files.push(dir.join(name));
            }
            std::fs::write(dir.join("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n").unwrap();
            files.push(dir.join("batches.meta.txt"));
            (format!("cifar10:{}", dir.display()), files)
        }
        _ => {
            let mut files = vec![];
            for (class, shade) in [("cat", 20u8), ("dog", 200)] {
                std::fs::create_dir_all(dir.join(class)).unwrap();
                for (name, format) in [("a.png", image::ImageFormat::Png), ("b.jpg", image::ImageFormat::Jpeg)] {
                    let p = dir.join(class).join(name);
                    image::RgbImage::from_fn(9, 7, |x, y| image::Rgb([shade, (x * 20) as u8, (y * 30) as u8])).save_with_format(&p, format).unwrap();
                    files.push(p);
                }
            }
            (format!("folder:{}", dir.display()), files)
        }
    }
}

proptest! {
    #![proptest_config(config(DATASETS))]
    #[test]
    fn data_show_of_a_broken_dataset(kind in 0usize..3, which in any::<prop::sample::Index>(), edits in edits()) {
        let dir = tempfile::tempdir().unwrap();
        let (spec, files) = dataset(kind, dir.path());
        let bad = which.get(&files);
        std::fs::write(bad, apply(std::fs::read(bad).unwrap(), &edits)).unwrap();
        let o = nasbox(&["data", "show", &spec]);
        if !ran_or_refused(&o)? {
            prop_assert!(text(&o).contains(&bad.display().to_string()), "{} is not named:\n{}", bad.display(), text(&o));
        }
    }
}

#[test]
fn data_show_of_images_without_pixels() {
    // Regression: IDX images of 0×0 pixels loaded, and computing their
    // statistics panicked.
    let dir = tempfile::tempdir().unwrap();
    support::write_mnist(dir.path(), 4, 2);
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), [0u8, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let o = nasbox(&["data", "show", &format!("mnist:{}", dir.path().display())]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("train-images-idx3-ubyte: malformed: images of 0x0 pixels"), "{}", text(&o));
}

/// A finished table search of 20 trials (random strategy), in a folder
/// removed when the first is dropped.
fn finished_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (table, out) = (dir.path().join("t.jsonl"), dir.path().join("run"));
    support::write_table(&table);
    let o = nasbox(&[
        "search",
        "--strategy",
        path(&guest("random")),
        "--estimator",
        &format!("table:{}", table.display()),
        "--budget",
        "trials=20",
        "--seed",
        "5",
        "--out",
        path(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(support::trials(&out).len(), 20);
    (dir, out)
}

/// The finished run's folder copied to `to`, its journal replaced by `journal`.
fn copy_run(to: &Path, journal: &[u8]) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    std::fs::write(to.join("journal.sqlite"), journal).unwrap();
    to.join("journal.sqlite")
}

/// Every row of the trials table as text (what must survive a failed resume).
fn rows(journal: &Path) -> Option<Vec<String>> {
    let conn = rusqlite::Connection::open_with_flags(journal, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let mut stmt = conn.prepare("SELECT id, genotype, arch, fidelity, status, reason, objective, cost, metrics FROM trials ORDER BY id").ok()?;
    let rows = stmt
        .query_map([], |r| Ok((0..9).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|")))
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(rows)
}

/// Damage: bytes edited, or a 4 KiB page zeroed, or the file cut at a page.
fn damage() -> impl Strategy<Value = (Option<Vec<fuzz::Edit>>, prop::sample::Index, bool)> {
    (prop::option::weighted(0.6, edits()), any::<prop::sample::Index>(), any::<bool>())
}

fn inflict(bytes: &[u8], (edits, page, cut): &(Option<Vec<fuzz::Edit>>, prop::sample::Index, bool)) -> Vec<u8> {
    match edits {
        Some(e) => apply(bytes.to_vec(), e),
        None => {
            let at = page.index(bytes.len() / 4096) * 4096;
            let mut b = bytes.to_vec();
            if *cut {
                b.truncate(at);
            } else {
                b[at..at + 4096].fill(0);
            }
            b
        }
    }
}

#[test]
fn resume_and_results_of_a_damaged_journal() {
    let (_keep, finished) = finished_run();
    let original = std::fs::read(finished.join("journal.sqlite")).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config(JOURNALS));
    let outcome = runner.run(&damage(), |damage| {
        let damaged = inflict(&original, &damage);
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let journal = copy_run(&run, &damaged);
        // What could be read before (on a twin, as reading may write).
        let twin = copy_run(&dir.path().join("twin"), &damaged);
        let opened = Journal::open(&twin).is_ok();
        let before = rows(&twin);
        let o = nasbox(&["results", path(&run)]);
        if !ran_or_refused(&o)? {
            prop_assert!(text(&o).contains(&format!("{}: ", journal.display())), "{}", text(&o));
        }
        let o = nasbox(&["resume", path(&run), "--budget", "trials=24"]);
        if ran_or_refused(&o)? {
            // Resumed: the run went on from the trials it had.
            prop_assert_eq!(support::trials(&run).len(), 24);
        } else {
            let t = text(&o);
            prop_assert!(t.contains(&format!("{}: ", journal.display())) || t.contains("differs from the journal"), "{}", t);
            if !opened {
                prop_assert!(std::fs::read(&journal).unwrap() == damaged, "a journal that does not open was written to:\n{}", t);
            } else if let Some(before) = before {
                prop_assert_eq!(rows(&journal), Some(before), "a failed resume changed the trials:\n{}", t);
            }
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn resume_of_journals_that_do_not_add_up() {
    // Regressions: a trial row missing, a `tell` of a trial never
    // proposed, or a bad elapsed time made resume panic (an index out of
    // bounds, a negative Duration).
    let (_keep, finished) = finished_run();
    let original = std::fs::read(finished.join("journal.sqlite")).unwrap();
    let cases = [
        (
            "DELETE FROM trials WHERE id = 19",
            "call `{\"call\":\"ask\",\"n\":1,\"first\":19,\"count\":1}` refers to trials the journal does not hold (it has 19)",
        ),
        ("DELETE FROM trials WHERE id = 4", "trial 4 is missing (the next one recorded is 5)"),
        ("INSERT INTO calls (call) VALUES ('{\"call\":\"tell\",\"trials\":[999]}')", "refers to trials the journal does not hold (it has 20)"),
        ("UPDATE manifest SET value = '-5' WHERE key = 'elapsed'", "manifest `elapsed`: -5 is not a number of seconds"),
        ("DROP TABLE calls", "the journal is damaged (its `calls` table is missing)"),
        ("UPDATE trials SET genotype = '0,x' WHERE id = 2", "trial 2: genotype `0,x`"),
        ("UPDATE trials SET genotype = '0,0,0,0,0,0' WHERE id = 2", "trial 2 differs from the journal"),
    ];
    for (sql, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let journal = copy_run(&run, &original);
        let conn = rusqlite::Connection::open(&journal).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let before = rows(&journal);
        let o = nasbox(&["resume", path(&run), "--budget", "trials=24"]);
        assert_eq!(o.status.code(), Some(2), "{sql}:\n{}", text(&o));
        assert!(text(&o).contains(why), "{sql}: expected `{why}`:\n{}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
        assert_eq!(rows(&journal), before, "{sql}: the trials changed");
    }
    // The undamaged copy resumes, keeping its trials.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    copy_run(&run, &original);
    let o = nasbox(&["resume", path(&run), "--budget", "trials=24"]);
    assert!(o.status.success(), "{}", text(&o));
    let (old, new) = (support::trials(&finished), support::trials(&run));
    assert_eq!(new.len(), 24);
    assert!(old.iter().zip(&new).all(|(a, b)| key(a) == key(b)), "the resumed run changed its finished trials");
}

fn key(t: &Trial) -> (u64, Vec<u32>, String, String) {
    (t.id, t.genotype.clone(), format!("{:?}", t.status), format!("{:.6}", t.objective))
}

#[test]
fn flags_that_override_run_toml_are_checked_like_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (flag, value, says) in [("--epochs", "0", "[train] epochs = 0: at least 1"), ("--workers", "0", "workers = 0: at least 1")] {
        let o = command(&["search", "--strategy", "random", flag, value, "--out", out.to_str().unwrap()]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        let said = text(&o);
        assert!(said.contains("the search's configuration (run.toml and flags)") && said.contains(says), "{said}");
        assert!(!out.exists(), "no run folder is made for a search that cannot run");
    }
}
