//! A strategy author's road, per language: `nasbox strategy new`, then
//! `nasbox strategy build` with the stock toolchain at its default flags
//! (installed from the package registries into a toolchain cache), then a
//! table search. Each language's strategy is deterministic across
//! processes, a rebuilt file resumes a run, and a mistake in the guest
//! shows the guest's own message (a JavaScript exception, a Python
//! traceback).
//!
//! These tests need cargo, python3 with venv, node 20+ and npm, and the
//! registries (CI has them). Without a language's tools its test says it
//! is skipped, unless `NASBOX_REQUIRE_TOOLCHAINS` is set (CI sets it), when
//! it fails. The toolchains are cached under the target directory, so only
//! the first run downloads them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{path, target_dir, text, trials, write_table};

/// `nasbox` with the tests' compile cache, the cached toolchains, and (for
/// Rust projects) a target directory of their own, so that the project's
/// cargo never waits on the lock of the cargo running these tests.
fn nasbox(args: &[&str]) -> Output {
    let mut c = support::command(args);
    c.env("NASBOX_TOOLCHAINS", target_dir().join("toolchains")).env("CARGO_TARGET_DIR", target_dir().join("authoring-rust"));
    c.output().expect("nasbox runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

/// Why `lang`'s toolchain cannot run here, if it cannot: a test then says
/// it is skipped (or fails, under `NASBOX_REQUIRE_TOOLCHAINS`).
fn skipped(lang: &str) -> bool {
    let works = |cmd: &str, args: &[&str]| std::process::Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success());
    let missing = match lang {
        "python" => (!works("python3", &["-c", "import ensurepip, venv"])).then_some("python3 with venv (apt-get install python3-venv)"),
        "js" => (!works("node", &["-e", "process.exit(+process.versions.node.split('.')[0] >= 20 ? 0 : 1)"]) || !works("npm", &["--version"]))
            .then_some("node 20 or newer and npm"),
        _ => None,
    };
    let Some(missing) = missing else { return false };
    assert!(std::env::var_os("NASBOX_REQUIRE_TOOLCHAINS").is_none(), "the {lang} template's test needs {missing}");
    eprintln!("skipped: the {lang} template's test needs {missing}");
    true
}

/// A project made by `strategy new` and built by `strategy build`, which
/// also checks it.
fn build_new(lang: &str, root: &Path) -> (PathBuf, PathBuf) {
    let name = format!("t-{lang}");
    let dir = root.join(&name);
    ok(nasbox(&["strategy", "new", &name, "--lang", lang, path(&dir)]));
    let said = ok(nasbox(&["strategy", "build", path(&dir)]));
    assert!(said.contains("passed: 7 checks, 0 violations"), "{said}");
    let wasm = dir.join(format!("build/{name}.wasm"));
    assert!(wasm.is_file(), "{said}");
    (dir, wasm)
}

/// The same component with a custom section appended: different bytes, the
/// same behaviour, as a rebuild from unchanged sources usually is.
fn rebuilt(wasm: &Path, to: &Path) {
    let mut bytes = std::fs::read(wasm).unwrap();
    let name = b"rebuilt";
    let payload = b"built again";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    std::fs::write(to, bytes).unwrap();
}

/// Two searches with one seed, in two processes, give the same trials; a
/// rebuilt file resumes the first (given with --strategy, and rebuilt in
/// place); a different strategy is refused naming the first call that
/// differs.
fn search_resume_and_determinism(wasm: &Path, root: &Path) {
    let table = root.join("table.jsonl");
    write_table(&table);
    let estimator = format!("table:{}", table.display());
    let run = |out: &Path, strategy: &Path| {
        ok(nasbox(&[
            "search",
            "--strategy",
            path(strategy),
            "--space",
            "nb201",
            "--estimator",
            &estimator,
            "--budget",
            "trials=24",
            "--seed",
            "5",
            "--out",
            path(out),
        ]))
    };
    let (a, b) = (root.join("a"), root.join("b"));
    run(&a, wasm);
    run(&b, wasm);
    let genotypes = |dir: &Path| trials(dir).iter().map(|t| t.genotype.clone()).collect::<Vec<_>>();
    assert_eq!(genotypes(&a).len(), 24);
    assert_eq!(genotypes(&a), genotypes(&b), "one seed, one search, in any process");

    // A rebuild, given with --strategy.
    let again = root.join("again.wasm");
    rebuilt(wasm, &again);
    let said = ok(nasbox(&["resume", path(&a), "--budget", "trials=30", "--strategy", path(&again)]));
    assert!(said.contains("not the strategy file the run started with"), "{said}");
    let resumed = genotypes(&a);
    assert_eq!(resumed.len(), 30);
    assert_eq!(resumed[..24], genotypes(&b)[..], "the recorded trials stay");
    // The run now knows the rebuild: resuming again needs no flag.
    ok(nasbox(&["resume", path(&a), "--budget", "trials=32"]));

    // Rebuilt in place, at the recorded path.
    rebuilt(wasm, &root.join("tmp.wasm"));
    let copy = root.join("in-place.wasm");
    std::fs::copy(wasm, &copy).unwrap();
    let c = root.join("c");
    run(&c, &copy);
    std::fs::rename(root.join("tmp.wasm"), &copy).unwrap();
    ok(nasbox(&["resume", path(&c), "--budget", "trials=28"]));
    assert_eq!(genotypes(&c)[..24], genotypes(&b)[..]);

    // Another strategy does not replay the search.
    let other = support::guest("random");
    let o = nasbox(&["resume", path(&b), "--budget", "trials=30", "--strategy", path(&other)]);
    assert!(!o.status.success());
    let said = text(&o);
    assert!(said.contains("does not replay the run's search") && said.contains("call 1 of"), "{said}");
    assert_eq!(genotypes(&b).len(), 24, "a refused resume adds nothing");
}

/// Edits the project's source, rebuilds, and returns what `strategy check`
/// says of it.
fn broken(dir: &Path, file: &str, from: &str, to: &str) -> String {
    let source = dir.join(file);
    let text = std::fs::read_to_string(&source).unwrap();
    assert!(text.contains(from), "{file} no longer has `{from}`");
    std::fs::write(&source, text.replacen(from, to, 1)).unwrap();
    let o = nasbox(&["strategy", "build", path(dir)]);
    assert!(!o.status.success(), "the check must fail:\n{}", support::text(&o));
    support::text(&o)
}

#[test]
fn rust_template_builds_checks_searches_and_resumes() {
    let root = tempfile::tempdir().unwrap();
    let (_, wasm) = build_new("rust", root.path());
    search_resume_and_determinism(&wasm, root.path());
}

#[test]
fn python_template_builds_checks_searches_and_resumes_and_shows_a_traceback() {
    if skipped("python") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let (dir, wasm) = build_new("python", root.path());
    search_resume_and_determinism(&wasm, root.path());
    let said = broken(
        &dir,
        "strategy.py",
        "    def ask(self, n: int) -> list[Proposal]:\n",
        "    def ask(self, n: int) -> list[Proposal]:\n        if n > 2:\n            raise ValueError(\"ask went wrong on purpose\")\n",
    );
    assert!(said.contains("Traceback (most recent call last)") && said.contains("ValueError: ask went wrong on purpose"), "{said}");
    assert!(said.contains("strategy.py\", line"), "the traceback names the line: {said}");
}

#[test]
fn javascript_template_builds_checks_searches_and_resumes_and_shows_the_exception() {
    if skipped("js") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let (dir, wasm) = build_new("js", root.path());
    search_resume_and_determinism(&wasm, root.path());
    // The default build imports wasi:http, clocks and the file system; all load.
    let said = ok(nasbox(&["strategy", "inspect", path(&wasm)]));
    assert!(said.contains("wasi:http/types") && said.contains("stub: any call stops the strategy"), "{said}");
    let said = broken(&dir, "strategy.js", "  ask(n) {\n", "  ask(n) {\n    if (n > 2) throw new Error('ask went wrong on purpose');\n");
    assert!(said.contains("Error: ask went wrong on purpose"), "{said}");
    assert!(said.contains("ask@"), "the stack names the function: {said}");
}

#[test]
fn a_missing_toolchain_is_named_with_what_to_install() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("p");
    ok(nasbox(&["strategy", "new", "p", "--lang", "js", path(&dir)]));
    let o = support::command(&["strategy", "build", path(&dir)]).env("PATH", "/nonexistent").output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("`node` not found on PATH: install Node.js"), "{}", text(&o));
    // A folder that is not a project says so.
    let o = nasbox(&["strategy", "build", path(root.path())]);
    assert!(text(&o).contains("strategy.toml: not found"), "{}", text(&o));
}
