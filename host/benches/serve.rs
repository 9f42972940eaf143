//! `nasbox serve` keeping up: (a) how long a 2,500-trial run page takes
//! (the server's answers to what the page asks for, and the whole page in
//! headless Chromium less Chromium's own start), and (b) a table search's
//! wall time with no one watching and with 10 clients polling its live run
//! as the run page does (and 10 polling back to back), alternated in one
//! run with a second side of nobody watching for the noise, medians and
//! ratios.
//!
//!     cargo bench -p nasbox --bench serve      (after scripts/build-strategies; chromium on PATH for the browser row)

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REPEATS: usize = 5;
const LOAD_TRIALS: u32 = 10_000;

fn nasbox(cache: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nasbox"));
    c.arg("--cache-dir").arg(cache).args(args);
    c
}

fn serve(cache: &Path, dir: &Path) -> (Child, u16) {
    support::start_serve(nasbox(cache, &["serve", "--port", "0", dir.to_str().unwrap()]))
}

/// GET `target`; the status and body.
fn get(port: u16, target: &str) -> (u16, Vec<u8>) {
    support::http(port, &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn chromium_seconds(url: &str) -> f64 {
    let profile = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=1000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(o.status.success());
    seconds
}

/// Polls the live run `name` like the run page (its JSON every second,
/// plots every two), or back to back; counts answers.
fn client(port: u16, name: String, paced: bool, stop: Arc<AtomicBool>, answers: Arc<AtomicU64>) {
    let mut since = 0u64;
    let mut last_plot = Instant::now() - Duration::from_secs(10);
    while !stop.load(Ordering::Relaxed) {
        let (status, body) = get(port, &format!("/api/run/{name}?since={since}"));
        if status == 200 {
            answers.fetch_add(1, Ordering::Relaxed);
            since = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["next"].as_u64()).unwrap_or(since);
            if !paced || last_plot.elapsed() > Duration::from_secs(2) {
                get(port, &format!("/api/plots/{name}"));
                last_plot = Instant::now();
            }
        }
        std::thread::sleep(if paced {
            Duration::from_secs(1)
        } else if status == 200 {
            Duration::ZERO
        } else {
            Duration::from_millis(50)
        });
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let table = dir.path().join("nb201.jsonl");
    support::write_table(&table);
    let estimator = format!("table:{}", table.display());
    let evolution = support::guest("evolution");
    let search = |runs: &Path, name: &str, trials: u32| -> f64 {
        let started = Instant::now();
        let o = nasbox(
            &cache,
            &[
                "search",
                "--strategy",
                evolution.to_str().unwrap(),
                "--estimator",
                &estimator,
                "--budget",
                &format!("trials={trials}"),
                "--out",
                runs.join(name).to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        started.elapsed().as_secs_f64()
    };

    // (a) A 2,500-trial run page.
    let runs = dir.path().join("runs");
    search(&runs, "r2500", 2500);
    let page = ["/run/r2500", "/assets/style.css", "/assets/common.js", "/assets/run.js", "/api/run/r2500?since=0", "/api/plots/r2500"];
    let (mut cold, mut warm) = (vec![], vec![]);
    let mut bytes = 0;
    for _ in 0..REPEATS {
        let (mut child, port) = serve(&cache, &runs);
        for times in [&mut cold, &mut warm] {
            let started = Instant::now();
            bytes = page.iter().map(|t| get(port, t)).inspect(|(s, _)| assert_eq!(*s, 200)).map(|(_, b)| b.len()).sum::<usize>();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    println!("2,500-trial run page ({} requests, {} kB):", page.len(), bytes / 1000);
    println!("| measure | median ms |\n|---|---|");
    println!("| server, first read of the journal | {:.0} |", median(cold));
    println!("| server, cached | {:.0} |", median(warm));
    if Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success()) {
        let (mut child, port) = serve(&cache, &runs);
        let (mut page_s, mut blank_s) = (vec![], vec![]);
        for _ in 0..REPEATS {
            page_s.push(chromium_seconds(&format!("http://127.0.0.1:{port}/run/r2500")));
            blank_s.push(chromium_seconds(&format!("http://127.0.0.1:{port}/assets/style.css")));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let (p, b) = (median(page_s), median(blank_s));
        println!("| headless Chromium: run page, every row and plot drawn | {:.0} |", p * 1000.0);
        println!("| headless Chromium: a style sheet (its own start) | {:.0} |", b * 1000.0);
        println!("| the page's own cost (difference) | {:.0} |", (p - b) * 1000.0);
    }

    // (b) A search watched by 0 and 10 clients, alternated.
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (mut server, port) = serve(&cache, &live);
    // Nobody watching twice: how far two identical sides differ here (noise).
    let sides = [
        ("nobody watching", 0, true),
        ("10 clients, as the run page polls", 10, true),
        ("10 clients polling back to back", 10, false),
        ("nobody watching, again", 0, true),
    ];
    let mut seconds: Vec<Vec<f64>> = vec![vec![]; sides.len()];
    let mut answered: Vec<Vec<u64>> = vec![vec![]; sides.len()];
    let mut k = 0;
    for _ in 0..REPEATS {
        for (s, &(_, clients, paced)) in sides.iter().enumerate() {
            k += 1;
            let name = format!("run{k}");
            let stop = Arc::new(AtomicBool::new(false));
            let answers = Arc::new(AtomicU64::new(0));
            let threads: Vec<_> = (0..clients)
                .map(|_| {
                    let (name, stop, answers) = (name.clone(), stop.clone(), answers.clone());
                    std::thread::spawn(move || client(port, name, paced, stop, answers))
                })
                .collect();
            seconds[s].push(search(&live, &name, LOAD_TRIALS));
            stop.store(true, Ordering::Relaxed);
            for t in threads {
                t.join().unwrap();
            }
            answered[s].push(answers.load(Ordering::Relaxed));
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let base = median(seconds[0].clone());
    println!("\nevolution, {LOAD_TRIALS} trials on a table, median of {REPEATS} (sides alternated):");
    println!("| side | search seconds | ratio to nobody watching | answers per search |\n|---|---|---|---|");
    for (s, (label, _, _)) in sides.iter().enumerate() {
        let m = median(seconds[s].clone());
        println!("| {label} | {m:.2} | {:.3} | {} |", m / base, median(answered[s].iter().map(|&a| a as f64).collect()));
    }
}
