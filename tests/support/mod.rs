//! Shared by the end-to-end tests: where the built guests are, and a
//! sandbox engine with a private compile cache.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use nasbox::strategy::{CachePolicy, Engine};

/// The workspace's target directory (honouring `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// A guest component built by `scripts/build-strategies`, e.g. `random`.
pub fn guest(name: &str) -> PathBuf {
    let path = target_dir().join("wasm32-wasip2/release").join(format!("{name}.wasm"));
    assert!(path.exists(), "{} is missing: build the guests first with `scripts/build-strategies` (scripts/test does it)", path.display());
    path
}

/// One engine per test process, caching into a temporary directory so tests
/// never touch the user's cache.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(Engine, tempfile::TempDir)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            (Engine::new(CachePolicy::Dir(dir.path().to_path_buf())).expect("engine"), dir)
        })
        .0
}

/// Runs the `nasbox` binary with `cache` as its compile cache.
pub fn nasbox(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nasbox")).args(args).env("NASBOX_CACHE_DIR", cache).env_remove("NASBOX_LOG").output().expect("nasbox runs")
}

/// The `nasbox` binary with `args`, compiling strategies into one cache
/// shared by the end-to-end tests (built once, reused), and without the
/// user's `NASBOX_LOG`.
pub fn command(args: &[&str]) -> Command {
    let cache = std::env::temp_dir().join("nasbox-test-cache");
    let mut c = Command::new(env!("CARGO_BIN_EXE_nasbox"));
    c.arg("--cache-dir").arg(cache).args(args).env_remove("NASBOX_LOG");
    c
}

/// The trials of a run folder's journal, in id order.
pub fn trials(dir: &Path) -> Vec<nasbox::run::journal::Trial> {
    nasbox::run::journal::Journal::open(&dir.join("journal.sqlite")).unwrap().trials().unwrap()
}

/// Standard output and error together, for assertions and their messages.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A path as a command-line argument.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes an MNIST-shaped dataset (1×28×28, IDX files as MNIST ships
/// them) into `dir`: the first channel of the synthetic dataset.
pub fn write_mnist(dir: &Path, train: usize, test: usize) {
    use nasbox::data::synthetic;
    std::fs::create_dir_all(dir).unwrap();
    let d = synthetic::generate(&synthetic::Options { seed: 7, train, test, size: 28 });
    let idx = |dims: &[u32], kind: u8, body: Vec<u8>| {
        let mut out = vec![0, 0, 8, kind];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend(body);
        out
    };
    for (prefix, images) in [("train", &d.train), ("t10k", &d.test)] {
        let plane = images.height * images.width;
        let gray: Vec<u8> = (0..images.len()).flat_map(|i| images.image(i)[..plane].to_vec()).collect();
        let n = images.len() as u32;
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), idx(&[n, 28, 28], 3, gray)).unwrap();
        let labels = images.labels.iter().map(|&l| l as u8).collect();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), idx(&[n], 1, labels)).unwrap();
    }
}

/// A benchmark table (`estimate::table` format) for every nb201 cell at
/// fidelities 0.25 and 1: accuracy grows with 3×3 and 1×1 convolutions and
/// falls with `none` (a smooth landscape strategies can climb), the cost
/// with the convolutions. Test data, not measurements.
pub fn write_table(path: &Path) {
    use nasbox::space::nb201;
    let mut out = String::from("{\"nasbox_table\": 1, \"space\": \"nb201\", \"source\": \"tests/support formula\"}\n");
    for code in 0..15_625u32 {
        let g: Vec<u32> = (0..6).map(|i| (code / 5u32.pow(i)) % 5).collect();
        let count = |op: u32| g.iter().filter(|&&o| o == op).count() as f64;
        let acc = (0.1 + 0.12 * count(3) + 0.06 * count(2) + 0.02 * count(1) - 0.03 * count(0) + 0.001 * g[5] as f64).clamp(0.0, 1.0);
        for (fidelity, scale) in [(0.25, 0.8), (1.0, 1.0)] {
            out.push_str(&format!(
                "{{\"arch\": \"{}\", \"fidelity\": {fidelity}, \"valid_accuracy\": {:.6}, \"test_accuracy\": {:.6}, \"cost\": {:.3}, \"metrics\": {{\"params\": {}}}}}\n",
                nb201::to_string(&g),
                acc * scale,
                acc * scale * 0.98 + 0.002 * g[0] as f64,
                (10.0 + 5.0 * count(3) + 2.0 * count(2)) * fidelity,
                1000.0 + 100.0 * count(3)
            ));
        }
    }
    std::fs::write(path, out).unwrap();
}

/// `nasbox bench` of random search against `strategy` on the test table
/// ([`write_table`]), one search at a time, with further `flags`: the
/// comparison's folder and the command's output.
pub fn bench_against_random(dir: &Path, strategy: &str, seeds: u32, trials: u32, flags: &[&str]) -> (PathBuf, Output) {
    let table = dir.join("t.jsonl");
    write_table(&table);
    let out = dir.join("cmp");
    let (random, other) = (guest("random"), guest(strategy));
    let (seeds, estimator, budget) = (seeds.to_string(), format!("table:{}", table.display()), format!("trials={trials}"));
    let mut args =
        vec!["bench", "--strategies", random.to_str().unwrap(), other.to_str().unwrap(), "--seeds", &seeds, "--estimator", &estimator, "--budget", &budget];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--jobs", "1", "--out", out.to_str().unwrap()]);
    let o = command(&args).output().expect("nasbox runs");
    (out, o)
}

/// Starts `nasbox serve ... --port 0` (`serve`, with stdout piped) and
/// reads the port it chose from its first line.
pub fn start_serve(mut serve: Command) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = serve.stdout(std::process::Stdio::piped()).spawn().expect("nasbox serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // "serving DIR at http://127.0.0.1:PORT/ (read-only; ...)"
    let port = line.split("http://127.0.0.1:").nth(1).and_then(|r| r.split('/').next()).and_then(|p| p.parse().ok());
    (child, port.unwrap_or_else(|| panic!("no address in {line:?}")))
}

/// Sends a request head as it is (no normalising of the path) to
/// 127.0.0.1:`port`; the answer's status (0 if none) and body.
pub fn http(port: u16, head: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (0, vec![]) };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(20)));
    let _ = s.write_all(head.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let status = String::from_utf8_lossy(&out[..out.len().min(12)]).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.windows(4).position(|w| w == b"\r\n\r\n").map_or(vec![], |i| out[i + 4..].to_vec());
    (status, body)
}
