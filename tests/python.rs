//! A strategy written in Python (examples/python-strategy), made into a
//! component by componentize-py and run by the unchanged `nasbox` binary:
//! proof that strategies need not be written in Rust.
//!
//! `scripts/build-python-strategy` installs componentize-py from PyPI; where
//! it cannot (exit status 3), these tests print `SKIPPED: <reason>` and pass.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::{path, target_dir, text};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn out_dir() -> PathBuf {
    target_dir().join("python-strategy")
}

/// A compile cache that outlives the test run, so that the ~18 MB component
/// is compiled once and not on every `cargo test` (the build script empties
/// it whenever it rebuilds the component).
fn cache() -> PathBuf {
    out_dir().join("cache")
}

/// Runs `nasbox` with the persistent cache.
fn nasbox(args: &[&str]) -> Output {
    support::nasbox(&cache(), args)
}

/// Builds the component once per test process (or finds it up to date) and
/// compiles it into the cache; `Err(reason)` when the build was skipped.
fn component() -> Result<&'static Path, &'static str> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let script = workspace().join("scripts/build-python-strategy");
        let o = Command::new(&script).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let skipped = out_dir().join("SKIPPED");
        if o.status.code() == Some(3) || skipped.exists() {
            let reason = std::fs::read_to_string(&skipped).unwrap_or_else(|_| text(&o));
            return Err(reason.trim().to_string());
        }
        assert!(o.status.success(), "scripts/build-python-strategy failed:\n{}", text(&o));
        let wasm = out_dir().join("evolution_py.wasm");
        assert!(wasm.exists(), "the build script succeeded but {} is missing:\n{}", wasm.display(), text(&o));
        // Compile it now, once, rather than in several tests at the same time.
        let o = nasbox(&["strategy", "inspect", path(&wasm)]);
        assert!(o.status.success(), "{}", text(&o));
        Ok(wasm)
    });
    built.as_deref().map_err(String::as_str)
}

/// The component, or `None` after saying why the test is skipped. Written to
/// stderr directly, past the test harness's capture, so it shows in the
/// output of a passing test.
fn component_or_skip() -> Option<&'static Path> {
    match component() {
        Ok(wasm) => Some(wasm),
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED: python strategy: {reason}");
            None
        }
    }
}

#[test]
fn inspect_shows_the_python_strategy_and_its_config() {
    let Some(wasm) = component_or_skip() else { return };
    let o = nasbox(&["strategy", "inspect", path(wasm)]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("evolution-py 0.1.0"), "{t}");
    assert!(t.contains("Real et al. 2019"), "{t}");
    assert!(t.contains("contract:  nasbox:strategy@0.1.2"), "{t}");
    assert!(t.contains("snapshot:  supported"), "{t}");
    assert!(t.contains("population = 20"), "{t}");
    assert!(t.contains("sample = 5"), "{t}");
    // --stub-wasi leaves nothing but the contract to import.
    assert!(!t.contains("wasi:"), "the component imports WASI:\n{t}");
}

#[test]
fn the_python_strategy_passes_the_check_on_every_space() {
    let Some(wasm) = component_or_skip() else { return };
    for space in ["toy", "wide"] {
        let o = nasbox(&["strategy", "check", path(wasm), "--space", space]);
        let t = text(&o);
        assert!(o.status.success(), "on {space}:\n{t}");
        assert!(t.contains("passed: 7 checks, 0 violations"), "on {space}:\n{t}");
    }
    // A small population, so that most proposals are tournament children.
    let o = nasbox(&["strategy", "check", path(wasm), "--space", "wide", "--set", "population=3", "--set", "sample=2"]);
    let t = text(&o);
    assert!(t.contains("passed: 7 checks, 0 violations"), "{t}");
}

#[test]
fn bad_config_comes_back_as_a_strategy_error_naming_the_key() {
    let Some(wasm) = component_or_skip() else { return };
    let o = nasbox(&["strategy", "check", path(wasm), "--set", "sample=30"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("init: returned an error: invalid config: sample: 30 is not in 1..=20"), "{t}");

    let o = nasbox(&["strategy", "check", path(wasm), "--set", "population=many"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("invalid config: population: `many` is not a whole number"), "{t}");
}

#[test]
fn same_seed_same_search_across_processes() {
    let Some(wasm) = component_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let transcript = |seed: &str, name: &str| {
        let file = dir.path().join(name);
        let o = nasbox(&["strategy", "check", path(wasm), "--seed", seed, "--transcript", path(&file)]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read_to_string(file).unwrap()
    };
    let a = transcript("7", "a.jsonl");
    let b = transcript("7", "b.jsonl");
    let c = transcript("8", "c.jsonl");
    assert!(a.lines().count() > 10, "{a}");
    assert!(a.contains("\"call\":\"ask\""), "{a}");
    assert_eq!(a, b, "same seed, different searches");
    assert_ne!(a, c, "different seeds, same search");
}
