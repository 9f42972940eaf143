//! What bounding the compiler costs, measured side by side in one run.
//!
//! `cargo bench -p nasbox --bench compile [-- JS.wasm]` (after
//! `scripts/setup`). For `random`, the Python example and, when given, a
//! componentize-js build:
//!
//! - the size checks done before compiling (parse only), median of 5;
//! - a cold load compiling in this process vs in a bounded child `nasbox`
//!   process (alternated, medians), and the child's peak memory;
//! - a cached load (a fresh engine, machine code from the signed cache).

use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;

use common::{median, target_dir};
use nasbox::strategy::{precheck, CachePolicy, CompileLimits, CompileOptions, Engine};

fn main() {
    let reps: usize = std::env::var("NASBOX_BENCH_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(2);
    let mut components: Vec<(String, PathBuf)> = vec![("random (Rust)".into(), target_dir().join("wasm32-wasip2/release/random.wasm"))];
    let python = target_dir().join("python-strategy/evolution_py.wasm");
    if python.exists() {
        components.push(("evolution-py (componentize-py)".into(), python));
    }
    for arg in std::env::args().skip(1).filter(|a| a.ends_with(".wasm")) {
        components.push((format!("{} (given)", Path::new(&arg).file_name().unwrap().to_string_lossy()), PathBuf::from(arg)));
    }
    let child = CompileOptions { limits: CompileLimits::default(), child: Some(PathBuf::from(env!("CARGO_BIN_EXE_nasbox"))) };
    println!("nasbox compile benchmark ({reps} cold loads per side, alternated; medians)\n");
    println!("| component | file | code | largest function | functions | size checks | cold, in process | cold, child process | child / in process | child peak memory | cached load |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, path) in components {
        assert!(path.exists(), "{} missing: run scripts/setup first", path.display());
        let bytes = std::fs::read(&path).unwrap();
        let mut checks = vec![];
        let mut size = None;
        for _ in 0..5 {
            let t = Instant::now();
            size = Some(precheck(&bytes, &CompileLimits::default()).expect("within the default limits"));
            checks.push(t.elapsed().as_secs_f64());
        }
        let size = size.unwrap();
        let (mut here, mut there, mut peaks) = (vec![], vec![], vec![]);
        for _ in 0..reps {
            let t = Instant::now();
            Engine::new(CachePolicy::Off).unwrap().load(&path).unwrap();
            here.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let loaded = Engine::with_options(CachePolicy::Off, child.clone()).unwrap().load(&path).unwrap();
            there.push(t.elapsed().as_secs_f64());
            peaks.push(loaded.compile_memory.unwrap_or(0) as f64);
        }
        let cache = tempfile::tempdir().unwrap();
        let cached_engine = || Engine::with_options(CachePolicy::Dir(cache.path().to_path_buf()), child.clone()).unwrap();
        assert!(!cached_engine().load(&path).unwrap().from_cache);
        let cached: Vec<f64> = (0..5)
            .map(|_| {
                let engine = cached_engine();
                let t = Instant::now();
                assert!(engine.load(&path).unwrap().from_cache);
                t.elapsed().as_secs_f64()
            })
            .collect();
        let (here, there) = (median(here), median(there));
        println!(
            "| {name} | {:.1} MB | {:.1} MB | {:.0} KB | {} | {:.1} ms | {:.2} s | {:.2} s | {:.2} | {:.0} MB | {:.0} ms |",
            size.file as f64 / 1e6,
            size.code as f64 / 1e6,
            size.largest_function as f64 / 1e3,
            size.functions,
            median(checks) * 1e3,
            here,
            there,
            there / here,
            median(peaks) / 1e6,
            median(cached) * 1e3,
        );
    }
}
