//! What bounding the compiler costs, and which compiler to use, measured
//! side by side in one run.
//!
//! `cargo bench -p nasbox --bench compile [-- JS.wasm]` (after
//! `scripts/setup`). For `random`, the Python example and, when given, a
//! componentize-js build:
//!
//! - the size checks done before compiling (parse only), median of 5;
//! - a cold load compiling in this process vs in a bounded child `nasbox`
//!   process, with Cranelift, and in a child with Winch (alternated,
//!   medians), with each child's peak memory;
//! - a cached load (a fresh engine, machine code from the signed cache);
//! - what the guest's code costs at run time: ask(1)+tell(1) round trips on
//!   `nb201`, Cranelift's code vs Winch's.

use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;

use common::{median, target_dir};
use nasbox::space;
use nasbox::strategy::{precheck, CachePolicy, CompileLimits, CompileOptions, Compiler, Engine, Limits, Observation, Plugin, RunContext, Status};

const ROUNDS: usize = 60;

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
    let options =
        |compiler| CompileOptions { limits: CompileLimits::default(), child: Some(PathBuf::from(env!("CARGO_BIN_EXE_nasbox"))), compiler: Some(compiler) };
    println!("nasbox compile benchmark ({reps} cold loads per side, alternated; medians)\n");
    println!("| component | file | code | largest function | functions | size checks | cached load |");
    println!("|---|---|---|---|---|---|---|");
    let mut second = vec![];
    for (name, path) in &components {
        assert!(path.exists(), "{} missing: run scripts/setup first", path.display());
        let bytes = std::fs::read(path).unwrap();
        let mut checks = vec![];
        let mut size = None;
        for _ in 0..5 {
            let t = Instant::now();
            size = Some(precheck(&bytes, &CompileLimits::default()).expect("within the default limits"));
            checks.push(t.elapsed().as_secs_f64());
        }
        let size = size.unwrap();
        let (mut here, mut cranelift, mut winch, mut peak_c, mut peak_w) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..reps {
            let t = Instant::now();
            let in_process = CompileOptions { child: None, ..options(Compiler::Cranelift) };
            Engine::with_options(CachePolicy::Off, in_process).unwrap().load(path).unwrap();
            here.push(t.elapsed().as_secs_f64());
            for (compiler, times, peaks) in [(Compiler::Cranelift, &mut cranelift, &mut peak_c), (Compiler::Winch, &mut winch, &mut peak_w)] {
                let t = Instant::now();
                let loaded = Engine::with_options(CachePolicy::Off, options(compiler)).unwrap().load(path).unwrap();
                times.push(t.elapsed().as_secs_f64());
                peaks.push(loaded.compile_memory.unwrap_or(0) as f64);
            }
        }
        let cache = tempfile::tempdir().unwrap();
        let cached_engine = || Engine::with_options(CachePolicy::Dir(cache.path().to_path_buf()), options(Compiler::Cranelift)).unwrap();
        assert!(!cached_engine().load(path).unwrap().from_cache);
        let cached: Vec<f64> = (0..5)
            .map(|_| {
                let engine = cached_engine();
                let t = Instant::now();
                assert!(engine.load(path).unwrap().from_cache);
                t.elapsed().as_secs_f64()
            })
            .collect();
        let (c, w) = (round_trips(path, Compiler::Cranelift), round_trips(path, Compiler::Winch));
        println!(
            "| {name} | {:.1} MB | {:.1} MB | {:.0} KB | {} | {:.1} ms | {:.0} ms |",
            size.file as f64 / 1e6,
            size.code as f64 / 1e6,
            size.largest_function as f64 / 1e3,
            size.functions,
            median(checks) * 1e3,
            median(cached) * 1e3,
        );
        second.push(format!(
            "| {name} | {:.2} s | {:.2} s ({:.2}×) | {:.0} MB | {:.2} s ({:.2}×) | {:.0} MB | {:.0} µs | {:.0} µs ({:.2}×) |",
            median(here.clone()),
            median(cranelift.clone()),
            median(cranelift.clone()) / median(here.clone()),
            median(peak_c) / 1e6,
            median(winch.clone()),
            median(winch) / median(cranelift),
            median(peak_w) / 1e6,
            c * 1e6,
            w * 1e6,
            w / c,
        ));
    }
    println!("\n| component | cold, Cranelift in process | cold, Cranelift in child (÷ in process) | child peak | cold, Winch in child (÷ Cranelift) | child peak | ask+tell, Cranelift code | ask+tell, Winch code (÷ Cranelift) |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in second {
        println!("{row}");
    }
}

/// Median seconds per ask(1)+tell(1) round trip over `ROUNDS` trials on
/// `nb201`, with the machine code of `compiler`.
fn round_trips(path: &Path, compiler: Compiler) -> f64 {
    let cache = tempfile::tempdir().unwrap();
    let options = CompileOptions { limits: CompileLimits::default(), child: None, compiler: Some(compiler) };
    let engine = Engine::with_options(CachePolicy::Dir(cache.path().to_path_buf()), options).unwrap();
    let space = space::builtin("nb201").unwrap();
    let mut plugin = Plugin::load(&engine, path, 1, Limits::default()).unwrap();
    plugin.init(&space, &[], RunContext { max_trials: None, parallelism: 1 }).unwrap();
    let mut times = vec![];
    for trial in 0..ROUNDS as u64 {
        let t = Instant::now();
        let p = plugin.ask(1).unwrap();
        let objective = (trial % 7) as f64 / 7.0;
        let obs = Observation { trial, proposal: p[0].clone(), status: Status::Ok, objective, cost: 1.0, metrics: vec![], gradient: None };
        plugin.tell(&[obs]).unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    median(times)
}
