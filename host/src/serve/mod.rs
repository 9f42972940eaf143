//! `nasbox serve`: a read-only web dashboard over run and bench folders.
//! It reads journals read-only (see [`Journal::open_read_only`]) while
//! searches write them, never writes anything, and serves only the
//! folders it found under the directories it was given.
//!
//! [`Journal::open_read_only`]: crate::run::journal::Journal::open_read_only

mod api;
mod catalog;
pub mod http;
mod pages;
mod plots;
mod status;
mod view;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use catalog::{Catalog, Kind};
pub use http::{Request, Response};

/// Threads answering requests, and connections that may wait for one.
const THREADS: usize = 8;
const QUEUE: usize = 64;
/// How long a scan of the served directories is reused; a request for a
/// name it lacks (a run just started) rescans once it is this old.
const RESCAN: Duration = Duration::from_secs(2);
const RESCAN_UNKNOWN: Duration = Duration::from_millis(250);
/// Most runs on one compare plot.
const MAX_COMPARED: usize = 16;

/// The files of the pages, built into the binary.
const ASSETS: [(&str, &str, &str); 4] = [
    ("style.css", "text/css; charset=utf-8", include_str!("assets/style.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("assets/common.js")),
    ("runs.js", "text/javascript; charset=utf-8", include_str!("assets/runs.js")),
    ("run.js", "text/javascript; charset=utf-8", include_str!("assets/run.js")),
];

/// The dashboard over some directories.
pub struct Server {
    roots: Vec<PathBuf>,
    catalog: Mutex<(Option<Instant>, Arc<Catalog>)>,
    views: view::Views,
    plots: plots::Cache,
    /// Host names a request may carry (with the port), when serving on a
    /// loopback address: a page on another site that resolves its own name
    /// to 127.0.0.1 (DNS rebinding) is refused.
    hosts: Option<Vec<String>>,
}

impl Server {
    /// A server for `roots`, answering on `port` of a loopback address
    /// (`Some`), or on any address (`None`: no Host check).
    pub fn new(roots: Vec<PathBuf>, loopback_port: Option<u16>) -> Server {
        let hosts = loopback_port.map(|p| ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| format!("{h}:{p}")).collect());
        Server { roots, catalog: Mutex::new((None, Arc::new(Catalog::default()))), views: view::Views::default(), plots: plots::Cache::default(), hosts }
    }

    /// Serves on `listener` until the process ends.
    pub fn run(self, listener: TcpListener) -> std::io::Result<()> {
        let server = Arc::new(self);
        http::serve(listener, THREADS, QUEUE, Arc::new(move |r: &Request| server.handle(r)))
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.catalog_within(RESCAN)
    }

    fn catalog_within(&self, age: Duration) -> Arc<Catalog> {
        let mut c = self.catalog.lock().unwrap_or_else(|e| e.into_inner());
        if c.0.is_none_or(|t| t.elapsed() > age) {
            *c = (Some(Instant::now()), Arc::new(Catalog::scan(&self.roots)));
        }
        c.1.clone()
    }

    /// Answers one request.
    pub fn handle(&self, r: &Request) -> Response {
        if r.method != "GET" && r.method != "HEAD" {
            return Response::error(405, "this server only reads");
        }
        if let Some(hosts) = &self.hosts {
            if !r.host.as_ref().is_some_and(|h| hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h))) {
                return Response::error(400, "unexpected Host header");
            }
        }
        let seg: Vec<&str> = r.segments.iter().map(String::as_str).collect();
        let rest = |k: usize| catalog::name_of(&r.segments[k..]);
        match seg.as_slice() {
            [] => Response::html(pages::runs()),
            ["assets", file] => match ASSETS.iter().find(|(n, _, _)| n == file) {
                Some((_, kind, body)) => Response::new(200, kind, body.as_bytes()),
                None => Response::error(404, "no such asset"),
            },
            ["compare"] => self.compare(r),
            ["api", "runs"] => {
                let catalog = self.catalog();
                let summaries: Vec<view::Summary> =
                    catalog.names(Kind::Run).filter_map(|n| catalog.get(n, Kind::Run).map(|d| self.views.get(n, d).summary.clone())).collect();
                Response::json(&api::runs(&summaries, &catalog.names(Kind::Bench).collect::<Vec<_>>()))
            }
            ["run", ..] => self.with_run(rest(1), |name, _| Response::html(pages::run(name))),
            ["api", "run", ..] => {
                let since = match r.param("since").map(str::parse::<usize>) {
                    None => 0,
                    Some(Ok(n)) => n,
                    Some(Err(_)) => return Response::error(400, "since must be a trial number"),
                };
                self.with_run(rest(2), |name, dir| Response::json(&api::run(&self.views.get(name, dir), since)))
            }
            ["api", "plots", ..] => self.with_run(rest(2), |name, dir| {
                let view = self.views.get(name, dir);
                Response::json(&serde_json::to_value(&*self.plots.get(dir, &view)).unwrap_or_default())
            }),
            ["api", "log", ..] => self.with_run(rest(2), |_, dir| Response::new(200, "text/plain; charset=utf-8", api::log_tail(dir))),
            ["bench", ..] => {
                let Some(name) = rest(1) else { return Response::error(400, "malformed bench name") };
                let catalog = self.catalog();
                let Some(dir) = catalog.get(&name, Kind::Bench) else { return Response::error(404, "no such bench") };
                let summary = std::fs::read(dir.join("summary.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
                match summary.map(|s| pages::bench(&name, &s)) {
                    Some(Ok(page)) => Response::html(page),
                    _ => Response::error(500, "the bench's summary.json could not be read"),
                }
            }
            _ => Response::error(404, "no such page"),
        }
    }

    /// Calls `f` with a run's name and folder: 400 for a malformed name,
    /// 404 for one that names no run.
    fn with_run(&self, name: Option<String>, f: impl FnOnce(&str, &std::path::Path) -> Response) -> Response {
        let Some(name) = name else { return Response::error(400, "malformed run name") };
        let mut catalog = self.catalog();
        if catalog.get(&name, Kind::Run).is_none() {
            catalog = self.catalog_within(RESCAN_UNKNOWN);
        }
        match catalog.get(&name, Kind::Run) {
            Some(dir) => f(&name, dir),
            None => Response::error(404, "no such run"),
        }
    }

    fn compare(&self, r: &Request) -> Response {
        let catalog = self.catalog();
        let mut chosen = vec![];
        for name in r.params("run").take(MAX_COMPARED) {
            match catalog.get(name, Kind::Run) {
                Some(dir) => chosen.push((name.to_string(), self.views.get(name, dir))),
                None => return Response::error(404, "no such run"),
            }
        }
        Response::html(pages::compare(&catalog.names(Kind::Run).collect::<Vec<_>>(), &chosen))
    }
}
