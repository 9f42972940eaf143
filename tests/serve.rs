//! `nasbox serve`: every endpoint over HTTP (including traversal attempts,
//! unknown runs and malformed requests), that serving writes nothing into
//! a run, and the pages in a real browser (headless Chromium): rendered
//! runs, trial rows and plots, and a live run whose trial count rises.
//!
//! Without Chromium the browser tests say so and pass, so the rest of the
//! suite runs anywhere; with `NASBOX_REQUIRE_CHROMIUM=1` (CI, where
//! `scripts/test` installs Debian's `chromium`) they fail instead.
//! Screenshots of each page go to `$CARGO_TARGET_DIR/serve-screenshots/`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{command, guest, path, text, write_table};

/// A served folder with runs made by table searches: `random` (30
/// trials, some failed: the table lacks a third of the cells),
/// `evolution` (60) and the bench `cmp` (2 strategies × 2 seeds).
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("table.jsonl");
        write_table(&full);
        // A table lacking some cells: their trials fail, with a reason.
        let partial = dir.path().join("partial.jsonl");
        let lines: Vec<&str> = std::fs::read_to_string(&full).unwrap().leak().lines().collect();
        let kept: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i == 0 || (i - 1) / 2 % 3 != 0).map(|(_, l)| *l).collect();
        std::fs::write(&partial, kept.join("\n") + "\n").unwrap();
        let runs = dir.path().join("runs");
        let search = |strategy: &str, table: &Path, trials: u32, out: &str| {
            let o = command(&[
                "search",
                "--strategy",
                path(&guest(strategy)),
                "--estimator",
                &format!("table:{}", table.display()),
                "--budget",
                &format!("trials={trials}"),
                "--out",
                path(&runs.join(out)),
            ])
            .output()
            .unwrap();
            assert!(o.status.success(), "{}", text(&o));
        };
        search("random", &partial, 30, "random");
        search("evolution", &full, 60, "evolution");
        let o = command(&[
            "bench",
            "--strategies",
            path(&guest("random")),
            path(&guest("evolution")),
            "--seeds",
            "2",
            "--estimator",
            &format!("table:{}", full.display()),
            "--budget",
            "trials=20",
            "--jobs",
            "1",
            "--out",
            path(&runs.join("cmp")),
        ])
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        Fixture { dir }
    }

    fn runs(&self) -> PathBuf {
        self.dir.path().join("runs")
    }
}

/// A `nasbox serve` process, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dirs: &[&Path]) -> Server {
        let mut args = vec!["serve", "--port", "0"];
        args.extend(dirs.iter().map(|d| path(d)));
        let (child, port) = support::start_serve(command(&args));
        Server { child, port }
    }

    fn url(&self, target: &str) -> String {
        format!("http://127.0.0.1:{}{target}", self.port)
    }

    /// Sends `head` as it is and returns the status and body.
    fn raw(&self, head: &str) -> (u16, String) {
        let (status, body) = support::http(self.port, head);
        assert_ne!(status, 0, "no answer to {head:?}");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn request(&self, method: &str, target: &str) -> (u16, String) {
        self.raw(&format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port))
    }

    fn get(&self, target: &str) -> (u16, String) {
        self.request("GET", target)
    }

    fn json(&self, target: &str) -> serde_json::Value {
        let (status, body) = self.get(target);
        assert_eq!(status, 200, "{target}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{target}: {e}: {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_endpoint_answers_and_bad_requests_get_4xx() {
    let f = Fixture::new();
    std::fs::write(f.runs().join("random/strategy.log"), "INFO  random: <b>hello</b>\n").unwrap();
    let before = snapshot(&f.runs());
    let mut s = Server::start(&[&f.runs()]);

    // The runs, with what the runs page shows.
    let runs = s.json("/api/runs");
    let names: Vec<&str> = runs["runs"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cmp/runs/evolution-0", "cmp/runs/evolution-1", "cmp/runs/random-0", "cmp/runs/random-1", "evolution", "random"]);
    assert_eq!(runs["benches"], serde_json::json!(["cmp"]));
    let evolution = runs["runs"].as_array().unwrap().iter().find(|r| r["name"] == "evolution").unwrap();
    assert_eq!((evolution["status"].as_str(), evolution["trials"].as_u64(), evolution["budget_trials"].as_u64()), (Some("finished"), Some(60), Some(60)));
    assert_eq!(evolution["strategy"], "evolution");
    assert!(evolution["best"].as_f64().unwrap() > 0.5, "{evolution}");

    // A run's trials, all or from a trial on; failed ones with their reason.
    let run = s.json("/api/run/random");
    let trials = run["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 30);
    assert_eq!((run["since"].as_u64(), run["next"].as_u64()), (Some(0), Some(30)));
    let failed: Vec<_> = trials.iter().filter(|t| t["status"] == "failed").collect();
    assert!(!failed.is_empty() && failed.len() == run["summary"]["failed"].as_u64().unwrap() as usize, "{run}");
    assert!(failed.iter().all(|t| t["reason"].as_str().unwrap().contains("not in the table")), "{failed:?}");
    let tail = s.json("/api/run/random?since=25");
    assert_eq!(tail["trials"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect::<Vec<_>>(), [25, 26, 27, 28, 29]);
    assert_eq!(s.json("/api/run/random?since=999")["trials"].as_array().unwrap().len(), 0);
    let nested = s.json("/api/run/cmp/runs/random-0");
    assert_eq!(nested["trials"].as_array().unwrap().len(), 20);

    // Its drawings: well-formed SVG.
    let plots = s.json("/api/plots/evolution");
    for key in ["best", "params"] {
        roxmltree::Document::parse(plots[key].as_str().unwrap_or_else(|| panic!("no {key} plot: {plots}"))).unwrap();
    }
    assert!(plots["flops"].is_null(), "the table records no FLOPs");
    assert_eq!(plots["cells"].as_array().unwrap().len(), 1, "an NB201 cell");

    // The pages.
    for (target, needle) in [
        ("/", "/assets/runs.js"),
        ("/run/evolution", "data-api=\"/api/run/evolution\""),
        ("/run/cmp/runs/random-0", "data-plots=\"/api/plots/cmp/runs/random-0\""),
        ("/bench/cmp", "Pairwise tests"),
        ("/compare", "Compare runs"),
        ("/compare?run=evolution&run=random", "<svg"),
        ("/assets/style.css", "body"),
        ("/assets/run.js", "since"),
        ("/api/log/random", "INFO  random: <b>hello</b>"),
    ] {
        let (status, body) = s.get(target);
        assert_eq!(status, 200, "{target}: {body}");
        assert!(body.contains(needle), "{target} lacks {needle}");
    }
    let (_, bench) = s.get("/bench/cmp");
    assert!(bench.contains("<td>evolution</td>") && bench.matches("<svg").count() == 2, "validation and test curves");
    assert_eq!(s.get("/api/log/evolution"), (200, String::new()), "a strategy that logged nothing");
    let (status, body) = s.request("HEAD", "/run/random");
    assert_eq!((status, body.as_str()), (200, ""));

    // Unknown runs, traversal, malformed and unwanted requests: 4xx.
    for (target, expected) in [
        ("/run/nope", 404),
        ("/api/run/nope", 404),
        ("/api/plots/nope", 404),
        ("/api/log/nope", 404),
        ("/bench/evolution", 404),
        ("/bench/nope", 404),
        ("/run/cmp", 404),
        ("/nope", 404),
        ("/assets/nope.js", 404),
        ("/assets/..%2Fmod.rs", 404),
        ("/compare?run=nope", 404),
        ("/compare?run=..%2F..%2Fetc", 404),
        ("/run/../../etc/passwd", 400),
        ("/run/..%2F..%2Fetc%2Fpasswd", 400),
        ("/api/run/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/api/run/cmp/../evolution", 400),
        ("/run/cmp//runs", 400),
        ("/run/", 400),
        ("/bench/..", 400),
        ("/run/%zz", 400),
        ("/run/%c3%28", 400),
        ("/run/a%00b", 400),
        ("/api/run/random?since=-1", 400),
        ("/api/run/random?since=many", 400),
        ("http://example.com/", 400),
        ("*", 400),
    ] {
        let (status, body) = s.get(target);
        assert_eq!(status, expected, "{target}: {body}");
    }
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        assert_eq!(s.request(method, "/api/runs").0, 405, "{method}");
    }
    assert_eq!(s.raw("GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n").0, 400, "a foreign Host (DNS rebinding)");
    assert_eq!(s.raw("GET / HTTP/1.1\r\n\r\n").0, 400, "no Host");
    assert_eq!(s.raw("\u{1}\u{2}garbage\r\n\r\n").0, 400);
    assert_eq!(s.raw(&format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(5000))).0, 414);
    assert_eq!(s.raw(&format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000))).0, 431);
    // A client that sends half a request and leaves.
    drop(TcpStream::connect(("127.0.0.1", s.port)).unwrap().write_all(b"GET /api/ru"));

    // Still serving, and nothing in the runs changed.
    assert_eq!(s.get("/api/runs").0, 200);
    assert!(s.child.try_wait().unwrap().is_none(), "the server exited");
    assert!(snapshot(&f.runs()) == before, "serving wrote into the served folders");

    // Only the served directory: a run beside it is not served.
    let s2 = Server::start(&[&f.runs().join("cmp")]);
    let names: Vec<String> = s2.json("/api/runs")["runs"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["runs/evolution-0", "runs/evolution-1", "runs/random-0", "runs/random-1"]);
    assert_eq!(s2.get("/run/..%2Fevolution").0, 400);
    assert_eq!(s2.get("/run/evolution").0, 404);
}

/// Headless Chromium, or `None` (the test is skipped) where it is missing
/// and `NASBOX_REQUIRE_CHROMIUM` is not set.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("chromium")).find(|c| c.is_file()));
    if found.is_none() {
        if std::env::var_os("NASBOX_REQUIRE_CHROMIUM").is_some() {
            panic!("NASBOX_REQUIRE_CHROMIUM is set but `chromium` is not on PATH: install it (as root: apt-get install -y chromium; scripts/test does)");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED: no `chromium` on PATH; `apt-get install -y chromium` (Debian) enables the browser tests");
    }
    found
}

/// Runs headless Chromium on `url`, killed if it takes over a minute.
fn browser(chromium: &Path, args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--virtual-time-budget=5000"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} {url} took over a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium {args:?} {url}: {status}");
    reader.join().unwrap()
}

/// The page's DOM after its scripts ran.
fn dom(chromium: &Path, url: &str) -> String {
    browser(chromium, &["--dump-dom"], url)
}

/// Writes a screenshot of the page to `$CARGO_TARGET_DIR/serve-screenshots/NAME.png`.
fn screenshot(chromium: &Path, url: &str, name: &str) {
    let dir = support::target_dir().join("serve-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&file);
    browser(chromium, &[&format!("--screenshot={}", file.display()), "--window-size=1280,900", "--hide-scrollbars"], url);
    assert!(std::fs::metadata(&file).is_ok_and(|m| m.len() > 5_000), "{} was not written", file.display());
}

/// The start of a page, for failure messages.
fn short(page: &str) -> &str {
    page.char_indices().nth(3000).map_or(page, |(i, _)| &page[..i])
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn pages_render_in_a_browser() {
    let Some(chromium) = chromium() else { return };
    let f = Fixture::new();
    std::fs::write(f.runs().join("random/strategy.log"), "INFO  random: <b>hello</b>\n").unwrap();
    let s = Server::start(&[&f.runs()]);

    let runs = dom(&chromium, &s.url("/"));
    assert_eq!(count(&runs, "<tr class=\"run\""), 6, "{}", short(&runs));
    assert!(runs.contains(">evolution</a>") && runs.contains("class=\"status-finished\""), "{}", short(&runs));
    assert!(runs.contains("class=\"bench\" href=\"/bench/cmp\""), "{}", short(&runs));
    screenshot(&chromium, &s.url("/"), "runs");

    let run = dom(&chromium, &s.url("/run/random"));
    assert_eq!(count(&run, "<tr class=\"trial "), 30, "{}", short(&run));
    assert!(count(&run, "<tr class=\"trial failed\"") >= 1 && run.contains("not in the table"), "failed trials with their reason");
    assert!(run.contains("id=\"trial-count\">30<"), "{}", short(&run));
    assert!(run.contains("INFO  random: &lt;b&gt;hello&lt;/b&gt;"), "the strategy's log, as text");
    for plot in ["plot-best", "plot-params", "cells"] {
        let at = run.find(&format!("id=\"{plot}\"")).unwrap_or_else(|| panic!("no {plot}"));
        assert!(run[at..].trim_start_matches(|c| c != '>').get(..200).is_some_and(|h| h.contains("<svg")), "{plot} is not drawn");
    }
    screenshot(&chromium, &s.url("/run/random"), "run");

    let bench = dom(&chromium, &s.url("/bench/cmp"));
    assert!(count(&bench, "<svg") == 2 && bench.contains("Final results") && bench.contains("Pairwise tests"), "{}", short(&bench));
    screenshot(&chromium, &s.url("/bench/cmp"), "bench");

    let url = s.url("/compare?run=evolution&run=random&run=cmp%2Fruns%2Frandom-0");
    let compare = dom(&chromium, &url);
    assert!(compare.contains("id=\"compare-plot\"") && count(&compare, "checked") >= 3, "{}", short(&compare));
    screenshot(&chromium, &url, "compare");
}

#[test]
fn a_live_run_page_shows_the_trial_count_rise() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.jsonl");
    write_table(&table);
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let s = Server::start(&[&runs]);
    // Evolution on a table: a few thousand trials a second here, so 50,000
    // trials run for a while and stay a page of bounded size.
    const BUDGET: u64 = 50_000;
    let mut search = command(&[
        "search",
        "--strategy",
        path(&guest("evolution")),
        "--estimator",
        &format!("table:{}", table.display()),
        "--budget",
        &format!("trials={BUDGET}"),
        "--out",
        path(&runs.join("live")),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let count_now = || -> Option<u64> {
        let (status, body) = s.get("/api/run/live?since=1000000");
        (status == 200).then(|| serde_json::from_str::<serde_json::Value>(&body).ok()?["summary"]["trials"].as_u64()).flatten()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_now().is_none_or(|n| n < 10) {
        assert!(Instant::now() < deadline && search.try_wait().unwrap().is_none(), "the search did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let shown = |page: &str| -> u64 {
        let at = page.find("id=\"trial-count\">").unwrap_or_else(|| panic!("no trial count in {}", short(page)));
        page[at + 17..].split('<').next().unwrap().parse().unwrap()
    };
    let updates = |page: &str| -> u64 { page.split("data-updates=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|n| n.parse().ok()).unwrap_or(0) };
    let first = dom(&chromium, &s.url("/run/live"));
    // Still going when the page last polled: it said so, and took in new
    // trials more than once within one load, without reloading.
    let watched = shown(&first) < BUDGET;
    if watched {
        assert!(first.contains("class=\"status-running\""), "{}", short(&first));
        assert!(updates(&first) >= 2, "the page did not update itself: {}", short(&first));
    }
    screenshot(&chromium, &s.url("/run/live"), "live");
    let second = dom(&chromium, &s.url("/run/live"));
    assert!(shown(&second) > shown(&first) || !watched, "{} then {}", shown(&first), shown(&second));
    assert!(count(&second, "<tr class=\"trial ") >= 10, "trial rows: {}", short(&second));
    // The search ends (or is stopped); the page says so.
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected = loop {
        if search.try_wait().unwrap().is_some() {
            break "finished";
        }
        if Instant::now() > deadline {
            let _ = search.kill();
            let _ = search.wait();
            break "interrupted";
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = s.json("/api/runs")["runs"][0]["status"].as_str().unwrap().to_string();
        if status == expected {
            break;
        }
        assert!(Instant::now() < deadline, "status {status}, expected {expected}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_search_keeps_its_strategys_log_messages_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.jsonl");
    write_table(&table);
    let out = dir.path().join("run");
    // A strategy that logs (far too much, then is stopped): its messages are in the folder.
    let o = command(&[
        "search",
        "--strategy",
        path(&guest("hostile")),
        "--set",
        "attack=log-flood",
        "--set",
        "when=ask",
        "--estimator",
        &format!("table:{}", table.display()),
        "--budget",
        "trials=5",
        "--out",
        path(&out),
    ])
    .output()
    .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    let log = std::fs::read_to_string(out.join("strategy.log")).unwrap();
    assert!(log.starts_with("INFO  hostile: lll"), "{}", &log[..log.len().min(200)]);
    // A strategy that says nothing leaves no file.
    let quiet = dir.path().join("quiet");
    let o = command(&[
        "search",
        "--strategy",
        path(&guest("random")),
        "--estimator",
        &format!("table:{}", table.display()),
        "--budget",
        "trials=5",
        "--out",
        path(&quiet),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!quiet.join("strategy.log").exists());
}
