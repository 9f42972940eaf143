//! What the sandbox costs, measured side by side in one run.
//!
//! `cargo bench --bench sandbox` (after `scripts/build-strategies`). Each
//! comparison alternates its two sides in blocks and reports medians, so
//! drift on a shared machine hits both sides alike; the ratios are the
//! numbers to quote.
//!
//! 1. ask(1)+tell(1) round trip of `random` on a 30-decision space: natively
//!    (the SDK's native build of the same crate) vs as a sandboxed component.
//! 2. Loading a component: compiling it vs loading the cached machine code,
//!    in-process (engine included) and as a whole `nasbox` process.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{median, sdk_space, target_dir};
use nasbox::space;
use nasbox::strategy::{self as host, CachePolicy, Engine, Limits, Plugin};
use nasbox_sdk::native::Native;
use random::RandomSearch;

const REPS: usize = 15;
const BLOCK: usize = 2000;

fn main() {
    let wasm = target_dir().join("wasm32-wasip2/release/random.wasm");
    assert!(wasm.exists(), "{} missing: run scripts/build-strategies first", wasm.display());
    println!("nasbox sandbox benchmark ({} reps, medians)\n", REPS);
    round_trip(&wasm);
    load(&wasm);
}

fn round_trip(wasm: &Path) {
    let space = space::builtin("wide").unwrap();
    let engine = Engine::new(CachePolicy::Off).unwrap();
    let mut plugin = Plugin::load(&engine, wasm, 1, Limits::default()).unwrap();
    plugin.init(&space, &[], host::RunContext { max_trials: None, parallelism: 1 }).unwrap();
    let ctx = nasbox_sdk::RunContext { max_trials: None, parallelism: 1 };
    let mut native = Native::<RandomSearch>::init(1, sdk_space(&space), vec![], ctx).unwrap();
    // What one call costs in fuel, and the fixed cost of entering the sandbox.
    let p = plugin.ask(1).unwrap();
    let ask_fuel = plugin.fuel_used_last_call();
    let obs =
        host::Observation { trial: u64::MAX, proposal: p[0].clone(), status: host::Status::Ok, objective: 0.1, cost: 1.0, metrics: vec![], gradient: None };
    plugin.tell(&[obs]).unwrap();
    let tell_fuel = plugin.fuel_used_last_call();
    let mut empty_calls = vec![];
    for _ in 0..REPS {
        let t = Instant::now();
        for _ in 0..BLOCK {
            plugin.tell(&[]).unwrap();
        }
        empty_calls.push(t.elapsed().as_secs_f64() * 1e6 / BLOCK as f64);
    }

    let mut trial = 0u64;
    let mut sandboxed = |n: usize| {
        for _ in 0..n {
            let p = plugin.ask(1).unwrap().pop().unwrap();
            let obs = host::Observation {
                trial,
                proposal: p,
                status: host::Status::Ok,
                objective: 0.5,
                cost: 1.0,
                metrics: vec![host::Metric { name: "params".into(), value: 1e5 }],
                gradient: None,
            };
            plugin.tell(std::slice::from_ref(&obs)).unwrap();
            trial += 1;
        }
    };
    let mut ntrial = 0u64;
    let mut natively = |n: usize| {
        for _ in 0..n {
            let p = native.ask(1).unwrap().pop().unwrap();
            let obs = nasbox_sdk::Observation {
                trial: ntrial,
                proposal: p,
                status: nasbox_sdk::Status::Ok,
                objective: 0.5,
                cost: 1.0,
                metrics: vec![nasbox_sdk::Metric { name: "params".into(), value: 1e5 }],
                gradient: None,
            };
            native.tell(vec![obs]).unwrap();
            ntrial += 1;
        }
    };
    sandboxed(BLOCK);
    natively(BLOCK);
    let (mut s, mut n) = (vec![], vec![]);
    for _ in 0..REPS {
        let t = Instant::now();
        sandboxed(BLOCK);
        s.push(t.elapsed().as_secs_f64() * 1e6 / BLOCK as f64);
        let t = Instant::now();
        natively(BLOCK);
        n.push(t.elapsed().as_secs_f64() * 1e6 / BLOCK as f64);
    }
    let (ms, mn) = (median(s), median(n));
    println!("ask(1)+tell(1), random on `wide` (30 decisions x 5 choices)");
    println!("| side | µs per round trip |");
    println!("|---|---|");
    println!("| native (SDK native build) | {mn:.2} |");
    println!("| sandboxed component | {ms:.2} |");
    println!("| ratio sandbox/native | {:.2}x |", ms / mn);
    println!("| of which: entering the sandbox, per call (`tell([])`) | {:.2} |", median(empty_calls));
    println!("\nfuel (≈ wasm instructions): ask(1) {ask_fuel}, tell(1) {tell_fuel}\n");
}

fn load(wasm: &Path) {
    let cache = tempfile::tempdir().unwrap();
    let cached_engine = || Engine::new(CachePolicy::Dir(cache.path().to_path_buf())).unwrap();
    // Populate the cache.
    assert!(!cached_engine().load(wasm).unwrap().from_cache);

    let time = |f: &dyn Fn() -> Duration| f().as_secs_f64() * 1e3;
    let cold = || {
        let t = Instant::now();
        let loaded = Engine::new(CachePolicy::Off).unwrap().load(wasm).unwrap();
        assert!(!loaded.from_cache);
        t.elapsed()
    };
    let warm = || {
        let t = Instant::now();
        let loaded = cached_engine().load(wasm).unwrap();
        assert!(loaded.from_cache);
        t.elapsed()
    };
    let nasbox = env!("CARGO_BIN_EXE_nasbox");
    let process = |cache_flag: &[&str]| {
        let t = Instant::now();
        let o = Command::new(nasbox)
            .args(cache_flag)
            .args(["strategy", "inspect", "--json", wasm.to_str().unwrap()])
            .env("NASBOX_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        assert!(o.status.success());
        t.elapsed()
    };
    let (mut c, mut w, mut pc, mut pw) = (vec![], vec![], vec![], vec![]);
    for _ in 0..REPS.min(9) {
        c.push(time(&cold));
        w.push(time(&warm));
        pc.push(time(&|| process(&["--no-cache"])));
        pw.push(time(&|| process(&[])));
    }
    let (c, w, pc, pw) = (median(c), median(w), median(pc), median(pw));
    let size = std::fs::metadata(wasm).unwrap().len() / 1024;
    println!("loading random.wasm ({size} KiB)");
    println!("| | compile | cached | ratio |");
    println!("|---|---|---|---|");
    println!("| in-process: engine + load | {c:.1} ms | {w:.1} ms | {:.0}x |", c / w);
    println!("| new `nasbox strategy inspect` process | {pc:.1} ms | {pw:.1} ms | {:.0}x |", pc / pw);
}
